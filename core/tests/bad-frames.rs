//! Every frame error: answered to the sender only, and nothing else changes.
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

mod common;

use common::{error_code, Harness};
use serde_json::json;
use streams_core::Role::{Publisher, Subscriber};
use streams_core::{Config, Effect, PeerId, Stream, DEFAULT_MAX_FRAME_BYTES};

fn stream() -> Harness {
    let mut h = Harness::default();
    h.join("p", Publisher);
    h.join("s", Subscriber);
    h.take("p");
    h.take("s");
    h
}

/// Sends `text` from the subscriber and returns the error code it got back, checking that the
/// stream is untouched and still relays.
fn reject(h: &mut Harness, text: &str) -> (String, serde_json::Value) {
    h.send("s", text);
    let got = h.take("s");
    assert_eq!(got.len(), 1, "{text}: {got:?}");
    h.assert_all_quiet();
    assert_eq!(h.stream.len(), 2);
    h.send_json(
        "s",
        json!({"method": "NOTIFY", "to": "p", "data": "still works"}),
    );
    assert_eq!(h.take("p").len(), 1);
    (error_code(&got[0]), got[0].clone())
}

#[test]
fn each_bad_frame_gets_its_code() {
    let mut h = stream();
    let cases = [
        ("{not json", "invalid-json"),
        ("", "invalid-json"),
        ("[1,2]", "not-an-object"),
        ("\"NOTIFY\"", "not-an-object"),
        ("null", "not-an-object"),
        (r#"{"to":"p"}"#, "unknown-method"),
        (r#"{"method":"PUBLISH"}"#, "unknown-method"),
        (r#"{"method":5}"#, "unknown-method"),
        (r#"{"method":"NOTIFY","data":1}"#, "missing-field"),
        (r#"{"method":"NOTIFY","to":null}"#, "missing-field"),
        (r#"{"method":"NOTIFY","to":{"id":"p"}}"#, "invalid-field"),
        (r#"{"method":"NOTIFY","to":1.5}"#, "invalid-field"),
        (r#"{"method":"NOTIFY","to":true}"#, "invalid-field"),
        (r#"{"method":"GET"}"#, "missing-field"),
        (r#"{"method":"GET","resource":7}"#, "invalid-field"),
        (
            r#"{"method":"GET","resource":"/secrets"}"#,
            "unknown-resource",
        ),
    ];
    for (text, code) in cases {
        assert_eq!(reject(&mut h, text).0, code, "{text}");
    }
}

#[test]
fn msg_id_is_echoed_when_present() {
    let mut h = stream();
    let (code, frame) = reject(&mut h, r#"{"method":"NOPE","msg_id":9}"#);
    assert_eq!(code, "unknown-method");
    assert_eq!(frame["msg_id"], 9);
    let (_, frame) = reject(&mut h, r#"{"method":"GET","resource":"/x","msg_id":"abc"}"#);
    assert_eq!(frame["msg_id"], "abc");
    let (_, frame) = reject(&mut h, r#"{"method":"NOPE"}"#);
    assert!(frame.get("msg_id").is_none());
}

#[test]
fn binary_frames_are_refused() {
    let mut h = stream();
    h.send_binary("s");
    let got = h.take("s");
    assert_eq!(error_code(&got[0]), "binary-frame");
    h.assert_all_quiet();
}

#[test]
fn oversize_frames_are_refused_before_parsing() {
    let mut h = stream();
    let big = json!({"method": "NOTIFY", "to": "p", "data": "x".repeat(DEFAULT_MAX_FRAME_BYTES)});
    assert_eq!(reject(&mut h, &big.to_string()).0, "frame-too-large");

    let mut small = Harness::new(Config {
        max_frame_bytes: 64,
        ..Config::default()
    });
    small.join("p", Publisher);
    small.join("s", Subscriber);
    small.take("p");
    small.take("s");
    let frame = json!({"method": "NOTIFY", "to": "p", "data": "x".repeat(64)}).to_string();
    small.send("s", &frame);
    assert_eq!(error_code(&small.take("s")[0]), "frame-too-large");
    small.assert_all_quiet();
}

#[test]
fn the_reason_is_code_colon_sentence() {
    let mut h = stream();
    h.send("s", "nope");
    let frame = &h.take("s")[0];
    assert_eq!(frame["reason"], "invalid-json: the frame is not valid JSON");
    assert_eq!(
        frame.as_object().unwrap().len(),
        2,
        "only code and reason: {frame}"
    );
}

#[test]
fn a_msg_id_that_does_not_decode_is_echoed_as_written() {
    // Straight on the core: the harness decodes what it receives, and these do not decode.
    let mut stream = Stream::new(Config::default());
    let s = PeerId::from("s");
    stream.join(s.clone(), Subscriber).unwrap();
    for id in [
        "1e400",
        "123456789012345678901234567890",
        r#""\ud800""#,
        "-0",
    ] {
        for text in [
            format!(r#"{{"method":"NOPE","msg_id":{id}}}"#),
            format!(r#"{{"method":"GET","resource":"/x","msg_id":{id}}}"#),
        ] {
            let effects = stream.receive_text(&s, &text);
            let [Effect::Send { to, text: answer }] = effects.as_slice() else {
                panic!("{text}: {effects:?}");
            };
            assert_eq!(to, &s);
            assert!(
                answer.starts_with(&format!(r#"{{"msg_id":{id},"code":"failed""#)),
                "{text}: {answer}"
            );
        }
    }
}
