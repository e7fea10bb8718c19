//! An in-process runtime for one stream's [`Engine`], with no network: a fake clock, sockets
//! with inboxes and a settable heartbeat, emulated storage and alarm, eviction (rebuild from
//! held sockets and storage) and restart (rebuild from storage alone).
//!
//! It plays the Durable Object adapter: it makes one engine call per runtime event and performs
//! every [`Output`] as the runtime would. Whatever an adapter could not do (send to a socket it
//! never accepted, send after closing, reuse a queue slot) is reported as an `Err`, never a
//! panic, so the model checker and the fuzzer can use it too; the scenario helpers at the end
//! panic instead, for short tests.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;
use streams_core::{
    Config, ConnId, Connect, Engine, HeldSocket, Identity, Input, MsgId, Nonce, Output, PeerId,
    Queued, Record, ResumeKey, Role, Sockets, Stored,
};

/// What reached a client on one socket, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Received {
    Frame(String),
    /// The adapter was asked to answer `GET /peerconnection`.
    Ice(Option<MsgId>),
    Closed(u16, String),
}

/// One socket, from both ends.
#[derive(Clone, Debug)]
pub struct Socket {
    pub role: Role,
    /// The engine took it into the stream (`Output::Accept`).
    pub accepted: bool,
    /// Its attachment: which member it carries (or carried).
    pub attachment: Option<Identity>,
    /// The client started closing it; the runtime has not reported the close yet.
    pub closing: bool,
    /// The network died silently: the runtime still thinks it open, nothing reaches the client.
    pub frozen: bool,
    /// The engine closed it.
    pub server_closed: Option<(u16, String)>,
    /// The runtime reported its close (or lost it in a restart): it is no longer held.
    pub gone: bool,
    /// The runtime's last answer to the client's heartbeat `ping`.
    pub last_ping: Option<u64>,
    /// What reached the client and was not taken yet.
    pub inbox: VecDeque<Received>,
    /// Frames sent to it while the client could not receive them.
    pub lost: usize,
}

impl Socket {
    fn new(role: Role) -> Self {
        Self {
            role,
            accepted: false,
            attachment: None,
            closing: false,
            frozen: false,
            server_closed: None,
            gone: false,
            last_ping: None,
            inbox: VecDeque::new(),
            lost: 0,
        }
    }

    /// What the runtime reports as open (`readyState == OPEN`).
    pub fn is_open(&self) -> bool {
        !self.gone && !self.closing && self.server_closed.is_none()
    }

    /// Whether a frame sent now reaches the client.
    pub fn reaches_client(&self) -> bool {
        !self.gone && !self.closing && !self.frozen && self.server_closed.is_none()
    }
}

/// The object's storage: member records, queued frames, the alarm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Storage {
    pub records: BTreeMap<String, Record>,
    pub queued: BTreeMap<(String, u64), String>,
    pub alarm: Option<u64>,
}

impl Storage {
    /// As the adapter lists it: records by id, frames by id then sequence number.
    pub fn stored(&self) -> Stored {
        Stored {
            records: self.records.values().cloned().collect(),
            queued: self
                .queued
                .iter()
                .map(|((id, seq), text)| Queued {
                    id: id.clone(),
                    seq: *seq,
                    text: text.clone(),
                })
                .collect(),
        }
    }

    /// The frames queued for `id`, in order.
    pub fn queue(&self, id: &str) -> Vec<String> {
        self.queued
            .iter()
            .filter(|((q, _), _)| q == id)
            .map(|(_, text)| text.clone())
            .collect()
    }
}

/// How many outputs of each storage kind the engine asked for, over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub persist: usize,
    pub enqueue: usize,
    pub dequeue: usize,
    pub forget: usize,
    /// `Alarm(Some(_))` outputs.
    pub alarm_set: usize,
    /// Alarms that went off (wake-ups the stream caused itself).
    pub alarm_fired: usize,
    /// Rebuilds of the engine (evictions and restarts).
    pub restores: usize,
}

