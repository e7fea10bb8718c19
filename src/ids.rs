//! Connection ids: 96 random bits as 24 lowercase hex digits.
//!
//! Random rather than counted, so that no client can guess another's id, and no counter has to
//! survive hibernation: a collision among live members is refused by the core (about 2^-96 per
//! pair), so an id is never reused while the stream lives.

use streams_core::PeerId;
use wasm_bindgen::prelude::*;
use worker::{Error, Result};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buf: &mut [u8]) -> std::result::Result<JsValue, JsValue>;
}

pub fn mint() -> Result<PeerId> {
    let mut bytes = [0u8; 12];
    get_random_values(&mut bytes).map_err(Error::from)?;
    Ok(PeerId::new(hex_lower(&bytes)))
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
