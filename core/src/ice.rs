//! The ICE configuration handed to clients: static STUN/TURN entries, TURN REST credentials
//! minted per request, and servers from Cloudflare's TURN service.
//!
//! Everything here is pure: the clock, the label and Cloudflare's answer come in as arguments;
//! the adapter does the HTTP call and reads the time.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;

use crate::ConfigError;

/// Used when `ICE_SERVERS` is not set: a public STUN server, no TURN.
pub const DEFAULT_ICE_SERVERS: &str = r#"[{"urls":["stun:stun.cloudflare.com:3478"]}]"#;

/// Cloudflare's API for short-lived TURN credentials.
pub const DEFAULT_CLOUDFLARE_API_BASE: &str = "https://rtc.live.cloudflare.com/v1";

/// The ICE variables as the settings table read them, for [`IceSettings::from_sources`].
#[derive(Clone, Copy, Debug, Default)]
pub struct IceSources<'a> {
    /// `ICE_SERVERS`, JSON.
    pub ice_servers: &'a str,
    pub turn_urls: &'a [String],
    pub turn_secret: Option<&'a str>,
    pub turn_ttl: u64,
    pub cf_key_id: Option<&'a str>,
    pub cf_api_token: Option<&'a str>,
    pub cf_ttl: u64,
    pub cf_api_base: &'a str,
}

/// Where ICE servers come from, validated once at start-up.
#[derive(Clone, Debug, PartialEq)]
pub struct IceSettings {
    static_servers: Vec<Value>,
    turn_rest: Option<TurnRest>,
    cloudflare: Option<CloudflareTurn>,
}

/// coturn's `use-auth-secret` convention (the TURN REST API): the server shares a secret with
/// the TURN server and mints time-limited credentials from it.
#[derive(Clone, PartialEq)]
struct TurnRest {
    urls: Vec<String>,
    secret: String,
    ttl_secs: u64,
}

// Never print the secret, not even in debug logs.
impl std::fmt::Debug for TurnRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnRest")
            .field("urls", &self.urls)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// Cloudflare's managed TURN: a key id and an API token that mint credentials per request.
#[derive(Clone, PartialEq)]
pub struct CloudflareTurn {
    key_id: String,
    api_token: String,
    ttl_secs: u64,
    api_base: String,
}

impl std::fmt::Debug for CloudflareTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudflareTurn")
            .field("key_id", &self.key_id)
            .field("api_base", &self.api_base)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// The HTTP request that asks Cloudflare for ICE servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudflareRequest {
    pub url: String,
    /// The value of the `Authorization` header.
    pub authorization: String,
    /// The JSON body.
    pub body: String,
}

/// A ready-to-use `RTCConfiguration.iceServers` list.
#[derive(Clone, Debug, PartialEq)]
pub struct IceConfiguration {
    pub ice_servers: Vec<Value>,
    /// Seconds until the first minted credential expires; `None` when nothing expires.
    pub ttl_secs: Option<u64>,
}

impl IceConfiguration {
    /// The `iceServers` array as compact JSON.
    pub fn ice_servers_json(&self) -> String {
        Value::Array(self.ice_servers.clone()).to_string()
    }

    /// The body of `GET /api/ice-servers`: `{"iceServers":[...],"ttl":N}`.
    pub fn http_body(&self) -> String {
        let mut body = json!({ "iceServers": self.ice_servers });
        if let (Some(ttl), Some(object)) = (self.ttl_secs, body.as_object_mut()) {
            object.insert("ttl".into(), ttl.into());
        }
        body.to_string()
    }
}

impl Default for IceSettings {
    fn default() -> Self {
        Self {
            static_servers: default_servers(),
            turn_rest: None,
            cloudflare: None,
        }
    }
}

