//! The deployment's settings: every wrangler var and secret, read once into one typed value.
//!
//! One table ([`vars!`] below) lists every variable once: its name, the field it is read into,
//! how its text is read, its default as the README states it, and the README's sentence about
//! it. The README's "Configuration reference" is checked against that table by a test, so a
//! variable cannot be added, renamed or re-defaulted in one place only. Adding a setting is
//! adding a row; its value is then `settings.vars.<field>`, and [`Settings::from_vars`] turns
//! the raw values into the typed pieces each part of the service takes (the stream [`Config`],
//! the admission [`Policy`], the ICE sources, the CORS list).
//!
//! Parsing is pure: the adapter hands in a lookup from variable name to its text, once per
//! isolate. Every problem is collected, not thrown, so that all of them are logged together at
//! start-up. A bad limit is reported and its default used; a bad access setting is reported and
//! fails closed (a typo in `PUBLISH_AUTH` must not open a stream that was meant to need tokens);
//! a bad ICE source makes every ICE request answer `ice-unavailable` until it is fixed.

use std::fmt;

use crate::config::{DEFAULT_RELAY_BURST_BYTES, DEFAULT_RELAY_BYTES_PER_SECOND};
use crate::ice::{IceSources, DEFAULT_CLOUDFLARE_API_BASE, DEFAULT_ICE_SERVERS};
use crate::sfu::{SfuMode, SfuSettings, DEFAULT_REALTIME_API_BASE};
use crate::{
    Access, Config, ConfigError, CorsOrigins, Credentials, IceSettings, Policy, Rate, RoomConfig,
};

/// How a variable's text becomes a value. Implemented by the "kind" column of the table.
pub trait Kind {
    type Value;
    /// Reads `text` (`None` when unset or blank); `default` is the table's default text.
    fn read(
        &self,
        name: &str,
        default: &str,
        text: Option<&str>,
        errors: &mut Vec<ConfigError>,
    ) -> Self::Value;
    /// Accepted whole numbers, which the README states after the meaning.
    fn range(&self) -> Option<(u64, u64)> {
        None
    }
    /// Set with `wrangler secret put` rather than under `[vars]`.
    fn secret(&self) -> bool {
        false
    }
}

/// A secret: used as given, never printed.
pub struct SecretKind;
/// Free text, trimmed; the default text is used when unset, unless it is `unset`.
pub struct Text;
/// Entries separated by commas or whitespace, or a JSON array of strings.
pub struct List;
/// A whole number from `min` to `max`; a bad value is reported and the default used.
pub struct Number {
    pub min: u64,
    pub max: u64,
}
/// One of a few words; unset gives `None`, anything else is reported and read as `invalid`.
pub struct Choice {
    pub choices: &'static [&'static str],
    pub invalid: &'static str,
}
/// `true` or `false`; anything else is reported and read as `false`.
pub struct Flag;

/// A secret's text. Its `Debug` shows only that it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<set>")
    }
}

impl Kind for SecretKind {
    type Value = Option<Secret>;
    fn read(&self, _: &str, _: &str, text: Option<&str>, _: &mut Vec<ConfigError>) -> Self::Value {
        text.map(|t| Secret(t.to_owned()))
    }
    fn secret(&self) -> bool {
        true
    }
}

impl Kind for Text {
    type Value = Option<String>;
    fn read(
        &self,
        _: &str,
        default: &str,
        text: Option<&str>,
        _: &mut Vec<ConfigError>,
    ) -> Self::Value {
        match text {
            Some(t) => Some(t.trim().to_owned()),
            None if default == UNSET => None,
            None => Some(default.to_owned()),
        }
    }
}

impl Kind for List {
    type Value = Vec<String>;
    fn read(
        &self,
        name: &str,
        _: &str,
        text: Option<&str>,
        errors: &mut Vec<ConfigError>,
    ) -> Self::Value {
        let Some(text) = text.map(str::trim) else {
            return Vec::new();
        };
        if text.starts_with('[') {
            return match serde_json::from_str::<Vec<String>>(text) {
                Ok(entries) => entries
                    .into_iter()
                    .map(|e| e.trim().to_owned())
                    .filter(|e| !e.is_empty())
                    .collect(),
                Err(e) => {
                    errors.push(ConfigError(format!(
                        "{name} is neither a JSON array of strings nor a list separated by commas or spaces: {e}"
                    )));
                    Vec::new()
                }
            };
        }
        split_list(text)
    }
}

/// Entries separated by commas or whitespace, empty ones dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Kind for Number {
    type Value = u64;
    fn read(
        &self,
        name: &str,
        default: &str,
        text: Option<&str>,
        errors: &mut Vec<ConfigError>,
    ) -> Self::Value {
        // The table's defaults are in range (a test checks); the fallback keeps this total.
        let fallback = default.parse().unwrap_or(self.min);
        let Some(text) = text else {
            return fallback;
        };
        match text.trim().parse::<u64>() {
            Ok(n) if (self.min..=self.max).contains(&n) => n,
            _ => {
                errors.push(ConfigError(format!(
                    "{name}={text:?} is not a whole number from {} to {}; using {fallback}",
                    self.min, self.max
                )));
                fallback
            }
        }
    }
    fn range(&self) -> Option<(u64, u64)> {
        Some((self.min, self.max))
    }
}

