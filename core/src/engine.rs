//! The engine: one stream's whole state machine. Every runtime event is one typed [`Input`]
//! given with the time; what the runtime must do comes back as [`Output`]s, in order.
//!
//! It wraps the membership rules of [`Stream`] with what a real network needs: sockets that
//! drop and come back (resume, with frames queued while away), sockets that go silent (the
//! heartbeat timeout), budgets (frame rate per connection, relay bytes per pair and per stream),
//! and persistence so a restart loses nothing. The adapter finds the socket, makes one call,
//! performs the outputs; the engine asks the runtime about sockets only through [`Sockets`],
//! and reads no clock.

use std::collections::{BTreeMap, VecDeque};

use crate::frame::MsgId;
use crate::limits::TokenBucket;
use crate::observed::{Change, Observed, Relayed};
use crate::record::{ConnId, HeldSocket, Identity, Queued, Record, Stored};
use crate::resume::{self, Nonce, ResumeKey};
use crate::{
    base64url, created_frame, error_frame, Config, Effect, ErrorCode, FloodGuard, PeerId, Refusal,
    Role, Stream, Verdict,
};

/// What the engine may ask the runtime about a socket, answered without side effects.
pub trait Sockets {
    /// When the runtime last answered the socket's heartbeat `ping` by itself (ms since the
    /// epoch), or `None` if it never did: a client that never pings is never timed out.
    fn last_ping(&self, conn: ConnId) -> Option<u64>;
    /// Whether the socket can still carry frames.
    fn is_open(&self, conn: ConnId) -> bool;
}

/// A new socket asking to join. The adapter supplies fresh random values; the engine decides
/// whether they are used.
#[derive(Clone, Debug)]
pub struct Connect<'a> {
    pub conn: ConnId,
    pub role: Role,
    /// The `resume` query parameter, when the client asks to take its place back.
    pub resume: Option<&'a str>,
    /// The id a fresh member gets.
    pub id: PeerId,
    /// The member's next single-use resume secret.
    pub nonce: Nonce,
    /// The router found the request entitled to TURN credentials (see `IceGrant`).
    pub turn: bool,
}

/// One runtime event.
#[derive(Clone, Debug)]
pub enum Input<'a> {
    Connect(Connect<'a>),
    Text {
        conn: ConnId,
        text: &'a str,
    },
    Binary {
        conn: ConnId,
    },
    /// The socket closed (`code` as the client sent it) or failed (`code: None`).
    Closed {
        conn: ConnId,
        code: Option<u16>,
        reason: &'a str,
    },
    /// The alarm the engine asked for went off (or any later time: the engine checks).
    Timeout,
}

/// One action for the adapter, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Take the socket into the stream with this attachment (before any send to it).
    Accept {
        conn: ConnId,
        identity: Identity,
    },
    /// Do not take the socket: tell the client why and close it.
    Refuse(Refusal),
    Send {
        conn: ConnId,
        text: String,
    },
    /// Answer `GET /peerconnection` on this socket (the ICE configuration may need I/O).
    SendIce {
        conn: ConnId,
        msg_id: Option<MsgId>,
    },
    Close {
        conn: ConnId,
        code: u16,
        reason: String,
    },
    /// Rewrite the socket's attachment (it no longer carries its member).
    Mark {
        conn: ConnId,
        identity: Identity,
    },
    /// Store (insert or replace) a member's record.
    Persist(Record),
    /// Store a frame queued for an away member.
    Enqueue(Queued),
    /// Drop every frame queued for this member.
    Dequeue(PeerId),
    /// Drop the member's record: it departed (a [`Output::Dequeue`] comes first if it had
    /// frames queued).
    Forget(PeerId),
    /// Arm the alarm for this time, or cancel it.
    Alarm(Option<u64>),
    /// Tell the stream's room (if it is in one): its publisher `id`, joined at `since`, is
    /// here (`live`), or its departure is final (never said while it may still resume). Also
    /// said again on every restore that finds a publisher, so a lost report is made good.
    Presence {
        live: bool,
        id: PeerId,
        since: u64,
    },
}

/// What an outside observer may know of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub live: bool,
    pub subscribers: usize,
    /// When the current publisher joined.
    pub since: Option<u64>,
}

impl Status {
    /// The answer of `GET /api/streams/<path>`: `mode` is `mesh` until an SFU mode exists.
    pub fn json(&self) -> String {
        serde_json::json!({
            "live": self.live,
            "subscribers": self.subscribers,
            "since": self.since,
            "mode": "mesh",
        })
        .to_string()
    }
}

