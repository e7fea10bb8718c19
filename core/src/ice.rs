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

/// Lifetime of minted TURN credentials when no TTL is configured: a day, as the TURN REST API
/// draft suggests, so a call outlives its credentials only if it lasts longer than that; clients
/// refresh before expiry anyway.
pub const DEFAULT_TURN_TTL_SECS: u64 = 86_400;

/// Cloudflare's API for short-lived TURN credentials.
pub const DEFAULT_CLOUDFLARE_API_BASE: &str = "https://rtc.live.cloudflare.com/v1";

/// Looks up a configuration variable or secret by name.
pub trait Vars {
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Vars for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
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
    /// Reads and validates every ICE variable. A bad value is an error naming the variable, so a
    /// misconfigured deployment says what is wrong instead of handing out a broken config.
    ///
    /// - `ICE_SERVERS`: JSON `RTCIceServer` array (default: Cloudflare's public STUN server).
    /// - `TURN_URLS` + `TURN_SECRET` (+ `TURN_TTL`): TURN REST credentials for those URLs.
    /// - `CF_TURN_KEY_ID` + `CF_TURN_API_TOKEN` (+ `CF_TURN_TTL`, `CF_TURN_API_BASE`).
    pub fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let static_servers = match non_empty(vars, "ICE_SERVERS") {
            Some(json) => parse_ice_servers("ICE_SERVERS", &json)?,
            None => default_servers(),
        };
        let turn_rest = match (non_empty(vars, "TURN_URLS"), non_empty(vars, "TURN_SECRET")) {
            (None, None) => None,
            (Some(_), None) => return Err(missing("TURN_URLS is set but TURN_SECRET is not")),
            (None, Some(_)) => return Err(missing("TURN_SECRET is set but TURN_URLS is not")),
            (Some(urls), Some(secret)) => Some(TurnRest {
                urls: parse_turn_urls(&urls)?,
                secret,
                ttl_secs: parse_ttl(vars, "TURN_TTL")?,
            }),
        };
        let cloudflare = match (
            non_empty(vars, "CF_TURN_KEY_ID"),
            non_empty(vars, "CF_TURN_API_TOKEN"),
        ) {
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
                    key_id,
                    api_token,
                    ttl_secs: parse_ttl(vars, "CF_TURN_TTL")?,
                    api_base: non_empty(vars, "CF_TURN_API_BASE")
                        .unwrap_or_else(|| DEFAULT_CLOUDFLARE_API_BASE.to_owned())
                        .trim_end_matches('/')
                        .to_owned(),
                })
            }
        };
        Ok(Self {
            static_servers,
            turn_rest,
            cloudflare,
        })
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

    /// Builds the configuration for one client at `now_unix` (seconds). `label` ends up in the
    /// TURN username (`<expiry>:<label>`), so TURN logs can tell clients apart. `cloudflare` is
    /// Cloudflare's parsed answer, or `None` when it is not configured or the call failed: the
    /// other sources still make a usable configuration.
    pub fn configuration(
        &self,
        label: &str,
        now_unix: u64,
        cloudflare: Option<Vec<Value>>,
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
        if let (Some(cf), Some(servers)) = (&self.cloudflare, cloudflare) {
            ice_servers.extend(servers);
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

/// `turn:host:53?transport=udp` and the like.
fn uses_port_53(url: &str) -> bool {
    let without_query = url.split('?').next().unwrap_or(url);
    without_query.ends_with(":53")
}

fn default_servers() -> Vec<Value> {
    serde_json::from_str(DEFAULT_ICE_SERVERS).unwrap_or_default()
}

fn non_empty(vars: &impl Vars, name: &str) -> Option<String> {
    vars.get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn missing(reason: &str) -> ConfigError {
    ConfigError(reason.to_owned())
}

fn parse_ttl(vars: &impl Vars, name: &str) -> Result<u64, ConfigError> {
    match non_empty(vars, name) {
        None => Ok(DEFAULT_TURN_TTL_SECS),
        Some(v) => match v.parse::<u64>() {
            Ok(ttl) if (60..=7 * 86_400).contains(&ttl) => Ok(ttl),
            _ => Err(ConfigError(format!(
                "{name} must be a whole number of seconds from 60 to 604800, not {v:?}"
            ))),
        },
    }
}

/// `TURN_URLS`: a JSON array of URLs, or a comma-separated list.
fn parse_turn_urls(text: &str) -> Result<Vec<String>, ConfigError> {
    let urls: Vec<String> = if text.starts_with('[') {
        serde_json::from_str(text)
            .map_err(|e| ConfigError(format!("TURN_URLS is not a JSON array of strings: {e}")))?
    } else {
        text.split(',').map(|u| u.trim().to_owned()).collect()
    };
    if urls.is_empty()
        || !urls
            .iter()
            .all(|u| u.starts_with("turn:") || u.starts_with("turns:"))
    {
        return Err(ConfigError(
            "TURN_URLS must list turn: or turns: URLs".into(),
        ));
    }
    Ok(urls)
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

    fn vars(pairs: &[(&str, &str)]) -> impl Vars {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
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
        let settings = IceSettings::from_vars(&vars(&[])).unwrap();
        let conf = settings.configuration("peer", 0, None);
        assert_eq!(conf.ice_servers_json(), DEFAULT_ICE_SERVERS);
        assert_eq!(conf.ttl_secs, None);
        assert!(settings.cloudflare_request().is_none());
    }

    #[test]
    fn turn_rest_servers_carry_fresh_credentials_and_ttl() {
        let settings = IceSettings::from_vars(&vars(&[
            ("ICE_SERVERS", "[]"),
            (
                "TURN_URLS",
                "turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp",
            ),
            ("TURN_SECRET", "north-wind"),
            ("TURN_TTL", "3600"),
        ]))
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
                "TURN_URLS is not a JSON",
            ),
            (
                &[
                    ("TURN_URLS", "turn:x"),
                    ("TURN_SECRET", "s"),
                    ("TURN_TTL", "5"),
                ],
                "TURN_TTL must be",
            ),
            (
                &[
                    ("TURN_URLS", "turn:x"),
                    ("TURN_SECRET", "s"),
                    ("TURN_TTL", "soon"),
                ],
                "TURN_TTL must be",
            ),
            (&[("CF_TURN_KEY_ID", "k")], "CF_TURN_API_TOKEN is not"),
            (&[("CF_TURN_API_TOKEN", "t")], "CF_TURN_KEY_ID is not"),
            (
                &[("CF_TURN_KEY_ID", "../x"), ("CF_TURN_API_TOKEN", "t")],
                "CF_TURN_KEY_ID must be",
            ),
        ];
        for (pairs, expected) in cases {
            let err = IceSettings::from_vars(&vars(pairs)).unwrap_err();
            assert!(err.0.contains(expected), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let settings = IceSettings::from_vars(&vars(&[
            ("TURN_URLS", "turn:x"),
            ("TURN_SECRET", "very-secret-1"),
            ("CF_TURN_KEY_ID", "key"),
            ("CF_TURN_API_TOKEN", "very-secret-2"),
        ]))
        .unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains("very-secret"), "{printed}");
    }

    #[test]
    fn cloudflare_request_follows_the_documented_api() {
        let settings = IceSettings::from_vars(&vars(&[
            ("CF_TURN_KEY_ID", "abc123"),
            ("CF_TURN_API_TOKEN", "tok"),
            ("CF_TURN_TTL", "7200"),
        ]))
        .unwrap();
        let req = settings.cloudflare_request().unwrap();
        assert_eq!(
            req.url,
            "https://rtc.live.cloudflare.com/v1/turn/keys/abc123/credentials/generate-ice-servers"
        );
        assert_eq!(req.authorization, "Bearer tok");
        assert_eq!(req.body, r#"{"ttl":7200}"#);

        let local = IceSettings::from_vars(&vars(&[
            ("CF_TURN_KEY_ID", "abc123"),
            ("CF_TURN_API_TOKEN", "tok"),
            ("CF_TURN_API_BASE", "http://127.0.0.1:9/v1/"),
        ]))
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
        let settings = IceSettings::from_vars(&vars(&[
            ("TURN_URLS", "turn:x"),
            ("TURN_SECRET", "s"),
            ("TURN_TTL", "600"),
            ("CF_TURN_KEY_ID", "k"),
            ("CF_TURN_API_TOKEN", "t"),
            ("CF_TURN_TTL", "300"),
        ]))
        .unwrap();
        let cf = vec![json!({"urls": ["turn:cf"], "username": "a", "credential": "b"})];
        let with = settings.configuration("p", 0, Some(cf));
        assert_eq!(with.ice_servers.len(), 3);
        assert_eq!(with.ttl_secs, Some(300));
        // Cloudflare failed: the other sources still answer.
        let without = settings.configuration("p", 0, None);
        assert_eq!(without.ice_servers.len(), 2);
        assert_eq!(without.ttl_secs, Some(600));
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
