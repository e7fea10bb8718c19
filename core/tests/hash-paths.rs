//! rtclite's hash paths: publish on the name, subscribe on its hash.
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

use streams_core::{resolve, ErrorCode, Mode, MAX_PATH_BYTES};

// Digests computed independently with `printf %s /streams/1234 | sha1sum` (and sha256sum).
const SHA1: &str = "04e5383618cc0f1dd6a5a433ba49396eccd080b4";
const SHA256: &str = "5d92fc617414ac097bff0100e2cff9867550172aaa4da3ac2bc870d3dde89c60";

fn key(path: &str, mode: Mode) -> String {
    resolve(path, mode).unwrap().as_str().to_owned()
}

fn refusal(path: &str, mode: Mode) -> ErrorCode {
    resolve(path, mode).unwrap_err().code()
}

#[test]
fn plain_paths_are_their_own_key() {
    assert_eq!(key("/streams/1234", Mode::Publish), "/streams/1234");
    assert_eq!(key("/streams/1234", Mode::Subscribe), "/streams/1234");
}

#[test]
fn publisher_and_subscriber_meet_on_the_sha1_key() {
    let published = key("/sha1/streams/1234", Mode::Publish);
    assert_eq!(published, format!("/sha1/{SHA1}"));
    assert_eq!(key(&format!("/sha1/{SHA1}"), Mode::Subscribe), published);
    assert_eq!(
        key(
            &format!("/sha1/{}", SHA1.to_ascii_uppercase()),
            Mode::Subscribe
        ),
        published
    );
}

#[test]
fn publisher_and_subscriber_meet_on_the_sha256_key() {
    let published = key("/sha256/streams/1234", Mode::Publish);
    assert_eq!(published, format!("/sha256/{SHA256}"));
    assert_eq!(
        key(&format!("/sha256/{SHA256}"), Mode::Subscribe),
        published
    );
}

#[test]
fn knowing_the_hash_does_not_let_anyone_publish() {
    assert_eq!(
        refusal(&format!("/sha1/{SHA1}"), Mode::Publish),
        ErrorCode::HashPathPublish
    );
    assert_eq!(
        refusal(&format!("/sha256/{SHA256}"), Mode::Publish),
        ErrorCode::HashPathPublish
    );
    assert_eq!(ErrorCode::HashPathPublish.close_code(), 4002);
}

#[test]
fn malformed_hash_paths_are_refused() {
    for path in [
        "/sha1/not-a-hash",
        "/sha1/streams/1234",
        &format!("/sha1/{}", &SHA1[..39]),
        &format!("/sha1/{SHA1}0"),
        &format!("/sha256/{SHA1}"),
        "/sha1/",
    ] {
        assert_eq!(
            refusal(path, Mode::Subscribe),
            ErrorCode::InvalidPath,
            "{path}"
        );
    }
    assert_eq!(refusal("/sha1/", Mode::Publish), ErrorCode::InvalidPath);
}

#[test]
fn invalid_paths_are_refused() {
    let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
    for path in ["", "/", "no-slash", "/with space", "/tab\t", "/caf\u{e9}"] {
        for mode in [Mode::Publish, Mode::Subscribe] {
            assert_eq!(refusal(path, mode), ErrorCode::InvalidPath, "{path:?}");
        }
    }
    for mode in [Mode::Publish, Mode::Subscribe] {
        assert_eq!(refusal(&long, mode), ErrorCode::PathTooLong);
    }
    let longest_allowed = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
    assert!(resolve(&longest_allowed, Mode::Publish).is_ok());
    assert_eq!(ErrorCode::InvalidPath.close_code(), 4003);
}

#[test]
fn mode_is_publish_or_subscribe() {
    assert_eq!(Mode::parse(Some("publish")), Ok(Mode::Publish));
    assert_eq!(Mode::parse(Some("subscribe")), Ok(Mode::Subscribe));
    for bad in [None, Some(""), Some("PUBLISH"), Some("sub")] {
        assert_eq!(Mode::parse(bad), Err(ErrorCode::InvalidMode));
    }
}
