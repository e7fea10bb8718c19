//! SFU mode: what a stream records about its use of the Realtime SFU, and every decision the
//! proxy, WHIP and WHEP need, with no I/O.
//!
//! The stream's [`Engine`](crate::Engine) keeps the members; [`Sfu`] sits beside it in the
//! Durable Object and keeps what the SFU adds: whether the stream uses it, the publisher's SFU
//! session and track names, which member created which session, and the WHIP publisher and WHEP
//! viewers, who are members without a WebSocket. After each engine call the adapter hands
//! [`Sfu::after_call`] the membership changes and sends what it returns (the `sfu` events);
//! before and after each Connection API call it asks [`Sfu`] whether the caller may, and what
//! to record. The adapter performs the HTTP calls with the app secret and stores
//! [`SfuState`] (JSON) so a hibernated or restarted stream keeps it.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::json::{boolean, list, object, optional, required, string, variant, FromJson};
use crate::realtime::{
    self, is_name, CloseTracksRequest, Location, Media, MediaKind, TrackObject, TracksRequest,
    TracksResponse, MAX_TRACKS_PER_CALL,
};
use crate::settings::Secret;
use crate::sorted_map::SortedMap;
use crate::{base64url, event_frame, ErrorCode, EventKind, Observed, PeerId, Role, Stream};

/// The Realtime SFU's Connection API, unless `REALTIME_API_BASE` says otherwise.
pub const DEFAULT_REALTIME_API_BASE: &str = "https://rtc.live.cloudflare.com/v1";

/// When streams use the SFU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SfuMode {
    /// A mesh until the subscriber count passes `mesh_max`, then the SFU until it empties.
    Auto { mesh_max: usize },
    /// The SFU from the first member on.
    Always,
}

/// The deployment's SFU: present only when `SFU_MODE` is not `off` and the app id and secret
/// are set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SfuSettings {
    pub app_id: String,
    pub secret: Secret,
    /// Without a trailing `/`.
    pub api_base: String,
    pub mode: SfuMode,
}

impl SfuSettings {
    /// The URL of a Connection API path (`sessions/new`, `sessions/<id>/renegotiate`, ...).
    pub fn url(&self, path: &str) -> String {
        format!("{}/apps/{}/{path}", self.api_base, self.app_id)
    }
}

/// Who holds a ticket: the four kinds of member of a stream that uses the SFU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    Publisher,
    Subscriber,
    /// The publisher that came over WHIP.
    Whip,
    /// A viewer that came over WHEP.
    Whep,
}

impl Holder {
    fn as_str(self) -> &'static str {
        match self {
            Holder::Publisher => "publisher",
            Holder::Subscriber => "subscriber",
            Holder::Whip => "whip",
            Holder::Whep => "whep",
        }
    }

    fn publishes(self) -> bool {
        matches!(self, Holder::Publisher | Holder::Whip)
    }
}

/// One track the publisher pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Track {
    pub name: String,
    pub mid: String,
    pub kind: Option<MediaKind>,
}

/// The publisher's SFU session and its tracks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Publication {
    pub owner: String,
    pub session: String,
    pub tracks: Vec<Track>,
}

/// A member without a WebSocket (WHIP publisher or WHEP viewer): its SFU session once made,
/// and the mids of its tracks there (to close them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Remote {
    pub session: Option<String>,
    pub mids: Vec<String>,
}

/// What a stream stores about its SFU use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SfuState {
    /// The stream's key, which tickets are bound to (the router tells the object).
    pub key: String,
    /// The stream uses the SFU.
    pub active: bool,
    pub publication: Option<Publication>,
    /// SFU session id to the member that created it through the proxy.
    pub owners: SortedMap<String, String>,
    /// The WHIP publisher's id.
    pub whip: Option<(String, Remote)>,
    /// WHEP viewers by id.
    pub whep: SortedMap<String, Remote>,
}

// Reading the record (written by serde): by hand, see `crate::json`.

impl FromJson for Track {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            name: required(o, "name", string)?,
            mid: required(o, "mid", string)?,
            kind: optional(o, "kind", |v| variant(v, realtime::MEDIA_KINDS))?,
        })
    }
}

