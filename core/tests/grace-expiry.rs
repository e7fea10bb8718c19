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

#[test]
fn a_resume_after_the_deadline_is_refused_although_the_alarm_is_late() {
    let mut sim = Sim::new(Config::default());
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    let at = sim.now;
    sim.cut(sub);
    sim.stall(GRACE);
    assert_eq!(sim.storage.alarm, Some(at + GRACE), "not run yet");
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(sim.refusal(back), ("resume-expired".into(), 4031));
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
    assert!(sim.members().1.is_empty());
    assert!(!sim.storage.records.contains_key(&s.id));
    assert_eq!(
        sim.storage.alarm, None,
        "nobody is away: the alarm is cancelled"
    );
    // The overdue alarm, if it still runs, announces nothing more.
    sim.timeout();
    sim.assert_quiet();
}

#[test]
fn any_input_after_the_deadline_meets_the_departure_first() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    let (other, _) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(sub);
    sim.stall(GRACE + 5);
    // The publisher's relay to the departed subscriber: it hears of the departure, once, and
    // then that the target is gone, instead of the frame being queued for a member who is not
    // coming back.
    sim.notify(publisher, &s.id, serde_json::json!("late"));
    let frames = sim.frames(publisher);
    assert_eq!(frames[0], event("unsubscribed", &s.id));
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_eq!(frames[1]["data"]["type"], "unsubscribed");
    assert!(sim.engine.queued(&s.id.as_str().into()).next().is_none());
    // A frame from another member, or a second late input, announces nothing more.
    sim.notify(other, &p.id, serde_json::json!(1));
    assert_eq!(sim.frames(publisher).len(), 1);
    sim.timeout();
    sim.assert_quiet();
}

#[test]
fn after_a_restart_the_first_event_cannot_beat_an_overdue_alarm() {
    // A subscriber is cut; the runtime goes down before its grace ends and comes back after:
    // the old alarm has not run when the publisher resumes. The subscriber's departure is the
    // first thing the publisher hears, once, and the subscriber's own resume is refused.
    let mut sim = Sim::new(Config::default());
    let (_, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(sub);
    sim.advance(1_000);
    sim.restart();
    sim.drain();
    // The publisher's own grace counts from the restart: it is still within it.
    sim.stall(GRACE - 1);
    let back = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    assert_eq!(sim.created(back).id, p.id);
    assert_eq!(sim.frames(back), vec![event("unsubscribed", &s.id)]);
    let late = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(sim.refusal(late), ("resume-expired".into(), 4031));
    sim.timeout();
    sim.advance(10 * GRACE);
    sim.assert_quiet();
    assert_eq!(sim.members(), (Some(p.id.clone()), vec![]));
}
