//! Named Streams: WebRTC signaling as a Cloudflare Worker.
//!
//! The Worker ([`router`]) sends every WebSocket upgrade to the Durable Object named by its
//! stream path ([`object::StreamObject`]), which holds that stream's hibernatable sockets and
//! performs what the protocol core (`streams-core`) decides. Static assets in `public/` are
//! served by the runtime before this code runs.

mod api;
mod glue;
mod hibernation;
mod ice;
mod ids;
mod object;
mod router;
mod settings;

pub use object::StreamObject;

use streams_core::ErrorCode;
use wasm_bindgen::prelude::*;
use worker::{console_error, event, web_sys, Env};

#[event(start)]
fn start() {
    // A panic would poison the instance for every stream on it; if one ever happens, at least
    // log where.
    console_error_panic_hook::set_once();
}

/// The Worker's fetch handler, exported by hand instead of by `#[event(fetch)]`, whose async
/// wrapper settles every request through a Promise and a microtask queue and converts the
/// request first (reading `request.cf` among others). Routing needs none of that, so it runs
/// synchronously; see `bench/profile`.
#[wasm_bindgen]
pub fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> JsValue {
    router::route(req, env).unwrap_or_else(|e| {
        console_error!("{e}");
        router::http_error(ErrorCode::Internal)
            .map(router::raw)
            .unwrap_or(JsValue::UNDEFINED)
    })
}
