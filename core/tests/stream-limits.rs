//! The per-stream limits: subscribers per stream and frame size, each configurable, each hit
//! refused to the one client that hit it and to nobody else.

use streams_core::{error_frame, Config, Effect, ErrorCode, PeerId, Refusal, Role, Stream};

fn id(s: &str) -> PeerId {
    PeerId::from(s)
}

fn texts_to(effects: &[Effect], who: &str) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, text } | Effect::Relay { to, text } if to.as_str() == who => {
                Some(text.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_full_stream_refuses_the_next_subscriber_only() {
    let mut stream = Stream::new(Config {
        max_subscribers: 2,
        ..Config::default()
    });
    stream.join(id("p"), Role::Publisher).unwrap();
    stream.join(id("s1"), Role::Subscriber).unwrap();
    stream.join(id("s2"), Role::Subscriber).unwrap();
    assert_eq!(
        stream.join(id("s3"), Role::Subscriber),
        Err(Refusal(ErrorCode::StreamFull))
    );
    assert_eq!(stream.len(), 3, "the refusal changed nothing");
    // The publisher does not count against the subscriber limit, and may still come back.
    stream.leave(&id("p"));
    assert!(stream.join(id("p2"), Role::Publisher).is_ok());
    // A departure makes room again.
    stream.leave(&id("s1"));
    assert!(stream.join(id("s3"), Role::Subscriber).is_ok());
}

#[test]
fn the_default_subscriber_limit_is_a_thousand() {
    let mut stream = Stream::new(Config::default());
    for n in 0..1000 {
        stream.join(id(&format!("s{n}")), Role::Subscriber).unwrap();
    }
    assert_eq!(
        stream.check_join(&id("one-more"), Role::Subscriber),
        Err(Refusal(ErrorCode::StreamFull))
    );
}

#[test]
fn the_frame_size_limit_is_configurable() {
    let mut stream = Stream::new(Config {
        max_frame_bytes: 1024,
        ..Config::default()
    });
    stream.join(id("p"), Role::Publisher).unwrap();
    stream.join(id("s"), Role::Subscriber).unwrap();
    let frame = |pad: usize| {
        let head = r#"{"method":"NOTIFY","to":"s","data":""#;
        let tail = r#""}"#;
        format!("{head}{}{tail}", "x".repeat(pad - head.len() - tail.len()))
    };
    let at_limit = stream.receive_text(&id("p"), &frame(1024));
    assert_eq!(texts_to(&at_limit, "s").len(), 1);
    let over = stream.receive_text(&id("p"), &frame(1025));
    assert_eq!(
        over,
        vec![Effect::Send {
            to: id("p"),
            text: error_frame(ErrorCode::FrameTooLarge, None)
        }]
    );
}
