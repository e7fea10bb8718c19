//! A reference model of the stream engine and a checker that drives the real [`Engine`] beside
//! it, through the typed input, on three streams whose runtime is emulated by `sim`.
//!
//! Shared by the property test (`core/tests/model.rs`) and the `stream` fuzz target
//! (`fuzz/fuzz_targets/stream.rs`). For every operation the model works out, on its own, what
//! each socket must receive (frames, ICE requests, closes, refusals) and what each away member
//! must have queued; the engine's outputs must match exactly, in order per socket. After every
//! operation the engine's state, its storage and its attachments must equal the model's, and
//! the invariants of docs/PROTOCOL.md ("Invariants") must hold: every client's view, rebuilt
//! from the events it received, equals the truth.
//!
//! Where PROTOCOL.md leaves a choice open, the model makes the engine's: the heartbeat sweep
//! runs at a wake-up at most once per quarter of the timeout and looks at members in order of
//! socket; several departures, and the overflows they set off, are announced in the order the
//! engine takes them. A deliberate change of such a choice in the engine needs the same change
//! here; any other difference is a bug in one of the two.
//!
//! A violation is an `Err` with a sentence, never a panic, so the caller decides how to fail.
#![allow(dead_code)]

#[path = "../common/sim.rs"]
mod sim;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sim::Sim;
use streams_core::{
    error_frame, parse_frame, resolve, resume, Config, ConnId, ErrorCode, Frame, Mode, MsgId,
    Nonce, Output, PeerId, Rate, ResumeKey, Role, TokenBucket,
};

/// Subscribers per stream in the model: small, so `stream-full` is reached often.
pub const MAX_SUBSCRIBERS: usize = 3;

/// Publish paths of the model's streams: a plain path and two hash paths. Subscribers of a
/// hash stream join on the hash (in upper case, which must fold to the same stream).
pub const PUBLISH_PATHS: [&str; 3] = ["/streams/a", "/sha1/room/1", "/sha256/room/2"];

/// An id no client ever gets.
pub const UNKNOWN_ID: &str = "999999999";

/// The settings a sequence runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Resume, heartbeat timeouts, a small frame rate, relay budget and away queue: every rule
    /// is reached within a few operations.
    Tight,
    /// Resume off (`resume_grace_ms = 0`): every drop is a departure, nothing is stored.
    Off,
    /// Resume on, no heartbeat timeout and no budgets: resume alone.
    Loose,
}

impl Variant {
    pub fn config(self) -> Config {
        let tight = Config {
            max_subscribers: MAX_SUBSCRIBERS,
            frame_rate: Rate::per_second(20, 6),
            flood_close_after: 4,
            resume_grace_ms: 3_000,
            resume_queue_bytes: 500,
            heartbeat_timeout_ms: 2_000,
            relay_budget: Rate::per_second(400, 800),
            // Reached by the publisher's fan-out to two or three subscribers, or their fan-in.
            relay_stream_budget: Rate::per_second(600, 1_400),
            ..Config::default()
        };
        match self {
            Variant::Tight => tight,
            Variant::Off => Config {
                resume_grace_ms: 0,
                ..tight
            },
            Variant::Loose => Config {
                frame_rate: Rate::per_second(10_000, 10_000),
                flood_close_after: 0,
                heartbeat_timeout_ms: 0,
                relay_budget: Rate::per_second(0, 0),
                relay_stream_budget: Rate::per_second(0, 0),
                ..tight
            },
        }
    }
}

/// Who a `NOTIFY` is addressed to.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// A client by index among all clients ever admitted (live or gone, any stream).
    Client(usize),
    /// The sender itself.
    Own,
    /// An id that was never given out.
    Unknown,
    /// The sender's peer on the other side of its stream (its publisher, or a subscriber),
    /// if it has one: relays that pass.
    Peer(usize),
}

/// Which resume value a client presents.
#[derive(Clone, Copy, Debug)]
pub enum Presented {
    /// The last one it was given.
    Current,
    /// The first one it was given (already used, if it resumed since).
    Replayed,
    /// The last one with its signature altered.
    Forged,
    /// The last one, on the next stream.
    OtherStream,
    /// The last one, in the other mode.
    OtherMode,
}

/// How a client's socket ends.
#[derive(Clone, Copy, Debug)]
pub enum Ending {
    /// A close frame with this code (1000 and 1001 are goodbyes).
    Code(u16),
    /// The socket failed: the runtime reports an error, no code.
    Error,
}

/// One runtime event. Client indexes are taken modulo the number of clients ever admitted
/// (nothing happens while there are none), so any index is valid.
#[derive(Clone, Debug)]
pub enum Op {
    /// A fresh connection.
    Join {
        path: usize,
        publish: bool,
    },
    /// A client connects again with a resume value.
    Resume {
        who: usize,
        value: Presented,
    },
    Notify {
        from: usize,
        to: Target,
        numeric: bool,
        spoof: bool,
        msg_id: bool,
        /// A few hundred bytes of payload: against the relay budget and the away queue.
        big: bool,
    },
    /// As many `NOTIFY`s to the other side in a row: against the frame rate (and, big, the
    /// relay budget).
    Burst {
        from: usize,
        count: usize,
        big: bool,
    },
    /// A malformed frame from [`bad_frame`].
    Bad {
        from: usize,
        kind: usize,
    },
    Get {
        from: usize,
        known: bool,
    },
    Binary {
        from: usize,
    },
    /// Any text at all from a client (fuzzing).
    Text {
        from: usize,
        text: String,
    },
    /// A `NOTIFY` on the client's previous socket (replaced), if the runtime still holds it.
    Old {
        from: usize,
    },
    /// The client's socket ends; with `pending`, the runtime reports it only at a later
    /// [`Op::Deliver`] (meanwhile the socket is closing: no longer open).
    Close {
        who: usize,
        ending: Ending,
        pending: bool,
    },
    /// The runtime reports the oldest pending close.
    Deliver,
    /// The client's network dies silently: the socket looks open, nothing gets through.
    Freeze {
        who: usize,
    },
    /// The client pings; the runtime answers without waking the object.
    Ping {
        who: usize,
    },
    /// Time passes; alarms that come due go off.
    Advance {
        ms: u64,
    },
    /// Time passes with the alarms late (a busy or restarting runtime): the next input may
    /// come before an overdue alarm.
    Stall {
        ms: u64,
    },
    /// The object is evicted and rebuilt from held sockets and storage.
    Evict {
        path: usize,
    },
    /// The runtime restarts: every socket of the stream is cut, storage is kept.
    Restart {
        path: usize,
    },
}

pub const BAD_FRAME_KINDS: usize = 13;

/// Malformed frames: too large, not JSON, not an object, unknown method, missing or mistyped
/// fields (the model reads each with the parser to know its error).
pub fn bad_frame(kind: usize) -> String {
    if kind.is_multiple_of(BAD_FRAME_KINDS) {
        return format!(
            r#"{{"method":"NOTIFY","to":"1","data":"{}"}}"#,
            "x".repeat(streams_core::DEFAULT_MAX_FRAME_BYTES)
        );
    }
    let frames: [&str; BAD_FRAME_KINDS - 1] = [
        "not json",
        "",
        r#"{"method":"NOTIFY","to":"1"#,
        "[1,2]",
        r#"{"method":"PUT"}"#,
        r#"{"method":"NOTIFY","data":{},"msg_id":5}"#,
        r#"{"method":"NOTIFY","to":null}"#,
        r#"{"method":"NOTIFY","to":1.5,"msg_id":-0}"#,
        r#"{"method":"NOTIFY","to":{"id":1}}"#,
        r#"{"method":"GET","msg_id":123456789012345678901234567890}"#,
        r#"{"method":"GET","resource":7,"msg_id":"m"}"#,
        "42",
    ];
    let n = kind % BAD_FRAME_KINDS - 1;
    frames.get(n).copied().unwrap_or_default().to_owned()
}

// ---------------------------------------------------------------------------------------------
// What a socket must receive.

/// One thing the engine must make the runtime do for a socket, or queue for a member.
#[derive(Clone, Debug, PartialEq)]
enum Exp {
    Created {
        id: String,
        resumed: bool,
        value: Option<String>,
    },
    Event {
        kind: &'static str,
        id: String,
        /// The answer to a `NOTIFY` to an unreachable id (to its sender alone), not an
        /// announcement: it changes no view.
        reply: bool,
    },
    Error {
        code: ErrorCode,
        msg_id: Option<MsgId>,
    },
    /// A relayed `NOTIFY`: exactly `body` when the model could read the frame (it always can
    /// for frames it wrote), else any object whose `from` is the sender.
    Relay {
        from: String,
        body: Option<Value>,
        len: usize,
    },
    Ice(Option<MsgId>),
    Close(u16, String),
    Refuse(ErrorCode),
}

