//! Which requests may open a connection to which stream, decided before any socket exists.

use crate::path::is_reserved;
use crate::{resolve_within, Credentials, ErrorCode, Mode, Policy, Refusal, Role, StreamKey};

/// What the Worker knows of an incoming request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The request asks for a WebSocket upgrade (`Upgrade: websocket`).
    pub upgrade: bool,
    /// The URL path, still percent-encoded.
    pub path: &'a str,
    /// The `mode` query parameter, if any.
    pub mode: Option<&'a str>,
}

/// A request that may go on to its stream's Durable Object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub key: StreamKey,
    pub role: Role,
    /// The client label of the token that admitted the request, if any.
    pub label: Option<String>,
    /// The request carried a valid token for this stream and mode (needed or not).
    pub token_verified: bool,
}

/// A request that may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Answer with this HTTP status and error: nothing suggests a browser is waiting on a socket.
    Http(ErrorCode),
    /// Accept the WebSocket, send the error frame and close it: browsers cannot read the body of
    /// a refused handshake, so this is the only way to tell them why.
    Socket(Refusal),
}

/// Decides where a request goes under the default (open) policy. Never panics.
pub fn admit(req: &Request<'_>) -> Result<Admitted, Rejection> {
    admit_with(req, &Credentials::default(), &Policy::default())
}

/// Decides where a request goes under `policy`. Never panics, whatever the input.
///
/// Checks, in order: reserved paths, method, upgrade and mode (HTTP refusals: no browser socket
/// is waiting yet), then host, origin, path, path prefix and token (refused on the socket, with
/// a close code per reason).
pub fn admit_with(
    req: &Request<'_>,
    creds: &Credentials<'_>,
    policy: &Policy,
) -> Result<Admitted, Rejection> {
    if is_reserved(req.path) {
        return Err(Rejection::Http(ErrorCode::NotFound));
    }
    if req.method != "GET" {
        return Err(Rejection::Http(ErrorCode::MethodNotAllowed));
    }
    if !req.upgrade {
        return Err(Rejection::Http(ErrorCode::UpgradeRequired));
    }
    let mode = Mode::parse(req.mode).map_err(Rejection::Http)?;
    let refuse = |code| Rejection::Socket(Refusal(code));
    policy.check_site(creds).map_err(refuse)?;
    let key = resolve_within(req.path, mode, policy.max_path_bytes).map_err(Rejection::Socket)?;
    let passed = policy
        .check_stream(req.path, &key, mode, creds)
        .map_err(refuse)?;
    Ok(Admitted {
        key,
        role: mode.role(),
        label: passed.label,
        token_verified: passed.token_verified,
    })
}

/// Whether `GET /api/ice-servers` may answer, and whether the request showed a valid token
/// for the stream it names (which earns TURN credentials).
///
/// Its answer can carry TURN credentials, so with `needs_stream_access` (`ICE_API_AUTH=stream`)
/// the request must name a stream (`path`, `mode`) and pass every check a WebSocket to that
/// stream would: allowlists, and its token where the rules ask for one. Without it the request
/// is answered, and a token it carries for a stream it names is checked quietly.
pub fn admit_ice_api(
    needs_stream_access: bool,
    path: Option<&str>,
    mode: Option<&str>,
    creds: &Credentials<'_>,
    policy: &Policy,
) -> Result<bool, ErrorCode> {
    let checked = (|| {
        let mode = Mode::parse(mode)?;
        let path = path.ok_or(ErrorCode::InvalidPath)?;
        policy.check_site(creds)?;
        let key = resolve_within(path, mode, policy.max_path_bytes).map_err(|r| r.code())?;
        policy.check_stream(path, &key, mode, creds)
    })();
    match (checked, needs_stream_access) {
        (Ok(passed), _) => Ok(passed.token_verified),
        (Err(code), true) => Err(code),
        (Err(_), false) => Ok(false),
    }
}

