//! Parsing client frames.
//!
//! A relayed frame is mostly payload (SDP, candidates) that the server never looks inside, so
//! an object's values are kept as raw JSON text: only `method`, `to`, `resource` and `msg_id`
//! are decoded, and relaying writes the other values back out unchanged.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::message::push_json_string;
use crate::ErrorCode;

/// A JSON object's members in the order they came, borrowed from the frame: keys decoded (a
/// copy only when they hold escapes), values still JSON text. Nothing of the payload is copied
/// until the relayed frame is written. As in `serde_json::Value`, a repeated key means its last
/// value.
#[derive(Clone, Debug, Default)]
pub struct RawObject<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> RawObject<'a> {
    /// The value of `key` (its last occurrence).
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    /// Removes every occurrence of `key`, returning the value that counted (the last).
    fn remove(&mut self, key: &str) -> Option<&'a RawValue> {
        let found = self.get(key);
        if found.is_some() {
            self.members.retain(|(k, _)| k != key);
        }
        found
    }

    /// Members in order, each key once (at its last occurrence).
    fn unique(&self) -> impl Iterator<Item = (&str, &'a RawValue)> + '_ {
        // Repeats are rare. A flag per member, not a set: a set type costs the Wasm kilobytes.
        let members = &self.members;
        let mut repeated = vec![false; members.len()];
        if members.len() <= 8 {
            for (i, (key, _)) in members.iter().enumerate() {
                let later = members.iter().skip(i + 1).any(|(k, _)| k == key);
                if let (true, Some(r)) = (later, repeated.get_mut(i)) {
                    *r = true;
                }
            }
        } else {
            // Sorted by key and then position: of equal keys, all but the last are repeats.
            let mut order: Vec<(&str, usize)> = members
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.as_ref(), i))
                .collect();
            order.sort_unstable();
            for pair in order.windows(2) {
                if let [(a, i), (b, _)] = pair {
                    if let (true, Some(r)) = (a == b, repeated.get_mut(*i)) {
                        *r = true;
                    }
                }
            }
        }
        members
            .iter()
            .zip(repeated)
            .filter(|(_, repeated)| !repeated)
            .map(|((k, v), _)| (k.as_ref(), *v))
    }
}

impl<'de> Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(4).min(16));
                while let Some((Key(key), value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    members.push((key, value));
                }
                Ok(RawObject { members })
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// An object key, borrowed from the frame unless it had escapes to decode.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A request's `msg_id`, kept as the JSON text the client sent so that answers echo it exactly:
/// a number beyond what a float holds, `-0`, or a string with a lone surrogate escape all come
/// back as given, not rounded, normalized or replaced by `null`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgId(String);

impl MsgId {
    /// The value exactly as the client wrote it (valid JSON, checked when the frame was parsed).
    pub fn as_json(&self) -> &str {
        &self.0
    }

    fn from_raw(raw: &RawValue) -> Self {
        Self(raw.get().to_owned())
    }
}

/// A value the server itself writes (tests, and frames built from parsed values).
impl From<&Value> for MsgId {
    fn from(value: &Value) -> Self {
        Self(value.to_string())
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A well-formed client frame, borrowing from the text it was parsed from.
#[derive(Clone, Debug)]
pub enum Frame<'a> {
    /// `{"method":"NOTIFY","to":ID,...}`: relay the rest of the object to `to`.
    Notify {
        /// The target id; a numeric `to` is taken as its decimal string.
        to: String,
        /// The frame without `to`, ready to be relayed once `from` is set.
        body: RawObject<'a>,
    },
    /// `{"method":"GET","resource":...,"msg_id":N}`: a request the server answers itself.
    Get {
        resource: String,
        msg_id: Option<MsgId>,
    },
}

/// Why a frame was rejected, with the `msg_id` to echo when the frame had one.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameError {
    pub code: ErrorCode,
    pub msg_id: Option<MsgId>,
}

impl FrameError {
    fn new(code: ErrorCode, msg_id: Option<MsgId>) -> Self {
        Self { code, msg_id }
    }
}

impl From<ErrorCode> for FrameError {
    fn from(code: ErrorCode) -> Self {
        Self { code, msg_id: None }
    }
}

/// Parses one text frame. Never panics, whatever the input.
pub fn parse_frame(text: &str, max_bytes: usize) -> Result<Frame<'_>, FrameError> {
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
    let msg_id = object.get("msg_id").map(MsgId::from_raw);
    let fail = |code| FrameError::new(code, msg_id.clone());
    let method = object.get("method").map(decode);
    match method.as_ref().and_then(Value::as_str) {
        Some("NOTIFY") => {
            let to = match object.remove("to").map(decode) {
                None | Some(Value::Null) => return Err(fail(ErrorCode::MissingField)),
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
                Some(_) => return Err(fail(ErrorCode::InvalidField)),
            };
            Ok(Frame::Notify { to, body: object })
        }
        Some("GET") => match object.get("resource").map(decode) {
            None | Some(Value::Null) => Err(fail(ErrorCode::MissingField)),
            Some(Value::String(resource)) => Ok(Frame::Get { resource, msg_id }),
            Some(_) => Err(fail(ErrorCode::InvalidField)),
        },
        _ => Err(fail(ErrorCode::UnknownMethod)),
    }
}

