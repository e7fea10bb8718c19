//! Named Streams: WebRTC signaling as a Cloudflare Worker.
//!
//! The Worker ([`router`]) sends every WebSocket upgrade to the Durable Object named by its
//! stream path ([`object::StreamObject`]), which holds that stream's hibernatable sockets and
//! performs what the protocol core (`streams-core`) decides. Static assets in `public/` are
//! served by the runtime before this code runs.
// A panic poisons the Wasm instance for every stream on it: input paths return errors instead.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod api;
mod hibernation;
mod ice;
mod ids;
mod object;
mod router;
mod settings;

pub use object::StreamObject;

use worker::{event, Context, Env, Request, Response, Result};

#[event(start)]
fn start() {
    // A panic would poison the instance for every stream on it; if one ever happens, at least
    // log where.
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    router::route(req, &env).await
}
