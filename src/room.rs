//! The Durable Object that holds one room: a thin adapter around the core's
//! [`RoomEngine`], shaped like the stream object. Each runtime event (a watcher connecting,
//! sending, closing; a stream's report; the alarm) finds the watcher, makes one engine call with
//! the time, and performs the outputs.
//!
//! The object is named by its room path. Watchers' sockets are hibernatable and carry their
//! watcher as the attachment; the list lives in the object's SQLite storage; so an evicted or
//! restarted room is rebuilt from the two. Verification questions (the engine's `Ask`) are
//! fetches to the streams' objects, answered back into the engine when they come in.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use streams_core::json::{self, FromJson};
use streams_core::room::{stored_entries, Entry, HeldWatcher, Presence, Report, Watcher};
use streams_core::url;
use streams_core::{ConnId, RoomEngine, RoomInput, RoomOutput, Settings};
use wasm_bindgen::prelude::*;
use worker::{
    js_sys, web_sys, worker_sys, Env, Error, Headers, Request, Response, Result, State, WebSocket,
    WebSocketPair,
};

use crate::api::PRESENCE_PATH;
use crate::http::STREAMS_BINDING;
use crate::presence::REPORT_PATH;
use crate::{glue, hibernation, http, ids, log, settings};

/// One room's Durable Object, exported to the runtime by hand as the stream object is.
#[wasm_bindgen]
pub struct RoomObject {
    inner: Rc<Room>,
}

/// The object's state, shared with the tasks that outlive one event (a report's body, the
/// verification fetches) and call the engine again when they resume.
struct Room {
    state: State,
    env: Env,
    settings: Rc<Settings>,
    /// The room path: the name the router and the streams gave the object.
    room: String,
    live: RefCell<Option<RoomLive>>,
}

/// The room while the object is awake.
struct RoomLive {
    engine: RoomEngine,
    sockets: HashMap<ConnId, WebSocket>,
    storage: JsValue,
}

/// Verification questions to ask once the room's state is no longer borrowed.
type Asks = Vec<(String, Entry)>;

#[wasm_bindgen]
impl RoomObject {
    #[wasm_bindgen(constructor)]
    pub fn new(state: worker_sys::DurableObjectState, env: Env) -> Self {
        let state = State::from(state);
        let room = state
            .as_raw()
            .id()
            .ok()
            .and_then(|id| id.name())
            .unwrap_or_default();
        if let Err(e) = hibernation::answer_heartbeats(&state) {
            log::error("heartbeat-setup-failed")
                .str("room", &room)
                .str("error", &e.to_string())
                .emit();
        }
        let inner = Room {
            settings: settings::shared(&env),
            state,
            env,
            room,
            live: RefCell::new(None),
        };
        Self {
            inner: Rc::new(inner),
        }
    }

