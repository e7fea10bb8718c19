//! The Durable Object that holds one stream: a thin adapter. Each runtime event finds the
//! socket's number, makes one engine call with the time, and performs the outputs.
//!
//! While awake the object keeps the engine and a map from socket number to socket in memory.
//! After an eviction both are rebuilt from the runtime's sockets (their attachments) and, while
//! resume is on, the object's storage, so nothing about a connection lives only in memory.
//!
//! It also answers the stream's status for `GET /api/streams/<path>`: from memory when awake,
//! else by reading its sockets and storage without writing anything, so asking about a stream
//! that never existed leaves nothing behind.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::rc::Rc;

use streams_core::url;
use streams_core::{
    error_frame, peerconnection_frame, Config, ConnId, Connect, Engine, ErrorCode, HeldSocket,
    IceGrant, Input, Mode, MsgId, Output, Refusal, ResumeKey, Role, Settings, Sfu, SfuSettings,
    Sockets, Stream,
};
use wasm_bindgen::prelude::*;
use worker::{
    js_sys, web_sys, worker_sys, Env, Error, Headers, Response, Result, State, WebSocket,
    WebSocketPair,
};

use crate::api::{PRESENCE_PATH, STATUS_PREFIX};
use crate::hibernation::{self, Db};
use crate::ice::IceService;
use crate::presence::Presence;
use crate::report::{find_socket, Cause, Reporter};
use crate::sfu::{self as doors, Forwarded, Sends, StreamAccess};
use crate::{glue, http, ids, log, settings};

/// The Durable Object class, exported to the runtime by hand rather than by workers-rs'
/// `#[durable_object]`: its wrappers make every event an async call, a Promise settled through
/// a microtask queue, which was a tenth of the isolate's time when relaying and connecting
/// (see `bench/profile`). Every handler here runs synchronously and returns a Promise only when
/// there is something to wait for (an ICE configuration).
#[wasm_bindgen]
pub struct StreamObject {
    state: State,
    /// What rebuilding the stream's room reports needs.
    rooms: RoomLink,
    config: Config,
    ice: Rc<IceService>,
    report: Rc<Reporter>,
    /// The deployment's SFU, when streams may use it.
    sfu: Option<SfuSettings>,
    /// Shared with SFU requests, which reach it again after each Connection API call.
    live: Rc<RefCell<Option<Live>>>,
}

/// The in-memory view of the stream while the object is awake.
struct Live {
    engine: Engine,
    sockets: HashMap<ConnId, WebSocket>,
    /// Present while resume is on: members and queues are kept there.
    db: Option<Db>,
    /// Present while the SFU is on: what the stream records about its use of it.
    sfu: Option<Sfu>,
    /// The SFU record as last stored.
    sfu_stored: Option<String>,
    /// The stream's reports to its room, and the alarm.
    presence: Presence,
}

/// What the stream's reports to its room are loaded from when the stream is rebuilt.
#[derive(Clone)]
struct RoomLink {
    env: Env,
    settings: Rc<Settings>,
    /// The stream key: the name the router gave the object.
    key: String,
}

impl RoomLink {
    fn presence(&self, state: &State) -> Result<Presence> {
        Presence::load(state, &self.env, &self.settings, &self.key)
    }
}

/// The engine's questions about sockets, answered by the runtime.
struct Probe<'a> {
    state: &'a State,
    sockets: &'a HashMap<ConnId, WebSocket>,
}

impl Sockets for Probe<'_> {
    fn last_ping(&self, conn: ConnId) -> Option<u64> {
        hibernation::last_ping(self.state, self.sockets.get(&conn)?)
    }

    fn is_open(&self, conn: ConnId) -> bool {
        self.sockets.get(&conn).is_some_and(hibernation::is_open)
    }
}

/// A `GET /peerconnection` to answer once the stream's state is no longer borrowed: building
/// the configuration may wait on Cloudflare.
struct IceAsk {
    /// The member's id, which minted TURN credentials carry in their username.
    label: String,
    msg_id: Option<MsgId>,
    /// Whether the connection may have TURN credentials (the router's grant, kept in the
    /// socket's attachment).
    grant: IceGrant,
}

