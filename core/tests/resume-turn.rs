#![cfg(test)]
//! A member's entitlement to TURN credentials survives a resume: a resume needs no token, so
//! it must not cost a member the TURN it earned with one at its join.

use streams_core::{Config, Connect, Engine, Input, Output, PeerId, ResumeKey, Role, Sockets};

struct Quiet;

impl Sockets for Quiet {
    fn last_ping(&self, _: u64) -> Option<u64> {
        None
    }
    fn is_open(&self, _: u64) -> bool {
        true
    }
}

fn accepted_turn(outputs: &[Output]) -> Option<bool> {
    outputs.iter().find_map(|o| match o {
        Output::Accept { identity, .. } => Some(identity.turn),
        _ => None,
    })
}

fn resume_value(outputs: &[Output]) -> String {
    outputs
        .iter()
        .find_map(|o| match o {
            Output::Send { text, .. } if text.contains("\"created\"") => {
                let v: serde_json::Value = serde_json::from_str(text).ok()?;
                Some(v["data"]["resume"].as_str()?.to_owned())
            }
            _ => None,
        })
        .expect("a created frame with a resume value")
}

fn connect(
    engine: &mut Engine,
    now: u64,
    conn: u64,
    resume: Option<&str>,
    turn: bool,
) -> Vec<Output> {
    let input = Input::Connect(Connect {
        conn,
        role: Role::Subscriber,
        resume,
        id: PeerId::from(format!("id{conn}").as_str()),
        nonce: [conn as u8; 16],
        turn,
    });
    engine.handle(now, input, &Quiet)
}

#[test]
fn turn_earned_at_the_join_is_kept_by_a_resume_without_a_token() {
    let mut engine = Engine::new(Config::default(), ResumeKey([3; 32]));
    let joined = connect(&mut engine, 1_000, 1, None, true);
    assert_eq!(accepted_turn(&joined), Some(true));
    let value = resume_value(&joined);
    engine.handle(
        2_000,
        Input::Closed {
            conn: 1,
            code: Some(1006),
            reason: "",
        },
        &Quiet,
    );
    let resumed = connect(&mut engine, 3_000, 2, Some(&value), false);
    assert_eq!(accepted_turn(&resumed), Some(true), "{resumed:?}");
    let stored = resumed.iter().find_map(|o| match o {
        Output::Persist(record) => Some(record.turn),
        _ => None,
    });
    assert_eq!(stored, Some(true), "the grant is stored for a restart");
}

#[test]
fn a_member_without_turn_does_not_gain_it_by_resuming_without_a_token() {
    let mut engine = Engine::new(Config::default(), ResumeKey([3; 32]));
    let joined = connect(&mut engine, 1_000, 1, None, false);
    assert_eq!(accepted_turn(&joined), Some(false));
    let value = resume_value(&joined);
    engine.handle(
        2_000,
        Input::Closed {
            conn: 1,
            code: Some(1006),
            reason: "",
        },
        &Quiet,
    );
    let resumed = connect(&mut engine, 3_000, 2, Some(&value), false);
    assert_eq!(accepted_turn(&resumed), Some(false));
}
