//! A stream's reports to its room: its publisher arrived, or its departure is final.
//!
//! A report is written to the stream object's storage (the outbox) in the same event that
//! decided it, with an alarm for a retry, and only then sent; the room's acknowledgement
//! deletes it. A report that fails (or that the room cannot list yet) is sent again on the
//! alarm, after 1, 2, 4 ... up to 60 seconds, so no report is lost while the stream object's
//! storage lives, whatever happens to either object meanwhile. Only the latest report counts:
//! a newer one replaces an unsent older one, and the room orders them (see `streams_core::room`).
//!
//! The object's one alarm serves both the engine (ends of grace periods) and the retries: it is
//! armed for the earlier of the two, and each firing gives the engine a `Timeout` (which checks
//! the time itself) and resends a report that is due.

use std::cell::Cell;
use std::rc::Rc;

use serde::Serialize;
use serde_json::Value;
use streams_core::json::{object, required, unsigned, FromJson};
use streams_core::room::Report;
use streams_core::{room_of, PeerId, Settings};
use wasm_bindgen::prelude::*;
use worker::{js_sys, web_sys, worker_sys, Env, Error, Request, Result, State};

use crate::http::ROOMS_BINDING;
use crate::{glue, log};

/// Where a room's object takes reports (under `/api/`, which the router never forwards).
pub const REPORT_PATH: &str = "/api/room-report";

/// The first retry, and the longest wait between two.
const FIRST_RETRY_MS: u64 = 1_000;
const MAX_RETRY_MS: u64 = 60_000;

thread_local! {
    /// Reports this isolate has made fail on purpose (`TEST_DROP_ROOM_REPORTS`).
    static DROPPED: Cell<u64> = const { Cell::new(0) };
}

/// A report not yet acknowledged by the room.
#[derive(Clone, Debug, Serialize)]
struct Outbox {
    report: Report,
    attempts: u32,
    retry_at: u64,
}

impl FromJson for Outbox {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            report: required(o, "report", Report::from_value)?,
            attempts: required(o, "attempts", unsigned)?.try_into().ok()?,
            retry_at: required(o, "retry_at", unsigned)?,
        })
    }
}

/// The stream's side of its room: the outbox and the alarm it shares with the engine.
pub struct Presence {
    storage: JsValue,
    /// The object's `DurableObjectState`, for `waitUntil`.
    state: JsValue,
    env: Env,
    settings: Rc<Settings>,
    /// The stream key (the object's name) when the stream is in a room.
    path: Option<String>,
    /// The unacknowledged report, its attempts and when it is sent again.
    outbox: Option<Outbox>,
    /// The engine's alarm, as it last asked; shared with the sends in flight, so that an
    /// acknowledgement can put the alarm back to it rather than wake the object for nothing.
    engine_alarm: Rc<Cell<Option<u64>>>,
}

impl Presence {
    /// Reads the outbox, without creating anything for a stream that never reported.
    pub fn load(state: &State, env: &Env, settings: &Rc<Settings>, key: &str) -> Result<Self> {
        let storage: JsValue = state.as_raw().storage().map_err(Error::from)?.into();
        let path = room_of(key, &settings.room_prefixes).map(|_| key.to_owned());
        let outbox = match path {
            Some(_) => glue::outbox_peek(&storage).map_err(Error::from)?,
            None => None,
        };
        Ok(Self {
            storage,
            state: AsRef::<JsValue>::as_ref(state.as_raw()).clone(),
            env: env.clone(),
            settings: Rc::clone(settings),
            path,
            outbox: outbox.and_then(|json| Outbox::from_json(&json)),
            engine_alarm: Rc::new(Cell::new(None)),
        })
    }

    /// The engine asked for its alarm: arm the earlier of it and a retry.
    pub fn engine_alarm(&mut self, at: Option<u64>) -> Result<()> {
        self.engine_alarm.set(at);
        self.arm()
    }