#[wasm_bindgen]
impl StreamObject {
    #[wasm_bindgen(constructor)]
    pub fn new(state: worker_sys::DurableObjectState, env: Env) -> Self {
        let state = State::from(state);
        // Runs on every wake-up too; the runtime answers heartbeats itself from then on.
        let report = Reporter::new(&state, &env);
        if let Err(e) = hibernation::answer_heartbeats(&state) {
            report
                .line(log::error("heartbeat-setup-failed"))
                .err(&e)
                .emit();
        }
        let settings = settings::shared(&env);
        let key = state
            .as_raw()
            .id()
            .ok()
            .and_then(|id| id.name())
            .unwrap_or_default();
        let sfu = settings.sfu.clone();
        Self {
            state,
            config: settings.config.clone(),
            rooms: RoomLink {
                env: env.clone(),
                settings,
                key,
            },
            ice: Rc::new(IceService::from_env(&env)),
            report: Rc::new(report),
            sfu,
            live: Rc::new(RefCell::new(None)),
        }
    }

    /// A request routed here by the Worker: a connection to admit and accept, or refuse; or the
    /// stream's status. The router sends connections only on stream paths, which are never
    /// under `/api/`, and status requests only on [`STATUS_PREFIX`], a request it builds itself.
    pub fn fetch(&self, req: web_sys::Request) -> std::result::Result<JsValue, JsValue> {
        let full_url = req.url();
        let path = url::split(&full_url).path;
        if path == doors::INTERNAL_PATH {
            return Ok(self.sfu_request(req));
        }
        let answer = if path.starts_with(STATUS_PREFIX) {
            self.status().map(http::raw)
        } else if path == PRESENCE_PATH {
            self.presence().map(http::raw)
        } else {
            let key = req.headers().get(doors::KEY_HEADER).ok().flatten();
            self.connect(&full_url, http::ice_grant(&req), key.as_deref())
        };
        answer.map_err(log::js_error)
    }

    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn web_socket_message(
        &self,
        ws: web_sys::WebSocket,
        message: JsValue,
    ) -> std::result::Result<JsValue, JsValue> {
        let ws = WebSocket::from(ws);
        let Some(conn) = hibernation::conn_of(&ws) else {
            return Ok(JsValue::UNDEFINED);
        };
        // A binary frame is refused whatever it holds, so its bytes are never copied in.
        let text = message.as_string();
        if let Some(text) = &text {
            let live = self.live()?;
            if live.sfu.as_ref().is_some_and(|sfu| sfu.drops_frame(text)) {
                return Ok(JsValue::UNDEFINED);
            }
        }
        let input = match &text {
            Some(text) => Input::Text { conn, text },
            None => Input::Binary { conn },
        };
        let asks = self
            .handle(input, Some((conn, &ws)))
            .map_err(log::js_error)?;
        if asks.is_empty() {
            return Ok(JsValue::UNDEFINED);
        }
        let ice = Rc::clone(&self.ice);
        let report = Rc::clone(&self.report);
        let answer = async move {
            for ask in asks {
                let frame = match ice.configuration(&ask.label, ask.grant).await {
                    Ok(ice) => peerconnection_frame(
                        ask.msg_id.as_ref(),
                        &ice.ice_servers_json(),
                        ice.ttl_secs,
                    ),
                    Err(_) => error_frame(ErrorCode::IceUnavailable, ask.msg_id.as_ref()),
                };
                if let Err(e) = ws.send_with_str(&frame) {
                    report.line(log::warn("send-failed")).err(&e).emit();
                }
            }
            Ok(JsValue::UNDEFINED)
        };
        Ok(glue::promise(answer))
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn web_socket_close(
        &self,
        ws: web_sys::WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> std::result::Result<(), JsValue> {
        self.on_close(WebSocket::from(ws), u16::try_from(code).ok(), &reason)
            .map_err(log::js_error)
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn web_socket_error(
        &self,
        ws: web_sys::WebSocket,
        error: JsValue,
    ) -> std::result::Result<(), JsValue> {
        self.report
            .line(log::warn("socket-error"))
            .err(&Error::from(error))
            .emit();
        self.on_close(WebSocket::from(ws), None, "")
            .map_err(log::js_error)
    }

    /// The alarm armed for the end of a grace period or a report's retry.
    pub fn alarm(&self) -> std::result::Result<(), JsValue> {
        self.handle(Input::Timeout, None).map_err(log::js_error)?;
        let mut live = self.live().map_err(log::js_error)?;
        live.presence
            .on_alarm(crate::presence::now())
            .map_err(log::js_error)
    }
}

impl StreamObject {
    /// The stream's status, without creating anything: from memory when awake, else read from
    /// the sockets the runtime holds and, if the stream ever stored members, its storage.
    fn status(&self) -> Result<Response> {
        let awake = match self.live.try_borrow() {
            Ok(slot) => slot.as_ref().map(|live| live.status_json()),
            Err(_) => None,
        };
        let status = match awake {
            Some(status) => status,
            None => {
                let status = Live::peek(&self.state, self.config.clone())?.status();
                match &self.sfu {
                    Some(settings) => {
                        let stored = hibernation::sfu_peek(&self.state)?;
                        Sfu::new(settings.clone(), stored).status_json(&status)
                    }
                    None => status.json(),
                }
            }
        };
        json_response(status)
    }

    /// Who publishes here now, for the stream's room (its publisher id and join time): from
    /// memory when awake, else read without writing, as the status is.
    fn presence(&self) -> Result<Response> {
        let answer = self.peek(|engine| {
            let status = engine.status();
            serde_json::json!({
                "live": status.live,
                "id": engine.stream().publisher().map(|id| id.as_str().to_owned()),
                "since": status.since,
            })
        })?;
        json_response(answer.to_string())
    }

    /// Reads the engine: the live one when awake, else one rebuilt without writing anything.
    fn peek<T>(&self, read: impl Fn(&Engine) -> T) -> Result<T> {
        if let Ok(slot) = self.live.try_borrow() {
            if let Some(live) = slot.as_ref() {
                return Ok(read(&live.engine));
            }
        }
        Ok(read(&Live::peek(&self.state, self.config.clone())?))
    }

    /// An SFU request the router forwarded: answered once the Connection API has.
    fn sfu_request(&self, req: web_sys::Request) -> JsValue {
        let forwarded = req
            .headers()
            .get(doors::ROUTE_HEADER)
            .ok()
            .flatten()
            .and_then(|json| serde_json::from_str::<Forwarded>(&json).ok());
        let (Some(settings), Some(forwarded)) = (self.sfu.clone(), forwarded) else {
            return http::http_error(ErrorCode::SfuUnavailable)
                .map(http::raw)
                .unwrap_or(JsValue::UNDEFINED);
        };
        let access = Access {
            live: Rc::clone(&self.live),
            state: State::from(
                JsValue::from(self.state.as_raw())
                    .unchecked_into::<worker_sys::DurableObjectState>(),
            ),
            rooms: self.rooms.clone(),
            config: self.config.clone(),
            report: Rc::clone(&self.report),
            sfu: settings.clone(),
        };
        let ice = Rc::clone(&self.ice);
        let answer = async move {
            doors::handle(access, ice, settings, forwarded, worker::Request::from(req))
                .await
                .map(http::raw)
                .map_err(log::js_error)
        };
        glue::promise(answer)
    }

    fn connect(&self, full_url: &str, grant: IceGrant, key: Option<&str>) -> Result<JsValue> {
        let query = url::split(full_url).query;
        let role = match Mode::parse(url::query_param(query, "mode").as_deref()) {
            Ok(mode) => mode.role(),
            Err(code) => return http::http_error(code).map(http::raw),
        };
        let resume = url::query_param(query, "resume");
        let (conn, id, nonce) = ids::for_connection()?;
        let connect = Connect {
            conn,
            role,
            resume: resume.as_deref(),
            id,
            nonce,
            // The router's grant; the engine keeps it with the member and its attachment.
            turn: grant == IceGrant::WithTurn,
        };
        let pair = WebSocketPair::new()?;
        let mut live = self.live()?;
        if let (Some(sfu), Some(key)) = (live.sfu.as_mut(), key) {
            sfu.set_key(key);
        }
        // A WHIP publisher is the stream's publisher, though the engine does not hold it.
        let whip_holds = live.sfu.as_ref().is_some_and(Sfu::blocks_publisher);
        if whip_holds && role == Role::Publisher && resume.is_none() {
            return http::refuse_socket(Refusal(ErrorCode::PublisherExists));
        }
        let outputs = live.call(&self.state, Input::Connect(connect));
        let current = Some((conn, &pair.server));
        live.report(&self.report, &Cause::Connect { role }, &outputs, current);
        let refusal = outputs.iter().find_map(|o| match o {
            Output::Refuse(refusal) => Some(*refusal),
            _ => None,
        });
        live.perform(&self.state, &self.report, outputs, current);
        match refusal {
            Some(refusal) => http::refuse_socket(refusal),
            None => http::upgrade(&pair.client),
        }
    }

    fn on_close(&self, ws: WebSocket, code: Option<u16>, reason: &str) -> Result<()> {
        let Some(conn) = hibernation::conn_of(&ws) else {
            // Not a socket of ours: still complete the closing handshake.
            let _ = ws.close(Some(1000), Some(reason));
            return Ok(());
        };
        let mut live = self.live()?;
        let member = live.engine.member_of(conn).cloned();
        let outputs = live.call(&self.state, Input::Closed { conn, code, reason });
        let cause = Cause::Closed {
            conn,
            code,
            member: member.as_ref(),
        };
        live.report(&self.report, &cause, &outputs, Some((conn, &ws)));
        live.perform(&self.state, &self.report, outputs, Some((conn, &ws)));
        live.sockets.remove(&conn);
        Ok(())
    }

    /// One engine call for an event on an existing socket; returns the ICE requests to answer.
    fn handle(&self, input: Input, current: Option<(ConnId, &WebSocket)>) -> Result<Vec<IceAsk>> {
        let cause = match input {
            Input::Timeout => Cause::Timeout,
            _ => Cause::Frame,
        };
        let mut live = self.live()?;
        let outputs = live.call(&self.state, input);
        live.report(&self.report, &cause, &outputs, current);
        Ok(live.perform(&self.state, &self.report, outputs, current))
    }

    /// The live view, rebuilt from the runtime's sockets and storage if the object was evicted
    /// or the runtime restarted.
    fn live(&self) -> Result<RefMut<'_, Live>> {
        live_in(
            &self.live,
            &self.state,
            &self.rooms,
            &self.config,
            &self.report,
            self.sfu.as_ref(),
        )
    }
}

/// The live view in `cell`, rebuilt first if the object was evicted or the runtime restarted.
fn live_in<'a>(
    cell: &'a RefCell<Option<Live>>,
    state: &State,
    rooms: &RoomLink,
    config: &Config,
    report: &Reporter,
    sfu: Option<&SfuSettings>,
) -> Result<RefMut<'a, Live>> {
    let mut slot = cell
        .try_borrow_mut()
        .map_err(|_| Error::RustError("stream state is busy".into()))?;
    if slot.is_none() {
        let presence = rooms.presence(state)?;
        *slot = Some(Live::restore(state, config.clone(), report, presence, sfu)?);
    }
    RefMut::filter_map(slot, Option::as_mut)
        .map_err(|_| Error::RustError("stream state missing".into()))
}

