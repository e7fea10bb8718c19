//! Model-based property test: random sequences of runtime events (fresh joins on plain and hash
//! paths, resumes with current, replayed, forged, other-stream and other-mode values, relays,
//! bursts, malformed and binary frames, closes with goodbye and other codes and failures,
//! pending closes, frozen sockets, heartbeat pings, time passing with alarms on time or late,
//! evictions and restarts) drive the engine through its typed input beside a reference model,
//! on three streams, under three settings (tight limits with resume, resume off, resume
//! without limits). Every output is checked against the model and every invariant of
//! docs/PROTOCOL.md ("Invariants") after every step.
//!
//! `cargo test -p streams-core --test model` runs 10,000 sequences; `MODEL_CASES=200000` runs
//! more.
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

#[path = "model/checker.rs"]
mod checker;

use checker::{Op, Target, Variant, ADVANCES, BAD_FRAME_KINDS, ENDINGS, VALUES};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

const DEFAULT_CASES: u32 = 10_000;
const MAX_OPS: usize = 40;

fn client() -> impl Strategy<Value = usize> {
    0usize..64
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => (0usize..4).prop_map(Target::Peer),
        3 => client().prop_map(Target::Client),
        1 => Just(Target::Own),
        1 => Just(Target::Unknown),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0usize..3, prop::bool::weighted(0.3))
            .prop_map(|(path, publish)| Op::Join { path, publish }),
        4 => (client(), 0..VALUES.len()).prop_map(|(who, v)| Op::Resume { who, value: VALUES[v] }),
        8 => (client(), target(), any::<bool>(), any::<bool>(), any::<bool>(), prop::bool::weighted(0.3))
            .prop_map(|(from, to, numeric, spoof, msg_id, big)| Op::Notify {
                from, to, numeric, spoof, msg_id, big
            }),
        1 => (client(), 1usize..12, any::<bool>())
            .prop_map(|(from, count, big)| Op::Burst { from, count, big }),
        1 => (client(), 0..BAD_FRAME_KINDS).prop_map(|(from, kind)| Op::Bad { from, kind }),
        1 => (client(), any::<bool>()).prop_map(|(from, known)| Op::Get { from, known }),
        1 => client().prop_map(|from| Op::Binary { from }),
        1 => client().prop_map(|from| Op::Old { from }),
        5 => (client(), 0..ENDINGS.len(), prop::bool::weighted(0.3)).prop_map(
            |(who, e, pending)| Op::Close { who, ending: ENDINGS[e], pending }
        ),
        2 => Just(Op::Deliver),
        2 => client().prop_map(|who| Op::Freeze { who }),
        3 => client().prop_map(|who| Op::Ping { who }),
        5 => (0..ADVANCES.len()).prop_map(|n| Op::Advance { ms: ADVANCES[n] }),
        1 => (0..ADVANCES.len()).prop_map(|n| Op::Stall { ms: ADVANCES[n] }),
        2 => (0usize..3).prop_map(|path| Op::Evict { path }),
        1 => (0usize..3).prop_map(|path| Op::Restart { path }),
    ]
}

fn variant() -> impl Strategy<Value = Variant> {
    prop_oneof![
        3 => Just(Variant::Tight),
        1 => Just(Variant::Off),
        1 => Just(Variant::Loose),
    ]
}

#[test]
fn the_engine_matches_the_model() {
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
    let calls = std::cell::Cell::new(0usize);
    let strategy = (variant(), prop::collection::vec(op(), 1..=MAX_OPS));
    let result = runner.run(&strategy, |(variant, sequence)| {
        ops.set(ops.get() + sequence.len());
        let n = checker::run(variant, &sequence).map_err(TestCaseError::fail)?;
        calls.set(calls.get() + n);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "model: {cases} sequences, {} operations, {} engine calls, 0 violations",
        ops.get(),
        calls.get()
    );
}

/// The fuzzer's decoder accepts any bytes; a few fixed inputs and every seed of the `stream`
/// fuzz target keep it honest here.
#[test]
fn fuzz_decoder_sequences_pass_the_model() {
    let mut inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        vec![0, 0, 0, 1, 0, 1, 2, 0, 1, 5, 0, 0, 2, 1, 0],
        vec![1, 0, 1, 3, 0, 1, 1, 7, 1, 20, b'{', b'"', b'm', 6, 1, 2],
        vec![2, 0, 0, 0, 1, 0, 1, 0x15, 1, 2, 8, 1, 0, 9, 0, 7, 12, 0, 0],
    ];
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/stream");
    for entry in std::fs::read_dir(&seeds).unwrap() {
        inputs.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(inputs.len() > 10, "seeds in {}", seeds.display());
    for input in inputs {
        let (variant, ops) = checker::ops_from_bytes(&input);
        checker::run(variant, &ops).unwrap();
    }
}