impl Kind for Choice {
    type Value = Option<&'static str>;
    fn read(
        &self,
        name: &str,
        _: &str,
        text: Option<&str>,
        errors: &mut Vec<ConfigError>,
    ) -> Self::Value {
        let text = text?.trim();
        if let Some(choice) = self.choices.iter().find(|c| **c == text) {
            return Some(choice);
        }
        errors.push(ConfigError(format!(
            "{name}={text:?} is not one of {}; treating it as {:?} (fail closed)",
            self.choices.join(", "),
            self.invalid
        )));
        Some(self.invalid)
    }
}

impl Kind for Flag {
    type Value = bool;
    fn read(
        &self,
        name: &str,
        _: &str,
        text: Option<&str>,
        errors: &mut Vec<ConfigError>,
    ) -> Self::Value {
        match text.map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                errors.push(ConfigError(format!(
                    "{name}={other:?} is not true or false; treating it as false"
                )));
                false
            }
        }
    }
}

/// The default text of a variable that has no value unless set.
pub const UNSET: &str = "unset";

/// One row of the table, as the README shows it.
#[derive(Clone, Debug)]
pub struct Var {
    pub name: &'static str,
    /// The default as the README states it.
    pub default: &'static str,
    /// The README's sentence (Markdown), before any range.
    pub meaning: &'static str,
    pub range: Option<(u64, u64)>,
    pub secret: bool,
}

impl Var {
    /// The README table row: `` | `NAME` | `default` | meaning (min to max) | ``.
    pub fn readme_row(&self) -> String {
        let range = self
            .range
            .map(|(min, max)| format!(" ({min} to {max})"))
            .unwrap_or_default();
        format!(
            "| `{}` | `{}` | {}{range} |",
            self.name, self.default, self.meaning
        )
    }
}

/// Declares the variables, one row each:
/// `NAME => field: Type = kind, "default", "README meaning";`
macro_rules! vars {
    ($( $name:ident => $field:ident: $ty:ty = $kind:expr, $default:expr, $meaning:literal; )*) => {
        $( pub const $name: &str = stringify!($name); )*

        /// Every variable's value as read, before the cross-checks of [`Settings::from_vars`].
        #[derive(Clone, Debug)]
        pub struct Vars {
            $( pub $field: $ty, )*
        }

        impl Vars {
            /// Reads each variable through `get` (blank counts as unset).
            pub fn read(
                get: impl Fn(&str) -> Option<String>,
                errors: &mut Vec<ConfigError>,
            ) -> Self {
                Self {
                    $( $field: Kind::read(&$kind, $name, $default, get($name).as_deref(), errors), )*
                }
            }
        }

        /// Every variable and secret, in README order.
        pub fn table() -> Vec<Var> {
            vec![ $( Var {
                name: $name,
                default: $default,
                meaning: $meaning,
                range: Kind::range(&$kind),
                secret: Kind::secret(&$kind),
            }, )* ]
        }
    };
}

const ACCESS: Choice = Choice {
    choices: &["open", "token"],
    invalid: "token",
};
const SUBSCRIBE_ACCESS: Choice = Choice {
    choices: &["open", "token", "hash-only"],
    invalid: "token",
};
const SFU_MODES: Choice = Choice {
    choices: &["off", "auto", "always"],
    invalid: "off",
};
const ICE_API_ACCESS: Choice = Choice {
    choices: &["open", "stream"],
    invalid: "stream",
};

