//! GET /peerconnection: the ICE configuration request.

mod common;

use common::Harness;
use serde_json::json;
use streams_core::Role::Subscriber;
use streams_core::{peerconnection_frame, MsgId};

#[test]
fn get_peerconnection_is_answered_to_the_sender_with_msg_id() {
    let mut h = Harness::default();
    h.join("s", Subscriber);
    h.take("s");
    h.send_json(
        "s",
        json!({"method": "GET", "resource": "/peerconnection", "msg_id": 7}),
    );
    let got = h.take_all("s");
    assert_eq!(got.len(), 1, "{got:?}");
    h.assert_all_quiet();
    common::assert_peerconnection_answer(&got[0], Some(json!(7)));
}

#[test]
fn the_answer_frame_has_rtclite_shape_and_ttl_when_credentials_expire() {
    let ice = r#"[{"urls":"stun:x"}]"#;
    let fixed: serde_json::Value = serde_json::from_str(&peerconnection_frame(
        Some(&MsgId::from(&json!(7))),
        ice,
        None,
    ))
    .unwrap();
    assert_eq!(
        fixed,
        json!({"msg_id": 7, "code": "success",
               "result": {"configuration": {"iceServers": [{"urls": "stun:x"}]}}})
    );
    let minted: serde_json::Value =
        serde_json::from_str(&peerconnection_frame(None, ice, Some(600))).unwrap();
    assert_eq!(
        minted,
        json!({"code": "success",
               "result": {"configuration": {"iceServers": [{"urls": "stun:x"}]}, "ttl": 600}})
    );
}
