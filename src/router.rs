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
use worker::{console_log, Date, Env, Request, Response, Result, WebSocketPair};

use crate::{api, settings};

/// The Durable Object namespace binding in `wrangler.toml`.
pub const STREAMS_BINDING: &str = "STREAMS";

thread_local! {
    /// `IP_CONNECT_RATE` buckets. Best effort by design: each isolate counts only what it sees.
    static CONNECTS: RefCell<Option<KeyedLimiter>> = const { RefCell::new(None) };
}

pub async fn route(req: Request, env: &Env) -> Result<Response> {
    let settings = settings::shared(env);
    let full_url = req.inner().url();
    let url = url::split(&full_url);
    let mode = url::query_param(url.query, "mode");
    let token = url::query_param(url.query, "token");
    let stream_path = url::query_param(url.query, "path");
    let headers = req.headers();
    let upgrade = headers
        .get("Upgrade")?
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let origin = headers.get("Origin")?;
    let authorization = headers.get("Authorization")?;
    let now_ms = Date::now().as_millis();
    let method = req.method().to_string();
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
    };
    if url.path == api::ICE_SERVERS_PATH {
        let access = admit_ice_api(
            settings.ice_api_needs_stream_access,
            stream_path.as_deref(),
            mode.as_deref(),
            &creds,
            &settings.policy,
        );
        return api::ice_servers(&req, env, access).await;
    }
    let mut decision = admit_with(&request, &creds, &settings.policy);
    // Every WebSocket attempt counts against its address, refused or not, so guessing tokens
    // or paths is throttled too; HTTP refusals cost nothing and are not counted.
    if let (Some(rate), false) = (
        settings.connect_rate,
        matches!(decision, Err(Rejection::Http(_))),
    ) {
        if let Some(ip) = headers.get("CF-Connecting-IP")? {
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
