//! Leaving, in every order, announced exactly once.

mod common;

use common::{event, Harness};
use streams_core::Role::{Publisher, Subscriber};

#[test]
fn subscriber_leaving_is_announced_to_the_publisher_only() {
    let mut h = Harness::default();
    h.join("p", Publisher);
    h.join("s1", Subscriber);
    h.join("s2", Subscriber);
    h.take("p");
    h.leave("s1");
    assert_eq!(h.take("p"), vec![event("unsubscribed", "s1")]);
    h.assert_all_quiet();
}

#[test]
fn publisher_leaving_is_announced_to_every_subscriber() {
    let mut h = Harness::default();
    h.join("s1", Subscriber);
    h.join("s2", Subscriber);
    h.join("p", Publisher);
    h.take("s1");
    h.take("s2");
    h.leave("p");
    assert_eq!(h.take("s1"), vec![event("unpublished", "p")]);
    assert_eq!(h.take("s2"), vec![event("unpublished", "p")]);
    h.assert_all_quiet();
    assert!(h.stream.publisher().is_none());
}

#[test]
fn leaving_twice_announces_once() {
    let mut h = Harness::default();
    h.join("p", Publisher);
    h.join("s1", Subscriber);
    h.take("p");
    h.leave("s1");
    h.leave("s1");
    assert_eq!(h.take("p"), vec![event("unsubscribed", "s1")]);
    h.leave("p");
    h.leave("p");
    h.assert_all_quiet();
}

#[test]
fn a_stranger_leaving_changes_nothing() {
    let mut h = Harness::default();
    h.join("p", Publisher);
    h.join("s1", Subscriber);
    h.take("p");
    h.leave("nobody");
    h.assert_all_quiet();
    assert_eq!(h.stream.len(), 2);
}

#[test]
fn subscribers_without_a_publisher_leave_silently() {
    let mut h = Harness::default();
    h.join("s1", Subscriber);
    h.join("s2", Subscriber);
    h.leave("s1");
    h.assert_all_quiet();
}

#[test]
fn a_new_publisher_after_the_first_left_is_announced_again() {
    let mut h = Harness::default();
    h.join("s1", Subscriber);
    h.join("p1", Publisher);
    h.leave("p1");
    h.take("s1");
    let got = h.join("p2", Publisher);
    assert_eq!(got, vec![event("created", "p2"), event("subscribed", "s1")]);
    assert_eq!(h.take("s1"), vec![event("published", "p2")]);
}