/// A member's connection state beyond its role in the stream.
#[derive(Clone, Debug)]
struct Session {
    role: Role,
    /// The socket that carries (or last carried) the member.
    conn: ConnId,
    since: u64,
    nonce: Nonce,
    /// While away: when the socket was lost.
    away_since: Option<u64>,
    /// Entitled to TURN credentials: earned at the join (or any resume) and kept, since a
    /// resume needs no token.
    turn: bool,
    /// The server closed the member's socket itself (heartbeat timeout): the client's answer
    /// to that close is not a goodbye.
    hung_up: bool,
    queue: VecDeque<String>,
    queue_bytes: usize,
    next_seq: u64,
    /// The last frame from the member (or its arrival).
    last_heard: u64,
    /// Bytes relayed to this member, and from it: a subscriber's two directions with the
    /// publisher (the publisher's own pairs are charged to each subscriber).
    relay_in: TokenBucket,
    relay_out: TokenBucket,
}

/// One stream's state machine.
#[derive(Clone, Debug)]
pub struct Engine {
    stream: Stream,
    flood: FloodGuard,
    sessions: BTreeMap<PeerId, Session>,
    /// The sockets that carry a member now (away members have none).
    conns: BTreeMap<ConnId, PeerId>,
    /// How many members are away: while none are, finding the next deadline after every event
    /// costs nothing instead of a look at every member (10,000 of them in the scale benchmark).
    away: usize,
    key: ResumeKey,
    /// The earliest time the next heartbeat sweep may run.
    next_sweep: u64,
    /// The alarm as last requested.
    armed: Option<u64>,
    /// Membership changes of the last call, for logs and metrics.
    observed: Vec<Observed>,
    /// Relays since the adapter last took the count.
    relayed: Relayed,
    /// The stream's relay budget from the publisher to all subscribers, and from all
    /// subscribers to the publisher. Kept by the stream, not a member: one that reconnects
    /// gets no fresh budget.
    relay_down: TokenBucket,
    relay_up: TokenBucket,
}

/// Whether a close was the client's own goodbye: it sent a close frame, whatever its code.
/// 1006 and 1015 are only ever reported by the runtime for a connection lost without one (a
/// cut or reset TCP connection, a failed TLS session): those members were cut off and may
/// resume.
fn is_goodbye(code: u16) -> bool {
    !matches!(code, 1006 | 1015)
}

impl Engine {
    pub fn new(config: Config, key: ResumeKey) -> Self {
        let flood = FloodGuard::new(config.frame_rate, config.flood_close_after);
        // Full from the start of time, hence full at any `now`.
        let relay_down = TokenBucket::full(config.relay_stream_budget, 0);
        Self {
            relay_down,
            relay_up: relay_down,
            stream: Stream::new(config),
            flood,
            sessions: BTreeMap::new(),
            conns: BTreeMap::new(),
            away: 0,
            key,
            next_sweep: 0,
            armed: None,
            observed: Vec::new(),
            relayed: Relayed::default(),
        }
    }

