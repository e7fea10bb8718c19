//! The SFU doors of a stream's object: the Connection API proxy, WHIP and WHEP.
//!
//! The router admits the request and hands it to the stream's object on [`INTERNAL_PATH`] with
//! what it read in [`ROUTE_HEADER`]. Here the object asks the core's [`Sfu`] whether the caller
//! may, performs the Connection API calls with the app secret (which never leaves this module
//! but for the API's own host), and has the core record what they did. The stream's state is
//! reached only through [`StreamAccess`], never held across a call: other events run while the
//! API answers, so each step checks again.

use std::rc::Rc;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use streams_core::json::{boolean, object, required, string, FromJson};
use streams_core::realtime::{
    self, CloseTrackObject, CloseTracksRequest, CloseTracksResponse, Media, NewSessionRequest,
    NewSessionResponse, RenegotiateRequest, RenegotiateResponse, SdpType, SessionDescription,
    TracksRequest, TracksResponse,
};
use streams_core::sfu::{link_headers, Door, ProxyOp, Remote, SfuRoute, WHEP_PREFIX, WHIP_PREFIX};
use streams_core::{ErrorCode, Holder, IceGrant, PeerId, ProxyCall, Sfu, SfuSettings, Stream};
use worker::wasm_bindgen::JsValue;
use worker::{web_sys, Fetch, Headers, Method, Request, Response, Result};

use crate::ice::IceService;
use crate::{ids, log};

/// The path of SFU requests the router forwards to a stream's object.
pub const INTERNAL_PATH: &str = "/api/sfu-internal";

/// Set by the router on [`INTERNAL_PATH`] requests: the [`Forwarded`] route, as JSON. The
/// router builds those requests itself, so no client's copy reaches the object.
pub const ROUTE_HEADER: &str = "X-Named-Streams-Sfu";

/// Set by the router on every request it forwards to a stream's object while the SFU is on:
/// the stream's key, which tickets are bound to. Any copy a client sent is replaced.
pub const KEY_HEADER: &str = "X-Named-Streams-Key";

/// The largest body read from a client: an SDP offer with room to spare.
const MAX_BODY_BYTES: usize = 2 * realtime::MAX_SDP_BYTES;

/// What the router read and decided.
#[derive(Clone, Debug, Serialize)]
pub struct Forwarded {
    pub route: SfuRoute,
    pub key: String,
    /// The stream path as the client wrote it, for `Location`.
    pub path: String,
    /// Whether the request may have TURN credentials in its `Link` headers.
    pub turn: bool,
}

impl FromJson for Forwarded {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            route: required(o, "route", SfuRoute::from_value)?,
            key: required(o, "key", string)?,
            path: required(o, "path", string)?,
            turn: required(o, "turn", boolean)?,
        })
    }
}

impl<'de> Deserialize<'de> for Forwarded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        streams_core::json::deserialize(deserializer)
    }
}

/// A text to send to a member.
pub type Sends = Vec<streams_core::sfu::Send>;

/// The stream's state, as the object lends it: `f` runs on the members and the SFU record, and
/// the events it returns are sent (or queued) and the record stored before `with` returns.
pub trait StreamAccess {
    fn with<R>(&self, f: impl FnOnce(&Stream, &mut Sfu) -> (R, Sends)) -> Result<R>;
    /// The stream's `MAX_SUBSCRIBERS`.
    fn max_subscribers(&self) -> usize;
}

/// An answer refused with `code`: JSON on the proxy, `text/plain` on WHIP and WHEP.
pub fn refuse(door: Door, code: ErrorCode) -> Result<Response> {
    log::info("refused")
        .str("api", door_name(door))
        .str("code", code.code())
        .num("status", u64::from(code.http_status()))
        .emit();
    let response = match door {
        Door::Proxy => {
            let body =
                serde_json::json!({"error": {"code": code.code(), "message": code.sentence()}});
            Response::from_json(&body)?.with_status(code.http_status())
        }
        _ => Response::error(format!("{}\n", code.reason()), code.http_status())?,
    };
    if code == ErrorCode::SfuNotReady {
        let headers = response.headers().clone();
        headers.set("Retry-After", "2")?;
        return Ok(response.with_headers(headers));
    }
    Ok(response)
}

