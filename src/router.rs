//! The Worker's front door: admit a request to its stream's Durable Object, or refuse it.
//!
//! Everything the decision needs is read here as plain values (method, path, query, headers,
//! the time) and handed to the core's [`admit_with`]. Connection attempts are counted per
//! client by the platform's rate limiting binding when the deployment has one (then, and only
//! then, routing waits on something), else by this isolate's fallback.
//!
//! The router also tells the stream's object whether the connection passed a real access
//! check, which decides if it may have TURN credentials: it sets [`ICE_GRANT_HEADER`] on the
//! request it forwards, after removing any copy the client sent, so the object can trust it.
//!
//! Every refusal made here is logged once, with its code, and counted in the metrics.

use streams_core::sfu::{self as sfu_route, Door, SfuRoute};
use streams_core::url;
use streams_core::{
    admit_ice_api, admit_status, admit_watch, admit_with, resolve_within, Admitted, Credentials,
    ErrorCode, IceGrant, Mode, Refusal, Rejection, Settings, StreamKey, WATCH_MODE,
};
use wasm_bindgen::JsValue;
use worker::{js_sys, web_sys, worker_sys, Env, Error, Result};

use crate::api::{self, ICE_SERVERS_PATH, STATUS_PREFIX};
use crate::http::{
    http_error, raw, refuse_socket, ICE_GRANT_HEADER, ICE_GRANT_TURN, ROOMS_BINDING,
    STREAMS_BINDING,
};
use crate::ice::IceService;
use crate::metrics::{Metrics, Point};
use crate::ratelimit::{Limiter, CONNECT_LIMITER, ICE_LIMITER, STATUS_LIMITER};
use crate::sfu::{self, Forwarded};
use crate::{glue, log, settings};

/// Routes one request. A WebSocket goes to its stream's object by handing back the object's
/// own Promise; only the ICE API and a rate limiting binding are waited on here.
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
    let address = header("CF-Connecting-IP")?;
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
    // A WebSocket upgrade there is no status request: it goes on to be refused as `not-found`,
    // as everywhere under /api/.
    if let Some(stream_path) = url
        .path
        .strip_prefix(STATUS_PREFIX)
        .filter(|p| p.starts_with('/') && !upgrade)
    {
        let access = admit_status(stream_path, &creds, &settings.policy);
        let limiter = Limiter::new(&env, STATUS_LIMITER, settings.status_api_rate);
        let answer = async move {
            api::stream_status(&req, &settings, limiter, access, &env)
                .await
                .map(raw)
                .map_err(log::js_error)
        };
        return Ok(glue::promise(answer));
    }
    if let Some(found) = sfu_route::route(&method, url.path).filter(|_| !upgrade) {
        return match found {
            Ok(route) => to_sfu(route, req, &env, &settings, &creds),
            Err(()) => http_error(ErrorCode::NotFound).map(raw),
        };
    }
    if url.path == ICE_SERVERS_PATH {
        let access = admit_ice_api(
            settings.ice_api_needs_stream_access,
            stream_path.as_deref(),
            mode.as_deref(),
            &creds,
            &settings.policy,
        );
        let verdict = api::Verdict {
            grant: settings.ice_grant(&creds, access == Ok(true)),
            access: access.map(|_| ()),
        };
        let limiter = Limiter::new(&env, ICE_LIMITER, settings.ice_api_rate);
        let ice = IceService::from_env(&env);
        let answer = async move {
            api::ice_servers(&req, &settings, ice, limiter, verdict)
                .await
                .map(raw)
                .map_err(log::js_error)
        };
        return Ok(glue::promise(answer));
    }
    let decision = if mode.as_deref() == Some(WATCH_MODE) {
        admit_watch(&request, &creds, &settings.policy, &settings.room_prefixes).map(Target::Room)
    } else {
        admit_with(&request, &creds, &settings.policy).map(Target::Stream)
    };
    let decision = match decision {
        // HTTP refusals cost nothing and are not counted.
        Err(Rejection::Http(code)) => {
            log::info("refused")
                .str("code", code.code())
                .num("status", u64::from(code.http_status()))
                .emit();
            return http_error(code).map(raw);
        }
        Ok(Target::Stream(admitted)) => {
            let grant = settings.ice_grant(&creds, admitted.token_verified);
            Ok(Admission::Stream(admitted, grant))
        }
        Ok(Target::Room(room)) => Ok(Admission::Room(room)),
        Err(Rejection::Socket(refusal)) => Err(refusal),
    };
    // Every WebSocket attempt counts against its client, refused or not, so guessing tokens
    // or paths is throttled too.
    let limiter = Limiter::new(&env, CONNECT_LIMITER, settings.connect_rate);
    if limiter.is_binding() {
        let answer = async move {
            let decision = if limiter.allow(address.as_deref(), now_ms).await {
                decision
            } else {
                Err(Refusal(ErrorCode::ConnectRate))
            };
            forward(decision, req, &env).map_err(log::js_error)
        };
        return Ok(glue::promise(answer));
    }
    let decision = if limiter.allow_now(address.as_deref(), now_ms) {
        decision
    } else {
        Err(Refusal(ErrorCode::ConnectRate))
    };
    forward(decision, req, &env)
}

