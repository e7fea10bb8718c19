//! Per-deployment settings the core needs, parsed and validated once at start-up.

use std::fmt;

use serde_json::Value;

use crate::Rate;

/// Frames above this many bytes are refused with `frame-too-large`. SDP offers with many
/// candidates stay well under it; anything larger is not signaling.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;

/// Subscribers per stream unless `MAX_SUBSCRIBERS` says otherwise. A publisher in a mesh sends
/// media to each one, so real streams stay far below; the bound keeps one stream from taking
/// the object's 32,768 sockets.
pub const DEFAULT_MAX_SUBSCRIBERS: usize = 1000;

/// Frames per second per connection (`FRAME_RATE`), in bursts of up to `DEFAULT_FRAME_BURST`
/// (`FRAME_BURST`): a publisher that greets dozens of subscribers at once sends an offer and a
/// handful of ICE candidates to each, so the burst is generous and the steady rate is not.
pub const DEFAULT_FRAME_RATE: u32 = 100;
pub const DEFAULT_FRAME_BURST: u32 = 400;

/// Dropped frames (without a pause long enough to refill the bucket) after which a connection
/// is closed for flooding (`FLOOD_CLOSE_AFTER`; 0 never closes).
pub const DEFAULT_FLOOD_CLOSE_AFTER: u32 = 200;

/// Used when no `ICE_SERVERS` is configured: a public STUN server, no TURN.
pub const DEFAULT_ICE_SERVERS: &str = r#"[{"urls":["stun:stun.cloudflare.com:3478"]}]"#;

/// Settings for one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest accepted text frame, in bytes.
    pub max_frame_bytes: usize,
    /// Most subscribers the stream admits at once.
    pub max_subscribers: usize,
    /// Frame rate limit of each connection.
    pub frame_rate: Rate,
    /// Dropped frames after which a flooding connection is closed (0: never).
    pub flood_close_after: u32,
    /// The `iceServers` array handed out by `GET /peerconnection`, as compact JSON.
    ice_servers: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            frame_rate: Rate::per_second(DEFAULT_FRAME_RATE, DEFAULT_FRAME_BURST),
            flood_close_after: DEFAULT_FLOOD_CLOSE_AFTER,
            ice_servers: DEFAULT_ICE_SERVERS.to_owned(),
        }
    }
}

impl Config {
    /// Sets the ICE servers from the JSON text of an `RTCIceServer` array.
    pub fn with_ice_servers(mut self, json: &str) -> Result<Self, ConfigError> {
        self.ice_servers = validate_ice_servers(json)?;
        Ok(self)
    }

    /// The compact JSON array of ICE servers.
    pub fn ice_servers(&self) -> &str {
        &self.ice_servers
    }
}

/// A configuration value that cannot be used, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Checks the shape browsers require of `RTCConfiguration.iceServers` and returns it compacted.
fn validate_ice_servers(json: &str) -> Result<String, ConfigError> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| ConfigError(format!("ICE_SERVERS is not valid JSON: {e}")))?;
    let servers = value
        .as_array()
        .ok_or_else(|| ConfigError("ICE_SERVERS must be a JSON array".into()))?;
    for (i, server) in servers.iter().enumerate() {
        let urls = server
            .get("urls")
            .ok_or_else(|| ConfigError(format!("ICE_SERVERS[{i}] has no \"urls\"")))?;
        let all_strings = match urls {
            Value::String(u) => is_ice_url(u),
            Value::Array(list) => {
                !list.is_empty() && list.iter().all(|u| u.as_str().is_some_and(is_ice_url))
            }
            _ => false,
        };
        if !all_strings {
            return Err(ConfigError(format!(
                "ICE_SERVERS[{i}].urls must be a stun:/turn:/turns: URL or a non-empty list of them"
            )));
        }
    }
    Ok(value.to_string())
}

fn is_ice_url(url: &str) -> bool {
    ["stun:", "stuns:", "turn:", "turns:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ice_servers_are_valid() {
        assert!(validate_ice_servers(DEFAULT_ICE_SERVERS).is_ok());
    }

    #[test]
    fn ice_servers_are_validated() {
        let ok = r#"[{"urls":"turn:127.0.0.1:3478","username":"u","credential":"c"}]"#;
        assert!(Config::default().with_ice_servers(ok).is_ok());
        for bad in [
            "nope",
            "{}",
            "[{}]",
            r#"[{"urls":5}]"#,
            r#"[{"urls":[]}]"#,
            r#"[{"urls":"http://x"}]"#,
        ] {
            assert!(Config::default().with_ice_servers(bad).is_err(), "{bad}");
        }
    }
}
