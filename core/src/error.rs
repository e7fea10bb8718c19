//! Every error a client can see, each with a stable machine code and a human sentence.
//!
//! Codes are part of the public protocol (listed in `docs/PROTOCOL.md`): clients match on them,
//! so a code is never renamed; new ones may be added.

use std::fmt;

/// An error reported to a client, either in an error frame or as a refusal.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The frame is not valid JSON.
    InvalidJson,
    /// The frame is JSON but not an object.
    NotAnObject,
    /// A binary frame arrived; the protocol is text only.
    BinaryFrame,
    /// The frame is larger than the configured maximum.
    FrameTooLarge,
    /// `method` is missing or names no method the server knows.
    UnknownMethod,
    /// A field the method needs is missing.
    MissingField,
    /// A field has the wrong type.
    InvalidField,
    /// `GET` named a resource the server does not have.
    UnknownResource,
    /// `NOTIFY` was addressed to the sender itself.
    NotifySelf,
    /// The stream already has a publisher.
    PublisherExists,
    /// Publishing on a `/sha1/<hex>` or `/sha256/<hex>` path: only the plain name may publish.
    HashPathPublish,
    /// The stream path is empty, too long, or has characters outside the allowed set.
    InvalidPath,
    /// `mode` is missing or is neither `publish` nor `subscribe`.
    InvalidMode,
    /// A stream path was requested without a WebSocket upgrade.
    UpgradeRequired,
    /// The request used a method other than GET.
    MethodNotAllowed,
    /// The deployment's ICE variables are invalid, so no ICE configuration can be given.
    IceUnavailable,
    /// The server could not complete the request (a runtime failure, never the client's input).
    Internal,
}

impl ErrorCode {
    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid-json",
            ErrorCode::NotAnObject => "not-an-object",
            ErrorCode::BinaryFrame => "binary-frame",
            ErrorCode::FrameTooLarge => "frame-too-large",
            ErrorCode::UnknownMethod => "unknown-method",
            ErrorCode::MissingField => "missing-field",
            ErrorCode::InvalidField => "invalid-field",
            ErrorCode::UnknownResource => "unknown-resource",
            ErrorCode::NotifySelf => "notify-self",
            ErrorCode::PublisherExists => "publisher-exists",
            ErrorCode::HashPathPublish => "hash-path-publish",
            ErrorCode::InvalidPath => "invalid-path",
            ErrorCode::InvalidMode => "invalid-mode",
            ErrorCode::UpgradeRequired => "upgrade-required",
            ErrorCode::MethodNotAllowed => "method-not-allowed",
            ErrorCode::IceUnavailable => "ice-unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// A sentence for people reading logs or error messages.
    pub fn sentence(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "the frame is not valid JSON",
            ErrorCode::NotAnObject => "the frame must be a JSON object",
            ErrorCode::BinaryFrame => "binary frames are not supported; send JSON text",
            ErrorCode::FrameTooLarge => "the frame is larger than the server accepts",
            ErrorCode::UnknownMethod => "method must be \"NOTIFY\" or \"GET\"",
            ErrorCode::MissingField => "a required field is missing",
            ErrorCode::InvalidField => "a field has the wrong type",
            ErrorCode::UnknownResource => "the only resource is \"/peerconnection\"",
            ErrorCode::NotifySelf => "a client cannot notify itself",
            ErrorCode::PublisherExists => "this stream already has a publisher",
            ErrorCode::HashPathPublish => {
                "publish on the plain path; the hashed path is for subscribers"
            }
            ErrorCode::InvalidPath => {
                "the stream path is empty, too long or has characters that are not allowed"
            }
            ErrorCode::InvalidMode => "add ?mode=publish or ?mode=subscribe to the URL",
            ErrorCode::UpgradeRequired => "stream paths take WebSocket connections only",
            ErrorCode::MethodNotAllowed => "stream paths take GET requests only",
            ErrorCode::IceUnavailable => {
                "the server's ICE configuration is invalid; its log says which variable"
            }
            ErrorCode::Internal => "the server failed to complete the request",
        }
    }

    /// The HTTP status for a refusal made before any WebSocket exists.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::UpgradeRequired => 426,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PublisherExists => 409,
            ErrorCode::HashPathPublish => 403,
            ErrorCode::IceUnavailable | ErrorCode::Internal => 500,
            _ => 400,
        }
    }

    /// The WebSocket close code used when a connection is refused or ended for this reason.
    ///
    /// 4000-4999 is the range RFC 6455 leaves to applications; the table is in the protocol doc.
    pub fn close_code(self) -> u16 {
        match self {
            ErrorCode::PublisherExists => 4001,
            ErrorCode::HashPathPublish => 4002,
            ErrorCode::InvalidPath => 4003,
            ErrorCode::InvalidMode => 4004,
            ErrorCode::Internal => 1011,
            _ => 4000,
        }
    }

    /// `"<code>: <sentence>"`, the `reason` field of an error frame.
    pub fn reason(self) -> String {
        format!("{}: {}", self.code(), self.sentence())
    }

    /// Every code, for documentation checks and exhaustive tests.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidJson,
        ErrorCode::NotAnObject,
        ErrorCode::BinaryFrame,
        ErrorCode::FrameTooLarge,
        ErrorCode::UnknownMethod,
        ErrorCode::MissingField,
        ErrorCode::InvalidField,
        ErrorCode::UnknownResource,
        ErrorCode::NotifySelf,
        ErrorCode::PublisherExists,
        ErrorCode::HashPathPublish,
        ErrorCode::InvalidPath,
        ErrorCode::InvalidMode,
        ErrorCode::UpgradeRequired,
        ErrorCode::MethodNotAllowed,
        ErrorCode::IceUnavailable,
        ErrorCode::Internal,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.sentence())
    }
}

impl std::error::Error for ErrorCode {}
