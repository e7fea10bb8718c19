//! Rebuilding the engine: after an eviction (sockets held, storage kept) the stream is exactly
//! as before and nobody hears a thing; after a restart (every socket cut, storage kept) every
//! member is away, those who resume keep their ids, and the others depart once at the end of
//! their grace period, announced to those who came back.

mod common;

use common::event;
use common::sim::Sim;
use serde_json::json;
use streams_core::{Config, PeerId, Role};

const GRACE: u64 = 20_000;

/// What must survive a rebuild: members, who is away, queues, the alarm, storage.
fn snapshot(sim: &Sim) -> impl PartialEq + std::fmt::Debug {
    let (publisher, subscribers) = sim.members();
    let away: Vec<bool> = publisher
        .iter()
        .chain(&subscribers)
        .map(|id| sim.is_away(id))
        .collect();
    let queues: Vec<Vec<String>> = publisher
        .iter()
        .chain(&subscribers)
        .map(|id| {
            sim.engine
                .queued(&PeerId::from(id.as_str()))
                .map(str::to_owned)
                .collect()
        })
        .collect();
    let conns: Vec<(u64, Option<String>)> =
        sim.sockets.keys().map(|&c| (c, sim.member(c))).collect();
    (
        publisher,
        subscribers,
        away,
        queues,
        conns,
        sim.engine.next_deadline(),
        sim.storage.clone(),
        sim.engine.status(),
    )
}

#[test]
fn an_eviction_changes_nothing() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let (a, sa) = sim.join(Role::Subscriber);
    let (b, sb) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(b);
    sim.notify(publisher, &sb.id, json!("queued"));
    sim.advance(3_000);
    let before = snapshot(&sim);
    sim.evict();
    assert_eq!(snapshot(&sim), before);
    sim.assert_quiet();
    // And it works on as before: relays, resume with the value issued before, expiry.
    sim.notify(a, &p.id, json!(1));
    assert_eq!(sim.frames(publisher).len(), 1);
    sim.evict();
    let back = sim.resume(Role::Subscriber, sb.resume.as_deref().unwrap());
    assert_eq!(sim.created(back).id, sb.id);
    assert_eq!(
        sim.frames(back),
        vec![json!({"method": "NOTIFY", "data": "queued", "from": p.id})]
    );
    sim.cut(a);
    sim.evict();
    sim.advance(GRACE);
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &sa.id)]);
    sim.assert_quiet();
}

#[test]
fn an_eviction_keeps_the_grace_deadline() {
    let mut sim = Sim::new(Config::default());
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    let at = sim.now;
    sim.cut(sub);
    for _ in 0..4 {
        sim.advance(GRACE / 5);
        sim.evict();
        assert_eq!(sim.storage.alarm, Some(at + GRACE));
    }
    sim.advance(GRACE / 5);
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
}

#[test]
fn a_socket_closing_when_the_object_wakes_still_carries_its_member_until_its_close_arrives() {
    // Its close event is on its way (it may be what woke the object): it decides.
    for (code, departs) in [(1000, true), (1006, false)] {
        let mut sim = Sim::new(Config::default());
        let (publisher, _) = sim.join(Role::Publisher);
        let (sub, s) = sim.join(Role::Subscriber);
        sim.drain();
        sim.begin_close(sub);
        sim.evict();
        assert!(!sim.is_away(&s.id));
        assert_eq!(sim.storage.records[&s.id].away_since, None);
        assert!(sim.storage.alarm.is_none());
        sim.assert_quiet();
        sim.close(sub, code);
        if departs {
            assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
        } else {
            assert!(sim.is_away(&s.id));
        }
        sim.assert_quiet();
    }
}

#[test]
fn after_a_restart_those_who_resume_keep_their_ids_and_the_others_depart_once() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let (_, sa) = sim.join(Role::Subscriber);
    let (b, sb) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(b);
    sim.notify(publisher, &sb.id, json!("kept"));
    sim.advance(5_000);
    let restart_at = sim.now;
    sim.restart();
    sim.drain();
    assert!(sim.is_away(&p.id) && sim.is_away(&sa.id) && sim.is_away(&sb.id));
    // `b` was away before: its deadline is unchanged; the others' grace starts now.
    assert_eq!(sim.storage.alarm, Some(restart_at - 5_000 + GRACE));
    // The publisher and `b` come back; `a` does not.
    let p2 = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    assert_eq!(sim.created(p2).id, p.id);
    let b2 = sim.resume(Role::Subscriber, sb.resume.as_deref().unwrap());
    assert_eq!(sim.created(b2).id, sb.id);
    assert_eq!(
        sim.frames(b2),
        vec![json!({"method": "NOTIFY", "data": "kept", "from": p.id})]
    );
    sim.advance(GRACE);
    assert_eq!(sim.frames(p2), vec![event("unsubscribed", &sa.id)]);
    assert_eq!(sim.members(), (Some(p.id.clone()), vec![sb.id.clone()]));
    sim.restart();
    sim.drain();
    sim.advance(GRACE);
    // Nobody came back after the second restart: both depart, to nobody left to tell.
    assert_eq!(sim.members(), (None, vec![]));
    assert!(sim.storage.records.is_empty() && sim.storage.queued.is_empty());
    assert_eq!(sim.storage.alarm, None);
    sim.assert_quiet();
}

#[test]
fn a_restart_keeps_what_was_queued() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    sim.drain();
    sim.cut(publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.notify(sub, &p.id, json!("hello"));
    sim.restart();
    sim.drain();
    let back = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    sim.created(back);
    assert_eq!(
        sim.frames(back),
        vec![
            event("subscribed", &s.id),
            json!({"method": "NOTIFY", "data": "hello", "from": s.id})
        ]
    );
    // The subscriber's own record survived as well.
    let sub2 = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(sim.created(sub2).id, s.id);
    sim.assert_quiet();
}

#[test]
fn a_rebuild_asks_for_the_alarm_it_needs() {
    // Whatever alarm storage holds may be stale: a rebuild always says which one it needs.
    let mut sim = Sim::new(Config::default());
    sim.join(Role::Publisher);
    sim.storage.alarm = Some(1);
    sim.evict();
    assert_eq!(sim.storage.alarm, None);
    let (sub, _) = sim.join(Role::Subscriber);
    sim.cut(sub);
    let want = sim.storage.alarm;
    sim.storage.alarm = None;
    sim.evict();
    assert_eq!(sim.storage.alarm, want);
}