vars! {
    TOKEN_SECRET => token_secret: Option<Secret> = SecretKind, "unset",
        "secret: the HMAC-SHA256 key for tokens ([docs/TOKENS.md](docs/TOKENS.md)); use 32+ random bytes, e.g. `openssl rand -base64 32`. Setting it makes `token` the default of both rules below";
    PUBLISH_AUTH => publish_auth: Option<&'static str> = ACCESS, "open",
        "`open` or `token` (default `token` when `TOKEN_SECRET` is set): whether publishers need a token";
    SUBSCRIBE_AUTH => subscribe_auth: Option<&'static str> = SUBSCRIBE_ACCESS, "open",
        "`open`, `token` or `hash-only` (default `token` when `TOKEN_SECRET` is set); `hash-only`: no token on hash paths, a token on plain paths";
    ALLOWED_ORIGINS => allowed_origins: Vec<String> = List, "any",
        "origins whose pages may connect, e.g. `https://app.example.com`; requests without `Origin` (non-browser clients) pass";
    ALLOWED_HOSTS => allowed_hosts: Vec<String> = List, "any",
        "host names served, e.g. `streams.example.com`; an entry without `:port` matches any port";
    ALLOWED_PATHS => allowed_paths: Vec<String> = List, "any",
        "stream path prefixes served, e.g. `/rooms/`";
    MAX_PATH_BYTES => max_path_bytes: u64 = Number { min: 2, max: 2048 }, "256",
        "longest stream path, in bytes";
    MAX_FRAME_BYTES => max_frame_bytes: u64 = Number { min: 1024, max: 1 << 20 }, "65536",
        "largest client frame, in bytes";
    MAX_SUBSCRIBERS => max_subscribers: u64 = Number { min: 1, max: 32_767 }, "1000",
        "subscribers per stream";
    FRAME_RATE => frame_rate: u64 = Number { min: 1, max: 100_000 }, "100",
        "frames per second per connection, steady rate";
    FRAME_BURST => frame_burst: u64 = Number { min: 1, max: 1_000_000 }, "400",
        "frames per connection in a burst";
    FLOOD_CLOSE_AFTER => flood_close_after: u64 = Number { min: 0, max: 1_000_000 }, "200",
        "dropped frames before a flooding connection is closed with 4022; `0` never closes";
    IP_CONNECT_RATE => ip_connect_rate: u64 = Number { min: 0, max: 1_000_000 }, "0",
        "only without the `CONNECT_LIMITER` binding: WebSocket attempts per minute per client address, counted per Worker isolate; `0` is off";
    RESUME_GRACE_SECONDS => resume_grace_seconds: u64 = Number { min: 0, max: 3600 }, "20",
        "seconds a member whose connection dropped stays in the stream, waiting to resume with the same id; `0` turns resume off";
    RESUME_QUEUE_BYTES => resume_queue_bytes: u64 = Number { min: 1024, max: 16 << 20 }, "262144",
        "bytes of frames queued for one away member; more ends its wait";
    HEARTBEAT_TIMEOUT_SECONDS => heartbeat_timeout_seconds: u64 = Number { min: 0, max: 3600 }, "30",
        "seconds of silence after which a connection that uses the heartbeat counts as dropped; `0` never";
    RELAY_BYTES_PER_SECOND => relay_bytes_per_second: u64 = Number { min: 0, max: 1 << 30 }, "65536",
        "relayed bytes per second between a subscriber and the publisher, each way, in bursts of 8 seconds' worth; `0` no budget";
    RELAY_STREAM_BYTES_PER_SECOND => relay_stream_bytes_per_second: u64 = Number { min: 0, max: 1 << 30 }, "262144",
        "relayed bytes per second in a whole stream, each way (the publisher to all its subscribers, all subscribers to the publisher), in bursts of 8 seconds' worth; `0` no budget";
    ICE_SERVERS => ice_servers: Option<String> = Text, DEFAULT_ICE_SERVERS,
        "static JSON `RTCIceServer` array, first in every ICE configuration and given to every client (never put TURN credentials here); `[]` for none";
    TURN_URLS => turn_urls: Vec<String> = List, "unset",
        "TURN server URLs (`turn:host:3478?transport=udp`) that get TURN REST credentials minted per request";
    TURN_SECRET => turn_secret: Option<Secret> = SecretKind, "unset",
        "secret: the TURN server's shared secret (coturn `static-auth-secret` with `use-auth-secret`)";
    TURN_TTL => turn_ttl: u64 = Number { min: 60, max: 604_800 }, "3600",
        "seconds a minted TURN credential lives";
    TURN_OPEN => turn_open: bool = Flag, "false",
        "`true` gives TURN credentials to every client; by default only connections and requests with a valid token or an `Origin` listed in `ALLOWED_ORIGINS` get them, others get the `ICE_SERVERS` entries only";
    CF_TURN_KEY_ID => cf_turn_key_id: Option<String> = Text, "unset",
        "Cloudflare TURN key id: with `CF_TURN_API_TOKEN`, ICE configurations also carry Cloudflare TURN servers";
    CF_TURN_API_TOKEN => cf_turn_api_token: Option<Secret> = SecretKind, "unset",
        "secret: the Cloudflare TURN key's API token";
    CF_TURN_TTL => cf_turn_ttl: u64 = Number { min: 60, max: 604_800 }, "3600",
        "seconds Cloudflare's credentials live";
    CF_TURN_API_BASE => cf_turn_api_base: Option<String> = Text, DEFAULT_CLOUDFLARE_API_BASE,
        "the Cloudflare Realtime API; tests point it at a local fake";
    ICE_API_AUTH => ice_api_auth: Option<&'static str> = ICE_API_ACCESS, "open",
        "`open` or `stream`: with `stream`, `GET /api/ice-servers?path=<stream path>&mode=<mode>` needs what connecting to that stream needs (allowlists and, where the rules ask for one, its token by `?token=` or `Authorization: Bearer`)";
    ICE_API_RATE => ice_api_rate: u64 = Number { min: 0, max: 1_000_000 }, "60",
        "only without the `ICE_LIMITER` binding: `GET /api/ice-servers` requests per minute per client address, counted per Worker isolate; `0` is off";
    ICE_CORS_ORIGINS => ice_cors_origins: Vec<String> = List, "unset",
        "origins whose pages may read `GET /api/ice-servers` and `GET /api/streams/<path>` (`*` for any); unset means same origin only";
    STATUS_API_RATE => status_api_rate: u64 = Number { min: 0, max: 1_000_000 }, "120",
        "only without the `STATUS_LIMITER` binding: `GET /api/streams/<path>` requests per minute per client address, counted per Worker isolate; `0` is off";
    ROOM_PREFIXES => room_prefixes: Option<String> = Text, "/rooms/,/calls/",
        "path prefixes under which rooms can be watched (`?mode=watch`) and streams report to their room (the parent path); entries start with `/`; `off` for no rooms";
    MAX_ROOM_WATCHERS => max_room_watchers: u64 = Number { min: 1, max: 32_767 }, "100",
        "watchers per room";
    MAX_ROOM_STREAMS => max_room_streams: u64 = Number { min: 1, max: 10_000 }, "100",
        "live streams listed per room; more are listed as others end";
    ROOM_VERIFY_SECONDS => room_verify_seconds: u64 = Number { min: 0, max: 86_400 }, "60",
        "seconds between a watched room's checks of the streams it lists against their objects (also done when a watcher connects); `0` only when a watcher connects";
    TEST_DROP_ROOM_REPORTS => test_drop_room_reports: u64 = Number { min: 0, max: 1_000_000 }, "0",
        "for tests only: the first N reports from streams to their rooms made in each Worker isolate fail as if the network lost them (they are sent again, as any failed report is)";
    REALTIME_APP_ID => realtime_app_id: Option<String> = Text, "unset",
        "the Cloudflare Realtime SFU app id; with `REALTIME_APP_SECRET` and `SFU_MODE`, streams can use the SFU, WHIP and WHEP ([docs/PROTOCOL.md](docs/PROTOCOL.md#sfu-mode))";
    REALTIME_APP_SECRET => realtime_app_secret: Option<Secret> = SecretKind, "unset",
        "secret: the Realtime SFU app's secret; it stays in the Worker (also the key of members' SFU tickets)";
    REALTIME_API_BASE => realtime_api_base: Option<String> = Text, DEFAULT_REALTIME_API_BASE,
        "the Realtime SFU Connection API; tests point it at a local stand-in";
    SFU_MODE => sfu_mode: Option<&'static str> = SFU_MODES, "off",
        "`off`, `auto` or `always`: `always` puts every stream on the SFU; `auto` switches a stream when its subscribers pass `MESH_MAX_SUBSCRIBERS`, until it empties";
    MESH_MAX_SUBSCRIBERS => mesh_max_subscribers: u64 = Number { min: 0, max: 32_767 }, "6",
        "with `SFU_MODE=auto`: the most subscribers (WHEP viewers included) a stream serves as a mesh";
}

