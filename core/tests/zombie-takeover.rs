//! Zombie takeover: a member that resumes while its old socket still looks open takes over at
//! once. The old socket gets `replaced` (close 4032) and carries nothing from then on; its
//! later close or frames change nothing; the peers notice nothing.

mod common;

use common::sim::{summary, Received, Sim};
use serde_json::json;
use streams_core::{error_frame, Config, ErrorCode, Role};

fn replaced() -> Vec<String> {
    summary(&[
        Received::Frame(error_frame(ErrorCode::Replaced, None)),
        Received::Closed(4032, "replaced".into()),
    ])
}

#[test]
fn a_frozen_publisher_that_resumes_replaces_its_old_socket() {
    let mut sim = Sim::new(Config::default());
    let (old, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.freeze(old);
    // Sent to the zombie, lost with it: not replayed.
    sim.notify(sub, &p.id, json!("lost"));
    assert_eq!(sim.sockets[&old].lost, 1);
    let new = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    let created = sim.created(new);
    assert_eq!(
        (created.id.as_str(), created.resumed),
        (p.id.as_str(), true)
    );
    assert!(
        sim.frames(new).is_empty(),
        "frames sent to the zombie are not replayed"
    );
    assert_eq!(
        sim.sockets[&old].server_closed,
        Some((4032, "replaced".into()))
    );
    let identity = sim.sockets[&old].attachment.clone().unwrap();
    assert!(
        identity.gone,
        "the old socket's attachment no longer carries the member"
    );
    assert_eq!(sim.member(old), None);
    assert_eq!(sim.member(new), Some(p.id.clone()));
    assert_eq!(sim.storage.records[&p.id].conn, new);
    // The subscriber saw nothing.
    sim.assert_quiet();
    sim.notify(sub, &p.id, json!("live"));
    assert_eq!(
        sim.frames(new),
        vec![json!({"method": "NOTIFY", "data": "live", "from": s.id})]
    );
}

#[test]
fn a_live_duplicate_is_told_it_was_replaced() {
    let mut sim = Sim::new(Config::default());
    let (old, s) = sim.join(Role::Subscriber);
    sim.drain();
    let new = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(summary(&sim.take_all(old)), replaced());
    assert_eq!(sim.created(new).id, s.id);
    sim.assert_quiet();
}

#[test]
fn the_old_sockets_later_close_and_frames_change_nothing() {
    for code in [Some(4032), Some(1000), Some(1001), Some(1006), None] {
        let mut sim = Sim::new(Config::default());
        let (publisher, p) = sim.join(Role::Publisher);
        let (old, s) = sim.join(Role::Subscriber);
        sim.drain();
        sim.freeze(old);
        let new = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
        sim.created(new);
        // The network comes back for a moment: the old socket's frames are ignored.
        sim.sockets.get_mut(&old).unwrap().frozen = false;
        sim.notify(old, &p.id, json!("stale"));
        sim.binary(old);
        assert!(sim.last.is_empty(), "{:?}", sim.last);
        sim.try_closed(old, code).unwrap();
        assert_eq!(sim.last.len(), 1, "{code:?}: only the echo: {:?}", sim.last);
        assert_eq!(sim.members(), (Some(p.id.clone()), vec![s.id.clone()]));
        assert!(!sim.is_away(&s.id));
        assert_eq!(sim.storage.alarm, None);
        sim.assert_quiet();
        sim.notify(publisher, &s.id, json!(1));
        assert_eq!(sim.frames(new).len(), 1);
    }
}

#[test]
fn a_replaced_socket_is_not_brought_back_by_a_rebuild() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let (old, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.freeze(old);
    let new = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    sim.created(new);
    sim.drain();
    sim.evict();
    sim.assert_quiet();
    assert_eq!(sim.member(old), None);
    assert_eq!(sim.member(new), Some(s.id.clone()));
    sim.notify(publisher, &s.id, json!(1));
    assert_eq!(sim.frames(new).len(), 1);
    assert_eq!(sim.members(), (Some(p.id), vec![s.id]));
}

#[test]
fn a_zombie_found_silent_is_not_replaced_twice() {
    // The sweep finds the zombie silent first (heartbeat-timeout); the resume then takes an
    // away member back and closes nothing else.
    let mut sim = Sim::new(Config::default());
    let (old, s) = sim.join(Role::Subscriber);
    sim.ping(old);
    sim.freeze(old);
    sim.advance(31_000);
    let new = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(
        sim.sockets[&old].server_closed,
        Some((4033, "heartbeat-timeout".into()))
    );
    assert_eq!(sim.created(new).id, s.id);
    assert!(!sim.is_away(&s.id));
}
