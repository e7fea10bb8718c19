//! The deployment's settings, read from wrangler vars and secrets.
//!
//! Parsing is pure: the adapter hands in a lookup from variable name to its text. A bad limit
//! is reported and its default used; a bad access setting is reported and fails closed (a typo
//! in `PUBLISH_AUTH` must not open a stream that was meant to need tokens). The README's
//! "Configuration reference" lists every variable in [`VARS`]; a test keeps the two in step.

use crate::config::{
    DEFAULT_FLOOD_CLOSE_AFTER, DEFAULT_FRAME_BURST, DEFAULT_FRAME_RATE,
    DEFAULT_HEARTBEAT_TIMEOUT_SECONDS, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_RELAY_BURST_BYTES,
    DEFAULT_RELAY_BYTES_PER_SECOND, DEFAULT_RESUME_GRACE_SECONDS, DEFAULT_RESUME_QUEUE_BYTES,
};
use crate::ice::{DEFAULT_CLOUDFLARE_API_BASE, DEFAULT_ICE_SERVERS};
use crate::{Access, Config, ConfigError, Policy, Rate, DEFAULT_MAX_FRAME_BYTES, MAX_PATH_BYTES};

/// A variable the service reads, with its default as the README states it.
#[derive(Clone, Copy, Debug)]
pub struct Var {
    pub name: &'static str,
    pub default: &'static str,
    /// Set with `wrangler secret put` rather than under `[vars]`.
    pub secret: bool,
}

const fn var(name: &'static str, default: &'static str) -> Var {
    Var {
        name,
        default,
        secret: false,
    }
}

pub const TOKEN_SECRET: &str = "TOKEN_SECRET";
pub const PUBLISH_AUTH: &str = "PUBLISH_AUTH";
pub const SUBSCRIBE_AUTH: &str = "SUBSCRIBE_AUTH";
pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
pub const ALLOWED_HOSTS: &str = "ALLOWED_HOSTS";
pub const ALLOWED_PATHS: &str = "ALLOWED_PATHS";
pub const MAX_FRAME_BYTES: &str = "MAX_FRAME_BYTES";
pub const MAX_SUBSCRIBERS: &str = "MAX_SUBSCRIBERS";
pub const MAX_PATH_BYTES_VAR: &str = "MAX_PATH_BYTES";
pub const FRAME_RATE: &str = "FRAME_RATE";
pub const FRAME_BURST: &str = "FRAME_BURST";
pub const FLOOD_CLOSE_AFTER: &str = "FLOOD_CLOSE_AFTER";
pub const IP_CONNECT_RATE: &str = "IP_CONNECT_RATE";
pub const RESUME_GRACE_SECONDS: &str = "RESUME_GRACE_SECONDS";
pub const RESUME_QUEUE_BYTES: &str = "RESUME_QUEUE_BYTES";
pub const HEARTBEAT_TIMEOUT_SECONDS: &str = "HEARTBEAT_TIMEOUT_SECONDS";
pub const RELAY_BYTES_PER_SECOND: &str = "RELAY_BYTES_PER_SECOND";
// ICE sources, parsed by `ice::IceSettings`; listed here so the README's reference covers them.
pub const ICE_SERVERS: &str = "ICE_SERVERS";
pub const TURN_URLS: &str = "TURN_URLS";
pub const TURN_SECRET: &str = "TURN_SECRET";
pub const TURN_TTL: &str = "TURN_TTL";
pub const CF_TURN_KEY_ID: &str = "CF_TURN_KEY_ID";
pub const CF_TURN_API_TOKEN: &str = "CF_TURN_API_TOKEN";
pub const CF_TURN_TTL: &str = "CF_TURN_TTL";
pub const CF_TURN_API_BASE: &str = "CF_TURN_API_BASE";
pub const ICE_CORS_ORIGINS: &str = "ICE_CORS_ORIGINS";
pub const ICE_API_AUTH: &str = "ICE_API_AUTH";

