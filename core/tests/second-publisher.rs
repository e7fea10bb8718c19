//! At most one publisher: a second is refused and changes nothing.

mod common;

use common::{error_code, Harness};
use serde_json::json;
use streams_core::ErrorCode;
use streams_core::Role::{Publisher, Subscriber};

#[test]
fn a_second_publisher_is_refused_without_any_effect() {
    let mut h = Harness::default();
    h.join("p1", Publisher);
    h.join("s1", Subscriber);
    h.take("p1");
    h.take("s1");

    let refusal = h.try_join("p2", Publisher).unwrap_err();
    assert_eq!(refusal.code(), ErrorCode::PublisherExists);
    assert_eq!(refusal.close_code(), 4001);
    assert_eq!(refusal.close_reason(), "publisher-exists");
    let frame: serde_json::Value = serde_json::from_str(&refusal.frame()).unwrap();
    assert_eq!(error_code(&frame), "publisher-exists");

    h.assert_all_quiet();
    assert_eq!(h.stream.publisher().map(|p| p.as_str()), Some("p1"));
    assert_eq!(h.stream.len(), 2);

    // The first publisher still relays.
    h.send_json("p1", json!({"method": "NOTIFY", "to": "s1", "data": 1}));
    assert_eq!(h.take("s1").len(), 1);
}

#[test]
fn the_same_id_cannot_join_twice() {
    let mut h = Harness::default();
    h.join("a", Subscriber);
    assert_eq!(
        h.try_join("a", Subscriber).unwrap_err().code(),
        ErrorCode::Internal
    );
    assert_eq!(
        h.try_join("a", Publisher).unwrap_err().code(),
        ErrorCode::Internal
    );
    h.assert_all_quiet();
}
