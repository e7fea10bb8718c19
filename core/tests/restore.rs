//! Rebuilding a stream after its Durable Object was evicted from memory.

mod common;

use common::{event, Harness};
use serde_json::json;
use streams_core::Role::{Publisher, Subscriber};
use streams_core::{Config, PeerId, Stream};

#[test]
fn restore_announces_nothing_and_keeps_every_role() {
    let h = Harness::restore(
        Config::default(),
        &[("s1", Subscriber), ("p", Publisher), ("s2", Subscriber)],
    );
    h.assert_all_quiet();
    assert_eq!(h.stream.publisher().map(|p| p.as_str()), Some("p"));
    let subs: Vec<&str> = h.stream.subscribers().map(|s| s.as_str()).collect();
    assert_eq!(subs, ["s1", "s2"]);
}

#[test]
fn a_restored_stream_relays_and_announces_as_before() {
    let mut h = Harness::restore(Config::default(), &[("p", Publisher), ("s1", Subscriber)]);
    h.send_json("s1", json!({"method": "NOTIFY", "to": "p", "data": 1}));
    assert_eq!(
        h.take("p"),
        vec![json!({"method": "NOTIFY", "from": "s1", "data": 1})]
    );
    let got = h.join("s2", Subscriber);
    assert_eq!(got, vec![event("created", "s2"), event("published", "p")]);
    assert_eq!(h.take("p"), vec![event("subscribed", "s2")]);
    h.leave("s1");
    assert_eq!(h.take("p"), vec![event("unsubscribed", "s1")]);
    h.leave("p");
    assert_eq!(h.take("s2"), vec![event("unpublished", "p")]);
    h.assert_all_quiet();
}

#[test]
fn a_restored_publisher_still_blocks_a_second_one() {
    let mut h = Harness::restore(Config::default(), &[("p", Publisher)]);
    assert!(h.try_join("p2", Publisher).is_err());
}

#[test]
fn duplicate_publishers_in_restore_input_are_returned_for_closing() {
    let (stream, rejected) = Stream::restore(
        Config::default(),
        [
            (PeerId::from("p1"), Publisher),
            (PeerId::from("s"), Subscriber),
            (PeerId::from("p2"), Publisher),
            (PeerId::from("s"), Subscriber),
        ],
    );
    assert_eq!(stream.publisher().map(|p| p.as_str()), Some("p1"));
    assert_eq!(rejected, vec![PeerId::from("p2")]);
    assert_eq!(stream.len(), 2);
}
