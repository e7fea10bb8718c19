//! Panics on input paths are a build error. The lints that find them are denied in Cargo's
//! `[workspace.lints.clippy]` and every crate of the workspace opts in, so clippy does the
//! enforcing: `cargo clippy -D warnings` in scripts/test, which also raises them to `forbid` for
//! this crate so that no `#[allow]` or `#[expect]` can switch one off here. This test keeps the
//! policy from being weakened in Cargo.toml itself: a lint dropped or lowered, or a crate left
//! out.
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

const DENIED: &[&str] = &[
    "unwrap_used",
    "expect_used",
    "panic",
    "indexing_slicing",
    "unreachable",
    "todo",
    "unimplemented",
];

/// The workspace root (the parent of this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `key = value` lines of a manifest by table name (`""` before the first header), values as
/// written. Enough TOML for the keys this test reads: it fails rather than guess at other forms.
fn tables(manifest: &Path) -> HashMap<String, HashMap<String, String>> {
    let text = fs::read_to_string(manifest).unwrap();
    let mut tables: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = without_comment(line).trim().to_owned();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_owned();
            tables.entry(current.clone()).or_default();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            panic!("{}: cannot read `{line}`", manifest.display());
        };
        let mut value = value.trim().to_owned();
        // A multi-line array, e.g. `members = [` ... `]`.
        if value.starts_with('[') && !value.ends_with(']') {
            for more in lines.by_ref() {
                value.push_str(without_comment(more).trim());
                if value.ends_with(']') {
                    break;
                }
            }
        }
        let key = key.trim().trim_matches('"').to_owned();
        tables
            .entry(current.clone())
            .or_default()
            .insert(key, value);
    }
    tables
}

/// The line up to a `#` that is outside a string.
fn without_comment(line: &str) -> &str {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The strings of a TOML array of strings.
fn strings(array: &str) -> Vec<String> {
    let inner = array
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not an array: {array}"));
    inner
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The level of a lint entry: `"forbid"` or `{ level = "forbid", priority = 1 }`.
fn level(entry: &str) -> String {
    let entry = entry.trim();
    if let Some(table) = entry.strip_prefix('{') {
        let level = table
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k.trim() == "level")
            .unwrap_or_else(|| panic!("no level in {entry}"))
            .1;
        return level
            .trim()
            .trim_end_matches('}')
            .trim()
            .trim_matches('"')
            .to_owned();
    }
    entry.trim_matches('"').to_owned()
}

#[test]
fn the_workspace_denies_the_panicking_lints() {
    let root = tables(&root().join("Cargo.toml"));
    let clippy = root
        .get("workspace.lints.clippy")
        .expect("Cargo.toml has no [workspace.lints.clippy]");
    for lint in DENIED {
        let entry = clippy
            .get(*lint)
            .unwrap_or_else(|| panic!("[workspace.lints.clippy] does not name {lint}"));
        let level = level(entry);
        assert!(
            level == "deny" || level == "forbid",
            "clippy::{lint} is `{entry}`"
        );
    }
    // Nor is their group allowed, which with a higher priority would override them.
    if let Some(group) = clippy.get("restriction") {
        assert_ne!(level(group), "allow", "clippy::restriction is allowed");
    }
}

#[test]
fn every_workspace_crate_opts_in() {
    let root_dir = root();
    let workspace = tables(&root_dir.join("Cargo.toml"));
    let members = strings(
        workspace
            .get("workspace")
            .and_then(|w| w.get("members"))
            .expect("Cargo.toml has no [workspace] members"),
    );
    assert!(members.iter().any(|m| m == "core"), "members: {members:?}");
    for member in &members {
        assert!(
            !member.contains('*'),
            "teach this test to expand the member glob {member}"
        );
        let manifest = root_dir.join(member).join("Cargo.toml");
        let lints = tables(&manifest);
        assert_eq!(
            lints
                .get("lints")
                .and_then(|l| l.get("workspace"))
                .map(String::as_str),
            Some("true"),
            "{} lacks `[lints] workspace = true`",
            manifest.display()
        );
    }
}

#[test]
fn the_reader_understands_both_lint_forms() {
    assert_eq!(level("\"forbid\""), "forbid");
    assert_eq!(level("{ level = \"forbid\", priority = 1 }"), "forbid");
    assert_eq!(level("{ priority = -1, level = \"deny\" }"), "deny");
    assert_eq!(without_comment("a = \"#x\" # note"), "a = \"#x\" ");
    assert_eq!(strings("[\".\", \"core\",]"), vec![".", "core"]);
}