const ALLOW_HEADERS: &str = "Authorization, Content-Type, If-Match";
const EXPOSE_HEADERS: &str = "Location, Link, Retry-After";

/// The answer to a CORS preflight (and to WHIP's `OPTIONS`, RFC 9725 section 4.2).
pub fn preflight(door: Door, origin: Option<&str>) -> Result<Response> {
    let headers = Headers::new();
    if door != Door::Proxy {
        headers.set("Accept-Post", "application/sdp")?;
    }
    let response = Response::empty()?.with_status(204).with_headers(headers);
    with_cors(response, origin)
}

/// Adds the CORS headers a listed origin (`ICE_CORS_ORIGINS`) needs.
pub fn with_cors(response: Response, origin: Option<&str>) -> Result<Response> {
    let Some(origin) = origin else {
        return Ok(response);
    };
    let headers = response.headers().clone();
    headers.set("Access-Control-Allow-Origin", origin)?;
    headers.set(
        "Access-Control-Allow-Methods",
        "POST, PUT, PATCH, DELETE, OPTIONS",
    )?;
    headers.set("Access-Control-Allow-Headers", ALLOW_HEADERS)?;
    headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS)?;
    headers.set("Access-Control-Max-Age", "600")?;
    headers.append("Vary", "Origin")?;
    Ok(response.with_headers(headers))
}

/// The object's answer as the client gets it: a copy (its headers are immutable) with the CORS
/// headers of `origin`.
pub fn cors_copy(response: web_sys::Response, origin: Option<&str>) -> Result<JsValue> {
    let Some(origin) = origin else {
        return Ok(response.into());
    };
    let headers =
        web_sys::Headers::new_with_headers(&response.headers()).map_err(worker::Error::from)?;
    for (name, value) in [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
        ("Vary", "Origin"),
    ] {
        headers.set(name, value).map_err(worker::Error::from)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status());
    init.set_headers(&headers);
    let copy =
        web_sys::Response::new_with_opt_readable_stream_and_init(response.body().as_ref(), &init)
            .map_err(worker::Error::from)?;
    Ok(copy.into())
}

fn door_name(door: Door) -> &'static str {
    match door {
        Door::Proxy => "sfu",
        Door::Whip => "whip",
        Door::Whep => "whep",
    }
}

/// Answers one forwarded SFU request.
pub async fn handle<A: StreamAccess>(
    access: A,
    ice: Rc<IceService>,
    settings: SfuSettings,
    forwarded: Forwarded,
    mut req: Request,
) -> Result<Response> {
    let door = forwarded.route.door;
    access.with(|_, sfu| {
        sfu.set_key(&forwarded.key);
        ((), Vec::new())
    })?;
    let body = match req
        .headers()
        .get("Content-Length")?
        .and_then(|l| l.parse::<usize>().ok())
    {
        Some(n) if n > MAX_BODY_BYTES => return refuse(door, ErrorCode::SfuBadRequest),
        _ => req.text().await?,
    };
    if body.len() > MAX_BODY_BYTES {
        return refuse(door, ErrorCode::SfuBadRequest);
    }
    let api = Api(&settings);
    let method = req.method();
    let result = match (door, &method) {
        (Door::Proxy, _) => proxy(&access, &api, &forwarded, &req, &body).await,
        (Door::Whip | Door::Whep, Method::Post) => {
            let sdp = req
                .headers()
                .get("Content-Type")?
                .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"));
            if !sdp {
                return refuse(door, ErrorCode::UnsupportedMediaType);
            }
            match door {
                Door::Whip => whip(&access, &api, &ice, &forwarded, &body).await,
                _ => whep(&access, &api, &ice, &forwarded, &body).await,
            }
        }
        (Door::Whip | Door::Whep, Method::Delete) => end(&access, &api, &forwarded).await,
        // Trickle ICE and ICE restarts are not supported: RFC 9725 section 4.3.1.
        (Door::Whip | Door::Whep, _) => {
            let headers = Headers::new();
            headers.set("Allow", "DELETE, OPTIONS")?;
            return Ok(Response::empty()?.with_status(405).with_headers(headers));
        }
    };
    match result {
        Ok(response) => Ok(response),
        Err(Failure::Refused(code)) => refuse(door, code),
        Err(Failure::Runtime(e)) => Err(e),
    }
}

