//! Parsing client frames.
//!
//! A relayed frame is mostly payload (SDP, candidates) that the server never looks inside, so
//! an object's values are kept as raw JSON text: only `method`, `to`, `resource` and `msg_id`
//! are decoded, and relaying writes the other values back out unchanged.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::ErrorCode;

/// A JSON object whose values are still JSON text.
pub type RawObject = BTreeMap<String, Box<RawValue>>;

/// A well-formed client frame.
#[derive(Clone, Debug)]
pub enum Frame {
    /// `{"method":"NOTIFY","to":ID,...}`: relay the rest of the object to `to`.
    Notify {
        /// The target id; a numeric `to` is taken as its decimal string.
        to: String,
        /// The frame without `to`, ready to be relayed once `from` is set.
        body: RawObject,
    },
    /// `{"method":"GET","resource":...,"msg_id":N}`: a request the server answers itself.
    Get {
        resource: String,
        msg_id: Option<Value>,
    },
}

/// Why a frame was rejected, with the `msg_id` to echo when the frame had one.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameError {
    pub code: ErrorCode,
    pub msg_id: Option<Value>,
}

impl FrameError {
    fn new(code: ErrorCode, msg_id: Option<Value>) -> Self {
        Self { code, msg_id }
    }
}

impl From<ErrorCode> for FrameError {
    fn from(code: ErrorCode) -> Self {
        Self { code, msg_id: None }
    }
}

/// Parses one text frame. Never panics, whatever the input.
pub fn parse_frame(text: &str, max_bytes: usize) -> Result<Frame, FrameError> {
    if text.len() > max_bytes {
        return Err(ErrorCode::FrameTooLarge.into());
    }
    let mut object: RawObject = match serde_json::from_str(text) {
        Ok(object) => object,
        // Only on errors is the frame parsed again, to tell bad JSON from a non-object.
        Err(_) => {
            return Err(match serde_json::from_str::<Value>(text) {
                Ok(_) => ErrorCode::NotAnObject.into(),
                Err(_) => ErrorCode::InvalidJson.into(),
            })
        }
    };
    let msg_id = object.get("msg_id").map(|raw| decode(raw));
    let fail = |code| FrameError::new(code, msg_id.clone());
    let method = object.get("method").map(|raw| decode(raw));
    match method.as_ref().and_then(Value::as_str) {
        Some("NOTIFY") => {
            let to = match object.remove("to").map(|raw| decode(&raw)) {
                None | Some(Value::Null) => return Err(fail(ErrorCode::MissingField)),
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
                Some(_) => return Err(fail(ErrorCode::InvalidField)),
            };
            Ok(Frame::Notify { to, body: object })
        }
        Some("GET") => match object.get("resource").map(|raw| decode(raw)) {
            None | Some(Value::Null) => Err(fail(ErrorCode::MissingField)),
            Some(Value::String(resource)) => Ok(Frame::Get { resource, msg_id }),
            Some(_) => Err(fail(ErrorCode::InvalidField)),
        },
        _ => Err(fail(ErrorCode::UnknownMethod)),
    }
}

/// The frame's `msg_id`, decoded, for echoing in an error.
pub(crate) fn msg_id(body: &RawObject) -> Option<Value> {
    body.get("msg_id").map(|raw| decode(raw))
}

/// Writes `body` back out as a JSON object with `from` set to the sender, overwriting any
/// `from` the client put there.
pub(crate) fn relay_text(body: &RawObject, from: &str) -> String {
    let payload: usize = body.iter().map(|(k, v)| k.len() + v.get().len() + 4).sum();
    let mut out = String::with_capacity(payload + from.len() + 16);
    out.push('{');
    for (key, value) in body.iter().filter(|(k, _)| k.as_str() != "from") {
        out.push_str(&json_string(key));
        out.push(':');
        out.push_str(value.get());
        out.push(',');
    }
    out.push_str("\"from\":");
    out.push_str(&json_string(from));
    out.push('}');
    out
}

/// A value already checked to be JSON: decoding it cannot fail, but a null stands in rather
/// than a panic path.
fn decode(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}