/// Every variable and secret, in README order.
pub const VARS: &[Var] = &[
    Var {
        name: TOKEN_SECRET,
        default: "unset",
        secret: true,
    },
    var(PUBLISH_AUTH, "open"),
    var(SUBSCRIBE_AUTH, "open"),
    var(ALLOWED_ORIGINS, "any"),
    var(ALLOWED_HOSTS, "any"),
    var(ALLOWED_PATHS, "any"),
    var(MAX_PATH_BYTES_VAR, "256"),
    var(MAX_FRAME_BYTES, "65536"),
    var(MAX_SUBSCRIBERS, "1000"),
    var(FRAME_RATE, "100"),
    var(FRAME_BURST, "400"),
    var(FLOOD_CLOSE_AFTER, "200"),
    var(IP_CONNECT_RATE, "0"),
    var(RESUME_GRACE_SECONDS, "20"),
    var(RESUME_QUEUE_BYTES, "262144"),
    var(HEARTBEAT_TIMEOUT_SECONDS, "30"),
    var(RELAY_BYTES_PER_SECOND, "65536"),
    var(ICE_SERVERS, DEFAULT_ICE_SERVERS),
    var(TURN_URLS, "unset"),
    Var {
        name: TURN_SECRET,
        default: "unset",
        secret: true,
    },
    var(TURN_TTL, "86400"),
    var(CF_TURN_KEY_ID, "unset"),
    Var {
        name: CF_TURN_API_TOKEN,
        default: "unset",
        secret: true,
    },
    var(CF_TURN_TTL, "86400"),
    var(CF_TURN_API_BASE, DEFAULT_CLOUDFLARE_API_BASE),
    var(ICE_CORS_ORIGINS, "unset"),
    var(ICE_API_AUTH, "open"),
];

/// Secrets shorter than this are used but reported: HMAC is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;

/// Everything configurable, parsed.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Per-stream settings, for the Durable Object.
    pub config: Config,
    /// Admission rules, for the Worker.
    pub policy: Policy,
    /// Connection attempts per client address, if limited (`IP_CONNECT_RATE`).
    pub connect_rate: Option<Rate>,
    /// `GET /api/ice-servers` needs what connecting to the named stream needs
    /// (`ICE_API_AUTH=stream`), since its answer can carry TURN credentials.
    pub ice_api_needs_stream_access: bool,
}

impl Settings {
    /// Reads every variable through `lookup` (name to text; `None` when unset). Returns the
    /// settings and a description of each value that could not be used as given.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> (Self, Vec<ConfigError>) {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut errors = Vec::new();
        let mut settings = Settings::default();

        let secret = get(TOKEN_SECRET).map(String::into_bytes);
        if secret.as_ref().is_some_and(|s| s.len() < MIN_SECRET_BYTES) {
            errors.push(ConfigError(format!(
                "{TOKEN_SECRET} is shorter than {MIN_SECRET_BYTES} bytes; use a longer random secret"
            )));
        }
        let has_secret = secret.is_some();
        // Setting a secret is asking for tokens: both modes need them unless told otherwise.
        let default_access = if has_secret {
            Access::Token
        } else {
            Access::Open
        };
        let publish = parse_access(
            PUBLISH_AUTH,
            get(PUBLISH_AUTH),
            &[Access::Open, Access::Token],
            default_access,
            &mut errors,
        );
        let subscribe = parse_access(
            SUBSCRIBE_AUTH,
            get(SUBSCRIBE_AUTH),
            &[Access::Open, Access::Token, Access::HashOnly],
            default_access,
            &mut errors,
        );
        for (name, rule) in [(PUBLISH_AUTH, publish), (SUBSCRIBE_AUTH, subscribe)] {
            if rule != Access::Open && !has_secret {
                errors.push(ConfigError(format!(
                    "{name}={} needs {TOKEN_SECRET}: without it no token is valid and connections that need one are refused",
                    rule.as_str()
                )));
            }
        }
        let mut policy = Policy {
            publish,
            subscribe,
            ..Policy::default()
        }
        .with_secret(secret);

