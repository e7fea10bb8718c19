//! Server-to-client frames, in rtclite's wire format.

use crate::{ErrorCode, MsgId};

/// A client may send this exact text frame at any time; the runtime answers [`HEARTBEAT_PONG`]
/// itself, without waking the stream's Durable Object, so a client can check its connection
/// as often as it likes at no cost to the stream. It is not JSON, so it cannot be mistaken for
/// a protocol frame (rtclite clients never send it).
pub const HEARTBEAT_PING: &str = "ping";

/// The runtime's answer to [`HEARTBEAT_PING`].
pub const HEARTBEAT_PONG: &str = "pong";

/// The `type` of an `EVENT` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// First frame on every connection: the connection's own id.
    Created,
    /// To the publisher: a subscriber is present.
    Subscribed,
    /// To the publisher: a subscriber left (or a NOTIFY target does not exist).
    Unsubscribed,
    /// To a subscriber: the publisher is present.
    Published,
    /// To a subscriber: the publisher left (or a NOTIFY target does not exist).
    Unpublished,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Subscribed => "subscribed",
            EventKind::Unsubscribed => "unsubscribed",
            EventKind::Published => "published",
            EventKind::Unpublished => "unpublished",
        }
    }
}

/// `{"method":"EVENT","data":{"type":KIND,"id":ID}}`.
pub fn event_frame(kind: EventKind, id: &str) -> String {
    // Written piece by piece: a publisher's arrival writes one per subscriber.
    let mut out = String::with_capacity(48 + id.len());
    out.push_str(r#"{"method":"EVENT","data":{"type":""#);
    out.push_str(kind.as_str());
    out.push_str(r#"","id":"#);
    push_json_string(&mut out, id);
    out.push_str("}}");
    out
}

/// The first frame of a connection when resume is on:
/// `{"method":"EVENT","data":{"type":"created","id":ID,"resumed":true,"resume":VALUE}}`, with
/// `resumed` only when the connection took over an existing member.
pub fn created_frame(id: &str, resume: &str, resumed: bool) -> String {
    let mut out = String::with_capacity(96 + id.len() + resume.len());
    out.push_str(r#"{"method":"EVENT","data":{"type":"created","id":"#);
    push_json_string(&mut out, id);
    if resumed {
        out.push_str(r#","resumed":true"#);
    }
    out.push_str(r#","resume":"#);
    push_json_string(&mut out, resume);
    out.push_str("}}");
    out
}

/// `{"code":"failed","reason":"<code>: <sentence>"}`, with `msg_id` echoed when given.
pub fn error_frame(code: ErrorCode, msg_id: Option<&MsgId>) -> String {
    let reason = json_string(&code.reason());
    match msg_id {
        Some(id) => format!(r#"{{"msg_id":{id},"code":"failed","reason":{reason}}}"#),
        None => format!(r#"{{"code":"failed","reason":{reason}}}"#),
    }
}

/// The answer to `GET /peerconnection`: `{"msg_id":N,"code":"success","result":{"configuration":
/// {"iceServers":[...]}}}`, plus `"ttl"` (seconds) in `result` when minted credentials expire,
/// so clients know when to ask again. `ice_servers` is already a JSON array.
pub fn peerconnection_frame(msg_id: Option<&MsgId>, ice_servers: &str, ttl: Option<u64>) -> String {
    let result = match ttl {
        Some(ttl) => format!(r#"{{"configuration":{{"iceServers":{ice_servers}}},"ttl":{ttl}}}"#),
        None => format!(r#"{{"configuration":{{"iceServers":{ice_servers}}}}}"#),
    };
    success_frame(msg_id, &result)
}

/// `{"msg_id":N,"code":"success","result":RESULT}`; `result` is already JSON.
fn success_frame(msg_id: Option<&MsgId>, result: &str) -> String {
    match msg_id {
        Some(id) => format!(r#"{{"msg_id":{id},"code":"success","result":{result}}}"#),
        None => format!(r#"{{"code":"success","result":{result}}}"#),
    }
}

/// Appends `s` as a JSON string: as is between quotes when nothing in it needs escaping (ids
/// and ordinary keys), through serde_json otherwise.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&json_string(s));
    }
}

/// A string as a JSON literal. Serializing a `str` cannot fail; the fallback keeps that
/// promise without a panic path.
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}