/// The stream's state as SFU requests reach it, between their Connection API calls.
struct Access {
    live: Rc<RefCell<Option<Live>>>,
    state: State,
    rooms: RoomLink,
    config: Config,
    report: Rc<Reporter>,
    sfu: SfuSettings,
}

impl StreamAccess for Access {
    fn with<R>(&self, f: impl FnOnce(&Stream, &mut Sfu) -> (R, Sends)) -> Result<R> {
        let mut live = live_in(
            &self.live,
            &self.state,
            &self.rooms,
            &self.config,
            &self.report,
            Some(&self.sfu),
        )?;
        let Live { engine, sfu, .. } = &mut *live;
        let sfu = sfu
            .as_mut()
            .ok_or_else(|| Error::RustError("SFU record missing".into()))?;
        let (result, sends) = f(engine.stream(), sfu);
        let now = js_sys::Date::now() as u64;
        let mut outputs = Vec::new();
        for (to, text) in sends {
            outputs.extend(engine.send_to(now, &to, text));
        }
        live.perform(&self.state, &self.report, outputs, None);
        live.store_sfu(&self.state, &self.report);
        Ok(result)
    }

    fn max_subscribers(&self) -> usize {
        self.config.max_subscribers
    }
}

impl Live {
    /// The status a rebuilt stream would have, read without writing: no tables are made, no
    /// resume key is minted, nothing is performed.
    fn peek(state: &State, config: Config) -> Result<Engine> {
        let stored = if config.resume_grace_ms > 0 {
            Db::peek(state)?
        } else {
            Default::default()
        };
        let held = hibernation::sockets(state)?
            .iter()
            .filter_map(|ws| {
                Some(HeldSocket {
                    open: hibernation::is_open(ws),
                    identity: hibernation::identity(ws)?,
                })
            })
            .collect();
        let now = js_sys::Date::now() as u64;
        // The key only mints resume values, and nothing is minted here.
        let (engine, _) = Engine::restore(config, ResumeKey([0; 32]), now, held, stored);
        Ok(engine)
    }

