//! Rooms: which streams directly under a path prefix have a publisher, told to watchers as
//! events (docs/PROTOCOL.md, "Rooms: watching which streams are live").
//!
//! [`RoomEngine`] is one room's state machine, shaped like the stream [`Engine`](crate::Engine):
//! every runtime event (a watcher connecting, sending, closing; a stream's report; the answer to
//! a verification; the alarm) is one [`RoomInput`] with the time, and what the runtime must do
//! comes back as [`RoomOutput`]s. Its list is the last publisher heard of on each path, kept in
//! storage by the adapter; reports are applied only when newer (see [`Entry::newer_than`]), and
//! verification answers only when nothing changed while the question was out, so lost,
//! repeated or reordered messages converge to the truth.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use serde::Serialize;
use serde_json::Value;

use crate::json::{boolean, object, optional, required, string, unsigned, FromJson};
use crate::message::push_json_string;
use crate::path::{is_hash_path, resolve_within};
use crate::record::ConnId;
use crate::sorted_map::SortedMap;
use crate::{
    error_frame, Credentials, Effect, ErrorCode, FloodGuard, Mode, PeerId, Policy, Rate, Refusal,
    Rejection, Request, Verdict,
};

/// The `mode` query value of a watch.
pub const WATCH_MODE: &str = "watch";

/// What a room allows, from the settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomConfig {
    /// Watchers at once (`MAX_ROOM_WATCHERS`).
    pub max_watchers: usize,
    /// Live streams listed at once (`MAX_ROOM_STREAMS`).
    pub max_streams: usize,
    /// Between two verifications while watched, in ms (`ROOM_VERIFY_SECONDS`; 0: only when a
    /// watcher connects).
    pub verify_ms: u64,
    /// Frame rate of each watcher (they send nothing but pings, which are not counted).
    pub frame_rate: Rate,
    pub flood_close_after: u32,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            max_watchers: 100,
            max_streams: 100,
            verify_ms: 60_000,
            frame_rate: Rate::per_second(crate::DEFAULT_FRAME_RATE, crate::DEFAULT_FRAME_BURST),
            flood_close_after: crate::DEFAULT_FLOOD_CLOSE_AFTER,
        }
    }
}

/// The room a stream reports to, if any: the parent of its path, when that is under one of
/// `prefixes` (`ROOM_PREFIXES`). Hash streams and paths with an empty last segment have none.
pub fn room_of<'a>(stream: &'a str, prefixes: &[String]) -> Option<&'a str> {
    if is_hash_path(stream) {
        return None;
    }
    let (room, name) = stream.rsplit_once('/')?;
    if room.is_empty() || name.is_empty() {
        return None;
    }
    is_room(room, prefixes).then_some(room)
}

/// Whether `room` (no trailing slash) may be watched: under a listed prefix and not a hash path
/// or hash folder, whose streams would be hash streams.
fn is_room(room: &str, prefixes: &[String]) -> bool {
    let folder = format!("{room}/");
    let hashy = ["/sha1/", "/sha256/"].iter().any(|h| folder.starts_with(h));
    !hashy && prefixes.iter().any(|p| folder.starts_with(p.as_str()))
}

/// Whether `stream` is directly under `room`.
fn is_under(stream: &str, room: &str) -> bool {
    room_of_unchecked(stream) == Some(room)
}

fn room_of_unchecked(stream: &str) -> Option<&str> {
    let (room, name) = stream.rsplit_once('/')?;
    (!room.is_empty() && !name.is_empty() && !is_hash_path(stream)).then_some(room)
}