impl FromJson for Publication {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            owner: required(o, "owner", string)?,
            session: required(o, "session", string)?,
            tracks: required(o, "tracks", |v| list(v, Track::from_value))?,
        })
    }
}

impl FromJson for Remote {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            session: optional(o, "session", string)?,
            mids: required(o, "mids", |v| list(v, string))?,
        })
    }
}

/// A JSON object of strings to `T`s (its keys come in order, so each insert appends).
fn map_of<T>(value: &Value, read: impl Fn(&Value) -> Option<T>) -> Option<SortedMap<String, T>> {
    let mut map = SortedMap::new();
    for (key, item) in object(value)? {
        map.insert(key.clone(), read(item)?);
    }
    Some(map)
}

impl FromJson for SfuState {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        let whip = |v: &Value| match v.as_array()?.as_slice() {
            [id, remote] => Some((string(id)?, Remote::from_value(remote)?)),
            _ => None,
        };
        Some(Self {
            // Records from before keys were kept have none.
            key: optional(o, "key", string)?.unwrap_or_default(),
            active: required(o, "active", boolean)?,
            publication: optional(o, "publication", Publication::from_value)?,
            owners: required(o, "owners", |v| map_of(v, string))?,
            whip: optional(o, "whip", whip)?,
            whep: required(o, "whep", |v| map_of(v, Remote::from_value))?,
        })
    }
}

impl<'de> Deserialize<'de> for SfuState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::json::deserialize(deserializer)
    }
}

/// A text to send to one member.
pub type Send = (PeerId, String);

/// A proxy call, as the Worker received it.
#[derive(Clone, Debug)]
pub enum ProxyCall {
    NewSession,
    Tracks {
        session: String,
        body: TracksRequest,
    },
    Renegotiate {
        session: String,
    },
    Close {
        session: String,
        body: CloseTracksRequest,
    },
}

/// What a WHEP viewer is to pull: the publisher's session, and per media section of its offer
/// the track to put there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pull {
    pub session: String,
    pub tracks: Vec<TrackObject>,
}

/// One stream's SFU record and the rules about it.
#[derive(Clone, Debug)]
pub struct Sfu {
    settings: SfuSettings,
    pub state: SfuState,
}

impl Sfu {
    pub fn new(settings: SfuSettings, state: SfuState) -> Self {
        Self { settings, state }
    }

    /// The stream's key, as the router names it.
    pub fn set_key(&mut self, key: &str) {
        if self.state.key != key {
            self.state.key = key.to_owned();
        }
    }

    /// Back to a mesh with nothing recorded (the stream emptied).
    fn reset(&mut self) {
        let key = std::mem::take(&mut self.state.key);
        self.state = SfuState {
            key,
            ..SfuState::default()
        };
    }

    pub fn settings(&self) -> &SfuSettings {
        &self.settings
    }

    /// A member's ticket: `<id>.<HMAC-SHA256(app secret, stream, id, holder)>`.
    pub fn ticket(&self, id: &PeerId, holder: Holder) -> String {
        format!("{}.{}", id.as_str(), self.mac(id.as_str(), holder))
    }

    fn mac(&self, id: &str, holder: Holder) -> String {
        // A key of any length is accepted; the fallback only keeps this total.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.settings.secret.expose().as_bytes())
        else {
            return String::new();
        };
        for part in [
            "named-streams sfu ticket",
            &self.state.key,
            id,
            holder.as_str(),
        ] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        base64url::encode(mac.finalize().into_bytes())
    }

