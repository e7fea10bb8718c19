//! Hand-written JavaScript for calls made on every frame, where wasm-bindgen's generic glue
//! costs more than the work itself (see `bench/profile`).

use wasm_bindgen::prelude::*;
use worker::web_sys;

#[wasm_bindgen(inline_js = r#"
// A socket's id, cached on its JavaScript object while the object is awake. Its tags stay the
// record: a socket first seen after a wake-up has no cache yet, and reading the tags is a call
// into the runtime that returns a fresh array of strings each time.
export function cachedId(ws) {
  return ws.__namedStreamsId;
}
export function cacheId(ws, id) {
  ws.__namedStreamsId = id;
}
// Sends a string that is already JavaScript's, so a frame sent to many sockets (an event to
// every subscriber) crosses from Wasm once.
export function sendString(ws, text) {
  ws.send(text);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = cachedId)]
    pub fn cached_id(ws: &web_sys::WebSocket) -> Option<String>;
    #[wasm_bindgen(js_name = cacheId)]
    pub fn cache_id(ws: &web_sys::WebSocket, id: &str);
    /// Fails (without panicking) when the socket is no longer open.
    #[wasm_bindgen(catch, js_name = sendString)]
    pub fn send_string(ws: &web_sys::WebSocket, text: &JsValue) -> Result<(), JsValue>;
}
