//! The relay byte budgets: bytes relayed between a subscriber and the publisher are limited in
//! each direction, and so are the bytes relayed in the whole stream in each direction (the
//! publisher's fan-out, the subscribers' fan-in); a `NOTIFY` past either is dropped with
//! `relay-budget` to its sender alone, and a sender that keeps at it is closed (4023) and
//! departs at once, like a flooder (4022).

mod common;

use common::sim::{summary, Received, Sim};
use common::{error_code, event};
use serde_json::{json, Value};
use streams_core::{error_frame, Config, ErrorCode, Rate, Role};

/// 1000 bytes a second, in bursts of 2000.
fn config() -> Config {
    Config {
        relay_budget: Rate::per_second(1000, 2000),
        flood_close_after: 5,
        ..Config::default()
    }
}

/// A `NOTIFY` whose relayed form is exactly `bytes` long.
fn sized(from: &str, to: &str, bytes: usize) -> String {
    let bare = json!({"method": "NOTIFY", "data": "", "from": from})
        .to_string()
        .len();
    let data = "x".repeat(bytes - bare);
    json!({"method": "NOTIFY", "to": to, "data": data}).to_string()
}

fn codes(frames: &[Value]) -> Vec<String> {
    frames.iter().map(error_code).collect()
}

#[test]
fn relays_pass_within_the_budget_and_are_dropped_past_it() {
    let mut sim = Sim::new(config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.text(publisher, &sized(&p.id, &s.id, 1500));
    sim.text(publisher, &sized(&p.id, &s.id, 500));
    assert_eq!(sim.frames(sub).len(), 2, "the burst");
    sim.text(publisher, &sized(&p.id, &s.id, 100));
    assert!(sim.frames(sub).is_empty(), "dropped");
    assert_eq!(codes(&sim.frames(publisher)), ["relay-budget"]);
    // The budget refills at its rate.
    sim.advance(100);
    sim.text(publisher, &sized(&p.id, &s.id, 100));
    assert_eq!(sim.frames(sub).len(), 1);
    sim.assert_quiet();
}

#[test]
fn each_pair_and_each_direction_has_its_own_budget() {
    let mut sim = Sim::new(config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (a, sa) = sim.join(Role::Subscriber);
    let (b, sb) = sim.join(Role::Subscriber);
    sim.drain();
    sim.text(publisher, &sized(&p.id, &sa.id, 2000));
    sim.text(publisher, &sized(&p.id, &sa.id, 10 + 90));
    assert_eq!(codes(&sim.frames(publisher)), ["relay-budget"]);
    // The publisher's budget towards `b` is untouched, and so is `a`'s towards the publisher.
    sim.text(publisher, &sized(&p.id, &sb.id, 2000));
    sim.text(a, &sized(&sa.id, &p.id, 2000));
    assert_eq!(sim.frames(a).len(), 1);
    assert_eq!(sim.frames(b).len(), 1);
    assert_eq!(sim.frames(publisher).len(), 1);
    sim.assert_quiet();
}

#[test]
fn a_sender_that_keeps_at_it_is_closed_and_departs_at_once() {
    let mut sim = Sim::new(config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.text(sub, &sized(&s.id, &p.id, 2000));
    assert_eq!(sim.frames(publisher).len(), 1);
    for _ in 0..4 {
        sim.advance(1);
        sim.text(sub, &sized(&s.id, &p.id, 2000));
    }
    assert_eq!(codes(&sim.frames(sub)), ["relay-budget"; 4]);
    sim.text(sub, &sized(&s.id, &p.id, 2000));
    assert_eq!(
        summary(&sim.take_all(sub)),
        summary(&[
            Received::Frame(error_frame(ErrorCode::RelayBudget, None)),
            Received::Closed(4023, "relay-budget".into()),
        ])
    );
    // Departed at once: no grace, no way back.
    assert_eq!(sim.frames(publisher), vec![event("unsubscribed", &s.id)]);
    assert!(sim.members().1.is_empty() && sim.storage.alarm.is_none());
    sim.close(sub, 4023);
    let back = sim.resume(Role::Subscriber, s.resume.as_deref().unwrap());
    assert_eq!(sim.refusal(back), ("resume-expired".into(), 4031));
    sim.assert_quiet();
}

#[test]
fn a_slow_but_steady_overspender_is_closed_too() {
    // Ten times the budget, one frame every 100 ms: the frame rate is far from its limit, but
    // every relay is dropped, with no pause in between; the sender is closed all the same.
    let mut sim = Sim::new(config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (_, s) = sim.join(Role::Subscriber);
    sim.drain();
    let mut sent = 0;
    while sim.sockets[&publisher].server_closed.is_none() && sent < 100 {
        sim.text(publisher, &sized(&p.id, &s.id, 1000));
        sim.advance(100);
        sent += 1;
    }
    assert_eq!(
        sim.sockets[&publisher].server_closed,
        Some((4023, "relay-budget".into()))
    );
    assert_eq!(sim.members(), (None, vec![s.id.clone()]));
    assert!(sent < 20, "closed after {sent} frames");
}

#[test]
fn a_pause_forgives_earlier_drops() {
    let mut sim = Sim::new(config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    for _ in 0..10 {
        sim.text(publisher, &sized(&p.id, &s.id, 2000));
        for _ in 0..4 {
            sim.text(publisher, &sized(&p.id, &s.id, 2000));
        }
        // Long enough for both the relay budget and the frame bucket to be full again.
        sim.advance(4_000);
    }
    assert_eq!(sim.frames(sub).len(), 10);
    assert_eq!(codes(&sim.frames(publisher)), ["relay-budget"; 40]);
    assert!(sim.sockets[&publisher].server_closed.is_none());
}

#[test]
fn a_zero_budget_turns_the_limit_off() {
    let mut sim = Sim::new(Config {
        relay_budget: Rate::per_second(0, 0),
        relay_stream_budget: Rate::per_second(0, 0),
        ..config()
    });
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    for _ in 0..50 {
        sim.text(publisher, &sized(&p.id, &s.id, 60_000));
    }
    assert_eq!(sim.frames(sub).len(), 50);
    sim.assert_quiet();
}

#[test]
fn relays_to_an_away_member_spend_the_budget_too() {
    let mut sim = Sim::new(config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    sim.cut(sub);
    sim.text(publisher, &sized(&p.id, &s.id, 2000));
    sim.text(publisher, &sized(&p.id, &s.id, 100));
    assert_eq!(codes(&sim.frames(publisher)), ["relay-budget"]);
    assert_eq!(sim.storage.queue(&s.id).len(), 1);
}

#[test]
fn a_flooder_is_closed_and_departs_at_once() {
    let mut sim = Sim::new(Config {
        frame_rate: Rate::per_second(10, 2),
        flood_close_after: 3,
        ..Config::default()
    });
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    for _ in 0..5 {
        sim.notify(publisher, &s.id, json!(1));
    }
    let relay = json!({"method": "NOTIFY", "data": 1, "from": p.id});
    assert_eq!(
        sim.frames(sub),
        vec![relay.clone(), relay, event("unpublished", &p.id)]
    );
    assert_eq!(
        summary(&sim.take_all(publisher)),
        summary(&[
            Received::Frame(error_frame(ErrorCode::RateLimited, None)),
            Received::Frame(error_frame(ErrorCode::RateLimited, None)),
            Received::Frame(error_frame(ErrorCode::Flooding, None)),
            Received::Closed(4022, "flooding".into()),
        ])
    );
    assert_eq!(sim.members(), (None, vec![s.id]));
    assert!(!sim.storage.records.contains_key(&p.id));
    let back = sim.resume(Role::Publisher, p.resume.as_deref().unwrap());
    assert_eq!(sim.refusal(back), ("resume-expired".into(), 4031));
}

/// The pair budget of [`config`], and a stream budget of 1500 bytes a second in bursts of 3000.
fn stream_config() -> Config {
    Config {
        relay_stream_budget: Rate::per_second(1500, 3000),
        ..config()
    }
}

#[test]
fn the_publishers_fan_out_is_bounded_by_the_streams_budget() {
    let mut sim = Sim::new(stream_config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (a, sa) = sim.join(Role::Subscriber);
    let (b, sb) = sim.join(Role::Subscriber);
    sim.drain();
    sim.text(publisher, &sized(&p.id, &sa.id, 2000));
    // Within the pair's budget towards `b`, past the stream's: dropped, and nothing charged.
    sim.text(publisher, &sized(&p.id, &sb.id, 2000));
    assert_eq!(sim.frames(a).len(), 1);
    assert!(sim.frames(b).is_empty());
    assert_eq!(codes(&sim.frames(publisher)), ["relay-budget"]);
    sim.text(publisher, &sized(&p.id, &sb.id, 1000));
    assert_eq!(sim.frames(b).len(), 1);
    // The stream's budget refills at its own rate.
    sim.advance(1000);
    sim.text(publisher, &sized(&p.id, &sb.id, 1000));
    assert_eq!(sim.frames(b).len(), 1);
    sim.assert_quiet();
}

#[test]
fn many_subscribers_share_one_budget_towards_the_publisher() {
    let mut sim = Sim::new(stream_config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (a, sa) = sim.join(Role::Subscriber);
    let (b, sb) = sim.join(Role::Subscriber);
    sim.drain();
    sim.text(a, &sized(&sa.id, &p.id, 2000));
    sim.text(b, &sized(&sb.id, &p.id, 2000));
    assert_eq!(sim.frames(publisher).len(), 1);
    assert_eq!(codes(&sim.frames(b)), ["relay-budget"]);
    assert!(sim.frames(a).is_empty());
    sim.assert_quiet();
}

#[test]
fn a_sender_that_comes_back_gets_no_fresh_stream_budget() {
    // A publisher closed for its relays (or one that leaves) and comes back as a new member
    // finds the stream's budget where it left it: reconnecting buys nothing.
    let mut sim = Sim::new(stream_config());
    let (publisher, p) = sim.join(Role::Publisher);
    let (_, sa) = sim.join(Role::Subscriber);
    let (b, sb) = sim.join(Role::Subscriber);
    sim.drain();
    sim.text(publisher, &sized(&p.id, &sa.id, 2000));
    sim.close(publisher, 1000);
    let (again, p2) = sim.join(Role::Publisher);
    sim.drain();
    // Its pair with `b` has never been used; the stream has 1000 bytes left.
    sim.text(again, &sized(&p2.id, &sb.id, 2000));
    assert_eq!(codes(&sim.frames(again)), ["relay-budget"]);
    assert!(sim.frames(b).is_empty());
    sim.text(again, &sized(&p2.id, &sb.id, 1000));
    assert_eq!(sim.frames(b).len(), 1);
}

#[test]
fn a_stream_budget_alone_still_bounds_the_fan_out() {
    let mut sim = Sim::new(Config {
        relay_budget: Rate::per_second(0, 0),
        ..stream_config()
    });
    let (publisher, p) = sim.join(Role::Publisher);
    let (sub, s) = sim.join(Role::Subscriber);
    sim.drain();
    for _ in 0..3 {
        sim.text(publisher, &sized(&p.id, &s.id, 1000));
    }
    sim.text(publisher, &sized(&p.id, &s.id, 1000));
    assert_eq!(sim.frames(sub).len(), 3);
    assert_eq!(codes(&sim.frames(publisher)), ["relay-budget"]);
}

#[test]
fn signaling_to_many_subscribers_at_once_fits_the_default_budgets() {
    // A publisher that joins a stream with 150 subscribers waiting sends each an offer (6 KB)
    // and ten candidates, as fast as its frame rate allows; then every subscriber answers the
    // same way, all at the same moment: nothing is dropped.
    let mut sim = Sim::new(Config::default());
    let subs: Vec<_> = (0..150).map(|_| sim.join(Role::Subscriber)).collect();
    let (publisher, p) = sim.join(Role::Publisher);
    sim.drain();
    let offer = "o".repeat(6000);
    let candidate = "c".repeat(250);
    for (_, s) in &subs {
        sim.notify(publisher, &s.id, json!({"sdp": offer}));
        for _ in 0..10 {
            sim.notify(publisher, &s.id, json!({"candidate": candidate}));
        }
        // The default frame rate: 100 a second.
        sim.advance(110);
    }
    for (conn, _) in &subs {
        assert_eq!(sim.frames(*conn).len(), 11);
        sim.notify(*conn, &p.id, json!({"sdp": offer}));
        for _ in 0..10 {
            sim.notify(*conn, &p.id, json!({"candidate": candidate}));
        }
    }
    assert_eq!(sim.frames(publisher).len(), 150 * 11);
    sim.assert_quiet();
}