    /// Which current member a ticket is, or `sfu-ticket`.
    pub fn holder(&self, stream: &Stream, ticket: &str) -> Result<(PeerId, Holder), ErrorCode> {
        let (id, mac) = ticket.split_once('.').ok_or(ErrorCode::SfuTicket)?;
        let id = PeerId::from(id);
        let holder = self.role_of(stream, &id).ok_or(ErrorCode::SfuTicket)?;
        let expected = self.mac(id.as_str(), holder);
        if expected.is_empty() || !constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return Err(ErrorCode::SfuTicket);
        }
        Ok((id, holder))
    }

    fn role_of(&self, stream: &Stream, id: &PeerId) -> Option<Holder> {
        if stream.publisher() == Some(id) {
            return Some(Holder::Publisher);
        }
        if stream.subscribers().any(|s| s == id) {
            return Some(Holder::Subscriber);
        }
        if self
            .state
            .whip
            .as_ref()
            .is_some_and(|(w, _)| w == id.as_str())
        {
            return Some(Holder::Whip);
        }
        self.state
            .whep
            .contains_key(id.as_str())
            .then_some(Holder::Whep)
    }

    /// Subscribers in the engine and WHEP viewers.
    fn viewers(&self, stream: &Stream) -> usize {
        let subscribers = stream.len() - usize::from(stream.publisher().is_some());
        subscribers + self.state.whep.len()
    }

    fn empty(&self, stream: &Stream) -> bool {
        stream.is_empty() && self.state.whip.is_none() && self.state.whep.is_empty()
    }

    /// Whether a new WebSocket publisher must be refused: a WHIP publisher holds the stream.
    pub fn blocks_publisher(&self) -> bool {
        self.state.whip.is_some()
    }

    /// Whether a member's frame is a `NOTIFY` to the WHIP publisher, which is present but has
    /// no socket to take it: dropped, without the departure event an absent target earns (a
    /// page that starts a mesh offer on `published` must not be told the publisher left).
    pub fn drops_frame(&self, text: &str) -> bool {
        let Some((whip, _)) = &self.state.whip else {
            return false;
        };
        // Larger frames go to the engine, which refuses them by size.
        if text.len() > 64 * 1024 {
            return false;
        }
        let Ok(frame) = serde_json::from_str::<serde_json::Value>(text) else {
            return false;
        };
        frame.get("method").and_then(|m| m.as_str()) == Some("NOTIFY")
            && frame.get("to").and_then(|t| t.as_str()) == Some(whip.as_str())
    }

    /// The `sfu` event for `id`, with the publication for subscribers.
    fn event(&self, id: &PeerId, holder: Holder) -> String {
        let ticket = self.ticket(id, holder);
        let data = match self
            .state
            .publication
            .as_ref()
            .filter(|_| !holder.publishes())
        {
            Some(p) => serde_json::json!({
                "type": "sfu",
                "ticket": ticket,
                "session": p.session,
                "tracks": p.tracks.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            }),
            None => serde_json::json!({"type": "sfu", "ticket": ticket}),
        };
        serde_json::json!({"method": "EVENT", "data": data}).to_string()
    }

    fn has_tracks(&self) -> bool {
        self.state
            .publication
            .as_ref()
            .is_some_and(|p| !p.tracks.is_empty())
    }

    /// The publication's event to every WebSocket subscriber.
    fn tell_subscribers(&self, stream: &Stream) -> Vec<Send> {
        stream
            .subscribers()
            .map(|id| (id.clone(), self.event(id, Holder::Subscriber)))
            .collect()
    }

    /// Turns SFU use on; returns the events that announce it.
    fn activate(&mut self, stream: &Stream) -> Vec<Send> {
        if self.state.active {
            return Vec::new();
        }
        self.state.active = true;
        let mut out: Vec<Send> = stream
            .publisher()
            .map(|p| (p.clone(), self.event(p, Holder::Publisher)))
            .into_iter()
            .collect();
        if self.has_tracks() {
            out.extend(self.tell_subscribers(stream));
        }
        out
    }

    /// Follows the membership changes of one engine call; returns the events to send.
    pub fn after_call(&mut self, stream: &Stream, observed: &[Observed]) -> Vec<Send> {
        let mut out = Vec::new();
        for change in observed {
            if let crate::Change::Left { .. } = change.change {
                self.forget(change.id.as_str());
            }
        }
        if self.empty(stream) {
            self.reset();
            return out;
        }
        let switch = match self.settings.mode {
            SfuMode::Always => true,
            SfuMode::Auto { mesh_max } => self.viewers(stream) > mesh_max,
        };
        if switch && !self.state.active {
            out.extend(self.activate(stream));
            // Those who joined in this call were told just now.
            return out;
        }
        if !self.state.active {
            return out;
        }
        for change in observed {
            if change.change != crate::Change::Joined {
                continue;
            }
            match change.role {
                Role::Publisher => {
                    out.push((change.id.clone(), self.event(&change.id, Holder::Publisher)))
                }
                Role::Subscriber => {
                    if let Some((whip, _)) = &self.state.whip {
                        out.push((change.id.clone(), event_frame(EventKind::Published, whip)));
                    }
                    if self.has_tracks() {
                        out.push((
                            change.id.clone(),
                            self.event(&change.id, Holder::Subscriber),
                        ));
                    }
                }
            }
        }
        out
    }

    /// A member left: its sessions, and the publication if it was the publisher's. WHEP
    /// viewers go with the publication: they have nothing left to play and no channel to be
    /// told on.
    fn forget(&mut self, id: &str) {
        self.state.owners.retain(|_, owner| owner != id);
        if self
            .state
            .publication
            .as_ref()
            .is_some_and(|p| p.owner == id)
        {
            self.state.publication = None;
            self.state.whep.clear();
        }
    }

    /// Checks a proxy call before it is sent on. The body is checked against the rules of
    /// `docs/PROTOCOL.md` ("The Connection API proxy").
    pub fn check(
        &self,
        stream: &Stream,
        ticket: &str,
        call: &ProxyCall,
    ) -> Result<(PeerId, Holder), ErrorCode> {
        let (id, holder) = self.holder(stream, ticket)?;
        let session = match call {
            ProxyCall::NewSession => return Ok((id, holder)),
            ProxyCall::Tracks { session, .. }
            | ProxyCall::Renegotiate { session }
            | ProxyCall::Close { session, .. } => session,
        };
        if self.state.owners.get(session).map(String::as_str) != Some(id.as_str()) {
            return Err(ErrorCode::SfuNotOwner);
        }
        match call {
            ProxyCall::Tracks { body, .. } => self.check_tracks(holder, body)?,
            ProxyCall::Close { body, .. }
                if body.tracks.is_empty()
                    || body.tracks.len() > MAX_TRACKS_PER_CALL
                    || !body.tracks.iter().all(|t| is_name(&t.mid)) =>
            {
                return Err(ErrorCode::SfuBadRequest);
            }
            _ => {}
        }
        Ok((id, holder))
    }

    fn check_tracks(&self, holder: Holder, body: &TracksRequest) -> Result<(), ErrorCode> {
        let tracks = body.tracks.as_deref().unwrap_or_default();
        if body.auto_discover.is_some() || tracks.is_empty() || tracks.len() > MAX_TRACKS_PER_CALL {
            return Err(ErrorCode::SfuBadRequest);
        }
        let wellformed = tracks.iter().all(|t| {
            t.location.is_some()
                && t.track_name.as_deref().is_some_and(is_name)
                && t.mid.as_deref().is_none_or(is_name)
                && t.session_id.as_deref().is_none_or(is_name)
        });
        if !wellformed {
            return Err(ErrorCode::SfuBadRequest);
        }
        let pushes = tracks.iter().all(|t| t.location == Some(Location::Local));
        let pulls = tracks.iter().all(|t| t.location == Some(Location::Remote));
        if !pushes && !pulls {
            return Err(ErrorCode::SfuBadRequest);
        }
        if !self.state.active {
            return Err(ErrorCode::SfuMesh);
        }
        if pushes {
            if holder != Holder::Publisher {
                return Err(ErrorCode::SfuNotPublisher);
            }
            return Ok(());
        }
        let Some(p) = self
            .state
            .publication
            .as_ref()
            .filter(|_| holder == Holder::Subscriber)
        else {
            return Err(ErrorCode::SfuForeignTrack);
        };
        let known = tracks.iter().all(|t| {
            t.session_id.as_deref() == Some(p.session.as_str())
                && p.tracks
                    .iter()
                    .any(|r| Some(r.name.as_str()) == t.track_name.as_deref())
        });
        if known {
            Ok(())
        } else {
            Err(ErrorCode::SfuForeignTrack)
        }
    }

    /// Records what a successful call did; returns the events it causes.
    pub fn recorded(
        &mut self,
        stream: &Stream,
        id: &PeerId,
        call: &ProxyCall,
        session_created: Option<&str>,
        tracks: Option<&TracksResponse>,
    ) -> Vec<Send> {
        // The caller may have left while the call was under way.
        if self.role_of(stream, id).is_none() {
            return Vec::new();
        }
        match call {
            ProxyCall::NewSession => {
                if let Some(session) = session_created.filter(|s| is_name(s)) {
                    self.state
                        .owners
                        .insert(session.to_owned(), id.as_str().to_owned());
                }
                Vec::new()
            }
            ProxyCall::Tracks { session, body } => {
                let pushed = body
                    .tracks
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .all(|t| t.location == Some(Location::Local));
                if !pushed || stream.publisher() != Some(id) {
                    return Vec::new();
                }
                let offer = body
                    .session_description
                    .as_ref()
                    .and_then(|d| realtime::media_sections(&d.sdp))
                    .unwrap_or_default();
                let added = succeeded(tracks, &offer);
                self.publish(id.as_str(), session, added);
                self.tell_subscribers(stream)
            }
            ProxyCall::Close { session, body } => {
                let Some(p) = self.state.publication.as_mut() else {
                    return Vec::new();
                };
                if p.owner != id.as_str() || p.session != *session {
                    return Vec::new();
                }
                let before = p.tracks.len();
                p.tracks
                    .retain(|t| !body.tracks.iter().any(|c| c.mid == t.mid));
                if p.tracks.len() == before {
                    return Vec::new();
                }
                self.tell_subscribers(stream)
            }
            ProxyCall::Renegotiate { .. } => Vec::new(),
        }
    }

    /// Adds pushed tracks to the publication (a new session replaces the old one's).
    fn publish(&mut self, owner: &str, session: &str, added: Vec<Track>) {
        match &mut self.state.publication {
            Some(p) if p.owner == owner && p.session == session => {
                for track in added {
                    p.tracks.retain(|t| t.name != track.name);
                    p.tracks.push(track);
                }
            }
            slot => {
                *slot = Some(Publication {
                    owner: owner.to_owned(),
                    session: session.to_owned(),
                    tracks: added,
                });
            }
        }
    }

    /// A WHIP publisher asks to publish: reserved at once, so a second one (or a WebSocket
    /// publisher) arriving while the SFU answers is refused.
    pub fn whip_begin(&mut self, stream: &Stream, id: &PeerId) -> Result<(), ErrorCode> {
        if stream.publisher().is_some() || self.state.whip.is_some() {
            return Err(ErrorCode::PublisherExists);
        }
        self.state.whip = Some((id.as_str().to_owned(), Remote::default()));
        Ok(())
    }

    /// The tracks a WHIP offer pushes: its sending audio and video sections, named
    /// `<kind>-<mid>`.
    pub fn whip_tracks(offer: &[Media]) -> Vec<TrackObject> {
        offer
            .iter()
            .filter(|m| m.direction.sends())
            .map(|m| TrackObject {
                location: Some(Location::Local),
                mid: Some(m.mid.clone()),
                track_name: Some(format!("{}-{}", m.kind.as_str(), m.mid)),
                ..TrackObject::default()
            })
            .collect()
    }

    /// The WHIP publisher's tracks are on the SFU: it publishes. Returns `published` and the
    /// `sfu` event for every subscriber.
    pub fn whip_done(
        &mut self,
        stream: &Stream,
        id: &PeerId,
        session: &str,
        offer: &[Media],
        response: &TracksResponse,
    ) -> Vec<Send> {
        let Some((whip, remote)) = self.state.whip.as_mut() else {
            return Vec::new();
        };
        if whip != id.as_str() {
            return Vec::new();
        }
        let added = succeeded(Some(response), offer);
        remote.session = Some(session.to_owned());
        remote.mids = added.iter().map(|t| t.mid.clone()).collect();
        self.publish(id.as_str(), session, added);
        self.state.active = true;
        let mut out: Vec<Send> = stream
            .subscribers()
            .map(|s| (s.clone(), event_frame(EventKind::Published, id.as_str())))
            .collect();
        out.extend(self.tell_subscribers(stream));
        out
    }

    /// The WHIP publisher failed to start, or ended: it leaves. Returns its session and mids
    /// (to close) and the events to send.
    pub fn whip_end(&mut self, stream: &Stream, id: &PeerId) -> (Option<Remote>, Vec<Send>) {
        let Some((whip, remote)) = self.state.whip.take_if(|(w, _)| w == id.as_str()) else {
            return (None, Vec::new());
        };
        let started = remote.session.is_some();
        self.forget(&whip);
        let out = if started {
            stream
                .subscribers()
                .map(|s| (s.clone(), event_frame(EventKind::Unpublished, &whip)))
                .collect()
        } else {
            Vec::new()
        };
        if self.empty(stream) {
            self.reset();
        }
        (Some(remote), out)
    }

    /// A WHEP viewer asks to watch: checks there is something to pull and room, reserves its
    /// place, and says what to pull into which of its offer's sections. In `auto` mode it
    /// switches the stream (returned events), since only the SFU can serve it.
    pub fn whep_begin(
        &mut self,
        stream: &Stream,
        id: &PeerId,
        offer: &[Media],
        max_subscribers: usize,
    ) -> (Result<Pull, ErrorCode>, Vec<Send>) {
        if offer.iter().any(|m| m.direction.sends()) || offer.is_empty() {
            return (Err(ErrorCode::SfuBadRequest), Vec::new());
        }
        if self.viewers(stream) >= max_subscribers {
            return (Err(ErrorCode::StreamFull), Vec::new());
        }
        let events = if !stream.is_empty() || self.state.whip.is_some() {
            self.activate(stream)
        } else {
            Vec::new()
        };
        let Some(p) = self
            .state
            .publication
            .as_ref()
            .filter(|p| !p.tracks.is_empty())
        else {
            return (Err(ErrorCode::SfuNotReady), events);
        };
        // Each offered section takes the next unused track of its kind.
        let mut used = vec![false; p.tracks.len()];
        let mut tracks = Vec::new();
        for media in offer {
            let next = p.tracks.iter().enumerate().find(|(i, t)| {
                !used.get(*i).copied().unwrap_or(true) && t.kind == Some(media.kind)
            });
            if let Some((i, track)) = next {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                tracks.push(TrackObject {
                    location: Some(Location::Remote),
                    mid: Some(media.mid.clone()),
                    session_id: Some(p.session.clone()),
                    track_name: Some(track.name.clone()),
                    ..TrackObject::default()
                });
            }
        }
        if tracks.is_empty() {
            return (Err(ErrorCode::SfuBadRequest), events);
        }
        let pull = Pull {
            session: p.session.clone(),
            tracks,
        };
        self.state
            .whep
            .insert(id.as_str().to_owned(), Remote::default());
        (Ok(pull), events)
    }

    /// The WHEP viewer's session is made: it watches until it ends.
    pub fn whep_done(&mut self, id: &PeerId, session: &str, mids: Vec<String>) {
        if let Some(remote) = self.state.whep.get_mut(id.as_str()) {
            remote.session = Some(session.to_owned());
            remote.mids = mids;
        }
    }

    /// The WHEP viewer failed to start, or ended. Returns its session and mids, to close.
    pub fn whep_end(&mut self, stream: &Stream, id: &PeerId) -> Option<Remote> {
        let remote = self.state.whep.remove(id.as_str());
        if self.empty(stream) {
            self.reset();
        }
        remote
    }

    /// The status API's answer: WHIP publishers make a stream live, WHEP viewers count as
    /// subscribers, and `mode` says whether it uses the SFU.
    pub fn status_json(&self, status: &crate::Status) -> String {
        serde_json::json!({
            "live": status.live || self.state.whip.as_ref().is_some_and(|(_, r)| r.session.is_some()),
            "subscribers": status.subscribers + self.state.whep.len(),
            "since": status.since,
            "mode": if self.state.active { "sfu" } else { "mesh" },
        })
        .to_string()
    }
}

