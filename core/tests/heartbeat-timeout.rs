//! Dead peers: a connection that used the heartbeat and then fell silent is treated as dropped
//! (heartbeat-timeout, close 4033, then the grace period); one that never pinged never is; a
//! new publisher gets the stream from a silent one.

mod common;

use common::sim::{summary, Received, Sim};
use common::{error_code, event};
use serde_json::json;
use streams_core::{Config, ErrorCode, Role};

const TIMEOUT: u64 = 30_000;

fn config() -> Config {
    Config {
        heartbeat_timeout_ms: TIMEOUT,
        ..Config::default()
    }
}

fn timeout_close() -> Vec<String> {
    summary(&[
        Received::Frame(streams_core::error_frame(ErrorCode::HeartbeatTimeout, None)),
        Received::Closed(4033, "heartbeat-timeout".into()),
    ])
}

#[test]
fn a_silent_pinger_is_dropped_at_the_next_wake_up_then_waits_for_its_resume() {
    let mut sim = Sim::new(config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.ping(sub);
    sim.advance(TIMEOUT);
    // Exactly at the timeout it is not yet silent "longer than" the timeout.
    sim.notify(publisher, &s.id, json!(1));
    assert_eq!(
        sim.frames(sub),
        vec![json!({"method": "NOTIFY", "data": 1, "from": p.id})]
    );
    sim.advance(TIMEOUT + 1);
    sim.notify(publisher, &s.id, json!(2));
    assert_eq!(summary(&sim.take_all(sub)), timeout_close());
    assert!(
        sim.is_away(&s.id),
        "dropped, not departed: the grace period runs"
    );
    assert_eq!(sim.engine.queued(&s.id.as_str().into()).count(), 1);
    assert!(sim.storage.alarm.is_some());
    // The publisher notices nothing.
    sim.assert_quiet();
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    let created = sim.created(back);
    assert_eq!(created.id, s.id);
    assert_eq!(
        sim.frames(back),
        vec![json!({"method": "NOTIFY", "data": 2, "from": p.id})]
    );
    sim.assert_quiet();
}

#[test]
fn frames_count_as_signs_of_life_as_well_as_pings() {
    let mut sim = Sim::new(config());
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.ping(sub);
    for _ in 0..5 {
        sim.advance(TIMEOUT - 1);
        sim.text(sub, r#"{"method":"GET","resource":"/nothing"}"#);
        sim.take_all(sub);
        sim.advance(TIMEOUT - 1);
        sim.ping(sub);
        sim.text(publisher, "{}");
        sim.take_all(publisher);
    }
    assert_eq!(sim.member(sub), Some(s.id));
    sim.assert_quiet();
}

#[test]
fn a_connection_that_never_pinged_is_never_timed_out() {
    let mut sim = Sim::new(config());
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    for _ in 0..10 {
        sim.advance(10 * TIMEOUT);
        sim.text(publisher, "{}");
        sim.take_all(publisher);
    }
    assert_eq!(sim.member(sub), Some(s.id));
    assert!(!sim
        .engine
        .is_away(&sim.member(sub).unwrap().as_str().into()));
    sim.assert_quiet();
}

#[test]
fn a_zero_timeout_turns_the_check_off() {
    let mut sim = Sim::new(Config {
        heartbeat_timeout_ms: 0,
        ..Config::default()
    });
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.ping(sub);
    sim.advance(100 * TIMEOUT);
    sim.text(publisher, "{}");
    sim.take_all(publisher);
    sim.join(Role::Subscriber);
    assert_eq!(sim.member(sub), Some(s.id));
}

#[test]
fn silence_alone_never_wakes_the_stream() {
    // The sweep runs when something else wakes the object; no alarm is set for it.
    let mut sim = Sim::new(config());
    sim.join(Role::Publisher);
    let (sub, _) = sim.join(Role::Subscriber);
    sim.ping(sub);
    sim.freeze(sub);
    sim.advance(100 * TIMEOUT);
    assert_eq!(sim.counts.alarm_set, 0);
    assert_eq!(sim.counts.alarm_fired, 0);
    assert!(sim.storage.alarm.is_none());
}

/// What each subscriber sees when a new publisher takes the stream from `old`.
fn handover(old: &str, new: &str) -> Vec<serde_json::Value> {
    vec![event("unpublished", old), event("published", new)]
}

#[test]
fn a_new_publisher_gets_the_stream_from_a_silent_one() {
    let mut sim = Sim::new(config());
    let (old, p) = sim.join(Role::Publisher);
    let (sub, _) = sim.join(Role::Subscriber);
    sim.drain();
    sim.ping(old);
    sim.freeze(old);
    sim.advance(TIMEOUT + 1);
    let (new, n) = sim.join(Role::Publisher);
    assert_eq!(
        sim.sockets[&old].server_closed,
        Some((4033, "heartbeat-timeout".into()))
    );
    assert_eq!(sim.members().0, Some(n.id.clone()));
    assert_eq!(sim.frames(sub), handover(&p.id, &n.id));
    assert_eq!(
        sim.frames(new).len(),
        1,
        "subscribed, for the one subscriber"
    );
    // The old publisher departed: nothing of it is kept, and it cannot come back.
    assert!(!sim.storage.records.contains_key(&p.id));
    let again = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    assert_eq!(sim.refusal(again), ("resume-expired".into(), 4031));
    sim.assert_quiet();
}

#[test]
fn a_new_publisher_gets_the_stream_from_a_silent_one_after_hibernation() {
    // The object sleeps through the silence: the wake-up must not count as a sign of life.
    let mut sim = Sim::new(config());
    let (old, p) = sim.join(Role::Publisher);
    let (sub, _) = sim.join(Role::Subscriber);
    sim.drain();
    sim.ping(old);
    sim.freeze(old);
    sim.advance(10_000);
    sim.evict();
    sim.advance(TIMEOUT);
    sim.evict();
    let (_, n) = sim.join(Role::Publisher);
    assert_eq!(sim.members().0, Some(n.id.clone()));
    assert_eq!(sim.frames(sub), handover(&p.id, &n.id));
}

#[test]
fn a_publisher_that_still_pings_keeps_its_stream() {
    let mut sim = Sim::new(config());
    let (old, p) = sim.join(Role::Publisher);
    sim.ping(old);
    sim.advance(TIMEOUT + 1);
    sim.ping(old);
    let second = sim.connect(Role::Publisher);
    assert_eq!(sim.refusal(second), ("publisher-exists".into(), 4001));
    assert_eq!(sim.members().0, Some(p.id));
}

#[test]
fn without_resume_a_silent_member_departs_at_once() {
    let mut sim = Sim::new(Config {
        resume_grace_ms: 0,
        ..config()
    });
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.ping(sub);
    sim.advance(TIMEOUT + 1);
    sim.text(publisher, "{}");
    assert_eq!(summary(&sim.take_all(sub)), timeout_close());
    let seen = sim.frames(publisher);
    assert_eq!(seen[0], event("unsubscribed", &s.id));
    assert_eq!(error_code(&seen[1]), "unknown-method");
    assert_eq!(sim.counts.storage_writes(), 0);
}

#[test]
fn a_member_that_keeps_pinging_survives_every_wake_up() {
    let mut sim = Sim::new(config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    for _ in 0..10 {
        sim.ping(publisher);
        sim.ping(sub);
        sim.advance(TIMEOUT - 1);
        sim.evict();
        let second = sim.connect(Role::Publisher);
        assert_eq!(sim.refusal(second), ("publisher-exists".into(), 4001));
    }
    assert_eq!(sim.members(), (Some(p.id), vec![s.id]));
    sim.assert_quiet();
}
