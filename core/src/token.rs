//! Signed, expiring access tokens.
//!
//! A token is a JSON Web Token (RFC 7519) signed with HMAC-SHA256 (`"alg":"HS256"`), so any JWT
//! library can mint one; `docs/TOKENS.md` gives the algorithm and a test vector. Its claims
//! bind it to one stream path, one mode and an expiry time, and may carry a client label:
//!
//! ```json
//! {"path":"/streams/1234","mode":"publish","exp":1900000000,"label":"alice"}
//! ```
//!
//! Verification checks the form, then the signature (in constant time, through
//! [`Mac::verify_slice`]), and only then the claims, so the claim-specific refusals
//! (`token-expired`, `token-wrong-path`, `token-wrong-mode`) are only ever given for tokens the
//! secret's holder really signed. The time is an argument: the core reads no clock.

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

use crate::base64url;
use crate::{ErrorCode, Mode};

type HmacSha256 = Hmac<Sha256>;

/// Longer tokens are refused unread (`token-malformed`).
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The longest client label a token may carry, in bytes.
pub const MAX_LABEL_BYTES: usize = 128;

/// The fixed JOSE header of the tokens [`mint`] makes.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// What a token grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// The stream path the token is for, as the client puts it in the URL (see `docs/TOKENS.md`
    /// for hash paths).
    pub path: String,
    pub mode: Mode,
    /// Expiry, in seconds since the Unix epoch: the token is refused from this second on.
    pub exp: u64,
    /// A label for the client, signed with the rest (for the operator's records).
    pub label: Option<String>,
}

/// The claims as [`mint`] writes them: fields in this order, so the documented test vector can
/// be reproduced byte for byte in any language.
#[derive(Serialize)]
struct PayloadOut<'a> {
    path: &'a str,
    mode: &'a str,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
}

/// Signs `claims` with `secret`. `None` only if serializing or keying fails, which neither
/// does for these types (HMAC takes keys of any length).
pub fn mint(secret: &[u8], claims: &Claims) -> Option<String> {
    let payload = serde_json::to_string(&PayloadOut {
        path: &claims.path,
        mode: mode_name(claims.mode),
        exp: claims.exp,
        label: claims.label.as_deref(),
    })
    .ok()?;
    let signed = format!(
        "{}.{}",
        base64url::encode(HEADER),
        base64url::encode(payload)
    );
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(signed.as_bytes());
    let signature = base64url::encode(mac.finalize().into_bytes());
    Some(format!("{signed}.{signature}"))
}

/// Checks that `token` was signed with `secret` and grants `mode` on `path` at `now_secs`.
///
/// Returns the claims, or the refusal: `token-malformed`, `token-bad-signature`,
/// `token-expired`, `token-wrong-path` or `token-wrong-mode`, checked in that order.
pub fn verify(
    secret: &[u8],
    token: &str,
    path: &str,
    mode: Mode,
    now_secs: u64,
) -> Result<Claims, ErrorCode> {
    let (signed, claims, signature) = parse(token).ok_or(ErrorCode::TokenMalformed)?;
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| ErrorCode::TokenBadSignature)?;
    mac.update(signed.as_bytes());
    // The only comparison of signature bytes: constant time, and the full 32 bytes (a truncated
    // signature is refused, not compared as a prefix).
    mac.verify_slice(&signature)
        .map_err(|_| ErrorCode::TokenBadSignature)?;
    if now_secs >= claims.exp {
        return Err(ErrorCode::TokenExpired);
    }
    if claims.path != path {
        return Err(ErrorCode::TokenWrongPath);
    }
    if claims.mode != mode {
        return Err(ErrorCode::TokenWrongMode);
    }
    Ok(claims)
}

/// Splits a token into the signed text, its claims and the signature bytes; `None` when any
/// part is malformed.
fn parse(token: &str) -> Option<(&str, Claims, Vec<u8>)> {
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let (signed, signature) = token.rsplit_once('.')?;
    let (header, payload) = signed.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    let header = json(header)?;
    let header = header.as_object()?;
    // The algorithm is fixed, whatever the token claims: a token saying `none` or `RS256` is
    // refused rather than checked some other way. `crit` names extensions we do not implement.
    if header.get("alg").and_then(Value::as_str) != Some("HS256") || header.contains_key("crit") {
        return None;
    }
    let payload = json(payload)?;
    let path = payload.get("path")?.as_str()?.to_owned();
    let mode = match payload.get("mode")?.as_str()? {
        "publish" => Mode::Publish,
        "subscribe" => Mode::Subscribe,
        _ => return None,
    };
    let exp = payload.get("exp")?.as_u64()?;
    let label = match payload.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) if l.len() <= MAX_LABEL_BYTES => Some(l.clone()),
        Some(_) => return None,
    };
    let signature = base64url::decode(signature)?;
    let claims = Claims {
        path,
        mode,
        exp,
        label,
    };
    Some((signed, claims, signature))
}