impl Counts {
    pub fn storage_writes(&self) -> usize {
        self.persist + self.enqueue + self.dequeue + self.forget
    }
}

/// The runtime's answers about sockets, for the engine.
struct Probe<'a>(&'a BTreeMap<ConnId, Socket>);

impl Sockets for Probe<'_> {
    fn last_ping(&self, conn: ConnId) -> Option<u64> {
        self.0.get(&conn).and_then(|s| s.last_ping)
    }

    fn is_open(&self, conn: ConnId) -> bool {
        self.0.get(&conn).is_some_and(Socket::is_open)
    }
}

/// One stream, its engine and its runtime.
pub struct Sim {
    pub config: Config,
    pub key: ResumeKey,
    pub engine: Engine,
    /// The clock, ms since the epoch.
    pub now: u64,
    pub sockets: BTreeMap<ConnId, Socket>,
    pub storage: Storage,
    pub counts: Counts,
    /// The outputs of the last engine call, in order.
    pub last: Vec<Output>,
    /// Every [`Output::Presence`] so far, in order: (live, publisher, since).
    pub presence: Vec<(bool, PeerId, u64)>,
    /// Where fresh ids, socket numbers and nonces come from.
    serial: u64,
}

/// Where the clock starts: far from zero, so a time of 0 means nothing.
pub const START: u64 = 1_700_000_000_000;

impl Sim {
    pub fn new(config: Config) -> Self {
        Self::with_key(config, ResumeKey([7; 32]))
    }

    pub fn with_key(config: Config, key: ResumeKey) -> Self {
        Self {
            engine: Engine::new(config.clone(), key.clone()),
            config,
            key,
            now: START,
            sockets: BTreeMap::new(),
            storage: Storage::default(),
            counts: Counts::default(),
            last: Vec::new(),
            presence: Vec::new(),
            serial: 0,
        }
    }

    /// A fresh socket number (unique within the process run of this sim).
    pub fn fresh_conn(&mut self) -> ConnId {
        self.serial += 1;
        1000 + self.serial
    }

    /// A fresh member id: 24 hex digits, as the adapter mints.
    pub fn fresh_id(&mut self) -> PeerId {
        self.serial += 1;
        PeerId::new(format!("{:024x}", 0x5eed_0000_u64 + self.serial))
    }

    pub fn fresh_nonce(&mut self) -> Nonce {
        self.serial += 1;
        let mut nonce = [0u8; 16];
        for (n, b) in nonce.iter_mut().zip(self.serial.to_le_bytes()) {
            *n = b;
        }
        nonce[15] = 0xa5;
        nonce
    }

    /// A new socket asks to join: fresh when `resume` is `None`. Returns the socket and the
    /// engine's outputs (also in `self.last`).
    pub fn try_connect(
        &mut self,
        role: Role,
        resume: Option<&str>,
        id: PeerId,
        nonce: Nonce,
    ) -> Result<ConnId, String> {
        let conn = self.fresh_conn();
        self.try_connect_on(conn, role, resume, id, nonce)?;
        Ok(conn)
    }

    /// [`Sim::try_connect`] on a socket number of the caller's choosing.
    pub fn try_connect_on(
        &mut self,
        conn: ConnId,
        role: Role,
        resume: Option<&str>,
        id: PeerId,
        nonce: Nonce,
    ) -> Result<(), String> {
        if self.sockets.insert(conn, Socket::new(role)).is_some() {
            return Err(format!("socket {conn} opened twice"));
        }
        let input = Input::Connect(Connect {
            conn,
            role,
            resume,
            id,
            nonce,
            turn: false,
        });
        self.call(input, Some(conn))
    }

    /// A text frame from the client (the runtime delivers frames only on sockets it holds).
    pub fn try_text(&mut self, conn: ConnId, text: &str) -> Result<(), String> {
        self.deliverable(conn)?;
        self.call(Input::Text { conn, text }, None)
    }