        policy.origins = list(get(ALLOWED_ORIGINS), |o| {
            o.trim_end_matches('/').to_ascii_lowercase()
        });
        if let Some(bad) = policy
            .origins
            .iter()
            .find(|o| !o.contains("://") && o.as_str() != "null")
        {
            errors.push(ConfigError(format!(
                "{ALLOWED_ORIGINS} entry {bad:?} is not an origin like https://example.com; it matches nothing"
            )));
        }
        policy.hosts = list(get(ALLOWED_HOSTS), |h| h.to_ascii_lowercase());
        policy.path_prefixes = list(get(ALLOWED_PATHS), str::to_owned);
        if let Some(bad) = policy.path_prefixes.iter().find(|p| !p.starts_with('/')) {
            errors.push(ConfigError(format!(
                "{ALLOWED_PATHS} entry {bad:?} does not start with /; it matches nothing"
            )));
        }
        let mut number = |name: &str, default: u64, min: u64, max: u64| {
            parse_number(name, get(name), default, min, max, &mut errors)
        };
        policy.max_path_bytes =
            to_usize(number(MAX_PATH_BYTES_VAR, MAX_PATH_BYTES as u64, 2, 2048));
        settings.config.max_frame_bytes = to_usize(number(
            MAX_FRAME_BYTES,
            DEFAULT_MAX_FRAME_BYTES as u64,
            1024,
            1 << 20,
        ));
        settings.config.max_subscribers = to_usize(number(
            MAX_SUBSCRIBERS,
            DEFAULT_MAX_SUBSCRIBERS as u64,
            1,
            32_767,
        ));
        let rate = to_u32(number(FRAME_RATE, DEFAULT_FRAME_RATE.into(), 1, 100_000));
        let burst = to_u32(number(
            FRAME_BURST,
            DEFAULT_FRAME_BURST.into(),
            1,
            1_000_000,
        ));
        settings.config.frame_rate = Rate::per_second(rate, burst);
        settings.config.flood_close_after = to_u32(number(
            FLOOD_CLOSE_AFTER,
            DEFAULT_FLOOD_CLOSE_AFTER.into(),
            0,
            1_000_000,
        ));
        settings.config.resume_grace_ms =
            number(RESUME_GRACE_SECONDS, DEFAULT_RESUME_GRACE_SECONDS, 0, 3600) * 1000;
        settings.config.resume_queue_bytes = to_usize(number(
            RESUME_QUEUE_BYTES,
            DEFAULT_RESUME_QUEUE_BYTES as u64,
            1024,
            16 << 20,
        ));
        settings.config.heartbeat_timeout_ms = number(
            HEARTBEAT_TIMEOUT_SECONDS,
            DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
            0,
            3600,
        ) * 1000;
        // The burst scales with the rate: eight seconds' worth, as the defaults have it.
        let relay = to_u32(number(
            RELAY_BYTES_PER_SECOND,
            DEFAULT_RELAY_BYTES_PER_SECOND.into(),
            0,
            1 << 30,
        ));
        let burst = DEFAULT_RELAY_BURST_BYTES / DEFAULT_RELAY_BYTES_PER_SECOND;
        settings.config.relay_budget = Rate::per_second(relay, relay.saturating_mul(burst));
        let per_minute = to_u32(number(IP_CONNECT_RATE, 0, 0, 1_000_000));
        settings.connect_rate = (per_minute > 0).then(|| Rate::per_minute(per_minute, per_minute));