/// Secrets shorter than this are used but reported: HMAC is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;

/// Who gets TURN credentials, when a TURN source is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnAccess {
    /// No TURN source: every answer is the static entries.
    NoTurn,
    /// Only clients that passed a real access check (a valid token, or a listed origin).
    Checked,
    /// Everyone (`TURN_OPEN=true`).
    Open,
}

impl TurnAccess {
    /// A word for the log.
    pub fn as_str(self) -> &'static str {
        match self {
            TurnAccess::NoTurn => "none",
            TurnAccess::Checked => "checked",
            TurnAccess::Open => "open",
        }
    }
}

/// What one client is given: the whole configuration, or the static entries alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IceGrant {
    /// Static entries and TURN credentials.
    WithTurn,
    /// The static entries (`ICE_SERVERS`) only.
    StaticOnly,
}

/// Everything configurable, parsed.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Every variable as read.
    pub vars: Vars,
    /// Per-stream settings, for the Durable Object.
    pub config: Config,
    /// Admission rules, for the Worker.
    pub policy: Policy,
    /// Connection attempts per client address in this isolate, when the platform's rate
    /// limiting binding is absent (`IP_CONNECT_RATE`).
    pub connect_rate: Option<Rate>,
    /// `GET /api/ice-servers` requests per client address in this isolate, when the platform's
    /// rate limiting binding is absent (`ICE_API_RATE`).
    pub ice_api_rate: Option<Rate>,
    /// `GET /api/streams/<path>` requests per client address in this isolate, when the
    /// platform's rate limiting binding is absent (`STATUS_API_RATE`).
    pub status_api_rate: Option<Rate>,
    /// `GET /api/ice-servers` needs what connecting to the named stream needs
    /// (`ICE_API_AUTH=stream`).
    pub ice_api_needs_stream_access: bool,
    /// Where ICE servers come from, or why none can be given.
    pub ice: Result<IceSettings, ConfigError>,
    /// Origins whose pages may read the HTTP API.
    pub cors: CorsOrigins,
    /// Who gets TURN credentials.
    pub turn: TurnAccess,
    /// Where rooms are (`ROOM_PREFIXES`): each entry starts with `/`; empty: no rooms.
    pub room_prefixes: Vec<String>,
    /// Per-room settings, for the room's Durable Object.
    pub rooms: RoomConfig,
    /// The Realtime SFU, when streams may use it.
    pub sfu: Option<SfuSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_vars(|_| None).0
    }
}