impl Exp {
    /// Its bytes, when queued.
    fn len(&self) -> usize {
        match self {
            Exp::Event { kind, id, .. } => event_text(kind, id).len(),
            Exp::Error { code, msg_id } => error_frame(*code, msg_id.as_ref()).len(),
            Exp::Relay { len, .. } => *len,
            _ => 0,
        }
    }
}

fn event_json(kind: &str, id: &str) -> Value {
    json!({"method": "EVENT", "data": {"type": kind, "id": id}})
}

/// An event as PROTOCOL.md writes it, member for member: the engine's text is compared with it
/// first (most frames are events), and as JSON only when the two differ.
fn event_text(kind: &str, id: &str) -> String {
    let id = serde_json::to_string(id).unwrap_or_default();
    format!(r#"{{"method":"EVENT","data":{{"type":"{kind}","id":{id}}}}}"#)
}

/// What the engine did for one socket in one call.
#[derive(Clone, Debug)]
enum Got {
    Frame(String),
    Ice(Option<MsgId>),
    Close(u16, String),
    Refuse(ErrorCode),
}

fn matches(exp: &Exp, got: &Got) -> Result<(), String> {
    let bad = || Err(format!("got {got:?}, want {exp:?}"));
    match (exp, got) {
        (Exp::Ice(want), Got::Ice(msg_id)) if want == msg_id => Ok(()),
        (Exp::Close(code, reason), Got::Close(c, r)) if code == c && reason == r => Ok(()),
        (Exp::Refuse(want), Got::Refuse(code)) if want == code => Ok(()),
        (Exp::Event { kind, id, .. }, Got::Frame(text)) if *text == event_text(kind, id) => Ok(()),
        (_, Got::Frame(text)) => {
            let Ok(frame) = serde_json::from_str::<Value>(text) else {
                return Err(format!("the server sent invalid JSON: {text}"));
            };
            let ok = match exp {
                Exp::Created { id, resumed, value } => {
                    let mut data = json!({"type": "created", "id": id});
                    if *resumed {
                        data["resumed"] = json!(true);
                    }
                    if let Some(value) = value {
                        data["resume"] = json!(value);
                    }
                    frame == json!({"method": "EVENT", "data": data})
                }
                Exp::Event { kind, id, .. } => {
                    frame == event_json(kind, id) && text.len() == exp.len()
                }
                // The sentence is the code's own (tested with the error table); the `msg_id`
                // comes back exactly as the client wrote it.
                Exp::Error { code, msg_id } => *text == error_frame(*code, msg_id.as_ref()),
                Exp::Relay { from, body, len } => {
                    let same = match body {
                        Some(body) => frame == *body,
                        None => frame.is_object() && frame["from"] == json!(from),
                    };
                    same && text.len() == *len
                }
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                bad()
            }
        }
        _ => bad(),
    }
}

/// Everything one engine call must do, worked out by the model before the call.
#[derive(Default)]
struct Expect {
    /// Per socket, in order.
    sockets: BTreeMap<ConnId, Vec<Exp>>,
    /// Per away member, in order.
    queued: BTreeMap<String, Vec<Exp>>,
    /// Announcements made, for the clients' views: (socket, frame).
    told: Vec<(ConnId, Exp)>,
}

impl Expect {
    fn to(&mut self, conn: ConnId, exp: Exp) {
        self.told.push((conn, exp.clone()));
        self.sockets.entry(conn).or_default().push(exp);
    }

    fn close_with(&mut self, conn: ConnId, code: ErrorCode) {
        self.to(conn, Exp::Error { code, msg_id: None });
        self.to(conn, Exp::Close(code.close_code(), code.code().to_owned()));
    }
}

/// Compares an engine call's outputs with what the model expects.
fn compare(out: &[Output], connecting: Option<ConnId>, want: &Expect) -> Result<(), String> {
    let mut got: BTreeMap<ConnId, Vec<Got>> = BTreeMap::new();
    let mut queued: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for output in out {
        let (conn, item) = match output {
            Output::Send { conn, text } => (*conn, Got::Frame(text.clone())),
            Output::SendIce { conn, msg_id } => (*conn, Got::Ice(msg_id.clone())),
            Output::Close { conn, code, reason } => (*conn, Got::Close(*code, reason.clone())),
            Output::Refuse(refusal) => {
                let conn = connecting.ok_or("a refusal outside a connect")?;
                (conn, Got::Refuse(refusal.code()))
            }
            Output::Enqueue(q) => {
                queued.entry(q.id.clone()).or_default().push(q.text.clone());
                continue;
            }
            _ => continue,
        };
        got.entry(conn).or_default().push(item);
    }
    let conns: BTreeSet<ConnId> = got.keys().chain(want.sockets.keys()).copied().collect();
    for conn in conns {
        let got = got.get(&conn).map(Vec::as_slice).unwrap_or_default();
        let want = want
            .sockets
            .get(&conn)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if got.len() != want.len() {
            return Err(format!("socket {conn} got {got:?}, want {want:?}"));
        }
        for (w, g) in want.iter().zip(got) {
            matches(w, g).map_err(|e| format!("socket {conn}: {e}"))?;
        }
    }
    let ids: BTreeSet<&String> = queued.keys().chain(want.queued.keys()).collect();
    for id in ids {
        let got = queued.get(id).map(Vec::as_slice).unwrap_or_default();
        let want = want.queued.get(id).map(Vec::as_slice).unwrap_or_default();
        if got.len() != want.len() {
            return Err(format!("queued for {id}: {got:?}, want {want:?}"));
        }
        for (w, g) in want.iter().zip(got) {
            matches(w, &Got::Frame(g.clone())).map_err(|e| format!("queued for {id}: {e}"))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The reference model of one stream.

#[derive(Clone, Debug)]
struct Member {
    client: usize,
    role: Role,
    conn: ConnId,
    since: u64,
    nonce: Nonce,
    away_since: Option<u64>,
    /// The engine closed its socket for silence: the client's answer is no goodbye.
    hung_up: bool,
    queue: Vec<Exp>,
    queue_bytes: usize,
    last_heard: u64,
    relay_in: TokenBucket,
    relay_out: TokenBucket,
}

#[derive(Clone, Copy, Debug)]
struct Flood {
    bucket: TokenBucket,
    dropped: u32,
    last_drop: u64,
}

enum Verdict {
    Pass,
    Drop,
    Expel,
}

/// What the stream asks to be done, before it is routed to sockets and queues.
enum Eff {
    Send(String, Exp),
    /// A relay from the sender being handled: charged to the pair's byte budget.
    Relay(String, Exp),
    Ice(String, Option<MsgId>),
    Close(String, u16, String),
}

struct Model {
    config: Config,
    key: ResumeKey,
    publisher: Option<String>,
    subscribers: BTreeSet<String>,
    members: BTreeMap<String, Member>,
    flood: BTreeMap<String, Flood>,
    next_sweep: u64,
    /// The stream's relay budgets: publisher to subscribers, subscribers to publisher.
    relay_down: TokenBucket,
    relay_up: TokenBucket,
}

/// The runtime's answers about sockets, as the engine will see them.
struct View<'a>(&'a BTreeMap<ConnId, sim::Socket>);

impl View<'_> {
    fn open(&self, conn: ConnId) -> bool {
        self.0.get(&conn).is_some_and(sim::Socket::is_open)
    }

    fn last_ping(&self, conn: ConnId) -> Option<u64> {
        self.0.get(&conn).and_then(|s| s.last_ping)
    }
}

impl Model {
    fn persists(&self) -> bool {
        self.config.resume_grace_ms > 0
    }

    fn connected(&self, id: &str) -> Option<ConnId> {
        self.members
            .get(id)
            .filter(|m| m.away_since.is_none())
            .map(|m| m.conn)
    }

    fn member_on(&self, conn: ConnId) -> Option<String> {
        self.members
            .iter()
            .find(|(_, m)| m.away_since.is_none() && m.conn == conn)
            .map(|(id, _)| id.clone())
    }

    fn deadline(&self) -> Option<u64> {
        let grace = self.config.resume_grace_ms;
        self.members
            .values()
            .filter_map(|m| m.away_since.map(|t| t + grace))
            .min()
    }

    fn value_of(&self, id: &str, m: &Member) -> Option<String> {
        self.persists()
            .then(|| resume::mint(&self.key, &PeerId::from(id), m.role, &m.nonce))
    }

    // --- routing -------------------------------------------------------------------------

    fn route(&mut self, now: u64, effs: Vec<Eff>, from: Option<&str>, x: &mut Expect) {
        for id in self.route_effects(now, effs, from, x) {
            self.depart(&id, now, x);
        }
    }

    fn route_effects(
        &mut self,
        now: u64,
        effs: Vec<Eff>,
        from: Option<&str>,
        x: &mut Expect,
    ) -> Vec<String> {
        let mut leaving = Vec::new();
        for eff in effs {
            match eff {
                Eff::Send(to, exp) => self.deliver(&to, exp, x, &mut leaving),
                Eff::Relay(to, exp) => {
                    let sender = from.unwrap_or_default().to_owned();
                    if from.is_none() || self.charge(now, &sender, &to, exp.len()) {
                        self.deliver(&to, exp, x, &mut leaving);
                        continue;
                    }
                    let error = Exp::Error {
                        code: ErrorCode::RelayBudget,
                        msg_id: None,
                    };
                    match self.count_drop(&sender, now) {
                        Verdict::Expel => {
                            let close = Eff::Close(sender.clone(), 4023, "relay-budget".into());
                            let effs = vec![Eff::Send(sender.clone(), error), close];
                            leaving.extend(self.route_effects(now, effs, None, x));
                            leaving.push(sender);
                        }
                        _ => {
                            let effs = vec![Eff::Send(sender, error)];
                            leaving.extend(self.route_effects(now, effs, None, x));
                        }
                    }
                }
                Eff::Ice(to, msg_id) => {
                    if let Some(conn) = self.connected(&to) {
                        x.to(conn, Exp::Ice(msg_id));
                    }
                }
                Eff::Close(to, code, reason) => {
                    if let Some(conn) = self.connected(&to) {
                        x.to(conn, Exp::Close(code, reason));
                    }
                }
            }
        }
        leaving
    }

    fn deliver(&mut self, to: &str, exp: Exp, x: &mut Expect, overflowed: &mut Vec<String>) {
        let limit = self.config.resume_queue_bytes;
        let Some(m) = self.members.get_mut(to) else {
            return;
        };
        if m.away_since.is_none() {
            x.to(m.conn, exp);
            return;
        }
        if overflowed.iter().any(|o| o == to) {
            return;
        }
        if m.queue_bytes + exp.len() > limit {
            overflowed.push(to.to_owned());
            return;
        }
        m.queue_bytes += exp.len();
        x.queued.entry(to.to_owned()).or_default().push(exp.clone());
        m.queue.push(exp);
    }

    /// The pair's budget and the stream's, in the relay's direction: both must have room, and
    /// only then are both charged.
    fn charge(&mut self, now: u64, from: &str, to: &str, bytes: usize) -> bool {
        let (rate, stream_rate) = (self.config.relay_budget, self.config.relay_stream_budget);
        let down = self.publisher.as_deref() == Some(from);
        let pair = if down {
            self.members.get(to).map(|m| m.relay_in)
        } else {
            self.members.get(from).map(|m| m.relay_out)
        };
        let mut pair_after = pair;
        let pair_ok = rate.amount == 0
            || pair_after
                .as_mut()
                .is_none_or(|b| b.take_n(rate, now, bytes as u64));
        let mut total = if down { self.relay_down } else { self.relay_up };
        let total_ok = stream_rate.amount == 0 || total.take_n(stream_rate, now, bytes as u64);
        if !(pair_ok && total_ok) {
            return false;
        }
        if down {
            self.relay_down = total;
            if let (Some(m), Some(b)) = (self.members.get_mut(to), pair_after) {
                m.relay_in = b;
            }
        } else {
            self.relay_up = total;
            if let (Some(m), Some(b)) = (self.members.get_mut(from), pair_after) {
                m.relay_out = b;
            }
        }
        true
    }

    // --- the frame rate -------------------------------------------------------------------

    fn refill_ms(&self) -> u64 {
        let rate = self.config.frame_rate;
        if rate.amount == 0 {
            return u64::MAX;
        }
        u64::from(rate.burst) * u64::from(rate.period_ms) / u64::from(rate.amount)
    }

    fn on_frame(&mut self, id: &str, now: u64) -> Verdict {
        let rate = self.config.frame_rate;
        let refill = self.refill_ms();
        let f = self.flood.entry(id.to_owned()).or_insert(Flood {
            bucket: TokenBucket::full(rate, now),
            dropped: 0,
            last_drop: now,
        });
        if f.bucket.is_full_at(rate, now) && now.saturating_sub(f.last_drop) >= refill {
            f.dropped = 0;
        }
        if f.bucket.take(rate, now) {
            return Verdict::Pass;
        }
        self.count_drop(id, now)
    }

    fn count_drop(&mut self, id: &str, now: u64) -> Verdict {
        let rate = self.config.frame_rate;
        let close_after = self.config.flood_close_after;
        let f = self.flood.entry(id.to_owned()).or_insert(Flood {
            bucket: TokenBucket::full(rate, now),
            dropped: 0,
            last_drop: now,
        });
        f.dropped += 1;
        f.last_drop = now;
        if close_after > 0 && f.dropped >= close_after {
            self.flood.remove(id);
            return Verdict::Expel;
        }
        Verdict::Drop
    }

    // --- membership ----------------------------------------------------------------------

    /// Its departure is announced once; a departure can overflow away queues, which depart in
    /// turn.
    fn depart(&mut self, id: &str, now: u64, x: &mut Expect) {
        let mut pending = VecDeque::from([id.to_owned()]);
        while let Some(id) = pending.pop_front() {
            if self.members.remove(&id).is_none() {
                continue;
            }
            self.flood.remove(&id);
            let effs: Vec<Eff> = if self.publisher.as_deref() == Some(id.as_str()) {
                self.publisher = None;
                self.subscribers
                    .iter()
                    .map(|s| Eff::Send(s.clone(), event("unpublished", &id)))
                    .collect()
            } else {
                self.subscribers.remove(&id);
                self.publisher
                    .iter()
                    .map(|p| Eff::Send(p.clone(), event("unsubscribed", &id)))
                    .collect()
            };
            pending.extend(self.route_effects(now, effs, None, x));
        }
    }

    fn drop_member(&mut self, id: &str, now: u64, x: &mut Expect) {
        if !self.persists() {
            return self.depart(id, now, x);
        }
        if let Some(m) = self.members.get_mut(id) {
            if m.away_since.is_none() {
                m.away_since = Some(now);
            }
        }
    }

    fn silent(&self, now: u64, id: &str, sockets: &View) -> Option<ConnId> {
        let timeout = self.config.heartbeat_timeout_ms;
        let m = self.members.get(id).filter(|m| m.away_since.is_none())?;
        if timeout == 0 {
            return None;
        }
        let last = sockets.last_ping(m.conn)?.max(m.last_heard);
        (now.saturating_sub(last) > timeout).then_some(m.conn)
    }

    fn sweep(&mut self, now: u64, sockets: &View, x: &mut Expect) {
        let timeout = self.config.heartbeat_timeout_ms;
        if timeout == 0 || now < self.next_sweep {
            return;
        }
        self.next_sweep = now + (timeout / 4).max(1);
        let mut connected: Vec<(ConnId, String)> = self
            .members
            .iter()
            .filter(|(_, m)| m.away_since.is_none())
            .map(|(id, m)| (m.conn, id.clone()))
            .collect();
        connected.sort();
        for (conn, id) in connected {
            // A socket no longer open whose close has not come yet: a drop.
            if !sockets.open(conn) {
                self.drop_member(&id, now, x);
            } else if let Some(conn) = self.silent(now, &id, sockets) {
                x.close_with(conn, ErrorCode::HeartbeatTimeout);
                self.drop_member(&id, now, x);
                if let Some(m) = self.members.get_mut(&id) {
                    m.hung_up = true;
                }
            }
        }
    }

    // --- inputs --------------------------------------------------------------------------

    /// A fresh connection. Returns whether it was admitted.
    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        now: u64,
        conn: ConnId,
        client: usize,
        role: Role,
        id: &str,
        nonce: Nonce,
        sockets: &View,
        x: &mut Expect,
    ) -> bool {
        if role == Role::Publisher {
            if let Some(publisher) = self.publisher.clone() {
                if let Some(old) = self.silent(now, &publisher, sockets) {
                    x.close_with(old, ErrorCode::HeartbeatTimeout);
                    self.depart(&publisher, now, x);
                }
            }
        }
        self.sweep(now, sockets, x);
        let others: Vec<String> = match role {
            Role::Subscriber => self.publisher.iter().cloned().collect(),
            Role::Publisher => self.subscribers.iter().cloned().collect(),
        };
        for other in others {
            if self.connected(&other).is_some_and(|c| !sockets.open(c)) {
                self.drop_member(&other, now, x);
            }
        }
        let refusal = match role {
            Role::Publisher if self.publisher.is_some() => Some(ErrorCode::PublisherExists),
            Role::Subscriber if self.subscribers.len() >= self.config.max_subscribers => {
                Some(ErrorCode::StreamFull)
            }
            _ => None,
        };
        if let Some(code) = refusal {
            x.to(conn, Exp::Refuse(code));
            return false;
        }
        let rate = self.config.relay_budget;
        let member = Member {
            client,
            role,
            conn,
            since: now,
            nonce,
            away_since: None,
            hung_up: false,
            queue: Vec::new(),
            queue_bytes: 0,
            last_heard: now,
            relay_in: TokenBucket::full(rate, now),
            relay_out: TokenBucket::full(rate, now),
        };
        let created = Exp::Created {
            id: id.to_owned(),
            resumed: false,
            value: self.value_of(id, &member),
        };
        let mut effs = vec![Eff::Send(id.to_owned(), created)];
        match role {
            Role::Publisher => {
                for s in &self.subscribers {
                    effs.push(Eff::Send(id.to_owned(), event("subscribed", s)));
                }
                for s in &self.subscribers {
                    effs.push(Eff::Send(s.clone(), event("published", id)));
                }
                self.publisher = Some(id.to_owned());
            }
            Role::Subscriber => {
                if let Some(p) = &self.publisher {
                    effs.push(Eff::Send(id.to_owned(), event("published", p)));
                    effs.push(Eff::Send(p.clone(), event("subscribed", id)));
                }
                self.subscribers.insert(id.to_owned());
            }
        }
        self.members.insert(id.to_owned(), member);
        self.route(now, effs, Some(id), x);
        true
    }

    /// A connection with a resume value. Returns the member it took back, if any.
    #[allow(clippy::too_many_arguments)]
    fn resume(
        &mut self,
        now: u64,
        conn: ConnId,
        role: Role,
        value: &str,
        issued: &HashMap<String, Issued>,
        nonce: Nonce,
        sockets: &View,
        x: &mut Expect,
    ) -> Option<String> {
        self.sweep(now, sockets, x);
        let verdict = match issued.get(value) {
            _ if !self.persists() => Err(ErrorCode::ResumeExpired),
            // Never issued (forged) or by another stream (another key): invalid.
            None => Err(ErrorCode::ResumeInvalid),
            Some(i) if i.key != self.key.0 => Err(ErrorCode::ResumeInvalid),
            Some(i) if i.role != role => Err(ErrorCode::ResumeInvalid),
            Some(i) => match self.members.get(&i.id) {
                None => Err(ErrorCode::ResumeExpired),
                Some(m) if self.value_of(&i.id, m).as_deref() != Some(value) => {
                    Err(ErrorCode::ResumeInvalid)
                }
                Some(_) => Ok(i.id.clone()),
            },
        };
        let id = match verdict {
            Ok(id) => id,
            Err(code) => {
                x.to(conn, Exp::Refuse(code));
                return None;
            }
        };
        let m = self.members.get_mut(&id)?;
        if m.away_since.is_none() {
            x.close_with(m.conn, ErrorCode::Replaced);
        }
        m.conn = conn;
        m.nonce = nonce;
        m.away_since = None;
        m.hung_up = false;
        m.last_heard = now;
        m.queue_bytes = 0;
        let queue = std::mem::take(&mut m.queue);
        let m = m.clone();
        x.to(
            conn,
            Exp::Created {
                id: id.clone(),
                resumed: true,
                value: self.value_of(&id, &m),
            },
        );
        for exp in queue {
            x.to(conn, exp);
        }
        Some(id)
    }

    /// A text (`Some`) or binary (`None`) frame on `conn`.
    fn frame(
        &mut self,
        now: u64,
        conn: ConnId,
        text: Option<&str>,
        sockets: &View,
        x: &mut Expect,
    ) {
        let Some(id) = self.member_on(conn) else {
            return;
        };
        if let Some(m) = self.members.get_mut(&id) {
            m.last_heard = now;
        }
        self.sweep(now, sockets, x);
        if self.connected(&id) != Some(conn) {
            return;
        }
        match self.on_frame(&id, now) {
            Verdict::Pass => {}
            Verdict::Drop => {
                let error = Exp::Error {
                    code: ErrorCode::RateLimited,
                    msg_id: None,
                };
                return self.route(now, vec![Eff::Send(id.clone(), error)], None, x);
            }
            Verdict::Expel => {
                let error = Exp::Error {
                    code: ErrorCode::Flooding,
                    msg_id: None,
                };
                let close = Eff::Close(id.clone(), 4022, "flooding".into());
                self.route(now, vec![Eff::Send(id.clone(), error), close], None, x);
                return self.depart(&id, now, x);
            }
        }
        let effs = match text {
            Some(text) => self.receive(&id, text),
            None => vec![Eff::Send(
                id.clone(),
                Exp::Error {
                    code: ErrorCode::BinaryFrame,
                    msg_id: None,
                },
            )],
        };
        self.route(now, effs, Some(&id), x);
    }

    /// What a text frame from a member asks for, read on its own (the parser has its own
    /// fuzz target; here only its verdict is used).
    fn receive(&self, id: &str, text: &str) -> Vec<Eff> {
        let role = if self.publisher.as_deref() == Some(id) {
            Role::Publisher
        } else {
            Role::Subscriber
        };
        let reply = |exp| vec![Eff::Send(id.to_owned(), exp)];
        match parse_frame(text, self.config.max_frame_bytes) {
            Err(e) => reply(Exp::Error {
                code: e.code,
                msg_id: e.msg_id,
            }),
            Ok(Frame::Get { resource, msg_id }) if resource == "/peerconnection" => {
                vec![Eff::Ice(id.to_owned(), msg_id)]
            }
            Ok(Frame::Get { msg_id, .. }) => reply(Exp::Error {
                code: ErrorCode::UnknownResource,
                msg_id,
            }),
            Ok(Frame::Notify { to, body }) => {
                if to == id {
                    let msg_id = body.get("msg_id").and_then(msg_id_of);
                    return reply(Exp::Error {
                        code: ErrorCode::NotifySelf,
                        msg_id,
                    });
                }
                let reachable = match role {
                    Role::Publisher => self.subscribers.contains(&to),
                    Role::Subscriber => self.publisher.as_deref() == Some(to.as_str()),
                };
                if !reachable {
                    let kind = match role {
                        Role::Publisher => "unsubscribed",
                        Role::Subscriber => "unpublished",
                    };
                    return reply(Exp::Event {
                        kind,
                        id: to,
                        reply: true,
                    });
                }
                let relay = Exp::Relay {
                    from: id.to_owned(),
                    body: relayed_body(text, id),
                    len: relayed_len(text, id).unwrap_or(usize::MAX),
                };
                vec![Eff::Relay(to, relay)]
            }
        }
    }

    fn closed(&mut self, now: u64, conn: ConnId, code: Option<u16>, x: &mut Expect) {
        let echo = match code {
            Some(c) if matches!(c, 1000..=1003 | 1007..=1014 | 3000..=4999) => (c, ""),
            Some(_) => (1000, ""),
            None => (1011, "internal"),
        };
        x.to(conn, Exp::Close(echo.0, echo.1.to_owned()));
        // A close frame, whatever its code, is a goodbye; 1006 and 1015 are the runtime's for
        // a connection lost without one, and no code is a socket error.
        let goodbye = code.is_some_and(|c| c != 1006 && c != 1015);
        // The member's own last socket, found closed before (it is away), still says goodbye,
        // unless the engine hung up on it.
        let id = self.member_on(conn).or_else(|| {
            self.members
                .iter()
                .find(|(_, m)| m.away_since.is_some() && m.conn == conn && !m.hung_up)
                .map(|(id, _)| id.clone())
        });
        match id {
            Some(id) if goodbye => self.depart(&id, now, x),
            Some(id) => self.drop_member(&id, now, x),
            None => {}
        }
    }

    fn timeout(&mut self, now: u64, sockets: &View, x: &mut Expect) {
        self.sweep(now, sockets, x);
    }

    /// Before every input, alarm or not: members whose grace period is over depart first.
    fn expire(&mut self, now: u64, x: &mut Expect) {
        let grace = self.config.resume_grace_ms;
        let due: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.away_since.is_some_and(|t| now >= t + grace))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.depart(&id, now, x);
        }
    }

    /// The engine is rebuilt: from the sockets the runtime still holds (`held`, after an
    /// eviction) or from none (a restart). A held socket carries its member even while closing:
    /// its close event is on its way and decides. Nothing is announced.
    fn restore(&mut self, now: u64, held: &BTreeMap<ConnId, sim::Socket>, x: &mut Expect) {
        self.flood.clear();
        self.next_sweep = 0;
        self.relay_down = TokenBucket::full(self.config.relay_stream_budget, 0);
        self.relay_up = self.relay_down;
        let rate = self.config.relay_budget;
        for m in self.members.values_mut() {
            m.relay_in = TokenBucket::full(rate, now);
            m.relay_out = TokenBucket::full(rate, now);
            m.last_heard = m.since;
        }
        let carries = |id: &str, m: &Member| {
            held.get(&m.conn).is_some_and(|s| {
                s.accepted
                    && !s.gone
                    && s.attachment
                        .as_ref()
                        .is_some_and(|a| !a.gone && a.id == id && a.conn == m.conn)
            })
        };
        if self.persists() {
            for (id, m) in self.members.iter_mut() {
                if m.away_since.is_none() && !carries(id, m) {
                    m.away_since = Some(now);
                }
            }
            let mut strangers = Vec::new();
            for (conn, s) in held {
                let known = self.member_on(*conn).is_some();
                let carried = s.attachment.as_ref().is_some_and(|a| !a.gone);
                if s.accepted && !s.gone && carried && s.is_open() && !known {
                    strangers.push(*conn);
                }
            }
            for conn in strangers {
                x.close_with(conn, ErrorCode::ResumeExpired);
            }
        } else {
            // Nothing is stored: members whose socket the runtime lost (a restart) are gone,
            // with nobody left to tell.
            let lost: Vec<String> = self
                .members
                .iter()
                .filter(|(id, m)| !carries(id, m))
                .map(|(id, _)| id.clone())
                .collect();
            for id in lost {
                self.members.remove(&id);
                if self.publisher.as_deref() == Some(id.as_str()) {
                    self.publisher = None;
                }
                self.subscribers.remove(&id);
            }
        }
    }
}

