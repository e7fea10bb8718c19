//! Hand-written JavaScript for the runtime calls the object makes: per-frame calls, where
//! wasm-bindgen's generic glue costs more than the work itself (see `bench/profile`), and the
//! synchronous SQLite storage the object keeps its members in while resume is on, and the
//! storage of rooms and of a stream's reports to its room.

use std::future::Future;
use std::pin::Pin;

use wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{js_sys, web_sys};

/// Runs `answer` and hands the runtime its Promise. Every caller's future is boxed into one
/// type first, so the Promise machinery is compiled once, not once per caller (kilobytes of
/// Wasm each).
pub fn promise(answer: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> JsValue {
    let answer: Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>> = Box::pin(answer);
    future_to_promise(answer).into()
}

#[wasm_bindgen(inline_js = r#"
// A socket's number, remembered for the socket's JavaScript object while the object is awake.
// Its attachment stays the record: a socket first seen after a wake-up has no entry yet.
const conns = new WeakMap();
export function cachedConn(ws) {
  return conns.get(ws);
}
export function cacheConn(ws, conn) {
  conns.set(ws, conn);
}
// A socket's attachment is its identity as JSON text. Earlier versions stored the same fields
// as an object, which reads the same way once written as JSON (docs/OPERATIONS.md: a new
// version keeps reading what an older one wrote).
export function setAttachment(ws, json) {
  ws.serializeAttachment(json);
}
export function attachment(ws) {
  const value = ws.deserializeAttachment();
  if (typeof value === "string") return value;
  return value !== null && typeof value === "object" ? JSON.stringify(value) : undefined;
}
// Sends a string that is already JavaScript's, so a frame sent to many sockets (an event to
// every subscriber) crosses from Wasm once.
export function sendString(ws, text) {
  ws.send(text);
}
// When the runtime last answered this socket's `ping` by itself, or undefined before its first.
export function lastPing(state, ws) {
  const at = state.getWebSocketAutoResponseTimestamp(ws);
  return at ? at.getTime() : undefined;
}

// A POST of JSON with a deadline, for Cloudflare's TURN API: resolves with the status and the
// body's text, or rejects (a network error, or no answer in time).
export function postJson(url, authorization, body, timeoutMs) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  const call = fetch(url, {
    method: "POST",
    headers: { Authorization: authorization, "Content-Type": "application/json" },
    body,
  }).then(async (response) => ({ status: response.status, body: await response.text() }));
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

// Storage: one row per member (its record as JSON), one per queued frame, and the stream's
// resume key. SQL calls are synchronous, so every write lands in the same event that decided it.
export function dbSetup(storage) {
  storage.sql.exec("CREATE TABLE IF NOT EXISTS members (id TEXT PRIMARY KEY, record TEXT NOT NULL)");
  storage.sql.exec(
    "CREATE TABLE IF NOT EXISTS queue (id TEXT NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (id, seq))"
  );
  storage.sql.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
}
export function dbLoad(storage) {
  const records = storage.sql.exec("SELECT record FROM members").toArray().map((r) => JSON.parse(r.record));
  const queued = storage.sql.exec("SELECT id, seq, text FROM queue ORDER BY id, seq").toArray();
  return JSON.stringify({ records, queued });
}
// The members of a stream that ever stored any, read without writing: a stream that never
// existed gets no tables from being asked about.
export function dbPeek(storage) {
  const found = storage.sql
    .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'members'")
    .toArray();
  if (found.length === 0) return JSON.stringify({ records: [], queued: [] });
  const records = storage.sql.exec("SELECT record FROM members").toArray().map((r) => JSON.parse(r.record));
  return JSON.stringify({ records, queued: [] });
}
export function dbKey(storage, fresh) {
  const rows = storage.sql.exec("SELECT v FROM meta WHERE k = 'resume-key'").toArray();
  if (rows.length > 0) return rows[0].v;
  storage.sql.exec("INSERT INTO meta (k, v) VALUES ('resume-key', ?)", fresh);
  return fresh;
}
export function dbPut(storage, id, record) {
  storage.sql.exec("INSERT OR REPLACE INTO members (id, record) VALUES (?, ?)", id, record);
}
export function dbEnqueue(storage, id, seq, text) {
  storage.sql.exec("INSERT OR REPLACE INTO queue (id, seq, text) VALUES (?, ?, ?)", id, seq, text);
}
export function dbDequeue(storage, id) {
  storage.sql.exec("DELETE FROM queue WHERE id = ?", id);
}
export function dbForget(storage, id) {
  storage.sql.exec("DELETE FROM members WHERE id = ?", id);
}
// The stream's SFU record (JSON), stored only by streams of a deployment with the SFU on; read
// without making the table, so asking about a stream never writes.
export function sfuPeek(storage) {
  const found = storage.sql
    .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sfu'")
    .toArray();
  if (found.length === 0) return undefined;
  const rows = storage.sql.exec("SELECT v FROM sfu WHERE k = 'state'").toArray();
  return rows.length > 0 ? rows[0].v : undefined;
}
export function sfuStore(storage, json) {
  storage.sql.exec("CREATE TABLE IF NOT EXISTS sfu (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
  storage.sql.exec("INSERT OR REPLACE INTO sfu (k, v) VALUES ('state', ?)", json);
}
// The alarm call returns a Promise; the runtime orders it with the object's other storage
// operations, so nothing waits on it here, but a failure is reported.
export function setAlarm(storage, at) {
  const done = at === undefined ? storage.deleteAlarm() : storage.setAlarm(at);
  done.catch((e) => console.error(JSON.stringify({ level: "error", event: "alarm-failed", error: String(e) })));
}
// A stream's unacknowledged report to its room (src/presence.rs): one row, made on first use.
export function outboxPeek(storage) {
  const found = storage.sql
    .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'room_outbox'")
    .toArray();
  if (found.length === 0) return undefined;
  const rows = storage.sql.exec("SELECT outbox FROM room_outbox WHERE k = 'report'").toArray();
  return rows.length > 0 ? rows[0].outbox : undefined;
}
export function outboxPut(storage, report, outbox) {
  storage.sql.exec("CREATE TABLE IF NOT EXISTS room_outbox (k TEXT PRIMARY KEY, report TEXT NOT NULL, outbox TEXT NOT NULL)");
  storage.sql.exec("INSERT OR REPLACE INTO room_outbox (k, report, outbox) VALUES ('report', ?, ?)", report, outbox);
}
// Deletes the report if it is still the one waiting; true when nothing waits any more.
export function outboxAcked(storage, report) {
  storage.sql.exec("DELETE FROM room_outbox WHERE k = 'report' AND report = ?", report);
  return storage.sql.exec("SELECT k FROM room_outbox").toArray().length === 0;
}
// A room's list (src/room.rs): one row per stream path it heard of.
export function roomLoad(storage) {
  storage.sql.exec("CREATE TABLE IF NOT EXISTS room_entries (path TEXT PRIMARY KEY, entry TEXT NOT NULL)");
  const rows = storage.sql.exec("SELECT path, entry FROM room_entries").toArray();
  return JSON.stringify(rows.map((r) => [r.path, JSON.parse(r.entry)]));
}
export function roomStore(storage, path, entry) {
  if (entry === undefined) storage.sql.exec("DELETE FROM room_entries WHERE path = ?", path);
  else storage.sql.exec("INSERT OR REPLACE INTO room_entries (path, entry) VALUES (?, ?)", path, entry);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = cachedConn)]
    pub fn cached_conn(ws: &web_sys::WebSocket) -> Option<f64>;
    #[wasm_bindgen(js_name = cacheConn)]
    pub fn cache_conn(ws: &web_sys::WebSocket, conn: f64);
    #[wasm_bindgen(catch, js_name = setAttachment)]
    pub fn set_attachment(ws: &web_sys::WebSocket, json: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch)]
    pub fn attachment(ws: &web_sys::WebSocket) -> Result<Option<String>, JsValue>;
    /// Fails (without panicking) when the socket is no longer open.
    #[wasm_bindgen(catch, js_name = sendString)]
    pub fn send_string(ws: &web_sys::WebSocket, text: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = lastPing)]
    pub fn last_ping(state: &JsValue, ws: &web_sys::WebSocket) -> Result<Option<f64>, JsValue>;

    #[wasm_bindgen(catch, js_name = postJson)]
    pub fn post_json(
        url: &str,
        authorization: &str,
        body: &str,
        timeout_ms: f64,
    ) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = dbSetup)]
    pub fn db_setup(storage: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = dbLoad)]
    pub fn db_load(storage: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(catch, js_name = dbPeek)]
    pub fn db_peek(storage: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(catch, js_name = dbKey)]
    pub fn db_key(storage: &JsValue, fresh: &str) -> Result<String, JsValue>;
    #[wasm_bindgen(catch, js_name = dbPut)]
    pub fn db_put(storage: &JsValue, id: &str, record: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = dbEnqueue)]
    pub fn db_enqueue(storage: &JsValue, id: &str, seq: f64, text: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = dbDequeue)]
    pub fn db_dequeue(storage: &JsValue, id: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = dbForget)]
    pub fn db_forget(storage: &JsValue, id: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = sfuPeek)]
    pub fn sfu_peek(storage: &JsValue) -> Result<Option<String>, JsValue>;
    #[wasm_bindgen(catch, js_name = sfuStore)]
    pub fn sfu_store(storage: &JsValue, json: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = setAlarm)]
    pub fn set_alarm(storage: &JsValue, at: Option<f64>) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_name = outboxPeek)]
    pub fn outbox_peek(storage: &JsValue) -> Result<Option<String>, JsValue>;
    #[wasm_bindgen(catch, js_name = outboxPut)]
    pub fn outbox_put(storage: &JsValue, report: &str, outbox: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = outboxAcked)]
    pub fn outbox_acked(storage: &JsValue, report: &str) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_name = roomLoad)]
    pub fn room_load(storage: &JsValue) -> Result<String, JsValue>;
    #[wasm_bindgen(catch, js_name = roomStore)]
    pub fn room_store(storage: &JsValue, path: &str, entry: Option<String>) -> Result<(), JsValue>;
}
