//! SFU mode in the core (issue 12): when a stream uses the SFU, who is told what in the `sfu`
//! event, what the proxy lets each member do, tickets, WHIP publishers and WHEP viewers. The
//! engine runs as the adapter runs it: one `handle`, then `Sfu::after_call` with its changes.
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

use serde_json::Value;
use streams_core::realtime::{
    media_sections, CloseTrackObject, CloseTracksRequest, Location, SdpType, SessionDescription,
    TrackObject, TrackResult, TracksRequest, TracksResponse,
};
use streams_core::sfu::{route, Door, ProxyOp, Send};
use streams_core::{
    Config, ConnId, Connect, Engine, ErrorCode, Holder, Input, PeerId, ProxyCall, ResumeKey, Role,
    Secret, Sfu, SfuMode, SfuSettings, SfuState, Sockets,
};

struct Open;

impl Sockets for Open {
    fn last_ping(&self, _: ConnId) -> Option<u64> {
        None
    }
    fn is_open(&self, _: ConnId) -> bool {
        true
    }
}

fn settings(mode: SfuMode) -> SfuSettings {
    SfuSettings {
        app_id: "app".into(),
        secret: Secret::new("app-secret"),
        api_base: "http://127.0.0.1:1/v1".into(),
        mode,
    }
}

/// A stream with its SFU record, driven as the adapter drives them.
struct Room {
    engine: Engine,
    sfu: Sfu,
    conn: ConnId,
    /// Every text sent to each member, in order.
    sent: Vec<Send>,
}

impl Room {
    fn new(mode: SfuMode) -> Self {
        let mut sfu = Sfu::new(settings(mode), SfuState::default());
        sfu.set_key("/room");
        Self {
            engine: Engine::new(Config::default(), ResumeKey([1; 32])),
            sfu,
            conn: 0,
            sent: Vec::new(),
        }
    }

    fn call(&mut self, input: Input) {
        self.engine.handle(1_000, input, &Open);
        let sends = self
            .sfu
            .after_call(self.engine.stream(), self.engine.observed());
        self.sent.extend(sends);
    }

    fn join(&mut self, id: &str, role: Role) -> ConnId {
        self.conn += 1;
        let conn = self.conn;
        self.call(Input::Connect(Connect {
            conn,
            role,
            resume: None,
            id: PeerId::from(id),
            nonce: [conn as u8; 16],
            turn: false,
        }));
        conn
    }

    fn leave(&mut self, conn: ConnId) {
        self.call(Input::Closed {
            conn,
            code: Some(1000),
            reason: "",
        });
    }

    /// The `sfu` events sent to `id` since the last look, parsed.
    fn told(&mut self, id: &str) -> Vec<Value> {
        let (mine, rest): (Vec<Send>, Vec<Send>) = std::mem::take(&mut self.sent)
            .into_iter()
            .partition(|(to, _)| to.as_str() == id);
        self.sent = rest;
        mine.into_iter()
            .map(|(_, text)| serde_json::from_str::<Value>(&text).unwrap())
            .collect()
    }

    fn ticket(&self, id: &str, holder: Holder) -> String {
        self.sfu.ticket(&PeerId::from(id), holder)
    }

    fn check(&self, ticket: &str, call: &ProxyCall) -> Result<Holder, ErrorCode> {
        self.sfu
            .check(self.engine.stream(), ticket, call)
            .map(|(_, holder)| holder)
    }

    /// `id` made session `session` through the proxy.
    fn new_session(&mut self, id: &str, session: &str) {
        let ticket = self.sfu.ticket(&PeerId::from(id), self.holder(id));
        self.check(&ticket, &ProxyCall::NewSession).unwrap();
        let sends = self.sfu.recorded(
            self.engine.stream(),
            &PeerId::from(id),
            &ProxyCall::NewSession,
            Some(session),
            None,
        );
        self.sent.extend(sends);
    }

    fn holder(&self, id: &str) -> Holder {
        if self.engine.stream().publisher().map(PeerId::as_str) == Some(id) {
            Holder::Publisher
        } else {
            Holder::Subscriber
        }
    }

