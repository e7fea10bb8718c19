//! Who may connect: token rules for publishers and subscribers, and the origin, host and path
//! allowlists. Everything here is off unless configured (see `settings`).

use std::fmt;

use crate::path::is_hash_path;
use crate::{token, ErrorCode, Mode, StreamKey, MAX_PATH_BYTES};

/// What a connection in one mode must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone may connect.
    Open,
    /// A valid token for the path and mode is required.
    Token,
    /// Subscribers only: hash paths (`/sha1/<hex>`, `/sha256/<hex>`) are open, plain paths need
    /// a token. Knowing a hash stays enough to listen, knowing a plain name no longer is.
    HashOnly,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Open => "open",
            Access::Token => "token",
            Access::HashOnly => "hash-only",
        }
    }
}

/// The access rules of a deployment. The default lets everyone in, as rtclite does.
#[derive(Clone, PartialEq, Eq)]
pub struct Policy {
    pub publish: Access,
    pub subscribe: Access,
    /// The HMAC key for tokens. Without one no token is valid, so rules that need a token
    /// refuse everyone they govern (fail closed).
    pub(crate) secret: Option<Vec<u8>>,
    /// Allowed `Origin` values, lower case; empty allows any.
    pub origins: Vec<String>,
    /// Allowed hosts (`name` or `name:port`), lower case; empty allows any.
    pub hosts: Vec<String>,
    /// Allowed path prefixes; empty allows any.
    pub path_prefixes: Vec<String>,
    /// The longest stream path accepted, in bytes.
    pub max_path_bytes: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            publish: Access::Open,
            subscribe: Access::Open,
            secret: None,
            origins: Vec::new(),
            hosts: Vec::new(),
            path_prefixes: Vec::new(),
            max_path_bytes: MAX_PATH_BYTES,
        }
    }
}

// Hand-written so that the secret never reaches a log line.
impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("publish", &self.publish)
            .field("subscribe", &self.subscribe)
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("origins", &self.origins)
            .field("hosts", &self.hosts)
            .field("path_prefixes", &self.path_prefixes)
            .field("max_path_bytes", &self.max_path_bytes)
            .finish()
    }
}

/// What the Worker knows of a request beyond its method, path and mode, as plain values read
/// from its headers and query.
#[derive(Clone, Copy, Debug, Default)]
pub struct Credentials<'a> {
    /// The `Host` (name and port) the request was sent to.
    pub host: Option<&'a str>,
    /// The `Origin` header, which browsers always send on WebSocket upgrades.
    pub origin: Option<&'a str>,
    /// The `token` query parameter.
    pub token: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The current time, in milliseconds since the Unix epoch.
    pub now_ms: u64,
    /// The request carries a `resume` value. The stream's object checks it and either gives the
    /// member its place back or refuses the connection (never a fresh join), so a valid value
    /// needs no token: a member whose token expired during a long session can still resume.
    pub resume: bool,
}

impl<'a> Credentials<'a> {
    /// The token from `?token=`, or else from `Authorization: Bearer <token>`.
    fn token(&self) -> Option<&'a str> {
        self.token.filter(|t| !t.is_empty()).or_else(|| {
            let (scheme, rest) = self.authorization?.trim().split_once(' ')?;
            let rest = rest.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty()).then_some(rest)
        })
    }
}

impl Policy {
    pub fn with_secret(mut self, secret: Option<Vec<u8>>) -> Self {
        self.secret = secret.filter(|s| !s.is_empty());
        self
    }

    pub fn has_secret(&self) -> bool {
        self.secret.is_some()
    }

    /// Checks the host and origin allowlists (before the path is even looked at).
    pub fn check_site(&self, creds: &Credentials<'_>) -> Result<(), ErrorCode> {
        if !self.hosts.is_empty() {
            let host = creds.host.unwrap_or("").to_ascii_lowercase();
            let name = host_name(&host);
            if !self.hosts.iter().any(|allowed| {
                *allowed == host || (host_name(allowed) == allowed && allowed == name)
            }) {
                return Err(ErrorCode::HostNotAllowed);
            }
        }
        // Only browsers send Origin, and it protects only browser users (any other client can
        // claim any origin), so a request without one is not refused.
        if let (false, Some(origin)) = (self.origins.is_empty(), creds.origin) {
            let origin = origin.trim_end_matches('/').to_ascii_lowercase();
            if !self.origins.contains(&origin) {
                return Err(ErrorCode::OriginNotAllowed);
            }
        }
        Ok(())
    }