    /// A watcher to admit (the router checked its access), or a stream's report.
    pub fn fetch(&self, req: web_sys::Request) -> std::result::Result<JsValue, JsValue> {
        let full_url = req.url();
        if url::split(&full_url).path == REPORT_PATH {
            return Ok(Room::report(Rc::clone(&self.inner), Request::from(req)));
        }
        self.inner.connect().map_err(log::js_error)
    }

    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn web_socket_message(
        &self,
        ws: web_sys::WebSocket,
        _message: JsValue,
    ) -> std::result::Result<(), JsValue> {
        let ws = WebSocket::from(ws);
        let Some(conn) = conn_of(&ws) else {
            return Ok(());
        };
        self.inner
            .handle(RoomInput::Frame { conn }, Some((conn, &ws)))?;
        Ok(())
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn web_socket_close(
        &self,
        ws: web_sys::WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> std::result::Result<(), JsValue> {
        Ok(self
            .inner
            .on_close(WebSocket::from(ws), u16::try_from(code).ok(), &reason)?)
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn web_socket_error(
        &self,
        ws: web_sys::WebSocket,
        _error: JsValue,
    ) -> std::result::Result<(), JsValue> {
        Ok(self.inner.on_close(WebSocket::from(ws), None, "")?)
    }

    /// The verification alarm: ask the listed streams, and apply their answers.
    pub fn alarm(&self) -> std::result::Result<JsValue, JsValue> {
        let asks = self.inner.handle(RoomInput::Timeout, None)?;
        if asks.is_empty() {
            return Ok(JsValue::UNDEFINED);
        }
        let room = Rc::clone(&self.inner);
        let verifying = async move {
            for (path, asked) in asks {
                let answer = match ask_stream(&room.env, &path).await {
                    Ok(answer) => Some(answer),
                    Err(e) => {
                        log::warn("room-verify-failed")
                            .str("stream", &path)
                            .str("error", &e.to_string())
                            .emit();
                        None
                    }
                };
                // Other events may have run meanwhile (an outgoing fetch lets them in): the
                // engine compares with what it listed when it asked.
                let input = RoomInput::Verified {
                    path,
                    asked,
                    answer,
                };
                room.handle(input, None).map_err(JsValue::from)?;
            }
            Ok(JsValue::UNDEFINED)
        };
        Ok(glue::promise(verifying))
    }
}

impl Room {
    fn connect(&self) -> Result<JsValue> {
        let conn = ids::conn()?;
        let id = ids::mint()?;
        let pair = WebSocketPair::new()?;
        let outputs = self.call(RoomInput::Connect { conn, id })?;
        let refusal = outputs.iter().find_map(|o| match o {
            RoomOutput::Refuse(r) => Some(*r),
            _ => None,
        });
        self.perform(outputs, Some((conn, &pair.server)))?;
        match refusal {
            Some(refusal) => {
                log::info("refused")
                    .str("room", &self.room)
                    .str("code", refusal.code().code())
                    .num("close", u64::from(refusal.close_code()))
                    .emit();
                http::refuse_socket(refusal)
            }
            None => {
                log::info("watching").str("room", &self.room).emit();
                http::upgrade(&pair.client)
            }
        }
    }

    /// A stream's report: applied, stored, told to the watchers, then acknowledged.
    fn report(this: Rc<Room>, mut req: Request) -> JsValue {
        let answer = async move {
            let text = req.text().await?;
            let Some(report) = Report::from_json(&text) else {
                return http::http_error(streams_core::ErrorCode::InvalidJson);
            };
            let outputs = this.call(RoomInput::Report(report))?;
            let listed = outputs.iter().find_map(|o| match o {
                RoomOutput::Ack { listed } => Some(*listed),
                _ => None,
            });
            this.perform(outputs, None)?;
            let headers = Headers::new();
            headers.set("Content-Type", "application/json")?;
            Ok(
                Response::ok(serde_json::json!({ "listed": listed.unwrap_or(true) }).to_string())?
                    .with_headers(headers),
            )
        };
        glue::promise(async move { answer.await.map(http::raw).map_err(log::js_error) })
    }

    fn on_close(&self, ws: WebSocket, code: Option<u16>, reason: &str) -> Result<()> {
        let Some(conn) = conn_of(&ws) else {
            let _ = ws.close(Some(1000), Some(reason));
            return Ok(());
        };
        self.handle(RoomInput::Closed { conn, code, reason }, Some((conn, &ws)))?;
        self.with_live(|live| {
            live.sockets.remove(&conn);
            Ok(())
        })
    }

    /// One engine call and its outputs; returns the verification questions to ask.
    fn handle(&self, input: RoomInput<'_>, current: Option<(ConnId, &WebSocket)>) -> Result<Asks> {
        let outputs = self.call(input)?;
        self.perform(outputs, current)
    }

    fn call(&self, input: RoomInput<'_>) -> Result<Vec<RoomOutput>> {
        let now = js_sys::Date::now() as u64;
        self.with_live(|live| Ok(live.engine.handle(now, input)))
    }

    /// The room's state, rebuilt from the sockets and storage after an eviction.
    fn with_live<T>(&self, f: impl FnOnce(&mut RoomLive) -> Result<T>) -> Result<T> {
        let mut slot = self
            .live
            .try_borrow_mut()
            .map_err(|_| Error::RustError("room state is busy".into()))?;
        if slot.is_none() {
            *slot = Some(self.restore()?);
        }
        match slot.as_mut() {
            Some(live) => f(live),
            None => Err(Error::RustError("room state missing".into())),
        }
    }

    fn restore(&self) -> Result<RoomLive> {
        let storage: JsValue = self.state.as_raw().storage().map_err(Error::from)?.into();
        let stored = json::parse(&glue::room_load(&storage).map_err(Error::from)?)
            .and_then(|v| stored_entries(&v))
            .ok_or_else(|| Error::RustError("stored room: unreadable".into()))?;
        let mut held = Vec::new();
        let mut sockets = HashMap::new();
        for ws in hibernation::sockets(&self.state)? {
            let Some(watcher) = watcher_of(&ws) else {
                continue;
            };
            held.push(HeldWatcher {
                open: hibernation::is_open(&ws),
                watcher: watcher.clone(),
            });
            sockets.insert(watcher.conn, ws);
        }
        if !held.is_empty() || !stored.is_empty() {
            log::info("room-woke")
                .str("room", &self.room)
                .num("watchers", held.len() as u64)
                .num("stored", stored.len() as u64)
                .emit();
        }
        let engine =
            RoomEngine::restore(self.room.clone(), self.settings.rooms.clone(), held, stored);
        Ok(RoomLive {
            engine,
            sockets,
            storage,
        })
    }

    /// Performs outputs in order; returns the verification questions.
    fn perform(
        &self,
        outputs: Vec<RoomOutput>,
        current: Option<(ConnId, &WebSocket)>,
    ) -> Result<Asks> {
        self.with_live(|live| {
            let mut asks = Vec::new();
            for output in outputs {
                let result = match output {
                    RoomOutput::Accept { conn, watcher } => match current {
                        Some((c, ws)) if c == conn => {
                            let accepted = accept(&self.state, ws, &watcher);
                            live.sockets.insert(conn, ws.clone());
                            accepted
                        }
                        _ => Err(Error::RustError("accept without its socket".into())),
                    },
                    RoomOutput::Refuse(_) | RoomOutput::Ack { .. } => Ok(()),
                    RoomOutput::Send { conn, text } => match socket(live, conn, current) {
                        Some(ws) => ws.send_with_str(&text),
                        None => Ok(()),
                    },
                    RoomOutput::Close { conn, code, reason } => match socket(live, conn, current) {
                        Some(ws) => ws.close(Some(code), Some(reason)),
                        None => Ok(()),
                    },
                    RoomOutput::Store { path, entry } => {
                        let json = entry.map(|e| serde_json::to_string(&e).unwrap_or_default());
                        glue::room_store(&live.storage, &path, json).map_err(Error::from)
                    }
                    RoomOutput::Ask { path, asked } => {
                        asks.push((path, asked));
                        Ok(())
                    }
                    RoomOutput::Alarm(at) => {
                        glue::set_alarm(&live.storage, at.map(|t| t as f64)).map_err(Error::from)
                    }
                };
                if let Err(e) = result {
                    log::error("runtime-error")
                        .str("room", &self.room)
                        .str("error", &e.to_string())
                        .emit();
                }
            }
            Ok(asks)
        })
    }
}

fn socket<'a>(
    live: &'a RoomLive,
    conn: ConnId,
    current: Option<(ConnId, &'a WebSocket)>,
) -> Option<&'a WebSocket> {
    live.sockets
        .get(&conn)
        .or(current.filter(|(c, _)| *c == conn).map(|(_, ws)| ws))
}

fn accept(state: &State, ws: &WebSocket, watcher: &Watcher) -> Result<()> {
    state
        .as_raw()
        .accept_websocket(ws.as_ref())
        .map_err(Error::from)?;
    // JSON text, as the stream's sockets have: worker's attachment methods would bring
    // serde-wasm-bindgen into the Wasm for this one struct.
    let json = serde_json::to_string(watcher).map_err(|e| Error::RustError(e.to_string()))?;
    glue::set_attachment(ws.as_ref(), &json).map_err(Error::from)?;
    glue::cache_conn(ws.as_ref(), watcher.conn as f64);
    Ok(())
}

/// The socket's watcher; `glue::attachment` also reads the objects earlier versions stored.
fn watcher_of(ws: &WebSocket) -> Option<Watcher> {
    Watcher::from_json(&glue::attachment(ws.as_ref()).ok().flatten()?)
}

/// The watcher's socket number: cached while awake, from the attachment after a wake-up.
fn conn_of(ws: &WebSocket) -> Option<ConnId> {
    if let Some(conn) = glue::cached_conn(ws.as_ref()) {
        return Some(conn as ConnId);
    }
    let conn = watcher_of(ws)?.conn;
    glue::cache_conn(ws.as_ref(), conn as f64);
    Some(conn)
}

/// Who publishes on a stream now, as its object says.
async fn ask_stream(env: &Env, path: &str) -> Result<Presence> {
    let namespace = env.durable_object(STREAMS_BINDING)?;
    let stub = namespace.id_from_name(path)?.get_stub()?;
    let mut answer = stub
        .fetch_with_str(&format!("https://stream.internal{PRESENCE_PATH}"))
        .await?;
    if answer.status_code() != 200 {
        return Err(Error::RustError(format!(
            "the stream answered {}",
            answer.status_code()
        )));
    }
    Presence::from_json(&answer.text().await?)
        .ok_or_else(|| Error::RustError("the stream's answer is unreadable".into()))
}
