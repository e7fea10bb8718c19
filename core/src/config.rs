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

/// Seconds a member that lost its connection stays a member, waiting to resume
/// (`RESUME_GRACE_SECONDS`; 0 disables resume).
pub const DEFAULT_RESUME_GRACE_SECONDS: u64 = 20;

/// Bytes of frames queued for a member while it is away (`RESUME_QUEUE_BYTES`): enough for an
/// offer and its candidates many times over, small enough that an away member costs little.
pub const DEFAULT_RESUME_QUEUE_BYTES: usize = 256 * 1024;

/// Seconds of silence after which a connection that uses the heartbeat counts as dropped
/// (`HEARTBEAT_TIMEOUT_SECONDS`; 0 disables the check). Clients ping every 20-30 s.
pub const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS: u64 = 30;

/// Bytes per second relayed between one subscriber and the publisher in each direction
/// (`RELAY_BYTES_PER_SECOND`), in bursts of [`DEFAULT_RELAY_BURST_BYTES`]. Negotiating a peer
/// connection takes tens of kilobytes; a client that stops reading must not make the runtime
/// buffer megabytes a second for it.
pub const DEFAULT_RELAY_BYTES_PER_SECOND: u32 = 64 * 1024;
pub const DEFAULT_RELAY_BURST_BYTES: u32 = 512 * 1024;

/// Bytes per second relayed in a whole stream in each direction (`RELAY_STREAM_BYTES_PER_SECOND`):
/// from the publisher to all its subscribers, and from all subscribers to the publisher, in
/// bursts of eight seconds' worth. The pair budget alone lets a publisher fan out to a hundred
/// subscribers that never read at a hundred times the pair's rate; this bounds what the runtime
/// can be made to buffer per stream, whatever the number of subscribers, and it is kept by the
/// stream, so a sender that reconnects does not get a fresh one. A publisher's offers to a few
/// hundred subscribers at once fit in the burst.
pub const DEFAULT_RELAY_STREAM_BYTES_PER_SECOND: u32 = 256 * 1024;
pub const DEFAULT_RELAY_STREAM_BURST_BYTES: u32 = 2 * 1024 * 1024;

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
    /// How long an away member waits to resume, in ms (0: resume is off, a drop is a departure).
    pub resume_grace_ms: u64,
    /// Most bytes queued for one away member; more is a departure.
    pub resume_queue_bytes: usize,
    /// Silence after the last heartbeat or frame that counts as a drop, in ms (0: never).
    pub heartbeat_timeout_ms: u64,
    /// Relay byte budget of each subscriber-publisher pair, per direction (amount = bytes).
    pub relay_budget: Rate,
    /// Relay byte budget of the whole stream, per direction (the publisher's fan-out, and the
    /// subscribers' fan-in to it).
    pub relay_stream_budget: Rate,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            frame_rate: Rate::per_second(DEFAULT_FRAME_RATE, DEFAULT_FRAME_BURST),
            flood_close_after: DEFAULT_FLOOD_CLOSE_AFTER,
            resume_grace_ms: DEFAULT_RESUME_GRACE_SECONDS * 1000,
            resume_queue_bytes: DEFAULT_RESUME_QUEUE_BYTES,
            heartbeat_timeout_ms: DEFAULT_HEARTBEAT_TIMEOUT_SECONDS * 1000,
            relay_budget: Rate::per_second(
                DEFAULT_RELAY_BYTES_PER_SECOND,
                DEFAULT_RELAY_BURST_BYTES,
            ),
            relay_stream_budget: Rate::per_second(
                DEFAULT_RELAY_STREAM_BYTES_PER_SECOND,
                DEFAULT_RELAY_STREAM_BURST_BYTES,
            ),
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