/// Decides whether a `?mode=watch` request may watch its room, and which room: its path
/// without a trailing slash.
///
/// The checks and their order are a subscriber's (reserved path, method, upgrade; host, origin,
/// path, path prefix, token), with the room path plus `/` as the path and the token's path,
/// then whether the path is a room at all.
pub fn admit_watch(
    req: &Request<'_>,
    creds: &Credentials<'_>,
    policy: &Policy,
    prefixes: &[String],
) -> Result<String, Rejection> {
    if crate::is_reserved(req.path) {
        return Err(Rejection::Http(ErrorCode::NotFound));
    }
    if req.method != "GET" {
        return Err(Rejection::Http(ErrorCode::MethodNotAllowed));
    }
    if !req.upgrade {
        return Err(Rejection::Http(ErrorCode::UpgradeRequired));
    }
    let refuse = |code| Rejection::Socket(Refusal(code));
    // A resume value proves membership of a stream, never a right to watch a room.
    let creds = Credentials {
        resume: false,
        ..*creds
    };
    policy.check_site(&creds).map_err(refuse)?;
    let room = match req.path.strip_suffix('/') {
        Some(room) if room.len() > 1 => room,
        _ => req.path,
    };
    resolve_within(room, Mode::Subscribe, policy.max_path_bytes).map_err(Rejection::Socket)?;
    let folder = format!("{room}/");
    let key = resolve_within(&folder, Mode::Subscribe, policy.max_path_bytes)
        .map_err(Rejection::Socket)?;
    policy
        .check_stream(&folder, &key, Mode::Subscribe, &creds)
        .map_err(refuse)?;
    if !is_room(room, prefixes) {
        return Err(refuse(ErrorCode::NotARoom));
    }
    Ok(room.to_owned())
}

/// The last publisher a room heard of on one stream path, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: String,
    /// When the publisher joined its stream (ms since the epoch).
    pub since: u64,
    pub live: bool,
}

impl Entry {
    /// Reports are ordered by the publisher's join time, then its id, then live before ended:
    /// a total order, so the room ends in the same state whatever order reports arrive in.
    fn key(&self) -> (u64, &str, bool) {
        (self.since, self.id.as_str(), !self.live)
    }

    pub fn newer_than(&self, old: Option<&Entry>) -> bool {
        old.is_none_or(|old| self.key() > old.key())
    }
}

/// A stream's report to its room: its publisher arrived (`live`) or left for good.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub path: String,
    pub live: bool,
    pub id: String,
    pub since: u64,
}

/// A stream's answer to a verification: who publishes there now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Presence {
    pub live: bool,
    pub id: Option<String>,
    pub since: Option<u64>,
}

/// A watcher's socket attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Watcher {
    pub id: String,
    pub conn: ConnId,
}

// Reading what the stream objects and storage hold (written by serde): by hand, see
// `crate::json`.

impl FromJson for Entry {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            id: required(o, "id", string)?,
            since: required(o, "since", unsigned)?,
            live: required(o, "live", boolean)?,
        })
    }
}

impl FromJson for Report {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            path: required(o, "path", string)?,
            live: required(o, "live", boolean)?,
            id: required(o, "id", string)?,
            since: required(o, "since", unsigned)?,
        })
    }
}

impl FromJson for Presence {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            live: required(o, "live", boolean)?,
            id: optional(o, "id", string)?,
            since: optional(o, "since", unsigned)?,
        })
    }
}

impl FromJson for Watcher {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            id: required(o, "id", string)?,
            conn: required(o, "conn", unsigned)?,
        })
    }
}

/// A room's stored list, `[[path, entry], ...]` in any order, in path order (what
/// [`RoomEngine::restore`] takes fastest): sorted by the JSON object type's own B-tree, which
/// the Wasm has anyway.
pub fn stored_entries(value: &Value) -> Option<Vec<(String, Entry)>> {
    let mut by_path = crate::json::Object::new();
    for row in value.as_array()? {
        match row.as_array()?.as_slice() {
            [path, entry] => by_path.insert(string(path)?, entry.clone()),
            _ => return None,
        };
    }
    by_path
        .iter()
        .map(|(path, entry)| Some((path.clone(), Entry::from_value(entry)?)))
        .collect()
}

/// A watcher socket the runtime still holds after a wake-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldWatcher {
    pub watcher: Watcher,
    pub open: bool,
}

