//! Every error a client can see, each with a stable machine code and a human sentence.
//!
//! Codes are part of the public protocol (listed in `docs/PROTOCOL.md`): clients match on them,
//! so a code is never renamed; new ones may be added. The whole table is one list of rows below
//! (variant, code, HTTP status, close code, sentence): adding a code is adding a row, and no
//! lookup can miss it.

use std::fmt;

/// The close code of errors that never close a connection by themselves (frame errors, and
/// refusals answered over HTTP before any socket exists).
pub const GENERIC_CLOSE: u16 = 4000;

/// Declares [`ErrorCode`] and its lookups from one row per code:
/// `/// doc` `Variant = "code", http_status, close_code, "sentence";`
macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, $http:literal, $close:expr, $sentence:expr; )*) => {
        /// An error reported to a client, either in an error frame or as a refusal.
        #[non_exhaustive]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in table order, for documentation checks and exhaustive tests.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The stable machine-readable code.
            pub fn code(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// A sentence for people reading logs or error messages.
            pub fn sentence(self) -> &'static str {
                match self { $( ErrorCode::$variant => $sentence, )* }
            }

            /// The HTTP status for a refusal made before any WebSocket exists.
            pub fn http_status(self) -> u16 {
                match self { $( ErrorCode::$variant => $http, )* }
            }

            /// The WebSocket close code used when a connection is refused or ended for this
            /// reason ([`GENERIC_CLOSE`] for errors that never close one by themselves).
            ///
            /// 4000-4999 is the range RFC 6455 leaves to applications; the table is in the
            /// protocol doc.
            pub fn close_code(self) -> u16 {
                match self { $( ErrorCode::$variant => $close, )* }
            }

            /// The code whose machine name is `code`, if any.
            pub fn from_code(code: &str) -> Option<ErrorCode> {
                match code { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    /// The frame is not valid JSON.
    InvalidJson = "invalid-json", 400, GENERIC_CLOSE, "the frame is not valid JSON";
    /// The frame is JSON but not an object.
    NotAnObject = "not-an-object", 400, GENERIC_CLOSE, "the frame must be a JSON object";
    /// A binary frame arrived; the protocol is text only.
    BinaryFrame = "binary-frame", 400, GENERIC_CLOSE,
        "binary frames are not supported; send JSON text";
    /// The frame is larger than the configured maximum.
    FrameTooLarge = "frame-too-large", 400, GENERIC_CLOSE,
        "the frame is larger than the server accepts";
    /// `method` is missing or names no method the server knows.
    UnknownMethod = "unknown-method", 400, GENERIC_CLOSE, "method must be \"NOTIFY\" or \"GET\"";
    /// A field the method needs is missing.
    MissingField = "missing-field", 400, GENERIC_CLOSE, "a required field is missing";
    /// A field has the wrong type.
    InvalidField = "invalid-field", 400, GENERIC_CLOSE, "a field has the wrong type";
    /// `GET` named a resource the server does not have.
    UnknownResource = "unknown-resource", 400, GENERIC_CLOSE,
        "the only resource is \"/peerconnection\"";
    /// `NOTIFY` was addressed to the sender itself.
    NotifySelf = "notify-self", 400, GENERIC_CLOSE, "a client cannot notify itself";
    /// The stream already has a publisher.
    PublisherExists = "publisher-exists", 409, 4001, "this stream already has a publisher";
    /// Publishing on a `/sha1/<hex>` or `/sha256/<hex>` path: only the plain name may publish.
    HashPathPublish = "hash-path-publish", 403, 4002,
        "publish on the plain path; the hashed path is for subscribers";
    /// The stream path is empty, has characters outside the allowed set, or a dot segment.
    InvalidPath = "invalid-path", 400, 4003,
        "the stream path is empty, has characters that are not allowed, a backslash, or an empty, . or .. segment";
    /// The stream path is longer than the configured maximum.
    PathTooLong = "path-too-long", 414, 4005, "the stream path is longer than the server accepts";
    /// The stream path starts with none of the configured prefixes (`ALLOWED_PATHS`).
    PathNotAllowed = "path-not-allowed", 403, 4006,
        "this server does not serve streams under this path";
    /// The request's `Origin` is not in `ALLOWED_ORIGINS`.
    OriginNotAllowed = "origin-not-allowed", 403, 4007, "pages from this origin may not connect";
    /// The request's host is not in `ALLOWED_HOSTS`.
    HostNotAllowed = "host-not-allowed", 403, 4008, "this host name is not served";
    /// The path starts with `sha1` or `sha256` spelled otherwise than `/sha1/` or `/sha256/`
    /// (another case, or percent-encoded letters): it would look like a hash path to people and
    /// be a plain one to the server.
    HashPrefixVariant = "hash-prefix-variant", 400, 4009,
        "hash paths start with /sha1/ or /sha256/, in lower case and not percent-encoded";
    /// The connection needs a token and carried none.
    TokenMissing = "token-missing", 401, 4010,
        "this connection needs a token: add ?token= or an Authorization: Bearer header";
    /// The token is not a well-formed HS256 token with the required claims.
    TokenMalformed = "token-malformed", 401, 4011,
        "the token is not a well-formed HS256 access token";
    /// The token's signature does not match its contents: it was altered or signed with
    /// another secret.
    TokenBadSignature = "token-bad-signature", 401, 4012,
        "the token's signature does not match its contents";
    /// The token's expiry time has passed.
    TokenExpired = "token-expired", 401, 4013, "the token has expired";
    /// The token was issued for another stream path.
    TokenWrongPath = "token-wrong-path", 401, 4014, "the token was issued for another stream path";
    /// The token was issued for the other mode.
    TokenWrongMode = "token-wrong-mode", 401, 4015, "the token was issued for the other mode";
    /// The stream has as many subscribers as it accepts.
    StreamFull = "stream-full", 503, 4020, "this stream has as many subscribers as it accepts";
    /// Too many connections (or ICE API requests) from this client address in a short time.
    ConnectRate = "connect-rate", 429, 4021, "too many requests from this address; retry later";
    /// Too many frames in a short time: this one was dropped.
    RateLimited = "rate-limited", 429, GENERIC_CLOSE,
        "too many frames; this one was dropped, slow down";
    /// Frames kept arriving faster than the limit: the connection is closed.
    Flooding = "flooding", 429, 4022, "frames kept arriving faster than the limit; closing";
    /// `mode` is missing or is neither `publish` nor `subscribe`.
    InvalidMode = "invalid-mode", 400, GENERIC_CLOSE,
        "add ?mode=publish or ?mode=subscribe to the URL";
    /// A stream path was requested without a WebSocket upgrade.
    UpgradeRequired = "upgrade-required", 426, GENERIC_CLOSE,
        "stream paths take WebSocket connections only";
    /// The request used a method other than GET.
    MethodNotAllowed = "method-not-allowed", 405, GENERIC_CLOSE,
        "stream paths take GET requests only";
    /// A path reserved for the HTTP API or the page's assets that names nothing there: it is
    /// never a stream.
    NotFound = "not-found", 404, GENERIC_CLOSE,
        "nothing here: /api/ and the page's asset folders are not stream paths";
    /// The deployment's ICE variables are invalid, so no ICE configuration can be given.
    IceUnavailable = "ice-unavailable", 500, GENERIC_CLOSE,
        "the server's ICE configuration is invalid; its log says which variable";
    /// The server could not complete the request (a runtime failure, never the client's input).
    Internal = "internal", 500, 1011, "the server failed to complete the request";
    /// A `resume` value that this stream never issued, already used, or for another mode.
    ResumeInvalid = "resume-invalid", 400, 4030,
        "this resume value is not valid here (already used, forged, or for another stream or mode); join afresh";
    /// A `resume` value for a member whose grace period ended (its departure was announced).
    ResumeExpired = "resume-expired", 400, 4031,
        "the grace period for this connection has ended; join afresh";
    /// This connection was taken over by a resume of the same member on a new connection.
    Replaced = "replaced", 400, 4032,
        "this connection was replaced by a newer one of the same member";
    /// The connection used the heartbeat and then fell silent for longer than the timeout.
    HeartbeatTimeout = "heartbeat-timeout", 400, 4033,
        "no heartbeat or frame arrived within the timeout; resume to continue";
    /// A relayed frame passed the byte budget between two members: it is dropped, and a sender
    /// that keeps at it is closed.
    RelayBudget = "relay-budget", 429, 4023,
        "relayed data passed the byte budget between these two members: the frame was dropped (kept up, the connection is closed)";
    /// A watch on a path that is no room: outside `ROOM_PREFIXES`, or a hash path.
    NotARoom = "not-a-room", 400, 4040,
        "this path is no room: rooms are under the prefixes in ROOM_PREFIXES, and never hash paths";
    /// The room has as many watchers as it accepts.
    RoomFull = "room-full", 503, 4041, "this room has as many watchers as it accepts";
    /// A watcher sent a frame other than the heartbeat `ping`.
    WatchOnly = "watch-only", 400, GENERIC_CLOSE,
        "a room watcher sends nothing but \"ping\"";
    /// An SFU route on a deployment without the SFU.
    SfuUnavailable = "sfu-unavailable", 503, GENERIC_CLOSE,
        "this server has no SFU configured (SFU_MODE, REALTIME_APP_ID, REALTIME_APP_SECRET)";
    /// An SFU proxy body that is not the Connection API's documented shape, or an unusable SDP
    /// offer to WHIP or WHEP.
    SfuBadRequest = "sfu-bad-request", 400, GENERIC_CLOSE,
        "the body is not the Realtime SFU Connection API's documented shape, or not a usable SDP offer";
    /// No valid ticket of a current member of the stream (or no such WHIP/WHEP session).
    SfuTicket = "sfu-ticket", 401, GENERIC_CLOSE,
        "this needs the SFU ticket of a current member of the stream (from its sfu event)";
    /// The SFU session belongs to another member.
    SfuNotOwner = "sfu-not-owner", 403, GENERIC_CLOSE,
        "this SFU session belongs to another member";
    /// A push from a member that is not the stream's publisher.
    SfuNotPublisher = "sfu-not-publisher", 403, GENERIC_CLOSE,
        "only the stream's publisher may push tracks";
    /// A pull of a track that the stream's publisher did not push.
    SfuForeignTrack = "sfu-foreign-track", 403, GENERIC_CLOSE,
        "only the tracks this stream's publisher pushed may be pulled, by its subscribers";
    /// Tracks pushed or pulled while the stream is a mesh.
    SfuMesh = "sfu-mesh", 409, GENERIC_CLOSE, "this stream is not using the SFU";
    /// A WHEP request before the publisher pushed any track.
    SfuNotReady = "sfu-not-ready", 503, GENERIC_CLOSE,
        "the stream's publisher has no tracks on the SFU yet; retry shortly";
    /// The Realtime SFU API failed or answered outside its documented shape.
    SfuUpstream = "sfu-upstream", 502, GENERIC_CLOSE,
        "the Realtime SFU did not answer as documented";
    /// A WHIP or WHEP offer without `Content-Type: application/sdp`.
    UnsupportedMediaType = "unsupported-media-type", 415, GENERIC_CLOSE,
        "send the SDP offer as Content-Type: application/sdp";
}

impl ErrorCode {
    /// `"<code>: <sentence>"`, the `reason` field of an error frame.
    pub fn reason(self) -> String {
        format!("{}: {}", self.code(), self.sentence())
    }
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

    /// The code column of the table in the section of `PROTOCOL` headed `heading`.
    fn documented(heading: &str, column: usize) -> Vec<String> {
        let section = PROTOCOL
            .split(heading)
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap();
        section
            .lines()
            .filter(|l| l.starts_with("| "))
            .filter_map(|l| l.split('|').nth(column + 1))
            .map(|cell| cell.trim().trim_matches('`').to_owned())
            .filter(|cell| !cell.is_empty() && !cell.starts_with("---"))
            .collect()
    }

    #[test]
    fn the_error_table_lists_exactly_the_codes() {
        let rows = documented("## Errors", 0);
        let known: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        for code in &known {
            assert!(
                rows.iter().any(|r| r == code),
                "docs/PROTOCOL.md has no row for {code}"
            );
        }
        for row in rows.iter().filter(|r| r.as_str() != "code") {
            assert!(
                known.contains(&row.as_str()),
                "docs/PROTOCOL.md lists unknown code {row}"
            );
        }
    }

    #[test]
    fn the_close_code_table_lists_exactly_the_close_codes_with_their_reasons() {
        let table = PROTOCOL.split("## Close codes").nth(1).unwrap();
        for code in ErrorCode::ALL {
            let close = code.close_code();
            if close == GENERIC_CLOSE {
                continue;
            }
            let row = format!("| {close} | `{}` |", code.code());
            assert!(table.contains(&row), "close code table has no row {row}");
        }
        for (close, reason) in documented("## Close codes", 0)
            .into_iter()
            .zip(documented("## Close codes", 1))
            .filter(|(close, _)| close.as_str() != "code" && close.as_str() != "1000")
        {
            let code = ErrorCode::from_code(&reason)
                .unwrap_or_else(|| panic!("close code {close} names unknown code {reason}"));
            assert_eq!(code.close_code().to_string(), close, "{reason}");
        }
    }

    #[test]
    fn close_codes_are_distinct_per_reason() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let close = code.close_code();
            if close != GENERIC_CLOSE {
                assert!(seen.insert(close), "{close} is used twice");
            }
        }
    }

    #[test]
    fn codes_are_unique_and_found_by_name() {
        let codes: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), Some(*code));
        }
        assert_eq!(ErrorCode::from_code("no-such-code"), None);
    }
}