        settings.ice_api_needs_stream_access = match get(ICE_API_AUTH).as_deref().map(str::trim) {
            None | Some("open") => false,
            Some("stream") => true,
            Some(other) => {
                errors.push(ConfigError(format!(
                    "{ICE_API_AUTH}={other:?} is not open or stream; treating it as \"stream\" (fail closed)"
                )));
                true
            }
        };
        settings.policy = policy;
        (settings, errors)
    }
}

fn parse_access(
    name: &str,
    value: Option<String>,
    allowed: &[Access],
    default: Access,
    errors: &mut Vec<ConfigError>,
) -> Access {
    let Some(value) = value else {
        return default;
    };
    let value = value.trim();
    if let Some(access) = allowed.iter().find(|a| a.as_str() == value) {
        return *access;
    }
    let choices = if allowed.contains(&Access::HashOnly) {
        "open, token or hash-only"
    } else {
        "open or token"
    };
    errors.push(ConfigError(format!(
        "{name}={value:?} is not {choices}; treating it as \"token\" (fail closed)"
    )));
    Access::Token
}

fn parse_number(
    name: &str,
    value: Option<String>,
    default: u64,
    min: u64,
    max: u64,
    errors: &mut Vec<ConfigError>,
) -> u64 {
    let Some(value) = value else {
        return default;
    };
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            errors.push(ConfigError(format!(
                "{name}={value:?} is not a whole number from {min} to {max}; using {default}"
            )));
            default
        }
    }
}

/// Entries separated by commas or whitespace; `*` (or nothing) means no restriction.
fn list(value: Option<String>, normalize: impl Fn(&str) -> String) -> Vec<String> {
    let Some(value) = value else {
        return Vec::new();
    };
    let entries: Vec<String> = value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .map(normalize)
        .collect();
    if entries.iter().any(|e| e == "*") {
        Vec::new()
    } else {
        entries
    }
}