/// Where an admitted WebSocket goes.
enum Target {
    Stream(Admitted),
    /// A watcher of this room (its path without a trailing slash).
    Room(String),
}

/// An admitted WebSocket, with what its object needs to know.
enum Admission {
    Stream(Admitted, IceGrant),
    Room(String),
}

/// Hands an admitted connection to its stream's or room's object (the object's Promise), or
/// refuses it on the socket.
fn forward(
    decision: std::result::Result<Admission, Refusal>,
    req: web_sys::Request,
    env: &Env,
) -> Result<JsValue> {
    let (admitted, grant) = match decision {
        Ok(Admission::Stream(admitted, grant)) => (admitted, grant),
        Ok(Admission::Room(room)) => {
            // Watchers get no ICE configuration, so nothing about the request is added; the
            // room's object takes every request but its own internal paths as a watcher.
            let namespace = env.durable_object(ROOMS_BINDING)?;
            let stub = namespace.id_from_name(&room)?.get_stub()?;
            let stub: worker_sys::DurableObject = stub.into_rpc();
            return Ok(stub.fetch_with_request(&req)?.into());
        }
        Err(refusal) => {
            report_refusal(&req, env, refusal);
            return refuse_socket(refusal);
        }
    };
    if let Some(label) = &admitted.label {
        log::info("token-admitted")
            .str("label", label)
            .str("role", admitted.role.as_str())
            .str("stream", admitted.key.as_str())
            .emit();
    }
    let key = settings::shared(env)
        .sfu
        .is_some()
        .then(|| admitted.key.as_str().to_owned());
    let req = with_grant(req, grant, key.as_deref())?;
    let namespace = env.durable_object(STREAMS_BINDING)?;
    let stub = namespace.id_from_name(admitted.key.as_str())?.get_stub()?;
    let stub: worker_sys::DurableObject = stub.into_rpc();
    Ok(stub.fetch_with_request(&req)?.into())
}

/// Logs a WebSocket refused here and counts it, with the stream it was for when its path names
/// one (a publisher's plain name on a hash path is logged as the hash, never as the name).
fn report_refusal(req: &web_sys::Request, env: &Env, refusal: Refusal) {
    let full_url = req.url();
    let url = url::split(&full_url);
    let mode = Mode::parse(url::query_param(url.query, "mode").as_deref()).ok();
    let max_path_bytes = settings::shared(env).policy.max_path_bytes;
    let key = mode.and_then(|mode| resolve_within(url.path, mode, max_path_bytes).ok());
    let stream = key.as_ref().map_or("", |k| k.as_str());
    let role = mode.map_or("", |m| m.role().as_str());
    let code = refusal.code().code();
    log::info("refused")
        .opt_str("stream", key.as_ref().map(|k| k.as_str()))
        .str("role", role)
        .str("code", code)
        .num("close", u64::from(refusal.close_code()))
        .emit();
    if let Some(metrics) = Metrics::from_env(env) {
        metrics.write(&Point {
            event: "refuse",
            stream,
            role,
            code,
            close: Some(refusal.close_code()),
            ..Point::default()
        });
    }
}