impl IceSettings {
    /// Validates the ICE sources. A bad value is an error naming the variable, so a
    /// misconfigured deployment says what is wrong instead of handing out a broken config.
    ///
    /// - `ICE_SERVERS`: JSON `RTCIceServer` array.
    /// - `TURN_URLS` + `TURN_SECRET` (+ `TURN_TTL`): TURN REST credentials for those URLs.
    /// - `CF_TURN_KEY_ID` + `CF_TURN_API_TOKEN` (+ `CF_TURN_TTL`, `CF_TURN_API_BASE`).
    pub fn from_sources(sources: &IceSources<'_>) -> Result<Self, ConfigError> {
        let static_servers = parse_ice_servers("ICE_SERVERS", sources.ice_servers)?;
        let turn_rest = match (sources.turn_urls.is_empty(), sources.turn_secret) {
            (true, None) => None,
            (false, None) => return Err(missing("TURN_URLS is set but TURN_SECRET is not")),
            (true, Some(_)) => return Err(missing("TURN_SECRET is set but TURN_URLS is not")),
            (false, Some(secret)) => Some(TurnRest {
                urls: check_turn_urls(sources.turn_urls)?,
                secret: secret.to_owned(),
                ttl_secs: sources.turn_ttl,
            }),
        };
        let cloudflare = match (sources.cf_key_id, sources.cf_api_token) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(missing(
                    "CF_TURN_KEY_ID is set but CF_TURN_API_TOKEN is not",
                ))
            }
            (None, Some(_)) => {
                return Err(missing(
                    "CF_TURN_API_TOKEN is set but CF_TURN_KEY_ID is not",
                ))
            }
            (Some(key_id), Some(api_token)) => {
                if !key_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    return Err(missing("CF_TURN_KEY_ID must be letters, digits and dashes"));
                }
                Some(CloudflareTurn {
                    key_id: key_id.to_owned(),
                    api_token: api_token.to_owned(),
                    ttl_secs: sources.cf_ttl,
                    api_base: sources.cf_api_base.trim_end_matches('/').to_owned(),
                })
            }
        };
        Ok(Self {
            static_servers,
            turn_rest,
            cloudflare,
        })
    }

    /// Whether any source mints TURN credentials (the static entries are not one).
    pub fn has_turn(&self) -> bool {
        self.turn_rest.is_some() || self.cloudflare.is_some()
    }

    /// How long Cloudflare's credentials live, when it is configured.
    pub fn cloudflare_ttl_secs(&self) -> Option<u64> {
        self.cloudflare.as_ref().map(|cf| cf.ttl_secs)
    }

    /// The request to send to Cloudflare, when its TURN service is configured.
    pub fn cloudflare_request(&self) -> Option<CloudflareRequest> {
        let cf = self.cloudflare.as_ref()?;
        Some(CloudflareRequest {
            url: format!(
                "{}/turn/keys/{}/credentials/generate-ice-servers",
                cf.api_base, cf.key_id
            ),
            authorization: format!("Bearer {}", cf.api_token),
            body: json!({ "ttl": cf.ttl_secs }).to_string(),
        })
    }

    /// The static entries alone: what a client that may not have TURN credentials gets.
    pub fn static_configuration(&self) -> IceConfiguration {
        IceConfiguration {
            ice_servers: self.static_servers.clone(),
            ttl_secs: None,
        }
    }

    /// Builds the configuration for one client at `now_unix` (seconds). `label` ends up in the
    /// TURN username (`<expiry>:<label>`), so TURN logs can tell clients apart. `cloudflare` is
    /// Cloudflare's parsed answer with the seconds its credentials have left, or `None` when it
    /// is not configured or the call failed: the other sources still make a usable
    /// configuration.
    pub fn configuration(
        &self,
        label: &str,
        now_unix: u64,
        cloudflare: Option<CloudflareServers>,
    ) -> IceConfiguration {
        let mut ice_servers = self.static_servers.clone();
        let mut ttl_secs = None;
        if let Some(rest) = &self.turn_rest {
            let cred = turn_rest_credential(&rest.secret, label, now_unix, rest.ttl_secs);
            ice_servers.push(json!({
                "urls": rest.urls,
                "username": cred.username,
                "credential": cred.credential,
            }));
            ttl_secs = Some(rest.ttl_secs);
        }
        if let (Some(_), Some(cf)) = (&self.cloudflare, cloudflare) {
            ice_servers.extend(cf.servers);
            ttl_secs = Some(ttl_secs.map_or(cf.ttl_secs, |t: u64| t.min(cf.ttl_secs)));
        }
        IceConfiguration {
            ice_servers,
            ttl_secs,
        }
    }
}