    fn restore(
        state: &State,
        config: Config,
        report: &Reporter,
        presence: Presence,
        sfu: Option<&SfuSettings>,
    ) -> Result<Live> {
        let db = if config.resume_grace_ms > 0 {
            Some(Db::open(state)?)
        } else {
            None
        };
        let (key, stored) = match &db {
            Some(db) => (db.resume_key()?, db.load()?),
            None => (ResumeKey([0; 32]), Default::default()),
        };
        let mut held = Vec::new();
        let mut sockets = HashMap::new();
        for ws in hibernation::sockets(state)? {
            let Some(identity) = hibernation::identity(&ws) else {
                continue;
            };
            held.push(HeldSocket {
                open: hibernation::is_open(&ws),
                identity: identity.clone(),
            });
            sockets.insert(identity.conn, ws);
        }
        if !held.is_empty() || !stored.records.is_empty() {
            // Operators (and the hibernation tests) read this to see wake-ups and restarts.
            report
                .line(log::info("woke"))
                .num("connections", held.len() as u64)
                .num("stored", stored.records.len() as u64)
                .emit();
        }
        let now = js_sys::Date::now() as u64;
        let (engine, outputs) = Engine::restore(config, key, now, held, stored);
        let (sfu, sfu_stored) = match sfu {
            Some(settings) => {
                let stored = hibernation::sfu_peek(state)?;
                let json = serde_json::to_string(&stored).ok();
                (Some(Sfu::new(settings.clone(), stored)), json)
            }
            None => (None, None),
        };
        let mut live = Live {
            engine,
            sockets,
            db,
            sfu,
            sfu_stored,
            presence,
        };
        live.report(report, &Cause::Restore, &outputs, None);
        live.perform(state, report, outputs, None);
        Ok(live)
    }