/// The frame's `msg_id`, for echoing in an error.
pub(crate) fn msg_id(body: &RawObject) -> Option<MsgId> {
    body.get("msg_id").map(MsgId::from_raw)
}

/// Writes `body` back out as a JSON object with `from` set to the sender, overwriting any
/// `from` the client put there.
pub(crate) fn relay_text(body: &RawObject, from: &str) -> String {
    let payload: usize = body
        .members
        .iter()
        .map(|(k, v)| k.len() + v.get().len() + 4)
        .sum();
    let mut out = String::with_capacity(payload + from.len() + 16);
    out.push('{');
    for (key, value) in body.unique().filter(|(k, _)| *k != "from") {
        push_json_string(&mut out, key);
        out.push(':');
        out.push_str(value.get());
        out.push(',');
    }
    out.push_str("\"from\":");
    push_json_string(&mut out, from);
    out.push('}');
    out
}

/// A value already checked to be JSON: decoding it cannot fail, but a null stands in rather
/// than a panic path.
fn decode(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relayed(text: &str) -> String {
        match parse_frame(text, 1 << 16) {
            Ok(Frame::Notify { body, .. }) => relay_text(&body, "me"),
            other => panic!("not a NOTIFY: {other:?}"),
        }
    }

    #[test]
    fn msg_id_is_kept_as_written_even_when_it_does_not_decode() {
        for id in [
            "1e400",
            "123456789012345678901234567890",
            "-0",
            r#""\ud800""#,
            r#"{"a" : [1, 2]}"#,
        ] {
            let text = format!(r#"{{"method":"GET","resource":"/x","msg_id":{id}}}"#);
            match parse_frame(&text, 1 << 16) {
                Ok(Frame::Get { msg_id, .. }) => {
                    assert_eq!(msg_id.as_ref().map(MsgId::as_json), Some(id))
                }
                other => panic!("not a GET: {other:?}"),
            }
            let text = format!(r#"{{"method":"NOPE","msg_id":{id}}}"#);
            let error = parse_frame(&text, 1 << 16).unwrap_err();
            assert_eq!(error.msg_id.as_ref().map(MsgId::as_json), Some(id));
        }
    }

    #[test]
    fn a_repeated_key_is_relayed_once_with_its_last_value() {
        assert_eq!(
            relayed(r#"{"method":"NOTIFY","to":"a","data":1,"x":true,"data":2,"to":"b"}"#),
            r#"{"method":"NOTIFY","x":true,"data":2,"from":"me"}"#
        );
        // The last `to` counts, as for any key.
        assert!(matches!(
            parse_frame(r#"{"method":"NOTIFY","to":"a","to":"b"}"#, 100),
            Ok(Frame::Notify { to, .. }) if to == "b"
        ));
    }

    #[test]
    fn many_repeated_keys_keep_the_last_of_each() {
        let mut text = String::from(r#"{"method":"NOTIFY","to":"a""#);
        for i in 0..40 {
            text.push_str(&format!(r#","k{}":{i}"#, i % 10));
        }
        text.push('}');
        let out: Value = serde_json::from_str(&relayed(&text)).unwrap();
        let object = out.as_object().unwrap();
        assert_eq!(object.len(), 12, "method, from and k0..k9: {out}");
        assert_eq!(object["k3"], 33);
        assert_eq!(relayed(&text).matches("\"k3\"").count(), 1);
    }

    #[test]
    fn members_keep_their_order_and_escaped_keys_are_written_escaped() {
        assert_eq!(
            relayed(r#"{"z":0,"method":"NOTIFY","a\"b\u0001":[1],"to":"x","m":{"k":"v"}}"#),
            r#"{"z":0,"method":"NOTIFY","a\"b\u0001":[1],"m":{"k":"v"},"from":"me"}"#
        );
    }
}