    pub fn try_binary(&mut self, conn: ConnId) -> Result<(), String> {
        self.deliverable(conn)?;
        self.call(Input::Binary { conn }, None)
    }

    fn deliverable(&self, conn: ConnId) -> Result<(), String> {
        match self.sockets.get(&conn) {
            Some(s) if !s.gone && !s.frozen => Ok(()),
            _ => Err(format!("no frame can arrive on socket {conn}")),
        }
    }

    /// The client starts closing (its close frame is on its way; the socket is no longer open).
    pub fn begin_close(&mut self, conn: ConnId) {
        if let Some(s) = self.sockets.get_mut(&conn) {
            s.closing = true;
        }
    }

    /// The runtime reports the socket closed with `code` (`None`: it failed) and lets it go.
    pub fn try_closed(&mut self, conn: ConnId, code: Option<u16>) -> Result<(), String> {
        match self.sockets.get_mut(&conn) {
            Some(s) if !s.gone => s.closing = true,
            _ => return Err(format!("socket {conn} is not held")),
        }
        let result = self.call(
            Input::Closed {
                conn,
                code,
                reason: "",
            },
            None,
        );
        if let Some(s) = self.sockets.get_mut(&conn) {
            s.gone = true;
        }
        result
    }

    /// The network under the socket dies without a FIN: nothing more arrives either way.
    pub fn freeze(&mut self, conn: ConnId) {
        if let Some(s) = self.sockets.get_mut(&conn) {
            s.frozen = true;
        }
    }

    /// The client pings and the runtime answers by itself (no engine call).
    pub fn ping(&mut self, conn: ConnId) {
        let now = self.now;
        if let Some(s) = self.sockets.get_mut(&conn).filter(|s| s.reaches_client()) {
            s.last_ping = Some(now);
        }
    }

    /// The alarm goes off now, whatever it was set to.
    pub fn try_timeout(&mut self) -> Result<(), String> {
        self.storage.alarm = None;
        self.counts.alarm_fired += 1;
        self.call(Input::Timeout, None)
    }

    /// Time passes; the alarm goes off when due (at its time, or at once if that has passed).
    pub fn try_advance(&mut self, ms: u64) -> Result<(), String> {
        let target = self.now.saturating_add(ms);
        while let Some(at) = self.storage.alarm.filter(|&at| at <= target) {
            self.now = self.now.max(at);
            self.try_timeout()?;
        }
        self.now = target;
        Ok(())
    }

    /// The object is evicted and rebuilt on the next event: from the sockets the runtime
    /// still holds (with their attachments) and storage.
    pub fn try_evict(&mut self) -> Result<(), String> {
        let held = self
            .sockets
            .iter()
            .filter(|(_, s)| !s.gone && s.accepted)
            .filter_map(|(_, s)| {
                Some(HeldSocket {
                    identity: s.attachment.clone()?,
                    open: s.is_open(),
                })
            })
            .collect();
        self.rebuild(held)
    }

    /// The runtime restarts (or a deploy): every socket is cut, storage is all that is left.
    pub fn try_restart(&mut self) -> Result<(), String> {
        for s in self.sockets.values_mut().filter(|s| !s.gone) {
            if s.reaches_client() {
                s.inbox.push_back(Received::Closed(1006, String::new()));
            }
            s.gone = true;
        }
        self.rebuild(Vec::new())
    }

    fn rebuild(&mut self, held: Vec<HeldSocket>) -> Result<(), String> {
        self.counts.restores += 1;
        let (engine, out) = Engine::restore(
            self.config.clone(),
            self.key.clone(),
            self.now,
            held,
            self.storage.stored(),
        );
        self.engine = engine;
        self.perform(out, None)
    }

    /// One engine call with the runtime's probe, then its outputs performed.
    fn call(&mut self, input: Input, connecting: Option<ConnId>) -> Result<(), String> {
        let out = self.engine.handle(self.now, input, &Probe(&self.sockets));
        self.perform(out, connecting)
    }

