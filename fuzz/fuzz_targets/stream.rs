//! Any bytes as a sequence of runtime events over three streams (joins, relays, malformed and
//! free-form text, binary frames, departures, evict-and-restore), checked against the same
//! reference model and invariants as `core/tests/model.rs`. A violation or a panic is a crash.
#![no_main]

#[path = "../../core/tests/model/checker.rs"]
mod checker;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = checker::run(&checker::ops_from_bytes(data)) {
        panic!("invariant violated: {violation}");
    }
});
