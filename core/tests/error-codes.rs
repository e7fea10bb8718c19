//! The error code table is stable and documented.

use std::collections::HashSet;

use streams_core::ErrorCode;

#[test]
fn codes_are_unique_kebab_case_with_sentences() {
    let mut seen = HashSet::new();
    for code in ErrorCode::ALL {
        let name = code.code();
        assert!(seen.insert(name), "duplicate code {name}");
        assert!(
            name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{name} is not kebab-case"
        );
        assert!(!code.sentence().is_empty());
        assert_eq!(code.reason(), format!("{name}: {}", code.sentence()));
        // Close reasons are limited to 123 bytes; the code alone is used there.
        assert!(name.len() <= 123);
        let close = code.close_code();
        assert!(
            close == 1011 || (4000..5000).contains(&close),
            "{name}: {close}"
        );
        assert!((400..600).contains(&code.http_status()));
    }
}

#[test]
fn every_code_is_in_the_protocol_doc() {
    let doc = include_str!("../../docs/PROTOCOL.md");
    for code in ErrorCode::ALL {
        assert!(
            doc.contains(&format!("`{}`", code.code())),
            "docs/PROTOCOL.md does not list {}",
            code.code()
        );
    }
}

#[test]
fn refusal_close_codes_are_distinct() {
    let refusals = [
        ErrorCode::PublisherExists,
        ErrorCode::HashPathPublish,
        ErrorCode::InvalidPath,
    ];
    let codes: HashSet<u16> = refusals.iter().map(|c| c.close_code()).collect();
    assert_eq!(codes.len(), refusals.len());
}
