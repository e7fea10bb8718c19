//! What a stream tells its room (`Output::Presence`): its publisher's arrival, and its departure
//! only when final: never while it may still resume, and again (live) on every rebuild.

mod common;

use common::sim::Sim;
use streams_core::{Config, Role};

const GRACE: u64 = 20_000;

#[test]
fn arrival_and_goodbye_are_reported_once_each() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let since = sim.now;
    let (sub, _) = sim.join(Role::Subscriber);
    sim.close(sub, 1000);
    assert_eq!(sim.presence, vec![(true, p.id.as_str().into(), since)]);
    sim.advance(5);
    sim.close(publisher, 1000);
    assert_eq!(sim.presence[1..], [(false, p.id.as_str().into(), since)]);
}

#[test]
fn a_drop_is_no_departure_until_its_grace_period_ends() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    sim.presence.clear();
    sim.cut(publisher);
    sim.advance(GRACE / 2);
    let back = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    assert_eq!(sim.created(back).id, p.id);
    assert!(
        sim.presence.is_empty(),
        "a drop and a resume said {:?}",
        sim.presence
    );
    sim.cut(back);
    sim.advance(GRACE - 1);
    assert!(
        sim.presence.is_empty(),
        "said {:?} within the grace period",
        sim.presence
    );
    sim.advance(1);
    assert_eq!(sim.presence.len(), 1);
    assert!(
        !sim.presence[0].0,
        "the end of the grace period is the departure"
    );
}

#[test]
fn a_rebuild_reports_the_publisher_again_and_a_replacement_says_ended_then_live() {
    let mut sim = Sim::new(Config::default());
    let (_, p) = sim.join(Role::Publisher);
    sim.presence.clear();
    sim.evict();
    assert_eq!(sim.presence.len(), 1);
    assert!(sim.presence[0].0 && sim.presence[0].1.as_str() == p.id);
    sim.presence.clear();
    sim.restart();
    assert_eq!(sim.presence.len(), 1);
    assert!(sim.presence[0].0 && sim.presence[0].1.as_str() == p.id);
    // Nobody comes back after the restart: the grace period ends, and with it the publisher.
    sim.presence.clear();
    sim.advance(GRACE);
    assert_eq!(sim.presence.len(), 1);
    assert!(!sim.presence[0].0);
    let (_, q) = sim.join(Role::Publisher);
    assert!(sim.presence[1].0 && sim.presence[1].1.as_str() == q.id);
}