/// A TURN REST credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnCredential {
    /// `<expiry unix time>:<label>`.
    pub username: String,
    /// base64(HMAC-SHA1(secret, username)).
    pub credential: String,
    pub expires_at: u64,
}

/// Mints a credential the way coturn's `use-auth-secret` checks it.
pub fn turn_rest_credential(
    secret: &str,
    label: &str,
    now_unix: u64,
    ttl_secs: u64,
) -> TurnCredential {
    let expires_at = now_unix.saturating_add(ttl_secs);
    // Colons would split the username differently on the TURN server's side.
    let label: String = label.chars().filter(|c| *c != ':').collect();
    let username = if label.is_empty() {
        expires_at.to_string()
    } else {
        format!("{expires_at}:{label}")
    };
    let credential = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(username.as_bytes());
            crate::base64url::encode_standard(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this arm exists only because the API is fallible.
        Err(_) => String::new(),
    };
    TurnCredential {
        username,
        credential,
        expires_at,
    }
}

/// Reads Cloudflare's `generate-ice-servers` answer, dropping port-53 URLs: browsers time out
/// on them, as Cloudflare's documentation warns.
pub fn parse_cloudflare_response(body: &str) -> Result<Vec<Value>, ConfigError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| ConfigError(format!("Cloudflare TURN answer is not JSON: {e}")))?;
    let servers = value
        .get("iceServers")
        .and_then(Value::as_array)
        .ok_or_else(|| ConfigError("Cloudflare TURN answer has no iceServers array".into()))?;
    let mut kept = Vec::new();
    for server in servers {
        let mut server = server.clone();
        let urls: Vec<String> = match server.get("urls") {
            Some(Value::String(u)) => vec![u.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let urls: Vec<String> = urls
            .into_iter()
            .filter(|u| is_ice_url(u) && !uses_port_53(u))
            .collect();
        if urls.is_empty() {
            continue;
        }
        if let Some(object) = server.as_object_mut() {
            object.insert("urls".into(), json!(urls));
            kept.push(server);
        }
    }
    if kept.is_empty() {
        return Err(ConfigError(
            "Cloudflare TURN answer has no usable ICE server".into(),
        ));
    }
    Ok(kept)
}

/// Cloudflare's servers, with the seconds their credentials have left.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudflareServers {
    pub servers: Vec<Value>,
    pub ttl_secs: u64,
}

/// Cloudflare's answer is reused for this fraction of its lifetime: at the default hour, one
/// call per isolate every six minutes, and every client still gets credentials with at least
/// nine tenths of their life left (the `ttl` it is told counts down, so it refreshes in time).
pub const CLOUDFLARE_REUSE_FRACTION: u64 = 10;

/// After a failed call, the other sources answer alone for this long before Cloudflare is
/// asked again, so an outage costs one slow call per isolate per period, not one per client.
pub const CLOUDFLARE_RETRY_MS: u64 = 10_000;

/// The last answer from Cloudflare in this isolate. Time comes in as milliseconds; a clock
/// that goes backwards makes an answer look newer, never older than it is.
#[derive(Clone, Debug, Default)]
pub struct CloudflareCache {
    last: Option<(u64, Option<CloudflareServers>)>,
}

/// What the cache holds at some moment.
#[derive(Clone, Debug, PartialEq)]
pub enum Cached {
    /// Servers to hand out as they are.
    Fresh(CloudflareServers),
    /// Cloudflare failed a moment ago: answer without it.
    RecentFailure,
    /// Nothing usable: ask Cloudflare.
    Stale,
}

impl Cached {
    pub fn is_fresh(&self) -> bool {
        matches!(self, Cached::Fresh(_))
    }
}

impl CloudflareCache {
    pub fn lookup(&self, now_ms: u64) -> Cached {
        let Some((at_ms, answer)) = &self.last else {
            return Cached::Stale;
        };
        let age_ms = now_ms.saturating_sub(*at_ms);
        match answer {
            Some(cf) => {
                let reuse_ms = cf.ttl_secs.saturating_mul(1000) / CLOUDFLARE_REUSE_FRACTION;
                if age_ms < reuse_ms {
                    let age_secs = age_ms.div_ceil(1000);
                    Cached::Fresh(CloudflareServers {
                        servers: cf.servers.clone(),
                        ttl_secs: cf.ttl_secs.saturating_sub(age_secs),
                    })
                } else {
                    Cached::Stale
                }
            }
            None if age_ms < CLOUDFLARE_RETRY_MS => Cached::RecentFailure,
            None => Cached::Stale,
        }
    }