impl Settings {
    /// Reads every variable through `lookup` (name to text; `None` when unset). Returns the
    /// settings and a description of each value that could not be used as given.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> (Self, Vec<ConfigError>) {
        let mut errors = Vec::new();
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let vars = Vars::read(get, &mut errors);

        let policy = policy(&vars, &mut errors);
        let config = Config {
            max_frame_bytes: to_usize(vars.max_frame_bytes),
            max_subscribers: to_usize(vars.max_subscribers),
            frame_rate: Rate::per_second(to_u32(vars.frame_rate), to_u32(vars.frame_burst)),
            flood_close_after: to_u32(vars.flood_close_after),
            resume_grace_ms: vars.resume_grace_seconds.saturating_mul(1000),
            resume_queue_bytes: to_usize(vars.resume_queue_bytes),
            heartbeat_timeout_ms: vars.heartbeat_timeout_seconds.saturating_mul(1000),
            relay_budget: {
                // The burst scales with the rate: eight seconds' worth, as the defaults have it.
                let relay = to_u32(vars.relay_bytes_per_second);
                let burst = DEFAULT_RELAY_BURST_BYTES / DEFAULT_RELAY_BYTES_PER_SECOND;
                Rate::per_second(relay, relay.saturating_mul(burst))
            },
            relay_stream_budget: {
                let relay = to_u32(vars.relay_stream_bytes_per_second);
                let burst = DEFAULT_RELAY_BURST_BYTES / DEFAULT_RELAY_BYTES_PER_SECOND;
                Rate::per_second(relay, relay.saturating_mul(burst))
            },
        };
        let per_minute = |n: u64| (n > 0).then(|| Rate::per_minute(to_u32(n), to_u32(n)));
        let ice = IceSettings::from_sources(&IceSources {
            ice_servers: vars.ice_servers.as_deref().unwrap_or_default(),
            turn_urls: &vars.turn_urls,
            turn_secret: vars.turn_secret.as_ref().map(Secret::expose),
            turn_ttl: vars.turn_ttl,
            cf_key_id: vars.cf_turn_key_id.as_deref(),
            cf_api_token: vars.cf_turn_api_token.as_ref().map(Secret::expose),
            cf_ttl: vars.cf_turn_ttl,
            cf_api_base: vars.cf_turn_api_base.as_deref().unwrap_or_default(),
        });
        if let Err(e) = &ice {
            errors.push(ConfigError(format!("ICE configuration is invalid: {e}")));
        }
        let has_turn = ice.as_ref().is_ok_and(IceSettings::has_turn);
        let turn = match (has_turn, vars.turn_open) {
            (false, _) => TurnAccess::NoTurn,
            (true, false) => TurnAccess::Checked,
            (true, true) => TurnAccess::Open,
        };
        if turn == TurnAccess::Checked && !policy.has_secret() && policy.origins.is_empty() {
            errors.push(ConfigError(format!(
                "a TURN source is configured but no client can get its credentials: set {TOKEN_SECRET} (tokens), {ALLOWED_ORIGINS}, or {TURN_OPEN}=true"
            )));
        }
        let room_prefixes = match vars.room_prefixes.as_deref().map(str::trim) {
            None | Some("off") => Vec::new(),
            Some(text) => {
                let (good, bad): (Vec<String>, Vec<String>) = split_list(text)
                    .into_iter()
                    .partition(|p| p.starts_with('/'));
                for entry in bad {
                    errors.push(ConfigError(format!(
                        "{ROOM_PREFIXES} entry {entry:?} does not start with /; ignoring it"
                    )));
                }
                good
            }
        };
        let rooms = RoomConfig {
            max_watchers: to_usize(vars.max_room_watchers),
            max_streams: to_usize(vars.max_room_streams),
            verify_ms: vars.room_verify_seconds.saturating_mul(1000),
            frame_rate: config.frame_rate,
            flood_close_after: config.flood_close_after,
        };
        let sfu = sfu_settings(&vars, &mut errors);
        let settings = Settings {
            room_prefixes,
            rooms,
            sfu,
            connect_rate: per_minute(vars.ip_connect_rate),
            ice_api_rate: per_minute(vars.ice_api_rate),
            status_api_rate: per_minute(vars.status_api_rate),
            ice_api_needs_stream_access: vars.ice_api_auth.is_some_and(|a| a != "open"),
            cors: CorsOrigins::from_list(&vars.ice_cors_origins),
            config,
            policy,
            ice,
            turn,
            vars,
        };
        (settings, errors)
    }

    /// What a client gets: TURN credentials only under `TURN_OPEN`, or when it showed a valid
    /// token (`token_verified`) or comes from a page whose origin is in `ALLOWED_ORIGINS`.
    pub fn ice_grant(&self, creds: &Credentials<'_>, token_verified: bool) -> IceGrant {
        let granted = match self.turn {
            TurnAccess::NoTurn => false,
            TurnAccess::Open => true,
            TurnAccess::Checked => token_verified || self.policy.origin_listed(creds.origin),
        };
        if granted {
            IceGrant::WithTurn
        } else {
            IceGrant::StaticOnly
        }
    }

    /// One line for the log at start-up: who gets TURN credentials.
    pub fn turn_summary(&self) -> String {
        match self.turn {
            TurnAccess::NoTurn => {
                "ICE: no TURN source configured; clients get ICE_SERVERS only".into()
            }
            TurnAccess::Open => {
                format!("ICE: TURN credentials go to every client ({TURN_OPEN}=true)")
            }
            TurnAccess::Checked => {
                let mut who = Vec::new();
                if self.policy.has_secret() {
                    who.push("a valid token".to_owned());
                }
                if !self.policy.origins.is_empty() {
                    who.push(format!("an Origin in {ALLOWED_ORIGINS}"));
                }
                if who.is_empty() {
                    who.push("nothing (no client qualifies)".to_owned());
                }
                format!(
                    "ICE: TURN credentials only for connections and requests with {}; others get ICE_SERVERS only ({TURN_OPEN}=true gives them to everyone)",
                    who.join(" or ")
                )
            }
        }
    }
}

