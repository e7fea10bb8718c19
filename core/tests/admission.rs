//! Which requests reach a stream, and how the others are refused.

use streams_core::{admit, ErrorCode, Rejection, Request, Role};

fn req<'a>(method: &'a str, upgrade: bool, path: &'a str, mode: Option<&'a str>) -> Request<'a> {
    Request {
        method,
        upgrade,
        path,
        mode,
    }
}

#[test]
fn websocket_gets_with_a_mode_are_admitted() {
    let ok = admit(&req("GET", true, "/streams/1", Some("publish"))).unwrap();
    assert_eq!(ok.key.as_str(), "/streams/1");
    assert_eq!(ok.role, Role::Publisher);
    let ok = admit(&req("GET", true, "/streams/1", Some("subscribe"))).unwrap();
    assert_eq!(ok.role, Role::Subscriber);
}

#[test]
fn http_refusals_have_their_status() {
    let cases = [
        (
            req("POST", true, "/s", Some("publish")),
            ErrorCode::MethodNotAllowed,
            405,
        ),
        (
            req("GET", false, "/s", Some("publish")),
            ErrorCode::UpgradeRequired,
            426,
        ),
        (
            req("GET", false, "/s", None),
            ErrorCode::UpgradeRequired,
            426,
        ),
        (req("GET", true, "/s", None), ErrorCode::InvalidMode, 400),
        (
            req("GET", true, "/s", Some("watch")),
            ErrorCode::InvalidMode,
            400,
        ),
    ];
    for (request, code, status) in cases {
        assert_eq!(admit(&request), Err(Rejection::Http(code)), "{request:?}");
        assert_eq!(code.http_status(), status);
    }
}

#[test]
fn path_refusals_go_over_the_socket() {
    let hash = "/sha1/04e5383618cc0f1dd6a5a433ba49396eccd080b4";
    match admit(&req("GET", true, hash, Some("publish"))) {
        Err(Rejection::Socket(r)) => assert_eq!(r.code(), ErrorCode::HashPathPublish),
        other => panic!("{other:?}"),
    }
    match admit(&req("GET", true, "/bad path", Some("subscribe"))) {
        Err(Rejection::Socket(r)) => assert_eq!(r.code(), ErrorCode::InvalidPath),
        other => panic!("{other:?}"),
    }
}