/// A `msg_id` exactly as the client wrote it, the way the parser keeps it.
fn msg_id_of(raw: &RawValue) -> Option<MsgId> {
    let probe = format!(r#"{{"method":"GET","msg_id":{}}}"#, raw.get());
    parse_frame(&probe, usize::MAX).err()?.msg_id
}

fn event(kind: &'static str, id: &str) -> Exp {
    Exp::Event {
        kind,
        id: id.to_owned(),
        reply: false,
    }
}

/// The frame a `NOTIFY` must be relayed as: the same object without `to`, with `from` set.
fn relayed_body(text: &str, from: &str) -> Option<Value> {
    let mut frame: Value = serde_json::from_str(text).ok()?;
    let map = frame.as_object_mut()?;
    map.remove("to");
    map.insert("from".into(), json!(from));
    Some(frame)
}

/// An object's members in order, repeats included, values as raw JSON text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The exact byte length of the relayed frame: each key once (its last value, as raw text),
/// `to` and any `from` dropped, `"from":<sender>` added. The away queue's bound counts bytes,
/// so the model needs them exactly.
fn relayed_len(text: &str, from: &str) -> Option<usize> {
    let Members(members) = serde_json::from_str(text).ok()?;
    let mut last: HashMap<&str, &RawValue> = HashMap::new();
    for (k, v) in &members {
        last.insert(k, v);
    }
    let string_len = |s: &str| {
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            s.len() + 2
        } else {
            serde_json::to_string(s).map_or(0, |j| j.len())
        }
    };
    let body: usize = last
        .iter()
        .filter(|(k, _)| **k != "to" && **k != "from")
        .map(|(k, v)| string_len(k) + 1 + v.get().len() + 1)
        .sum();
    Some(1 + body + "\"from\":".len() + string_len(from) + 1)
}