/// The SFU, when `SFU_MODE` asks for it and its app is named; otherwise none, and a mode
/// without its app is reported.
fn sfu_settings(vars: &Vars, errors: &mut Vec<ConfigError>) -> Option<SfuSettings> {
    let mode = match vars.sfu_mode {
        None | Some("off") => return None,
        Some("always") => SfuMode::Always,
        Some(_) => SfuMode::Auto {
            mesh_max: to_usize(vars.mesh_max_subscribers),
        },
    };
    let (Some(app_id), Some(secret)) = (&vars.realtime_app_id, &vars.realtime_app_secret) else {
        errors.push(ConfigError(format!(
            "{SFU_MODE} needs {REALTIME_APP_ID} and {REALTIME_APP_SECRET}: without them no stream uses the SFU"
        )));
        return None;
    };
    let api_base = vars
        .realtime_api_base
        .as_deref()
        .unwrap_or(DEFAULT_REALTIME_API_BASE)
        .trim_end_matches('/')
        .to_owned();
    if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
        errors.push(ConfigError(format!(
            "{REALTIME_API_BASE}={api_base:?} is not an http(s) URL: no stream uses the SFU"
        )));
        return None;
    }
    Some(SfuSettings {
        app_id: app_id.clone(),
        secret: secret.clone(),
        api_base,
        mode,
    })
}

