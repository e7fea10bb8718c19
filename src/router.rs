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

use streams_core::url;
use streams_core::{
    admit_ice_api, admit_status, admit_with, resolve_within, Admitted, Credentials, ErrorCode,
    IceGrant, Mode, Refusal, Rejection,
};
use wasm_bindgen::JsValue;
use worker::{js_sys, web_sys, worker_sys, Env, Error, Result};

use crate::api::{self, ICE_SERVERS_PATH, STATUS_PREFIX};
use crate::http::{
    http_error, raw, refuse_socket, ICE_GRANT_HEADER, ICE_GRANT_TURN, STREAMS_BINDING,
};
use crate::ice::IceService;
use crate::metrics::{Metrics, Point};
use crate::ratelimit::{Limiter, CONNECT_LIMITER, ICE_LIMITER, STATUS_LIMITER};
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
    let decision = admit_with(&request, &creds, &settings.policy);
    let decision = match decision {
        // HTTP refusals cost nothing and are not counted.
        Err(Rejection::Http(code)) => {
            log::info("refused")
                .str("code", code.code())
                .num("status", u64::from(code.http_status()))
                .emit();
            return http_error(code).map(raw);
        }
        Ok(admitted) => {
            let grant = settings.ice_grant(&creds, admitted.token_verified);
            Ok((admitted, grant))
        }
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

/// Hands an admitted connection to its stream's object (the object's Promise), or refuses it
/// on the socket.
fn forward(
    decision: std::result::Result<(Admitted, IceGrant), Refusal>,
    req: web_sys::Request,
    env: &Env,
) -> Result<JsValue> {
    let (admitted, grant) = match decision {
        Ok(admitted) => admitted,
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
    let req = with_grant(req, grant)?;
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

/// The request to forward: [`ICE_GRANT_HEADER`] set from `grant`, whatever the client sent.
fn with_grant(req: web_sys::Request, grant: IceGrant) -> Result<web_sys::Request> {
    let sent = req.headers().has(ICE_GRANT_HEADER).map_err(Error::from)?;
    if grant == IceGrant::StaticOnly && !sent {
        // Nothing to add or remove: forward the client's request itself.
        return Ok(req);
    }
    let headers = web_sys::Headers::new_with_headers(&req.headers()).map_err(Error::from)?;
    headers.delete(ICE_GRANT_HEADER).map_err(Error::from)?;
    if grant == IceGrant::WithTurn {
        headers
            .set(ICE_GRANT_HEADER, ICE_GRANT_TURN)
            .map_err(Error::from)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_headers(&headers);
    web_sys::Request::new_with_request_and_init(&req, &init).map_err(Error::from)
}