/// The tracks of a push response that succeeded, with their kinds from the offer.
fn succeeded(response: Option<&TracksResponse>, offer: &[Media]) -> Vec<Track> {
    let Some(tracks) = response.and_then(|r| r.tracks.as_ref()) else {
        return Vec::new();
    };
    tracks
        .iter()
        .filter(|t| t.error_code.is_none())
        .filter_map(|t| {
            let name = t.track_name.clone().filter(|n| is_name(n))?;
            let mid = t.mid.clone().filter(|m| is_name(m))?;
            let kind = offer.iter().find(|m| m.mid == mid).map(|m| m.kind);
            Some(Track { name, mid, kind })
        })
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Which SFU door a request knocks on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Door {
    /// The Connection API proxy, `/api/sfu/`.
    Proxy,
    /// WHIP ingest, `/api/whip/`.
    Whip,
    /// WHEP playback, `/api/whep/`.
    Whep,
}

/// A proxy operation, named by the path's tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyOp {
    NewSession,
    TracksNew,
    Renegotiate,
    TracksClose,
}

impl ProxyOp {
    /// The method the Connection API takes for it.
    pub fn method(self) -> &'static str {
        match self {
            ProxyOp::NewSession | ProxyOp::TracksNew => "POST",
            ProxyOp::Renegotiate | ProxyOp::TracksClose => "PUT",
        }
    }
}

