//! Stream paths and hash access.
//!
//! rtclite's "primitive access control": a publisher on `/sha1/<rest>` publishes to the stream
//! `/sha1/` + hex(sha1("/<rest>")), and subscribers who know only that hash connect to it.
//! Knowing the hash does not let anyone publish, because publishing on a hash path is refused.
//! `/sha256/` works the same with SHA-256.

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::{ErrorCode, Refusal, Role};

/// The longest stream path accepted, in bytes. Durable Object names allow more; a bound keeps
/// logs and memory small and stops a 10 KB path from reaching the object.
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

/// Maps a request path and mode to the stream it names, or refuses it.
///
/// `path` is the URL path as received (still percent-encoded, so plain ASCII in practice).
pub fn resolve(path: &str, mode: Mode) -> Result<StreamKey, Refusal> {
    if !is_valid_path(path) {
        return Err(Refusal(ErrorCode::InvalidPath));
    }
    for scheme in &SCHEMES {
        if let Some(rest) = path.strip_prefix(scheme.prefix) {
            let is_hash =
                rest.len() == scheme.hex_len && rest.bytes().all(|b| b.is_ascii_hexdigit());
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

/// A path is `/` followed by 1 to `MAX_PATH_BYTES - 1` visible ASCII characters.
///
/// Percent-encoded URLs never carry spaces, controls or raw UTF-8, so anything else is an
/// attack or a bug; refusing it early keeps it out of Durable Object names and logs.
fn is_valid_path(path: &str) -> bool {
    path.len() >= 2
        && path.len() <= MAX_PATH_BYTES
        && path.starts_with('/')
        && path.bytes().all(|b| b.is_ascii_graphic())
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
    fn sha256_publish_path_is_hashed_with_its_leading_slash() {
        let key = resolve("/sha256/streams/1234", Mode::Publish).unwrap();
        assert_eq!(
            key.as_str(),
            "/sha256/5d92fc617414ac097bff0100e2cff9867550172aaa4da3ac2bc870d3dde89c60"
        );
    }
}