    /// The publisher pushed `names` (video, mids 0, 1, ...) into `session`, and the SFU took them.
    fn push(&mut self, id: &str, session: &str, names: &[&str]) {
        let call = push_call(session, names);
        let ticket = self.ticket(id, Holder::Publisher);
        assert_eq!(self.check(&ticket, &call), Ok(Holder::Publisher));
        let response = TracksResponse {
            requires_immediate_renegotiation: Some(false),
            tracks: Some(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| TrackResult {
                        mid: Some(i.to_string()),
                        track_name: Some((*name).into()),
                        ..TrackResult::default()
                    })
                    .collect(),
            ),
            ..TracksResponse::default()
        };
        let sends = self.sfu.recorded(
            self.engine.stream(),
            &PeerId::from(id),
            &call,
            None,
            Some(&response),
        );
        self.sent.extend(sends);
    }
}

fn offer(sections: &[(&str, &str)]) -> String {
    let mut sdp = String::from("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    for (i, (kind, direction)) in sections.iter().enumerate() {
        sdp.push_str(&format!(
            "m={kind} 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:{i}\r\na={direction}\r\n"
        ));
    }
    sdp
}

fn push_call(session: &str, names: &[&str]) -> ProxyCall {
    let sections: Vec<(&str, &str)> = names.iter().map(|_| ("video", "sendonly")).collect();
    ProxyCall::Tracks {
        session: session.into(),
        body: TracksRequest {
            session_description: Some(SessionDescription {
                sdp: offer(&sections),
                kind: SdpType::Offer,
            }),
            tracks: Some(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| TrackObject {
                        location: Some(Location::Local),
                        mid: Some(i.to_string()),
                        track_name: Some((*name).into()),
                        ..TrackObject::default()
                    })
                    .collect(),
            ),
            auto_discover: None,
        },
    }
}

fn pull_call(session: &str, from: &str, name: &str) -> ProxyCall {
    ProxyCall::Tracks {
        session: session.into(),
        body: TracksRequest {
            tracks: Some(vec![TrackObject {
                location: Some(Location::Remote),
                session_id: Some(from.into()),
                track_name: Some(name.into()),
                ..TrackObject::default()
            }]),
            ..TracksRequest::default()
        },
    }
}

fn sfu_events(frames: &[Value]) -> Vec<&Value> {
    frames
        .iter()
        .filter(|f| f["data"]["type"] == "sfu")
        .map(|f| &f["data"])
        .collect()
}

#[test]
fn always_the_publisher_gets_a_ticket_and_subscribers_get_the_tracks_once_pushed() {
    let mut room = Room::new(SfuMode::Always);
    room.join("s1", Role::Subscriber);
    assert!(room.told("s1").is_empty(), "nothing to pull yet");
    room.join("p", Role::Publisher);
    let told = room.told("p");
    let events = sfu_events(&told);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["ticket"], room.ticket("p", Holder::Publisher));
    assert!(events[0].get("session").is_none() && events[0].get("tracks").is_none());

    room.new_session("p", "pub-session");
    room.push("p", "pub-session", &["camera", "mic"]);
    let told = room.told("s1");
    let events = sfu_events(&told);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["session"], "pub-session");
    assert_eq!(events[0]["tracks"], serde_json::json!(["camera", "mic"]));
    assert_eq!(events[0]["ticket"], room.ticket("s1", Holder::Subscriber));

    // A later subscriber is told right after it joins.
    room.join("s2", Role::Subscriber);
    let told = room.told("s2");
    assert_eq!(
        sfu_events(&told)[0]["tracks"],
        serde_json::json!(["camera", "mic"])
    );
}

#[test]
fn auto_switches_when_subscribers_pass_the_mesh_limit_and_stays_until_the_stream_empties() {
    let mut room = Room::new(SfuMode::Auto { mesh_max: 2 });
    let p = room.join("p", Role::Publisher);
    let s1 = room.join("s1", Role::Subscriber);
    let s2 = room.join("s2", Role::Subscriber);
    assert!(
        sfu_events(&room.told("p")).is_empty(),
        "two subscribers: a mesh"
    );
    assert!(!room.sfu.state.active);
    let s3 = room.join("s3", Role::Subscriber);
    assert!(
        room.sfu.state.active,
        "the third subscriber switches the stream"
    );
    assert_eq!(sfu_events(&room.told("p")).len(), 1);
    // Dropping back to two does not switch back.
    room.leave(s3);
    room.leave(s2);
    assert!(room.sfu.state.active);
    room.new_session("p", "ps");
    room.push("p", "ps", &["camera"]);
    assert_eq!(sfu_events(&room.told("s1")).len(), 1);
    room.leave(s1);
    room.leave(p);
    assert!(
        !room.sfu.state.active,
        "an empty stream starts over as a mesh"
    );
    assert_eq!(room.sfu.state.publication, None);
    assert!(room.sfu.state.owners.is_empty());
}