// ---------------------------------------------------------------------------------------------
// The checker: clients, streams, and the invariants.

/// A resume value as the model knows it.
#[derive(Clone, Debug)]
struct Issued {
    key: [u8; 32],
    id: String,
    role: Role,
}

/// A client: one identity from its fresh join on, across the sockets it resumes on.
struct Client {
    id: String,
    stream: usize,
    role: Role,
    /// The socket it uses now, and the one before.
    conn: ConnId,
    prev: Option<ConnId>,
    /// Every resume value it was given, in order.
    values: Vec<String>,
    /// The publisher's view: subscribers it was told of and not told gone.
    subscribers: BTreeSet<String>,
    /// A subscriber's view: the publisher it was told of and not told gone.
    publisher: Option<String>,
    /// A frame to it was lost (sent to a socket it could no longer read): its view may lag,
    /// as PROTOCOL.md allows ("frames already sent to a zombie are not replayed").
    stale: bool,
}

struct StreamState {
    sim: Sim,
    model: Model,
}

/// The publish and subscribe path of each stream, resolved once per process.
fn paths() -> Result<&'static Vec<(String, String)>, String> {
    static PATHS: std::sync::OnceLock<Result<Vec<(String, String)>, String>> =
        std::sync::OnceLock::new();
    PATHS
        .get_or_init(|| {
            let mut paths = Vec::new();
            for publish in PUBLISH_PATHS {
                let key = resolve(publish, Mode::Publish)
                    .map_err(|r| format!("{publish} refused: {r:?}"))?;
                let key = key.as_str().to_owned();
                // Hash streams are joined on the hash, shouted; a plain one on the same path.
                let subscribe = match key.split_once('/').and_then(|(_, r)| r.split_once('/')) {
                    Some((scheme, hash)) if publish.starts_with("/sha") => {
                        format!("/{scheme}/{}", hash.to_ascii_uppercase())
                    }
                    _ => publish.to_owned(),
                };
                let sub_key = resolve(&subscribe, Mode::Subscribe)
                    .map_err(|r| format!("{subscribe} refused: {r:?}"))?;
                if sub_key.as_str() != key {
                    return Err(format!("{publish} and {subscribe} name different streams"));
                }
                paths.push((publish.to_owned(), subscribe));
            }
            Ok(paths)
        })
        .as_ref()
        .map_err(Clone::clone)
}