    /// Tells the operator what the last engine call meant.
    fn report(
        &mut self,
        report: &Reporter,
        cause: &Cause<'_>,
        outputs: &[Output],
        current: Option<(ConnId, &WebSocket)>,
    ) {
        let Live {
            engine, sockets, ..
        } = self;
        report.report(cause, outputs, engine, |conn| {
            find_socket(sockets, current, conn)
        });
    }

    /// One engine call at the current time, and the SFU events it causes.
    fn call(&mut self, state: &State, input: Input) -> Vec<Output> {
        // Whole milliseconds since the epoch: far inside u64, never negative.
        let now = js_sys::Date::now() as u64;
        let probe = Probe {
            state,
            sockets: &self.sockets,
        };
        let mut outputs = self.engine.handle(now, input, &probe);
        if let Some(sfu) = self.sfu.as_mut() {
            let sends = sfu.after_call(self.engine.stream(), self.engine.observed());
            for (to, text) in sends {
                outputs.extend(self.engine.send_to(now, &to, text));
            }
            let json = serde_json::to_string(&sfu.state).ok();
            if json != self.sfu_stored {
                if let Some(json) = &json {
                    if let Err(e) = hibernation::sfu_store(state, json) {
                        log::error("runtime-error").err(&e).emit();
                    }
                }
                self.sfu_stored = json;
            }
        }
        outputs
    }