    /// Reports a publisher's arrival or final departure to the room, if the stream has one.
    pub fn report(&mut self, now: u64, live: bool, id: &PeerId, since: u64) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let report = Report {
            path: path.clone(),
            live,
            id: id.as_str().to_owned(),
            since,
        };
        let outbox = Outbox {
            report,
            attempts: 0,
            retry_at: now.saturating_add(FIRST_RETRY_MS),
        };
        self.store(outbox)
    }

    /// The alarm fired: resend the report if it is due.
    pub fn on_alarm(&mut self, now: u64) -> Result<()> {
        if self.path.is_none() {
            return self.arm();
        }
        // The acknowledgement of an earlier send may have deleted it meanwhile.
        self.outbox = self.stored_outbox()?;
        match self.outbox.clone() {
            Some(mut outbox) if outbox.retry_at <= now => {
                outbox.attempts = outbox.attempts.saturating_add(1);
                let wait = FIRST_RETRY_MS
                    .saturating_mul(1 << outbox.attempts.min(6))
                    .min(MAX_RETRY_MS);
                outbox.retry_at = now.saturating_add(wait);
                self.store(outbox)
            }
            _ => self.arm(),
        }
    }

    fn stored_outbox(&self) -> Result<Option<Outbox>> {
        Ok(glue::outbox_peek(&self.storage)
            .map_err(Error::from)?
            .and_then(|json| Outbox::from_json(&json)))
    }

    /// Writes the outbox, arms the alarm for its retry, then sends it.
    fn store(&mut self, outbox: Outbox) -> Result<()> {
        let json = serde_json::to_string(&outbox).map_err(|e| Error::RustError(e.to_string()))?;
        let body =
            serde_json::to_string(&outbox.report).map_err(|e| Error::RustError(e.to_string()))?;
        glue::outbox_put(&self.storage, &body, &json).map_err(Error::from)?;
        let report = outbox.report.clone();
        self.outbox = Some(outbox);
        self.arm()?;
        self.send(report, body)
    }

    fn arm(&mut self) -> Result<()> {
        if self.outbox.is_some() {
            // An acknowledgement may have deleted it since.
            self.outbox = self.stored_outbox()?;
        }
        let retry = self.outbox.as_ref().map(|o| o.retry_at);
        let at = match (self.engine_alarm.get(), retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        glue::set_alarm(&self.storage, at.map(|t| t as f64)).map_err(Error::from)
    }

    /// Sends the report; the room's acknowledgement deletes the outbox if it still holds this
    /// report. The object stays up until the answer is in (`waitUntil`); if it does not, the
    /// alarm sends the report again.
    fn send(&self, report: Report, body: String) -> Result<()> {
        let room = room_of(&report.path, &self.settings.room_prefixes)
            .unwrap_or_default()
            .to_owned();
        let drop = DROPPED.with(|d| {
            let dropped = d.get() < self.settings.vars.test_drop_room_reports;
            if dropped {
                d.set(d.get() + 1);
            }
            dropped
        });
        let env = self.env.clone();
        let storage = self.storage.clone();
        let engine_alarm = Rc::clone(&self.engine_alarm);
        let sending = async move {
            let acked = if drop {
                Err(Error::RustError("dropped for a test".into()))
            } else {
                deliver(&env, &room, body.clone()).await
            };
            match acked {
                Ok(true) => {
                    // Nothing left to resend: the alarm is the engine's again.
                    if glue::outbox_acked(&storage, &body) == Ok(true) {
                        let at = engine_alarm.get().map(|t| t as f64);
                        let _ = glue::set_alarm(&storage, at);
                    }
                }
                Ok(false) => log::info("room-report-unlisted")
                    .str("stream", &report.path)
                    .emit(),
                Err(e) => log::warn("room-report-failed")
                    .str("stream", &report.path)
                    .str("error", &e.to_string())
                    .emit(),
            }
            Ok(JsValue::UNDEFINED)
        };
        // Through the one Promise machinery every other task uses (`glue::promise`).
        let sending: js_sys::Promise = glue::promise(sending).unchecked_into();
        self.state
            .unchecked_ref::<worker_sys::DurableObjectState>()
            .wait_until(&sending)
            .map_err(Error::from)
    }
}

/// One report to the room's object: whether the room listed it (or knew better already).
async fn deliver(env: &Env, room_path: &str, body: String) -> Result<bool> {
    let namespace = env.durable_object(ROOMS_BINDING)?;
    let stub = namespace.id_from_name(room_path)?.get_stub()?;
    // The runtime's own request type: worker's `RequestInit` would bring its `cf` serializer
    // (and serde-wasm-bindgen) into the Wasm.
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let req = web_sys::Request::new_with_str_and_init(
        &format!("https://room.internal{REPORT_PATH}"),
        &init,
    )
    .map_err(Error::from)?;
    let mut answer = stub.fetch_with_request(Request::from(req)).await?;
    if answer.status_code() != 200 {
        return Err(Error::RustError(format!(
            "the room answered {}",
            answer.status_code()
        )));
    }
    let ack = streams_core::json::parse(&answer.text().await?)
        .ok_or_else(|| Error::RustError("the room's answer is not JSON".into()))?;
    Ok(ack.get("listed").and_then(Value::as_bool) == Some(true))
}

/// Now, in whole ms since the epoch.
pub fn now() -> u64 {
    js_sys::Date::now() as u64
}