    /// Rebuilds a stream after its object was evicted (the sockets are still held) or the
    /// runtime restarted (storage is all that is left). Members whose socket is gone are away
    /// from `now` on, unless they already were.
    pub fn restore(
        config: Config,
        key: ResumeKey,
        now: u64,
        held: Vec<HeldSocket>,
        stored: Stored,
    ) -> (Self, Vec<Output>) {
        let mut engine = Self::new(config.clone(), key);
        let mut out = Vec::new();
        let mut members = Vec::new();
        // Members found away now that were not when storage was written.
        let mut newly_away = Vec::new();
        if engine.persists() {
            for record in stored.records {
                let Some(role) = Role::from_str_opt(&record.role) else {
                    continue;
                };
                let Some(nonce) = base64url::decode(&record.nonce).and_then(|n| n.try_into().ok())
                else {
                    continue;
                };
                let id = PeerId::from(record.id.as_str());
                let socket = held.iter().find(|h| {
                    !h.identity.gone && h.identity.conn == record.conn && h.identity.id == record.id
                });
                // A held socket that is closing still carries its member: its close event is
                // on its way (it may be what woke the object) and decides between a goodbye and
                // a drop. Only a socket the runtime no longer holds means the member is away.
                let away_since = match (record.away_since, socket) {
                    (Some(t), _) => Some(t),
                    (None, Some(_)) => None,
                    (None, None) => Some(now),
                };
                if record.away_since.is_none() && away_since.is_some() {
                    newly_away.push(id.clone());
                }
                members.push((id.clone(), role));
                let mut session =
                    Session::new(role, record.conn, record.since, nonce, now, &config)
                        .away(away_since);
                session.hung_up = record.hung_up;
                session.turn = record.turn;
                engine.sessions.insert(id, session);
            }
            // A socket storage knows nothing of (its member departed while the object slept
            // through the close): its client must join afresh.
            for h in &held {
                let known = engine
                    .sessions
                    .values()
                    .any(|s| s.conn == h.identity.conn && s.away_since.is_none());
                if !known && !h.identity.gone && h.open {
                    out.extend(close_with(h.identity.conn, ErrorCode::ResumeExpired));
                }
            }
        } else {
            for h in held {
                let Some((id, role)) = h.identity.peer() else {
                    continue;
                };
                if h.identity.gone || engine.sessions.contains_key(&id) {
                    continue;
                }
                members.push((id.clone(), role));
                let mut session = Session::new(
                    role,
                    h.identity.conn,
                    h.identity.since,
                    [0; 16],
                    now,
                    &config,
                );
                session.turn = h.identity.turn;
                engine.sessions.insert(id, session);
            }
        }
        for queued in stored.queued {
            if let Some(s) = engine.sessions.get_mut(&PeerId::from(queued.id.as_str())) {
                s.queue_bytes = s.queue_bytes.saturating_add(queued.text.len());
                s.next_seq = s.next_seq.max(queued.seq.saturating_add(1));
                s.queue.push_back(queued.text);
            }
        }
        let (stream, rejected) = Stream::restore(config, members);
        engine.stream = stream;
        for id in rejected {
            // Two publishers in one record set is corrupted state: the first one keeps it.
            if let Some(session) = engine.sessions.remove(&id) {
                out.extend(close_with(session.conn, ErrorCode::PublisherExists));
                if !session.queue.is_empty() {
                    out.push(Output::Dequeue(id.clone()));
                }
                out.push(Output::Forget(id));
            }
        }
        for (id, session) in &engine.sessions {
            if session.away_since.is_none() {
                engine.conns.insert(session.conn, id.clone());
            }
        }
        for id in newly_away {
            if let Some(session) = engine.sessions.get(&id) {
                out.push(Output::Persist(session.record(&id)));
            }
        }
        engine.away = engine.count_away();
        if let Some((id, since)) = engine.publisher_since() {
            out.push(Output::Presence {
                live: true,
                id,
                since,
            });
        }
        // Whatever alarm storage holds may be stale: ask for the right one.
        engine.armed = None;
        let next = engine.next_deadline();
        out.push(Output::Alarm(next));
        engine.armed = next;
        (engine, out)
    }

    /// Takes one event at `now` (ms since the epoch).
    pub fn handle(&mut self, now: u64, input: Input, sockets: &dyn Sockets) -> Vec<Output> {
        let mut out = Vec::new();
        self.observed.clear();
        let publisher = self.publisher_since();
        // A grace period that is over has ended, whether or not its alarm has run yet (after a
        // restart the first event can come before the overdue alarm): the input meets a stream
        // without those members, so a late resume is refused and departures come first.
        self.expire(now, &mut out);
        match input {
            Input::Connect(connect) => self.connect(now, connect, sockets, &mut out),
            Input::Text { conn, text } => self.frame(now, conn, Some(text), sockets, &mut out),
            Input::Binary { conn } => self.frame(now, conn, None, sockets, &mut out),
            Input::Closed { conn, code, reason } => self.closed(now, conn, code, reason, &mut out),
            Input::Timeout => self.sweep(now, sockets, &mut out),
        }
        self.report_presence(publisher, &mut out);
        debug_assert_eq!(self.away, self.count_away());
        let next = self.next_deadline();
        if next != self.armed {
            self.armed = next;
            out.push(Output::Alarm(next));
        }
        out
    }

    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    pub fn status(&self) -> Status {
        let publisher = self.stream.publisher();
        Status {
            live: publisher.is_some(),
            // Constant time: the adapter asks after every change of membership.
            subscribers: self.stream.len() - usize::from(publisher.is_some()),
            since: publisher
                .and_then(|p| self.sessions.get(p))
                .map(|s| s.since),
        }
    }

