//! Which requests may open a connection to which stream, decided before any socket exists.

use crate::{resolve, ErrorCode, Mode, Refusal, Role, StreamKey};

/// What the Worker knows of an incoming request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The request asks for a WebSocket upgrade (`Upgrade: websocket`).
    pub upgrade: bool,
    /// The URL path, still percent-encoded.
    pub path: &'a str,
    /// The `mode` query parameter, if any.
    pub mode: Option<&'a str>,
}

/// A request that may go on to its stream's Durable Object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub key: StreamKey,
    pub role: Role,
}

/// A request that may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Answer with this HTTP status and error: nothing suggests a browser is waiting on a socket.
    Http(ErrorCode),
    /// Accept the WebSocket, send the error frame and close it: browsers cannot read the body of
    /// a refused handshake, so this is the only way to tell them why.
    Socket(Refusal),
}

/// Decides where a request goes. Never panics, whatever the input.
pub fn admit(req: &Request<'_>) -> Result<Admitted, Rejection> {
    if req.method != "GET" {
        return Err(Rejection::Http(ErrorCode::MethodNotAllowed));
    }
    if !req.upgrade {
        return Err(Rejection::Http(ErrorCode::UpgradeRequired));
    }
    let mode = Mode::parse(req.mode).map_err(Rejection::Http)?;
    let key = resolve(req.path, mode).map_err(Rejection::Socket)?;
    Ok(Admitted {
        key,
        role: mode.role(),
    })
}
