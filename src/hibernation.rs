//! The Hibernatable WebSocket and storage calls the object needs, returning errors instead of
//! panicking.
//!
//! workers-rs' `State` helpers unwrap the JavaScript result, so a runtime exception there (a
//! closed socket) would panic and poison the instance; these go through the raw bindings and
//! `glue` instead. A socket's one record is its attachment ([`Identity`]); its number is cached
//! on the JavaScript object while the object is awake.

use streams_core::{
    ConnId, IceGrant, Identity, Record, ResumeKey, SfuState, Stored, HEARTBEAT_PING, HEARTBEAT_PONG,
};
use worker::wasm_bindgen::JsValue;
use worker::{web_sys, Error, Result, State, WebSocket, WebSocketRequestResponsePair};

use crate::{glue, ids};

/// Hands the socket to the runtime for hibernation with its attachment.
pub fn accept(state: &State, ws: &WebSocket, identity: &Identity) -> Result<()> {
    state
        .as_raw()
        .accept_websocket(ws.as_ref())
        .map_err(Error::from)?;
    remember(ws, identity)
}

/// Writes the socket's attachment and caches its number. The attachment is the identity's
/// JSON text: one string to clone, where an object built field by field cost a runtime call per
/// field on every connection (and a second serializer in the Wasm).
pub fn remember(ws: &WebSocket, identity: &Identity) -> Result<()> {
    let json = serde_json::to_string(identity).map_err(|e| Error::RustError(e.to_string()))?;
    glue::set_attachment(ws.as_ref(), &json).map_err(Error::from)?;
    glue::cache_conn(ws.as_ref(), identity.conn as f64);
    Ok(())
}

/// Has the runtime answer `ping` with `pong` on every socket of this object by itself, without
/// waking the object from hibernation (and without counting against any frame limit).
pub fn answer_heartbeats(state: &State) -> Result<()> {
    let pair =
        WebSocketRequestResponsePair::new(HEARTBEAT_PING, HEARTBEAT_PONG).map_err(Error::from)?;
    state
        .as_raw()
        .set_websocket_auto_response(&pair)
        .map_err(Error::from)
}

/// Every socket the runtime holds for this object, open or not.
pub fn sockets(state: &State) -> Result<Vec<WebSocket>> {
    let list = state.as_raw().get_websockets().map_err(Error::from)?;
    Ok(list.into_iter().map(WebSocket::from).collect())
}

/// The identity stored on a socket, from its attachment (`None` for a socket from an older
/// version of the Worker, which a deploy will have closed anyway).
pub fn identity(ws: &WebSocket) -> Option<Identity> {
    let json = glue::attachment(ws.as_ref()).ok().flatten()?;
    serde_json::from_str(&json).ok()
}

/// Whether the socket's connection may have TURN credentials (the router's grant, kept in its
/// attachment); not, if the attachment is unreadable.
pub fn ice_grant(ws: &WebSocket) -> IceGrant {
    match identity(ws) {
        Some(identity) if identity.turn => IceGrant::WithTurn,
        _ => IceGrant::StaticOnly,
    }
}

/// The number of the socket: cached while awake, from the attachment after a wake-up.
pub fn conn_of(ws: &WebSocket) -> Option<ConnId> {
    if let Some(conn) = glue::cached_conn(ws.as_ref()) {
        return Some(conn as ConnId);
    }
    let conn = identity(ws)?.conn;
    glue::cache_conn(ws.as_ref(), conn as f64);
    Some(conn)
}

/// Whether the socket can still carry frames (`readyState == OPEN`).
pub fn is_open(ws: &WebSocket) -> bool {
    ws.as_ref().ready_state() == web_sys::WebSocket::OPEN
}

/// When the runtime last answered the socket's heartbeat, in ms since the epoch.
pub fn last_ping(state: &State, ws: &WebSocket) -> Option<u64> {
    let raw: &JsValue = state.as_raw().as_ref();
    glue::last_ping(raw, ws.as_ref())
        .ok()
        .flatten()
        .map(|ms| ms as u64)
}

/// The stream's SFU record, read without writing (empty when it never stored one).
pub fn sfu_peek(state: &State) -> Result<SfuState> {
    let storage: JsValue = state.as_raw().storage().map_err(Error::from)?.into();
    match glue::sfu_peek(&storage).map_err(Error::from)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| Error::RustError(format!("stored SFU record: {e}"))),
        None => Ok(SfuState::default()),
    }
}

/// Stores the stream's SFU record.
pub fn sfu_store(state: &State, json: &str) -> Result<()> {
    let storage: JsValue = state.as_raw().storage().map_err(Error::from)?.into();
    glue::sfu_store(&storage, json).map_err(Error::from)
}

/// The object's SQLite storage, used only while resume is on.
pub struct Db(JsValue);

impl Db {
    /// Opens the storage and makes its tables (cheap when they exist).
    pub fn open(state: &State) -> Result<Self> {
        let storage: JsValue = state.as_raw().storage().map_err(Error::from)?.into();
        glue::db_setup(&storage).map_err(Error::from)?;
        Ok(Self(storage))
    }

    /// Every member record and queued frame.
    pub fn load(&self) -> Result<Stored> {
        parse(&glue::db_load(&self.0).map_err(Error::from)?)
    }

    /// The member records, read without opening the storage for writing: no tables are made
    /// for a stream that never stored any. Queued frames are left out.
    pub fn peek(state: &State) -> Result<Stored> {
        let storage: JsValue = state.as_raw().storage().map_err(Error::from)?.into();
        parse(&glue::db_peek(&storage).map_err(Error::from)?)
    }

    /// The stream's resume key, made on first use.
    pub fn resume_key(&self) -> Result<ResumeKey> {
        let fresh = streams_core::base64url_encode(ids::random::<32>()?);
        let stored = glue::db_key(&self.0, &fresh).map_err(Error::from)?;
        let bytes = streams_core::base64url_decode(&stored)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| Error::RustError("stored resume key is malformed".into()))?;
        Ok(ResumeKey(bytes))
    }

    pub fn put(&self, record: &Record) -> Result<()> {
        let json = serde_json::to_string(record).map_err(|e| Error::RustError(e.to_string()))?;
        glue::db_put(&self.0, &record.id, &json).map_err(Error::from)
    }

    pub fn enqueue(&self, id: &str, seq: u64, text: &str) -> Result<()> {
        glue::db_enqueue(&self.0, id, seq as f64, text).map_err(Error::from)
    }

    pub fn dequeue(&self, id: &str) -> Result<()> {
        glue::db_dequeue(&self.0, id).map_err(Error::from)
    }

    pub fn forget(&self, id: &str) -> Result<()> {
        glue::db_forget(&self.0, id).map_err(Error::from)
    }
}

fn parse(json: &str) -> Result<Stored> {
    serde_json::from_str(json).map_err(|e| Error::RustError(format!("stored stream: {e}")))
}
