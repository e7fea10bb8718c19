//! Base64url without padding (RFC 4648 §5), the encoding of JSON Web Token parts.
//!
//! Strict on input: no padding, no whitespace, no other alphabet, and the unused low bits of the
//! last character must be zero, so every byte string has exactly one accepted spelling (a token
//! cannot be altered into another string that decodes the same).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let six = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(
                ALPHABET.get(six as usize).copied().unwrap_or(b'A'),
            ));
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), as TURN REST credentials use it.
pub fn encode_standard(bytes: impl AsRef<[u8]>) -> String {
    let mut out: String = encode(bytes)
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

pub fn decode(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.as_bytes().chunks(4) {
        let mut n: u32 = 0;
        for &c in chunk {
            n = (n << 6) | u32::from(value(c)?);
        }
        // Left-align a short final chunk as if it were padded to four characters.
        n <<= 6 * (4 - chunk.len() as u32);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = chunk.len() - 1;
        if bytes.iter().skip(keep).any(|&b| b != 0) {
            return None;
        }
        out.extend(bytes.iter().take(keep));
    }
    Some(out)
}

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    #[test]
    fn standard_encoding_agrees_with_the_base64_crate() {
        use base64::Engine;
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(97).wrapping_add(251))
                .collect();
            assert_eq!(
                encode_standard(&bytes),
                base64::engine::general_purpose::STANDARD.encode(&bytes)
            );
        }
    }

    #[test]
    fn agrees_with_the_base64_crate_both_ways() {
        // Every length up to 64 with varied bytes, so every chunk shape and bit pattern occurs.
        for len in 0..64usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len * 11) as u8 ^ 0xa5).collect();
            let ours = encode(&bytes);
            assert_eq!(ours, URL_SAFE_NO_PAD.encode(&bytes));
            assert_eq!(decode(&ours), Some(bytes));
        }
    }

    #[test]
    fn refuses_what_the_strict_decoder_refuses() {
        for bad in [
            "A", "AB=", "AB==", "A+", "A/", "AB C", "ABCDE", "AB\n", "AF", "AAB", "é",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
            assert!(URL_SAFE_NO_PAD.decode(bad).is_err(), "{bad:?}");
        }
        assert_eq!(decode(""), Some(Vec::new()));
        assert_eq!(decode("AA"), Some(vec![0]));
        assert_eq!(decode("AE"), None, "non-zero unused bits");
        assert_eq!(decode("_-8"), Some(vec![0xff, 0xef]));
    }
}
