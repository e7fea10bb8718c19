//! The HTTP API beside the WebSocket: `GET /api/ice-servers` and `GET /api/streams/<path>`.
//!
//! Apps that set up their RTCPeerConnection before opening the signaling socket (or that use
//! another signaling channel) get the same ICE configuration as `GET /peerconnection` gives; a
//! page can ask whether a stream is live before joining it. Every answer, errors included, is
//! never cached and carries the CORS headers a listed origin needs to read it.

use streams_core::{ErrorCode, IceGrant, Settings, StreamKey};
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{web_sys, worker_sys, Env, Error, Headers, Response, Result};

use crate::http::{http_error, STREAMS_BINDING};
use crate::ice::IceService;
use crate::ratelimit::Limiter;
use crate::{ids, log};

/// The ICE endpoint; every other path under `/api/` but [`STATUS_PREFIX`] is `not-found`.
pub const ICE_SERVERS_PATH: &str = "/api/ice-servers";

/// `GET /api/streams/<stream path>`: the stream's status. The router also uses this path for
/// the request it sends the stream's object.
pub const STATUS_PREFIX: &str = "/api/streams";

/// The question a room's object asks a stream's object: who publishes there now (id and join
/// time). Only objects ask it: the router answers every `/api/` path it does not serve with
/// `not-found`, so the publisher's id never reaches the public status API.
pub const PRESENCE_PATH: &str = "/api/presence";

/// What the router decided before the answer is built.
pub struct Verdict {
    /// `ICE_API_AUTH`'s verdict (preflights need none).
    pub access: std::result::Result<(), ErrorCode>,
    /// Whether TURN credentials may be handed out.
    pub grant: IceGrant,
}

/// Answers the ICE API.
pub async fn ice_servers(
    req: &web_sys::Request,
    settings: &Settings,
    ice: IceService,
    limiter: Limiter,
    verdict: Verdict,
) -> Result<Response> {
    let headers = req.headers();
    let response = match req.method().as_str() {
        "OPTIONS" => Response::empty()?.with_status(204),
        "GET" => {
            let address = headers.get("CF-Connecting-IP").map_err(Error::from)?;
            let now_ms = worker::js_sys::Date::now() as u64;
            if !limiter.allow(address.as_deref(), now_ms).await {
                refused(ICE_SERVERS_PATH, ErrorCode::ConnectRate)?
            } else if let Err(code) = verdict.access {
                refused(ICE_SERVERS_PATH, code)?
            } else {
                let label = ids::mint()?;
                match ice.configuration(label.as_str(), verdict.grant).await {
                    Ok(ice) => Response::ok(ice.http_body())?,
                    Err(_) => http_error(ErrorCode::IceUnavailable)?,
                }
            }
        }
        _ => refused(ICE_SERVERS_PATH, ErrorCode::MethodNotAllowed)?,
    };
    let origin = headers.get("Origin").map_err(Error::from)?;
    finish(response, settings, origin.as_deref())
}

/// Answers the status API: `access` is the router's verdict on the stream path (the stream's
/// key, or why the request may not know).
pub async fn stream_status(
    req: &web_sys::Request,
    settings: &Settings,
    limiter: Limiter,
    access: std::result::Result<StreamKey, ErrorCode>,
    env: &Env,
) -> Result<Response> {
    let headers = req.headers();
    let response = match req.method().as_str() {
        "OPTIONS" => Response::empty()?.with_status(204),
        "GET" => {
            let address = headers.get("CF-Connecting-IP").map_err(Error::from)?;
            let now_ms = worker::js_sys::Date::now() as u64;
            if !limiter.allow(address.as_deref(), now_ms).await {
                refused(STATUS_PREFIX, ErrorCode::ConnectRate)?
            } else {
                match access {
                    Ok(key) => ask_stream(&key, env).await?,
                    Err(code) => refused(STATUS_PREFIX, code)?,
                }
            }
        }
        _ => refused(STATUS_PREFIX, ErrorCode::MethodNotAllowed)?,
    };
    let origin = headers.get("Origin").map_err(Error::from)?;
    finish(response, settings, origin.as_deref())
}

/// The status as the stream's object gives it. Asking wakes the object (or starts it, for a
/// stream that never existed), which answers without writing anything. Called and read through
/// the runtime's own types: workers-rs' response body reader is a stream machinery of its own.
async fn ask_stream(key: &StreamKey, env: &Env) -> Result<Response> {
    let namespace = env.durable_object(STREAMS_BINDING)?;
    let stub: worker_sys::DurableObject =
        namespace.id_from_name(key.as_str())?.get_stub()?.into_rpc();
    let url = format!("https://stream.internal{STATUS_PREFIX}");
    let answer: web_sys::Response = JsFuture::from(stub.fetch_with_str(&url)?)
        .await?
        .unchecked_into();
    if answer.status() != 200 {
        return http_error(ErrorCode::Internal);
    }
    let text = JsFuture::from(answer.text()?).await?;
    Response::ok(text.as_string().unwrap_or_default())
}

/// An HTTP refusal of the API, logged with its code.
fn refused(api: &str, code: ErrorCode) -> Result<Response> {
    log::info("refused")
        .str("api", api)
        .str("code", code.code())
        .num("status", u64::from(code.http_status()))
        .emit();
    http_error(code)
}

/// The headers every API answer carries.
fn finish(response: Response, settings: &Settings, origin: Option<&str>) -> Result<Response> {
    let out = Headers::new();
    let ok = (200..300).contains(&response.status_code());
    out.set(
        "Content-Type",
        if ok {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        },
    )?;
    // Minted credentials are per request, and a status is stale at once: a cache would hand
    // one client's credentials to another, or a live stream's status after it ended.
    out.set("Cache-Control", "no-store")?;
    out.set("Vary", "Origin")?;
    if let Some(origin) = settings.cors.allow(origin) {
        out.set("Access-Control-Allow-Origin", &origin)?;
        out.set("Access-Control-Allow-Methods", "GET, OPTIONS")?;
        out.set("Access-Control-Allow-Headers", "Authorization")?;
        out.set("Access-Control-Max-Age", "600")?;
    }
    Ok(response.with_headers(out))
}