    /// Performs the outputs as the adapter does, checking what an adapter could not do.
    fn perform(&mut self, out: Vec<Output>, connecting: Option<ConnId>) -> Result<(), String> {
        for output in &out {
            self.perform_one(output, connecting)?;
        }
        self.last = out;
        Ok(())
    }

    fn perform_one(&mut self, output: &Output, connecting: Option<ConnId>) -> Result<(), String> {
        let storage = &mut self.storage;
        match output {
            Output::Accept { conn, identity } => {
                let s = socket(&mut self.sockets, *conn)?;
                if s.accepted || Some(*conn) != connecting {
                    return Err(format!("accept of socket {conn}, not the one connecting"));
                }
                if identity.conn != *conn || identity.gone {
                    return Err(format!("accept of {conn} with {identity:?}"));
                }
                s.accepted = true;
                s.attachment = Some(identity.clone());
            }
            Output::Refuse(refusal) => {
                let conn = connecting.ok_or("a refusal outside a connect")?;
                let s = socket(&mut self.sockets, conn)?;
                if s.accepted {
                    return Err(format!("refusal of accepted socket {conn}"));
                }
                let code = refusal.close_code();
                let reason = refusal.close_reason().to_owned();
                if s.reaches_client() {
                    s.inbox.push_back(Received::Frame(refusal.frame()));
                    s.inbox.push_back(Received::Closed(code, reason.clone()));
                }
                s.server_closed = Some((code, reason));
            }
            Output::Send { conn, text } => {
                deliver(&mut self.sockets, *conn, Received::Frame(text.clone()))?
            }
            Output::SendIce { conn, msg_id } => {
                deliver(&mut self.sockets, *conn, Received::Ice(msg_id.clone()))?
            }
            Output::Close { conn, code, reason } => {
                let s = socket(&mut self.sockets, *conn)?;
                if s.server_closed.is_none() {
                    if s.reaches_client() {
                        s.inbox.push_back(Received::Closed(*code, reason.clone()));
                    }
                    s.server_closed = Some((*code, reason.clone()));
                }
            }
            Output::Mark { conn, identity } => {
                let s = socket(&mut self.sockets, *conn)?;
                if !s.accepted || identity.conn != *conn {
                    return Err(format!("mark of socket {conn} with {identity:?}"));
                }
                s.attachment = Some(identity.clone());
            }
            Output::Persist(record) => {
                self.counts.persist += 1;
                storage.records.insert(record.id.clone(), record.clone());
            }
            Output::Enqueue(q) => {
                self.counts.enqueue += 1;
                let slot = (q.id.clone(), q.seq);
                if storage.queued.insert(slot, q.text.clone()).is_some() {
                    return Err(format!("queue slot {} #{} written twice", q.id, q.seq));
                }
            }
            Output::Dequeue(id) => {
                self.counts.dequeue += 1;
                storage.queued.retain(|(q, _), _| q != id.as_str());
            }
            Output::Forget(id) => {
                self.counts.forget += 1;
                storage.records.remove(id.as_str());
                // The engine drops a departed member's queue itself (a Dequeue first): no
                // frame may be left behind for a member that has no record.
                if let Some((q, seq)) = storage.queued.keys().find(|(q, _)| q == id.as_str()) {
                    return Err(format!("{q} forgotten with frame #{seq} still stored"));
                }
            }
            Output::Presence { live, id, since } => {
                self.presence.push((*live, id.clone(), *since));
            }
            Output::Alarm(at) => {
                if at.is_some() {
                    self.counts.alarm_set += 1;
                }
                storage.alarm = *at;
            }
        }
        Ok(())
    }

    /// Everything that reached the client on `conn` since the last take.
    pub fn take_all(&mut self, conn: ConnId) -> Vec<Received> {
        self.sockets
            .get_mut(&conn)
            .map(|s| s.inbox.drain(..).collect())
            .unwrap_or_default()
    }