pub struct Checker {
    variant: Variant,
    now: u64,
    streams: Vec<StreamState>,
    clients: Vec<Client>,
    /// Which client each socket belongs to (refused sockets belong to nobody).
    owner: HashMap<ConnId, usize>,
    /// Which stream each socket is on.
    stream_of: HashMap<ConnId, usize>,
    issued: HashMap<String, Issued>,
    ids: HashSet<String>,
    /// Closes the runtime has yet to report: (socket, code).
    pending: VecDeque<(ConnId, Option<u16>)>,
    /// What the socket being connected was sent, until its client is known.
    told_new: Vec<Exp>,
    /// The streams the current operation called the engine of.
    touched: [bool; 3],
    serial: u64,
    /// Engine calls made, for the report.
    pub calls: usize,
}

impl Checker {
    pub fn new(variant: Variant) -> Result<Self, String> {
        let config = variant.config();
        let mut streams = Vec::new();
        for n in 0..paths()?.len() {
            let resume_key = ResumeKey([n as u8 + 1; 32]);
            streams.push(StreamState {
                sim: Sim::with_key(config.clone(), resume_key.clone()),
                model: Model {
                    config: config.clone(),
                    key: resume_key,
                    publisher: None,
                    subscribers: BTreeSet::new(),
                    members: BTreeMap::new(),
                    flood: BTreeMap::new(),
                    next_sweep: 0,
                    relay_down: TokenBucket::full(config.relay_stream_budget, 0),
                    relay_up: TokenBucket::full(config.relay_stream_budget, 0),
                },
            });
        }
        Ok(Self {
            variant,
            now: sim::START,
            streams,
            clients: Vec::new(),
            owner: HashMap::new(),
            stream_of: HashMap::new(),
            issued: HashMap::new(),
            ids: HashSet::new(),
            pending: VecDeque::new(),
            told_new: Vec::new(),
            touched: [false; 3],
            serial: 0,
            calls: 0,
        })
    }

    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    fn pick(&self, index: usize) -> Option<usize> {
        (!self.clients.is_empty()).then(|| index % self.clients.len())
    }

    /// A fresh id: numeric ones (so a numeric `to` can name them) alternate with hex ones.
    fn mint_id(&mut self) -> String {
        self.serial += 1;
        if self.serial.is_multiple_of(2) {
            format!("{}", 1000 + self.serial)
        } else {
            format!("{:024x}", 0xabc0_0000 + self.serial)
        }
    }

    fn fresh_conn(&mut self) -> ConnId {
        self.serial += 1;
        (1 << 40) + self.serial
    }

    fn fresh_nonce(&mut self) -> Nonce {
        self.serial += 1;
        let mut nonce = [0x5a; 16];
        for (n, b) in nonce.iter_mut().zip(self.serial.to_le_bytes()) {
            *n = b;
        }
        nonce
    }

    /// The client's current socket, if it can still send.
    fn sending(&self, client: usize) -> Option<(usize, ConnId)> {
        let c = &self.clients[client];
        let s = self.streams[c.stream].sim.sockets.get(&c.conn)?;
        (!s.gone && !s.frozen && !s.closing).then_some((c.stream, c.conn))
    }

