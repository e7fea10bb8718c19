//! What the runtime must do after a core call.

use crate::{ErrorCode, MsgId, PeerId};

/// One action for the adapter to perform, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send this text frame to the connection.
    Send { to: PeerId, text: String },
    /// Send this relayed `NOTIFY` to the connection: like [`Effect::Send`], but it counts
    /// against the byte budget between the two members.
    Relay { to: PeerId, text: String },
    /// Answer `GET /peerconnection`: build the ICE configuration for this connection (which may
    /// mint credentials or ask Cloudflare) and send it with [`crate::peerconnection_frame`].
    SendIceConfiguration { to: PeerId, msg_id: Option<MsgId> },
    /// Close the connection with this code and reason.
    Close {
        to: PeerId,
        code: u16,
        reason: String,
    },
}

/// A connection the stream will not take: the adapter tells the client why and closes it.
///
/// Browsers cannot read the body of a refused WebSocket handshake, so the adapter accepts the
/// socket outside the stream, sends [`Refusal::frame`] and closes with [`Refusal::close_code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal(pub ErrorCode);

impl Refusal {
    pub fn code(self) -> ErrorCode {
        self.0
    }

    /// The error frame to send before closing.
    pub fn frame(self) -> String {
        crate::error_frame(self.0, None)
    }

    pub fn close_code(self) -> u16 {
        self.0.close_code()
    }

    /// The close reason: the machine code alone, as close reasons are limited to 123 bytes.
    pub fn close_reason(self) -> &'static str {
        self.0.code()
    }
}