    /// Sends `text` to a member outside any frame (the SFU's events, `crate::sfu`): now, or
    /// queued while it is away, as the engine's own events are. A queue that overflows ends
    /// the member's wait as usual.
    pub fn send_to(&mut self, now: u64, to: &PeerId, text: String) -> Vec<Output> {
        let mut out = Vec::new();
        let mut leaving = Vec::new();
        self.deliver(to, text, &mut out, &mut leaving);
        for id in leaving {
            self.depart(&id, now, &mut out);
        }
        out
    }

    /// The membership changes of the last [`Engine::handle`] call, in order.
    pub fn observed(&self) -> &[Observed] {
        &self.observed
    }

    /// The relays counted since the last call of this, which resets the count.
    pub fn take_relayed(&mut self) -> Relayed {
        std::mem::take(&mut self.relayed)
    }

    /// The member a socket carries now, if any.
    pub fn member_of(&self, conn: ConnId) -> Option<&PeerId> {
        self.conns.get(&conn)
    }

    /// Whether the member is away (its socket lost, waiting for a resume).
    pub fn is_away(&self, id: &PeerId) -> bool {
        self.sessions
            .get(id)
            .is_some_and(|s| s.away_since.is_some())
    }

    /// Frames queued for an away member, oldest first.
    pub fn queued(&self, id: &PeerId) -> impl Iterator<Item = &str> {
        self.sessions
            .get(id)
            .into_iter()
            .flat_map(|s| s.queue.iter().map(String::as_str))
    }

    /// The next time the engine needs a [`Input::Timeout`]: the earliest end of a grace
    /// period. Nothing else arms the alarm, so a stream with nobody away never wakes by itself.
    pub fn next_deadline(&self) -> Option<u64> {
        if self.away == 0 {
            return None;
        }
        let grace = self.stream.config().resume_grace_ms;
        self.sessions
            .values()
            .filter_map(|s| s.away_since.map(|t| t.saturating_add(grace)))
            .min()
    }

    /// The publisher (away or not) and when it joined.
    fn publisher_since(&self) -> Option<(PeerId, u64)> {
        let id = self.stream.publisher()?;
        Some((id.clone(), self.sessions.get(id)?.since))
    }

    /// A change of publisher during one call, as [`Output::Presence`]: the old one's final
    /// departure, then the new one's arrival.
    fn report_presence(&self, before: Option<(PeerId, u64)>, out: &mut Vec<Output>) {
        let after = self.publisher_since();
        if before == after {
            return;
        }
        if let Some((id, since)) = before {
            out.push(Output::Presence {
                live: false,
                id,
                since,
            });
        }
        if let Some((id, since)) = after {
            out.push(Output::Presence {
                live: true,
                id,
                since,
            });
        }
    }

    fn count_away(&self) -> usize {
        self.sessions
            .values()
            .filter(|s| s.away_since.is_some())
            .count()
    }

    /// Whether resume is on, and with it storage of members.
    fn persists(&self) -> bool {
        self.stream.config().resume_grace_ms > 0
    }