    /// Whether `origin` is in a configured `ALLOWED_ORIGINS` list (an empty list, meaning any,
    /// lists nothing).
    pub fn origin_listed(&self, origin: Option<&str>) -> bool {
        origin.is_some_and(|origin| {
            let origin = origin.trim_end_matches('/').to_ascii_lowercase();
            self.origins.contains(&origin)
        })
    }

    /// Checks the path allowlist and the token rule for a resolved stream.
    ///
    /// `path` is the request path; `key` the stream it resolved to. A publisher's token names
    /// the path it connects to (the plain name, e.g. `/sha1/streams/1234`), a subscriber's the
    /// stream it joins (e.g. `/sha1/<hex>`, hex in lower case); for plain paths both are the
    /// same. A token the rule does not ask for is still checked, quietly: a valid one counts
    /// (it earns TURN credentials), an invalid one is ignored.
    pub fn check_stream(
        &self,
        path: &str,
        key: &StreamKey,
        mode: Mode,
        creds: &Credentials<'_>,
    ) -> Result<Passed, ErrorCode> {
        if !self.path_prefixes.is_empty()
            && !self
                .path_prefixes
                .iter()
                .any(|p| path.starts_with(p.as_str()))
        {
            return Err(ErrorCode::PathNotAllowed);
        }
        let (rule, token_path) = match mode {
            Mode::Publish => (self.publish, path),
            Mode::Subscribe => (self.subscribe, key.as_str()),
        };
        // A resume is checked by the stream's object, which gives the member its place back or
        // refuses it, so it needs no token (see `Credentials::resume`).
        let needs_token = !creds.resume
            && match rule {
                Access::Open => false,
                Access::Token => true,
                Access::HashOnly => !is_hash_path(key.as_str()),
            };
        let verify = |token| {
            let secret = self.secret.as_deref().ok_or(ErrorCode::TokenBadSignature)?;
            token::verify(secret, token, token_path, mode, creds.now_ms / 1000)
        };
        let claims = match (creds.token(), needs_token) {
            (None, true) => return Err(ErrorCode::TokenMissing),
            (Some(token), true) => Some(verify(token)?),
            (Some(token), false) => verify(token).ok(),
            (None, false) => None,
        };
        Ok(Passed {
            token_verified: claims.is_some(),
            label: claims.and_then(|c| c.label),
        })
    }
}

/// What a connection that passed [`Policy::check_stream`] showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Passed {
    /// It carried a valid token for this stream and mode.
    pub token_verified: bool,
    /// The client label of that token, if it has one.
    pub label: Option<String>,
}