/// An SFU request's path, read: the door, the stream path (with its leading `/`), and what the
/// tail names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SfuRoute {
    pub door: Door,
    pub stream: String,
    /// Proxy: the operation.
    pub op: Option<ProxyOp>,
    /// Proxy: the SFU session in the path; WHIP/WHEP: the resource id of a session URL.
    pub session: Option<String>,
}

const DOORS: &[(&str, Door)] = &[
    ("proxy", Door::Proxy),
    ("whip", Door::Whip),
    ("whep", Door::Whep),
];
const PROXY_OPS: &[(&str, ProxyOp)] = &[
    ("new-session", ProxyOp::NewSession),
    ("tracks-new", ProxyOp::TracksNew),
    ("renegotiate", ProxyOp::Renegotiate),
    ("tracks-close", ProxyOp::TracksClose),
];

impl FromJson for SfuRoute {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        Some(Self {
            door: required(o, "door", |v| variant(v, DOORS))?,
            stream: required(o, "stream", string)?,
            op: optional(o, "op", |v| variant(v, PROXY_OPS))?,
            session: optional(o, "session", string)?,
        })
    }
}

/// The prefix of each door.
pub const PROXY_PREFIX: &str = "/api/sfu";
pub const WHIP_PREFIX: &str = "/api/whip";
pub const WHEP_PREFIX: &str = "/api/whep";

