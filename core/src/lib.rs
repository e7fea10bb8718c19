//! The named-stream signaling protocol, as a deterministic state machine with no I/O.
//!
//! One [`Stream`] holds the members of one stream path: at most one publisher and any number of
//! subscribers. Every runtime event (a connection, a text or binary frame, a close) is one call
//! that returns the [`Effect`]s to perform: texts to send and sockets to close. Ids, time and
//! configuration come in as arguments, so the same inputs always give the same outputs and the
//! whole protocol is testable natively. The Durable Object adapter in the parent crate does the
//! I/O; this crate knows nothing of `worker` or JavaScript.
//!
//! The wire format is that of rtclite's `streams.py`; `docs/PROTOCOL.md` is the full spec.
#![forbid(unsafe_code)]

mod admission;
mod base64url;
mod config;
mod cors;
mod effect;
pub mod engine;
mod error;
mod frame;
pub mod ice;
pub mod json;
mod limits;
mod message;
pub mod observed;
mod path;
mod peer;
mod policy;
pub mod realtime;
pub mod record;
pub mod resume;
pub mod room;
pub mod settings;
pub mod sfu;
pub mod sorted_map;
mod stream;
pub mod token;
pub mod url;

pub use admission::{admit, admit_ice_api, admit_status, admit_with, Admitted, Rejection, Request};
pub use base64url::{decode as base64url_decode, encode as base64url_encode};
pub use config::{
    Config, ConfigError, DEFAULT_FLOOD_CLOSE_AFTER, DEFAULT_FRAME_BURST, DEFAULT_FRAME_RATE,
    DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_SUBSCRIBERS,
};
pub use cors::CorsOrigins;
pub use effect::{Effect, Refusal};
pub use engine::{Connect, Engine, Input, Output, Sockets, Status};
pub use error::ErrorCode;
pub use frame::{parse_frame, Frame, FrameError, MsgId, RawObject};
pub use ice::IceSettings;
pub use limits::{
    client_key, FloodGuard, KeyedLimiter, Rate, TokenBucket, Verdict, DEFAULT_MAX_KEYS,
};
pub use message::{
    created_frame, error_frame, event_frame, peerconnection_frame, EventKind, HEARTBEAT_PING,
    HEARTBEAT_PONG,
};
pub use observed::{Change, Observed, Relayed};
pub use path::{is_reserved, RESERVED_SEGMENTS};
pub use path::{resolve, resolve_within, Mode, StreamKey, MAX_PATH_BYTES};
pub use peer::{PeerId, Role};
pub use policy::{Access, Credentials, Passed, Policy};
pub use record::{ConnId, HeldSocket, Identity, Queued, Record, Stored};
pub use resume::{Nonce, ResumeKey};
pub use room::{admit_watch, room_of, RoomConfig, RoomEngine, RoomInput, RoomOutput, WATCH_MODE};
pub use settings::{IceGrant, Secret, Settings, TurnAccess};
pub use sfu::{Holder, ProxyCall, Sfu, SfuMode, SfuSettings, SfuState};
pub use stream::Stream;