    /// Stores the SFU record if it changed since it was last stored.
    fn store_sfu(&mut self, state: &State, report: &Reporter) {
        let Some(sfu) = &self.sfu else { return };
        let json = serde_json::to_string(&sfu.state).ok();
        if json == self.sfu_stored {
            return;
        }
        if let Some(text) = &json {
            if let Err(e) = hibernation::sfu_store(state, text) {
                report.line(log::error("runtime-error")).err(&e).emit();
            }
        }
        self.sfu_stored = json;
    }

    /// The status API's answer.
    fn status_json(&self) -> String {
        let status = self.engine.status();
        match &self.sfu {
            Some(sfu) => sfu.status_json(&status),
            None => status.json(),
        }
    }

    /// Performs outputs in order and returns the ICE requests left to answer. `current` is the
    /// socket the event is about when the map may not hold it (a new or closing socket). A
    /// send to a socket that has gone away fails quietly: its own close event follows.
    fn perform(
        &mut self,
        state: &State,
        report: &Reporter,
        outputs: Vec<Output>,
        current: Option<(ConnId, &WebSocket)>,
    ) -> Vec<IceAsk> {
        let mut asks = Vec::new();
        // The JavaScript copy of the last text sent: a publisher's arrival or departure sends
        // the same event to every subscriber, and it needs converting only once.
        let mut last: Option<(String, JsValue)> = None;
        for output in outputs {
            let result = match output {
                Output::Accept { conn, identity } => match current {
                    Some((c, ws)) if c == conn => {
                        let accepted = hibernation::accept(state, ws, &identity);
                        self.sockets.insert(conn, ws.clone());
                        accepted
                    }
                    _ => Err(Error::RustError("accept without its socket".into())),
                },
                Output::Refuse(_) => Ok(()),
                Output::Send { conn, text } => {
                    let Some(ws) = self.socket(conn, current) else {
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
                    glue::send_string(ws.as_ref(), &js).map_err(Error::from)
                }
                Output::SendIce { conn, msg_id } => {
                    if let Some(id) = self.engine.member_of(conn) {
                        let grant = self
                            .socket(conn, current)
                            .map_or(IceGrant::StaticOnly, hibernation::ice_grant);
                        asks.push(IceAsk {
                            label: id.as_str().to_owned(),
                            msg_id,
                            grant,
                        });
                    }
                    Ok(())
                }
                Output::Close { conn, code, reason } => match self.socket(conn, current) {
                    Some(ws) => ws.close(Some(code), Some(reason)),
                    None => Ok(()),
                },
                Output::Mark { conn, identity } => match self.socket(conn, current) {
                    Some(ws) => hibernation::remember(ws, &identity),
                    None => Ok(()),
                },
                Output::Persist(record) => self.with_db(|db| db.put(&record)),
                Output::Enqueue(q) => self.with_db(|db| db.enqueue(&q.id, q.seq, &q.text)),
                Output::Dequeue(id) => self.with_db(|db| db.dequeue(id.as_str())),
                Output::Forget(id) => self.with_db(|db| db.forget(id.as_str())),
                Output::Alarm(at) => self.presence.engine_alarm(at),
                Output::Presence { live, id, since } => {
                    self.presence
                        .report(crate::presence::now(), live, &id, since)
                }
            };
            if let Err(e) = result {
                report.line(log::error("runtime-error")).err(&e).emit();
            }
        }
        asks
    }

    fn socket<'a>(
        &'a self,
        conn: ConnId,
        current: Option<(ConnId, &'a WebSocket)>,
    ) -> Option<&'a WebSocket> {
        self.sockets
            .get(&conn)
            .or(current.filter(|(c, _)| *c == conn).map(|(_, ws)| ws))
    }

    fn with_db(&self, f: impl FnOnce(&Db) -> Result<()>) -> Result<()> {
        self.db.as_ref().map_or(Ok(()), f)
    }
}

fn json_response(body: String) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    Ok(Response::ok(body)?.with_headers(headers))
}