/// One runtime event of a room.
#[derive(Clone, Debug)]
pub enum RoomInput<'a> {
    /// A watcher asks to join; `id` is a fresh id for it.
    Connect { conn: ConnId, id: PeerId },
    /// A watcher sent a frame (text or binary; `ping` never gets here).
    Frame { conn: ConnId },
    /// A watcher's socket closed (`code` as the client sent it) or failed (`None`).
    Closed {
        conn: ConnId,
        code: Option<u16>,
        reason: &'a str,
    },
    /// A stream object's report.
    Report(Report),
    /// The answer to [`RoomOutput::Ask`]: `asked` is what the room listed when it asked;
    /// `answer` is `None` when the stream could not be asked.
    Verified {
        path: String,
        asked: Entry,
        answer: Option<Presence>,
    },
    /// The alarm went off.
    Timeout,
}

/// One action for the adapter, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomOutput {
    /// Take the watcher's socket with this attachment (before any send to it).
    Accept {
        conn: ConnId,
        watcher: Watcher,
    },
    /// Do not take the socket: tell the client why and close it.
    Refuse(Refusal),
    Send {
        conn: ConnId,
        text: String,
    },
    Close {
        conn: ConnId,
        code: u16,
        reason: String,
    },
    /// Store (or with `None` delete) the entry of a stream path.
    Store {
        path: String,
        entry: Option<Entry>,
    },
    /// Ask the stream's object who publishes there, and give the answer back as
    /// [`RoomInput::Verified`] with `asked`.
    Ask {
        path: String,
        asked: Entry,
    },
    /// The answer to a report: `listed` false when the room is full and the stream must report
    /// again later.
    Ack {
        listed: bool,
    },
    /// Arm the alarm for this time, or cancel it.
    Alarm(Option<u64>),
}

/// One room's state machine.
#[derive(Clone, Debug)]
pub struct RoomEngine {
    room: String,
    config: RoomConfig,
    entries: SortedMap<String, Entry>,
    /// Watchers by socket, and the reverse for the flood guard's effects.
    watchers: BTreeMap<ConnId, PeerId>,
    flood: FloodGuard,
    /// When the next verification is due.
    verify_at: Option<u64>,
    armed: Option<u64>,
}

impl RoomEngine {
    /// Rebuilds a room from the sockets the runtime holds and its stored list (both empty for
    /// a new room; the list is best in path order, see [`stored_entries`]). Closed sockets are
    /// not watchers.
    pub fn restore(
        room: String,
        config: RoomConfig,
        held: Vec<HeldWatcher>,
        stored: Vec<(String, Entry)>,
    ) -> Self {
        let flood = FloodGuard::new(config.frame_rate, config.flood_close_after);
        // Each insert appends when `stored` is in path order, as `stored_entries` gives it.
        let mut entries = SortedMap::new();
        for (path, entry) in stored {
            if is_under(&path, &room) {
                entries.insert(path, entry);
            }
        }
        let mut watchers = BTreeMap::new();
        for held in held.into_iter().filter(|h| h.open) {
            watchers.insert(held.watcher.conn, PeerId::from(held.watcher.id.as_str()));
        }
        Self {
            room,
            config,
            entries,
            watchers,
            flood,
            verify_at: None,
            // Unknown: whatever alarm storage holds is taken as armed until a call decides.
            armed: None,
        }
    }

    pub fn room(&self) -> &str {
        &self.room
    }

    /// The streams listed as live, by path.
    pub fn live(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries
            .iter()
            .filter(|(_, e)| e.live)
            .map(|(p, e)| (p.as_str(), e))
    }

    pub fn watchers(&self) -> usize {
        self.watchers.len()
    }

