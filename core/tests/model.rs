//! Model-based property test: random sequences of joins, relays, malformed frames, departures
//! and evict-and-restore, run against the core and a reference model, with every invariant of
//! docs/PROTOCOL.md ("Invariants") checked after every step.
//!
//! `cargo test -p streams-core --test model` runs 10,000 sequences; `MODEL_CASES=200000` runs
//! more.
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

#[path = "model/checker.rs"]
mod checker;

use checker::{Op, Target, BAD_FRAME_KINDS};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

const DEFAULT_CASES: u32 = 10_000;
const MAX_OPS: usize = 40;

fn client() -> impl Strategy<Value = usize> {
    0usize..64
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => client().prop_map(Target::Client),
        1 => Just(Target::Own),
        1 => Just(Target::Unknown),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..3, prop::bool::weighted(0.3))
            .prop_map(|(path, publish)| Op::Join { path, publish }),
        6 => (client(), target(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(from, to, numeric, spoof, msg_id)| Op::Notify { from, to, numeric, spoof, msg_id }
        ),
        1 => (client(), 0..BAD_FRAME_KINDS).prop_map(|(from, kind)| Op::Bad { from, kind }),
        1 => (client(), any::<bool>()).prop_map(|(from, known)| Op::Get { from, known }),
        1 => client().prop_map(|from| Op::Binary { from }),
        4 => client().prop_map(|who| Op::Leave { who }),
        2 => (0usize..3, 0usize..8).prop_map(|(path, rotate)| Op::Restore { path, rotate }),
    ]
}

#[test]
fn the_core_matches_the_model() {
    let cases = std::env::var("MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let mut runner = TestRunner::new(RunnerConfig {
        cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let ops = std::cell::Cell::new(0usize);
    let result = runner.run(&prop::collection::vec(op(), 1..=MAX_OPS), |sequence| {
        ops.set(ops.get() + sequence.len());
        checker::run(&sequence).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "model: {cases} sequences, {} operations, 0 violations",
        ops.get()
    );
}

/// The fuzzer's decoder accepts any bytes; a few fixed inputs keep it honest here.
#[test]
fn fuzz_decoder_sequences_pass_the_model() {
    let inputs: [&[u8]; 3] = [
        b"",
        &[0, 0, 0, 1, 0, 1, 2, 0, 1, 5, 0, 0, 2, 1, 0],
        &[0, 1, 3, 0, 1, 1, 7, 1, 20, b'{', b'"', b'm', 6, 1, 2],
    ];
    for input in inputs {
        checker::run(&checker::ops_from_bytes(input)).unwrap();
    }
}
