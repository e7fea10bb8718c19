//! The Hibernatable WebSocket calls the object needs, returning errors instead of panicking.
//!
//! workers-rs' `State` helpers unwrap the JavaScript result, so a runtime exception there (a
//! closed socket, a bad tag) would panic and poison the instance; these go through the raw
//! binding instead. A socket's identity is kept in both its tags (so the runtime can find it by
//! id) and its attachment (so it survives eviction with room for more per-socket state).

use serde::{Deserialize, Serialize};
use streams_core::{IceGrant, PeerId, Role, HEARTBEAT_PING, HEARTBEAT_PONG};
use worker::wasm_bindgen::JsValue;
use worker::{web_sys, Error, Result, State, WebSocket, WebSocketRequestResponsePair};

use crate::glue;

const ID_TAG: &str = "id:";
const ROLE_TAG: &str = "role:";

/// What the runtime remembers about a socket across hibernation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Identity {
    pub id: String,
    pub role: String,
    /// Set once the socket's departure was announced, so a wake-up never announces it again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gone: bool,
    /// The router granted this connection TURN credentials (see `http::ICE_GRANT_HEADER`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub turn: bool,
}

impl Identity {
    pub fn new(id: &PeerId, role: Role) -> Self {
        Self {
            id: id.as_str().to_owned(),
            role: role.as_str().to_owned(),
            gone: false,
            turn: false,
        }
    }

    pub fn peer(&self) -> Option<(PeerId, Role)> {
        Some((
            PeerId::new(self.id.clone()),
            Role::from_str_opt(&self.role)?,
        ))
    }
}

/// Hands the socket to the runtime for hibernation, tagged with its id and role.
pub fn accept(state: &State, ws: &WebSocket, identity: &Identity) -> Result<()> {
    // Two tags of at most 29 bytes: well inside the runtime's 10 tags of 256 characters.
    let tags = vec![
        JsValue::from(format!("{ID_TAG}{}", identity.id)),
        JsValue::from(format!("{ROLE_TAG}{}", identity.role)),
    ];
    state
        .as_raw()
        .accept_websocket_with_tags(ws.as_ref(), tags)
        .map_err(Error::from)?;
    ws.serialize_attachment(identity)
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

/// The identity stored on a socket, from its attachment.
pub fn identity(ws: &WebSocket) -> Result<Option<Identity>> {
    ws.deserialize_attachment()
}

/// Whether the socket's connection may have TURN credentials; not, if its record is unreadable.
pub fn ice_grant(ws: &WebSocket) -> IceGrant {
    match identity(ws) {
        Ok(Some(identity)) if identity.turn => IceGrant::WithTurn,
        _ => IceGrant::StaticOnly,
    }
}

/// The id a socket was tagged with when it was accepted.
pub fn tagged_id(state: &State, ws: &WebSocket) -> Result<Option<PeerId>> {
    if let Some(id) = glue::cached_id(ws.as_ref()) {
        return Ok(Some(PeerId::new(id)));
    }
    let tags = state.as_raw().get_tags(ws.as_ref()).map_err(Error::from)?;
    let id = tags.iter().find_map(|t| t.strip_prefix(ID_TAG));
    if let Some(id) = id {
        glue::cache_id(ws.as_ref(), id);
    }
    Ok(id.map(PeerId::from))
}

/// Whether the socket can still carry frames (`readyState == OPEN`).
pub fn is_open(ws: &WebSocket) -> bool {
    ws.as_ref().ready_state() == web_sys::WebSocket::OPEN
}