    fn connect(&mut self, now: u64, c: Connect, sockets: &dyn Sockets, out: &mut Vec<Output>) {
        // A publisher that stopped answering its heartbeat does not keep the stream from a
        // new one, whenever the last sweep ran: it departs at once. This comes before the
        // sweep, which would only make it away, and an away publisher still blocks a new one.
        if c.resume.is_none() && c.role == Role::Publisher {
            if let Some(publisher) = self.stream.publisher().cloned() {
                if let Some(conn) = self.silent(now, &publisher, sockets) {
                    out.extend(close_with(conn, ErrorCode::HeartbeatTimeout));
                    self.depart(&publisher, now, out);
                }
            }
        }
        self.sweep(now, sockets, out);
        if let Some(value) = c.resume {
            return match self.check_resume(value, c.role) {
                Ok(id) => self.take_over(now, id, c.conn, c.nonce, c.turn, out),
                Err(code) => out.push(Output::Refuse(Refusal(code))),
            };
        }
        // A newcomer is introduced to the other side; a socket already closing there is
        // treated as dropped first, so nobody is introduced to a peer whose close is pending
        // without that close ever being seen.
        let others: Vec<PeerId> = match c.role {
            Role::Subscriber => self.stream.publisher().cloned().into_iter().collect(),
            Role::Publisher => self.stream.subscribers().cloned().collect(),
        };
        for other in others {
            let closing = self
                .sessions
                .get(&other)
                .filter(|s| s.away_since.is_none())
                .is_some_and(|s| !sockets.is_open(s.conn));
            if closing {
                self.drop_member(&other, now, out);
            }
        }
        let config = self.stream.config().clone();
        let mut session = Session::new(c.role, c.conn, now, c.nonce, now, &config);
        session.turn = c.turn;
        let identity = Identity {
            turn: c.turn,
            ..Identity::new(&c.id, c.role, c.conn, now)
        };
        let created = if self.persists() {
            created_frame(
                c.id.as_str(),
                &resume::mint(&self.key, &c.id, c.role, &c.nonce),
                false,
            )
        } else {
            crate::event_frame(crate::EventKind::Created, c.id.as_str())
        };
        let effects = match self.stream.join_with(c.id.clone(), c.role, created) {
            Ok(effects) => effects,
            Err(refusal) => {
                out.push(Output::Refuse(refusal));
                return;
            }
        };
        out.push(Output::Accept {
            conn: c.conn,
            identity,
        });
        if self.persists() {
            out.push(Output::Persist(session.record(&c.id)));
        }
        self.sessions.insert(c.id.clone(), session);
        self.conns.insert(c.conn, c.id.clone());
        self.observe(&c.id, c.role, Change::Joined);
        self.route(now, effects, Some(&c.id), out);
    }

    /// Which member a resume value may take back: `resume-invalid` unless it is well signed,
    /// for this role, and carries the member's current nonce; `resume-expired` when the member
    /// it names has departed.
    fn check_resume(&self, value: &str, role: Role) -> Result<PeerId, ErrorCode> {
        if !self.persists() {
            return Err(ErrorCode::ResumeExpired);
        }
        let claim = resume::open(&self.key, value)?;
        if claim.role != role {
            return Err(ErrorCode::ResumeInvalid);
        }
        let session = self
            .sessions
            .get(&claim.id)
            .ok_or(ErrorCode::ResumeExpired)?;
        if session.role != role || !constant_time_eq(&session.nonce, &claim.nonce) {
            return Err(ErrorCode::ResumeInvalid);
        }
        Ok(claim.id)
    }

    /// The member's new socket takes its place: the old one, if the runtime still thinks it
    /// open (a zombie), is closed as `replaced`; the member gets `created` with the same id
    /// and then every frame queued while it was away. Its peers notice nothing.
    fn take_over(
        &mut self,
        now: u64,
        id: PeerId,
        conn: ConnId,
        nonce: Nonce,
        turn: bool,
        out: &mut Vec<Output>,
    ) {
        let persists = self.persists();
        let Some(session) = self.sessions.get_mut(&id) else {
            return;
        };
        if session.away_since.is_none() {
            let old = session.conn;
            self.conns.remove(&old);
            out.push(Output::Mark {
                conn: old,
                identity: Identity {
                    gone: true,
                    ..Identity::new(&id, session.role, old, session.since)
                },
            });
            out.extend(close_with(old, ErrorCode::Replaced));
        }
        session.conn = conn;
        session.nonce = nonce;
        if session.away_since.take().is_some() {
            self.away = self.away.saturating_sub(1);
        }
        session.hung_up = false;
        session.turn |= turn;
        session.last_heard = now;
        let queue = std::mem::take(&mut session.queue);
        session.queue_bytes = 0;
        out.push(Output::Accept {
            conn,
            identity: Identity {
                turn: session.turn,
                ..Identity::new(&id, session.role, conn, session.since)
            },
        });
        let value = resume::mint(&self.key, &id, session.role, &nonce);
        out.push(Output::Send {
            conn,
            text: created_frame(id.as_str(), &value, true),
        });
        let had_queue = !queue.is_empty();
        let role = session.role;
        let queued = queue.len();
        out.extend(queue.into_iter().map(|text| Output::Send { conn, text }));
        if had_queue {
            out.push(Output::Dequeue(id.clone()));
        }
        if persists {
            out.push(Output::Persist(session.record(&id)));
        }
        self.observe(&id, role, Change::Resumed { queued });
        self.conns.insert(conn, id);
    }