    /// Takes one event at `now` (ms since the epoch).
    pub fn handle(&mut self, now: u64, input: RoomInput<'_>) -> Vec<RoomOutput> {
        let mut out = Vec::new();
        match input {
            RoomInput::Connect { conn, id } => self.connect(now, conn, id, &mut out),
            RoomInput::Frame { conn } => self.frame(now, conn, &mut out),
            RoomInput::Closed { conn, code, reason } => self.closed(conn, code, reason, &mut out),
            RoomInput::Report(report) => self.report(report, &mut out),
            RoomInput::Verified {
                path,
                asked,
                answer,
            } => self.verified(path, asked, answer, &mut out),
            RoomInput::Timeout => self.timeout(now, &mut out),
        }
        if self.watchers.is_empty() || self.live().next().is_none() {
            self.verify_at = None;
        } else if self.verify_at.is_none() && self.config.verify_ms > 0 {
            self.verify_at = Some(now.saturating_add(self.config.verify_ms));
        }
        if self.verify_at != self.armed {
            self.armed = self.verify_at;
            out.push(RoomOutput::Alarm(self.verify_at));
        }
        out
    }

    fn connect(&mut self, now: u64, conn: ConnId, id: PeerId, out: &mut Vec<RoomOutput>) {
        if self.watchers.len() >= self.config.max_watchers {
            out.push(RoomOutput::Refuse(Refusal(ErrorCode::RoomFull)));
            return;
        }
        out.push(RoomOutput::Accept {
            conn,
            watcher: Watcher {
                id: id.as_str().to_owned(),
                conn,
            },
        });
        out.push(RoomOutput::Send {
            conn,
            text: crate::event_frame(crate::EventKind::Created, id.as_str()),
        });
        out.push(RoomOutput::Send {
            conn,
            text: self.list_frame(),
        });
        self.watchers.insert(conn, id);
        // The list just sent may be stale (a stream object that lost its state): check it now.
        if self.live().next().is_some() {
            self.verify_at = Some(now);
        }
    }

    fn frame(&mut self, now: u64, conn: ConnId, out: &mut Vec<RoomOutput>) {
        let Some(id) = self.watchers.get(&conn).cloned() else {
            return;
        };
        let effects = match self.flood.on_frame(&id, now) {
            Verdict::Pass => vec![Effect::Send {
                to: id.clone(),
                text: error_frame(ErrorCode::WatchOnly, None),
            }],
            Verdict::Drop(effects) | Verdict::Expel(effects) => effects,
        };
        for effect in effects {
            match effect {
                Effect::Send { text, .. } => out.push(RoomOutput::Send { conn, text }),
                Effect::Close { code, reason, .. } => {
                    self.flood.forget(&id);
                    self.watchers.remove(&conn);
                    out.push(RoomOutput::Close { conn, code, reason });
                }
                Effect::Relay { .. } | Effect::SendIceConfiguration { .. } => {}
            }
        }
    }

    fn closed(&mut self, conn: ConnId, code: Option<u16>, reason: &str, out: &mut Vec<RoomOutput>) {
        // Complete the closing handshake, or the client sees 1006 instead of its own code.
        let (code, reason) = match code {
            Some(c) if matches!(c, 1000..=1003 | 1007..=1014 | 3000..=4999) => {
                (c, reason.to_owned())
            }
            Some(_) => (1000, reason.to_owned()),
            None => (
                ErrorCode::Internal.close_code(),
                ErrorCode::Internal.code().to_owned(),
            ),
        };
        out.push(RoomOutput::Close { conn, code, reason });
        if let Some(id) = self.watchers.remove(&conn) {
            self.flood.forget(&id);
        }
    }

    fn report(&mut self, report: Report, out: &mut Vec<RoomOutput>) {
        if !is_under(&report.path, &self.room) {
            // Not one of ours: nothing to retry either.
            out.push(RoomOutput::Ack { listed: true });
            return;
        }
        let new = Entry {
            id: report.id,
            since: report.since,
            live: report.live,
        };
        let old = self.entries.get(&report.path);
        if !new.newer_than(old) {
            out.push(RoomOutput::Ack { listed: true });
            return;
        }
        let listed = self.apply(report.path, new, out);
        out.push(RoomOutput::Ack { listed });
    }

