//! The HTTP API beside the WebSocket: `GET /api/ice-servers`.
//!
//! Apps that set up their RTCPeerConnection before opening the signaling socket (or that use
//! another signaling channel) get the same ICE configuration as `GET /peerconnection` gives.

use streams_core::{CorsOrigins, ErrorCode};
use worker::{Env, Headers, Method, Request, Response, Result};

use crate::ice::IceService;
use crate::{ids, router};

/// Paths under this prefix are the API, not streams.
pub const ICE_SERVERS_PATH: &str = "/api/ice-servers";

/// The variable listing origins whose pages may read the API.
const CORS_VAR: &str = "ICE_CORS_ORIGINS";

/// Answers the API; `access` is the router's verdict on `ICE_API_AUTH` (preflights need none).
pub async fn ice_servers(
    req: &Request,
    env: &Env,
    access: std::result::Result<(), ErrorCode>,
) -> Result<Response> {
    let cors = crate::settings::read(env, CORS_VAR)
        .map(|v| CorsOrigins::parse(&v))
        .unwrap_or_default();
    let allowed = cors.allow(req.headers().get("Origin")?.as_deref());
    let response = match req.method() {
        Method::Options => Response::empty()?.with_status(204),
        Method::Get => {
            if let Err(code) = access {
                return router::http_error(code);
            }
            let label = ids::mint()?;
            match IceService::from_env(env)
                .configuration(label.as_str())
                .await
            {
                Ok(ice) => Response::ok(ice.http_body())?,
                Err(_) => return router::http_error(ErrorCode::IceUnavailable),
            }
        }
        _ => return router::http_error(ErrorCode::MethodNotAllowed),
    };
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    // Minted credentials are per request: a cache would hand one client's to another.
    headers.set("Cache-Control", "no-store")?;
    headers.set("Vary", "Origin")?;
    if let Some(origin) = allowed {
        headers.set("Access-Control-Allow-Origin", &origin)?;
        headers.set("Access-Control-Allow-Methods", "GET, OPTIONS")?;
        headers.set("Access-Control-Allow-Headers", "Authorization")?;
        headers.set("Access-Control-Max-Age", "600")?;
    }
    Ok(response.with_headers(headers))
}