    fn frame(
        &mut self,
        now: u64,
        conn: ConnId,
        text: Option<&str>,
        sockets: &dyn Sockets,
        out: &mut Vec<Output>,
    ) {
        // A socket that carries no member (replaced, expelled, or never admitted) gets nothing.
        let Some(id) = self.conns.get(&conn).cloned() else {
            return;
        };
        if let Some(session) = self.sessions.get_mut(&id) {
            session.last_heard = now;
        }
        self.sweep(now, sockets, out);
        if !self.conns.contains_key(&conn) {
            return;
        }
        match self.flood.on_frame(&id, now) {
            Verdict::Pass => {}
            Verdict::Drop(effects) => return self.route(now, effects, None, out),
            Verdict::Expel(effects) => {
                self.route(now, effects, None, out);
                return self.depart(&id, now, out);
            }
        }
        let effects = match text {
            Some(text) => self.stream.receive_text(&id, text),
            None => self.stream.receive_binary(&id),
        };
        self.route(now, effects, Some(&id), out);
    }

    fn closed(
        &mut self,
        now: u64,
        conn: ConnId,
        code: Option<u16>,
        reason: &str,
        out: &mut Vec<Output>,
    ) {
        // Complete the closing handshake, or the client sees 1006 instead of its own code.
        let echo = match code {
            Some(c) if is_sendable_close_code(c) => (c, reason.to_owned()),
            Some(_) => (1000, reason.to_owned()),
            None => (
                ErrorCode::Internal.close_code(),
                ErrorCode::Internal.code().to_owned(),
            ),
        };
        out.push(Output::Close {
            conn,
            code: echo.0,
            reason: echo.1,
        });
        // A replaced or departed socket closing changes nothing. The member's own last socket
        // may have been found closed already (it is away): its goodbye still ends its wait.
        let Some(id) = self.conns.get(&conn).cloned().or_else(|| {
            self.sessions
                .iter()
                .find(|(_, s)| s.conn == conn && s.away_since.is_some() && !s.hung_up)
                .map(|(id, _)| id.clone())
        }) else {
            return;
        };
        if code.is_some_and(is_goodbye) {
            self.depart(&id, now, out);
        } else {
            self.drop_member(&id, now, out);
        }
    }

    /// The member's socket is lost: with resume on it is away (still a member, its frames
    /// queued) until it resumes or its grace period ends; without, it departs.
    fn drop_member(&mut self, id: &PeerId, now: u64, out: &mut Vec<Output>) {
        if !self.persists() {
            return self.depart(id, now, out);
        }
        let Some(session) = self.sessions.get_mut(id) else {
            return;
        };
        if session.away_since.is_some() {
            return;
        }
        self.conns.remove(&session.conn);
        session.away_since = Some(now);
        self.away += 1;
        out.push(Output::Persist(session.record(id)));
        let role = session.role;
        self.observe(id, role, Change::Away);
    }

    /// The member leaves the stream: its departure is announced once, and nothing of it stays.
    /// Announcing it may end the wait of away members whose queue overflows; they depart too.
    fn depart(&mut self, id: &PeerId, now: u64, out: &mut Vec<Output>) {
        let mut pending = VecDeque::from([id.clone()]);
        while let Some(id) = pending.pop_front() {
            let Some(session) = self.sessions.remove(&id) else {
                continue;
            };
            if session.away_since.is_some() {
                self.away = self.away.saturating_sub(1);
            }
            self.flood.forget(&id);
            if self.conns.get(&session.conn) == Some(&id) {
                self.conns.remove(&session.conn);
            }
            if session.away_since.is_none() {
                out.push(Output::Mark {
                    conn: session.conn,
                    identity: Identity {
                        gone: true,
                        ..Identity::new(&id, session.role, session.conn, session.since)
                    },
                });
            }
            if self.persists() {
                // Most members never had a frame queued: their departure deletes one row.
                if !session.queue.is_empty() {
                    out.push(Output::Dequeue(id.clone()));
                }
                out.push(Output::Forget(id.clone()));
            }
            let was_away = session.away_since.is_some();
            self.observe(&id, session.role, Change::Left { was_away });
            let effects = self.stream.leave(&id);
            pending.extend(self.route_effects(now, effects, None, out));
        }
    }

    /// Performs the stream's effects: sends to connected members, queues for away ones.
    fn route(
        &mut self,
        now: u64,
        effects: Vec<Effect>,
        from: Option<&PeerId>,
        out: &mut Vec<Output>,
    ) {
        for id in self.route_effects(now, effects, from, out) {
            self.depart(&id, now, out);
        }
    }

