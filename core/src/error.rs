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
    /// The stream path is empty, has characters outside the allowed set, or a dot segment.
    InvalidPath,
    /// The stream path is longer than the configured maximum.
    PathTooLong,
    /// The stream path starts with none of the configured prefixes (`ALLOWED_PATHS`).
    PathNotAllowed,
    /// The request's `Origin` is not in `ALLOWED_ORIGINS`.
    OriginNotAllowed,
    /// The request's host is not in `ALLOWED_HOSTS`.
    HostNotAllowed,
    /// The connection needs a token and carried none.
    TokenMissing,
    /// The token is not a well-formed HS256 token with the required claims.
    TokenMalformed,
    /// The token's signature does not match its contents: it was altered or signed with another
    /// secret.
    TokenBadSignature,
    /// The token's expiry time has passed.
    TokenExpired,
    /// The token was issued for another stream path.
    TokenWrongPath,
    /// The token was issued for the other mode.
    TokenWrongMode,
    /// The stream has as many subscribers as it accepts.
    StreamFull,
    /// Too many connections from this client address in a short time.
    ConnectRate,
    /// Too many frames in a short time: this one was dropped.
    RateLimited,
    /// Frames kept arriving faster than the limit: the connection is closed.
    Flooding,
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
    /// A `resume` value that this stream never issued, already used, or for another mode.
    ResumeInvalid,
    /// A `resume` value for a member whose grace period ended (its departure was announced).
    ResumeExpired,
    /// This connection was taken over by a resume of the same member on a new connection.
    Replaced,
    /// The connection used the heartbeat and then fell silent for longer than the timeout.
    HeartbeatTimeout,
    /// A relayed frame passed the byte budget between two members: it is dropped, and a sender
    /// that keeps at it is closed.
    RelayBudget,
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
            ErrorCode::PathTooLong => "path-too-long",
            ErrorCode::PathNotAllowed => "path-not-allowed",
            ErrorCode::OriginNotAllowed => "origin-not-allowed",
            ErrorCode::HostNotAllowed => "host-not-allowed",
            ErrorCode::TokenMissing => "token-missing",
            ErrorCode::TokenMalformed => "token-malformed",
            ErrorCode::TokenBadSignature => "token-bad-signature",
            ErrorCode::TokenExpired => "token-expired",
            ErrorCode::TokenWrongPath => "token-wrong-path",
            ErrorCode::TokenWrongMode => "token-wrong-mode",
            ErrorCode::StreamFull => "stream-full",
            ErrorCode::ConnectRate => "connect-rate",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::Flooding => "flooding",
            ErrorCode::InvalidMode => "invalid-mode",
            ErrorCode::UpgradeRequired => "upgrade-required",
            ErrorCode::MethodNotAllowed => "method-not-allowed",
            ErrorCode::IceUnavailable => "ice-unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::ResumeInvalid => "resume-invalid",
            ErrorCode::ResumeExpired => "resume-expired",
            ErrorCode::Replaced => "replaced",
            ErrorCode::HeartbeatTimeout => "heartbeat-timeout",
            ErrorCode::RelayBudget => "relay-budget",
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
                "the stream path is empty, has characters that are not allowed, or has a . or .. segment"
            }
            ErrorCode::PathTooLong => "the stream path is longer than the server accepts",
            ErrorCode::PathNotAllowed => "this server does not serve streams under this path",
            ErrorCode::OriginNotAllowed => "pages from this origin may not connect",
            ErrorCode::HostNotAllowed => "this host name is not served",
            ErrorCode::TokenMissing => {
                "this connection needs a token: add ?token= or an Authorization: Bearer header"
            }
            ErrorCode::TokenMalformed => "the token is not a well-formed HS256 access token",
            ErrorCode::TokenBadSignature => "the token's signature does not match its contents",
            ErrorCode::TokenExpired => "the token has expired",
            ErrorCode::TokenWrongPath => "the token was issued for another stream path",
            ErrorCode::TokenWrongMode => "the token was issued for the other mode",
            ErrorCode::StreamFull => "this stream has as many subscribers as it accepts",
            ErrorCode::ConnectRate => "too many connections from this address; retry later",
            ErrorCode::RateLimited => "too many frames; this one was dropped, slow down",
            ErrorCode::Flooding => "frames kept arriving faster than the limit; closing",
            ErrorCode::InvalidMode => "add ?mode=publish or ?mode=subscribe to the URL",
            ErrorCode::UpgradeRequired => "stream paths take WebSocket connections only",
            ErrorCode::MethodNotAllowed => "stream paths take GET requests only",
            ErrorCode::IceUnavailable => {
                "the server's ICE configuration is invalid; its log says which variable"
            }
            ErrorCode::Internal => "the server failed to complete the request",
            ErrorCode::ResumeInvalid => {
                "this resume value is not valid here (already used, forged, or for another stream or mode); join afresh"
            }
            ErrorCode::ResumeExpired => {
                "the grace period for this connection has ended; join afresh"
            }
            ErrorCode::Replaced => "this connection was replaced by a newer one of the same member",
            ErrorCode::HeartbeatTimeout => {
                "no heartbeat or frame arrived within the timeout; resume to continue"
            }
            ErrorCode::RelayBudget => {
                "relayed data passed the byte budget between these two members: the frame was dropped (kept up, the connection is closed)"
            }
        }
    }

    /// The HTTP status for a refusal made before any WebSocket exists.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::UpgradeRequired => 426,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PublisherExists => 409,
            ErrorCode::HashPathPublish => 403,
            ErrorCode::PathTooLong => 414,
            ErrorCode::PathNotAllowed | ErrorCode::OriginNotAllowed | ErrorCode::HostNotAllowed => {
                403
            }
            ErrorCode::TokenMissing
            | ErrorCode::TokenMalformed
            | ErrorCode::TokenBadSignature
            | ErrorCode::TokenExpired
            | ErrorCode::TokenWrongPath
            | ErrorCode::TokenWrongMode => 401,
            ErrorCode::StreamFull => 503,
            ErrorCode::ConnectRate
            | ErrorCode::RateLimited
            | ErrorCode::Flooding
            | ErrorCode::RelayBudget => 429,
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
            ErrorCode::PathTooLong => 4005,
            ErrorCode::PathNotAllowed => 4006,
            ErrorCode::OriginNotAllowed => 4007,
            ErrorCode::HostNotAllowed => 4008,
            ErrorCode::TokenMissing => 4010,
            ErrorCode::TokenMalformed => 4011,
            ErrorCode::TokenBadSignature => 4012,
            ErrorCode::TokenExpired => 4013,
            ErrorCode::TokenWrongPath => 4014,
            ErrorCode::TokenWrongMode => 4015,
            ErrorCode::StreamFull => 4020,
            ErrorCode::ConnectRate => 4021,
            ErrorCode::Flooding => 4022,
            ErrorCode::RelayBudget => 4023,
            ErrorCode::ResumeInvalid => 4030,
            ErrorCode::ResumeExpired => 4031,
            ErrorCode::Replaced => 4032,
            ErrorCode::HeartbeatTimeout => 4033,
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
        ErrorCode::PathTooLong,
        ErrorCode::PathNotAllowed,
        ErrorCode::OriginNotAllowed,
        ErrorCode::HostNotAllowed,
        ErrorCode::TokenMissing,
        ErrorCode::TokenMalformed,
        ErrorCode::TokenBadSignature,
        ErrorCode::TokenExpired,
        ErrorCode::TokenWrongPath,
        ErrorCode::TokenWrongMode,
        ErrorCode::StreamFull,
        ErrorCode::ConnectRate,
        ErrorCode::RateLimited,
        ErrorCode::Flooding,
        ErrorCode::InvalidMode,
        ErrorCode::UpgradeRequired,
        ErrorCode::MethodNotAllowed,
        ErrorCode::IceUnavailable,
        ErrorCode::Internal,
        ErrorCode::ResumeInvalid,
        ErrorCode::ResumeExpired,
        ErrorCode::Replaced,
        ErrorCode::HeartbeatTimeout,
        ErrorCode::RelayBudget,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.sentence())
    }
}

