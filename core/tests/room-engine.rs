//! The room engine: the list and changes told to watchers, reports applied only when newer
//! (so any order of the same reports ends in the same state), verification answers applied
//! only when nothing changed while the question was out, and its limits.

use streams_core::room::{Entry, Presence, Report};
use streams_core::{PeerId, RoomConfig, RoomEngine, RoomInput, RoomOutput};

const ROOM: &str = "/rooms/r";
const T: u64 = 1_700_000_000_000;

fn engine(config: RoomConfig) -> RoomEngine {
    RoomEngine::restore(ROOM.into(), config, Vec::new(), Vec::new())
}

fn report(name: &str, live: bool, id: &str, since: u64) -> RoomInput<'static> {
    RoomInput::Report(Report {
        path: format!("{ROOM}/{name}"),
        live,
        id: id.into(),
        since,
    })
}

fn sent(out: &[RoomOutput]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            RoomOutput::Send { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn change(kind: &str, name: &str, id: &str) -> String {
    format!(r#"{{"method":"EVENT","data":{{"type":"{kind}","path":"{ROOM}/{name}","id":"{id}"}}}}"#)
}

fn live_list(e: &RoomEngine) -> Vec<(String, String)> {
    e.live()
        .map(|(p, e)| (p.to_owned(), e.id.clone()))
        .collect()
}

#[test]
fn a_watcher_gets_created_then_the_list_then_changes() {
    let mut e = engine(RoomConfig::default());
    e.handle(T, report("b", true, "idb", T));
    e.handle(T, report("a", true, "ida", T));
    let out = e.handle(
        T,
        RoomInput::Connect {
            conn: 1,
            id: PeerId::from("w1"),
        },
    );
    assert!(matches!(out[0], RoomOutput::Accept { conn: 1, .. }));
    assert_eq!(
        sent(&out),
        vec![
            r#"{"method":"EVENT","data":{"type":"created","id":"w1"}}"#.to_owned(),
            format!(
                r#"{{"method":"EVENT","data":{{"type":"streams","room":"{ROOM}","streams":[{{"path":"{ROOM}/a","id":"ida"}},{{"path":"{ROOM}/b","id":"idb"}}]}}}}"#
            ),
        ]
    );
    // A connect with streams listed asks for a verification at once.
    assert!(out.contains(&RoomOutput::Alarm(Some(T))));
    let out = e.handle(T + 1, report("a", false, "ida", T));
    assert_eq!(sent(&out), vec![change("ended", "a", "ida")]);
    assert!(out.contains(&RoomOutput::Ack { listed: true }));
    let out = e.handle(T + 2, report("a", true, "ida2", T + 2));
    assert_eq!(sent(&out), vec![change("live", "a", "ida2")]);
    // A new publisher whose predecessor's departure never arrived: ended, then live.
    let out = e.handle(T + 3, report("a", true, "ida3", T + 3));
    assert_eq!(
        sent(&out),
        vec![change("ended", "a", "ida2"), change("live", "a", "ida3")]
    );
}

#[test]
fn late_repeated_or_reordered_reports_change_nothing() {
    let mut e = engine(RoomConfig::default());
    e.handle(
        T,
        RoomInput::Connect {
            conn: 1,
            id: PeerId::from("w"),
        },
    );
    e.handle(T, report("a", true, "x", T));
    e.handle(T, report("a", false, "x", T));
    e.handle(T, report("a", true, "y", T + 5));
    for late in [
        report("a", true, "x", T),
        report("a", false, "x", T),
        report("a", true, "y", T + 5),
    ] {
        let out = e.handle(T + 10, late);
        assert!(sent(&out).is_empty(), "{out:?}");
        assert!(out.contains(&RoomOutput::Ack { listed: true }));
    }
    assert_eq!(live_list(&e), vec![(format!("{ROOM}/a"), "y".into())]);
}

#[test]
fn every_order_of_the_same_reports_ends_in_the_same_list() {
    let reports = [
        ("a", true, "x", T),
        ("a", false, "x", T),
        ("a", true, "y", T + 5),
        ("b", true, "z", T + 1),
        ("b", false, "z", T + 1),
        ("c", true, "w", T + 2),
    ];
    let mut orders = vec![vec![]];
    for i in 0..reports.len() {
        orders = orders
            .into_iter()
            .flat_map(|o: Vec<usize>| {
                (0..=o.len()).map(move |at| {
                    let mut o = o.clone();
                    o.insert(at, i);
                    o
                })
            })
            .collect();
    }
    assert_eq!(orders.len(), 720);
    let want = vec![
        (format!("{ROOM}/a"), "y".to_owned()),
        (format!("{ROOM}/c"), "w".to_owned()),
    ];
    for order in orders {
        let mut e = engine(RoomConfig::default());
        for i in &order {
            let (n, live, id, since) = reports[*i];
            e.handle(T, report(n, live, id, since));
        }
        assert_eq!(live_list(&e), want, "order {order:?}");
    }
}

#[test]
fn a_verification_answer_applies_only_if_nothing_changed_meanwhile() {
    let mut e = engine(RoomConfig::default());
    e.handle(T, report("a", true, "x", T));
    e.handle(
        T,
        RoomInput::Connect {
            conn: 1,
            id: PeerId::from("w"),
        },
    );
    let out = e.handle(T, RoomInput::Timeout);
    let asked = Entry {
        id: "x".into(),
        since: T,
        live: true,
    };
    assert!(out.contains(&RoomOutput::Ask {
        path: format!("{ROOM}/a"),
        asked: asked.clone()
    }));
    // A report came in while the question was out: the (older) answer is dropped.
    e.handle(T + 1, report("a", true, "y", T + 1));
    let stale = Presence {
        live: false,
        id: None,
        since: None,
    };
    let out = e.handle(
        T + 2,
        RoomInput::Verified {
            path: format!("{ROOM}/a"),
            asked: asked.clone(),
            answer: Some(stale.clone()),
        },
    );
    assert!(sent(&out).is_empty());
    assert_eq!(live_list(&e), vec![(format!("{ROOM}/a"), "y".into())]);
    // Unchanged: the answer is the truth.
    let asked = Entry {
        id: "y".into(),
        since: T + 1,
        live: true,
    };
    let out = e.handle(
        T + 3,
        RoomInput::Verified {
            path: format!("{ROOM}/a"),
            asked: asked.clone(),
            answer: Some(stale),
        },
    );
    assert_eq!(sent(&out), vec![change("ended", "a", "y")]);
    // A stream that could not be asked keeps its entry.
    e.handle(T + 4, report("b", true, "z", T + 4));
    let asked = Entry {
        id: "z".into(),
        since: T + 4,
        live: true,
    };
    let out = e.handle(
        T + 5,
        RoomInput::Verified {
            path: format!("{ROOM}/b"),
            asked: asked.clone(),
            answer: None,
        },
    );
    assert!(sent(&out).is_empty());
    // A publisher the room never heard of: ended for the old, live for the new.
    let now = Presence {
        live: true,
        id: Some("v".into()),
        since: Some(T + 6),
    };
    let out = e.handle(
        T + 6,
        RoomInput::Verified {
            path: format!("{ROOM}/b"),
            asked,
            answer: Some(now),
        },
    );
    assert_eq!(
        sent(&out),
        vec![change("ended", "b", "z"), change("live", "b", "v")]
    );
}

#[test]
fn limits_refuse_one_watcher_too_many_and_list_streams_only_while_there_is_room() {
    let config = RoomConfig {
        max_watchers: 1,
        max_streams: 1,
        ..RoomConfig::default()
    };
    let mut e = engine(config);
    e.handle(
        T,
        RoomInput::Connect {
            conn: 1,
            id: PeerId::from("w1"),
        },
    );
    let out = e.handle(
        T,
        RoomInput::Connect {
            conn: 2,
            id: PeerId::from("w2"),
        },
    );
    assert_eq!(sent(&out), Vec::<String>::new());
    assert!(matches!(out[0], RoomOutput::Refuse(r) if r.code().code() == "room-full"));
    assert!(e
        .handle(T, report("a", true, "x", T))
        .contains(&RoomOutput::Ack { listed: true }));
    let out = e.handle(T, report("b", true, "y", T));
    assert!(out.contains(&RoomOutput::Ack { listed: false }));
    assert!(sent(&out).is_empty());
    e.handle(T + 1, report("a", false, "x", T));
    let out = e.handle(T + 2, report("b", true, "y", T));
    assert_eq!(sent(&out), vec![change("live", "b", "y")]);
}

#[test]
fn reports_for_other_paths_and_frames_from_watchers_are_refused_quietly() {
    let mut e = engine(RoomConfig::default());
    e.handle(
        T,
        RoomInput::Connect {
            conn: 1,
            id: PeerId::from("w"),
        },
    );
    for path in ["/rooms/other/a", "/rooms/r/a/b", "/rooms/r/", "/rooms/r"] {
        let out = e.handle(
            T,
            RoomInput::Report(Report {
                path: path.into(),
                live: true,
                id: "x".into(),
                since: T,
            }),
        );
        assert!(sent(&out).is_empty(), "{path}");
    }
    assert!(e.live().next().is_none());
    let out = e.handle(T, RoomInput::Frame { conn: 1 });
    assert_eq!(sent(&out).len(), 1);
    assert!(sent(&out)[0].contains("watch-only"));
    let out = e.handle(
        T,
        RoomInput::Closed {
            conn: 1,
            code: Some(1000),
            reason: "bye",
        },
    );
    assert_eq!(
        out[0],
        RoomOutput::Close {
            conn: 1,
            code: 1000,
            reason: "bye".into()
        }
    );
    assert_eq!(e.watchers(), 0);
}

#[test]
fn ended_entries_beyond_the_stream_limit_are_deleted_oldest_first() {
    let config = RoomConfig {
        max_streams: 2,
        ..RoomConfig::default()
    };
    let deleted = |out: &[RoomOutput]| -> Vec<String> {
        out.iter()
            .filter_map(|o| match o {
                RoomOutput::Store { path, entry: None } => Some(path.clone()),
                _ => None,
            })
            .collect()
    };
    let mut e = engine(config.clone());
    // Ended reports: the third one past the limit deletes the oldest, ties broken by path.
    assert!(deleted(&e.handle(T, report("c", false, "z", T + 5))).is_empty());
    assert!(deleted(&e.handle(T, report("b", false, "y", T + 1))).is_empty());
    let out = e.handle(T, report("a", false, "x", T + 1));
    assert_eq!(deleted(&out), vec![format!("{ROOM}/a")]);
    // A live stream is never deleted.
    let out = e.handle(T, report("d", true, "w", T));
    assert!(deleted(&out).is_empty());
    // A room restored with more ended entries than it keeps drops the oldest on its next change.
    let stored: Vec<(String, Entry)> = [(9, "p"), (3, "q"), (3, "o"), (7, "r")]
        .into_iter()
        .map(|(since, name)| {
            let entry = Entry {
                id: name.into(),
                since: T + since,
                live: false,
            };
            (format!("{ROOM}/{name}"), entry)
        })
        .collect();
    let mut e = RoomEngine::restore(ROOM.into(), config, Vec::new(), stored);
    let out = e.handle(T, report("s", false, "s", T + 8));
    assert_eq!(
        deleted(&out),
        vec![
            format!("{ROOM}/o"),
            format!("{ROOM}/q"),
            format!("{ROOM}/r")
        ]
    );
}