    /// [`Engine::route`] without departures: returns the members that must now depart (away
    /// members whose queue overflowed, a sender expelled for its relays), for the caller.
    fn route_effects(
        &mut self,
        now: u64,
        effects: Vec<Effect>,
        from: Option<&PeerId>,
        out: &mut Vec<Output>,
    ) -> Vec<PeerId> {
        let mut leaving = Vec::new();
        for effect in effects {
            match effect {
                Effect::Send { to, text } => self.deliver(&to, text, out, &mut leaving),
                Effect::Relay { to, text } => {
                    let over_budget =
                        from.filter(|from| !self.charge_relay(now, from, &to, text.len()));
                    let Some(from) = over_budget else {
                        self.relayed.frames += 1;
                        self.relayed.bytes += text.len() as u64;
                        self.deliver(&to, text, out, &mut leaving);
                        continue;
                    };
                    // The frame is dropped; a sender that keeps at it is closed like a flooder.
                    let code = ErrorCode::RelayBudget;
                    match self.flood.refuse(from, now, code, code) {
                        Verdict::Pass => {}
                        Verdict::Drop(effects) => {
                            leaving.extend(self.route_effects(now, effects, None, out));
                        }
                        Verdict::Expel(effects) => {
                            leaving.extend(self.route_effects(now, effects, None, out));
                            leaving.push(from.clone());
                        }
                    }
                }
                Effect::SendIceConfiguration { to, msg_id } => {
                    if let Some(s) = self.sessions.get(&to).filter(|s| s.away_since.is_none()) {
                        out.push(Output::SendIce {
                            conn: s.conn,
                            msg_id,
                        });
                    }
                }
                Effect::Close { to, code, reason } => {
                    if let Some(s) = self.sessions.get(&to).filter(|s| s.away_since.is_none()) {
                        out.push(Output::Close {
                            conn: s.conn,
                            code,
                            reason,
                        });
                    }
                }
            }
        }
        leaving
    }

    /// Sends to a connected member, or queues for an away one; a queue that would pass its
    /// bound ends the member's wait (it is added to `overflowed` once).
    fn deliver(
        &mut self,
        to: &PeerId,
        text: String,
        out: &mut Vec<Output>,
        overflowed: &mut Vec<PeerId>,
    ) {
        let limit = self.stream.config().resume_queue_bytes;
        let Some(session) = self.sessions.get_mut(to) else {
            return;
        };
        if session.away_since.is_none() {
            out.push(Output::Send {
                conn: session.conn,
                text,
            });
            return;
        }
        if overflowed.contains(to) {
            return;
        }
        if session.queue_bytes.saturating_add(text.len()) > limit {
            overflowed.push(to.clone());
            return;
        }
        session.queue_bytes += text.len();
        let seq = session.next_seq;
        session.next_seq += 1;
        out.push(Output::Enqueue(Queued {
            id: to.as_str().to_owned(),
            seq,
            text: text.clone(),
        }));
        session.queue.push_back(text);
    }

    /// Charges a relay to the byte budget of its subscriber-publisher pair and to the stream's,
    /// in its direction: both or neither.
    fn charge_relay(&mut self, now: u64, from: &PeerId, to: &PeerId, bytes: usize) -> bool {
        let config = self.stream.config();
        let (pair_rate, stream_rate) = (config.relay_budget, config.relay_stream_budget);
        let bytes = bytes as u64;
        let from_publisher = self.stream.publisher() == Some(from);
        let (pair, total) = if from_publisher {
            let pair = self.sessions.get_mut(to).map(|s| &mut s.relay_in);
            (pair, &mut self.relay_down)
        } else {
            let pair = self.sessions.get_mut(from).map(|s| &mut s.relay_out);
            (pair, &mut self.relay_up)
        };
        let mut pair_after = pair.as_deref().copied();
        let mut total_after = *total;
        let pair_ok = pair_rate.amount == 0
            || pair_after
                .as_mut()
                .is_none_or(|b| b.take_n(pair_rate, now, bytes));
        let total_ok = stream_rate.amount == 0 || total_after.take_n(stream_rate, now, bytes);
        if !(pair_ok && total_ok) {
            return false;
        }
        if let (Some(pair), Some(after)) = (pair, pair_after) {
            *pair = after;
        }
        *total = total_after;
        true
    }

