//! Builds ICE configurations from the deployment's settings, calling Cloudflare's TURN API when
//! it is configured. Shared by `GET /peerconnection` on the WebSocket and the
//! `GET /api/ice-servers` HTTP endpoint.
//!
//! Cloudflare's answer is kept per isolate for a fraction of its lifetime, and at most one call
//! is in flight at a time. Whoever asks meanwhile waits for that call's answer to reach the
//! cache, checking on a timer of its own: a request may not touch another request's I/O (the
//! runtime refuses it, and a shared future would do so), so waiters share data, never futures.
//! A burst of requests, or a client asking on every frame, costs one call.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use streams_core::ice::{
    parse_cloudflare_response, Cached, CloudflareCache, CloudflareRequest, CloudflareServers,
    IceConfiguration,
};
use streams_core::{ConfigError, IceGrant, IceSettings, Settings};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{js_sys, Delay, Env};

use crate::{glue, log};

/// Cloudflare usually answers in tens of milliseconds; past this the other sources answer alone.
const CLOUDFLARE_TIMEOUT: Duration = Duration::from_secs(3);

/// A call older than this is presumed lost (its request was cancelled) and another may start.
const CALL_ABANDONED_MS: u64 = 4_000;

/// How often a request waiting on another's call looks at the cache.
const WAIT_STEP: Duration = Duration::from_millis(20);

#[derive(Default)]
struct Cloudflare {
    cache: CloudflareCache,
    /// When the call in flight started, if one is.
    in_flight_since: Option<u64>,
}

thread_local! {
    static CLOUDFLARE: RefCell<Cloudflare> = RefCell::default();
}

/// The ICE sources of this deployment, as this isolate's settings describe them.
pub struct IceService {
    settings: Rc<Settings>,
}

impl IceService {
    /// Takes the isolate's settings (parsed, and any problem logged, once per isolate).
    pub fn from_env(env: &Env) -> Self {
        Self {
            settings: crate::settings::shared(env),
        }
    }

    /// A configuration for one client; `label` goes into minted TURN usernames. With
    /// [`IceGrant::StaticOnly`] it is the static entries alone, and nothing is minted or asked.
    pub async fn configuration(
        &self,
        label: &str,
        grant: IceGrant,
    ) -> Result<IceConfiguration, ConfigError> {
        let settings = self.settings.ice.as_ref().map_err(Clone::clone)?;
        if grant == IceGrant::StaticOnly {
            return Ok(settings.static_configuration());
        }
        let cloudflare = cloudflare_servers(settings).await;
        let now_unix = now_ms() / 1000;
        Ok(settings.configuration(label, now_unix, cloudflare))
    }
}

/// Whole milliseconds since the epoch: far inside u64, never negative.
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// What a request should do about Cloudflare right now.
enum Step {
    Done(Option<CloudflareServers>),
    Wait,
    Call,
}

/// Cloudflare's servers from the cache, from the call in flight, or from a new call.
async fn cloudflare_servers(settings: &IceSettings) -> Option<CloudflareServers> {
    let request = settings.cloudflare_request()?;
    let ttl_secs = settings.cloudflare_ttl_secs()?;
    let started = now_ms();
    let deadline = started + CALL_ABANDONED_MS;
    loop {
        let now = now_ms();
        let step = CLOUDFLARE.with(|cell| {
            let mut state = cell.borrow_mut();
            match state.cache.lookup(now) {
                Cached::Fresh(servers) => return Step::Done(Some(servers)),
                Cached::RecentFailure => return Step::Done(None),
                Cached::Stale => {}
            }
            match state.in_flight_since {
                Some(since) if now.saturating_sub(since) < CALL_ABANDONED_MS => Step::Wait,
                _ => {
                    state.in_flight_since = Some(now);
                    Step::Call
                }
            }
        });
        match step {
            Step::Done(servers) => return servers,
            Step::Call => return call_cloudflare(&request, ttl_secs).await,
            Step::Wait if now >= deadline => return None,
            Step::Wait => Delay::from(WAIT_STEP).await,
        }
    }
}

/// One call to Cloudflare; its answer (or failure) goes into the cache for everyone.
async fn call_cloudflare(request: &CloudflareRequest, ttl_secs: u64) -> Option<CloudflareServers> {
    let answer = match ask_cloudflare(request).await {
        Ok(servers) => Some(CloudflareServers { servers, ttl_secs }),
        Err(e) => {
            log::warn("cloudflare-turn-unavailable")
                .str(
                    "message",
                    "Cloudflare TURN is unavailable; answering without it",
                )
                .str("error", &e.to_string())
                .emit();
            None
        }
    };
    CLOUDFLARE.with(|cell| {
        let mut state = cell.borrow_mut();
        state.cache.store(now_ms(), answer.clone());
        state.in_flight_since = None;
    });
    answer
}

async fn ask_cloudflare(
    request: &CloudflareRequest,
) -> Result<Vec<serde_json::Value>, ConfigError> {
    let call = glue::post_json(
        &request.url,
        &request.authorization,
        &request.body,
        CLOUDFLARE_TIMEOUT.as_millis() as f64,
    )
    .map_err(js_error)?;
    let answer = JsFuture::from(call).await.map_err(js_error)?;
    let status = js_sys::Reflect::get(&answer, &JsValue::from_str("status"))
        .ok()
        .and_then(|s| s.as_f64())
        .unwrap_or(0.0) as u16;
    let body = js_sys::Reflect::get(&answer, &JsValue::from_str("body"))
        .ok()
        .and_then(|b| b.as_string())
        .unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(ConfigError(format!("HTTP {status}")));
    }
    parse_cloudflare_response(&body)
}

/// A JavaScript failure (a network error, the timeout) as text for the log.
fn js_error(e: JsValue) -> ConfigError {
    ConfigError(
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "the call failed".into()),
    )
}
