//! The engine tells the adapter what each call meant (joins, resumes, drops, departures) and
//! how much it relayed, for logs and metrics, and its status answers from memory.
#![cfg(test)] // marks the helpers as test code for clippy.toml's exemptions

use streams_core::{
    Change, Config, ConnId, Connect, Engine, Input, Observed, Output, PeerId, Relayed, ResumeKey,
    Role, Sockets, Status,
};

/// Every socket open, none using the heartbeat.
struct Open;

impl Sockets for Open {
    fn last_ping(&self, _: ConnId) -> Option<u64> {
        None
    }
    fn is_open(&self, _: ConnId) -> bool {
        true
    }
}

fn connect(engine: &mut Engine, now: u64, conn: ConnId, role: Role, id: &str) -> Vec<Output> {
    engine.handle(
        now,
        Input::Connect(Connect {
            conn,
            role,
            resume: None,
            id: PeerId::from(id),
            nonce: [conn as u8; 16],
            turn: false,
        }),
        &Open,
    )
}

fn resume_value(outputs: &[Output], conn: ConnId) -> String {
    outputs
        .iter()
        .find_map(|o| match o {
            Output::Send { conn: c, text } if *c == conn && text.contains("\"created\"") => {
                let v: serde_json::Value = serde_json::from_str(text).unwrap();
                v["data"]["resume"].as_str().map(str::to_owned)
            }
            _ => None,
        })
        .expect("a created frame with a resume value")
}

fn seen(engine: &Engine) -> Vec<(String, Role, Change)> {
    engine
        .observed()
        .iter()
        .map(|Observed { id, role, change }| (id.as_str().to_owned(), *role, *change))
        .collect()
}

fn notify(to: &str, body: &str) -> String {
    format!(r#"{{"method":"NOTIFY","to":"{to}","data":"{body}"}}"#)
}

#[test]
fn joins_relays_drops_resumes_and_departures_are_observed_once_each() {
    let mut e = Engine::new(Config::default(), ResumeKey([7; 32]));
    assert_eq!(
        e.status(),
        Status {
            live: false,
            subscribers: 0,
            since: None
        }
    );

    connect(&mut e, 1_000, 1, Role::Publisher, "p");
    assert_eq!(seen(&e), [("p".into(), Role::Publisher, Change::Joined)]);
    let joined = connect(&mut e, 2_000, 2, Role::Subscriber, "s");
    assert_eq!(seen(&e), [("s".into(), Role::Subscriber, Change::Joined)]);
    let resume = resume_value(&joined, 2);
    assert_eq!(
        e.status(),
        Status {
            live: true,
            subscribers: 1,
            since: Some(1_000)
        }
    );

    // A second publisher is refused: nothing happened to the membership.
    connect(&mut e, 2_500, 3, Role::Publisher, "q");
    assert!(seen(&e).is_empty());

    // Relays are counted (both ways), invalid frames and events are not.
    let to_sub = notify("s", "hello");
    e.handle(
        3_000,
        Input::Text {
            conn: 1,
            text: &to_sub,
        },
        &Open,
    );
    let to_pub = notify("p", "hi");
    e.handle(
        3_001,
        Input::Text {
            conn: 2,
            text: &to_pub,
        },
        &Open,
    );
    e.handle(3_002, Input::Text { conn: 2, text: "{" }, &Open);
    assert!(seen(&e).is_empty());
    let relayed = e.take_relayed();
    assert_eq!(relayed.frames, 2);
    // What is relayed carries `from` instead of `to`, so count what was sent.
    assert!(relayed.bytes > (to_sub.len() + to_pub.len()) as u64 - 10);
    assert_eq!(e.take_relayed(), Relayed::default());

    // The subscriber's connection is lost: it is away, still counted.
    e.handle(
        4_000,
        Input::Closed {
            conn: 2,
            code: Some(1006),
            reason: "",
        },
        &Open,
    );
    assert_eq!(seen(&e), [("s".into(), Role::Subscriber, Change::Away)]);
    assert_eq!(e.status().subscribers, 1);
    // A relay to an away member is queued, and counted.
    e.handle(
        4_100,
        Input::Text {
            conn: 1,
            text: &to_sub,
        },
        &Open,
    );
    assert_eq!(e.take_relayed().frames, 1);

    // It resumes and gets its one queued frame.
    e.handle(
        5_000,
        Input::Connect(Connect {
            conn: 4,
            role: Role::Subscriber,
            resume: Some(&resume),
            id: PeerId::from("unused"),
            nonce: [9; 16],
            turn: false,
        }),
        &Open,
    );
    assert_eq!(
        seen(&e),
        [("s".into(), Role::Subscriber, Change::Resumed { queued: 1 })]
    );

    // The publisher says goodbye: it leaves at once.
    e.handle(
        6_000,
        Input::Closed {
            conn: 1,
            code: Some(1000),
            reason: "",
        },
        &Open,
    );
    assert_eq!(
        seen(&e),
        [(
            "p".into(),
            Role::Publisher,
            Change::Left { was_away: false }
        )]
    );
    assert_eq!(
        e.status(),
        Status {
            live: false,
            subscribers: 1,
            since: None
        }
    );

    // The subscriber drops and its grace period ends: it leaves, having been away.
    e.handle(
        7_000,
        Input::Closed {
            conn: 4,
            code: Some(1006),
            reason: "",
        },
        &Open,
    );
    assert_eq!(seen(&e), [("s".into(), Role::Subscriber, Change::Away)]);
    let grace = Config::default().resume_grace_ms;
    e.handle(7_000 + grace, Input::Timeout, &Open);
    assert_eq!(
        seen(&e),
        [(
            "s".into(),
            Role::Subscriber,
            Change::Left { was_away: true }
        )]
    );
    assert_eq!(
        e.status(),
        Status {
            live: false,
            subscribers: 0,
            since: None
        }
    );
}

#[test]
fn the_status_is_json_with_the_mode() {
    let status = Status {
        live: true,
        subscribers: 3,
        since: Some(1_700_000_000_123),
    };
    let v: serde_json::Value = serde_json::from_str(&status.json()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"live": true, "subscribers": 3, "since": 1_700_000_000_123u64, "mode": "mesh"})
    );
    let absent: serde_json::Value = serde_json::from_str(
        &Status {
            live: false,
            subscribers: 0,
            since: None,
        }
        .json(),
    )
    .unwrap();
    assert_eq!(absent["since"], serde_json::Value::Null);
}
