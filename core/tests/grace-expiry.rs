//! The grace period: an away member that does not come back departs when it ends, announced
//! exactly once; the alarm is armed for the earliest end and only while someone is away, so an
//! idle stream never wakes by itself.

mod common;

use common::event;
use common::sim::Sim;
use streams_core::{Config, Role};

const GRACE: u64 = 20_000;

#[test]
fn an_away_member_departs_at_the_end_of_its_grace_announced_once() {
    let mut sim = Sim::new(Config::default());
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    let at = sim.now;
    sim.cut(sub);
    assert_eq!(sim.storage.alarm, Some(at + GRACE));
    assert_eq!(sim.engine.next_deadline(), Some(at + GRACE));
    sim.advance(GRACE - 1);
    assert_eq!(sim.counts.alarm_fired, 0);
    assert!(sim.is_away(&s.id));
    sim.advance(1);
    assert_eq!(sim.counts.alarm_fired, 1);
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
    assert!(sim.members().1.is_empty());
    assert!(!sim.storage.records.contains_key(&s.id));
    assert_eq!(sim.storage.alarm, None);
    // A late or repeated alarm announces nothing more.
    sim.timeout();
    sim.advance(10 * GRACE);
    sim.evict();
    sim.timeout();
    sim.assert_quiet();
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(sim.refusal(back), ("resume-expired".into(), 4031));
}

#[test]
fn a_resume_just_before_the_end_keeps_the_member() {
    let mut sim = Sim::new(Config::default());
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(sub);
    sim.advance(GRACE - 1);
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(sim.created(back).id, s.id);
    // Nobody is away any more: the alarm is cancelled.
    assert_eq!(sim.storage.alarm, None);
    sim.advance(10 * GRACE);
    assert_eq!(sim.counts.alarm_fired, 0);
    sim.assert_quiet();
    let _ = publisher;
}

#[test]
fn the_alarm_follows_the_earliest_end_of_a_grace_period() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let (a, sa) = sim.join(Role::Subscriber);
    let (b, sb) = sim.join(Role::Subscriber);
    sim.drain();
    let t0 = sim.now;
    sim.cut(a);
    sim.advance(5_000);
    sim.cut(b);
    sim.advance(5_000);
    sim.cut(publisher);
    assert_eq!(sim.storage.alarm, Some(t0 + GRACE));
    sim.advance(GRACE - 10_000);
    // `a` departed; its departure is queued for the away publisher; the alarm moves on.
    assert_eq!(sim.members().1, vec![sb.id.clone()]);
    assert_eq!(sim.storage.alarm, Some(t0 + 5_000 + GRACE));
    sim.advance(5_000);
    assert_eq!(sim.storage.alarm, Some(t0 + 10_000 + GRACE));
    let back = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    sim.created(back);
    assert_eq!(
        sim.frames(back),
        vec![event("unsubscribed", &sa.id), event("unsubscribed", &sb.id)]
    );
    assert_eq!(sim.storage.alarm, None);
    assert_eq!(sim.counts.alarm_fired, 2);
    sim.assert_quiet();
}

#[test]
fn an_away_publisher_that_runs_out_is_unpublished_once_to_everyone() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let subs: Vec<_> = (0..3).map(|_| sim.join(Role::Subscriber)).collect();
    sim.drain();
    sim.fail(publisher);
    sim.advance(5_000);
    // One subscriber is away too when it happens: it gets the news when it resumes.
    sim.cut(subs[2].0);
    sim.advance(GRACE - 5_000);
    for (conn, _) in &subs[..2] {
        assert_eq!(sim.frames(*conn), vec![event("unpublished", &p.id)]);
    }
    let back = sim.resume(Role::Subscriber, subs[2].1.resume.as_deref().unwrap());
    sim.created(back);
    assert_eq!(sim.frames(back), vec![event("unpublished", &p.id)]);
    sim.advance(GRACE);
    sim.assert_quiet();
    // The stream is free for a new publisher.
    let (new, n) = sim.join(Role::Publisher);
    assert_eq!(sim.frames(new).len(), 3);
    assert_eq!(sim.frames(back), vec![event("published", &n.id)]);
}

#[test]
fn an_idle_stream_never_wakes_itself() {
    // Members connected and quiet (some pinging, answered by the runtime): no alarm is ever
    // set, so the object costs no wake-ups however long it idles.
    let mut sim = Sim::new(Config::default());
    let (publisher, _) = sim.join(Role::Publisher);
    let subs: Vec<_> = (0..5).map(|_| sim.join(Role::Subscriber).0).collect();
    sim.evict();
    for hour in 0..24 {
        for &conn in subs.iter().chain([&publisher]).skip(hour % 2) {
            sim.ping(conn);
        }
        sim.advance(3_600_000);
        sim.evict();
    }
    assert_eq!(sim.counts.alarm_set, 0, "no Alarm(Some) output");
    assert_eq!(sim.counts.alarm_fired, 0, "no wake-up");
    assert_eq!(sim.storage.alarm, None);
}

#[test]
fn a_drop_arms_the_alarm_and_a_resume_disarms_it() {
    let mut sim = Sim::new(Config::default());
    let (sub, s) = sim.join(Role::Subscriber);
    sim.cut(sub);
    assert_eq!(sim.counts.alarm_set, 1);
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    sim.created(back);
    assert_eq!(sim.storage.alarm, None);
    sim.advance(GRACE * 10);
    assert_eq!(sim.counts.alarm_fired, 0);
    assert_eq!(sim.counts.alarm_set, 1);
}
