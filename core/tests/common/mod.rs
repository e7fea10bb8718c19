//! In-process harnesses: one `Stream` with a mailbox per peer (here), and one `Engine` with its
//! runtime emulated (`sim`). No network.
#![allow(dead_code)]
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

pub mod sim;

use std::collections::HashMap;

use serde_json::Value;
use streams_core::{Config, Effect, PeerId, Refusal, Role, Stream};

/// What a peer received, in order.
#[derive(Debug, PartialEq)]
pub enum Received {
    Frame(Value),
    Closed { code: u16, reason: String },
    IceAsk { msg_id: Option<Value> },
}

pub struct Harness {
    pub stream: Stream,
    inbox: HashMap<String, Vec<Received>>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl Harness {
    pub fn new(config: Config) -> Self {
        Self {
            stream: Stream::new(config),
            inbox: HashMap::new(),
        }
    }

    pub fn restore(config: Config, members: &[(&str, Role)]) -> Self {
        let (stream, rejected) = Stream::restore(
            config,
            members.iter().map(|(id, role)| (PeerId::from(*id), *role)),
        );
        assert!(
            rejected.is_empty(),
            "unexpected rejected members {rejected:?}"
        );
        Self {
            stream,
            inbox: HashMap::new(),
        }
    }

    pub fn deliver(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send { to, text } | Effect::Relay { to, text } => {
                    let frame: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("server sent invalid JSON {text:?}: {e}"));
                    self.push(to, Received::Frame(frame));
                }
                Effect::Close { to, code, reason } => {
                    self.push(to, Received::Closed { code, reason })
                }
                Effect::SendIceConfiguration { to, msg_id } => {
                    // Tests write msg_ids with serde_json, so the echoed text decodes to the same value.
                    let msg_id = msg_id.map(|m| serde_json::from_str(m.as_json()).unwrap());
                    self.push(to, Received::IceAsk { msg_id })
                }
            }
        }
    }

    fn push(&mut self, to: PeerId, item: Received) {
        self.inbox
            .entry(to.as_str().to_owned())
            .or_default()
            .push(item);
    }

    /// Joins and returns what the newcomer received.
    pub fn join(&mut self, id: &str, role: Role) -> Vec<Value> {
        let effects = self
            .stream
            .join(PeerId::from(id), role)
            .unwrap_or_else(|r| panic!("{id} refused: {r:?}"));
        self.deliver(effects);
        self.take(id)
    }

    pub fn try_join(&mut self, id: &str, role: Role) -> Result<(), Refusal> {
        let effects = self.stream.join(PeerId::from(id), role)?;
        self.deliver(effects);
        Ok(())
    }

    pub fn leave(&mut self, id: &str) {
        let effects = self.stream.leave(&PeerId::from(id));
        self.deliver(effects);
    }

    pub fn send(&mut self, from: &str, text: &str) {
        let effects = self.stream.receive_text(&PeerId::from(from), text);
        self.deliver(effects);
    }

    pub fn send_json(&mut self, from: &str, frame: Value) {
        self.send(from, &frame.to_string());
    }

    pub fn send_binary(&mut self, from: &str) {
        let effects = self.stream.receive_binary(&PeerId::from(from));
        self.deliver(effects);
    }

    /// Everything `id` received since the last take, as frames (panics on a close).
    pub fn take(&mut self, id: &str) -> Vec<Value> {
        self.take_all(id)
            .into_iter()
            .map(|r| match r {
                Received::Frame(f) => f,
                other => panic!("{id} got {other:?}, expected a frame"),
            })
            .collect()
    }

    pub fn take_all(&mut self, id: &str) -> Vec<Received> {
        self.inbox.remove(id).unwrap_or_default()
    }

    /// Asserts that nobody has anything unread.
    pub fn assert_all_quiet(&self) {
        let noisy: Vec<_> = self.inbox.iter().filter(|(_, v)| !v.is_empty()).collect();
        assert!(noisy.is_empty(), "unexpected frames: {noisy:?}");
    }
}

pub fn event(kind: &str, id: &str) -> Value {
    serde_json::json!({"method": "EVENT", "data": {"type": kind, "id": id}})
}

/// The machine code of an error frame's reason, checking the frame's shape on the way.
pub fn error_code(frame: &Value) -> String {
    assert_eq!(frame["code"], "failed", "not an error frame: {frame}");
    let reason = frame["reason"].as_str().expect("reason is a string");
    let (code, sentence) = reason
        .split_once(": ")
        .expect("reason is '<code>: <sentence>'");
    assert!(!sentence.is_empty());
    code.to_owned()
}

/// Checks that `GET /peerconnection` was handed to the adapter to answer, with its `msg_id`.
pub fn assert_peerconnection_answer(received: &Received, msg_id: Option<Value>) {
    assert_eq!(received, &Received::IceAsk { msg_id });
}
