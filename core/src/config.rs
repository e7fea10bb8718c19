//! Per-deployment settings the core needs, parsed and validated once at start-up.

use std::fmt;

/// Frames above this many bytes are refused with `frame-too-large`. SDP offers with many
/// candidates stay well under it; anything larger is not signaling.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;

/// Settings for one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest accepted text frame, in bytes.
    pub max_frame_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
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