    /// The sockets with something unread.
    pub fn unread(&self) -> Vec<(ConnId, &VecDeque<Received>)> {
        self.sockets
            .iter()
            .filter(|(_, s)| !s.inbox.is_empty())
            .map(|(c, s)| (*c, &s.inbox))
            .collect()
    }
}

fn socket(sockets: &mut BTreeMap<ConnId, Socket>, conn: ConnId) -> Result<&mut Socket, String> {
    sockets
        .get_mut(&conn)
        .ok_or_else(|| format!("output for unknown socket {conn}"))
}

fn deliver(
    sockets: &mut BTreeMap<ConnId, Socket>,
    conn: ConnId,
    item: Received,
) -> Result<(), String> {
    let s = socket(sockets, conn)?;
    if !s.accepted {
        return Err(format!("{item:?} to socket {conn} before it was accepted"));
    }
    if s.gone {
        return Err(format!(
            "{item:?} to socket {conn} after the runtime let it go"
        ));
    }
    if let Some((code, _)) = &s.server_closed {
        return Err(format!(
            "{item:?} to socket {conn} after closing it ({code})"
        ));
    }
    if s.reaches_client() {
        s.inbox.push_back(item);
    } else {
        s.lost += 1;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scenario helpers: they panic with the reason, for short tests.

/// What a client learnt from its `created` frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Created {
    pub id: String,
    pub resume: Option<String>,
    pub resumed: bool,
}

impl Sim {
    /// A fresh member joins; returns its socket.
    pub fn connect(&mut self, role: Role) -> ConnId {
        let id = self.fresh_id();
        let nonce = self.fresh_nonce();
        self.try_connect(role, None, id, nonce)
            .unwrap_or_else(|e| panic!("connect: {e}"))
    }

    /// A fresh member joins and must be admitted; returns its socket and its `created`, and
    /// leaves in its inbox whatever followed.
    pub fn join(&mut self, role: Role) -> (ConnId, Created) {
        let conn = self.connect(role);
        let created = self.created(conn);
        (conn, created)
    }

    /// A client connects with a resume value; returns the new socket.
    pub fn resume(&mut self, role: Role, value: &str) -> ConnId {
        let id = self.fresh_id();
        let nonce = self.fresh_nonce();
        self.try_connect(role, Some(value), id, nonce)
            .unwrap_or_else(|e| panic!("resume: {e}"))
    }

    /// The socket's first frame, which must be `created`.
    pub fn created(&mut self, conn: ConnId) -> Created {
        let s = self.sockets.get_mut(&conn).expect("socket");
        let Some(Received::Frame(text)) = s.inbox.pop_front() else {
            panic!("socket {conn} got no frame first: {:?}", s.inbox);
        };
        let frame: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(frame["method"], "EVENT", "{text}");
        let data = &frame["data"];
        assert_eq!(data["type"], "created", "{text}");
        Created {
            id: data["id"].as_str().expect("id").to_owned(),
            resume: data["resume"].as_str().map(str::to_owned),
            resumed: data["resumed"] == Value::Bool(true),
        }
    }

    /// The socket was refused: its whole inbox is one error frame and a close with the same
    /// code. Returns the code and the close code.
    pub fn refusal(&mut self, conn: ConnId) -> (String, u16) {
        let received = self.take_all(conn);
        let [Received::Frame(text), Received::Closed(close, reason)] = received.as_slice() else {
            panic!("socket {conn} was not refused: {received:?}");
        };
        let frame: Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(frame["code"], "failed", "{text}");
        let code = frame["reason"].as_str().unwrap_or_default();
        let code = code.split_once(": ").map(|(c, _)| c).unwrap_or_default();
        assert_eq!(code, reason, "the close reason is the code");
        assert!(
            !self.sockets[&conn].accepted,
            "a refused socket is never accepted"
        );
        (code.to_owned(), *close)
    }

    pub fn text(&mut self, conn: ConnId, text: &str) {
        self.try_text(conn, text)
            .unwrap_or_else(|e| panic!("text: {e}"));
    }

    pub fn json(&mut self, conn: ConnId, frame: Value) {
        self.text(conn, &frame.to_string());
    }

    /// `NOTIFY` to `to` with `data`.
    pub fn notify(&mut self, conn: ConnId, to: &str, data: Value) {
        self.json(
            conn,
            serde_json::json!({"method": "NOTIFY", "to": to, "data": data}),
        );
    }

    pub fn binary(&mut self, conn: ConnId) {
        self.try_binary(conn)
            .unwrap_or_else(|e| panic!("binary: {e}"));
    }

    /// The client closes with `code` and the runtime reports it at once.
    pub fn close(&mut self, conn: ConnId, code: u16) {
        self.try_closed(conn, Some(code))
            .unwrap_or_else(|e| panic!("close: {e}"));
    }

    /// The socket fails (an error, no close code).
    pub fn fail(&mut self, conn: ConnId) {
        self.try_closed(conn, None)
            .unwrap_or_else(|e| panic!("fail: {e}"));
    }

    /// The TCP connection is cut: the runtime reports 1006.
    pub fn cut(&mut self, conn: ConnId) {
        self.try_closed(conn, Some(1006))
            .unwrap_or_else(|e| panic!("cut: {e}"));
    }

    /// Time passes and the alarm is late (a busy runtime, or one that was down): the next
    /// event may come before it.
    pub fn stall(&mut self, ms: u64) {
        self.now = self.now.saturating_add(ms);
    }

    pub fn advance(&mut self, ms: u64) {
        self.try_advance(ms)
            .unwrap_or_else(|e| panic!("advance: {e}"));
    }

    pub fn timeout(&mut self) {
        self.try_timeout()
            .unwrap_or_else(|e| panic!("timeout: {e}"));
    }

    pub fn evict(&mut self) {
        self.try_evict().unwrap_or_else(|e| panic!("evict: {e}"));
    }

    pub fn restart(&mut self) {
        self.try_restart()
            .unwrap_or_else(|e| panic!("restart: {e}"));
    }

    /// Frames that reached the client on `conn`, parsed (panics on anything else).
    pub fn frames(&mut self, conn: ConnId) -> Vec<Value> {
        self.take_all(conn)
            .into_iter()
            .map(|r| match r {
                Received::Frame(text) => serde_json::from_str(&text).expect("JSON"),
                other => panic!("socket {conn} got {other:?}, expected a frame"),
            })
            .collect()
    }

    /// Forgets everything unread, on every socket.
    pub fn drain(&mut self) {
        for s in self.sockets.values_mut() {
            s.inbox.clear();
        }
    }

    /// Asserts that no client has anything unread.
    pub fn assert_quiet(&self) {
        let unread = self.unread();
        assert!(unread.is_empty(), "unread: {unread:?}");
    }

    /// The member the engine has on `conn`.
    pub fn member(&self, conn: ConnId) -> Option<String> {
        self.engine.member_of(conn).map(|p| p.as_str().to_owned())
    }

    pub fn is_away(&self, id: &str) -> bool {
        self.engine.is_away(&PeerId::from(id))
    }

    /// The stream's members, publisher first, then subscribers by id.
    pub fn members(&self) -> (Option<String>, Vec<String>) {
        let stream = self.engine.stream();
        (
            stream.publisher().map(|p| p.as_str().to_owned()),
            stream
                .subscribers()
                .map(|s| s.as_str().to_owned())
                .collect(),
        )
    }
}

/// Frames in `received`, closes as `(code, reason)`: for asserting a whole inbox at once.
pub fn summary(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| match r {
            Received::Frame(text) => text.clone(),
            Received::Ice(msg_id) => format!("ice {msg_id:?}"),
            Received::Closed(code, reason) => format!("close {code} {reason}"),
        })
        .collect()
}
