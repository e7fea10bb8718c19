//! Resume values: the opaque credential a member presents to take its place back after its
//! connection dropped.
//!
//! A value names the member (id and role) and carries the member's current single-use nonce,
//! signed with the stream's own key. The stream keeps the nonce, so a value is only good once:
//! every `created` replaces it. The signature is what tells an expired value (issued here, for
//! a member that has since departed) from a forged one or one from another stream (whose key
//! differs): the first gets `resume-expired`, the others `resume-invalid`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{base64url, ErrorCode, PeerId, Role};

/// A per-stream secret, made once from a random source and kept in the stream's storage.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumeKey(pub [u8; 32]);

impl std::fmt::Debug for ResumeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A secret never reaches a log, even through a debug print.
        f.write_str("ResumeKey(..)")
    }
}

/// A member's current single-use secret, from a random source.
pub type Nonce = [u8; 16];

/// Longest value worth reading: an id of at most 64 bytes and the fixed parts.
const MAX_VALUE_BYTES: usize = 160;

/// Bytes of the signature kept in a value: 128 bits.
const TAG_BYTES: usize = 16;

/// What a well-signed value claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub id: PeerId,
    pub role: Role,
    pub nonce: Nonce,
}

/// `<id>.<p|s>.<nonce>.<tag>`, the last two in base64url.
pub fn mint(key: &ResumeKey, id: &PeerId, role: Role, nonce: &Nonce) -> String {
    let body = format!(
        "{}.{}.{}",
        id.as_str(),
        role_letter(role),
        base64url::encode(nonce)
    );
    let tag = sign(key, &body);
    format!("{body}.{}", base64url::encode(tag))
}

/// Checks a value's signature and shape. Anything not minted with `key` is `resume-invalid`.
pub fn open(key: &ResumeKey, value: &str) -> Result<Claim, ErrorCode> {
    let invalid = ErrorCode::ResumeInvalid;
    if value.len() > MAX_VALUE_BYTES {
        return Err(invalid);
    }
    let (body, tag) = value.rsplit_once('.').ok_or(invalid)?;
    let tag = base64url::decode(tag).ok_or(invalid)?;
    if tag.len() != TAG_BYTES {
        return Err(invalid);
    }
    // Constant time: the comparison must not tell an attacker how much of a tag was right.
    mac(key, body)
        .verify_truncated_left(&tag)
        .map_err(|_| invalid)?;
    let mut parts = body.split('.');
    let (Some(id), Some(role), Some(nonce), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid);
    };
    let role = match role {
        "p" => Role::Publisher,
        "s" => Role::Subscriber,
        _ => return Err(invalid),
    };
    let nonce: Nonce = base64url::decode(nonce)
        .and_then(|n| n.try_into().ok())
        .ok_or(invalid)?;
    Ok(Claim {
        id: PeerId::from(id),
        role,
        nonce,
    })
}

fn role_letter(role: Role) -> &'static str {
    match role {
        Role::Publisher => "p",
        Role::Subscriber => "s",
    }
}

fn mac(key: &ResumeKey, body: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail; the fallback only avoids a panic
    // path (and would fail every check rather than pass one).
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    mac.update(b"named-streams resume v1\0");
    mac.update(body.as_bytes());
    mac
}

fn sign(key: &ResumeKey, body: &str) -> [u8; TAG_BYTES] {
    let full = mac(key, body).finalize().into_bytes();
    let mut tag = [0u8; TAG_BYTES];
    for (t, b) in tag.iter_mut().zip(full.iter()) {
        *t = *b;
    }
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: ResumeKey = ResumeKey([7; 32]);

    #[test]
    fn a_minted_value_opens_to_its_claim() {
        let value = mint(&KEY, &PeerId::from("abc123"), Role::Publisher, &[9; 16]);
        let claim = open(&KEY, &value).unwrap();
        assert_eq!(claim.id.as_str(), "abc123");
        assert_eq!(claim.role, Role::Publisher);
        assert_eq!(claim.nonce, [9; 16]);
    }

    #[test]
    fn another_key_or_any_change_is_invalid() {
        let value = mint(&KEY, &PeerId::from("abc123"), Role::Subscriber, &[1; 16]);
        assert_eq!(
            open(&ResumeKey([8; 32]), &value),
            Err(ErrorCode::ResumeInvalid)
        );
        let forged = value.replacen(".s.", ".p.", 1);
        assert_eq!(open(&KEY, &forged), Err(ErrorCode::ResumeInvalid));
        for cut in 0..value.len() {
            assert!(open(&KEY, &value[..cut]).is_err());
        }
        assert!(open(&KEY, &"x".repeat(1000)).is_err());
        assert!(open(&KEY, "....").is_err());
    }

    #[test]
    fn the_key_is_not_printed() {
        assert_eq!(format!("{KEY:?}"), "ResumeKey(..)");
    }
}
