//! What an engine call meant, for the operator: who joined, resumed, went away or left, and how
//! much was relayed. The engine's [`Output`](crate::Output)s say what the runtime must do; these
//! say what happened, so that logs and metrics are told by the engine rather than guessed from
//! its outputs. Nothing here changes the protocol: the adapter reads them after each call.

use crate::{PeerId, Role};

/// A change of membership during one engine call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub id: PeerId,
    pub role: Role,
    pub change: Change,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A fresh member (a new id) joined.
    Joined,
    /// An away member took its place back on a new socket; `queued` frames were delivered.
    Resumed { queued: usize },
    /// The member's socket was lost: it stays a member for its grace period.
    Away,
    /// The member left the stream; its departure was announced. `was_away`: it left while away
    /// (its grace period ended, its queue overflowed, or its last socket said goodbye).
    Left { was_away: bool },
}

/// Relayed `NOTIFY` frames (delivered or queued for an away member) and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relayed {
    pub frames: u64,
    pub bytes: u64,
}

impl Relayed {
    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }
}