/// Why a request was not answered as asked.
enum Failure {
    Refused(ErrorCode),
    Runtime(worker::Error),
}

impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        Failure::Runtime(e)
    }
}

impl From<ErrorCode> for Failure {
    fn from(code: ErrorCode) -> Self {
        Failure::Refused(code)
    }
}

type Answer = std::result::Result<Response, Failure>;

/// Reads a client body strictly (the documented fields, nothing else).
fn read<T: FromJson>(body: &str) -> std::result::Result<T, Failure> {
    T::from_json(body).ok_or(Failure::Refused(ErrorCode::SfuBadRequest))
}

fn bearer(req: &Request) -> Result<Option<String>> {
    Ok(req.headers().get("Authorization")?.and_then(|value| {
        let (scheme, rest) = value.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim().to_owned())
    }))
}

async fn proxy<A: StreamAccess>(
    access: &A,
    api: &Api<'_>,
    forwarded: &Forwarded,
    req: &Request,
    body: &str,
) -> Answer {
    let route = &forwarded.route;
    let session = route.session.clone().unwrap_or_default();
    let (call, upstream): (ProxyCall, Option<String>) = match route.op {
        Some(ProxyOp::NewSession) if body.trim().is_empty() => (ProxyCall::NewSession, None),
        Some(ProxyOp::NewSession) => {
            let parsed: NewSessionRequest = read(body)?;
            (ProxyCall::NewSession, Some(json(&parsed)?))
        }
        Some(ProxyOp::TracksNew) => {
            let parsed: TracksRequest = read(body)?;
            let text = json(&parsed)?;
            (
                ProxyCall::Tracks {
                    session: session.clone(),
                    body: parsed,
                },
                Some(text),
            )
        }
        Some(ProxyOp::Renegotiate) => {
            let parsed: RenegotiateRequest = read(body)?;
            (
                ProxyCall::Renegotiate {
                    session: session.clone(),
                },
                Some(json(&parsed)?),
            )
        }
        Some(ProxyOp::TracksClose) => {
            let parsed: CloseTracksRequest = read(body)?;
            let text = json(&parsed)?;
            (
                ProxyCall::Close {
                    session: session.clone(),
                    body: parsed,
                },
                Some(text),
            )
        }
        None => return Err(ErrorCode::NotFound.into()),
    };
    let ticket = bearer(req)?.ok_or(ErrorCode::SfuTicket)?;
    let (id, _) = access.with(|stream, sfu| (sfu.check(stream, &ticket, &call), Vec::new()))??;
    let op = route.op.unwrap_or(ProxyOp::NewSession);
    let path = match op {
        ProxyOp::NewSession => "sessions/new".to_owned(),
        ProxyOp::TracksNew => format!("sessions/{session}/tracks/new"),
        ProxyOp::Renegotiate => format!("sessions/{session}/renegotiate"),
        ProxyOp::TracksClose => format!("sessions/{session}/tracks/close"),
    };
    let (status, text) = api.call(op.method(), &path, upstream.as_deref()).await?;
    let answer = match op {
        ProxyOp::NewSession => {
            let r: NewSessionResponse = upstream_body(&text)?;
            access.with(|stream, sfu| {
                (
                    (),
                    sfu.recorded(stream, &id, &call, Some(&r.session_id), None),
                )
            })?;
            json(&r)?
        }
        ProxyOp::TracksNew => {
            let r: TracksResponse = upstream_body(&text)?;
            access.with(|stream, sfu| ((), sfu.recorded(stream, &id, &call, None, Some(&r))))?;
            json(&r)?
        }
        ProxyOp::Renegotiate => json(&upstream_body::<RenegotiateResponse>(&text)?)?,
        ProxyOp::TracksClose => {
            let r: CloseTracksResponse = upstream_body(&text)?;
            access.with(|stream, sfu| ((), sfu.recorded(stream, &id, &call, None, None)))?;
            json(&r)?
        }
    };
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    headers.set("Cache-Control", "no-store")?;
    Ok(Response::ok(answer)?
        .with_status(status)
        .with_headers(headers))
}

