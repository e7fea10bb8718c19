//! Any bytes as a client text frame: `parse_frame` answers a frame or an error, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streams_core::{parse_frame, DEFAULT_MAX_FRAME_BYTES};

fuzz_target!(|data: &[u8]| {
    // WebSocket text frames are UTF-8; the runtime rejects anything else before the core.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A tiny limit too, so the size check and the parser both see every input.
    for max in [DEFAULT_MAX_FRAME_BYTES, 16] {
        if let Err(e) = parse_frame(text, max) {
            assert!(!e.code.code().is_empty());
        }
    }
});
