//! Connection ids: 96 random bits as 24 lowercase hex digits.
//!
//! Random rather than counted, so that no client can guess another's id, and no counter has to
//! survive hibernation: a collision among live members is refused by the core (about 2^-96 per
//! pair), so an id is never reused while the stream lives.

use streams_core::{ConnId, PeerId};
use wasm_bindgen::prelude::*;
use worker::{Error, Result};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buf: &mut [u8]) -> std::result::Result<JsValue, JsValue>;
}

pub fn mint() -> Result<PeerId> {
    Ok(PeerId::new(hex_lower(&random::<12>()?)))
}

/// `N` bytes from the runtime's cryptographic random source.
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    get_random_values(&mut bytes).map_err(Error::from)?;
    Ok(bytes)
}

/// A socket number: random, below 2^53 so that JavaScript holds it exactly.
pub fn conn() -> Result<ConnId> {
    Ok(conn_from(random::<8>()?))
}

fn conn_from(bytes: [u8; 8]) -> ConnId {
    u64::from_le_bytes(bytes) >> 11
}

/// What a new connection needs, from one call to the random source (each call crosses from
/// the Wasm into the runtime): its socket number, a member id and a resume nonce.
pub fn for_connection() -> Result<(ConnId, PeerId, [u8; 16])> {
    let mut bytes = random::<36>()?.into_iter();
    let conn: [u8; 8] = std::array::from_fn(|_| bytes.next().unwrap_or(0));
    let id: [u8; 12] = std::array::from_fn(|_| bytes.next().unwrap_or(0));
    let nonce: [u8; 16] = std::array::from_fn(|_| bytes.next().unwrap_or(0));
    Ok((conn_from(conn), PeerId::new(hex_lower(&id)), nonce))
}

fn hex_lower(bytes: &[u8]) -> String {
    let digit = |nibble: u8| char::from_digit(u32::from(nibble), 16).unwrap_or('0');
    bytes
        .iter()
        .flat_map(|b| [digit(b >> 4), digit(b & 0x0f)])
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lowercase_and_two_digits_per_byte() {
        assert_eq!(super::hex_lower(&[0x00, 0xab, 0x5f]), "00ab5f");
    }
}
