//! A reference model of the protocol and a checker that drives the real core beside it.
//!
//! Shared by the property test (`core/tests/model.rs`) and the `stream` fuzz target
//! (`fuzz/fuzz_targets/stream.rs`), so both check the same invariants (listed in
//! docs/PROTOCOL.md, "Invariants"). Every client keeps only what it learnt from the frames it
//! received; after every operation its view must equal the model's truth.
//!
//! The checker reports a violation as an `Err` with a sentence instead of panicking, so a
//! caller decides how to fail.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{json, Value};
use streams_core::{resolve, Config, Effect, ErrorCode, Mode, MsgId, PeerId, Role, Stream};

/// Subscribers per stream in the model: small, so `stream-full` is reached often.
pub const MAX_SUBSCRIBERS: usize = 4;

/// Publish paths of the model's streams: a plain path and two hash paths. Subscribers of a
/// hash stream join on the hash (in upper case, which must fold to the same stream).
pub const PUBLISH_PATHS: [&str; 3] = ["/streams/a", "/sha1/room/1", "/sha256/room/2"];

/// An id no client ever gets.
pub const UNKNOWN_ID: &str = "999999999";

/// Who a `NOTIFY` is addressed to.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// A client by index among all clients ever admitted (live or gone, any stream).
    Client(usize),
    /// The sender itself.
    Own,
    /// An id that was never given out.
    Unknown,
}

/// One runtime event. Client indexes are taken modulo the number of clients ever admitted
/// (nothing happens while there are none), so any index is valid.
#[derive(Clone, Debug)]
pub enum Op {
    Join {
        path: usize,
        publish: bool,
    },
    Notify {
        from: usize,
        to: Target,
        numeric: bool,
        spoof: bool,
        msg_id: bool,
    },
    /// A malformed frame from [`BAD_FRAMES`].
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
    /// The socket closed or errored: the core sees both as `leave`. A gone client leaving again
    /// checks that departures are announced once.
    Leave {
        who: usize,
    },
    /// The object was evicted: rebuild the stream from the members the runtime still holds,
    /// given in a rotated order.
    Restore {
        path: usize,
        rotate: usize,
    },
    /// Any text at all from a client (fuzzing): only the invariants are checked.
    Text {
        from: usize,
        text: String,
    },
}