async fn whip<A: StreamAccess>(
    access: &A,
    api: &Api<'_>,
    ice: &IceService,
    forwarded: &Forwarded,
    offer: &str,
) -> Answer {
    let media = realtime::media_sections(offer).ok_or(ErrorCode::SfuBadRequest)?;
    let tracks = Sfu::whip_tracks(&media);
    if tracks.is_empty() {
        return Err(ErrorCode::SfuBadRequest.into());
    }
    let id = ids::mint()?;
    let ticket = access.with(|stream, sfu| {
        (
            sfu.whip_begin(stream, &id)
                .map(|()| sfu.ticket(&id, Holder::Whip)),
            Vec::new(),
        )
    })??;
    let pushed = add_tracks(api, offer, tracks).await;
    let (session, response) = match pushed {
        Ok(done) => done,
        Err(failure) => {
            access.with(|stream, sfu| ((), sfu.whip_end(stream, &id).1))?;
            return Err(failure);
        }
    };
    access.with(|stream, sfu| ((), sfu.whip_done(stream, &id, &session, &media, &response)))?;
    log::info("whip-published")
        .str("stream", &forwarded.key)
        .emit();
    created(&response, ice, forwarded, &id, &ticket, WHIP_PREFIX).await
}

/// Creates a session and adds the offer's tracks to it: pushed for WHIP, pulled for WHEP.
async fn add_tracks(
    api: &Api<'_>,
    offer: &str,
    tracks: Vec<streams_core::realtime::TrackObject>,
) -> std::result::Result<(String, TracksResponse), Failure> {
    let session = api.new_session().await?;
    let body = TracksRequest {
        session_description: Some(SessionDescription {
            sdp: offer.to_owned(),
            kind: SdpType::Offer,
        }),
        tracks: Some(tracks),
        auto_discover: None,
    };
    let path = format!("sessions/{session}/tracks/new");
    let (_, text) = api.call("POST", &path, Some(&json(&body)?)).await?;
    let response: TracksResponse = upstream_body(&text)?;
    Ok((session, response))
}

async fn whep<A: StreamAccess>(
    access: &A,
    api: &Api<'_>,
    ice: &IceService,
    forwarded: &Forwarded,
    offer: &str,
) -> Answer {
    let media: Vec<Media> = realtime::media_sections(offer).ok_or(ErrorCode::SfuBadRequest)?;
    let id = ids::mint()?;
    let max = access.max_subscribers();
    let (pull, ticket) = access.with(|stream, sfu| {
        let (pull, events) = sfu.whep_begin(stream, &id, &media, max);
        ((pull, sfu.ticket(&id, Holder::Whep)), events)
    })?;
    let pull = pull?;
    let mids: Vec<String> = pull.tracks.iter().filter_map(|t| t.mid.clone()).collect();
    let pulled = add_tracks(api, offer, pull.tracks).await;
    let (session, response) = match pulled {
        Ok(done) => done,
        Err(failure) => {
            access.with(|stream, sfu| {
                sfu.whep_end(stream, &id);
                ((), Vec::new())
            })?;
            return Err(failure);
        }
    };
    access.with(|_, sfu| {
        sfu.whep_done(&id, &session, mids);
        ((), Vec::new())
    })?;
    created(&response, ice, forwarded, &id, &ticket, WHEP_PREFIX).await
}

/// `201 Created` with the SFU's answer, the session URL and the ICE servers.
async fn created(
    response: &TracksResponse,
    ice: &IceService,
    forwarded: &Forwarded,
    id: &PeerId,
    ticket: &str,
    prefix: &str,
) -> Answer {
    let answer = response
        .session_description
        .as_ref()
        .filter(|d| {
            d.kind == SdpType::Answer && response.requires_immediate_renegotiation != Some(true)
        })
        .ok_or(ErrorCode::SfuUpstream)?;
    let headers = Headers::new();
    headers.set("Content-Type", "application/sdp")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set(
        "Location",
        &format!("{prefix}{}/sessions/{ticket}", forwarded.path),
    )?;
    let grant = if forwarded.turn {
        IceGrant::WithTurn
    } else {
        IceGrant::StaticOnly
    };
    if let Ok(config) = ice.configuration(id.as_str(), grant).await {
        for link in link_headers(&config.ice_servers) {
            headers.append("Link", &link)?;
        }
    }
    headers.set("Access-Control-Expose-Headers", "Location, Link")?;
    Ok(Response::ok(answer.sdp.clone())?
        .with_status(201)
        .with_headers(headers))
}

