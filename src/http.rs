//! Response helpers shared by the Worker's front door, its HTTP API and the Durable Object: a
//! leaf module, so the crate's modules form a DAG.

use streams_core::{ErrorCode, IceGrant, Refusal};
use wasm_bindgen::prelude::*;
use worker::{web_sys, Error, Response, Result, WebSocket, WebSocketPair};

/// The Durable Object namespace binding in `wrangler.toml`.
pub const STREAMS_BINDING: &str = "STREAMS";

/// The rooms' Durable Object namespace binding in `wrangler.toml`.
pub const ROOMS_BINDING: &str = "ROOMS";

/// Set by the router on the request it forwards to a stream's object: [`ICE_GRANT_TURN`] when
/// the connection passed a real access check and may have TURN credentials. The router removes
/// any copy a client sent, and objects are reachable only through the router, so the object can
/// trust it.
pub const ICE_GRANT_HEADER: &str = "X-Named-Streams-Ice-Grant";

/// The value of [`ICE_GRANT_HEADER`] that grants TURN credentials.
pub const ICE_GRANT_TURN: &str = "turn";

/// What the router granted the connection it forwarded (for the stream's object).
pub fn ice_grant(req: &web_sys::Request) -> IceGrant {
    match req.headers().get(ICE_GRANT_HEADER) {
        Ok(Some(value)) if value == ICE_GRANT_TURN => IceGrant::WithTurn,
        _ => IceGrant::StaticOnly,
    }
}

/// A response as the runtime takes it.
pub fn raw(response: Response) -> JsValue {
    web_sys::Response::from(response).into()
}

/// A plain-text HTTP error: `<code>: <sentence>`.
pub fn http_error(code: ErrorCode) -> Result<Response> {
    Response::error(format!("{}\n", code.reason()), code.http_status())
}

#[wasm_bindgen(inline_js = r#"
export function upgrade(client) {
  return new Response(null, { status: 101, webSocket: client });
}
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = upgrade)]
    fn upgrade_response(client: &web_sys::WebSocket) -> std::result::Result<JsValue, JsValue>;
}

/// The `101 Switching Protocols` answer that hands `client` to the caller, as the runtime takes
/// it. Built directly: workers-rs' `Response::from_websocket` and its conversion to the
/// runtime's type build an init object field by field and a Headers object for every
/// connection (see `bench/profile`).
pub fn upgrade(client: &WebSocket) -> Result<JsValue> {
    upgrade_response(client.as_ref()).map_err(Error::from)
}

/// Accepts a WebSocket outside any stream only to say why it is refused, then closes it.
pub fn refuse_socket(refusal: Refusal) -> Result<JsValue> {
    let pair = WebSocketPair::new()?;
    pair.server.accept()?;
    pair.server.send_with_str(refusal.frame())?;
    pair.server
        .close(Some(refusal.close_code()), Some(refusal.close_reason()))?;
    upgrade(&pair.client)
}