    fn verified(
        &mut self,
        path: String,
        asked: Entry,
        answer: Option<Presence>,
        out: &mut Vec<RoomOutput>,
    ) {
        // A report changed the path while the question was out: it is newer than the answer.
        if self.entries.get(&path) != Some(&asked) {
            return;
        }
        let Some(answer) = answer else {
            return;
        };
        let truth = match (answer.live, answer.id, answer.since) {
            (true, Some(id), Some(since)) => Entry {
                id,
                since,
                live: true,
            },
            (true, _, _) => return,
            (false, _, _) => Entry {
                live: false,
                ..asked.clone()
            },
        };
        if truth != asked {
            self.apply(path, truth, out);
        }
    }

    fn timeout(&mut self, now: u64, out: &mut Vec<RoomOutput>) {
        if self.verify_at.is_none_or(|at| now < at) {
            return;
        }
        self.verify_at = None;
        for (path, entry) in self.live() {
            out.push(RoomOutput::Ask {
                path: path.to_owned(),
                asked: entry.clone(),
            });
        }
    }

    /// Makes `new` the path's entry and tells the watchers; false (and nothing changes) when it
    /// would list one stream more than the room may.
    fn apply(&mut self, path: String, new: Entry, out: &mut Vec<RoomOutput>) -> bool {
        let old = self.entries.get(&path).cloned();
        let was_live = old.as_ref().filter(|o| o.live);
        if new.live && was_live.is_none() && self.live().count() >= self.config.max_streams {
            return false;
        }
        if let Some(old) = was_live {
            if !new.live || old.id != new.id {
                self.broadcast(&change_frame("ended", &path, &old.id), out);
            }
        }
        if new.live && was_live.is_none_or(|old| old.id != new.id) {
            self.broadcast(&change_frame("live", &path, &new.id), out);
        }
        out.push(RoomOutput::Store {
            path: path.clone(),
            entry: Some(new.clone()),
        });
        self.entries.insert(path, new);
        self.prune(out);
        true
    }