#[test]
fn the_proxy_rules_each_refusal_its_code() {
    let mut room = Room::new(SfuMode::Always);
    room.join("p", Role::Publisher);
    room.join("s", Role::Subscriber);
    room.new_session("p", "ps");
    room.new_session("s", "ss");
    room.push("p", "ps", &["camera"]);
    let sub = room.ticket("s", Holder::Subscriber);
    let publisher = room.ticket("p", Holder::Publisher);

    // Tickets: none of another stream, role or member; none forged.
    let mut other = Sfu::new(settings(SfuMode::Always), SfuState::default());
    other.set_key("/other");
    let foreign = other.ticket(&PeerId::from("s"), Holder::Subscriber);
    for bad in [
        foreign.as_str(),
        "s",
        "s.AAAA",
        &room.ticket("s", Holder::Publisher),
        &room.ticket("nobody", Holder::Subscriber),
    ] {
        assert_eq!(
            room.check(bad, &ProxyCall::NewSession),
            Err(ErrorCode::SfuTicket),
            "{bad}"
        );
    }
    assert_eq!(
        room.check(&sub, &ProxyCall::NewSession),
        Ok(Holder::Subscriber)
    );

    // Sessions belong to whoever made them.
    let renegotiate = |session: &str| ProxyCall::Renegotiate {
        session: session.into(),
    };
    assert_eq!(
        room.check(&sub, &renegotiate("ps")),
        Err(ErrorCode::SfuNotOwner)
    );
    assert_eq!(
        room.check(&sub, &renegotiate("unknown")),
        Err(ErrorCode::SfuNotOwner)
    );
    assert_eq!(room.check(&sub, &renegotiate("ss")), Ok(Holder::Subscriber));

    // Pushes only by the publisher; pulls only of its recorded tracks, by subscribers.
    assert_eq!(
        room.check(&sub, &push_call("ss", &["fake"])),
        Err(ErrorCode::SfuNotPublisher)
    );
    assert_eq!(
        room.check(&sub, &pull_call("ss", "ps", "camera")),
        Ok(Holder::Subscriber)
    );
    for (from, name) in [("ps", "screen"), ("elsewhere", "camera")] {
        assert_eq!(
            room.check(&sub, &pull_call("ss", from, name)),
            Err(ErrorCode::SfuForeignTrack),
            "{from} {name}"
        );
    }
    assert_eq!(
        room.check(&publisher, &pull_call("ps", "ps", "camera")),
        Err(ErrorCode::SfuForeignTrack)
    );

    // Bodies the proxy will not pass on.
    let mut mixed = push_call("ps", &["a"]);
    if let ProxyCall::Tracks { body, .. } = &mut mixed {
        body.tracks.as_mut().unwrap().push(TrackObject {
            location: Some(Location::Remote),
            session_id: Some("ps".into()),
            track_name: Some("camera".into()),
            ..TrackObject::default()
        });
    }
    let mut discover = push_call("ps", &["a"]);
    if let ProxyCall::Tracks { body, .. } = &mut discover {
        body.auto_discover = Some(true);
    }
    let too_many: Vec<String> = (0..65).map(|i| format!("t{i}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    for call in [
        mixed,
        discover,
        push_call("ps", &[]),
        push_call("ps", &too_many),
    ] {
        assert_eq!(room.check(&publisher, &call), Err(ErrorCode::SfuBadRequest));
    }
    let close_none = ProxyCall::Close {
        session: "ps".into(),
        body: CloseTracksRequest {
            session_description: None,
            tracks: vec![],
            force: true,
        },
    };
    assert_eq!(
        room.check(&publisher, &close_none),
        Err(ErrorCode::SfuBadRequest)
    );
}

#[test]
fn a_mesh_stream_takes_no_tracks_and_a_departed_member_s_ticket_is_worthless() {
    let mut room = Room::new(SfuMode::Auto { mesh_max: 6 });
    room.join("p", Role::Publisher);
    let s = room.join("s", Role::Subscriber);
    room.new_session("p", "ps");
    let publisher = room.ticket("p", Holder::Publisher);
    assert_eq!(
        room.check(&publisher, &push_call("ps", &["camera"])),
        Err(ErrorCode::SfuMesh)
    );
    let sub = room.ticket("s", Holder::Subscriber);
    room.leave(s);
    assert_eq!(
        room.check(&sub, &ProxyCall::NewSession),
        Err(ErrorCode::SfuTicket)
    );
}

#[test]
fn the_publisher_leaving_drops_its_tracks_and_closing_one_tells_subscribers() {
    let mut room = Room::new(SfuMode::Always);
    let p = room.join("p", Role::Publisher);
    room.join("s", Role::Subscriber);
    room.new_session("p", "ps");
    room.new_session("s", "ss");
    room.push("p", "ps", &["camera", "screen"]);
    room.told("s");
    let close = ProxyCall::Close {
        session: "ps".into(),
        body: CloseTracksRequest {
            session_description: None,
            tracks: vec![CloseTrackObject { mid: "1".into() }],
            force: true,
        },
    };
    let sends = room
        .sfu
        .recorded(room.engine.stream(), &PeerId::from("p"), &close, None, None);
    room.sent.extend(sends);
    assert_eq!(
        sfu_events(&room.told("s"))[0]["tracks"],
        serde_json::json!(["camera"])
    );
    room.leave(p);
    assert_eq!(room.sfu.state.publication, None);
    let sub = room.ticket("s", Holder::Subscriber);
    assert_eq!(
        room.check(&sub, &pull_call("ss", "ps", "camera")),
        Err(ErrorCode::SfuForeignTrack)
    );
}

#[test]
fn a_whip_publisher_is_the_publisher_and_whep_viewers_count_as_subscribers() {
    let mut room = Room::new(SfuMode::Auto { mesh_max: 6 });
    room.join("s", Role::Subscriber);
    let whip = PeerId::from("w");
    let stream = room.engine.stream().clone();
    room.sfu.whip_begin(&stream, &whip).unwrap();
    assert!(room.sfu.blocks_publisher());
    assert_eq!(
        room.sfu.whip_begin(&stream, &PeerId::from("w2")),
        Err(ErrorCode::PublisherExists)
    );
    let media = media_sections(&offer(&[("video", "sendonly"), ("audio", "sendonly")])).unwrap();
    let tracks = Sfu::whip_tracks(&media);
    let names: Vec<_> = tracks
        .iter()
        .map(|t| t.track_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["video-0", "audio-1"]);
    let response = TracksResponse {
        tracks: Some(
            tracks
                .iter()
                .map(|t| TrackResult {
                    mid: t.mid.clone(),
                    track_name: t.track_name.clone(),
                    ..TrackResult::default()
                })
                .collect(),
        ),
        ..TracksResponse::default()
    };
    let sends = room.sfu.whip_done(&stream, &whip, "ws", &media, &response);
    room.sent.extend(sends);
    let told = room.told("s");
    assert_eq!(
        told[0]["data"],
        serde_json::json!({"type": "published", "id": "w"})
    );
    assert_eq!(
        sfu_events(&told)[0]["tracks"],
        serde_json::json!(["video-0", "audio-1"])
    );
    assert!(
        room.sfu.state.active,
        "a WHIP publisher puts its stream on the SFU"
    );

    // A WHEP viewer pulls each track into the section of its kind.
    let viewer = offer(&[("audio", "recvonly"), ("video", "recvonly")]);
    let (pull, _) = room.sfu.whep_begin(
        &stream,
        &PeerId::from("v"),
        &media_sections(&viewer).unwrap(),
        1000,
    );
    let pull = pull.unwrap();
    let placed: Vec<_> = pull
        .tracks
        .iter()
        .map(|t| (t.mid.clone().unwrap(), t.track_name.clone().unwrap()))
        .collect();
    assert_eq!(
        placed,
        [
            ("0".into(), "audio-1".into()),
            ("1".into(), "video-0".into())
        ]
    );
    assert_eq!(pull.session, "ws");
    let status = room.engine.status();
    let json: Value = serde_json::from_str(&room.sfu.status_json(&status)).unwrap();
    assert_eq!(json["subscribers"], 2);
    assert_eq!(json["live"], true);
    assert_eq!(json["mode"], "sfu");
    // A sending offer is no WHEP offer; a full stream refuses.
    let sending = media_sections(&offer(&[("video", "sendrecv")])).unwrap();
    assert_eq!(
        room.sfu
            .whep_begin(&stream, &PeerId::from("v2"), &sending, 1000)
            .0,
        Err(ErrorCode::SfuBadRequest)
    );
    let recv = media_sections(&viewer).unwrap();
    assert_eq!(
        room.sfu
            .whep_begin(&stream, &PeerId::from("v3"), &recv, 2)
            .0,
        Err(ErrorCode::StreamFull)
    );

    // NOTIFYs to it are dropped (it has no socket), not answered with a departure.
    assert!(room
        .sfu
        .drops_frame(r#"{"method":"NOTIFY","to":"w","data":{"type":"offer"}}"#));
    assert!(!room
        .sfu
        .drops_frame(r#"{"method":"NOTIFY","to":"p","data":{}}"#));
    assert!(!room.sfu.drops_frame("not json"));

    // The WHIP publisher ends: unpublished, and its viewers go with it.
    let (_, sends) = room.sfu.whip_end(&stream, &whip);
    room.sent.extend(sends);
    let told = room.told("s");
    assert_eq!(
        told[0]["data"],
        serde_json::json!({"type": "unpublished", "id": "w"})
    );
    assert!(room.sfu.state.whep.is_empty());
    assert!(!room.sfu.blocks_publisher());
}

#[test]
fn whep_before_any_track_is_not_ready() {
    let mut room = Room::new(SfuMode::Always);
    room.join("p", Role::Publisher);
    let stream = room.engine.stream().clone();
    let viewer = media_sections(&offer(&[("video", "recvonly")])).unwrap();
    let (pull, _) = room
        .sfu
        .whep_begin(&stream, &PeerId::from("v"), &viewer, 1000);
    assert_eq!(pull, Err(ErrorCode::SfuNotReady));
}

#[test]
fn sfu_paths_are_read_from_the_end() {
    let r = route("POST", "/api/sfu/a/sessions/new/sessions/new")
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.door, r.stream.as_str(), r.op),
        (Door::Proxy, "/a/sessions/new", Some(ProxyOp::NewSession))
    );
    let r = route("PUT", "/api/sfu/live/cam/sessions/abc/tracks/close")
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.stream.as_str(), r.op, r.session.as_deref()),
        ("/live/cam", Some(ProxyOp::TracksClose), Some("abc"))
    );
    let r = route("POST", "/api/whip/live/cam").unwrap().unwrap();
    assert_eq!(
        (r.door, r.stream.as_str(), r.session),
        (Door::Whip, "/live/cam", None)
    );
    let r = route("DELETE", "/api/whep/live/cam/sessions/t.x")
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.door, r.stream.as_str(), r.session.as_deref()),
        (Door::Whep, "/live/cam", Some("t.x"))
    );
    let r = route("OPTIONS", "/api/whep/live/cam").unwrap().unwrap();
    assert_eq!((r.stream.as_str(), r.session), ("/live/cam", None));
    for (method, path) in [
        ("POST", "/api/sfu/live/cam"),
        ("POST", "/api/sfu/sessions/new"),
        ("DELETE", "/api/whip/live/cam"),
        ("POST", "/api/whip"),
        ("PUT", "/api/sfu/a/sessions//renegotiate"),
    ] {
        assert_eq!(route(method, path), Some(Err(())), "{method} {path}");
    }
    assert_eq!(route("GET", "/api/sfux/a"), None);
    assert_eq!(route("GET", "/api/streams/a"), None);
}

#[test]
fn link_headers_carry_each_url_and_turn_credentials() {
    let servers = vec![
        serde_json::json!({"urls": "stun:stun.example:3478"}),
        serde_json::json!({"urls": ["turn:t.example:3478?transport=udp", "turns:t.example:5349"], "username": "1700:x", "credential": "c2VjcmV0"}),
        serde_json::json!({"urls": "turn:bad.example", "username": "a\"b", "credential": "c"}),
    ];
    assert_eq!(
        streams_core::sfu::link_headers(&servers),
        [
            r#"<stun:stun.example:3478>; rel="ice-server""#,
            r#"<turn:t.example:3478?transport=udp>; rel="ice-server"; username="1700:x"; credential="c2VjcmV0"; credential-type="password""#,
            r#"<turns:t.example:5349>; rel="ice-server"; username="1700:x"; credential="c2VjcmV0"; credential-type="password""#,
        ]
    );
}
