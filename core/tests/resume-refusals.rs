//! Refused resumes: a replayed, forged, other-stream or other-mode value is `resume-invalid`
//! (close 4030); a value whose member departed is `resume-expired` (close 4031). A refusal
//! changes nothing: the member keeps waiting and its current value still works.

mod common;

use common::sim::{Created, Sim};
use serde_json::json;
use streams_core::{Config, ResumeKey, Role};

const INVALID: (&str, u16) = ("resume-invalid", 4030);
const EXPIRED: (&str, u16) = ("resume-expired", 4031);

fn refused(sim: &mut Sim, role: Role, value: &str) -> (String, u16) {
    let before = (sim.members(), sim.storage.clone());
    let records = sim.storage.records.clone();
    let conn = sim.resume(role, value);
    let refusal = sim.refusal(conn);
    assert_eq!(
        (sim.members(), sim.storage.clone()),
        before,
        "{value:?} changed the stream"
    );
    assert_eq!(sim.storage.records, records);
    sim.assert_quiet();
    refusal
}

fn pair(sim: &mut Sim) -> ((u64, Created), (u64, Created)) {
    let publisher = sim.join(Role::Publisher);
    let sub = sim.join(Role::Subscriber);
    sim.drain();
    (publisher, sub)
}

fn is(refusal: (String, u16), want: (&str, u16)) -> bool {
    refusal.0 == want.0 && refusal.1 == want.1
}

#[test]
fn a_used_value_is_refused_and_the_current_one_still_works() {
    let mut sim = Sim::new(Config::default());
    let (_, (sub, s)) = pair(&mut sim);
    let old = s.resume.unwrap();
    sim.cut(sub);
    let back = sim.resume(Role::Subscriber, &old);
    let current = sim.created(back).resume.unwrap();
    sim.cut(back);
    // Replayed: refused, whether the member is away or connected.
    assert!(is(refused(&mut sim, Role::Subscriber, &old), INVALID));
    let back = sim.resume(Role::Subscriber, &current);
    let newest = sim.created(back).resume.unwrap();
    assert!(is(refused(&mut sim, Role::Subscriber, &current), INVALID));
    assert!(is(refused(&mut sim, Role::Subscriber, &old), INVALID));
    assert_eq!(sim.member(back), Some(s.id));
    assert!(sim.sockets[&back].server_closed.is_none(), "{newest}");
}

#[test]
fn forged_values_are_invalid() {
    let mut sim = Sim::new(Config::default());
    let (_, (sub, s)) = pair(&mut sim);
    sim.cut(sub);
    let value = s.resume.clone().unwrap();
    let (body, tag) = value.rsplit_once('.').unwrap();
    let flip = |c: char| if c == 'A' { 'B' } else { 'A' };
    let mut forged = vec![
        String::new(),
        "x".into(),
        "....".into(),
        format!("{value}x"),
        format!("{value}."),
        format!("{body}.{}", &tag[1..]),
        format!("{body}.{}{}", flip(tag.chars().next().unwrap()), &tag[1..]),
        value.replacen(".s.", ".p.", 1),
        value.replacen(&s.id, "000000000000000000000000", 1),
        "a".repeat(10_000),
        format!("{value}{value}"),
    ];
    // Each character of the body changed in turn (the tag no longer matches).
    for (i, c) in body.char_indices().filter(|(_, c)| *c != '.') {
        let mut changed = body.to_owned();
        changed.replace_range(i..i + c.len_utf8(), &flip(c).to_string());
        forged.push(format!("{changed}.{tag}"));
    }
    for value in &forged {
        assert!(
            is(refused(&mut sim, Role::Subscriber, value), INVALID),
            "{value}"
        );
    }
    // None of it spent the real value.
    let back = sim.resume(Role::Subscriber, &value);
    assert_eq!(sim.created(back).id, s.id);
}

#[test]
fn a_value_from_another_stream_is_invalid() {
    let mut here = Sim::with_key(Config::default(), ResumeKey([1; 32]));
    let mut there = Sim::with_key(Config::default(), ResumeKey([2; 32]));
    let (_, (sub, s)) = pair(&mut here);
    here.cut(sub);
    // Even if the other stream has a member with that very id and role.
    there.join(Role::Publisher);
    let value = s.resume.unwrap();
    assert!(is(refused(&mut there, Role::Subscriber, &value), INVALID));
    assert!(is(refused(&mut there, Role::Publisher, &value), INVALID));
    let back = here.resume(Role::Subscriber, &value);
    assert_eq!(here.created(back).id, s.id);
}

#[test]
fn a_value_for_the_other_mode_is_invalid() {
    let mut sim = Sim::new(Config::default());
    let ((publisher, p), (sub, s)) = pair(&mut sim);
    sim.cut(publisher);
    sim.cut(sub);
    let (pv, sv) = (p.resume.unwrap(), s.resume.unwrap());
    assert!(is(refused(&mut sim, Role::Subscriber, &pv), INVALID));
    assert!(is(refused(&mut sim, Role::Publisher, &sv), INVALID));
    let back = sim.resume(Role::Publisher, &pv);
    assert_eq!(sim.created(back).id, p.id);
}

#[test]
fn a_departed_member_is_expired_and_a_wrong_value_for_it_still_invalid() {
    let mut sim = Sim::new(Config::default());
    let ((publisher, p), (sub, s)) = pair(&mut sim);
    sim.cut(sub);
    sim.advance(20_000);
    assert_eq!(sim.frames(publisher).len(), 1, "unsubscribed");
    let value = s.resume.unwrap();
    assert!(is(refused(&mut sim, Role::Subscriber, &value), EXPIRED));
    // The signature is checked before the member is looked up, and the mode before that.
    let (body, _) = value.rsplit_once('.').unwrap();
    let forged = format!("{body}.AAAAAAAAAAAAAAAAAAAAAA");
    assert!(is(refused(&mut sim, Role::Subscriber, &forged), INVALID));
    assert!(is(refused(&mut sim, Role::Publisher, &value), INVALID));
    // A goodbye departs at once: expired too.
    sim.close(publisher, 1000);
    assert!(is(
        refused(&mut sim, Role::Publisher, &p.resume.unwrap()),
        EXPIRED
    ));
}

#[test]
fn an_expelled_member_cannot_resume() {
    let mut sim = Sim::new(Config {
        frame_rate: streams_core::Rate::per_second(1, 1),
        flood_close_after: 2,
        ..Config::default()
    });
    let ((publisher, _), (sub, s)) = pair(&mut sim);
    for _ in 0..3 {
        sim.notify(sub, "nobody", json!(1));
    }
    assert_eq!(
        sim.sockets[&sub].server_closed,
        Some((4022, "flooding".into()))
    );
    sim.drain();
    sim.close(sub, 4022);
    assert!(sim.members().1.is_empty());
    assert!(is(
        refused(&mut sim, Role::Subscriber, &s.resume.unwrap()),
        EXPIRED
    ));
    let _ = publisher;
}

#[test]
fn with_resume_off_every_value_is_expired() {
    let mut on = Sim::new(Config::default());
    let (_, (_, s)) = pair(&mut on);
    let mut off = Sim::new(Config {
        resume_grace_ms: 0,
        ..Config::default()
    });
    off.join(Role::Publisher);
    off.drain();
    for value in [s.resume.unwrap(), "garbage".into()] {
        assert!(is(refused(&mut off, Role::Subscriber, &value), EXPIRED));
    }
}
