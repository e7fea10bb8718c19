//! NOTIFY: directed messages with the sender's true id.

mod common;

use common::{error_code, event, Harness};
use serde_json::json;
use streams_core::Role::{Publisher, Subscriber};

fn stream() -> Harness {
    let mut h = Harness::default();
    h.join("p", Publisher);
    h.join("s1", Subscriber);
    h.join("s2", Subscriber);
    h.take("p");
    h.take("s1");
    h.take("s2");
    h
}

#[test]
fn publisher_to_subscriber_drops_to_and_injects_from() {
    let mut h = stream();
    h.send_json(
        "p",
        json!({"method": "NOTIFY", "to": "s1", "data": {"type": "offer", "sdp": "v=0"}}),
    );
    assert_eq!(
        h.take("s1"),
        vec![json!({"method": "NOTIFY", "from": "p", "data": {"type": "offer", "sdp": "v=0"}})]
    );
    h.assert_all_quiet();
}

#[test]
fn subscriber_to_publisher() {
    let mut h = stream();
    h.send_json(
        "s2",
        json!({"method": "NOTIFY", "to": "p", "data": {"candidate": "c"}}),
    );
    assert_eq!(
        h.take("p"),
        vec![json!({"method": "NOTIFY", "from": "s2", "data": {"candidate": "c"}})]
    );
    h.assert_all_quiet();
}

#[test]
fn a_spoofed_from_is_overwritten_and_other_fields_pass() {
    let mut h = stream();
    h.send_json(
        "s1",
        json!({"method": "NOTIFY", "to": "p", "from": "s2", "data": 5, "extra": [1, 2]}),
    );
    assert_eq!(
        h.take("p"),
        vec![json!({"method": "NOTIFY", "from": "s1", "data": 5, "extra": [1, 2]})]
    );
}

#[test]
fn numeric_to_is_read_as_its_decimal_string() {
    let mut h = Harness::default();
    h.join("7", Publisher);
    h.join("12", Subscriber);
    h.take("7");
    h.take("12");
    h.send_json("7", json!({"method": "NOTIFY", "to": 12, "data": "x"}));
    assert_eq!(
        h.take("12"),
        vec![json!({"method": "NOTIFY", "from": "7", "data": "x"})]
    );
}

#[test]
fn unknown_target_of_the_publisher_gets_unsubscribed() {
    let mut h = stream();
    h.send_json("p", json!({"method": "NOTIFY", "to": "gone", "data": 1}));
    assert_eq!(h.take("p"), vec![event("unsubscribed", "gone")]);
    h.send_json("p", json!({"method": "NOTIFY", "to": 42, "data": 1}));
    assert_eq!(h.take("p"), vec![event("unsubscribed", "42")]);
    h.assert_all_quiet();
}

#[test]
fn unknown_target_of_a_subscriber_gets_unpublished() {
    let mut h = stream();
    h.send_json(
        "s1",
        json!({"method": "NOTIFY", "to": "old-publisher", "data": 1}),
    );
    assert_eq!(h.take("s1"), vec![event("unpublished", "old-publisher")]);
    h.assert_all_quiet();
}

#[test]
fn a_subscriber_cannot_reach_another_subscriber() {
    let mut h = stream();
    h.send_json(
        "s1",
        json!({"method": "NOTIFY", "to": "s2", "data": "psst"}),
    );
    // Treated as unknown: s2 hears nothing, and s1 learns nothing about s2 existing.
    assert_eq!(h.take("s1"), vec![event("unpublished", "s2")]);
    h.assert_all_quiet();
}

#[test]
fn a_message_to_a_departed_peer_reaches_nobody() {
    let mut h = stream();
    h.leave("s1");
    h.take("p");
    h.send_json("p", json!({"method": "NOTIFY", "to": "s1", "data": 1}));
    assert_eq!(h.take("p"), vec![event("unsubscribed", "s1")]);
    h.assert_all_quiet();
}

#[test]
fn notify_to_self_is_an_error() {
    let mut h = stream();
    h.send_json(
        "p",
        json!({"method": "NOTIFY", "to": "p", "data": 1, "msg_id": 3}),
    );
    let got = h.take("p");
    assert_eq!(got.len(), 1);
    assert_eq!(error_code(&got[0]), "notify-self");
    assert_eq!(got[0]["msg_id"], 3);
    h.send_json("s1", json!({"method": "NOTIFY", "to": "s1", "data": 1}));
    assert_eq!(error_code(&h.take("s1")[0]), "notify-self");
    h.assert_all_quiet();
}

#[test]
fn a_stranger_cannot_send() {
    let mut h = stream();
    h.send_json(
        "intruder",
        json!({"method": "NOTIFY", "to": "p", "data": 1}),
    );
    h.assert_all_quiet();
}

#[test]
fn relayed_values_pass_through_byte_for_byte_with_odd_keys_and_escapes() {
    let mut h = stream();
    let text = r#"{"method":"NOTIFY","to":"s1","from":"spoof","k\"ey":[1,{"x":null}],"data":{"sdp":"v=0\r\n\"q\" \u00e9","n":1.5e3}}"#;
    h.send("p", text);
    let got = h.take("s1");
    assert_eq!(
        got,
        vec![
            json!({"method": "NOTIFY", "from": "p", "k\"ey": [1, {"x": null}],
                    "data": {"sdp": "v=0\r\n\"q\" \u{e9}", "n": 1.5e3}})
        ]
    );
}
