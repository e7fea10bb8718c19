//! The Durable Object that holds one stream: a thin adapter that turns runtime events into core
//! calls and performs the effects they return.
//!
//! While awake the object keeps the core's [`Stream`] and a map from id to socket in memory.
//! After an eviction both are rebuilt from the runtime's sockets and their attachments, so
//! nothing about a connection lives only in memory.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::rc::Rc;

use streams_core::url;
use streams_core::{
    error_frame, peerconnection_frame, Config, Effect, ErrorCode, FloodGuard, IceGrant, Mode,
    MsgId, PeerId, Refusal, Role, Stream, Verdict,
};
use wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{
    console_error, console_log, js_sys, web_sys, worker_sys, Env, Error, Response, Result, State,
    WebSocket, WebSocketPair,
};

use crate::hibernation::{self, Identity};
use crate::ice::IceService;
use crate::{glue, http, ids, settings};

/// The Durable Object class, exported to the runtime by hand rather than by workers-rs'
/// `#[durable_object]`: its wrappers make every event an async call, a Promise settled through
/// a microtask queue, which was a tenth of the isolate's time when relaying and connecting
/// (see `bench/profile`). Every handler here runs synchronously and returns a Promise only when
/// there is something to wait for (an ICE configuration).
#[wasm_bindgen]
pub struct StreamObject {
    state: State,
    config: Config,
    ice: Rc<IceService>,
    live: RefCell<Option<Live>>,
}

/// A `GET /peerconnection` to answer once the stream's state is no longer borrowed: building
/// the configuration may wait on Cloudflare.
struct IceAsk {
    msg_id: Option<MsgId>,
}

/// The in-memory view of the stream while the object is awake.
struct Live {
    stream: Stream,
    sockets: HashMap<PeerId, WebSocket>,
    /// Frame rate buckets; fresh after every wake-up (see `FloodGuard`).
    flood: FloodGuard,
}

#[wasm_bindgen]
impl StreamObject {
    #[wasm_bindgen(constructor)]
    pub fn new(state: worker_sys::DurableObjectState, env: Env) -> Self {
        let state = State::from(state);
        // Runs on every wake-up too; the runtime answers heartbeats itself from then on.
        if let Err(e) = hibernation::answer_heartbeats(&state) {
            console_error!("heartbeat auto-response: {e}");
        }
        Self {
            state,
            config: settings::shared(&env).config.clone(),
            ice: Rc::new(IceService::from_env(&env)),
            live: RefCell::new(None),
        }
    }

