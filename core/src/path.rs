//! Stream paths and hash access.
//!
//! rtclite's "primitive access control": a publisher on `/sha1/<rest>` publishes to the stream
//! `/sha1/` + hex(sha1("/<rest>")), and subscribers who know only that hash connect to it.
//! Knowing the hash does not let anyone publish, because publishing on a hash path is refused.
//! `/sha256/` works the same with SHA-256.

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::{ErrorCode, Refusal, Role};

/// The longest stream path accepted by default, in bytes (`MAX_PATH_BYTES` changes it). Durable
/// Object names allow more; a bound keeps logs and memory small and stops a 10 KB path from
/// reaching the object.
pub const MAX_PATH_BYTES: usize = 256;

/// The `mode` query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Publish,
    Subscribe,
}

impl Mode {
    /// Parses the `mode` query value; anything else is [`ErrorCode::InvalidMode`].
    pub fn parse(value: Option<&str>) -> Result<Self, ErrorCode> {
        match value {
            Some("publish") => Ok(Mode::Publish),
            Some("subscribe") => Ok(Mode::Subscribe),
            _ => Err(ErrorCode::InvalidMode),
        }
    }

    pub fn role(self) -> Role {
        match self {
            Mode::Publish => Role::Publisher,
            Mode::Subscribe => Role::Subscriber,
        }
    }
}

/// The canonical name of a stream: the Durable Object that holds it is named by this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamKey(String);

impl StreamKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

struct HashScheme {
    prefix: &'static str,
    hex_len: usize,
    digest: fn(&[u8]) -> String,
}

const SCHEMES: [HashScheme; 2] = [
    HashScheme {
        prefix: "/sha1/",
        hex_len: 40,
        digest: |b| hex::encode(Sha1::digest(b)),
    },
    HashScheme {
        prefix: "/sha256/",
        hex_len: 64,
        digest: |b| hex::encode(Sha256::digest(b)),
    },
];

/// Whether a stream key is a hash (`/sha1/<40 hex>` or `/sha256/<64 hex>`).
pub(crate) fn is_hash_path(key: &str) -> bool {
    SCHEMES.iter().any(|scheme| {
        key.strip_prefix(scheme.prefix)
            .is_some_and(|rest| is_hex_of_len(rest, scheme.hex_len))
    })
}

