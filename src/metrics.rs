//! Metrics on Workers Analytics Engine, through the optional `METRICS` binding
//! (`[[analytics_engine_datasets]]` in wrangler.toml): without it nothing is written and nothing
//! fails.
//!
//! One data point per significant event, in one layout (docs/OPERATIONS.md has it with SQL):
//!
//! | column | holds |
//! | --- | --- |
//! | `index1` | the stream key, cut to 96 bytes (the sampling key) |
//! | `blob1` | the event: `join`, `leave`, `resume`, `away`, `refuse`, `close`, `relay` |
//! | `blob2` | the stream key (empty when a refusal came before the path was understood) |
//! | `blob3` | the role: `pub`, `sub`, or empty |
//! | `blob4` | the error code of a refusal or a close, else empty |
//! | `double1` | how many: 1, or the frames of a `relay` point |
//! | `double2` | bytes relayed (`relay`) |
//! | `double3` | subscribers after the event (membership events) |
//! | `double4` | 1 if the stream has a publisher after the event (membership events) |
//! | `double5` | the close code: sent with a refusal or close; the client's own for `away`, `leave` |
//!
//! Relays are counted, never written one per frame: the counts of a stream add up in this
//! isolate and become one `relay` point after [`RELAY_POINT_DELAY_MS`], after
//! [`RELAY_POINT_FRAMES`] frames, or just before the stream's next membership point, whichever
//! comes first.

use streams_core::Relayed;
use wasm_bindgen::prelude::*;
use worker::{js_sys, Env};

/// The binding name in wrangler.toml.
pub const METRICS_BINDING: &str = "METRICS";

/// A burst of relays (a negotiation) becomes one point this long after its first frame.
pub const RELAY_POINT_DELAY_MS: u32 = 5_000;

/// A stream relaying without pause writes a point every this many frames.
pub const RELAY_POINT_FRAMES: u32 = 1_000;

/// Analytics Engine takes index values of up to 96 bytes.
const MAX_INDEX_BYTES: usize = 96;

#[wasm_bindgen(inline_js = r#"
// Relay counts per stream in this isolate, each with the timer that writes them.
const pending = new Map();
let failed = false;
function write(dataset, point) {
  try {
    dataset.writeDataPoint(point);
  } catch (e) {
    // A failing binding is reported once per isolate, not once per event.
    if (!failed) {
      failed = true;
      console.error(JSON.stringify({ level: "error", event: "metrics-failed", error: String(e) }));
    }
  }
}
export function writePoint(dataset, index, blobs, doubles) {
  write(dataset, { indexes: [index], blobs, doubles });
}
export function flushRelays(stream) {
  const p = pending.get(stream);
  if (p === undefined) return;
  pending.delete(stream);
  clearTimeout(p.timer);
  // The layout of src/metrics.rs: event, stream, role, code; count, bytes, subscribers, live, close.
  write(p.dataset, { indexes: [p.index], blobs: ["relay", stream, "", ""], doubles: [p.frames, p.bytes, 0, 0, 0] });
}
export function addRelays(dataset, stream, index, frames, bytes, maxFrames, delayMs) {
  let p = pending.get(stream);
  if (p === undefined) {
    p = { dataset, index, frames: 0, bytes: 0, timer: setTimeout(() => flushRelays(stream), delayMs) };
    pending.set(stream, p);
  }
  p.frames += frames;
  p.bytes += bytes;
  if (p.frames >= maxFrames) flushRelays(stream);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = writePoint)]
    fn write_point(dataset: &JsValue, index: &str, blobs: js_sys::Array, doubles: js_sys::Array);
    #[wasm_bindgen(js_name = flushRelays)]
    fn flush_relays(stream: &str);
    #[wasm_bindgen(js_name = addRelays)]
    fn add_relays(
        dataset: &JsValue,
        stream: &str,
        index: &str,
        frames: f64,
        bytes: f64,
        max_frames: u32,
        delay_ms: u32,
    );
}

/// One event as a data point (see the layout above).
#[derive(Clone, Debug, Default)]
pub struct Point<'a> {
    pub event: &'static str,
    pub stream: &'a str,
    pub role: &'a str,
    pub code: &'a str,
    pub subscribers: usize,
    pub live: bool,
    pub close: Option<u16>,
}

/// The deployment's dataset, when it has one.
pub struct Metrics {
    dataset: JsValue,
}

impl Metrics {
    /// The `METRICS` binding, if the deployment declares one (anything with `writeDataPoint`).
    pub fn from_env(env: &Env) -> Option<Self> {
        let dataset =
            js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(METRICS_BINDING)).ok()?;
        let write = js_sys::Reflect::get(&dataset, &JsValue::from_str("writeDataPoint")).ok()?;
        write.is_function().then_some(Self { dataset })
    }

    /// Writes one event.
    pub fn write(&self, point: &Point<'_>) {
        let blobs: js_sys::Array = [point.event, point.stream, point.role, point.code]
            .into_iter()
            .map(JsValue::from_str)
            .collect();
        let doubles: js_sys::Array = [
            1.0,
            0.0,
            point.subscribers as f64,
            if point.live { 1.0 } else { 0.0 },
            point.close.map_or(0.0, f64::from),
        ]
        .into_iter()
        .map(JsValue::from_f64)
        .collect();
        write_point(&self.dataset, index(point.stream), blobs, doubles);
    }

    /// Writes the relays counted so far on `stream` now, so that a stream's points keep the
    /// order of what happened. Only the stream's own object calls this: the counts and their
    /// timer belong to its event context.
    pub fn flush_relays(&self, stream: &str) {
        flush_relays(stream);
    }

    /// Counts relays on `stream` towards its next `relay` point.
    pub fn relayed(&self, stream: &str, relayed: Relayed) {
        if relayed.is_empty() {
            return;
        }
        add_relays(
            &self.dataset,
            stream,
            index(stream),
            relayed.frames as f64,
            relayed.bytes as f64,
            RELAY_POINT_FRAMES,
            RELAY_POINT_DELAY_MS,
        );
    }
}

/// The stream key as an index value: its first 96 bytes (keys are ASCII: percent-encoded paths).
fn index(stream: &str) -> &str {
    let mut end = stream.len().min(MAX_INDEX_BYTES);
    while !stream.is_char_boundary(end) {
        end -= 1;
    }
    stream.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_index_is_the_key_cut_to_96_bytes() {
        assert_eq!(super::index("/s"), "/s");
        let long = format!("/{}", "a".repeat(200));
        assert_eq!(super::index(&long).len(), 96);
        let accented = format!("/{}é", "a".repeat(94));
        assert_eq!(super::index(&accented), format!("/{}", "a".repeat(94)));
    }
}
