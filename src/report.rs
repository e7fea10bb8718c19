//! What each event in a stream meant, told to the operator: one log line and, with the
//! `METRICS` binding, one data point per membership change, refusal and server close, and the
//! stream's relays counted towards a `relay` point. The engine says what changed
//! ([`Engine::observed`]); the outputs say what was refused and closed.

use std::collections::HashMap;

use streams_core::{Change, ConnId, Engine, Output, PeerId, Role};
use worker::{Env, State, WebSocket};

use crate::hibernation;
use crate::log;
use crate::metrics::{Metrics, Point};

/// The runtime event an engine call handled, as far as the report needs it.
pub enum Cause<'a> {
    Connect {
        role: Role,
    },
    /// A socket closed (`code: None`: it failed); `member` is the member it carried, if any.
    Closed {
        conn: ConnId,
        code: Option<u16>,
        member: Option<&'a PeerId>,
    },
    Frame,
    Timeout,
    /// The stream was rebuilt after an eviction or a restart.
    Restore,
}

/// Reports the events of one stream.
pub struct Reporter {
    /// The stream key: the name the router gave the object.
    stream: String,
    metrics: Option<Metrics>,
}

impl Reporter {
    pub fn new(state: &State, env: &Env) -> Self {
        // The router names each object by its stream key, and the runtime gives the name back
        // (also after hibernation and in alarms).
        let stream = state
            .as_raw()
            .id()
            .ok()
            .and_then(|id| id.name())
            .unwrap_or_default();
        Self {
            stream,
            metrics: Metrics::from_env(env),
        }
    }

    /// A log line about this stream.
    pub fn line(&self, line: log::Line) -> log::Line {
        line.str("stream", &self.stream)
    }

    /// Reports one engine call, before its outputs are performed (sockets still carry the
    /// attachments they had).
    pub fn report(
        &self,
        cause: &Cause<'_>,
        outputs: &[Output],
        engine: &mut Engine,
        socket: impl Fn(ConnId) -> Option<WebSocket>,
    ) {
        if let Some(metrics) = &self.metrics {
            metrics.relayed(&self.stream, engine.take_relayed());
        }
        let status = engine.status();
        for observed in engine.observed() {
            let role = observed.role.as_str();
            // The client's own close code, when this member's socket closing is the event.
            let close = match cause {
                Cause::Closed { code, member, .. } if *member == Some(&observed.id) => *code,
                _ => None,
            };
            let (event, point) = match observed.change {
                Change::Joined => ("joined", "join"),
                Change::Resumed { .. } => ("resumed", "resume"),
                Change::Away => ("away", "away"),
                Change::Left { .. } => ("left", "leave"),
            };
            let mut line = self
                .line(log::info(event))
                .str("member", observed.id.as_str())
                .str("role", role)
                .num("subscribers", status.subscribers as u64)
                .flag("live", status.live)
                .opt_num("close", close.map(u64::from));
            match observed.change {
                Change::Resumed { queued } => line = line.num("queued", queued as u64),
                Change::Left { was_away } => line = line.flag("was_away", was_away),
                Change::Joined | Change::Away => {}
            }
            line.emit();
            self.point(Point {
                event: point,
                role,
                subscribers: status.subscribers,
                live: status.live,
                close,
                ..Point::default()
            });
        }
        for output in outputs {
            match output {
                Output::Refuse(refusal) => {
                    let role = match cause {
                        Cause::Connect { role } => role.as_str(),
                        _ => "",
                    };
                    self.refused(role, refusal.code().code(), refusal.close_code());
                }
                Output::Close { conn, code, reason } => {
                    // The echo that completes a client's close handshake is the client's code,
                    // reported with its departure; every other close is the server's.
                    if matches!(cause, Cause::Closed { conn: c, .. } if c == conn) {
                        continue;
                    }
                    let who = socket(*conn).and_then(|ws| hibernation::identity(&ws));
                    let (member, role) = who.map(|i| (i.id, i.role)).unwrap_or_default();
                    self.line(log::info("closed"))
                        .str("member", &member)
                        .str("role", &role)
                        .str("code", reason)
                        .num("close", u64::from(*code))
                        .emit();
                    self.point(Point {
                        event: "close",
                        role: &role,
                        code: reason,
                        subscribers: status.subscribers,
                        live: status.live,
                        close: Some(*code),
                        ..Point::default()
                    });
                }
                _ => {}
            }
        }
    }

    /// A connection refused by the stream itself (its second publisher, a full stream, a resume
    /// value that is no good).
    fn refused(&self, role: &str, code: &str, close: u16) {
        self.line(log::info("refused"))
            .str("role", role)
            .str("code", code)
            .num("close", u64::from(close))
            .emit();
        self.point(Point {
            event: "refuse",
            role,
            code,
            close: Some(close),
            ..Point::default()
        });
    }

    fn point(&self, point: Point<'_>) {
        if let Some(metrics) = &self.metrics {
            metrics.flush_relays(&self.stream);
            metrics.write(&Point {
                stream: &self.stream,
                ..point
            });
        }
    }
}

/// The socket numbered `conn`: in the map, or the one the event is about.
pub fn find_socket(
    sockets: &HashMap<ConnId, WebSocket>,
    current: Option<(ConnId, &WebSocket)>,
    conn: ConnId,
) -> Option<WebSocket> {
    sockets
        .get(&conn)
        .or(current.filter(|(c, _)| *c == conn).map(|(_, ws)| ws))
        .cloned()
}