    /// Records Cloudflare's answer (`None`: the call failed) received at `now_ms`.
    pub fn store(&mut self, now_ms: u64, answer: Option<CloudflareServers>) {
        self.last = Some((now_ms, answer));
    }
}

/// `turn:host:53?transport=udp` and the like.
fn uses_port_53(url: &str) -> bool {
    let without_query = url.split('?').next().unwrap_or(url);
    without_query.ends_with(":53")
}

fn default_servers() -> Vec<Value> {
    serde_json::from_str(DEFAULT_ICE_SERVERS).unwrap_or_default()
}

fn missing(reason: &str) -> ConfigError {
    ConfigError(reason.to_owned())
}

/// `TURN_URLS` entries must be TURN URLs.
fn check_turn_urls(urls: &[String]) -> Result<Vec<String>, ConfigError> {
    if urls
        .iter()
        .all(|u| u.starts_with("turn:") || u.starts_with("turns:"))
    {
        Ok(urls.to_vec())
    } else {
        Err(ConfigError(
            "TURN_URLS must list turn: or turns: URLs".into(),
        ))
    }
}

/// Checks the shape browsers require of `RTCConfiguration.iceServers`.
pub fn parse_ice_servers(name: &str, json: &str) -> Result<Vec<Value>, ConfigError> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| ConfigError(format!("{name} is not valid JSON: {e}")))?;
    let Value::Array(servers) = value else {
        return Err(ConfigError(format!("{name} must be a JSON array")));
    };
    for (i, server) in servers.iter().enumerate() {
        let urls = server
            .get("urls")
            .ok_or_else(|| ConfigError(format!("{name}[{i}] has no \"urls\"")))?;
        let valid = match urls {
            Value::String(u) => is_ice_url(u),
            Value::Array(list) => {
                !list.is_empty() && list.iter().all(|u| u.as_str().is_some_and(is_ice_url))
            }
            _ => false,
        };
        if !valid {
            return Err(ConfigError(format!(
                "{name}[{i}].urls must be a stun:/turn:/turns: URL or a non-empty list of them"
            )));
        }
    }
    Ok(servers)
}