    /// Keeps at most `max_streams` ended entries (the newest): they only order late reports.
    fn prune(&mut self, out: &mut Vec<RoomOutput>) {
        let ended: Vec<Reverse<(u64, String)>> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.live)
            .map(|(p, e)| Reverse((e.since, p.clone())))
            .collect();
        let excess = ended.len().saturating_sub(self.config.max_streams);
        if excess == 0 {
            return;
        }
        // The oldest first (then by path): a heap needs far less code than a sort.
        let mut oldest: BinaryHeap<Reverse<(u64, String)>> = BinaryHeap::from(ended);
        for _ in 0..excess {
            let Some(Reverse((_, path))) = oldest.pop() else {
                break;
            };
            self.entries.remove(&path);
            out.push(RoomOutput::Store { path, entry: None });
        }
    }

    fn broadcast(&self, text: &str, out: &mut Vec<RoomOutput>) {
        for conn in self.watchers.keys() {
            out.push(RoomOutput::Send {
                conn: *conn,
                text: text.to_owned(),
            });
        }
    }

    /// `{"method":"EVENT","data":{"type":"streams","room":R,"streams":[{"path":P,"id":I},...]}}`.
    fn list_frame(&self) -> String {
        let mut out = String::from(r#"{"method":"EVENT","data":{"type":"streams","room":"#);
        push_json_string(&mut out, &self.room);
        out.push_str(r#","streams":["#);
        for (i, (path, entry)) in self.live().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"path":"#);
            push_json_string(&mut out, path);
            out.push_str(r#","id":"#);
            push_json_string(&mut out, &entry.id);
            out.push('}');
        }
        out.push_str("]}}");
        out
    }
}

/// `{"method":"EVENT","data":{"type":KIND,"path":P,"id":I}}`.
fn change_frame(kind: &str, path: &str, id: &str) -> String {
    let mut out = String::from(r#"{"method":"EVENT","data":{"type":""#);
    out.push_str(kind);
    out.push_str(r#"","path":"#);
    push_json_string(&mut out, path);
    out.push_str(r#","id":"#);
    push_json_string(&mut out, id);
    out.push_str("}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes() -> Vec<String> {
        vec!["/rooms/".into(), "/calls/".into()]
    }

    #[test]
    fn the_room_of_a_stream_is_its_parent_under_a_listed_prefix() {
        let p = prefixes();
        assert_eq!(room_of("/rooms/a/alice", &p), Some("/rooms/a"));
        assert_eq!(room_of("/rooms/alice", &p), Some("/rooms"));
        assert_eq!(room_of("/calls/x/1", &p), Some("/calls/x"));
        assert_eq!(room_of("/streams/1234", &p), None);
        assert_eq!(room_of("/rooms/a/", &p), None);
        assert_eq!(room_of("/alice", &p), None);
        assert_eq!(room_of(&format!("/sha1/{}", "a".repeat(40)), &p), None);
        assert_eq!(room_of("/rooms/a/b", &[]), None);
        let all = vec!["/".to_owned()];
        assert_eq!(room_of(&format!("/sha256/{}", "b".repeat(64)), &all), None);
        assert_eq!(room_of("/sha1/x/y", &all), None);
    }

    #[test]
    fn stored_and_reported_json_reads_back_as_written() {
        let entry = Entry {
            id: "p1".into(),
            since: 1_700_000_000_000,
            live: true,
        };
        let report = Report {
            path: "/rooms/a/b".into(),
            live: false,
            id: "p2".into(),
            since: 5,
        };
        let watcher = Watcher {
            id: "w".into(),
            conn: (1 << 53) - 1,
        };
        assert_eq!(Entry::from_json(&text(&entry)), Some(entry.clone()));
        assert_eq!(Report::from_json(&text(&report)), Some(report));
        assert_eq!(Watcher::from_json(&text(&watcher)), Some(watcher));
        let rows = serde_json::to_string(&vec![("/rooms/a/b".to_owned(), entry.clone())]).unwrap();
        let value = crate::json::parse(&rows).unwrap();
        assert_eq!(
            stored_entries(&value),
            Some(vec![("/rooms/a/b".to_owned(), entry)])
        );
        // Rows come back in path order, the last of a repeated path kept.
        let rows = r#"[["/r/c",{"id":"c","since":1,"live":true}],["/r/a",{"id":"a","since":2,"live":false}],["/r/c",{"id":"d","since":3,"live":true}]]"#;
        let read = stored_entries(&crate::json::parse(rows).unwrap()).unwrap();
        let read: Vec<(&str, &str)> = read
            .iter()
            .map(|(p, e)| (p.as_str(), e.id.as_str()))
            .collect();
        assert_eq!(read, vec![("/r/a", "a"), ("/r/c", "d")]);
        assert_eq!(
            Presence::from_json(r#"{"live":true,"id":"p","since":3}"#),
            Some(Presence {
                live: true,
                id: Some("p".into()),
                since: Some(3)
            })
        );
        // A stream with no publisher answers `null`s.
        assert_eq!(
            Presence::from_json(r#"{"live":false,"id":null,"since":null}"#),
            Some(Presence {
                live: false,
                id: None,
                since: None
            })
        );
    }

    #[test]
    fn unreadable_room_json_is_refused() {
        assert_eq!(
            Report::from_json(r#"{"path":"/rooms/a/b","live":true,"id":"p"}"#),
            None
        );
        assert_eq!(
            Report::from_json(r#"{"path":"/rooms/a/b","live":1,"id":"p","since":1}"#),
            None
        );
        assert_eq!(
            Entry::from_json(r#"{"id":"p","since":-1,"live":true}"#),
            None
        );
        assert_eq!(Watcher::from_json(r#"{"id":"w","conn":1.5}"#), None);
        assert_eq!(Presence::from_json(r#"{"id":"p"}"#), None);
        let bad = crate::json::parse(r#"[["/rooms/a/b"]]"#).unwrap();
        assert_eq!(stored_entries(&bad), None);
        let bad =
            crate::json::parse(r#"[["/rooms/a/b",{"id":"p","since":1,"live":"yes"}]]"#).unwrap();
        assert_eq!(stored_entries(&bad), None);
    }

    /// JSON as the adapter writes it.
    fn text<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap()
    }
}
