//! Per-deployment settings the core needs, parsed and validated once at start-up.

use std::fmt;

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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            frame_rate: Rate::per_second(DEFAULT_FRAME_RATE, DEFAULT_FRAME_BURST),
            flood_close_after: DEFAULT_FLOOD_CLOSE_AFTER,
        }
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