fn is_ice_url(url: &str) -> bool {
    ["stun:", "stuns:", "turn:", "turns:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The ICE settings the settings pipeline makes of these variables.
    fn ice(pairs: &[(&str, &str)]) -> Result<IceSettings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        crate::Settings::from_vars(|name| map.get(name).cloned())
            .0
            .ice
    }

    // Vectors computed independently:
    //   printf %s '1700003600:alice' | openssl dgst -sha1 -hmac north-wind -binary | base64
    #[test]
    fn credential_matches_openssl_hmac_sha1() {
        let cred = turn_rest_credential("north-wind", "alice", 1_700_000_000, 3600);
        assert_eq!(cred.username, "1700003600:alice");
        assert_eq!(cred.credential, "iRtTIZ3N38dm9S+dP+UkHfnN9Qo=");
        assert_eq!(cred.expires_at, 1_700_003_600);
    }

    #[test]
    fn credential_without_label_is_the_bare_expiry_and_colons_are_dropped() {
        assert_eq!(turn_rest_credential("s", "", 10, 60).username, "70");
        assert_eq!(turn_rest_credential("s", "a:b", 10, 60).username, "70:ab");
    }

    #[test]
    fn expiry_saturates_instead_of_overflowing() {
        assert_eq!(
            turn_rest_credential("s", "x", u64::MAX, 60).expires_at,
            u64::MAX
        );
    }

    #[test]
    fn defaults_to_public_stun_without_ttl() {
        let settings = ice(&[]).unwrap();
        let conf = settings.configuration("peer", 0, None);
        assert_eq!(conf.ice_servers_json(), DEFAULT_ICE_SERVERS);
        assert_eq!(conf.ttl_secs, None);
        assert!(settings.cloudflare_request().is_none());
    }

    #[test]
    fn turn_rest_servers_carry_fresh_credentials_and_ttl() {
        let settings = ice(&[
            ("ICE_SERVERS", "[]"),
            (
                "TURN_URLS",
                "turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp",
            ),
            ("TURN_SECRET", "north-wind"),
            ("TURN_TTL", "3600"),
        ])
        .unwrap();
        let conf = settings.configuration("alice", 1_700_000_000, None);
        assert_eq!(conf.ttl_secs, Some(3600));
        assert_eq!(
            conf.ice_servers,
            vec![json!({
                "urls": ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"],
                "username": "1700003600:alice",
                "credential": "iRtTIZ3N38dm9S+dP+UkHfnN9Qo=",
            })]
        );
        let later = settings.configuration("alice", 1_700_000_100, None);
        assert_ne!(
            later.ice_servers, conf.ice_servers,
            "each request mints anew"
        );
    }

    #[test]
    fn configuration_errors_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("ICE_SERVERS", "nope")], "ICE_SERVERS is not valid JSON"),
            (&[("ICE_SERVERS", "{}")], "ICE_SERVERS must be a JSON array"),
            (&[("ICE_SERVERS", "[{}]")], "ICE_SERVERS[0] has no \"urls\""),
            (
                &[("ICE_SERVERS", r#"[{"urls":"http://x"}]"#)],
                "ICE_SERVERS[0].urls",
            ),
            (
                &[("ICE_SERVERS", r#"[{"urls":[]}]"#)],
                "ICE_SERVERS[0].urls",
            ),
            (&[("TURN_URLS", "turn:x")], "TURN_SECRET is not"),
            (&[("TURN_SECRET", "s")], "TURN_URLS is not"),
            (
                &[("TURN_URLS", "stun:x"), ("TURN_SECRET", "s")],
                "TURN_URLS must list",
            ),
            (
                &[("TURN_URLS", "[1]"), ("TURN_SECRET", "s")],
                "TURN_SECRET is set but TURN_URLS is not",
            ),
            (&[("CF_TURN_KEY_ID", "k")], "CF_TURN_API_TOKEN is not"),
            (&[("CF_TURN_API_TOKEN", "t")], "CF_TURN_KEY_ID is not"),
            (
                &[("CF_TURN_KEY_ID", "../x"), ("CF_TURN_API_TOKEN", "t")],
                "CF_TURN_KEY_ID must be",
            ),
        ];
        for (pairs, expected) in cases {
            let err = ice(pairs).unwrap_err();
            assert!(err.0.contains(expected), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let settings = ice(&[
            ("TURN_URLS", "turn:x"),
            ("TURN_SECRET", "very-secret-1"),
            ("CF_TURN_KEY_ID", "key"),
            ("CF_TURN_API_TOKEN", "very-secret-2"),
        ])
        .unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains("very-secret"), "{printed}");
    }

    #[test]
    fn cloudflare_request_follows_the_documented_api() {
        let settings = ice(&[
            ("CF_TURN_KEY_ID", "abc123"),
            ("CF_TURN_API_TOKEN", "tok"),
            ("CF_TURN_TTL", "7200"),
        ])
        .unwrap();
        let req = settings.cloudflare_request().unwrap();
        assert_eq!(
            req.url,
            "https://rtc.live.cloudflare.com/v1/turn/keys/abc123/credentials/generate-ice-servers"
        );
        assert_eq!(req.authorization, "Bearer tok");
        assert_eq!(req.body, r#"{"ttl":7200}"#);

        let local = ice(&[
            ("CF_TURN_KEY_ID", "abc123"),
            ("CF_TURN_API_TOKEN", "tok"),
            ("CF_TURN_API_BASE", "http://127.0.0.1:9/v1/"),
        ])
        .unwrap();
        assert_eq!(
            local.cloudflare_request().unwrap().url,
            "http://127.0.0.1:9/v1/turn/keys/abc123/credentials/generate-ice-servers"
        );
    }

    #[test]
    fn cloudflare_answer_loses_port_53_urls() {
        let answer = r#"{"iceServers":[
            {"urls":["stun:stun.cloudflare.com:3478","stun:stun.cloudflare.com:53"]},
            {"urls":["turn:turn.cloudflare.com:3478?transport=udp",
                     "turn:turn.cloudflare.com:53?transport=udp",
                     "turns:turn.cloudflare.com:443?transport=tcp"],
             "username":"u","credential":"c"}]}"#;
        let servers = parse_cloudflare_response(answer).unwrap();
        assert_eq!(
            servers,
            vec![
                json!({"urls": ["stun:stun.cloudflare.com:3478"]}),
                json!({
                    "urls": ["turn:turn.cloudflare.com:3478?transport=udp",
                             "turns:turn.cloudflare.com:443?transport=tcp"],
                    "username": "u", "credential": "c"
                }),
            ]
        );
    }

    #[test]
    fn bad_cloudflare_answers_are_errors() {
        for body in [
            "",
            "[]",
            r#"{"iceServers":{}}"#,
            r#"{"iceServers":[{"urls":["stun:x:53"]}]}"#,
        ] {
            assert!(parse_cloudflare_response(body).is_err(), "{body}");
        }
    }

    #[test]
    fn cloudflare_servers_join_the_others_and_the_shortest_ttl_wins() {
        let settings = ice(&[
            ("TURN_URLS", "turn:x"),
            ("TURN_SECRET", "s"),
            ("TURN_TTL", "600"),
            ("CF_TURN_KEY_ID", "k"),
            ("CF_TURN_API_TOKEN", "t"),
            ("CF_TURN_TTL", "300"),
        ])
        .unwrap();
        let cf = CloudflareServers {
            servers: vec![json!({"urls": ["turn:cf"], "username": "a", "credential": "b"})],
            ttl_secs: 300,
        };
        let with = settings.configuration("p", 0, Some(cf));
        assert_eq!(with.ice_servers.len(), 3);
        assert_eq!(with.ttl_secs, Some(300));
        // Cloudflare failed: the other sources still answer.
        let without = settings.configuration("p", 0, None);
        assert_eq!(without.ice_servers.len(), 2);
        assert_eq!(without.ttl_secs, Some(600));
    }

    #[test]
    fn cloudflare_answers_are_reused_for_a_tenth_of_their_life_with_the_ttl_counting_down() {
        let servers = vec![json!({"urls": ["turn:cf"], "username": "a", "credential": "b"})];
        let answer = CloudflareServers {
            servers: servers.clone(),
            ttl_secs: 3600,
        };
        let mut cache = CloudflareCache::default();
        assert_eq!(cache.lookup(0), Cached::Stale);
        cache.store(1_000_000, Some(answer.clone()));
        assert_eq!(cache.lookup(1_000_000), Cached::Fresh(answer));
        assert_eq!(
            cache.lookup(1_000_000 + 100_500),
            Cached::Fresh(CloudflareServers {
                servers,
                ttl_secs: 3600 - 101
            })
        );
        assert!(cache.lookup(1_000_000 + 359_999).is_fresh());
        assert_eq!(cache.lookup(1_000_000 + 360_000), Cached::Stale);
        // A clock going backwards does not age the answer.
        assert!(cache.lookup(0).is_fresh());
    }

    #[test]
    fn a_failed_call_is_not_repeated_for_a_while() {
        let mut cache = CloudflareCache::default();
        cache.store(5_000, None);
        assert_eq!(cache.lookup(5_000), Cached::RecentFailure);
        assert_eq!(
            cache.lookup(5_000 + CLOUDFLARE_RETRY_MS - 1),
            Cached::RecentFailure
        );
        assert_eq!(cache.lookup(5_000 + CLOUDFLARE_RETRY_MS), Cached::Stale);
    }

    #[test]
    fn http_body_has_ttl_only_when_something_expires() {
        let fixed = IceConfiguration {
            ice_servers: vec![],
            ttl_secs: None,
        };
        assert_eq!(fixed.http_body(), r#"{"iceServers":[]}"#);
        let minted = IceConfiguration {
            ice_servers: vec![],
            ttl_secs: Some(60),
        };
        assert_eq!(minted.http_body(), r#"{"iceServers":[],"ttl":60}"#);
    }
}
