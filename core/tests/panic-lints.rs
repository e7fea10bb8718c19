//! Panics on input paths are a build error: both crates deny the lints that find them outside
//! tests, and no source file opts out. (`cargo clippy -D warnings` in scripts/test enforces them;
//! this keeps anyone from quietly switching them off.)

use std::fs;
use std::path::Path;

const DENIED: &[&str] = &[
    "clippy::unwrap_used",
    "clippy::expect_used",
    "clippy::panic",
    "clippy::indexing_slicing",
    "clippy::unreachable",
    "clippy::todo",
    "clippy::unimplemented",
];

fn crate_root(lib: &str) {
    let text = fs::read_to_string(lib).unwrap();
    let attr = text
        .split("#![cfg_attr(")
        .nth(1)
        .unwrap_or_else(|| panic!("{lib} has no cfg_attr deny block"));
    let attr = &attr[..attr.find(")]").unwrap()];
    assert!(
        attr.contains("not(test)") && attr.contains("deny("),
        "{lib}: {attr}"
    );
    for lint in DENIED {
        assert!(attr.contains(lint), "{lib} does not deny {lint}");
    }
}

fn no_opt_outs(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            no_opt_outs(&path);
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        // Test modules may unwrap: they are compiled only under cfg(test).
        let code = text.split("#[cfg(test)]").next().unwrap();
        for lint in DENIED {
            for opt_out in [format!("allow({lint}"), format!("allow({lint})")] {
                assert!(
                    !code.contains(&opt_out),
                    "{} opts out of {lint}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_core_and_the_adapter_deny_panicking_lints() {
    crate_root(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"));
    crate_root(concat!(env!("CARGO_MANIFEST_DIR"), "/../src/lib.rs"));
}

#[test]
fn no_source_file_opts_out() {
    no_opt_outs(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")));
    no_opt_outs(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../src")));
}
