//! The HTTP API beside the WebSocket: `GET /api/ice-servers`.
//!
//! Apps that set up their RTCPeerConnection before opening the signaling socket (or that use
//! another signaling channel) get the same ICE configuration as `GET /peerconnection` gives.
//! Every answer, errors included, is never cached and carries the CORS headers a listed origin
//! needs to read it.

use streams_core::{ErrorCode, IceGrant, Settings};
use worker::{Headers, Method, Request, Response, Result};

use crate::http::http_error;
use crate::ice::IceService;
use crate::ids;
use crate::ratelimit::Limiter;

/// The one endpoint; every other path under `/api/` is `not-found`.
pub const ICE_SERVERS_PATH: &str = "/api/ice-servers";

/// What the router decided before the answer is built.
pub struct Verdict {
    /// `ICE_API_AUTH`'s verdict (preflights need none).
    pub access: std::result::Result<(), ErrorCode>,
    /// Whether TURN credentials may be handed out.
    pub grant: IceGrant,
}

/// Answers the API.
pub async fn ice_servers(
    req: &Request,
    settings: &Settings,
    ice: IceService,
    limiter: Limiter,
    verdict: Verdict,
) -> Result<Response> {
    let headers = req.headers();
    let origin = headers.get("Origin")?;
    let response = match req.method() {
        Method::Options => Response::empty()?.with_status(204),
        Method::Get => {
            let address = headers.get("CF-Connecting-IP")?;
            let now_ms = worker::js_sys::Date::now() as u64;
            if !limiter.allow(address.as_deref(), now_ms).await {
                http_error(ErrorCode::ConnectRate)?
            } else if let Err(code) = verdict.access {
                http_error(code)?
            } else {
                let label = ids::mint()?;
                match ice.configuration(label.as_str(), verdict.grant).await {
                    Ok(ice) => Response::ok(ice.http_body())?,
                    Err(_) => http_error(ErrorCode::IceUnavailable)?,
                }
            }
        }
        _ => http_error(ErrorCode::MethodNotAllowed)?,
    };
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
    // Minted credentials are per request: a cache would hand one client's to another.
    out.set("Cache-Control", "no-store")?;
    out.set("Vary", "Origin")?;
    if let Some(origin) = settings.cors.allow(origin.as_deref()) {
        out.set("Access-Control-Allow-Origin", &origin)?;
        out.set("Access-Control-Allow-Methods", "GET, OPTIONS")?;
        out.set("Access-Control-Allow-Headers", "Authorization")?;
        out.set("Access-Control-Max-Age", "600")?;
    }
    Ok(response.with_headers(out))
}