    /// Looks for connections that went silent, at most once per quarter of the timeout (each
    /// look asks the runtime about every socket).
    fn sweep(&mut self, now: u64, sockets: &dyn Sockets, out: &mut Vec<Output>) {
        let timeout = self.stream.config().heartbeat_timeout_ms;
        if timeout == 0 || now < self.next_sweep {
            return;
        }
        self.next_sweep = now.saturating_add((timeout / 4).max(1));
        let connected: Vec<PeerId> = self.conns.values().cloned().collect();
        for id in connected {
            self.check_heartbeat(now, &id, sockets, out);
        }
    }

    /// Treats the member as dropped if it uses the heartbeat and has been silent too long, or if
    /// its socket is no longer open.
    fn check_heartbeat(
        &mut self,
        now: u64,
        id: &PeerId,
        sockets: &dyn Sockets,
        out: &mut Vec<Output>,
    ) {
        let Some(session) = self.sessions.get(id).filter(|s| s.away_since.is_none()) else {
            return;
        };
        // A socket the runtime reports closed whose close event never came.
        if !sockets.is_open(session.conn) {
            return self.drop_member(id, now, out);
        }
        let Some(conn) = self.silent(now, id, sockets) else {
            return;
        };
        out.extend(close_with(conn, ErrorCode::HeartbeatTimeout));
        // Before the drop, so that the record it stores says so: the client's answer may come
        // after the object slept.
        if let Some(session) = self.sessions.get_mut(id) {
            session.hung_up = true;
        }
        self.drop_member(id, now, out);
    }

    /// The socket of a connected member that uses the heartbeat and has been silent longer
    /// than the timeout.
    fn silent(&self, now: u64, id: &PeerId, sockets: &dyn Sockets) -> Option<ConnId> {
        let timeout = self.stream.config().heartbeat_timeout_ms;
        let session = self.sessions.get(id).filter(|s| s.away_since.is_none())?;
        if timeout == 0 {
            return None;
        }
        let last = sockets.last_ping(session.conn)?.max(session.last_heard);
        (now.saturating_sub(last) > timeout).then_some(session.conn)
    }

    /// Ends the wait of every away member whose grace period is over.
    fn expire(&mut self, now: u64, out: &mut Vec<Output>) {
        // Every input starts here, so a stream with nobody away must not walk its members.
        if self.away == 0 {
            return;
        }
        let grace = self.stream.config().resume_grace_ms;
        let due: Vec<PeerId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.away_since.is_some_and(|t| now >= t.saturating_add(grace)))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.depart(&id, now, out);
        }
    }
}

impl Session {
    fn new(role: Role, conn: ConnId, since: u64, nonce: Nonce, now: u64, config: &Config) -> Self {
        Self {
            role,
            conn,
            since,
            nonce,
            away_since: None,
            turn: false,
            hung_up: false,
            queue: VecDeque::new(),
            queue_bytes: 0,
            next_seq: 0,
            // A rebuilt member's last frame is not known (it is not stored): its arrival
            // stands in, never the wake-up, or a member that fell silent before the object
            // slept would look alive after every wake-up. The runtime's heartbeat time, kept
            // with the socket, is what counts for members that ping.
            last_heard: since,
            relay_in: TokenBucket::full(config.relay_budget, now),
            relay_out: TokenBucket::full(config.relay_budget, now),
        }
    }

    fn away(mut self, since: Option<u64>) -> Self {
        self.away_since = since;
        self
    }

    fn record(&self, id: &PeerId) -> Record {
        Record {
            id: id.as_str().to_owned(),
            role: self.role.as_str().to_owned(),
            conn: self.conn,
            since: self.since,
            nonce: base64url::encode(self.nonce),
            away_since: self.away_since,
            hung_up: self.hung_up,
            turn: self.turn,
        }
    }
}

impl Engine {
    fn observe(&mut self, id: &PeerId, role: Role, change: Change) {
        self.observed.push(Observed {
            id: id.clone(),
            role,
            change,
        });
    }
}

/// An error frame and a close, both with `code`.
fn close_with(conn: ConnId, code: ErrorCode) -> [Output; 2] {
    [
        Output::Send {
            conn,
            text: error_frame(code, None),
        },
        Output::Close {
            conn,
            code: code.close_code(),
            reason: code.code().to_owned(),
        },
    ]
}

fn constant_time_eq(a: &Nonce, b: &Nonce) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Codes an endpoint may put in a Close frame (RFC 6455 §7.4): 1005, 1006 and 1015 are only
/// ever reported locally, never sent.
fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}
