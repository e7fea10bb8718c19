//! Any bytes as one of three settings and a sequence of runtime events on three streams (fresh
//! joins, resumes with good and bad values, relays, malformed and free-form text, binary
//! frames, closes of every kind, pending closes, frozen sockets, pings, time and alarms,
//! evictions and restarts), driven through the engine's typed input and checked against the
//! same reference model and invariants as `core/tests/model.rs`. A violation or a panic is a
//! crash.
#![no_main]

#[path = "../../core/tests/model/checker.rs"]
mod checker;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (variant, ops) = checker::ops_from_bytes(data);
    if let Err(violation) = checker::run(variant, &ops) {
        panic!("invariant violated: {violation}");
    }
});
