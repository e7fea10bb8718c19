//! The away queue is bounded (`resume_queue_bytes`): a frame that would pass the bound ends the
//! member's wait; it departs once, as any departure, and its value is expired from then on.

mod common;

use common::event;
use common::sim::Sim;
use serde_json::json;
use streams_core::{Config, PeerId, Role};

/// The bytes of the relay the publisher's `NOTIFY` with this `data` becomes.
fn relay_len(from: &str, data: &str) -> usize {
    json!({"method": "NOTIFY", "data": data, "from": from})
        .to_string()
        .len()
}

#[test]
fn a_queue_filled_exactly_to_the_bound_is_kept_and_one_byte_more_departs_once() {
    let from = "00000000000000005eed0001";
    let one = relay_len(from, "xxxxxxxxxx");
    let mut sim = Sim::new(Config {
        resume_queue_bytes: 3 * one,
        ..Config::default()
    });
    let (publisher, p) = sim.join(Role::Publisher);
    assert_eq!(p.id, from);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(sub);
    for _ in 0..3 {
        sim.notify(publisher, &s.id, json!("xxxxxxxxxx"));
    }
    sim.assert_quiet();
    assert_eq!(sim.storage.queue(&s.id).len(), 3);
    assert!(sim.is_away(&s.id));
    // One byte over: the frame is not queued, the member departs, announced once.
    sim.notify(publisher, &s.id, json!("x"));
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
    assert!(sim.members().1.is_empty());
    assert!(sim.storage.queue(&s.id).is_empty() && !sim.storage.records.contains_key(&s.id));
    assert_eq!(sim.storage.alarm, None);
    // From now on it is a stranger: a NOTIFY to it gets the rtclite departure answer.
    sim.notify(publisher, &s.id, json!("x"));
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
    sim.advance(60_000);
    sim.assert_quiet();
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(sim.refusal(back), ("resume-expired".into(), 4031));
}

#[test]
fn events_count_against_the_bound_too() {
    let mut sim = Sim::new(Config {
        max_subscribers: 100,
        resume_queue_bytes: 300,
        ..Config::default()
    });
    let (publisher, p) = sim.join(Role::Publisher);
    sim.drain();
    sim.cut(publisher);
    // Each arrival queues `subscribed` (about 80 bytes) for the away publisher.
    let mut joined = Vec::new();
    while sim.members().0.is_some() {
        joined.push(sim.join(Role::Subscriber));
    }
    assert_eq!(joined.len(), 4, "three fit, the fourth overflows");
    for (conn, _) in &joined[..3] {
        assert_eq!(
            sim.frames(*conn),
            vec![event("published", &p.id), event("unpublished", &p.id)]
        );
    }
    assert_eq!(
        sim.frames(joined[3].0),
        vec![event("published", &p.id), event("unpublished", &p.id)]
    );
    assert!(!sim.storage.records.contains_key(&p.id));
    sim.assert_quiet();
}

#[test]
fn an_overflow_set_off_by_a_departure_departs_too() {
    // The publisher's departure overflows an away subscriber's queue: that subscriber departs
    // as well (to nobody: nobody is left to tell), and the queue of the other is intact.
    let mut sim = Sim::new(Config {
        resume_queue_bytes: 100,
        ..Config::default()
    });
    let (publisher, p) = sim.join(Role::Publisher);
    let (full, sf) = sim.join(Role::Subscriber);
    let (room, sr) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(full);
    sim.cut(room);
    sim.notify(publisher, &sf.id, json!("y".repeat(20)));
    assert_eq!(sim.storage.queue(&sf.id).len(), 1);
    sim.close(publisher, 1000);
    assert_eq!(sim.members(), (None, vec![sr.id.clone()]));
    assert!(!sim.storage.records.contains_key(&sf.id));
    assert_eq!(sim.storage.queue(&sr.id).len(), 1);
    let back = sim.resume(Role::Subscriber, sr.resume.as_deref().unwrap());
    sim.created(back);
    assert_eq!(sim.frames(back), vec![event("unpublished", &p.id)]);
    assert_eq!(sim.engine.queued(&PeerId::from(sr.id.as_str())).count(), 0);
    sim.assert_quiet();
}