impl std::error::Error for ErrorCode {}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const PROTOCOL: &str = include_str!("../../docs/PROTOCOL.md");

    /// Refused with an HTTP status before any socket exists, so they never close one.
    const HTTP_ONLY: &[ErrorCode] = &[
        ErrorCode::InvalidMode,
        ErrorCode::UpgradeRequired,
        ErrorCode::MethodNotAllowed,
    ];

    #[test]
    fn every_code_is_documented_in_the_protocol() {
        for code in ErrorCode::ALL {
            let row = format!("| `{}` |", code.code());
            assert!(PROTOCOL.contains(&row), "docs/PROTOCOL.md has no row {row}");
        }
    }

    #[test]
    fn every_close_code_is_in_the_close_code_table_with_its_reason() {
        let table = PROTOCOL.split("## Close codes").nth(1).unwrap();
        for code in ErrorCode::ALL {
            let close = code.close_code();
            // 4000 is the fallback for frame errors, which never close a connection.
            if close == 4000 || HTTP_ONLY.contains(code) {
                continue;
            }
            let row = format!("| {close} | `{}` |", code.code());
            assert!(table.contains(&row), "close code table has no row {row}");
        }
    }

    #[test]
    fn close_codes_are_distinct_per_reason() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let close = code.close_code();
            if close != 4000 {
                assert!(seen.insert(close), "{close} is used twice");
            }
        }
    }

    #[test]
    fn all_lists_every_code_once() {
        let codes: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
    }
}
