//! The server's path rules against the cases the page's `normalizePath` is tested with
//! (`tests/fixtures/stream-paths.json`, also read by `tests/client/paths.test.mjs`): every path
//! the page sends is one the server accepts, and everything the page refuses the server refuses
//! with the same code, except the cases marked `coreStillAccepts` (the page is stricter there).
//! Reserved first segments (`/api/`, asset folders) are listed in the fixture too.
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

use serde_json::Value;
use streams_core::{is_reserved, resolve_within, ErrorCode, Mode, RESERVED_SEGMENTS};

const FIXTURE: &str = include_str!("../../tests/fixtures/stream-paths.json");
/// The page's default limit: the largest `MAX_PATH_BYTES` a deployment can set.
const DEFAULT_MAX_BYTES: usize = 2048;

struct Case {
    input: String,
    path: Option<String>,
    refused: Option<String>,
    max_bytes: usize,
    core_still_accepts: bool,
}

fn cases() -> Vec<Case> {
    let doc: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    let text = |case: &Value, key: &str| case.get(key).and_then(Value::as_str).map(str::to_owned);
    doc["cases"]
        .as_array()
        .expect("cases is a list")
        .iter()
        .map(|case| Case {
            input: text(case, "input").expect("every case has an input"),
            path: text(case, "path"),
            refused: text(case, "refused"),
            max_bytes: case
                .get("maxBytes")
                .and_then(Value::as_u64)
                .map_or(DEFAULT_MAX_BYTES, |n| usize::try_from(n).unwrap()),
            core_still_accepts: case.get("coreStillAccepts") == Some(&Value::Bool(true)),
        })
        .collect()
}

/// The server's verdict on a path, whatever the mode: hash paths are valid for one mode only,
/// and that is not a question of the path's shape. Reserved paths come first, as in admission.
fn verdict(path: &str, max_bytes: usize) -> Result<(), &'static str> {
    if is_reserved(path) {
        return Err(ErrorCode::NotFound.code());
    }
    let publish = resolve_within(path, Mode::Publish, max_bytes);
    let subscribe = resolve_within(path, Mode::Subscribe, max_bytes);
    match (publish, subscribe) {
        (Ok(_), _) | (_, Ok(_)) => Ok(()),
        (Err(p), Err(s)) => {
            assert_eq!(p, s, "{path:?}: the modes disagree on why");
            Err(p.code().code())
        }
    }
}

#[test]
fn the_fixture_covers_both_outcomes() {
    let cases = cases();
    assert!(cases.len() > 50);
    assert!(cases.iter().any(|c| c.path.is_some()));
    assert!(cases.iter().any(|c| c.refused.is_some()));
    for case in &cases {
        assert!(
            case.path.is_some() != case.refused.is_some(),
            "{:?}: give path or refused",
            case.input
        );
    }
}

#[test]
fn every_path_the_page_sends_is_accepted() {
    for case in cases() {
        if let Some(path) = &case.path {
            assert_eq!(verdict(path, case.max_bytes), Ok(()), "{:?}", case.input);
        }
    }
}

#[test]
fn what_the_page_refuses_the_server_refuses_with_the_same_code() {
    for case in cases() {
        let Some(code) = &case.refused else { continue };
        if case.core_still_accepts {
            continue;
        }
        assert_eq!(
            verdict(&case.input, case.max_bytes),
            Err(code.as_str()),
            "{:?}",
            case.input
        );
    }
}

/// A ratchet, not a wish: once the core refuses `//` and `\` too, this fails and the
/// `coreStillAccepts` marks come out of the fixture, so the two rule sets stay provably equal.
#[test]
fn the_page_is_stricter_only_where_marked() {
    for case in cases().iter().filter(|c| c.core_still_accepts) {
        assert!(case.refused.is_some(), "{:?}", case.input);
        assert_eq!(
            verdict(&case.input, case.max_bytes),
            Ok(()),
            "{:?}: the core refuses it now; drop coreStillAccepts from the fixture",
            case.input
        );
    }
}

#[test]
fn codes_in_the_fixture_are_the_servers() {
    for case in cases() {
        if let Some(code) = &case.refused {
            assert!(
                [
                    ErrorCode::InvalidPath,
                    ErrorCode::PathTooLong,
                    ErrorCode::HashPrefixVariant,
                    ErrorCode::NotFound,
                ]
                .iter()
                .any(|c| c.code() == code),
                "{code}"
            );
        }
    }
}

#[test]
fn the_reserved_segments_are_the_servers() {
    let doc: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    let listed: Vec<&str> = doc["reservedSegments"]
        .as_array()
        .expect("reservedSegments is a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(listed, RESERVED_SEGMENTS);
}