/// Reads an SFU path, or `None` when `path` is under none of the doors. The tail is read from
/// the end, so a stream path may itself contain `/sessions/`. For WHIP and WHEP, `POST` names a
/// stream and every other method a session URL (`<stream>/sessions/<resource id>`). Whether the
/// stream path is valid is the admission's business; the tail must be well formed here
/// (`Err(())`: under a door, but no endpoint).
pub fn route(method: &str, path: &str) -> Option<Result<SfuRoute, ()>> {
    let (door, rest) = [
        (Door::Proxy, PROXY_PREFIX),
        (Door::Whip, WHIP_PREFIX),
        (Door::Whep, WHEP_PREFIX),
    ]
    .into_iter()
    .find_map(|(door, prefix)| {
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some((door, rest))
    })?;
    let split_session = |rest: &str| -> Option<(String, String)> {
        let (stream, session) = rest.rsplit_once("/sessions/")?;
        (!stream.is_empty() && is_name(session) && !session.contains('/'))
            .then(|| (stream.to_owned(), session.to_owned()))
    };
    let found = match door {
        Door::Proxy => {
            if let Some(stream) = rest.strip_suffix("/sessions/new") {
                (!stream.is_empty()).then(|| SfuRoute {
                    door,
                    stream: stream.to_owned(),
                    op: Some(ProxyOp::NewSession),
                    session: None,
                })
            } else {
                [
                    ("/tracks/new", ProxyOp::TracksNew),
                    ("/renegotiate", ProxyOp::Renegotiate),
                    ("/tracks/close", ProxyOp::TracksClose),
                ]
                .into_iter()
                .find_map(|(tail, op)| {
                    let (stream, session) = split_session(rest.strip_suffix(tail)?)?;
                    Some(SfuRoute {
                        door,
                        stream,
                        op: Some(op),
                        session: Some(session),
                    })
                })
            }
        }
        Door::Whip | Door::Whep if method == "POST" => (rest.len() > 1).then(|| SfuRoute {
            door,
            stream: rest.to_owned(),
            op: None,
            session: None,
        }),
        Door::Whip | Door::Whep => match split_session(rest) {
            Some((stream, session)) => Some(SfuRoute {
                door,
                stream,
                op: None,
                session: Some(session),
            }),
            // A preflight may ask about the endpoint as well as a session URL.
            None if method == "OPTIONS" && rest.len() > 1 => Some(SfuRoute {
                door,
                stream: rest.to_owned(),
                op: None,
                session: None,
            }),
            None => None,
        },
    };
    Some(found.ok_or(()))
}