// The ranges above fit both types on every target; the fallbacks only keep the lints honest.
fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(vars: &[(&str, &str)]) -> (Settings, Vec<ConfigError>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_vars(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_means_open_access_and_default_limits() {
        let (s, errors) = parse(&[]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.policy, Policy::default());
        assert_eq!(s.config, Config::default());
        assert_eq!(s.connect_rate, None);
        assert_eq!(s.config.max_frame_bytes, 65536);
        assert_eq!(s.config.max_subscribers, 1000);
        assert_eq!(s.policy.max_path_bytes, 256);
    }

    #[test]
    fn a_secret_makes_tokens_the_default_for_both_modes() {
        let secret = "0123456789abcdef0123456789abcdef";
        let (s, errors) = parse(&[(TOKEN_SECRET, secret)]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.policy.publish, Access::Token);
        assert_eq!(s.policy.subscribe, Access::Token);
        let (s, _) = parse(&[(TOKEN_SECRET, secret), (SUBSCRIBE_AUTH, "hash-only")]);
        assert_eq!(s.policy.subscribe, Access::HashOnly);
        let (s, _) = parse(&[(TOKEN_SECRET, secret), (SUBSCRIBE_AUTH, " open ")]);
        assert_eq!(s.policy.subscribe, Access::Open);
    }

    #[test]
    fn bad_access_values_fail_closed() {
        let (s, errors) = parse(&[
            (TOKEN_SECRET, "0123456789abcdef0123456789abcdef"),
            (PUBLISH_AUTH, "tokn"),
            (SUBSCRIBE_AUTH, "Open"),
        ]);
        assert_eq!(s.policy.publish, Access::Token);
        assert_eq!(s.policy.subscribe, Access::Token);
        assert_eq!(errors.len(), 2, "{errors:?}");
        let (s, errors) = parse(&[(PUBLISH_AUTH, "hash-only")]);
        assert_eq!(s.policy.publish, Access::Token);
        // Invalid value, and a token rule without a secret.
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn short_secrets_and_secretless_token_rules_are_reported() {
        let (s, errors) = parse(&[(TOKEN_SECRET, "short")]);
        assert!(s.policy.has_secret());
        assert_eq!(errors.len(), 1, "{errors:?}");
        let (s, errors) = parse(&[(SUBSCRIBE_AUTH, "token")]);
        assert!(!s.policy.has_secret());
        assert_eq!(s.policy.subscribe, Access::Token);
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    #[test]
    fn allowlists_are_split_and_normalized() {
        let (s, errors) = parse(&[
            (
                ALLOWED_ORIGINS,
                "https://A.example.com/, http://localhost:8787",
            ),
            (ALLOWED_HOSTS, "Example.COM  127.0.0.1:8787"),
            (ALLOWED_PATHS, "/rooms/,/sha1/"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            s.policy.origins,
            vec!["https://a.example.com", "http://localhost:8787"]
        );
        assert_eq!(s.policy.hosts, vec!["example.com", "127.0.0.1:8787"]);
        assert_eq!(s.policy.path_prefixes, vec!["/rooms/", "/sha1/"]);
        let (s, _) = parse(&[(ALLOWED_ORIGINS, "*"), (ALLOWED_HOSTS, " ")]);
        assert!(s.policy.origins.is_empty() && s.policy.hosts.is_empty());
        let (s, errors) = parse(&[(ALLOWED_ORIGINS, "example.com"), (ALLOWED_PATHS, "rooms")]);
        assert_eq!(s.policy.origins, vec!["example.com"]);
        assert_eq!(s.policy.path_prefixes, vec!["rooms"]);
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn limits_are_read_and_bad_ones_fall_back_to_defaults() {
        let (s, errors) = parse(&[
            (MAX_FRAME_BYTES, "2048"),
            (MAX_SUBSCRIBERS, "2"),
            (MAX_PATH_BYTES_VAR, "64"),
            (FRAME_RATE, "5"),
            (FRAME_BURST, "10"),
            (FLOOD_CLOSE_AFTER, "0"),
            (IP_CONNECT_RATE, "30"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.config.max_frame_bytes, 2048);
        assert_eq!(s.config.max_subscribers, 2);
        assert_eq!(s.policy.max_path_bytes, 64);
        assert_eq!(s.config.frame_rate, Rate::per_second(5, 10));
        assert_eq!(s.config.flood_close_after, 0);
        assert_eq!(s.connect_rate, Some(Rate::per_minute(30, 30)));
        let (s, errors) = parse(&[
            (MAX_FRAME_BYTES, "64k"),
            (MAX_SUBSCRIBERS, "0"),
            (MAX_PATH_BYTES_VAR, "100000"),
            (FRAME_RATE, "-1"),
        ]);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert_eq!(s.config, Config::default());
        assert_eq!(s.policy.max_path_bytes, 256);
    }

    #[test]
    fn the_ice_api_is_open_unless_told_and_fails_closed_on_typos() {
        assert!(!parse(&[]).0.ice_api_needs_stream_access);
        assert!(
            !parse(&[(ICE_API_AUTH, "open")])
                .0
                .ice_api_needs_stream_access
        );
        assert!(
            parse(&[(ICE_API_AUTH, "stream")])
                .0
                .ice_api_needs_stream_access
        );
        let (s, errors) = parse(&[(ICE_API_AUTH, "tokens")]);
        assert!(s.ice_api_needs_stream_access);
        assert_eq!(errors.len(), 1);
    }

    /// The README's configuration reference names every variable with its default.
    #[test]
    fn the_readme_lists_every_variable_with_its_default() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("## Configuration reference")
            .nth(1)
            .expect("README has a Configuration reference section");
        for var in VARS {
            let row = section
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", var.name)))
                .unwrap_or_else(|| panic!("no README row for {}", var.name));
            assert!(
                row.contains(&format!("`{}`", var.default)),
                "README row for {} does not give the default `{}`: {row}",
                var.name,
                var.default
            );
        }
    }
}
