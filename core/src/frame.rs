//! Parsing client frames.

use serde_json::{Map, Value};

use crate::ErrorCode;

/// A well-formed client frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// `{"method":"NOTIFY","to":ID,...}`: relay the rest of the object to `to`.
    Notify {
        /// The target id; a numeric `to` is taken as its decimal string.
        to: String,
        /// The frame without `to`, ready to be relayed once `from` is set.
        body: Map<String, Value>,
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
    let value: Value = serde_json::from_str(text).map_err(|_| ErrorCode::InvalidJson)?;
    let Value::Object(mut object) = value else {
        return Err(ErrorCode::NotAnObject.into());
    };
    let msg_id = object.get("msg_id").cloned();
    let fail = |code| FrameError::new(code, msg_id.clone());
    match object.get("method").and_then(Value::as_str) {
        Some("NOTIFY") => {
            let to = match object.remove("to") {
                None | Some(Value::Null) => return Err(fail(ErrorCode::MissingField)),
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
                Some(_) => return Err(fail(ErrorCode::InvalidField)),
            };
            Ok(Frame::Notify { to, body: object })
        }
        Some("GET") => match object.get("resource") {
            None | Some(Value::Null) => Err(fail(ErrorCode::MissingField)),
            Some(Value::String(resource)) => Ok(Frame::Get {
                resource: resource.clone(),
                msg_id,
            }),
            Some(_) => Err(fail(ErrorCode::InvalidField)),
        },
        _ => Err(fail(ErrorCode::UnknownMethod)),
    }
}