/// Malformed frames and the error each must get.
pub fn bad_frame(kind: usize) -> (String, ErrorCode, Option<Value>) {
    if kind.is_multiple_of(BAD_FRAME_KINDS) {
        let huge = format!(
            r#"{{"method":"NOTIFY","to":"1","data":"{}"}}"#,
            "x".repeat(streams_core::DEFAULT_MAX_FRAME_BYTES)
        );
        return (huge, ErrorCode::FrameTooLarge, None);
    }
    let frames: [(String, ErrorCode, Option<Value>); BAD_FRAME_KINDS - 1] = [
        ("not json".into(), ErrorCode::InvalidJson, None),
        (String::new(), ErrorCode::InvalidJson, None),
        (
            r#"{"method":"NOTIFY","to":"1"#.into(),
            ErrorCode::InvalidJson,
            None,
        ),
        ("[1,2]".into(), ErrorCode::NotAnObject, None),
        (r#"{"method":"PUT"}"#.into(), ErrorCode::UnknownMethod, None),
        (
            r#"{"method":"NOTIFY","data":{},"msg_id":5}"#.into(),
            ErrorCode::MissingField,
            Some(json!(5)),
        ),
        (
            r#"{"method":"NOTIFY","to":null}"#.into(),
            ErrorCode::MissingField,
            None,
        ),
        (
            r#"{"method":"NOTIFY","to":1.5}"#.into(),
            ErrorCode::InvalidField,
            None,
        ),
        (
            r#"{"method":"NOTIFY","to":{"id":1}}"#.into(),
            ErrorCode::InvalidField,
            None,
        ),
        (r#"{"method":"GET"}"#.into(), ErrorCode::MissingField, None),
        (
            r#"{"method":"GET","resource":7,"msg_id":"m"}"#.into(),
            ErrorCode::InvalidField,
            Some(json!("m")),
        ),
        ("42".into(), ErrorCode::NotAnObject, None),
    ];
    let n = frames.len();
    frames
        .into_iter()
        .nth(kind % BAD_FRAME_KINDS - 1)
        .unwrap_or_else(|| panic!("no bad frame kind {kind} of {n}"))
}

pub const BAD_FRAME_KINDS: usize = 13;

struct Client {
    id: String,
    key: String,
    role: Role,
    live: bool,
    /// Frames received so far.
    frames: usize,
    /// The publisher's view: subscribers it was told of and not told gone.
    subscribers: BTreeSet<String>,
    /// A subscriber's view: the publisher it was told of and not told gone.
    publisher: Option<String>,
}

#[derive(Default, Clone, Debug, PartialEq)]
struct Members {
    publisher: Option<String>,
    subscribers: BTreeSet<String>,
}

/// What the operation being checked may cause, and what it must cause.
enum Expect {
    Join,
    Leave,
    /// Exactly this one relay, to `to`.
    Relay {
        from: usize,
        to: usize,
        body: Value,
    },
    /// Exactly one error frame to `from` with this code and echoed `msg_id`.
    Error {
        from: usize,
        code: ErrorCode,
        msg_id: Option<Value>,
    },
    /// Exactly one departure event about `id` to `from` (NOTIFY to an unreachable id).
    Reply {
        from: usize,
        id: String,
    },
    /// Exactly one ICE configuration request for `from`.
    Ice {
        from: usize,
        msg_id: Option<Value>,
    },
    Nothing,
    /// Free text: relays from `from` to a reachable peer, errors, replies and ICE answers to
    /// `from`, at most one effect.
    Text {
        from: usize,
    },
}

pub struct Model {
    config: Config,
    /// Publish path, subscribe path and stream key of each model path.
    paths: Vec<(String, String, String)>,
    streams: HashMap<String, Stream>,
    truth: HashMap<String, Members>,
    clients: Vec<Client>,
    by_id: HashMap<String, usize>,
    ids_seen: HashSet<String>,
    minted: u64,
    seq: u64,
}

impl Model {
    pub fn new() -> Result<Self, String> {
        let config = Config {
            max_subscribers: MAX_SUBSCRIBERS,
            ..Config::default()
        };
        let mut paths = Vec::new();
        let mut streams = HashMap::new();
        let mut truth = HashMap::new();
        for publish in PUBLISH_PATHS {
            let key =
                resolve(publish, Mode::Publish).map_err(|r| format!("{publish} refused: {r:?}"))?;
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
                return Err(format!(
                    "{publish} publishes to {key} but {subscribe} subscribes to {}",
                    sub_key.as_str()
                ));
            }
            streams.insert(key.clone(), Stream::new(config.clone()));
            truth.insert(key.clone(), Members::default());
            paths.push((publish.to_owned(), subscribe, key));
        }
        Ok(Self {
            config,
            paths,
            streams,
            truth,
            clients: Vec::new(),
            by_id: HashMap::new(),
            ids_seen: HashSet::new(),
            minted: 0,
            seq: 0,
        })
    }

    /// A fresh id: numeric ones (so a numeric `to` can name them) alternate with hex-like ones.
    fn mint(&mut self) -> String {
        self.minted += 1;
        if self.minted.is_multiple_of(2) {
            format!("{}", 1000 + self.minted)
        } else {
            format!("{:024x}", 0xabc0_0000 + self.minted)
        }
    }

    fn pick(&self, index: usize) -> Option<usize> {
        (!self.clients.is_empty()).then(|| index % self.clients.len())
    }

    fn stream_of(&mut self, key: &str) -> Result<&mut Stream, String> {
        self.streams
            .get_mut(key)
            .ok_or_else(|| format!("no stream {key}"))
    }

    /// Applies one operation to the core and the model, then checks every invariant.
    pub fn step(&mut self, op: &Op) -> Result<(), String> {
        match op {
            Op::Join { path, publish } => self.join(*path, *publish)?,
            Op::Notify {
                from,
                to,
                numeric,
                spoof,
                msg_id,
            } => {
                if let Some(from) = self.pick(*from) {
                    self.notify(from, *to, *numeric, *spoof, *msg_id)?;
                }
            }
            Op::Bad { from, kind } => {
                if let Some(from) = self.pick(*from) {
                    let (text, code, msg_id) = bad_frame(*kind);
                    let expect = Expect::Error { from, code, msg_id };
                    self.text(from, &text, expect)?;
                }
            }
            Op::Get { from, known } => {
                if let Some(from) = self.pick(*from) {
                    self.seq += 1;
                    let msg_id = json!(self.seq);
                    let (resource, expect) = if *known {
                        let expect = Expect::Ice {
                            from,
                            msg_id: Some(msg_id.clone()),
                        };
                        ("/peerconnection", expect)
                    } else {
                        let expect = Expect::Error {
                            from,
                            code: ErrorCode::UnknownResource,
                            msg_id: Some(msg_id.clone()),
                        };
                        ("/nothing", expect)
                    };
                    let text = json!({"method": "GET", "resource": resource, "msg_id": msg_id});
                    self.text(from, &text.to_string(), expect)?;
                }
            }
            Op::Binary { from } => {
                if let Some(from) = self.pick(*from) {
                    let client = &self.clients[from];
                    let (id, key) = (PeerId::from(client.id.as_str()), client.key.clone());
                    let expect = self.unless_gone(
                        from,
                        Expect::Error {
                            from,
                            code: ErrorCode::BinaryFrame,
                            msg_id: None,
                        },
                    );
                    let effects = self.stream_of(&key)?.receive_binary(&id);
                    self.deliver(effects, expect)?;
                }
            }
            Op::Leave { who } => {
                if let Some(who) = self.pick(*who) {
                    self.leave(who)?;
                }
            }
            Op::Restore { path, rotate } => self.restore(*path, *rotate)?,
            Op::Text { from, text } => {
                if let Some(from) = self.pick(*from) {
                    self.text(from, text, Expect::Text { from })?;
                }
            }
        }
        self.check()
    }

    /// A gone client's frames reach the core only through a bug in the runtime; the core must
    /// still ignore them.
    fn unless_gone(&self, client: usize, expect: Expect) -> Expect {
        if self.clients[client].live {
            expect
        } else {
            Expect::Nothing
        }
    }

    fn join(&mut self, path: usize, publish: bool) -> Result<(), String> {
        let (publish_path, subscribe_path, key) = self.paths[path % self.paths.len()].clone();
        let (path, mode, role) = if publish {
            (publish_path, Mode::Publish, Role::Publisher)
        } else {
            (subscribe_path, Mode::Subscribe, Role::Subscriber)
        };
        let resolved = resolve(&path, mode).map_err(|r| format!("{path} refused: {r:?}"))?;
        if resolved.as_str() != key {
            return Err(format!("{path} resolved to {}", resolved.as_str()));
        }
        let id = self.mint();
        let members = self.truth.get(&key).cloned().unwrap_or_default();
        let refusal = match role {
            Role::Publisher if members.publisher.is_some() => Some(ErrorCode::PublisherExists),
            Role::Subscriber if members.subscribers.len() >= MAX_SUBSCRIBERS => {
                Some(ErrorCode::StreamFull)
            }
            _ => None,
        };
        let result = self.stream_of(&key)?.join(PeerId::from(id.as_str()), role);
        match (result, refusal) {
            (Err(got), Some(want)) if got.code() == want => Ok(()),
            (Err(got), want) => Err(format!(
                "join {id} as {role:?}: refused {got:?}, want {want:?}"
            )),
            (Ok(_), Some(want)) => Err(format!("join {id} as {role:?} admitted, want {want:?}")),
            (Ok(effects), None) => {
                if !self.ids_seen.insert(id.clone()) {
                    return Err(format!("id {id} reused"));
                }
                let truth = self.truth.entry(key.clone()).or_default();
                match role {
                    Role::Publisher => truth.publisher = Some(id.clone()),
                    Role::Subscriber => {
                        truth.subscribers.insert(id.clone());
                    }
                }
                self.by_id.insert(id.clone(), self.clients.len());
                self.clients.push(Client {
                    id,
                    key,
                    role,
                    live: true,
                    frames: 0,
                    subscribers: BTreeSet::new(),
                    publisher: None,
                });
                self.deliver(effects, Expect::Join)
            }
        }
    }

    fn leave(&mut self, who: usize) -> Result<(), String> {
        let (id, key) = (self.clients[who].id.clone(), self.clients[who].key.clone());
        let was_live = self.clients[who].live;
        self.clients[who].live = false;
        if let Some(truth) = self.truth.get_mut(&key) {
            if truth.publisher.as_deref() == Some(id.as_str()) {
                truth.publisher = None;
            }
            truth.subscribers.remove(&id);
        }
        let effects = self.stream_of(&key)?.leave(&PeerId::from(id.as_str()));
        let expect = if was_live {
            Expect::Leave
        } else {
            Expect::Nothing
        };
        self.deliver(effects, expect)
    }

    fn notify(
        &mut self,
        from: usize,
        to: Target,
        numeric: bool,
        spoof: bool,
        with_msg_id: bool,
    ) -> Result<(), String> {
        let sender = &self.clients[from];
        let to_id = match to {
            Target::Client(i) => self.clients[i % self.clients.len()].id.clone(),
            Target::Own => sender.id.clone(),
            Target::Unknown => UNKNOWN_ID.to_owned(),
        };
        let to_value = match to_id.parse::<u64>() {
            Ok(n) if numeric => json!(n),
            _ => json!(to_id),
        };
        self.seq += 1;
        let mut frame = json!({"method": "NOTIFY", "to": to_value, "data": {"seq": self.seq}});
        if spoof {
            frame["from"] = json!(UNKNOWN_ID);
        }
        if with_msg_id {
            frame["msg_id"] = json!(self.seq);
        }
        let members = self.truth.get(&sender.key).cloned().unwrap_or_default();
        let reachable = match sender.role {
            Role::Publisher => members.subscribers.contains(&to_id),
            Role::Subscriber => members.publisher.as_deref() == Some(to_id.as_str()),
        };
        let expect = if to_id == sender.id {
            Expect::Error {
                from,
                code: ErrorCode::NotifySelf,
                msg_id: frame.get("msg_id").cloned(),
            }
        } else if reachable {
            let mut body = frame.clone();
            if let Value::Object(map) = &mut body {
                map.remove("to");
                map.insert("from".into(), json!(sender.id));
            }
            let to = self.by_id.get(&to_id).copied().unwrap_or(usize::MAX);
            Expect::Relay { from, to, body }
        } else {
            Expect::Reply { from, id: to_id }
        };
        self.text(from, &frame.to_string(), expect)
    }

    fn text(&mut self, from: usize, text: &str, expect: Expect) -> Result<(), String> {
        let expect = self.unless_gone(from, expect);
        let (id, key) = (
            self.clients[from].id.clone(),
            self.clients[from].key.clone(),
        );
        let effects = self
            .stream_of(&key)?
            .receive_text(&PeerId::from(id.as_str()), text);
        self.deliver(effects, expect)
    }

    fn restore(&mut self, path: usize, rotate: usize) -> Result<(), String> {
        let key = self.paths[path % self.paths.len()].2.clone();
        let truth = self.truth.get(&key).cloned().unwrap_or_default();
        let mut members: Vec<(PeerId, Role)> = truth
            .publisher
            .iter()
            .map(|p| (PeerId::from(p.as_str()), Role::Publisher))
            .chain(
                truth
                    .subscribers
                    .iter()
                    .map(|s| (PeerId::from(s.as_str()), Role::Subscriber)),
            )
            .collect();
        if !members.is_empty() {
            let n = rotate % members.len();
            members.rotate_left(n);
        }
        let (stream, rejected) = Stream::restore(self.config.clone(), members);
        if !rejected.is_empty() {
            return Err(format!("restore of {key} rejected {rejected:?}"));
        }
        self.streams.insert(key, stream);
        Ok(())
    }

    /// Hands every effect to its client, checking it against what the operation allows.
    fn deliver(&mut self, effects: Vec<Effect>, expect: Expect) -> Result<(), String> {
        let mut wanted = 0usize;
        for effect in effects {
            match effect {
                Effect::Close { to, code, reason } => {
                    return Err(format!("unexpected close of {to}: {code} {reason}"))
                }
                Effect::SendIceConfiguration { to, msg_id } => {
                    let ok = match &expect {
                        Expect::Ice { from, msg_id: want } => {
                            self.clients[*from].id == to.as_str()
                                && want.as_ref().map(MsgId::from) == msg_id
                        }
                        Expect::Text { from } => self.clients[*from].id == to.as_str(),
                        _ => false,
                    };
                    if !ok {
                        return Err(format!("unexpected ICE request for {to} ({msg_id:?})"));
                    }
                    wanted += 1;
                }
                Effect::Send { to, text } | Effect::Relay { to, text } => {
                    if self.receive(to.as_str(), &text, &expect)? {
                        wanted += 1;
                    }
                }
            }
        }
        let want = match expect {
            Expect::Join | Expect::Leave | Expect::Nothing => 0,
            Expect::Text { .. } => wanted.min(1),
            _ => 1,
        };
        if wanted != want {
            return Err(format!("{wanted} answers to one operation, want {want}"));
        }
        Ok(())
    }

    /// One frame to one client. Returns whether it was the operation's single answer.
    fn receive(&mut self, to: &str, text: &str, expect: &Expect) -> Result<bool, String> {
        let Some(&index) = self.by_id.get(to) else {
            return Err(format!("frame to unknown id {to}: {text}"));
        };
        let frame: Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON to {to}: {e}: {text}"))?;
        let client = &self.clients[index];
        if !client.live {
            return Err(format!("frame to {to} after it left: {text}"));
        }
        let first = client.frames == 0;
        let is_created = frame["method"] == "EVENT" && frame["data"]["type"] == "created";
        if first != is_created {
            return Err(format!("{to}'s frame #{}: {text}", client.frames + 1));
        }
        self.clients[index].frames += 1;
        let sender = match expect {
            Expect::Relay { from, .. }
            | Expect::Error { from, .. }
            | Expect::Reply { from, .. }
            | Expect::Ice { from, .. }
            | Expect::Text { from } => Some(*from),
            _ => None,
        };

        if frame["method"] == "EVENT" {
            let kind = frame["data"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let Some(id) = frame["data"]["id"].as_str().map(str::to_owned) else {
                return Err(format!("event without a string id to {to}: {text}"));
            };
            return self.event(index, &kind, &id, expect, sender == Some(index));
        }
        if frame["code"] == "failed" {
            if sender != Some(index) {
                return Err(format!("error frame to {to}, not the sender: {text}"));
            }
            let reason = frame["reason"].as_str().unwrap_or_default();
            let code = reason.split_once(": ").map(|(c, _)| c).unwrap_or_default();
            return match expect {
                Expect::Error {
                    code: want, msg_id, ..
                } if code == want.code() && frame.get("msg_id") == msg_id.as_ref() => Ok(true),
                Expect::Text { .. } if !code.is_empty() => Ok(true),
                _ => Err(format!("unexpected error frame to {to}: {text}")),
            };
        }
        match expect {
            Expect::Relay {
                from,
                to: target,
                body,
            } if *target == index => {
                if frame != *body {
                    return Err(format!("relay to {to} is {frame}, want {body}"));
                }
                let _ = from;
                Ok(true)
            }
            Expect::Text { from } => {
                let sender = &self.clients[*from];
                let client = &self.clients[index];
                let reachable = client.key == sender.key && client.role != sender.role;
                if frame["from"] != json!(sender.id) || !reachable {
                    return Err(format!("relay to {to} from {}: {text}", sender.id));
                }
                Ok(true)
            }
            _ => Err(format!("unexpected frame to {to}: {text}")),
        }
    }

    fn event(
        &mut self,
        index: usize,
        kind: &str,
        id: &str,
        expect: &Expect,
        to_sender: bool,
    ) -> Result<bool, String> {
        let truth = self
            .truth
            .get(&self.clients[index].key)
            .cloned()
            .unwrap_or_default();
        let is_reply = match expect {
            Expect::Reply { id: want, .. } => to_sender && want == id,
            Expect::Text { .. } => to_sender,
            _ => false,
        };
        let live = |id: &str| self.by_id.get(id).is_some_and(|&i| self.clients[i].live);
        let client = &self.clients[index];
        let client_id = client.id.clone();
        let bad = |why: &str| Err(format!("{kind} {id} to {client_id} ({why})"));
        match (kind, client.role) {
            ("created", _) if id == client_id && matches!(expect, Expect::Join) => Ok(false),
            ("subscribed", Role::Publisher) => {
                if !truth.subscribers.contains(id) {
                    return bad("not a live subscriber");
                }
                if !self.clients[index].subscribers.insert(id.to_owned()) {
                    return bad("announced twice");
                }
                Ok(false)
            }
            ("published", Role::Subscriber) => {
                if truth.publisher.as_deref() != Some(id) {
                    return bad("not the live publisher");
                }
                if self.clients[index].publisher.is_some() {
                    return bad("a publisher was already announced");
                }
                self.clients[index].publisher = Some(id.to_owned());
                Ok(false)
            }
            ("unsubscribed", Role::Publisher) => {
                if self.clients[index].subscribers.contains(id) {
                    if live(id) {
                        return bad("still live");
                    }
                    self.clients[index].subscribers.remove(id);
                    Ok(false)
                } else if is_reply {
                    Ok(true)
                } else {
                    bad("never announced, or already gone")
                }
            }
            ("unpublished", Role::Subscriber) => {
                if self.clients[index].publisher.as_deref() == Some(id) {
                    if live(id) {
                        return bad("still live");
                    }
                    self.clients[index].publisher = None;
                    Ok(false)
                } else if is_reply {
                    Ok(true)
                } else {
                    bad("never announced, or already gone")
                }
            }
            _ => bad("wrong event for this client"),
        }
    }

    /// The invariants that hold between operations.
    fn check(&self) -> Result<(), String> {
        for (key, truth) in &self.truth {
            let stream = self
                .streams
                .get(key)
                .ok_or_else(|| format!("no stream {key}"))?;
            let publisher = stream.publisher().map(|p| p.as_str().to_owned());
            let subscribers: BTreeSet<String> = stream
                .subscribers()
                .map(|s| s.as_str().to_owned())
                .collect();
            if publisher != truth.publisher || subscribers != truth.subscribers {
                return Err(format!(
                    "{key}: core has {publisher:?} {subscribers:?}, model {truth:?}"
                ));
            }
            if truth.subscribers.len() > MAX_SUBSCRIBERS {
                return Err(format!("{key}: over the subscriber limit"));
            }
        }
        for client in self.clients.iter().filter(|c| c.live) {
            let truth = self.truth.get(&client.key).cloned().unwrap_or_default();
            if client.frames == 0 {
                return Err(format!("{} never got created", client.id));
            }
            match client.role {
                Role::Publisher if client.subscribers != truth.subscribers => {
                    return Err(format!(
                        "publisher {} sees {:?}, truth {:?}",
                        client.id, client.subscribers, truth.subscribers
                    ))
                }
                Role::Subscriber if client.publisher != truth.publisher => {
                    return Err(format!(
                        "subscriber {} sees {:?}, truth {:?}",
                        client.id, client.publisher, truth.publisher
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn clients(&self) -> usize {
        self.clients.len()
    }
}

/// Runs a whole sequence from a fresh model; the error names the failing step.
pub fn run(ops: &[Op]) -> Result<(), String> {
    let mut model = Model::new()?;
    for (n, op) in ops.iter().enumerate() {
        model
            .step(op)
            .map_err(|e| format!("step {n} {op:?}: {e}"))?;
    }
    Ok(())
}

/// Reads any bytes as a sequence of operations (for the fuzzer): every input is some sequence.
pub fn ops_from_bytes(bytes: &[u8]) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut rest = bytes;
    while let [tag, a, b, tail @ ..] = rest {
        rest = tail;
        let (a, b) = (usize::from(*a), usize::from(*b));
        let op = match tag % 8 {
            0 | 1 => Op::Join {
                path: a,
                publish: b % 3 == 0,
            },
            2 => Op::Notify {
                from: a,
                to: match b % 8 {
                    6 => Target::Own,
                    7 => Target::Unknown,
                    n => Target::Client(n + (b >> 3)),
                },
                numeric: tag & 0x10 != 0,
                spoof: tag & 0x20 != 0,
                msg_id: tag & 0x40 != 0,
            },
            3 => Op::Bad { from: a, kind: b },
            4 if tag & 0x10 != 0 => Op::Get {
                from: a,
                known: b % 2 == 0,
            },
            4 => Op::Binary { from: a },
            5 => Op::Leave { who: a },
            6 => Op::Restore { path: a, rotate: b },
            _ => {
                let len = b.min(rest.len());
                let (text, tail) = rest.split_at(len);
                rest = tail;
                Op::Text {
                    from: a,
                    text: String::from_utf8_lossy(text).into_owned(),
                }
            }
        };
        ops.push(op);
    }
    ops
}