/// The admission rules, with their cross-checks.
fn policy(vars: &Vars, errors: &mut Vec<ConfigError>) -> Policy {
    let secret = vars
        .token_secret
        .as_ref()
        .map(|s| s.expose().as_bytes().to_vec());
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
    let access = |value: Option<&str>| match value {
        None => default_access,
        Some("open") => Access::Open,
        Some("hash-only") => Access::HashOnly,
        Some(_) => Access::Token,
    };
    let publish = access(vars.publish_auth);
    let subscribe = access(vars.subscribe_auth);
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
    policy.origins = any_or(&vars.allowed_origins, |o| {
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
    policy.hosts = any_or(&vars.allowed_hosts, |h| h.to_ascii_lowercase());
    policy.path_prefixes = any_or(&vars.allowed_paths, str::to_owned);
    if let Some(bad) = policy.path_prefixes.iter().find(|p| !p.starts_with('/')) {
        errors.push(ConfigError(format!(
            "{ALLOWED_PATHS} entry {bad:?} does not start with /; it matches nothing"
        )));
    }
    policy.max_path_bytes = to_usize(vars.max_path_bytes);
    policy
}

/// A list where `*` (or nothing) means no restriction, which is an empty list.
fn any_or(entries: &[String], normalize: impl Fn(&str) -> String) -> Vec<String> {
    if entries.iter().any(|e| e == "*") {
        Vec::new()
    } else {
        entries.iter().map(|e| normalize(e)).collect()
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
    use crate::path::MAX_PATH_BYTES as DEFAULT_MAX_PATH_BYTES;

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
        assert_eq!(s.ice_api_rate, Some(Rate::per_minute(60, 60)));
        assert_eq!(s.status_api_rate, Some(Rate::per_minute(120, 120)));
        assert_eq!(s.config.max_frame_bytes, 65536);
        assert_eq!(s.config.max_subscribers, 1000);
        assert_eq!(s.policy.max_path_bytes, DEFAULT_MAX_PATH_BYTES);
        assert_eq!(s.turn, TurnAccess::NoTurn);
        assert_eq!(s.ice, Ok(IceSettings::default()));
        assert_eq!(s.cors, CorsOrigins::default());
    }

    #[test]
    fn every_default_is_read_without_complaint_and_numbers_are_in_range() {
        for var in table() {
            if let Some((min, max)) = var.range {
                let n: u64 = var.default.parse().unwrap();
                assert!((min..=max).contains(&n), "{}", var.name);
            }
            // `unset` and `any` describe; every other default is a value, read as such.
            if var.default == UNSET || var.default == "any" {
                continue;
            }
            let (_, errors) = parse(&[(var.name, var.default)]);
            let about: Vec<_> = errors.iter().filter(|e| e.0.contains(var.name)).collect();
            assert!(about.is_empty(), "{}: {about:?}", var.name);
        }
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
            (ALLOWED_PATHS, r#"["/rooms/", "/sha1/"]"#),
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
        let (_, errors) = parse(&[(ALLOWED_PATHS, "[/rooms/]")]);
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    /// Every list variable splits on commas, whitespace or both, ICE_CORS_ORIGINS and TURN_URLS
    /// included.
    #[test]
    fn every_list_splits_on_commas_and_whitespace() {
        let (s, errors) = parse(&[
            (
                ICE_CORS_ORIGINS,
                "https://a.example https://b.example,\thttps://c.example",
            ),
            (
                TURN_URLS,
                "turn:x:3478?transport=udp turn:x:3478?transport=tcp",
            ),
            (TURN_SECRET, "s"),
            (TURN_OPEN, "true"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        for origin in [
            "https://a.example",
            "https://b.example",
            "https://c.example",
        ] {
            assert!(s.cors.allow(Some(origin)).is_some(), "{origin}");
        }
        assert_eq!(
            s.vars.turn_urls,
            vec!["turn:x:3478?transport=udp", "turn:x:3478?transport=tcp"]
        );
    }

    #[test]
    fn limits_are_read_and_bad_ones_fall_back_to_defaults() {
        let (s, errors) = parse(&[
            (MAX_FRAME_BYTES, "2048"),
            (MAX_SUBSCRIBERS, "2"),
            (MAX_PATH_BYTES, "64"),
            (FRAME_RATE, "5"),
            (FRAME_BURST, "10"),
            (FLOOD_CLOSE_AFTER, "0"),
            (IP_CONNECT_RATE, "30"),
            (ICE_API_RATE, "0"),
            (STATUS_API_RATE, "30"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.config.max_frame_bytes, 2048);
        assert_eq!(s.config.max_subscribers, 2);
        assert_eq!(s.policy.max_path_bytes, 64);
        assert_eq!(s.config.frame_rate, Rate::per_second(5, 10));
        assert_eq!(s.config.flood_close_after, 0);
        assert_eq!(s.connect_rate, Some(Rate::per_minute(30, 30)));
        assert_eq!(s.ice_api_rate, None);
        assert_eq!(s.status_api_rate, Some(Rate::per_minute(30, 30)));
        let (s, errors) = parse(&[
            (MAX_FRAME_BYTES, "64k"),
            (MAX_SUBSCRIBERS, "0"),
            (MAX_PATH_BYTES, "100000"),
            (FRAME_RATE, "-1"),
        ]);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert_eq!(s.config, Config::default());
        assert_eq!(s.policy.max_path_bytes, 256);
    }

    #[test]
    fn resume_heartbeat_and_relay_settings_reach_the_stream_config() {
        let (s, errors) = parse(&[
            (RESUME_GRACE_SECONDS, "0"),
            (RESUME_QUEUE_BYTES, "4096"),
            (HEARTBEAT_TIMEOUT_SECONDS, "45"),
            (RELAY_BYTES_PER_SECOND, "1000"),
            (RELAY_STREAM_BYTES_PER_SECOND, "3000"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.config.resume_grace_ms, 0);
        assert_eq!(s.config.resume_queue_bytes, 4096);
        assert_eq!(s.config.heartbeat_timeout_ms, 45_000);
        assert_eq!(s.config.relay_budget, Rate::per_second(1000, 8000));
        assert_eq!(s.config.relay_stream_budget, Rate::per_second(3000, 24_000));
        let (s, errors) = parse(&[(RESUME_GRACE_SECONDS, "3601")]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(s.config.resume_grace_ms, 20_000);
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

    #[test]
    fn an_invalid_ice_source_is_an_error_logged_with_the_others() {
        let (s, errors) = parse(&[(ICE_SERVERS, "nope"), (MAX_SUBSCRIBERS, "x")]);
        assert!(s.ice.is_err());
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors
            .iter()
            .any(|e| e.0.starts_with("ICE configuration is invalid: ICE_SERVERS")));
    }

    const LONG_SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn creds(origin: Option<&str>) -> Credentials<'_> {
        Credentials {
            origin,
            ..Credentials::default()
        }
    }

    #[test]
    fn turn_credentials_need_a_token_or_a_listed_origin_unless_turn_is_open() {
        let turn = [(TURN_URLS, "turn:x"), (TURN_SECRET, "s")];
        // No TURN source: nothing to grant.
        let (s, _) = parse(&[]);
        assert_eq!(s.ice_grant(&creds(None), true), IceGrant::StaticOnly);
        // TURN, and no way to qualify: nobody, and the operator is told.
        let (s, errors) = parse(&turn);
        assert_eq!(s.turn, TurnAccess::Checked);
        assert_eq!(s.ice_grant(&creds(None), false), IceGrant::StaticOnly);
        assert!(
            errors.iter().any(|e| e.0.contains("no client can get")),
            "{errors:?}"
        );
        // A verified token qualifies.
        let (s, errors) = parse(&[turn[0], turn[1], (TOKEN_SECRET, LONG_SECRET)]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.ice_grant(&creds(None), true), IceGrant::WithTurn);
        assert_eq!(s.ice_grant(&creds(None), false), IceGrant::StaticOnly);
        // A listed origin qualifies; another origin, or none, does not.
        let (s, _) = parse(&[turn[0], turn[1], (ALLOWED_ORIGINS, "https://app.example")]);
        assert_eq!(
            s.ice_grant(&creds(Some("https://APP.example/")), false),
            IceGrant::WithTurn
        );
        assert_eq!(
            s.ice_grant(&creds(Some("https://evil.example")), false),
            IceGrant::StaticOnly
        );
        assert_eq!(s.ice_grant(&creds(None), false), IceGrant::StaticOnly);
        // `*` lists no origin.
        let (s, _) = parse(&[turn[0], turn[1], (ALLOWED_ORIGINS, "*")]);
        assert_eq!(
            s.ice_grant(&creds(Some("https://any.example")), false),
            IceGrant::StaticOnly
        );
        // TURN_OPEN: everyone; a typo keeps it closed.
        let (s, _) = parse(&[turn[0], turn[1], (TURN_OPEN, "true")]);
        assert_eq!(s.ice_grant(&creds(None), false), IceGrant::WithTurn);
        let (s, errors) = parse(&[turn[0], turn[1], (TURN_OPEN, "yes")]);
        assert_eq!(s.turn, TurnAccess::Checked);
        assert!(errors.iter().any(|e| e.0.starts_with("TURN_OPEN=")));
    }

    #[test]
    fn the_turn_policy_is_summed_up_for_the_log_without_secrets() {
        let (s, _) = parse(&[
            (TURN_URLS, "turn:x"),
            (TURN_SECRET, "turn-secret-value"),
            (TOKEN_SECRET, LONG_SECRET),
        ]);
        let line = s.turn_summary();
        assert!(line.contains("valid token"), "{line}");
        assert!(!line.contains("turn-secret-value") && !line.contains(LONG_SECRET));
        let debug = format!("{s:?}");
        assert!(!debug.contains("turn-secret-value") && !debug.contains(LONG_SECRET));
    }

    #[test]
    fn the_sfu_needs_its_mode_app_id_and_secret_and_a_mode_without_them_is_reported() {
        assert_eq!(parse(&[]).0.sfu, None);
        let app = [
            (REALTIME_APP_ID, "app"),
            (REALTIME_APP_SECRET, "app-secret"),
        ];
        assert_eq!(parse(&app).0.sfu, None, "off by default");
        let (s, errors) = parse(&[app[0], app[1], (SFU_MODE, "auto")]);
        assert!(errors.is_empty(), "{errors:?}");
        let sfu = s.sfu.unwrap();
        assert_eq!(sfu.mode, SfuMode::Auto { mesh_max: 6 });
        assert_eq!(
            sfu.url("sessions/new"),
            "https://rtc.live.cloudflare.com/v1/apps/app/sessions/new"
        );
        let (s, _) = parse(&[
            app[0],
            app[1],
            (SFU_MODE, "always"),
            (REALTIME_API_BASE, "http://127.0.0.1:9/v1/"),
            (MESH_MAX_SUBSCRIBERS, "2"),
        ]);
        let sfu = s.sfu.unwrap();
        assert_eq!(sfu.mode, SfuMode::Always);
        assert_eq!(sfu.url("x"), "http://127.0.0.1:9/v1/apps/app/x");
        let (s, errors) = parse(&[(SFU_MODE, "always")]);
        assert_eq!(s.sfu, None);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let (s, errors) = parse(&[app[0], app[1], (SFU_MODE, "sometimes")]);
        assert_eq!(s.sfu, None, "a typo is off");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(!format!("{s:?}").contains("app-secret"));
    }

    /// The README's configuration reference is the table, row for row.
    #[test]
    fn the_readme_configuration_table_is_the_settings_table() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("## Configuration reference")
            .nth(1)
            .expect("README has a Configuration reference section");
        let documented: Vec<&str> = section
            .lines()
            .skip_while(|l| !l.starts_with("| name |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        let expected: Vec<String> = table().iter().map(Var::readme_row).collect();
        assert_eq!(
            documented,
            expected,
            "README.md's Configuration reference must be exactly these rows:\n{}",
            expected.join("\n")
        );
    }
}
