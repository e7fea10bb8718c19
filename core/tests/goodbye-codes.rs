//! How a close ends a membership: a close frame, whatever its code, is a goodbye (the member
//! departs at once); a connection lost without one (the runtime reports 1006 or 1015) or a
//! socket error is a drop (the member is away for the grace period). Every close is echoed.

mod common;

use common::event;
use common::sim::{Received, Sim};
use serde_json::json;
use streams_core::{Config, Role};

const GRACE: u64 = 20_000;

#[test]
fn a_close_frame_departs_at_once_whatever_its_code() {
    for code in [1000, 1001, 1005, 1011, 3000, 4000, 4999] {
        let mut sim = Sim::new(Config::default());
        let (publisher, _) = sim.join(Role::Publisher);
        let (sub, s) = sim.join(Role::Subscriber);
        sim.drain();
        sim.close(sub, code);
        assert_eq!(
            sim.frames(publisher),
            vec![event("unsubscribed", &s.id)],
            "{code}"
        );
        assert_eq!(sim.members().1, Vec::<String>::new());
        assert!(!sim.storage.records.contains_key(&s.id), "{code}");
        assert_eq!(sim.storage.alarm, None, "nobody is away: no alarm");
        let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
        assert_eq!(sim.refusal(back), ("resume-expired".into(), 4031));
        sim.assert_quiet();
    }
}

#[test]
fn a_connection_lost_without_a_close_frame_or_a_failure_is_a_drop() {
    for code in [Some(1006), Some(1015), None] {
        let mut sim = Sim::new(Config::default());
        let (publisher, _) = sim.join(Role::Publisher);
        let (sub, s) = sim.join(Role::Subscriber);
        sim.drain();
        let at = sim.now;
        sim.try_closed(sub, code).unwrap();
        assert_eq!(
            sim.members().1,
            vec![s.id.clone()],
            "{code:?}: still a member"
        );
        assert!(sim.is_away(&s.id));
        assert_eq!(sim.storage.records[&s.id].away_since, Some(at));
        assert_eq!(sim.storage.alarm, Some(at + GRACE));
        sim.assert_quiet();
        // It is announced only when the grace period is over.
        sim.advance(GRACE);
        assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
    }
}

#[test]
fn the_answer_to_a_heartbeat_hang_up_is_no_goodbye() {
    // The engine closed a silent member's socket (4033); the client's close frame that answers
    // it does not end the member's wait: it may still resume.
    let mut sim = Sim::new(Config::default());
    let (publisher, _) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.ping(sub);
    sim.advance(31_000);
    sim.text(publisher, r#"{"method":"GET","resource":"/nothing"}"#);
    assert_eq!(
        sim.sockets[&sub].server_closed,
        Some((4033, "heartbeat-timeout".into()))
    );
    sim.close(sub, 4033);
    assert!(sim.is_away(&s.id));
    sim.drain();
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(sim.created(back).id, s.id);
    sim.assert_quiet();
}

#[test]
fn every_close_is_echoed_with_a_code_an_endpoint_may_send() {
    let cases = [
        (Some(1000), 1000, "bye"),
        (Some(1001), 1001, "bye"),
        (Some(4000), 4000, "bye"),
        (Some(3999), 3999, "bye"),
        // Only reported locally, never sent: the echo is a plain 1000.
        (Some(1005), 1000, "bye"),
        (Some(1006), 1000, "bye"),
        (Some(1015), 1000, "bye"),
        (Some(999), 1000, "bye"),
        (Some(5000), 1000, "bye"),
        (None, 1011, "internal"),
    ];
    for (code, echo, reason) in cases {
        let mut sim = Sim::new(Config::default());
        let (sub, _) = sim.join(Role::Subscriber);
        sim.begin_close(sub);
        let out = sim.engine.handle(
            sim.now,
            streams_core::Input::Closed {
                conn: sub,
                code,
                reason: "bye",
            },
            &NoSockets,
        );
        let close = out.iter().find_map(|o| match o {
            streams_core::Output::Close { conn, code, reason } if *conn == sub => {
                Some((*code, reason.clone()))
            }
            _ => None,
        });
        assert_eq!(close, Some((echo, reason.to_owned())), "{code:?}");
    }
}

struct NoSockets;

impl streams_core::Sockets for NoSockets {
    fn last_ping(&self, _: streams_core::ConnId) -> Option<u64> {
        None
    }
    fn is_open(&self, _: streams_core::ConnId) -> bool {
        false
    }
}

#[test]
fn the_close_of_a_socket_that_carries_no_member_changes_nothing() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let second = sim.connect(Role::Publisher);
    sim.refusal(second);
    sim.close(second, 1000);
    assert_eq!(sim.last.len(), 1, "only the echo: {:?}", sim.last);
    assert_eq!(sim.member(publisher), Some(p.id));
    sim.assert_quiet();
}

#[test]
fn a_goodbye_still_departs_when_the_close_was_seen_pending() {
    // The subscriber's close is on its way when a publisher arrives: the engine sees its
    // socket closing and treats it as dropped (away). When the close arrives it is a
    // goodbye, so the subscriber departs then, not at the end of the grace period.
    for evicted in [false, true] {
        let mut sim = Sim::new(Config::default());
        let (sub, s) = sim.join(Role::Subscriber);
        sim.begin_close(sub);
        if evicted {
            sim.evict();
        }
        let (publisher, _) = sim.join(Role::Publisher);
        assert_eq!(sim.frames(publisher), vec![event("subscribed", &s.id)]);
        assert!(sim.is_away(&s.id));
        sim.close(sub, 1000);
        assert_eq!(
            sim.frames(publisher),
            vec![event("unsubscribed", &s.id)],
            "evicted: {evicted}"
        );
        assert!(sim.members().1.is_empty());
        assert!(sim.storage.records.len() == 1 && sim.storage.alarm.is_none());
        sim.advance(GRACE);
        sim.assert_quiet();
    }
}

#[test]
fn a_drop_after_resume_is_a_drop_again_and_a_goodbye_after_resume_departs() {
    let mut sim = Sim::new(Config::default());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(sub);
    let sub = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    let again = sim.created(sub);
    sim.cut(sub);
    let sub = sim.resume(Role::Subscriber, again.resume.as_deref().unwrap());
    sim.created(sub);
    sim.notify(publisher, &s.id, json!("hi"));
    assert_eq!(
        sim.frames(sub),
        vec![json!({"method": "NOTIFY", "data": "hi", "from": p.id})]
    );
    sim.close(sub, 1001);
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
    assert!(matches!(
        sim.take_all(sub).as_slice(),
        [] | [Received::Closed(..)]
    ));
    sim.assert_quiet();
}

#[test]
fn the_answer_to_a_heartbeat_hang_up_is_no_goodbye_after_a_rebuild_either() {
    for restart in [false, true] {
        let mut sim = Sim::new(Config::default());
        let (publisher, _) = sim.join(Role::Publisher);
        let (sub, s) = sim.join(Role::Subscriber);
        sim.drain();
        sim.ping(sub);
        sim.advance(31_000);
        sim.text(publisher, r#"{"method":"GET","resource":"/nothing"}"#);
        assert!(sim.is_away(&s.id));
        // The object sleeps before the client's answer to the hang-up arrives.
        sim.evict();
        sim.close(sub, 4033);
        assert!(sim.is_away(&s.id), "the answer ended the wait");
        if restart {
            sim.restart();
        }
        sim.drain();
        let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
        assert_eq!(sim.created(back).id, s.id);
    }
}
