//! What the engine asks the runtime to remember: one identity per socket (its attachment) and,
//! while resume is on, one record per member and its queued frames (the object's storage).
//!
//! Sockets survive hibernation with their attachments; storage survives restarts and deploys,
//! which close every socket. Together they let the engine rebuild a stream exactly.

use serde::{Deserialize, Serialize};

use crate::{PeerId, Role};

/// A socket, named by the adapter with a random number below 2^53 (so that JavaScript holds it
/// exactly). Ids name members; a member keeps its id across sockets when it resumes.
pub type ConnId = u64;

/// The attachment of a socket: which member it carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: String,
    pub role: String,
    pub conn: ConnId,
    /// When the member first joined (ms since the epoch), kept across resumes.
    #[serde(default)]
    pub since: u64,
    /// Set once the socket no longer carries its member (it departed or was replaced), so a
    /// wake-up never restores it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gone: bool,
    /// The router granted this connection TURN credentials (it passed a real access check);
    /// kept here so that the grant outlives hibernation. Set by the adapter, not the engine.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub turn: bool,
}

impl Identity {
    pub fn new(id: &PeerId, role: Role, conn: ConnId, since: u64) -> Self {
        Self {
            id: id.as_str().to_owned(),
            role: role.as_str().to_owned(),
            conn,
            since,
            gone: false,
            turn: false,
        }
    }

    pub fn peer(&self) -> Option<(PeerId, Role)> {
        Some((
            PeerId::from(self.id.as_str()),
            Role::from_str_opt(&self.role)?,
        ))
    }
}

/// A member as kept in storage while resume is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub role: String,
    /// The socket that carries (or last carried) the member.
    pub conn: ConnId,
    pub since: u64,
    /// The member's current resume nonce, base64url.
    pub nonce: String,
    /// Set while the member is away: when its socket was lost.
    pub away_since: Option<u64>,
    /// The engine closed the member's socket itself (heartbeat timeout): the client's answer to
    /// that close is not a goodbye, even if it arrives after the object slept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hung_up: bool,
    /// Entitled to TURN credentials (kept across resumes, which need no token).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub turn: bool,
}

/// A frame kept for an away member, in order of `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    pub id: String,
    pub seq: u64,
    pub text: String,
}

/// Everything storage holds for a stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub records: Vec<Record>,
    pub queued: Vec<Queued>,
}

/// A socket the runtime still holds when the engine is rebuilt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldSocket {
    pub identity: Identity,
    /// Whether it can still carry frames (a closing socket cannot).
    pub open: bool,
}