/// `name` from `name:port`, also for bracketed IPv6 literals (`[::1]:8787` gives `[::1]`).
fn host_name(host: &str) -> &str {
    let port_colon = match host.find(']') {
        Some(end) => host
            .get(end..)
            .and_then(|tail| tail.find(':').map(|i| end + i)),
        None => host.rfind(':'),
    };
    port_colon.and_then(|i| host.get(..i)).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::resolve;

    const SECRET: &[u8] = b"policy test secret";
    const NOW_MS: u64 = 1_800_000_000_000;

    fn creds<'a>() -> Credentials<'a> {
        Credentials {
            now_ms: NOW_MS,
            ..Credentials::default()
        }
    }

    fn mint(path: &str, mode: Mode) -> String {
        token::mint(
            SECRET,
            &token::Claims {
                path: path.into(),
                mode,
                exp: NOW_MS / 1000 + 60,
                label: Some("l".into()),
            },
        )
        .unwrap()
    }

    fn check(
        policy: &Policy,
        path: &str,
        mode: Mode,
        c: &Credentials<'_>,
    ) -> Result<(), ErrorCode> {
        let key = resolve(path, mode).map_err(|r| r.code())?;
        policy.check_stream(path, &key, mode, c).map(|_| ())
    }

    fn tokens(publish: Access, subscribe: Access) -> Policy {
        Policy {
            publish,
            subscribe,
            ..Policy::default()
        }
        .with_secret(Some(SECRET.to_vec()))
    }

    #[test]
    fn a_resume_needs_no_token_but_still_the_allowlists() {
        let mut p = tokens(Access::Token, Access::Token);
        p.path_prefixes = vec!["/rooms/".into()];
        let resuming = Credentials {
            resume: true,
            ..creds()
        };
        assert_eq!(check(&p, "/rooms/a", Mode::Publish, &resuming), Ok(()));
        assert_eq!(check(&p, "/rooms/a", Mode::Subscribe, &resuming), Ok(()));
        assert_eq!(
            check(&p, "/other", Mode::Publish, &resuming),
            Err(ErrorCode::PathNotAllowed)
        );
        assert_eq!(
            check(&p, "/rooms/a", Mode::Publish, &creds()),
            Err(ErrorCode::TokenMissing)
        );
    }

    #[test]
    fn the_default_policy_lets_everyone_in() {
        let p = Policy::default();
        assert_eq!(check(&p, "/s", Mode::Publish, &creds()), Ok(()));
        assert_eq!(check(&p, "/s", Mode::Subscribe, &creds()), Ok(()));
        assert_eq!(p.check_site(&creds()), Ok(()));
    }

    #[test]
    fn publish_and_subscribe_have_separate_rules() {
        let p = tokens(Access::Token, Access::Open);
        assert_eq!(
            check(&p, "/s", Mode::Publish, &creds()),
            Err(ErrorCode::TokenMissing)
        );
        assert_eq!(check(&p, "/s", Mode::Subscribe, &creds()), Ok(()));
        let t = mint("/s", Mode::Publish);
        let with = Credentials {
            token: Some(&t),
            ..creds()
        };
        assert_eq!(check(&p, "/s", Mode::Publish, &with), Ok(()));
        let key = resolve("/s", Mode::Publish).unwrap();
        assert_eq!(
            p.check_stream("/s", &key, Mode::Publish, &with),
            Ok(Passed {
                token_verified: true,
                label: Some("l".into())
            })
        );
    }

    #[test]
    fn a_token_an_open_rule_does_not_ask_for_is_checked_quietly() {
        let p = tokens(Access::Open, Access::Open);
        let key = resolve("/s", Mode::Subscribe).unwrap();
        let t = mint("/s", Mode::Subscribe);
        fn with(token: &str) -> Credentials<'_> {
            Credentials {
                token: Some(token),
                ..creds()
            }
        }
        let passed = p
            .check_stream("/s", &key, Mode::Subscribe, &with(&t))
            .unwrap();
        assert!(passed.token_verified);
        for bad in [mint("/other", Mode::Subscribe), "garbage".to_owned()] {
            assert_eq!(
                p.check_stream("/s", &key, Mode::Subscribe, &with(&bad)),
                Ok(Passed::default()),
                "an invalid token is ignored where none is needed"
            );
        }
        assert_eq!(
            p.check_stream("/s", &key, Mode::Subscribe, &creds()),
            Ok(Passed::default())
        );
    }

    #[test]
    fn the_token_may_come_as_a_bearer_header() {
        let p = tokens(Access::Token, Access::Token);
        let t = mint("/s", Mode::Subscribe);
        for header in [format!("Bearer {t}"), format!("bearer  {t} ")] {
            let c = Credentials {
                authorization: Some(&header),
                ..creds()
            };
            assert_eq!(check(&p, "/s", Mode::Subscribe, &c), Ok(()), "{header}");
        }
        let basic = Credentials {
            authorization: Some("Basic dTpw"),
            ..creds()
        };
        assert_eq!(
            check(&p, "/s", Mode::Subscribe, &basic),
            Err(ErrorCode::TokenMissing)
        );
    }

    #[test]
    fn a_token_rule_without_a_secret_refuses_everyone() {
        let p = Policy {
            publish: Access::Token,
            ..Policy::default()
        }
        .with_secret(Some(Vec::new()));
        assert!(!p.has_secret());
        let t = mint("/s", Mode::Publish);
        let c = Credentials {
            token: Some(&t),
            ..creds()
        };
        assert_eq!(
            check(&p, "/s", Mode::Publish, &c),
            Err(ErrorCode::TokenBadSignature)
        );
    }

    #[test]
    fn a_publisher_token_covers_the_plain_name_of_a_hash_path() {
        let p = tokens(Access::Token, Access::Token);
        let t = mint("/sha1/streams/1234", Mode::Publish);
        let c = Credentials {
            token: Some(&t),
            ..creds()
        };
        assert_eq!(check(&p, "/sha1/streams/1234", Mode::Publish, &c), Ok(()));
        // A subscriber's token names the hash it joins, in lower case however it is requested.
        let hash = "/sha1/04e5383618cc0f1dd6a5a433ba49396eccd080b4";
        let t = mint(hash, Mode::Subscribe);
        let c = Credentials {
            token: Some(&t),
            ..creds()
        };
        assert_eq!(check(&p, hash, Mode::Subscribe, &c), Ok(()));
        assert_eq!(
            check(
                &p,
                &hash.to_ascii_uppercase().replace("/SHA1/", "/sha1/"),
                Mode::Subscribe,
                &c
            ),
            Ok(())
        );
    }

    #[test]
    fn hash_only_subscribers_need_a_token_only_on_plain_paths() {
        let p = tokens(Access::Open, Access::HashOnly);
        let hash = "/sha256/5d92fc617414ac097bff0100e2cff9867550172aaa4da3ac2bc870d3dde89c60";
        assert_eq!(check(&p, hash, Mode::Subscribe, &creds()), Ok(()));
        assert_eq!(
            check(&p, "/streams/1234", Mode::Subscribe, &creds()),
            Err(ErrorCode::TokenMissing)
        );
        let t = mint("/streams/1234", Mode::Subscribe);
        let c = Credentials {
            token: Some(&t),
            ..creds()
        };
        assert_eq!(check(&p, "/streams/1234", Mode::Subscribe, &c), Ok(()));
    }

    #[test]
    fn path_prefixes_limit_the_streams_served() {
        let p = Policy {
            path_prefixes: vec!["/rooms/".into(), "/sha1/".into()],
            ..Policy::default()
        };
        assert_eq!(check(&p, "/rooms/1", Mode::Publish, &creds()), Ok(()));
        assert_eq!(check(&p, "/sha1/rooms", Mode::Publish, &creds()), Ok(()));
        assert_eq!(
            check(&p, "/roomsx", Mode::Publish, &creds()),
            Err(ErrorCode::PathNotAllowed)
        );
        assert_eq!(
            check(&p, "/other", Mode::Subscribe, &creds()),
            Err(ErrorCode::PathNotAllowed)
        );
    }

    #[test]
    fn hosts_match_by_name_or_by_name_and_port() {
        let p = Policy {
            hosts: vec![
                "example.com".into(),
                "127.0.0.1:8787".into(),
                "[::1]".into(),
            ],
            ..Policy::default()
        };
        for ok in [
            "example.com",
            "EXAMPLE.com:443",
            "127.0.0.1:8787",
            "[::1]:9",
        ] {
            let c = Credentials {
                host: Some(ok),
                ..creds()
            };
            assert_eq!(p.check_site(&c), Ok(()), "{ok}");
        }
        for bad in [
            "evil.com",
            "127.0.0.1:8788",
            "127.0.0.1",
            "example.com.evil",
        ] {
            let c = Credentials {
                host: Some(bad),
                ..creds()
            };
            assert_eq!(p.check_site(&c), Err(ErrorCode::HostNotAllowed), "{bad}");
        }
        assert_eq!(p.check_site(&creds()), Err(ErrorCode::HostNotAllowed));
    }

    #[test]
    fn origins_are_checked_when_sent() {
        let p = Policy {
            origins: vec!["https://app.example.com".into()],
            ..Policy::default()
        };
        for ok in [
            Some("https://app.example.com"),
            Some("HTTPS://APP.example.com/"),
            None,
        ] {
            let c = Credentials {
                origin: ok,
                ..creds()
            };
            assert_eq!(p.check_site(&c), Ok(()), "{ok:?}");
        }
        for bad in ["https://evil.com", "http://app.example.com", "null"] {
            let c = Credentials {
                origin: Some(bad),
                ..creds()
            };
            assert_eq!(p.check_site(&c), Err(ErrorCode::OriginNotAllowed), "{bad}");
        }
    }

    #[test]
    fn the_secret_is_not_printed() {
        let p = tokens(Access::Token, Access::Token);
        let debug = format!("{p:?}");
        assert!(!debug.contains("policy test secret"), "{debug}");
        assert!(debug.contains("<set>"));
    }
}