    /// Applies one operation to the engine and the model, then checks every invariant.
    pub fn step(&mut self, op: &Op) -> Result<(), String> {
        self.touched = [false; 3];
        match op {
            Op::Join { path, publish } => self.join(*path, *publish)?,
            Op::Resume { who, value } => {
                if let Some(who) = self.pick(*who) {
                    self.resume(who, *value)?;
                }
            }
            Op::Notify {
                from,
                to,
                numeric,
                spoof,
                msg_id,
                big,
            } => {
                if let Some(from) = self.pick(*from) {
                    let text = self.notify_text(from, *to, *numeric, *spoof, *msg_id, *big);
                    self.text(from, &text)?;
                }
            }
            Op::Burst { from, count, big } => {
                if let Some(from) = self.pick(*from) {
                    for n in 0..*count {
                        let peer = Target::Peer(n);
                        let text = self.notify_text(from, peer, false, false, false, *big);
                        self.text(from, &text)?;
                    }
                }
            }
            Op::Bad { from, kind } => {
                if let Some(from) = self.pick(*from) {
                    self.text(from, &bad_frame(*kind))?;
                }
            }
            Op::Get { from, known } => {
                if let Some(from) = self.pick(*from) {
                    self.serial += 1;
                    let resource = if *known {
                        "/peerconnection"
                    } else {
                        "/nothing"
                    };
                    let text =
                        json!({"method": "GET", "resource": resource, "msg_id": self.serial});
                    self.text(from, &text.to_string())?;
                }
            }
            Op::Binary { from } => {
                if let Some((stream, conn)) = self.pick(*from).and_then(|f| self.sending(f)) {
                    self.call(
                        stream,
                        None,
                        |m, now, v, x| m.frame(now, conn, None, v, x),
                        |sim| sim.try_binary(conn),
                    )?;
                }
            }
            Op::Text { from, text } => {
                if let Some(from) = self.pick(*from) {
                    self.text(from, text)?;
                }
            }
            Op::Old { from } => {
                if let Some(from) = self.pick(*from) {
                    self.old(from)?;
                }
            }
            Op::Close {
                who,
                ending,
                pending,
            } => {
                if let Some(who) = self.pick(*who) {
                    self.close(who, *ending, *pending)?;
                }
            }
            Op::Deliver => {
                if let Some((conn, code)) = self.pending.pop_front() {
                    self.closed(conn, code)?;
                }
            }
            Op::Freeze { who } => {
                if let Some(who) = self.pick(*who) {
                    let c = &self.clients[who];
                    self.streams[c.stream].sim.freeze(c.conn);
                }
            }
            Op::Ping { who } => {
                if let Some(who) = self.pick(*who) {
                    let c = &self.clients[who];
                    let sim = &mut self.streams[c.stream].sim;
                    sim.now = self.now;
                    sim.ping(c.conn);
                }
            }
            Op::Advance { ms } => self.advance(*ms)?,
            Op::Stall { ms } => self.now += ms,
            Op::Evict { path } => self.rebuild(path % self.streams.len(), false)?,
            Op::Restart { path } => self.rebuild(path % self.streams.len(), true)?,
        }
        self.check()
    }

