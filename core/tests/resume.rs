//! Resume: a member whose connection dropped takes its place back within the grace period,
//! with the same id, a fresh single-use value and every frame queued while it was away, in
//! order and once; its peers see nothing.

mod common;

use common::event;
use common::sim::Sim;
use serde_json::{json, Value};
use streams_core::{Config, PeerId, Role};

fn relay(from: &str, data: Value) -> Value {
    json!({"method": "NOTIFY", "data": data, "from": from})
}

#[test]
fn created_carries_a_resume_value() {
    let mut sim = Sim::new(Config::default());
    let conn = sim.connect(Role::Publisher);
    let frames = sim.frames(conn);
    let data = frames[0]["data"].as_object().unwrap();
    assert_eq!(data["type"], "created");
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["id", "resume", "type"],
        "no `resumed` on a fresh join"
    );
    assert!(data["resume"].as_str().is_some_and(|v| v.len() > 40));
}

#[test]
fn a_resume_keeps_the_id_and_issues_a_fresh_value() {
    let mut sim = Sim::new(Config::default());
    let (_, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    let mut value = s.resume.clone().unwrap();
    let mut seen = vec![value.clone()];
    let mut conn = sub;
    for _ in 0..5 {
        sim.cut(conn);
        conn = sim.resume(Role::Subscriber, &value);
        let created = sim.created(conn);
        assert_eq!(created.id, s.id);
        assert!(created.resumed);
        value = created.resume.unwrap();
        assert!(!seen.contains(&value), "every created issues a new value");
        seen.push(value.clone());
        // The attachment and the record follow the member to its new socket, with its
        // original join time.
        let identity = sim.sockets[&conn].attachment.clone().unwrap();
        assert_eq!((identity.id.as_str(), identity.conn), (s.id.as_str(), conn));
        assert_eq!(sim.storage.records[&s.id].conn, conn);
        assert_eq!(sim.storage.records[&s.id].away_since, None);
    }
    assert_eq!(sim.members(), (Some(p.id), vec![s.id]));
    assert_eq!(sim.storage.alarm, None);
    sim.assert_quiet();
}

#[test]
fn frames_queued_while_away_arrive_in_order_exactly_once() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    sim.drain();
    sim.cut(publisher);
    // While the publisher is away: a subscriber arrives, relays, and leaves; another stays.
    let (a, sa) = sim.join(Role::Subscriber);
    sim.notify(a, &p.id, json!("offer?"));
    let (b, sb) = sim.join(Role::Subscriber);
    sim.close(a, 1000);
    sim.notify(b, &p.id, json!(2));
    sim.drain();
    let queued: Vec<Value> = sim
        .storage
        .queue(&p.id)
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    let expected = vec![
        event("subscribed", &sa.id),
        relay(&sa.id, json!("offer?")),
        event("subscribed", &sb.id),
        event("unsubscribed", &sa.id),
        relay(&sb.id, json!(2)),
    ];
    assert_eq!(queued, expected, "storage keeps the queue");
    let back = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    let created = sim.created(back);
    assert_eq!(created.id, p.id);
    assert_eq!(sim.frames(back), expected);
    assert!(
        sim.storage.queue(&p.id).is_empty(),
        "delivered once: gone from storage"
    );
    assert_eq!(sim.engine.queued(&PeerId::from(p.id.as_str())).count(), 0);
    // Once more, after another drop: nothing of the old queue comes back.
    sim.cut(back);
    let again = sim.resume(Role::Publisher, created.resume.as_deref().unwrap());
    sim.created(again);
    assert!(sim.frames(again).is_empty());
    // And live frames flow again.
    sim.notify(b, &p.id, json!(3));
    assert_eq!(sim.frames(again), vec![relay(&sb.id, json!(3))]);
    sim.assert_quiet();
}

#[test]
fn peers_see_nothing_of_a_drop_and_a_resume() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let subs: Vec<_> = (0..3).map(|_| sim.join(Role::Subscriber)).collect();
    sim.drain();
    sim.fail(publisher);
    sim.advance(5_000);
    let back = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    sim.created(back);
    // The publisher's queue was empty; the subscribers heard nothing.
    sim.assert_quiet();
    let (sub, s) = &subs[1];
    sim.cut(*sub);
    let sub = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    sim.created(sub);
    sim.assert_quiet();
    // Both relay as before.
    sim.notify(back, &s.id, json!("a"));
    sim.notify(sub, &p.id, json!("b"));
    assert_eq!(sim.frames(sub), vec![relay(&p.id, json!("a"))]);
    assert_eq!(sim.frames(back), vec![relay(&s.id, json!("b"))]);
    sim.assert_quiet();
}

#[test]
fn an_away_member_still_counts() {
    let mut sim = Sim::new(Config {
        max_subscribers: 1,
        ..Config::default()
    });
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(publisher);
    sim.cut(sub);
    let second = sim.connect(Role::Publisher);
    assert_eq!(sim.refusal(second), ("publisher-exists".into(), 4001));
    let full = sim.connect(Role::Subscriber);
    assert_eq!(sim.refusal(full), ("stream-full".into(), 4020));
    let status = sim.engine.status();
    assert!(status.live);
    assert_eq!(status.subscribers, 1);
    assert_eq!(sim.members(), (Some(p.id.clone()), vec![s.id.clone()]));
    sim.assert_quiet();
}

#[test]
fn a_notify_to_an_away_member_is_queued_not_refused() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(sub);
    sim.notify(publisher, &s.id, json!({"sdp": "x"}));
    sim.assert_quiet();
    assert_eq!(sim.storage.queue(&s.id).len(), 1);
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    sim.created(back);
    assert_eq!(sim.frames(back), vec![relay(&p.id, json!({"sdp": "x"}))]);
}

#[test]
fn a_departure_while_away_is_queued_for_the_member() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.notify(sub, &p.id, json!("answer"));
    sim.drain();
    sim.cut(sub);
    sim.advance(15_000);
    sim.cut(publisher);
    // The subscriber's grace runs out while the publisher is away: its departure is queued.
    sim.advance(6_000);
    assert!(!sim.is_away(&s.id) && sim.members().1.is_empty());
    let back = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    sim.created(back);
    assert_eq!(sim.frames(back), vec![event("unsubscribed", &s.id)]);
    sim.assert_quiet();
}
