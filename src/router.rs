//! The Worker's front door: admit a request to its stream's Durable Object, or refuse it.
//!
//! Everything the decision needs is read here as plain values (method, path, query, headers,
//! the time) and handed to the core's [`admit_with`]; the per-address connection limit is the
//! only state, kept in this isolate's memory.

use std::cell::RefCell;

use streams_core::url;
use streams_core::{
    admit_ice_api, admit_with, Credentials, ErrorCode, KeyedLimiter, Refusal, Rejection,
    DEFAULT_MAX_KEYS,
};
use wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{
    console_log, js_sys, web_sys, worker_sys, Env, Error, Request, Response, Result, WebSocketPair,
};

use crate::{api, settings};

/// The Durable Object namespace binding in `wrangler.toml`.
pub const STREAMS_BINDING: &str = "STREAMS";

thread_local! {
    /// `IP_CONNECT_RATE` buckets. Best effort by design: each isolate counts only what it sees.
    static CONNECTS: RefCell<Option<KeyedLimiter>> = const { RefCell::new(None) };
}

/// Routes one request. It runs synchronously: a WebSocket goes to its stream's object by
/// handing back the object's own Promise, and only the ICE API waits on anything here.
pub fn route(req: web_sys::Request, env: Env) -> Result<JsValue> {
    let settings = settings::shared(&env);
    let full_url = req.url();
    let url = url::split(&full_url);
    let mode = url::query_param(url.query, "mode");
    let token = url::query_param(url.query, "token");
    let stream_path = url::query_param(url.query, "path");
    let headers = req.headers();
    let header = |name: &str| headers.get(name).map_err(Error::from);
    let upgrade = header("Upgrade")?.is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let origin = header("Origin")?;
    let authorization = header("Authorization")?;
    // Whole milliseconds since the epoch: far inside u64, never negative.
    let now_ms = js_sys::Date::now() as u64;
    let method = req.method();
    let request = streams_core::Request {
        method: &method,
        upgrade,
        path: url.path,
        mode: mode.as_deref(),
    };
    let creds = Credentials {
        host: Some(url.host).filter(|h| !h.is_empty()),
        origin: origin.as_deref(),
        token: token.as_deref(),
        authorization: authorization.as_deref(),
        now_ms,
        resume: url::query_param(url.query, "resume").is_some(),
    };
    if url.path == api::ICE_SERVERS_PATH {
        let access = admit_ice_api(
            settings.ice_api_needs_stream_access,
            stream_path.as_deref(),
            mode.as_deref(),
            &creds,
            &settings.policy,
        );
        let answer = async move {
            api::ice_servers(&Request::from(req), &env, access)
                .await
                .map(raw)
                .map_err(JsValue::from)
        };
        return Ok(future_to_promise(answer).into());
    }
    let mut decision = admit_with(&request, &creds, &settings.policy);
    // Every WebSocket attempt counts against its address, refused or not, so guessing tokens
    // or paths is throttled too; HTTP refusals cost nothing and are not counted.
    if let (Some(rate), false) = (
        settings.connect_rate,
        matches!(decision, Err(Rejection::Http(_))),
    ) {
        if let Some(ip) = header("CF-Connecting-IP")? {
            let allowed = CONNECTS.with(|cell| {
                cell.borrow_mut()
                    .get_or_insert_with(|| KeyedLimiter::new(rate, DEFAULT_MAX_KEYS))
                    .allow(&ip, now_ms)
            });
            if !allowed {
                decision = Err(Rejection::Socket(Refusal(ErrorCode::ConnectRate)));
            }
        }
    }
    match decision {
        Ok(admitted) => {
            if let Some(label) = &admitted.label {
                console_log!(
                    "token {label:?} admitted as {} to {}",
                    admitted.role.as_str(),
                    admitted.key.as_str()
                );
            }
            let namespace = env.durable_object(STREAMS_BINDING)?;
            let stub = namespace.id_from_name(admitted.key.as_str())?.get_stub()?;
            let stub: worker_sys::DurableObject = stub.into_rpc();
            Ok(stub.fetch_with_request(&req)?.into())
        }
        Err(Rejection::Http(code)) => http_error(code).map(raw),
        Err(Rejection::Socket(refusal)) => refuse_socket(refusal).map(raw),
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

/// Accepts a WebSocket outside any stream only to say why it is refused, then closes it.
pub fn refuse_socket(refusal: Refusal) -> Result<Response> {
    let pair = WebSocketPair::new()?;
    pair.server.accept()?;
    pair.server.send_with_str(refusal.frame())?;
    pair.server
        .close(Some(refusal.close_code()), Some(refusal.close_reason()))?;
    Response::from_websocket(pair.client)
}