/// The request to forward: [`ICE_GRANT_HEADER`] set from `grant`, and with the SFU on the
/// stream's key in [`sfu::KEY_HEADER`], whatever the client sent.
fn with_grant(
    req: web_sys::Request,
    grant: IceGrant,
    key: Option<&str>,
) -> Result<web_sys::Request> {
    let sent = req.headers().has(ICE_GRANT_HEADER).map_err(Error::from)?
        || req.headers().has(sfu::KEY_HEADER).map_err(Error::from)?;
    if grant == IceGrant::StaticOnly && !sent && key.is_none() {
        // Nothing to add or remove: forward the client's request itself.
        return Ok(req);
    }
    let headers = web_sys::Headers::new_with_headers(&req.headers()).map_err(Error::from)?;
    headers.delete(ICE_GRANT_HEADER).map_err(Error::from)?;
    headers.delete(sfu::KEY_HEADER).map_err(Error::from)?;
    if grant == IceGrant::WithTurn {
        headers
            .set(ICE_GRANT_HEADER, ICE_GRANT_TURN)
            .map_err(Error::from)?;
    }
    if let Some(key) = key {
        headers.set(sfu::KEY_HEADER, key).map_err(Error::from)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_headers(&headers);
    web_sys::Request::new_with_request_and_init(&req, &init).map_err(Error::from)
}

/// Admits an SFU request (the proxy, WHIP, WHEP) and hands it to its stream's object.
fn to_sfu(
    route: SfuRoute,
    req: web_sys::Request,
    env: &Env,
    settings: &Settings,
    creds: &Credentials<'_>,
) -> Result<JsValue> {
    let door = route.door;
    let method = req.method();
    let origin = creds.origin;
    if method == "OPTIONS" {
        return sfu::preflight(door, settings.cors.allow(origin).as_deref()).map(raw);
    }
    let cors = settings.cors.allow(origin);
    // The body is read before the refusal is sent: a client still sending its offer would see
    // the connection reset instead of the answer.
    let refuse = |code| -> Result<JsValue> {
        let response = sfu::refuse(door, code).and_then(|r| sfu::with_cors(r, cors.as_deref()))?;
        let Some(reading) = req
            .body()
            .map(|_| req.array_buffer())
            .transpose()
            .map_err(Error::from)?
        else {
            return Ok(raw(response));
        };
        let answer = async move {
            let _ = worker::wasm_bindgen_futures::JsFuture::from(reading).await;
            Ok(raw(response))
        };
        Ok(glue::promise(answer))
    };
    if settings.sfu.is_none() {
        return refuse(ErrorCode::SfuUnavailable);
    }
    if let Some(op) = route.op {
        if method != op.method() {
            return refuse(ErrorCode::MethodNotAllowed);
        }
    }
    let max_path_bytes = settings.policy.max_path_bytes;
    let admitted = match (door, method.as_str()) {
        // A publisher's or a subscriber's admission, as its WebSocket would have.
        (Door::Whip | Door::Whep, "POST") => {
            let mode = if door == Door::Whip {
                "publish"
            } else {
                "subscribe"
            };
            let request = streams_core::Request {
                method: "GET",
                upgrade: true,
                path: &route.stream,
                mode: Some(mode),
            };
            match admit_with(&request, creds, &settings.policy) {
                Ok(admitted) => Ok((
                    admitted.key,
                    settings.ice_grant(creds, admitted.token_verified) == IceGrant::WithTurn,
                )),
                Err(Rejection::Http(code) | Rejection::Socket(Refusal(code))) => Err(code),
            }
        }
        // The ticket (or the session URL's resource id) is the credential: only the key is
        // needed, from the publisher's plain name or the subscribers' hash path alike.
        _ => match resolve_within(&route.stream, Mode::Publish, max_path_bytes) {
            Err(Refusal(ErrorCode::HashPathPublish)) => {
                resolve_within(&route.stream, Mode::Subscribe, max_path_bytes)
                    .map_err(Refusal::code)
            }
            other => other.map_err(Refusal::code),
        }
        .map(|key| (key, false)),
    };
    let (key, turn): (StreamKey, bool) = match admitted {
        Ok(admitted) => admitted,
        Err(code) => return refuse(code),
    };
    let forwarded = Forwarded {
        path: route.stream.clone(),
        route,
        key: key.as_str().to_owned(),
        turn,
    };
    let route_json =
        serde_json::to_string(&forwarded).map_err(|e| Error::RustError(e.to_string()))?;
    let headers = web_sys::Headers::new().map_err(Error::from)?;
    headers
        .set(sfu::ROUTE_HEADER, &route_json)
        .map_err(Error::from)?;
    for name in ["Content-Type", "Content-Length", "Authorization"] {
        if let Some(value) = req.headers().get(name).map_err(Error::from)? {
            headers.set(name, &value).map_err(Error::from)?;
        }
    }
    let init = web_sys::RequestInit::new();
    init.set_method(&method);
    init.set_headers(&headers);
    if let Some(body) = req.body() {
        init.set_body(&body);
    }
    let inner = web_sys::Request::new_with_str_and_init(
        &format!("https://stream.internal{}", sfu::INTERNAL_PATH),
        &init,
    )
    .map_err(Error::from)?;
    let namespace = env.durable_object(STREAMS_BINDING)?;
    let stub = namespace.id_from_name(key.as_str())?.get_stub()?;
    let stub: worker_sys::DurableObject = stub.into_rpc();
    let promise = stub.fetch_with_request(&inner)?;
    let answer = async move {
        let response = worker::wasm_bindgen_futures::JsFuture::from(promise).await?;
        sfu::cors_copy(response.into(), cors.as_deref()).map_err(JsValue::from)
    };
    Ok(glue::promise(answer))
}
