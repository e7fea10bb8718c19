//! Who hears about whom, whichever side arrives first.

mod common;

use common::{event, Harness};
use streams_core::Role::{Publisher, Subscriber};

#[test]
fn created_is_the_first_frame_for_everyone() {
    let mut h = Harness::default();
    assert_eq!(h.join("s1", Subscriber), vec![event("created", "s1")]);
    let got = h.join("p", Publisher);
    assert_eq!(got[0], event("created", "p"));
    let got = h.join("s2", Subscriber);
    assert_eq!(got[0], event("created", "s2"));
}

#[test]
fn subscribers_first_then_publisher() {
    let mut h = Harness::default();
    h.join("s1", Subscriber);
    h.join("s2", Subscriber);
    // Subscribers never hear of each other.
    h.assert_all_quiet();

    let got = h.join("p", Publisher);
    assert_eq!(
        got,
        vec![
            event("created", "p"),
            event("subscribed", "s1"),
            event("subscribed", "s2")
        ]
    );
    assert_eq!(h.take("s1"), vec![event("published", "p")]);
    assert_eq!(h.take("s2"), vec![event("published", "p")]);
    h.assert_all_quiet();
}

#[test]
fn publisher_first_then_subscribers() {
    let mut h = Harness::default();
    assert_eq!(h.join("p", Publisher), vec![event("created", "p")]);
    let got = h.join("s1", Subscriber);
    assert_eq!(got, vec![event("created", "s1"), event("published", "p")]);
    assert_eq!(h.take("p"), vec![event("subscribed", "s1")]);
    let got = h.join("s2", Subscriber);
    assert_eq!(got, vec![event("created", "s2"), event("published", "p")]);
    assert_eq!(h.take("p"), vec![event("subscribed", "s2")]);
    // s1 is not told about s2.
    h.assert_all_quiet();
}

#[test]
fn a_newcomer_is_never_announced_to_itself() {
    let mut h = Harness::default();
    h.join("s1", Subscriber);
    let got = h.join("p", Publisher);
    assert!(!got.contains(&event("subscribed", "p")));
    assert!(!got.contains(&event("published", "p")));
    let got = h.join("s2", Subscriber);
    assert!(!got.contains(&event("subscribed", "s2")));
}
