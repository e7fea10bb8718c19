//! Who a connection is: its id and its role in the stream.

use std::fmt;

/// A connection's id, unique within its stream and never reused while the stream lives.
///
/// The adapter mints ids from a cryptographic random source, so no client can guess another's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(String);

impl PeerId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for PeerId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

/// The part a connection plays in its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Publisher,
    Subscriber,
}

impl Role {
    /// A short stable name, used in socket tags and attachments.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Publisher => "pub",
            Role::Subscriber => "sub",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        match s {
            "pub" => Some(Role::Publisher),
            "sub" => Some(Role::Subscriber),
            _ => None,
        }
    }
}
