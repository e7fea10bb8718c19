//! `resume_grace_ms = 0` behaves exactly as before resume existed: `created` carries no value,
//! every drop is a departure, nothing is stored, no alarm is ever set.

mod common;

use common::event;
use common::sim::Sim;
use serde_json::json;
use streams_core::{Config, Role};

fn off() -> Config {
    Config {
        resume_grace_ms: 0,
        ..Config::default()
    }
}

#[test]
fn created_is_the_rtclite_frame() {
    let mut sim = Sim::new(off());
    let conn = sim.connect(Role::Subscriber);
    let id = sim.member(conn).unwrap();
    assert_eq!(sim.frames(conn), vec![event("created", &id)]);
}

#[test]
fn every_way_of_leaving_is_a_departure_and_nothing_is_stored() {
    for code in [
        Some(1000),
        Some(1001),
        Some(1006),
        Some(1015),
        Some(4000),
        None,
    ] {
        let mut sim = Sim::new(off());
        let (publisher, p) = sim.join(Role::Publisher);
        let (sub, s) = sim.join(Role::Subscriber);
        assert_eq!(s.resume, None);
        sim.drain();
        sim.notify(publisher, &s.id, json!(1));
        sim.drain();
        sim.try_closed(sub, code).unwrap();
        assert_eq!(
            sim.frames(publisher),
            vec![event("unsubscribed", &s.id)],
            "{code:?}"
        );
        sim.try_closed(publisher, code).unwrap();
        assert_eq!(sim.members(), (None, vec![]));
        sim.advance(60_000);
        assert_eq!(sim.counts.storage_writes(), 0, "{:?}", sim.counts);
        assert_eq!(sim.counts.alarm_set, 0);
        assert_eq!(sim.storage, Default::default());
        assert_eq!(sim.engine.next_deadline(), None);
        sim.assert_quiet();
        let _ = p;
    }
}

#[test]
fn an_eviction_rebuilds_from_the_held_sockets_alone() {
    let mut sim = Sim::new(off());
    let (publisher, p) = sim.join(Role::Publisher);
    let (a, sa) = sim.join(Role::Subscriber);
    let (b, sb) = sim.join(Role::Subscriber);
    sim.drain();
    sim.evict();
    assert_eq!(
        sim.members(),
        (Some(p.id.clone()), vec![sa.id.clone(), sb.id.clone()])
    );
    sim.assert_quiet();
    // A socket found closing still carries its member; its close departs it.
    sim.begin_close(b);
    sim.evict();
    sim.assert_quiet();
    sim.close(b, 1006);
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &sb.id)]);
    sim.assert_quiet();
    // A restart loses everyone: nothing was stored.
    sim.restart();
    sim.drain();
    assert_eq!(sim.members(), (None, vec![]));
    assert_eq!(sim.counts.storage_writes(), 0);
    let _ = a;
}

#[test]
fn a_closing_peer_departs_before_a_newcomer_meets_it() {
    let mut sim = Sim::new(off());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, _) = sim.join(Role::Subscriber);
    sim.drain();
    sim.begin_close(publisher);
    let (_, _) = sim.join(Role::Subscriber);
    assert_eq!(sim.frames(sub), vec![event("unpublished", &p.id)]);
    assert_eq!(sim.members().0, None);
}