/// A base64url part as JSON. Parsed from `str` into `Value`, as client frames are, rather than
/// with a slice reader or a derived deserializer: the same checks with no second copy of the
/// JSON parser in the Wasm module.
fn json(part: &str) -> Option<Value> {
    let text = String::from_utf8(base64url::decode(part)?).ok()?;
    serde_json::from_str(&text).ok()
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Publish => "publish",
        Mode::Subscribe => "subscribe",
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    const SECRET: &[u8] = b"test secret, at least 32 bytes long";
    const NOW: u64 = 1_800_000_000;

    fn claims(path: &str, mode: Mode, exp: u64) -> Claims {
        Claims {
            path: path.into(),
            mode,
            exp,
            label: None,
        }
    }

    fn token(path: &str, mode: Mode, exp: u64) -> String {
        mint(SECRET, &claims(path, mode, exp)).unwrap()
    }

    #[test]
    fn a_valid_token_grants_its_path_and_mode() {
        let t = token("/streams/1", Mode::Publish, NOW + 60);
        let got = verify(SECRET, &t, "/streams/1", Mode::Publish, NOW).unwrap();
        assert_eq!(got, claims("/streams/1", Mode::Publish, NOW + 60));
    }

    #[test]
    fn the_label_is_signed_and_returned() {
        let mut c = claims("/s", Mode::Subscribe, NOW + 1);
        c.label = Some("alice".into());
        let t = mint(SECRET, &c).unwrap();
        assert_eq!(verify(SECRET, &t, "/s", Mode::Subscribe, NOW), Ok(c));
    }

    #[test]
    fn an_expired_token_is_refused_from_its_expiry_second_on() {
        let t = token("/s", Mode::Publish, NOW);
        assert!(verify(SECRET, &t, "/s", Mode::Publish, NOW - 1).is_ok());
        assert_eq!(
            verify(SECRET, &t, "/s", Mode::Publish, NOW),
            Err(ErrorCode::TokenExpired)
        );
        assert_eq!(
            verify(SECRET, &t, "/s", Mode::Publish, NOW + 3600),
            Err(ErrorCode::TokenExpired)
        );
    }

    #[test]
    fn a_token_for_another_path_is_refused() {
        let t = token("/streams/1", Mode::Publish, NOW + 60);
        for other in ["/streams/2", "/streams/1/", "/streams", "/STREAMS/1"] {
            assert_eq!(
                verify(SECRET, &t, other, Mode::Publish, NOW),
                Err(ErrorCode::TokenWrongPath),
                "{other}"
            );
        }
    }

    #[test]
    fn a_token_for_the_other_mode_is_refused() {
        let t = token("/s", Mode::Subscribe, NOW + 60);
        assert_eq!(
            verify(SECRET, &t, "/s", Mode::Publish, NOW),
            Err(ErrorCode::TokenWrongMode)
        );
    }

    #[test]
    fn a_tampered_token_is_refused_as_a_bad_signature() {
        let t = token("/streams/1", Mode::Subscribe, NOW + 60);
        let (head, rest) = t.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        // Same shape, other claims: path, mode and expiry each changed without re-signing.
        for forged in [
            r#"{"path":"/streams/2","mode":"subscribe","exp":1800000060}"#,
            r#"{"path":"/streams/1","mode":"publish","exp":1800000060}"#,
            r#"{"path":"/streams/1","mode":"subscribe","exp":9999999999}"#,
        ] {
            let forged = format!("{head}.{}.{sig}", URL_SAFE_NO_PAD.encode(forged));
            assert_eq!(
                verify(SECRET, &forged, "/streams/1", Mode::Subscribe, NOW),
                Err(ErrorCode::TokenBadSignature),
                "{forged}"
            );
        }
        // Signed with another secret.
        let other = mint(
            b"another secret",
            &claims("/streams/1", Mode::Subscribe, NOW + 60),
        );
        assert_eq!(
            verify(SECRET, &other.unwrap(), "/streams/1", Mode::Subscribe, NOW),
            Err(ErrorCode::TokenBadSignature)
        );
    }

    #[test]
    fn bad_signatures_are_refused_wherever_they_differ() {
        let t = token("/s", Mode::Publish, NOW + 60);
        let (signed, sig) = t.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let candidates = {
            let mut first = bytes.clone();
            first[0] ^= 1;
            let mut last = bytes.clone();
            last[31] ^= 0x80;
            let truncated = bytes[..16].to_vec();
            bytes.push(0);
            vec![first, last, truncated, bytes, Vec::new()]
        };
        for candidate in candidates {
            let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&candidate));
            assert_eq!(
                verify(SECRET, &forged, "/s", Mode::Publish, NOW),
                Err(ErrorCode::TokenBadSignature),
                "{candidate:?}"
            );
        }
    }

    #[test]
    fn signatures_are_compared_in_constant_time_only() {
        // Guards the implementation: the signature is checked by the MAC's own constant-time
        // `verify_slice`, and no other comparison of MAC bytes exists in this file.
        let source = include_str!("token.rs");
        let code = source.split("#[cfg(test)]").next().unwrap();
        assert_eq!(code.matches(".verify_slice(&signature)").count(), 1);
        assert!(!code.contains("into_bytes() =="));
        assert!(!code.contains("signature =="));
        assert!(!code.contains("== signature"));
    }

    #[test]
    fn malformed_tokens_are_refused_as_malformed() {
        let good = token("/s", Mode::Publish, NOW + 60);
        let (head, rest) = good.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        let with_payload = |p: &str| format!("{head}.{}.{sig}", enc(p));
        let with_header = |h: &str| format!("{}.{}", enc(h), rest);
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        let label = format!(
            r#"{{"path":"/s","mode":"publish","exp":1,"label":"{}"}}"#,
            "x".repeat(MAX_LABEL_BYTES + 1)
        );
        for bad in [
            String::new(),
            "abc".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            format!("{good}="),
            format!("{good}.x"),
            long,
            format!("{head}.!!!.{sig}"),
            format!("{head}.{}.{sig}", URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
            with_payload("[]"),
            with_payload(r#"{"path":"/s","mode":"publish"}"#),
            with_payload(r#"{"path":"/s","mode":"watch","exp":1}"#),
            with_payload(r#"{"path":"/s","mode":"publish","exp":-1}"#),
            with_payload(r#"{"path":"/s","mode":"publish","exp":1.5}"#),
            with_payload(r#"{"path":5,"mode":"publish","exp":1}"#),
            with_payload(&label),
            with_header(r#"{"alg":"none"}"#),
            with_header(r#"{"alg":"HS512"}"#),
            with_header(r#"{"typ":"JWT"}"#),
            with_header(r#"{"alg":"HS256","crit":["x"]}"#),
            with_header("not json"),
        ] {
            assert_eq!(
                verify(SECRET, &bad, "/s", Mode::Publish, NOW),
                Err(ErrorCode::TokenMalformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_claims_and_header_fields_are_ignored_but_signed() {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"HS256","kid":"k1"}"#),
            URL_SAFE_NO_PAD
                .encode(r#"{"iat":1,"exp":1800000060,"mode":"publish","path":"/s","x":[1]}"#)
        );
        let mut mac = HmacSha256::new_from_slice(SECRET).unwrap();
        mac.update(signed.as_bytes());
        let t = format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        assert!(verify(SECRET, &t, "/s", Mode::Publish, NOW).is_ok());
    }

    /// The test vector in `docs/TOKENS.md`: minting its claims with its secret gives its token,
    /// and the token verifies at its time. The Node CLI is checked against the same vector.
    #[test]
    fn the_documented_test_vector_holds() {
        let doc = include_str!("../../docs/TOKENS.md");
        let field = |name: &str| -> String {
            let marker = format!("<!-- vector:{name} -->");
            let after = doc.split(&marker).nth(1).unwrap();
            let start = after.find('`').unwrap() + 1;
            let len = after[start..].find('`').unwrap();
            after[start..start + len].to_owned()
        };
        let secret = field("secret");
        let c = Claims {
            path: field("path"),
            mode: Mode::parse(Some(&field("mode"))).unwrap(),
            exp: field("exp").parse().unwrap(),
            label: Some(field("label")),
        };
        let now: u64 = field("now").parse().unwrap();
        let documented = field("token");
        assert_eq!(mint(secret.as_bytes(), &c).unwrap(), documented);
        assert_eq!(
            verify(secret.as_bytes(), &documented, &c.path, c.mode, now),
            Ok(c.clone())
        );
        assert_eq!(
            verify(secret.as_bytes(), &documented, &c.path, c.mode, c.exp),
            Err(ErrorCode::TokenExpired)
        );
    }
}