    /// A connection routed here by the Worker: admit it and accept its socket, or refuse it.
    pub fn fetch(&self, req: web_sys::Request) -> std::result::Result<JsValue, JsValue> {
        self.connect(&req.url(), http::ice_grant(&req))
            .map(http::raw)
            .map_err(JsValue::from)
    }

    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn web_socket_message(
        &self,
        ws: web_sys::WebSocket,
        message: JsValue,
    ) -> std::result::Result<JsValue, JsValue> {
        let ws = WebSocket::from(ws);
        // A binary frame is refused whatever it holds, so its bytes are never copied in.
        let text = message.as_string();
        let Some((id, asks)) = self.on_message(&ws, text.as_deref())? else {
            return Ok(JsValue::UNDEFINED);
        };
        if asks.is_empty() {
            return Ok(JsValue::UNDEFINED);
        }
        let ice = Rc::clone(&self.ice);
        let grant = hibernation::ice_grant(&ws);
        let answer = async move {
            for ask in asks {
                let frame = match ice.configuration(id.as_str(), grant).await {
                    Ok(ice) => peerconnection_frame(
                        ask.msg_id.as_ref(),
                        &ice.ice_servers_json(),
                        ice.ttl_secs,
                    ),
                    Err(_) => error_frame(ErrorCode::IceUnavailable, ask.msg_id.as_ref()),
                };
                if let Err(e) = ws.send_with_str(&frame) {
                    console_error!("send ICE configuration to {id}: {e}");
                }
            }
            Ok(JsValue::UNDEFINED)
        };
        Ok(future_to_promise(answer).into())
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn web_socket_close(
        &self,
        ws: web_sys::WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> std::result::Result<(), JsValue> {
        let ws = WebSocket::from(ws);
        self.depart(&ws)?;
        // Complete the closing handshake, or the client sees 1006 instead of its own code.
        let echo = u16::try_from(code)
            .ok()
            .filter(|c| is_sendable_close_code(*c));
        if let Err(e) = ws.close(Some(echo.unwrap_or(1000)), Some(reason)) {
            console_error!("close handshake: {e}");
        }
        Ok(())
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn web_socket_error(
        &self,
        ws: web_sys::WebSocket,
        error: JsValue,
    ) -> std::result::Result<(), JsValue> {
        console_error!("websocket error: {}", Error::from(error));
        let ws = WebSocket::from(ws);
        self.depart(&ws)?;
        let _ = ws.close(Some(1011), Some(ErrorCode::Internal.code()));
        Ok(())
    }
}

impl StreamObject {
    fn connect(&self, full_url: &str, grant: IceGrant) -> Result<Response> {
        let mode = url::query_param(url::split(full_url).query, "mode");
        let role = match Mode::parse(mode.as_deref()) {
            Ok(mode) => mode.role(),
            Err(code) => return http::http_error(code),
        };
        let id = ids::mint()?;
        let mut live = self.live()?;
        if let Err(refusal) = self.admit(&mut live, &id, role) {
            return http::refuse_socket(refusal);
        }
        let pair = WebSocketPair::new()?;
        let identity = Identity {
            turn: grant == IceGrant::WithTurn,
            ..Identity::new(&id, role)
        };
        hibernation::accept(&self.state, &pair.server, &identity)?;
        glue::cache_id(pair.server.as_ref(), id.as_str());
        live.sockets.insert(id.clone(), pair.server);
        let effects = live
            .stream
            .join(id, role)
            .map_err(|r| Error::RustError(r.code().reason()))?;
        live.perform(effects);
        Response::from_websocket(pair.client)
    }

    /// Handles one frame from `ws`; returns the sender and the ICE requests left to answer, or
    /// nothing when the frame is not the stream's business (a socket already let go).
    fn on_message(
        &self,
        ws: &WebSocket,
        text: Option<&str>,
    ) -> Result<Option<(PeerId, Vec<IceAsk>)>> {
        let Some(id) = hibernation::tagged_id(&self.state, ws)? else {
            return Ok(None);
        };
        let mut live = self.live()?;
        if !live.stream.contains(&id) {
            // A socket already let go (closing, or expelled): no bucket, no reply.
            return Ok(None);
        }
        match live.flood.on_frame(&id, js_sys::Date::now() as u64) {
            Verdict::Pass => {}
            Verdict::Drop(effects) => {
                live.perform(effects);
                return Ok(None);
            }
            Verdict::Expel(effects) => {
                live.perform(effects);
                live.leave(&id);
                return Ok(None);
            }
        }
        let effects = match text {
            Some(text) => live.stream.receive_text(&id, text),
            None => live.stream.receive_binary(&id),
        };
        let asks = live.perform(effects);
        Ok(Some((id, asks)))
    }

    /// The live view, rebuilt from the runtime's sockets if the object was evicted.
    fn live(&self) -> Result<RefMut<'_, Live>> {
        let mut slot = self
            .live
            .try_borrow_mut()
            .map_err(|_| Error::RustError("stream state is busy".into()))?;
        if slot.is_none() {
            let (live, effects) = Live::restore(&self.state, self.config.clone())?;
            live.perform(effects);
            *slot = Some(live);
        }
        RefMut::filter_map(slot, Option::as_mut)
            .map_err(|_| Error::RustError("stream state missing".into()))
    }

    /// Checks that `id` may join as `role`. Before listing members to a newcomer, members whose
    /// sockets are already closing are let go, so nobody is introduced to a peer that is leaving.
    fn admit(&self, live: &mut Live, id: &PeerId, role: Role) -> std::result::Result<(), Refusal> {
        let closing_socket = |peer: &&PeerId| {
            live.sockets
                .get(*peer)
                .is_some_and(|ws| !hibernation::is_open(ws))
        };
        let closing: Vec<PeerId> = match role {
            // A subscriber is only told about the publisher.
            Role::Subscriber => live
                .stream
                .publisher()
                .filter(closing_socket)
                .cloned()
                .into_iter()
                .collect(),
            Role::Publisher => live
                .stream
                .subscribers()
                .filter(closing_socket)
                .cloned()
                .collect(),
        };
        for peer in closing {
            live.leave(&peer);
        }
        live.stream.check_join(id, role)
    }

    /// A socket closed or failed: announce its departure once.
    fn depart(&self, ws: &WebSocket) -> Result<()> {
        let Some(id) = hibernation::tagged_id(&self.state, ws)? else {
            return Ok(());
        };
        self.live()?.leave(&id);
        Ok(())
    }
}

impl Live {
    /// Rebuilds the stream from the sockets the runtime kept through hibernation. Sockets that
    /// were closing when the object slept are members until their departure is announced here.
    fn restore(state: &State, config: Config) -> Result<(Live, Vec<Effect>)> {
        let mut members = Vec::new();
        let mut sockets = HashMap::new();
        let mut closing = Vec::new();
        for ws in hibernation::sockets(state)? {
            let Some(identity) = hibernation::identity(&ws)? else {
                continue;
            };
            if identity.gone {
                continue;
            }
            let Some((id, role)) = identity.peer() else {
                continue;
            };
            if !hibernation::is_open(&ws) {
                closing.push(id.clone());
            }
            members.push((id.clone(), role));
            sockets.insert(id, ws);
        }
        if !members.is_empty() {
            // Operators (and the hibernation tests) read this to see wake-ups from eviction.
            console_log!(
                "stream woke from hibernation: {} connections",
                members.len()
            );
        }
        let flood = FloodGuard::new(config.frame_rate, config.flood_close_after);
        let (stream, rejected) = Stream::restore(config, members);
        let mut live = Live {
            stream,
            sockets,
            flood,
        };
        let mut effects: Vec<Effect> = rejected
            .into_iter()
            .map(|id| Effect::Close {
                to: id,
                code: ErrorCode::PublisherExists.close_code(),
                reason: ErrorCode::PublisherExists.code().into(),
            })
            .collect();
        for id in closing {
            effects.extend(live.take_leave(&id));
        }
        Ok((live, effects))
    }

    /// Removes a member, announcing its departure, and marks its socket so that no later
    /// wake-up announces it again.
    fn leave(&mut self, id: &PeerId) {
        let effects = self.take_leave(id);
        self.perform(effects);
    }

    fn take_leave(&mut self, id: &PeerId) -> Vec<Effect> {
        let Some(role) = self.stream.role_of(id) else {
            return Vec::new();
        };
        let effects = self.stream.leave(id);
        self.flood.forget(id);
        if let Some(ws) = self.sockets.remove(id) {
            let mut gone = Identity::new(id, role);
            gone.gone = true;
            if let Err(e) = ws.serialize_attachment(gone) {
                console_error!("mark departed: {e}");
            }
        }
        effects
    }

    /// Performs effects in order and returns the ICE requests left to answer (only frames from
    /// a client produce them, so other callers have none to answer). A send to a socket that has
    /// gone away fails quietly: its own close event will announce the departure.
    fn perform(&self, effects: Vec<Effect>) -> Vec<IceAsk> {
        let mut asks = Vec::new();
        // The JavaScript copy of the last text sent: a publisher's arrival or departure sends
        // the same event to every subscriber, and it needs converting only once.
        let mut last: Option<(String, JsValue)> = None;
        for effect in effects {
            match effect {
                Effect::Send { to, text } => {
                    let Some(ws) = self.sockets.get(&to) else {
                        continue;
                    };
                    let js = match &last {
                        Some((previous, js)) if *previous == text => js.clone(),
                        _ => {
                            let js = JsValue::from_str(&text);
                            last = Some((text, js.clone()));
                            js
                        }
                    };
                    if let Err(e) = glue::send_string(ws.as_ref(), &js) {
                        console_error!("send to {to}: {}", Error::from(e));
                    }
                }
                Effect::Close { to, code, reason } => {
                    if let Some(ws) = self.sockets.get(&to) {
                        if let Err(e) = ws.close(Some(code), Some(reason)) {
                            console_error!("close {to}: {e}");
                        }
                    }
                }
                Effect::SendIceConfiguration { msg_id, .. } => asks.push(IceAsk { msg_id }),
            }
        }
        asks
    }
}

/// Codes an endpoint may put in a Close frame (RFC 6455 §7.4): 1005, 1006 and 1015 are only
/// ever reported locally, never sent.
fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}