/// `DELETE` on a WHIP or WHEP session URL.
async fn end<A: StreamAccess>(access: &A, api: &Api<'_>, forwarded: &Forwarded) -> Answer {
    let resource = forwarded.route.session.clone().unwrap_or_default();
    let door = forwarded.route.door;
    let remote: Option<Remote> =
        access.with(|stream, sfu| match sfu.holder(stream, &resource) {
            Ok((id, Holder::Whip)) if door == Door::Whip => {
                let (remote, sends) = sfu.whip_end(stream, &id);
                (remote, sends)
            }
            Ok((id, Holder::Whep)) if door == Door::Whep => (sfu.whep_end(stream, &id), Vec::new()),
            _ => (None, Vec::new()),
        })?;
    let Some(remote) = remote else {
        // A session URL that names nothing here: as if it never existed.
        return Ok(Response::error(
            format!("{}\n", ErrorCode::SfuTicket.reason()),
            404,
        )?);
    };
    // The SFU would collect the tracks after 30 s without media; closing says so now. The
    // session is over either way, so a failure here changes nothing for the client.
    if let (Some(session), false) = (&remote.session, remote.mids.is_empty()) {
        let body = CloseTracksRequest {
            session_description: None,
            tracks: remote
                .mids
                .iter()
                .map(|mid| CloseTrackObject { mid: mid.clone() })
                .collect(),
            force: true,
        };
        if let Ok(text) = json(&body) {
            let path = format!("sessions/{session}/tracks/close");
            if api.call("PUT", &path, Some(&text)).await.is_err() {
                log::warn("sfu-close-failed").emit();
            }
        }
    }
    Ok(Response::ok("")?)
}

fn json<T: Serialize>(value: &T) -> std::result::Result<String, Failure> {
    serde_json::to_string(value)
        .map_err(|e| Failure::Runtime(worker::Error::RustError(e.to_string())))
}

fn upstream_body<T: FromJson>(text: &str) -> std::result::Result<T, Failure> {
    T::from_json(text).ok_or_else(|| {
        log::warn("sfu-upstream-body").emit();
        Failure::Refused(ErrorCode::SfuUpstream)
    })
}

/// The Connection API, with the app secret.
struct Api<'a>(&'a SfuSettings);

impl Api<'_> {
    /// One call; a status outside 2xx, or no answer, is `sfu-upstream`.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> std::result::Result<(u16, String), Failure> {
        // The runtime's own request type: worker's `RequestInit` would bring its `cf`
        // serializer (and serde-wasm-bindgen) into the Wasm.
        let headers = web_sys::Headers::new().map_err(worker::Error::from)?;
        headers
            .set(
                "Authorization",
                &format!("Bearer {}", self.0.secret.expose()),
            )
            .map_err(worker::Error::from)?;
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        if let Some(body) = body {
            headers
                .set("Content-Type", "application/json")
                .map_err(worker::Error::from)?;
            init.set_body(&JsValue::from_str(body));
        }
        init.set_headers(&headers);
        let request = web_sys::Request::new_with_str_and_init(&self.0.url(path), &init)
            .map_err(worker::Error::from)?;
        let request = Request::from(request);
        let mut response = match Fetch::Request(request).send().await {
            Ok(response) => response,
            Err(e) => {
                log::warn("sfu-upstream-unreachable")
                    .str("error", &e.to_string())
                    .emit();
                return Err(ErrorCode::SfuUpstream.into());
            }
        };
        let status = response.status_code();
        let text = response.text().await?;
        if !(200..300).contains(&status) {
            // The API's own error code helps the operator; the body is never the secret.
            let code = streams_core::json::parse(&text).and_then(|v| {
                v.get("errorCode")
                    .and_then(|c| c.as_str())
                    .map(str::to_owned)
            });
            log::warn("sfu-upstream-status")
                .num("status", u64::from(status))
                .opt_str("error_code", code.as_deref())
                .emit();
            return Err(ErrorCode::SfuUpstream.into());
        }
        Ok((status, text))
    }

    async fn new_session(&self) -> std::result::Result<String, Failure> {
        let (_, text) = self.call("POST", "sessions/new", None).await?;
        let response: NewSessionResponse = upstream_body(&text)?;
        if !realtime::is_name(&response.session_id) {
            return Err(ErrorCode::SfuUpstream.into());
        }
        Ok(response.session_id)
    }
}
