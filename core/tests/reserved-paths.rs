//! Every folder of the page's assets is reserved, so a request for a missing asset never opens
//! a stream of that name. A new folder under `public/` fails here until it is listed.

use std::fs;
use std::path::Path;

use streams_core::{is_reserved, RESERVED_SEGMENTS};

#[test]
fn every_asset_folder_is_reserved() {
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
    let mut folders = Vec::new();
    for entry in fs::read_dir(&public).expect("public/ exists") {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            folders.push(entry.file_name().into_string().unwrap());
        }
    }
    assert!(!folders.is_empty(), "public/ has folders (js/ at least)");
    for folder in folders {
        assert!(
            RESERVED_SEGMENTS.contains(&folder.to_ascii_lowercase().as_str()),
            "public/{folder}/ is not in RESERVED_SEGMENTS (core/src/path.rs)"
        );
        assert!(is_reserved(&format!("/{folder}/missing")));
    }
    assert!(RESERVED_SEGMENTS.contains(&"api"));
}