fn is_hex_of_len(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// First path segments that are never streams: the HTTP API (`/api/`) and the folders of the
/// page's static assets (`/js/`). The runtime serves an asset that exists before the Worker
/// runs; a request for one that does not must not open a stream of that name either. A test
/// checks that every folder under `public/` is listed.
pub const RESERVED_SEGMENTS: &[&str] = &["api", "js"];

/// Whether `path` is a reserved folder or under one (`/api`, `/api/x`, `/js/app.js`), in any
/// case and however percent-encoded, so no spelling of it becomes a stream.
pub fn is_reserved(path: &str) -> bool {
    first_segment(path).is_some_and(|segment| RESERVED_SEGMENTS.contains(&segment.as_str()))
}

/// The first segment of `path`, percent-decoded and in lower case.
fn first_segment(path: &str) -> Option<String> {
    let segment = path.strip_prefix('/')?.split('/').next()?;
    Some(percent_decode(segment)?.to_ascii_lowercase())
}

/// A first segment that reads `sha1` or `sha256` but is not spelled exactly so (`/SHA1/`,
/// `/Sha256/`, `/%73ha1/`): people would take the path for a hash path, the server for a plain
/// one, so it is refused rather than served as either.
fn is_hash_prefix_variant(path: &str) -> bool {
    let Some(raw) = path.strip_prefix('/').and_then(|p| p.split('/').next()) else {
        return false;
    };
    let reads_as_hash = first_segment(path).is_some_and(|s| s == "sha1" || s == "sha256");
    reads_as_hash && raw != "sha1" && raw != "sha256"
}

/// Maps a request path and mode to the stream it names, or refuses it, with the default
/// length limit.
///
/// `path` is the URL path as received (still percent-encoded, so plain ASCII in practice).
pub fn resolve(path: &str, mode: Mode) -> Result<StreamKey, Refusal> {
    resolve_within(path, mode, MAX_PATH_BYTES)
}

/// [`resolve`] with a path length limit of `max_bytes`.
pub fn resolve_within(path: &str, mode: Mode, max_bytes: usize) -> Result<StreamKey, Refusal> {
    check_path(path, max_bytes).map_err(Refusal)?;
    if is_hash_prefix_variant(path) {
        return Err(Refusal(ErrorCode::HashPrefixVariant));
    }
    for scheme in &SCHEMES {
        if let Some(rest) = path.strip_prefix(scheme.prefix) {
            let is_hash = is_hex_of_len(rest, scheme.hex_len);
            return match (mode, is_hash) {
                (Mode::Subscribe, true) => Ok(StreamKey(format!(
                    "{}{}",
                    scheme.prefix,
                    rest.to_ascii_lowercase()
                ))),
                (Mode::Subscribe, false) => Err(Refusal(ErrorCode::InvalidPath)),
                (Mode::Publish, true) => Err(Refusal(ErrorCode::HashPathPublish)),
                (Mode::Publish, false) if rest.is_empty() => Err(Refusal(ErrorCode::InvalidPath)),
                (Mode::Publish, false) => {
                    let plain = format!("/{rest}");
                    Ok(StreamKey(format!(
                        "{}{}",
                        scheme.prefix,
                        (scheme.digest)(plain.as_bytes())
                    )))
                }
            };
        }
    }
    Ok(StreamKey(path.to_owned()))
}

/// A path is `/` followed by 1 to `max_bytes - 1` visible ASCII characters, whose
/// percent-escapes decode to UTF-8 text without control characters, and with no `.` or `..`
/// segment (spelled plainly or percent-encoded).
///
/// Percent-encoded URLs never carry spaces, controls or raw UTF-8, so anything else is an
/// attack or a bug; refusing it early keeps it out of Durable Object names and logs. Dot
/// segments name nothing here (streams are not files), but a path that looks like traversal
/// would confuse `ALLOWED_PATHS` prefixes and whoever reads the logs, so it is refused outright.
fn check_path(path: &str, max_bytes: usize) -> Result<(), ErrorCode> {
    if path.len() > max_bytes {
        return Err(ErrorCode::PathTooLong);
    }
    let well_formed = path.len() >= 2
        && path.starts_with('/')
        && path.bytes().all(|b| b.is_ascii_graphic())
        && path.split('/').all(|segment| !is_dot_segment(segment))
        && percent_decode(path).is_some_and(|text| is_plain(&text));
    if well_formed {
        Ok(())
    } else {
        Err(ErrorCode::InvalidPath)
    }
}

/// No control characters, and nothing a URL parser could read as the start of another host:
/// no empty segment (`//`) and no backslash, also when written with escapes. The page refuses
/// the same (`tests/fixtures/stream-paths.json`), so a link can never name another host.
fn is_plain(decoded: &str) -> bool {
    !decoded.chars().any(char::is_control) && !decoded.contains("//") && !decoded.contains('\\')
}

/// `.` or `..`, with any dot possibly written `%2e` / `%2E` (URL parsers treat those alike).
fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "." | "%2e" | ".." | ".%2e" | "%2e." | "%2e%2e"
    )
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the bytes are not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(path.len());
    let mut rest = path.as_bytes().iter();
    while let Some(&b) = rest.next() {
        if b == b'%' {
            let hi = hex_value(*rest.next()?)?;
            let lo = hex_value(*rest.next()?)?;
            bytes.push((hi << 4) | lo);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Digests computed independently with `printf %s /streams/1234 | sha1sum` (and sha256sum).
    #[test]
    fn sha1_publish_path_is_hashed_with_its_leading_slash() {
        let key = resolve("/sha1/streams/1234", Mode::Publish).unwrap();
        assert_eq!(
            key.as_str(),
            "/sha1/04e5383618cc0f1dd6a5a433ba49396eccd080b4"
        );
    }

    #[test]
    fn path_length_limit_is_its_own_refusal() {
        let long = format!("/{}", "a".repeat(255));
        assert!(resolve(&long, Mode::Publish).is_ok());
        let longer = format!("/{}", "a".repeat(256));
        assert_eq!(
            resolve(&longer, Mode::Publish),
            Err(Refusal(ErrorCode::PathTooLong))
        );
        let ten_kb = format!("/{}", "a".repeat(10 * 1024));
        assert_eq!(
            resolve(&ten_kb, Mode::Subscribe),
            Err(Refusal(ErrorCode::PathTooLong))
        );
        assert_eq!(
            resolve_within("/abcd", Mode::Publish, 4),
            Err(Refusal(ErrorCode::PathTooLong))
        );
        assert!(resolve_within("/abc", Mode::Publish, 4).is_ok());
    }

    #[test]
    fn disallowed_characters_are_refused() {
        for bad in [
            "",
            "/",
            "x",
            "/a b",
            "/a\tb",
            "/caf\u{e9}",
            "/a\u{7f}",
            "/%",
            "/%4",
            "/%zz",
            "/%ff%fe",
            "/%c3",
            "/%00",
            "/a%0Ab",
            "/%7F",
            // Read by URL parsers as the start of another host.
            "/a//b",
            "//host/x",
            "/a%2F%2Fb",
            "/a\\b",
            "/%5Chost",
        ] {
            assert_eq!(
                resolve(bad, Mode::Publish),
                Err(Refusal(ErrorCode::InvalidPath)),
                "{bad:?}"
            );
        }
        for good in [
            "/caf%C3%A9",
            "/a%20b",
            "/rooms/1?",
            "/...",
            "/.a/b.",
            "/%2e%2e%2e",
        ] {
            assert!(resolve(good, Mode::Subscribe).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn dot_segments_are_refused_however_spelled() {
        for bad in [
            "/../x",
            "/./x",
            "/a/..",
            "/a/./b",
            "/%2e%2e/",
            "/%2E%2e/x",
            "/.%2e/x",
            "/%2e./x",
            "/%2e",
            "/sha1/../x",
        ] {
            assert_eq!(
                resolve(bad, Mode::Publish),
                Err(Refusal(ErrorCode::InvalidPath)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn spelling_variants_of_the_hash_prefixes_are_refused() {
        let hex40 = "04e5383618cc0f1dd6a5a433ba49396eccd080b4";
        for path in [
            format!("/SHA1/{hex40}"),
            format!("/Sha1/{hex40}"),
            "/SHA256/streams/1".to_owned(),
            "/sHa256/x".to_owned(),
            "/%73ha1/x".to_owned(),
            "/sha%31/x".to_owned(),
            "/SHA1".to_owned(),
        ] {
            for mode in [Mode::Publish, Mode::Subscribe] {
                assert_eq!(
                    resolve(&path, mode),
                    Err(Refusal(ErrorCode::HashPrefixVariant)),
                    "{path} {mode:?}"
                );
            }
        }
        // Other names that merely start alike are ordinary paths.
        for path in ["/sha1", "/sha1x/y", "/SHA/1", "/sha512/x", "/shA1b/c"] {
            assert!(resolve(path, Mode::Publish).is_ok(), "{path}");
        }
    }

    #[test]
    fn the_api_and_asset_folders_are_reserved_however_spelled() {
        for path in [
            "/api",
            "/api/",
            "/api/x",
            "/api/ice-servers/",
            "/API/ice-servers",
            "/%61pi/x",
            "/js/",
            "/js/missing.js",
            "/JS/x",
        ] {
            assert!(is_reserved(path), "{path}");
        }
        for path in ["/apis/x", "/x/api/y", "/json", "/", "/streams/api"] {
            assert!(!is_reserved(path), "{path}");
        }
    }

    #[test]
    fn sha256_publish_path_is_hashed_with_its_leading_slash() {
        let key = resolve("/sha256/streams/1234", Mode::Publish).unwrap();
        assert_eq!(
            key.as_str(),
            "/sha256/5d92fc617414ac097bff0100e2cff9867550172aaa4da3ac2bc870d3dde89c60"
        );
    }
}