    /// A `NOTIFY` the model writes: to a client, the sender itself, or an unknown id.
    fn notify_text(
        &mut self,
        from: usize,
        to: Target,
        numeric: bool,
        spoof: bool,
        with_msg_id: bool,
        big: bool,
    ) -> String {
        let to_id = match to {
            Target::Client(i) => self.clients[i % self.clients.len()].id.clone(),
            Target::Own => self.clients[from].id.clone(),
            Target::Unknown => UNKNOWN_ID.to_owned(),
            Target::Peer(n) => {
                let c = &self.clients[from];
                let model = &self.streams[c.stream].model;
                let peer = match c.role {
                    Role::Subscriber => model.publisher.clone(),
                    Role::Publisher => {
                        let subs: Vec<&String> = model.subscribers.iter().collect();
                        subs.get(n % subs.len().max(1)).map(|s| (*s).clone())
                    }
                };
                peer.unwrap_or_else(|| UNKNOWN_ID.to_owned())
            }
        };
        // Written out rather than built as a `Value`: the fuzzer runs this millions of times.
        let to = match to_id.parse::<u64>() {
            Ok(n) if numeric => n.to_string(),
            _ => format!("\"{to_id}\""),
        };
        self.serial += 1;
        let sdp = if big {
            format!(r#","sdp":"{}""#, "v=0 ".repeat(60))
        } else {
            String::new()
        };
        let seq = self.serial;
        let mut text = format!(r#"{{"method":"NOTIFY","to":{to},"data":{{"seq":{seq}{sdp}}}"#);
        if spoof {
            text.push_str(&format!(r#","from":"{UNKNOWN_ID}""#));
        }
        if with_msg_id {
            text.push_str(&format!(r#","msg_id":{seq}"#));
        }
        text.push('}');
        text
    }

    fn text(&mut self, from: usize, text: &str) -> Result<(), String> {
        let Some((stream, conn)) = self.sending(from) else {
            return Ok(());
        };
        self.call(
            stream,
            None,
            |m, now, v, x| m.frame(now, conn, Some(text), v, x),
            |sim| sim.try_text(conn, text),
        )
    }

    fn old(&mut self, from: usize) -> Result<(), String> {
        let c = &self.clients[from];
        let (stream, Some(conn)) = (c.stream, c.prev) else {
            return Ok(());
        };
        // The old network comes back for a moment (a zombie's frame arrives late), or the
        // socket is still closing: the runtime can still hand its frames over.
        match self.streams[stream].sim.sockets.get_mut(&conn) {
            Some(s) if !s.gone => s.frozen = false,
            _ => return Ok(()),
        }
        let text = json!({"method": "NOTIFY", "to": UNKNOWN_ID, "data": "stale"}).to_string();
        self.call(
            stream,
            None,
            |m, now, v, x| m.frame(now, conn, Some(&text), v, x),
            |sim| sim.try_text(conn, &text),
        )
    }

    fn join(&mut self, path: usize, publish: bool) -> Result<(), String> {
        let stream = path % self.streams.len();
        // Publishers join on the publish path, subscribers on the subscribe path (for hash
        // streams, the hash): `paths` checked that both name the stream.
        let role = if publish {
            Role::Publisher
        } else {
            Role::Subscriber
        };
        let id = self.mint_id();
        if !self.ids.insert(id.clone()) {
            return Err(format!("id {id} minted twice"));
        }
        let conn = self.fresh_conn();
        let nonce = self.fresh_nonce();
        let client = self.clients.len();
        let mut admitted = false;
        self.call(
            stream,
            Some(conn),
            |m, now, v, x| {
                admitted = m.connect(now, conn, client, role, &id, nonce, v, x);
            },
            |sim| sim.try_connect_on(conn, role, None, PeerId::from(id.as_str()), nonce),
        )?;
        self.stream_of.insert(conn, stream);
        if admitted {
            let model = &self.streams[stream].model;
            let value = model
                .persists()
                .then(|| resume::mint(&model.key, &PeerId::from(id.as_str()), role, &nonce));
            self.owner.insert(conn, client);
            self.clients.push(Client {
                id: id.clone(),
                stream,
                role,
                conn,
                prev: None,
                values: Vec::new(),
                subscribers: BTreeSet::new(),
                publisher: None,
                stale: false,
            });
            if let Some(value) = value {
                self.issue(stream, client, value)?;
            }
            // The views: what it was told on the way in.
            self.apply_told(client)?;
        }
        Ok(())
    }

    fn issue(&mut self, stream: usize, client: usize, value: String) -> Result<(), String> {
        let c = &mut self.clients[client];
        let issued = Issued {
            key: self.streams[stream].model.key.0,
            id: c.id.clone(),
            role: c.role,
        };
        if self.issued.insert(value.clone(), issued).is_some() {
            return Err(format!("resume value issued twice: {value}"));
        }
        c.values.push(value);
        Ok(())
    }

    fn resume(&mut self, who: usize, which: Presented) -> Result<(), String> {
        let c = &self.clients[who];
        let current = c.values.last().cloned().unwrap_or_else(|| "none".into());
        let (stream, role, value) = match which {
            Presented::Current => (c.stream, c.role, current),
            Presented::Replayed => (
                c.stream,
                c.role,
                c.values.first().cloned().unwrap_or(current),
            ),
            Presented::Forged => {
                let forged = match current.rsplit_once('.') {
                    Some((body, tag)) => {
                        let first = if tag.starts_with('A') { 'B' } else { 'A' };
                        format!("{body}.{first}{}", tag.get(1..).unwrap_or_default())
                    }
                    None => format!("{current}x"),
                };
                (c.stream, c.role, forged)
            }
            Presented::OtherStream => ((c.stream + 1) % self.streams.len(), c.role, current),
            Presented::OtherMode => {
                let other = match c.role {
                    Role::Publisher => Role::Subscriber,
                    Role::Subscriber => Role::Publisher,
                };
                (c.stream, other, current)
            }
        };
        let conn = self.fresh_conn();
        let nonce = self.fresh_nonce();
        // A refused resume carries an id the engine never uses; a fresh one keeps that honest.
        let spare = self.mint_id();
        let issued = std::mem::take(&mut self.issued);
        let mut took = None;
        let result = self.call(
            stream,
            Some(conn),
            |m, now, v, x| {
                took = m.resume(now, conn, role, &value, &issued, nonce, v, x);
            },
            |sim| {
                sim.try_connect_on(
                    conn,
                    role,
                    Some(&value),
                    PeerId::from(spare.as_str()),
                    nonce,
                )
            },
        );
        self.issued = issued;
        result?;
        self.stream_of.insert(conn, stream);
        if let Some(id) = took {
            let client = self
                .clients
                .iter()
                .position(|c| c.id == id)
                .ok_or("no client")?;
            let c = &mut self.clients[client];
            c.prev = Some(c.conn);
            c.conn = conn;
            self.owner.insert(conn, client);
            let model = &self.streams[stream].model;
            let value = model
                .members
                .get(&id)
                .and_then(|m| model.value_of(&id, m))
                .ok_or("a resumed member with no value")?;
            self.issue(stream, client, value)?;
            self.apply_told(client)?;
        }
        Ok(())
    }

    fn close(&mut self, who: usize, ending: Ending, pending: bool) -> Result<(), String> {
        let c = &self.clients[who];
        let (stream, conn) = (c.stream, c.conn);
        let Some(s) = self.streams[stream].sim.sockets.get(&conn) else {
            return Ok(());
        };
        if s.gone || s.closing || self.pending.iter().any(|(p, _)| *p == conn) {
            return Ok(());
        }
        // A client whose network died sends no close frame: the runtime reports a cut.
        let code = match ending {
            _ if s.frozen => Some(1006),
            Ending::Code(code) => Some(code),
            Ending::Error => None,
        };
        if pending {
            self.streams[stream].sim.begin_close(conn);
            self.pending.push_back((conn, code));
            Ok(())
        } else {
            self.closed(conn, code)
        }
    }

    fn closed(&mut self, conn: ConnId, code: Option<u16>) -> Result<(), String> {
        let Some(&stream) = self.stream_of.get(&conn) else {
            return Ok(());
        };
        if self.streams[stream]
            .sim
            .sockets
            .get(&conn)
            .is_none_or(|s| s.gone)
        {
            return Ok(());
        }
        self.call(
            stream,
            None,
            |m, now, _, x| m.closed(now, conn, code, x),
            |sim| sim.try_closed(conn, code),
        )
    }

    fn advance(&mut self, ms: u64) -> Result<(), String> {
        let target = self.now + ms;
        for stream in 0..self.streams.len() {
            while let Some(at) = self.streams[stream]
                .sim
                .storage
                .alarm
                .filter(|&t| t <= target)
            {
                self.now = self.now.max(at);
                self.call(
                    stream,
                    None,
                    |m, now, v, x| m.timeout(now, v, x),
                    |sim| sim.try_timeout(),
                )?;
            }
        }
        self.now = target;
        Ok(())
    }

    fn rebuild(&mut self, stream: usize, restart: bool) -> Result<(), String> {
        let now = self.now;
        self.touched[stream] = true;
        let StreamState { sim, model } = &mut self.streams[stream];
        sim.now = now;
        if restart {
            // The old object's pending closes die with it.
            self.pending.retain(|(c, _)| !sim.sockets.contains_key(c));
        }
        let mut x = Expect::default();
        let none = BTreeMap::new();
        model.restore(now, if restart { &none } else { &sim.sockets }, &mut x);
        let before = Before::of(&sim.sockets, &x);
        let result = if restart {
            sim.try_restart()
        } else {
            sim.try_evict()
        };
        self.calls += 1;
        result.map_err(|e| format!("runtime: {e}"))?;
        compare(&sim.last, None, &x)?;
        self.after(stream, before, None, x)
    }

    /// One engine call on `stream`: the model works out what it must do (`expect`), the sim
    /// makes it (`act`), and the two are compared.
    fn call(
        &mut self,
        stream: usize,
        connecting: Option<ConnId>,
        expect: impl FnOnce(&mut Model, u64, &View, &mut Expect),
        act: impl FnOnce(&mut Sim) -> Result<(), String>,
    ) -> Result<(), String> {
        let now = self.now;
        self.touched[stream] = true;
        let StreamState { sim, model } = &mut self.streams[stream];
        sim.now = now;
        let mut x = Expect::default();
        model.expire(now, &mut x);
        expect(model, now, &View(&sim.sockets), &mut x);
        let before = Before::of(&sim.sockets, &x);
        self.calls += 1;
        act(sim).map_err(|e| format!("runtime: {e}"))?;
        compare(&sim.last, connecting, &x)?;
        self.after(stream, before, connecting, x)
    }

    /// After a call: clients learn what reached them, closed sockets are acknowledged, and
    /// sockets the runtime let go are forgotten.
    fn after(
        &mut self,
        stream: usize,
        before: Before,
        connecting: Option<ConnId>,
        x: Expect,
    ) -> Result<(), String> {
        let sim = &mut self.streams[stream].sim;
        for (conn, exp) in &x.told {
            let Some(&client) = self.owner.get(conn) else {
                continue;
            };
            if Some(*conn) == connecting {
                // A new socket's frames are applied once its client is known.
                continue;
            }
            let c = &mut self.clients[client];
            if !before.reached.contains(conn) {
                c.stale |= matches!(exp, Exp::Event { reply: false, .. });
                continue;
            }
            tell(c, exp)?;
        }
        if let Some(conn) = connecting {
            self.told_new = x
                .told
                .iter()
                .filter(|(c, _)| *c == conn)
                .map(|(_, e)| e.clone())
                .collect();
        }
        // A client that can read its socket answers a close from the server.
        for conn in x.sockets.keys() {
            let Some(s) = sim.sockets.get_mut(conn) else {
                continue;
            };
            if before.closed.contains(conn) || s.gone || s.frozen || s.closing {
                continue;
            }
            if let Some((code, _)) = &s.server_closed {
                s.closing = true;
                self.pending.push_back((*conn, Some(*code)));
            }
        }
        sim.drain();
        sim.sockets.retain(|_, s| !s.gone);
        Ok(())
    }
}

/// What the checker needs to remember of the sockets an engine call concerns.
struct Before {
    /// Sockets whose client could read them.
    reached: HashSet<ConnId>,
    /// Sockets the engine had closed already.
    closed: HashSet<ConnId>,
}

impl Before {
    fn of(sockets: &BTreeMap<ConnId, sim::Socket>, x: &Expect) -> Self {
        let mut before = Before {
            reached: HashSet::new(),
            closed: HashSet::new(),
        };
        for conn in x.sockets.keys() {
            let Some(s) = sockets.get(conn) else {
                continue;
            };
            if s.reaches_client() {
                before.reached.insert(*conn);
            }
            if s.server_closed.is_some() {
                before.closed.insert(*conn);
            }
        }
        before
    }
}

impl Checker {
    /// The new socket's frames reached its client.
    fn apply_told(&mut self, client: usize) -> Result<(), String> {
        for exp in std::mem::take(&mut self.told_new) {
            tell(&mut self.clients[client], &exp)?;
        }
        Ok(())
    }

    /// The invariants that hold between operations.
    /// Only streams the operation touched can have changed; the others were checked before.
    fn check(&self) -> Result<(), String> {
        for (n, state) in self.streams.iter().enumerate() {
            if self.touched[n] {
                check_stream(state).map_err(|e| format!("stream {n}: {e}"))?;
            }
        }
        for c in self.clients.iter().filter(|c| self.touched[c.stream]) {
            let model = &self.streams[c.stream].model;
            let Some(m) = model.members.get(&c.id) else {
                continue;
            };
            if m.away_since.is_some() || m.conn != c.conn || c.stale {
                continue;
            }
            match c.role {
                Role::Publisher if c.subscribers != model.subscribers => {
                    return Err(format!(
                        "publisher {} sees {:?}, truth {:?}",
                        c.id, c.subscribers, model.subscribers
                    ))
                }
                Role::Subscriber if c.publisher != model.publisher => {
                    return Err(format!(
                        "subscriber {} sees {:?}, truth {:?}",
                        c.id, c.publisher, model.publisher
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// One frame reaches a client: its view follows the announcements.
fn tell(c: &mut Client, exp: &Exp) -> Result<(), String> {
    let Exp::Event {
        kind,
        id,
        reply: false,
    } = exp
    else {
        return Ok(());
    };
    let ok = match (c.role, *kind) {
        (Role::Publisher, "subscribed") => c.subscribers.insert(id.clone()),
        (Role::Publisher, "unsubscribed") => c.subscribers.remove(id),
        (Role::Subscriber, "published") => c.publisher.replace(id.clone()).is_none(),
        (Role::Subscriber, "unpublished") => c.publisher.take().as_ref() == Some(id),
        _ => false,
    };
    if ok || c.stale {
        Ok(())
    } else {
        Err(format!("{kind} {id} to {} does not fit its view", c.id))
    }
}

/// The engine, its storage and its sockets' attachments against the model.
fn check_stream(state: &StreamState) -> Result<(), String> {
    let (sim, model) = (&state.sim, &state.model);
    let engine = &sim.engine;
    let stream = engine.stream();
    let publisher = stream.publisher().map(|p| p.as_str().to_owned());
    let subscribers: BTreeSet<String> = stream
        .subscribers()
        .map(|s| s.as_str().to_owned())
        .collect();
    if publisher != model.publisher || subscribers != model.subscribers {
        return Err(format!(
            "engine has {publisher:?} {subscribers:?}, model {:?} {:?}",
            model.publisher, model.subscribers
        ));
    }
    if subscribers.len() > model.config.max_subscribers {
        return Err("over the subscriber limit".into());
    }
    let status = engine.status();
    let since = model
        .publisher
        .as_ref()
        .and_then(|p| model.members.get(p))
        .map(|m| m.since);
    if (status.live, status.subscribers, status.since)
        != (since.is_some(), subscribers.len(), since)
    {
        return Err(format!("status {status:?}"));
    }
    if engine.next_deadline() != model.deadline() {
        return Err(format!(
            "next deadline {:?}, model {:?}",
            engine.next_deadline(),
            model.deadline()
        ));
    }
    for (id, m) in &model.members {
        let peer = PeerId::from(id.as_str());
        if engine.is_away(&peer) != m.away_since.is_some() {
            return Err(format!("{id} away: engine {}", engine.is_away(&peer)));
        }
        if m.away_since.is_none() && engine.member_of(m.conn) != Some(&peer) {
            return Err(format!(
                "socket {} of {id} carries {:?}",
                m.conn,
                engine.member_of(m.conn)
            ));
        }
        let queued: Vec<&str> = engine.queued(&peer).collect();
        if queued.len() != m.queue.len() {
            return Err(format!(
                "{id} has {} queued, model {}",
                queued.len(),
                m.queue.len()
            ));
        }
        for (exp, text) in m.queue.iter().zip(&queued) {
            matches(exp, &Got::Frame((*text).to_owned()))
                .map_err(|e| format!("{id}'s queue: {e}"))?;
        }
        // Its socket carries it, in its attachment.
        if m.away_since.is_none() {
            let s = sim
                .sockets
                .get(&m.conn)
                .ok_or("a member without a socket")?;
            let a = s
                .attachment
                .as_ref()
                .ok_or("a member's socket without attachment")?;
            let want = (id.as_str(), m.role.as_str(), m.conn, m.since, false);
            if s.gone || (a.id.as_str(), a.role.as_str(), a.conn, a.since, a.gone) != want {
                return Err(format!("{id}'s socket has {a:?}, gone {}", s.gone));
            }
        }
        if model.persists() {
            let r = sim
                .storage
                .records
                .get(id)
                .ok_or_else(|| format!("{id} not stored"))?;
            let want = (
                m.role.as_str(),
                m.conn,
                m.since,
                base64url(&m.nonce),
                m.away_since,
                m.hung_up,
            );
            if (
                r.role.as_str(),
                r.conn,
                r.since,
                r.nonce.clone(),
                r.away_since,
                r.hung_up,
            ) != want
            {
                return Err(format!("{id} stored as {r:?}, want {want:?}"));
            }
            let stored = sim.storage.queue(id);
            if stored.iter().map(String::as_str).ne(queued.iter().copied()) {
                return Err(format!("{id}'s stored queue {stored:?} is not {queued:?}"));
            }
        }
    }
    // A held, open socket whose attachment names a member carries exactly that member.
    for (conn, s) in &sim.sockets {
        let Some(a) = s.attachment.as_ref().filter(|a| !a.gone) else {
            continue;
        };
        if s.gone || !s.is_open() {
            continue;
        }
        if model.member_on(*conn).as_deref() != Some(a.id.as_str()) {
            return Err(format!(
                "open socket {conn} still names {} in its attachment",
                a.id
            ));
        }
    }
    if model.persists() {
        if sim.storage.records.len() != model.members.len() {
            return Err(format!("storage holds {:?}", sim.storage.records.keys()));
        }
        if sim
            .storage
            .queued
            .keys()
            .any(|(id, _)| !model.members.contains_key(id))
        {
            return Err("a queued frame outlived its member".into());
        }
        if sim.storage.alarm != model.deadline() {
            return Err(format!(
                "alarm {:?}, want {:?}",
                sim.storage.alarm,
                model.deadline()
            ));
        }
    } else if sim.storage != sim::Storage::default() || sim.counts.alarm_set > 0 {
        return Err(format!("resume is off but storage has {:?}", sim.storage));
    }
    Ok(())
}

/// Base64url without padding, as the engine stores nonces.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = String::new();
    for &b in bytes {
        bits = (bits << 8) | u32::from(b);
        n += 8;
        while n >= 6 {
            n -= 6;
            out.push(char::from(ALPHABET[((bits >> n) & 63) as usize]));
        }
    }
    if n > 0 {
        out.push(char::from(ALPHABET[((bits << (6 - n)) & 63) as usize]));
    }
    out
}

/// Runs a whole sequence from a fresh checker; the error names the failing step.
pub fn run(variant: Variant, ops: &[Op]) -> Result<usize, String> {
    let mut checker = Checker::new(variant)?;
    for (n, op) in ops.iter().enumerate() {
        checker
            .step(op)
            .map_err(|e| format!("{variant:?} step {n} {op:?}: {e}"))?;
    }
    Ok(checker.calls)
}

/// Time steps, around the model's grace period (3 s) and heartbeat timeout (2 s).
pub const ADVANCES: [u64; 8] = [1, 10, 60, 250, 600, 1_100, 2_100, 3_100];

/// The codes a client closes with: goodbyes, drops, and codes only reported locally.
pub const ENDINGS: [Ending; 8] = [
    Ending::Code(1000),
    Ending::Code(1001),
    Ending::Code(1006),
    Ending::Code(4000),
    Ending::Code(3000),
    Ending::Code(1005),
    Ending::Code(1011),
    Ending::Error,
];

pub const VALUES: [Presented; 5] = [
    Presented::Current,
    Presented::Replayed,
    Presented::Forged,
    Presented::OtherStream,
    Presented::OtherMode,
];

/// The most operations the fuzzer's decoder reads from one input. Every operation runs the
/// engine and the model and checks every invariant, so an execution costs in proportion; the
/// property test's sequences are shorter still (40), and a longer story is more executions
/// of shorter ones sharing a prefix, which the fuzzer finds by itself.
pub const MAX_FUZZ_OPS: usize = 64;

/// Reads any bytes as a variant and a sequence of operations (for the fuzzer): every input
/// is some sequence, of at most [`MAX_FUZZ_OPS`] operations.
pub fn ops_from_bytes(bytes: &[u8]) -> (Variant, Vec<Op>) {
    let (variant, mut rest) = match bytes {
        [v, rest @ ..] => (
            [Variant::Tight, Variant::Off, Variant::Loose][usize::from(*v % 3)],
            rest,
        ),
        [] => (Variant::Tight, bytes),
    };
    let mut ops = Vec::new();
    while let ([tag, a, b, tail @ ..], true) = (rest, ops.len() < MAX_FUZZ_OPS) {
        rest = tail;
        let (a, b) = (usize::from(*a), usize::from(*b));
        let flag = |bit: u8| tag & bit != 0;
        let op = match tag % 16 {
            0 | 1 => Op::Join {
                path: a,
                publish: b % 3 == 0,
            },
            2 => Op::Notify {
                from: a,
                to: match b % 8 {
                    5 => Target::Own,
                    6 => Target::Unknown,
                    n if n < 3 => Target::Peer(b >> 3),
                    n => Target::Client(n + (b >> 3)),
                },
                numeric: flag(0x10),
                spoof: flag(0x20),
                msg_id: flag(0x40),
                big: flag(0x80),
            },
            3 => Op::Bad { from: a, kind: b },
            4 if flag(0x10) => Op::Get {
                from: a,
                known: b % 2 == 0,
            },
            4 => Op::Binary { from: a },
            5 => Op::Close {
                who: a,
                ending: ENDINGS[b % ENDINGS.len()],
                pending: flag(0x10),
            },
            6 if flag(0x10) => Op::Restart { path: a },
            6 => Op::Evict { path: a },
            7 => {
                let len = b.min(rest.len());
                let (text, tail) = rest.split_at(len);
                rest = tail;
                Op::Text {
                    from: a,
                    text: String::from_utf8_lossy(text).into_owned(),
                }
            }
            8 => Op::Resume {
                who: a,
                value: VALUES[b % VALUES.len()],
            },
            15 if flag(0x10) => Op::Stall {
                ms: ADVANCES[b % ADVANCES.len()],
            },
            9 | 15 => Op::Advance {
                ms: ADVANCES[b % ADVANCES.len()],
            },
            10 => Op::Ping { who: a },
            11 => Op::Freeze { who: a },
            12 => Op::Deliver,
            13 => Op::Burst {
                from: a,
                count: b % 12 + 1,
                big: flag(0x10),
            },
            _ => Op::Old { from: a },
        };
        ops.push(op);
    }
    (variant, ops)
}