/// The `Link` header values (RFC 9725 section 4.6) for an ICE configuration's servers: one
/// per URL, with the server's username and credential when it has them.
pub fn link_headers(servers: &[serde_json::Value]) -> Vec<String> {
    // Quoted strings may not hold `"` or `\`; no real credential does, and one that did is
    // left out rather than let it break the header.
    let quotable =
        |s: &str| !s.contains(['"', '\\']) && s.bytes().all(|b| (0x20..0x7f).contains(&b));
    let mut out = Vec::new();
    for server in servers {
        let urls: Vec<&str> = match server.get("urls") {
            Some(serde_json::Value::String(url)) => vec![url.as_str()],
            Some(serde_json::Value::Array(urls)) => {
                urls.iter().filter_map(|u| u.as_str()).collect()
            }
            _ => continue,
        };
        let username = server.get("username").and_then(|u| u.as_str());
        let credential = server.get("credential").and_then(|c| c.as_str());
        for url in urls {
            if !quotable(url) || url.contains(['<', '>']) {
                continue;
            }
            let mut link = format!("<{url}>; rel=\"ice-server\"");
            if let (Some(user), Some(cred)) = (username, credential) {
                if !quotable(user) || !quotable(cred) {
                    continue;
                }
                link.push_str(&format!(
                    "; username=\"{user}\"; credential=\"{cred}\"; credential-type=\"password\""
                ));
            }
            out.push(link);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_record_reads_back_as_written() {
        let remote = Remote {
            session: Some("s2".into()),
            mids: vec!["0".into(), "1".into()],
        };
        let state = SfuState {
            key: "/streams/x".into(),
            active: true,
            publication: Some(Publication {
                owner: "p".into(),
                session: "s1".into(),
                tracks: vec![
                    Track {
                        name: "audio-0".into(),
                        mid: "0".into(),
                        kind: Some(MediaKind::Audio),
                    },
                    Track {
                        name: "t".into(),
                        mid: "1".into(),
                        kind: None,
                    },
                ],
            }),
            owners: SortedMap::from([("s1".into(), "p".into())]),
            whip: Some(("w".into(), Remote::default())),
            whep: SortedMap::from([("v".into(), remote)]),
        };
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<SfuState>(&json).unwrap(), state);
        let empty = serde_json::to_string(&SfuState::default()).unwrap();
        assert_eq!(
            serde_json::from_str::<SfuState>(&empty).unwrap(),
            SfuState::default()
        );
        // Records from before the key was kept.
        let old = r#"{"active":false,"publication":null,"owners":{},"whip":null,"whep":{}}"#;
        assert_eq!(
            serde_json::from_str::<SfuState>(old).unwrap(),
            SfuState::default()
        );
        for bad in [
            r#"{"active":false,"owners":{},"whip":["w"],"whep":{}}"#,
            r#"{"active":false,"owners":{"s":1},"whep":{}}"#,
            r#"{"active":"no","owners":{},"whep":{}}"#,
            r#"{"active":false,"owners":{},"whep":{},"publication":{"owner":"p","session":"s","tracks":[{"name":"n","mid":"0","kind":"data"}]}}"#,
        ] {
            assert!(serde_json::from_str::<SfuState>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routes_read_back_as_written() {
        for (method, path) in [
            ("POST", "/api/sfu/streams/x/sessions/new"),
            ("POST", "/api/sfu/streams/x/sessions/abc/tracks/new"),
            ("PUT", "/api/sfu/streams/x/sessions/abc/renegotiate"),
            ("PUT", "/api/sfu/streams/x/sessions/abc/tracks/close"),
            ("POST", "/api/whip/streams/x"),
            ("DELETE", "/api/whep/streams/x/sessions/t.m"),
        ] {
            let route = route(method, path).unwrap().unwrap();
            let json = serde_json::to_string(&route).unwrap();
            assert_eq!(SfuRoute::from_json(&json), Some(route), "{json}");
        }
        assert_eq!(
            SfuRoute::from_json(r#"{"door":"sfu","stream":"/x","op":null,"session":null}"#),
            None
        );
    }
}
