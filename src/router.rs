//! The Worker's front door: admit a request to its stream's Durable Object, or refuse it.

use streams_core::{admit, ErrorCode, Refusal, Rejection};
use worker::{Env, Request, Response, Result, WebSocketPair};

use crate::api;

/// The Durable Object namespace binding in `wrangler.toml`.
pub const STREAMS_BINDING: &str = "STREAMS";

pub async fn route(req: Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    if url.path() == api::ICE_SERVERS_PATH {
        return api::ice_servers(&req, env).await;
    }
    let mode = url
        .query_pairs()
        .find(|(k, _)| k == "mode")
        .map(|(_, v)| v.into_owned());
    let upgrade = req
        .headers()
        .get("Upgrade")?
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let method = req.method().to_string();
    let decision = admit(&streams_core::Request {
        method: &method,
        upgrade,
        path: url.path(),
        mode: mode.as_deref(),
    });
    match decision {
        Ok(admitted) => {
            let namespace = env.durable_object(STREAMS_BINDING)?;
            let stub = namespace.id_from_name(admitted.key.as_str())?.get_stub()?;
            stub.fetch_with_request(req).await
        }
        Err(Rejection::Http(code)) => http_error(code),
        Err(Rejection::Socket(refusal)) => refuse_socket(refusal),
    }
}

/// A plain-text HTTP error: `<code>: <sentence>`.
pub fn http_error(code: ErrorCode) -> Result<Response> {
    Response::error(format!("{}\n", code.reason()), code.http_status())
}

/// Accepts a WebSocket outside any stream only to say why it is refused, then closes it.
pub fn refuse_socket(refusal: Refusal) -> Result<Response> {
    let pair = WebSocketPair::new()?;
    pair.server.accept()?;
    pair.server.send_with_str(refusal.frame())?;
    pair.server
        .close(Some(refusal.close_code()), Some(refusal.close_reason()))?;
    Response::from_websocket(pair.client)
}