/// Which stream `GET /api/streams/<path>` asks about, if the request may know.
///
/// The status of a stream tells who is there, so it needs what subscribing to it needs: the
/// host and origin allowlists, the path rules and prefixes, and a token where subscribers need
/// one (`?token=` or `Authorization: Bearer`). A path is read as a subscriber would give it: a
/// hash stream is asked about by its hash, and its plain name (`/sha1/<name>`) is refused as
/// `invalid-path` whether or not the stream exists, exactly as a subscriber is, so it reveals
/// nothing. Paths that are never streams are `not-found`.
pub fn admit_status(
    path: &str,
    creds: &Credentials<'_>,
    policy: &Policy,
) -> Result<StreamKey, ErrorCode> {
    if is_reserved(path) {
        return Err(ErrorCode::NotFound);
    }
    // A resume value proves membership of a stream, not a right to watch it.
    let creds = Credentials {
        resume: false,
        ..*creds
    };
    policy.check_site(&creds)?;
    let key = resolve_within(path, Mode::Subscribe, policy.max_path_bytes).map_err(|r| r.code())?;
    policy.check_stream(path, &key, Mode::Subscribe, &creds)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{token, Access};

    fn upgrade<'a>(path: &'a str, mode: &'a str) -> Request<'a> {
        Request {
            method: "GET",
            upgrade: true,
            path,
            mode: Some(mode),
        }
    }

    fn refused(code: ErrorCode) -> Result<Admitted, Rejection> {
        Err(Rejection::Socket(Refusal(code)))
    }

    #[test]
    fn http_refusals_come_before_any_policy() {
        let policy = Policy {
            hosts: vec!["example.com".into()],
            ..Policy::default()
        };
        let c = Credentials::default();
        let post = Request {
            method: "POST",
            ..upgrade("/s", "publish")
        };
        assert_eq!(
            admit_with(&post, &c, &policy),
            Err(Rejection::Http(ErrorCode::MethodNotAllowed))
        );
        assert_eq!(
            admit_with(&upgrade("/s", "watch"), &c, &policy),
            Err(Rejection::Http(ErrorCode::InvalidMode))
        );
        assert_eq!(
            admit_with(&upgrade("/s", "publish"), &c, &policy),
            refused(ErrorCode::HostNotAllowed)
        );
    }

    #[test]
    fn every_token_refusal_reaches_the_socket_with_its_own_code() {
        let secret = b"admission secret".to_vec();
        let policy = Policy {
            publish: Access::Token,
            subscribe: Access::Token,
            ..Policy::default()
        }
        .with_secret(Some(secret.clone()));
        let now_ms = 1_800_000_000_000;
        let mint = |path: &str, mode, exp| {
            token::mint(
                &secret,
                &token::Claims {
                    path: path.into(),
                    mode,
                    exp,
                    label: None,
                },
            )
            .unwrap()
        };
        let valid = mint("/s", Mode::Publish, 1_800_000_060);
        let cases = [
            (None, ErrorCode::TokenMissing),
            (Some("x.y.z".to_owned()), ErrorCode::TokenMalformed),
            (Some(format!("{valid}!")), ErrorCode::TokenMalformed),
            (
                token::mint(
                    b"another secret",
                    &token::Claims {
                        path: "/s".into(),
                        mode: Mode::Publish,
                        exp: 1_800_000_060,
                        label: None,
                    },
                ),
                ErrorCode::TokenBadSignature,
            ),
            (
                Some(mint("/s", Mode::Publish, 1_800_000_000)),
                ErrorCode::TokenExpired,
            ),
            (
                Some(mint("/t", Mode::Publish, 1_800_000_060)),
                ErrorCode::TokenWrongPath,
            ),
            (
                Some(mint("/s", Mode::Subscribe, 1_800_000_060)),
                ErrorCode::TokenWrongMode,
            ),
        ];
        for (token, code) in cases {
            let c = Credentials {
                token: token.as_deref(),
                now_ms,
                ..Credentials::default()
            };
            assert_eq!(
                admit_with(&upgrade("/s", "publish"), &c, &policy),
                refused(code),
                "{token:?}"
            );
        }
        let c = Credentials {
            token: Some(&valid),
            now_ms,
            ..Credentials::default()
        };
        assert_eq!(
            admit_with(&upgrade("/s", "publish"), &c, &policy),
            Ok(Admitted {
                key: crate::resolve("/s", Mode::Publish).unwrap(),
                role: Role::Publisher,
                label: None,
                token_verified: true,
            })
        );
    }

    #[test]
    fn reserved_paths_are_not_found_whatever_the_request() {
        let c = Credentials::default();
        let policy = Policy::default();
        for path in [
            "/api/x",
            "/api/ice-servers/",
            "/api",
            "/js/missing.js",
            "/API/x",
        ] {
            for req in [
                upgrade(path, "publish"),
                Request {
                    upgrade: false,
                    ..upgrade(path, "subscribe")
                },
                Request {
                    method: "POST",
                    ..upgrade(path, "publish")
                },
            ] {
                assert_eq!(
                    admit_with(&req, &c, &policy),
                    Err(Rejection::Http(ErrorCode::NotFound)),
                    "{req:?}"
                );
            }
        }
    }

    #[test]
    fn hash_prefix_variants_are_refused_on_the_socket() {
        let c = Credentials::default();
        for path in ["/SHA1/streams/1", "/Sha256/x"] {
            assert_eq!(
                admit_with(&upgrade(path, "publish"), &c, &Policy::default()),
                refused(ErrorCode::HashPrefixVariant)
            );
        }
    }

    #[test]
    fn the_path_limit_is_configurable() {
        let policy = Policy {
            max_path_bytes: 8,
            ..Policy::default()
        };
        let c = Credentials::default();
        assert!(admit_with(&upgrade("/1234567", "publish"), &c, &policy).is_ok());
        assert_eq!(
            admit_with(&upgrade("/12345678", "publish"), &c, &policy),
            refused(ErrorCode::PathTooLong)
        );
    }

    #[test]
    fn the_status_needs_what_subscribing_needs() {
        let secret = b"status test secret, long enough!!".to_vec();
        let policy = Policy {
            publish: Access::Token,
            subscribe: Access::HashOnly,
            path_prefixes: vec!["/rooms/".into(), "/sha1/".into()],
            ..Policy::default()
        }
        .with_secret(Some(secret.clone()));
        let now_ms = 1_800_000_000_000;
        let creds = |token| Credentials {
            token,
            now_ms,
            ..Credentials::default()
        };
        let hash = "/sha1/04e5383618cc0f1dd6a5a433ba49396eccd080b4";
        // Hash paths are open to subscribers here, so to the status; upper-case hex is the same
        // stream.
        assert_eq!(
            admit_status(hash, &creds(None), &policy).map(|k| k.as_str().to_owned()),
            Ok(hash.to_owned())
        );
        assert_eq!(
            admit_status(
                &hash.to_ascii_uppercase().replace("/SHA1/", "/sha1/"),
                &creds(None),
                &policy
            )
            .map(|k| k.as_str().to_owned()),
            Ok(hash.to_owned())
        );
        // The plain name of a hash stream is refused like a subscriber's, stream or not.
        assert_eq!(
            admit_status("/sha1/streams/1234", &creds(None), &policy),
            Err(ErrorCode::InvalidPath)
        );
        // Plain paths need a subscriber's token; a publisher's does not do.
        assert_eq!(
            admit_status("/rooms/a", &creds(None), &policy),
            Err(ErrorCode::TokenMissing)
        );
        let mint = |mode| {
            token::mint(
                &secret,
                &token::Claims {
                    path: "/rooms/a".into(),
                    mode,
                    exp: now_ms / 1000 + 60,
                    label: None,
                },
            )
            .unwrap()
        };
        let sub = mint(Mode::Subscribe);
        assert!(admit_status("/rooms/a", &creds(Some(&sub)), &policy).is_ok());
        let publ = mint(Mode::Publish);
        assert_eq!(
            admit_status("/rooms/a", &creds(Some(&publ)), &policy),
            Err(ErrorCode::TokenWrongMode)
        );
        // A resume value is no token.
        let resuming = Credentials {
            resume: true,
            ..creds(None)
        };
        assert_eq!(
            admit_status("/rooms/a", &resuming, &policy),
            Err(ErrorCode::TokenMissing)
        );
        // Allowlists, reserved paths and malformed paths.
        assert_eq!(
            admit_status("/other/a", &creds(Some(&sub)), &policy),
            Err(ErrorCode::PathNotAllowed)
        );
        assert_eq!(
            admit_status("/api/ice-servers", &creds(None), &policy),
            Err(ErrorCode::NotFound)
        );
        assert_eq!(
            admit_status("/", &creds(None), &policy),
            Err(ErrorCode::InvalidPath)
        );
        assert_eq!(
            admit_status("/SHA1/x", &creds(None), &policy),
            Err(ErrorCode::HashPrefixVariant)
        );
        let hosts = Policy {
            hosts: vec!["example.com".into()],
            ..Policy::default()
        };
        assert_eq!(
            admit_status("/s", &creds(None), &hosts),
            Err(ErrorCode::HostNotAllowed)
        );
    }

    #[test]
    fn the_ice_api_checks_stream_access_only_when_asked() {
        let secret = b"ice api test secret, long enough!".to_vec();
        let policy = Policy {
            publish: Access::Token,
            subscribe: Access::Token,
            ..Policy::default()
        }
        .with_secret(Some(secret.clone()));
        let now_ms = 1_800_000_000_000;
        let creds = |token| Credentials {
            token,
            now_ms,
            ..Credentials::default()
        };
        assert_eq!(
            admit_ice_api(false, None, None, &creds(None), &policy),
            Ok(false)
        );
        assert_eq!(
            admit_ice_api(true, Some("/s"), Some("subscribe"), &creds(None), &policy),
            Err(ErrorCode::TokenMissing)
        );
        assert_eq!(
            admit_ice_api(true, None, Some("subscribe"), &creds(None), &policy),
            Err(ErrorCode::InvalidPath)
        );
        assert_eq!(
            admit_ice_api(true, Some("/s"), None, &creds(None), &policy),
            Err(ErrorCode::InvalidMode)
        );
        let claims = token::Claims {
            path: "/s".into(),
            mode: Mode::Subscribe,
            exp: now_ms / 1000 + 60,
            label: None,
        };
        let token = token::mint(&secret, &claims).unwrap();
        assert_eq!(
            admit_ice_api(
                true,
                Some("/s"),
                Some("subscribe"),
                &creds(Some(&token)),
                &policy
            ),
            Ok(true)
        );
        // Open API: answered whatever the token, and a valid one still counts.
        assert_eq!(
            admit_ice_api(
                false,
                Some("/s"),
                Some("subscribe"),
                &creds(Some(&token)),
                &policy
            ),
            Ok(true)
        );
        assert_eq!(
            admit_ice_api(
                false,
                Some("/other"),
                Some("subscribe"),
                &creds(Some(&token)),
                &policy
            ),
            Ok(false)
        );
        assert_eq!(
            admit_ice_api(
                true,
                Some("/other"),
                Some("subscribe"),
                &creds(Some(&token)),
                &policy
            ),
            Err(ErrorCode::TokenWrongPath)
        );
    }
}
