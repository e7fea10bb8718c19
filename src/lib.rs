//! Named Streams: WebRTC signaling as a Cloudflare Worker.
//!
//! The Worker ([`router`]) sends every WebSocket upgrade to the Durable Object named by its
//! stream path ([`object::StreamObject`]), which holds that stream's hibernatable sockets and
//! performs what the protocol core (`streams-core`) decides. Static assets in `public/` are
//! served by the runtime before this code runs.

mod api;
mod glue;
mod hibernation;
mod http;
mod ice;
mod ids;
mod log;
mod metrics;
mod object;
mod presence;
mod ratelimit;
mod report;
mod room;
mod router;
mod settings;
mod sfu;

pub use object::StreamObject;
pub use room::RoomObject;

use streams_core::ErrorCode;
use wasm_bindgen::prelude::*;
use worker::{event, web_sys, Env};

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
        log::error("runtime-error").err(&e).emit();
        http::http_error(ErrorCode::Internal)
            .map(http::raw)
            .unwrap_or(JsValue::UNDEFINED)
    })
}

#[cfg(test)]
mod module_graph {
    //! The crate's modules form a DAG: no module reaches, directly or not, back to itself.

    use std::collections::{BTreeMap, BTreeSet};

    /// Each module under `src/` with the crate modules it names (`crate::x` or `crate::{x, y}`).
    fn graph() -> BTreeMap<String, BTreeSet<String>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut graph = BTreeMap::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "lib" || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut uses = BTreeSet::new();
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                let names = match rest.strip_prefix('{') {
                    Some(list) => list.split('}').next().unwrap_or(""),
                    None => rest,
                };
                for item in names.split(',') {
                    let module: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !module.is_empty() && module != name {
                        uses.insert(module);
                    }
                }
            }
            graph.insert(name, uses);
        }
        graph
    }

    #[test]
    fn modules_form_a_dag() {
        let graph = graph();
        assert!(graph.contains_key("router") && graph.contains_key("http"));
        // Depth-first search from every module; reaching the start again is a cycle.
        for start in graph.keys() {
            let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, vec![start])];
            let mut seen = BTreeSet::new();
            while let Some((module, path)) = stack.pop() {
                for next in graph.get(module).into_iter().flatten() {
                    assert!(
                        next != start,
                        "module cycle: {} -> {next}",
                        path.join(" -> ")
                    );
                    if seen.insert(next.as_str()) {
                        let mut longer = path.clone();
                        longer.push(next);
                        stack.push((next, longer));
                    }
                }
            }
        }
    }

    #[test]
    fn the_response_helpers_are_a_leaf_and_the_object_does_not_use_the_router() {
        let graph = graph();
        let http = &graph["http"];
        assert!(http.is_empty(), "http uses {http:?}");
        assert!(!graph["object"].contains("router"));
        assert!(!graph["api"].contains("router"));
    }
}
