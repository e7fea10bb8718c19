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
    IceGrant, Input, Mode, MsgId, Output, ResumeKey, Sockets, Status,
};
use wasm_bindgen::prelude::*;
use worker::{
    js_sys, web_sys, worker_sys, Env, Error, Headers, Response, Result, State, WebSocket,
    WebSocketPair,
};

use crate::api::STATUS_PREFIX;
use crate::hibernation::{self, Db};
use crate::ice::IceService;
use crate::report::{find_socket, Cause, Reporter};
use crate::{glue, http, ids, log, settings};

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
    report: Rc<Reporter>,
    live: RefCell<Option<Live>>,
}

/// The in-memory view of the stream while the object is awake.
struct Live {
    engine: Engine,
    sockets: HashMap<ConnId, WebSocket>,
    /// Present while resume is on: members and queues are kept there.
    db: Option<Db>,
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
        Self {
            state,
            config: settings::shared(&env).config.clone(),
            ice: Rc::new(IceService::from_env(&env)),
            report: Rc::new(report),
            live: RefCell::new(None),
        }
    }

    /// A request routed here by the Worker: a connection to admit and accept, or refuse; or the
    /// stream's status. The router sends connections only on stream paths, which are never
    /// under `/api/`, and status requests only on [`STATUS_PREFIX`], a request it builds itself.
    pub fn fetch(&self, req: web_sys::Request) -> std::result::Result<JsValue, JsValue> {
        let full_url = req.url();
        let answer = if url::split(&full_url).path.starts_with(STATUS_PREFIX) {
            self.status().map(http::raw)
        } else {
            self.connect(&full_url, http::ice_grant(&req))
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

    /// The alarm armed for the end of a grace period.
    pub fn alarm(&self) -> std::result::Result<(), JsValue> {
        self.handle(Input::Timeout, None)
            .map(drop)
            .map_err(log::js_error)
    }
}

impl StreamObject {
    /// The stream's status, without creating anything: from memory when awake, else read from
    /// the sockets the runtime holds and, if the stream ever stored members, its storage.
    fn status(&self) -> Result<Response> {
        let awake = match self.live.try_borrow() {
            Ok(slot) => slot.as_ref().map(|live| live.engine.status()),
            Err(_) => None,
        };
        let status = match awake {
            Some(status) => status,
            None => Live::peek(&self.state, self.config.clone())?,
        };
        let headers = Headers::new();
        headers.set("Content-Type", "application/json")?;
        Ok(Response::ok(status.json())?.with_headers(headers))
    }

    fn connect(&self, full_url: &str, grant: IceGrant) -> Result<JsValue> {
        let query = url::split(full_url).query;
        let role = match Mode::parse(url::query_param(query, "mode").as_deref()) {
            Ok(mode) => mode.role(),
            Err(code) => return http::http_error(code).map(http::raw),
        };
        let resume = url::query_param(query, "resume");
        let conn = ids::conn()?;
        let connect = Connect {
            conn,
            role,
            resume: resume.as_deref(),
            id: ids::mint()?,
            nonce: ids::random::<16>()?,
            // The router's grant; the engine keeps it with the member and its attachment.
            turn: grant == IceGrant::WithTurn,
        };
        let pair = WebSocketPair::new()?;
        let mut live = self.live()?;
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
        let mut slot = self
            .live
            .try_borrow_mut()
            .map_err(|_| Error::RustError("stream state is busy".into()))?;
        if slot.is_none() {
            *slot = Some(Live::restore(
                &self.state,
                self.config.clone(),
                &self.report,
            )?);
        }
        RefMut::filter_map(slot, Option::as_mut)
            .map_err(|_| Error::RustError("stream state missing".into()))
    }
}

impl Live {
    /// The status a rebuilt stream would have, read without writing: no tables are made, no
    /// resume key is minted, nothing is performed.
    fn peek(state: &State, config: Config) -> Result<Status> {
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
        Ok(engine.status())
    }

    fn restore(state: &State, config: Config, report: &Reporter) -> Result<Live> {
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
        let mut live = Live {
            engine,
            sockets,
            db,
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

    /// One engine call at the current time.
    fn call(&mut self, state: &State, input: Input) -> Vec<Output> {
        // Whole milliseconds since the epoch: far inside u64, never negative.
        let now = js_sys::Date::now() as u64;
        let probe = Probe {
            state,
            sockets: &self.sockets,
        };
        self.engine.handle(now, input, &probe)
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
                Output::Alarm(at) => self.with_db(|db| db.set_alarm(at)),
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
