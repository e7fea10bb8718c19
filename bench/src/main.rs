//! Load client for the Named Streams benchmarks: fan-out, relay latency and relay throughput
//! against any server that speaks the protocol (ours, or the plain-JavaScript reference), and
//! resume (ours only: the reference has none).
//!
//! `named-streams-bench <ws base url> <label> <scenario> [args]`; each scenario prints one human
//! line and one JSON line (`{"label":..,"scenario":..,...}`) that `bench/run` collects.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Sink = futures_util::stream::SplitSink<Ws, Message>;

/// Every scenario must finish within this (plus [`DEADLINE_PER_CONNECTION`] for each connection
/// it opens), or the run fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(120);
const DEADLINE_PER_CONNECTION: Duration = Duration::from_millis(20);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(label), Some(scenario)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: named-streams-bench <ws://host:port> <label> fanout <n> | latency <round trips> | throughput <subscribers> <messages> <window> | resume <members>");
        std::process::exit(2);
    };
    let num =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let run = async {
        match scenario.as_str() {
            "fanout" => fanout(base, label, num(4, 100)).await,
            "latency" => latency(base, label, num(4, 1000)).await,
            "throughput" => throughput(base, label, num(4, 10), num(5, 20_000), num(6, 100)).await,
            "resume" => resume(base, label, num(4, 500)).await,
            other => Err(format!("unknown scenario {other}")),
        }
    };
    let connections = u32::try_from(num(4, 0)).unwrap_or(u32::MAX);
    let deadline = DEADLINE + DEADLINE_PER_CONNECTION * connections;
    match tokio::time::timeout(deadline, run).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("{label} {scenario}: {e}");
            std::process::exit(1);
        }
        Err(_) => {
            eprintln!("{label} {scenario}: did not finish within {deadline:?}");
            std::process::exit(1);
        }
    }
}

/// What a connection's reader reports to the scenario.
#[derive(Debug)]
struct Seen {
    conn: usize,
    frame: Value,
    at: Instant,
}

/// Opens a connection, waits for its `created`, and spawns a reader that forwards every later
/// frame to `tx`. Returns the sink and the connection's id.
async fn join(
    base: &str,
    path: &str,
    mode: &str,
    conn: usize,
    tx: mpsc::UnboundedSender<Seen>,
) -> Result<(Sink, String), String> {
    let (sink, created, _) = open(&format!("{base}{path}?mode={mode}"), conn, tx).await?;
    let id = created["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((sink, id))
}

/// Opens a connection to `url`, waits for its `created` (returned) and forwards every later
/// frame to `tx` from a reader task (returned: aborting it and dropping the sink drops the
/// connection without a close frame).
async fn open(
    url: &str,
    conn: usize,
    tx: mpsc::UnboundedSender<Seen>,
) -> Result<(Sink, Value, tokio::task::JoinHandle<()>), String> {
    let (ws, _) = connect_async(url)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    let (sink, mut stream) = ws.split();
    let created = next_json(&mut stream).await?;
    if created["data"]["type"] != "created" {
        return Err(format!("first frame was {created}"));
    }
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Text(text) = msg {
                if let Ok(frame) = serde_json::from_str(text.as_str()) {
                    let _ = tx.send(Seen {
                        conn,
                        frame,
                        at: Instant::now(),
                    });
                }
            }
        }
    });
    Ok((sink, created, reader))
}

async fn next_json(stream: &mut futures_util::stream::SplitStream<Ws>) -> Result<Value, String> {
    while let Some(msg) = stream.next().await {
        if let Message::Text(text) = msg.map_err(|e| e.to_string())? {
            return serde_json::from_str(text.as_str()).map_err(|e| e.to_string());
        }
    }
    Err("closed before the first frame".into())
}

fn event_type(frame: &Value) -> Option<&str> {
    (frame["method"] == "EVENT")
        .then(|| frame["data"]["type"].as_str())
        .flatten()
}

async fn send(sink: &mut Sink, frame: &Value) -> Result<(), String> {
    sink.send(Message::text(frame.to_string()))
        .await
        .map_err(|e| e.to_string())
}

fn report(label: &str, scenario: &str, human: String, mut figures: Value) {
    println!("{label} {scenario}: {human}");
    if let Some(object) = figures.as_object_mut() {
        object.insert("label".into(), json!(label));
        object.insert("scenario".into(), json!(scenario));
    }
    println!("JSON {figures}");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// N subscribers join, then the publisher: how long until the publisher holds N `subscribed`
/// and every subscriber its `published`; then the publisher leaves: how long until every
/// subscriber got `unpublished`.
async fn fanout(base: &str, label: &str, n: usize) -> Result<(), String> {
    let path = format!("/bench/fanout-{n}-{}", std::process::id());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let mut subs = Vec::with_capacity(n);
    // Joins in batches: a burst of thousands of handshakes at once measures the kernel's
    // listen backlog, not the server.
    for batch in (0..n).collect::<Vec<_>>().chunks(50) {
        let joins = batch
            .iter()
            .map(|&i| join(base, &path, "subscribe", i, tx.clone()));
        for result in futures_util::future::join_all(joins).await {
            subs.push(result?.0);
        }
    }
    let connect_time = started.elapsed();

    let announce_start = Instant::now();
    let (mut publisher, _) = join(base, &path, "publish", n, tx.clone()).await?;
    let (mut subscribed, mut published) = (0, 0);
    while subscribed < n || published < n {
        let seen = rx.recv().await.ok_or("readers ended")?;
        match event_type(&seen.frame) {
            Some("subscribed") if seen.conn == n => subscribed += 1,
            Some("published") if seen.conn < n => published += 1,
            _ => {}
        }
    }
    let join_time = announce_start.elapsed();

    let leave_start = Instant::now();
    publisher
        .send(Message::Close(None))
        .await
        .map_err(|e| e.to_string())?;
    let mut unpublished = 0;
    while unpublished < n {
        let seen = rx.recv().await.ok_or("readers ended")?;
        if event_type(&seen.frame) == Some("unpublished") {
            unpublished += 1;
        }
    }
    let leave_time = leave_start.elapsed();
    for mut sub in subs {
        let _ = sub.send(Message::Close(None)).await;
    }
    let per_sec = n as f64 / connect_time.as_secs_f64();
    report(
        label,
        &format!("fanout-{n}"),
        format!(
            "{n} subscribers connected in {:.0} ms ({per_sec:.0}/s); publisher join announced in {:.1} ms; leave announced in {:.1} ms",
            ms(connect_time),
            ms(join_time),
            ms(leave_time)
        ),
        json!({"n": n, "connect_ms": ms(connect_time), "connections_per_s": per_sec,
               "join_ms": ms(join_time), "leave_ms": ms(leave_time)}),
    );
    Ok(())
}

/// Round trips publisher → subscriber → publisher, one at a time.
async fn latency(base: &str, label: &str, rounds: usize) -> Result<(), String> {
    let path = format!("/bench/latency-{}", std::process::id());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (mut publisher, pub_id) = join(base, &path, "publish", 0, tx.clone()).await?;
    let (mut subscriber, sub_id) = join(base, &path, "subscribe", 1, tx.clone()).await?;
    // Both sides have seen each other before timing starts.
    let mut ready = 0;
    while ready < 2 {
        let seen = rx.recv().await.ok_or("readers ended")?;
        if matches!(
            event_type(&seen.frame),
            Some("subscribed") | Some("published")
        ) {
            ready += 1;
        }
    }
    let mut samples = Vec::with_capacity(rounds);
    for seq in 0..rounds {
        let sent = Instant::now();
        send(
            &mut publisher,
            &json!({"method":"NOTIFY","to":sub_id,"data":{"seq":seq}}),
        )
        .await?;
        loop {
            let seen = rx.recv().await.ok_or("readers ended")?;
            if seen.conn == 1 && seen.frame["method"] == "NOTIFY" {
                send(
                    &mut subscriber,
                    &json!({"method":"NOTIFY","to":pub_id,"data":seen.frame["data"]}),
                )
                .await?;
            } else if seen.conn == 0 && seen.frame["method"] == "NOTIFY" {
                if seen.frame["data"]["seq"] != seq || seen.frame["from"] != sub_id.as_str() {
                    return Err(format!("round trip {seq} came back as {}", seen.frame));
                }
                samples.push(seen.at - sent);
                break;
            }
        }
    }
    samples.sort();
    let pct = |p: f64| {
        let i = ((samples.len() as f64 * p).ceil() as usize).saturating_sub(1);
        ms(samples.get(i).copied().unwrap_or_default())
    };
    let max = ms(samples.last().copied().unwrap_or_default());
    report(
        label,
        "latency",
        format!(
            "{rounds} round trips: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {max:.3} ms",
            pct(0.5),
            pct(0.9),
            pct(0.99)
        ),
        json!({"rounds": rounds, "p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99), "max_ms": max}),
    );
    let _ = publisher.send(Message::Close(None)).await;
    let _ = subscriber.send(Message::Close(None)).await;
    Ok(())
}

/// The publisher sends `total` NOTIFYs round-robin to S subscribers, at most `window` in flight;
/// every message is accounted for: delivered once, to the right subscriber, from the publisher.
async fn throughput(
    base: &str,
    label: &str,
    s: usize,
    total: usize,
    window: usize,
) -> Result<(), String> {
    let path = format!("/bench/throughput-{}", std::process::id());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (mut publisher, pub_id) = join(base, &path, "publish", s, tx.clone()).await?;
    let mut ids = Vec::with_capacity(s);
    let mut subs = Vec::with_capacity(s);
    for i in 0..s {
        let (sink, id) = join(base, &path, "subscribe", i, tx.clone()).await?;
        subs.push(sink);
        ids.push(id);
    }
    let mut announced = 0;
    while announced < 2 * s {
        let seen = rx.recv().await.ok_or("readers ended")?;
        if matches!(
            event_type(&seen.frame),
            Some("subscribed") | Some("published")
        ) {
            announced += 1;
        }
    }
    let payload = "x".repeat(200);
    let mut received: HashMap<u64, usize> = HashMap::new();
    let (mut misrouted, mut duplicated) = (0usize, 0usize);
    let (mut sent, mut delivered) = (0usize, 0usize);
    let started = Instant::now();
    let quiet = Duration::from_secs(2);
    while delivered < total {
        while sent < total && sent - delivered < window {
            let to = &ids[sent % s];
            send(
                &mut publisher,
                &json!({"method":"NOTIFY","to":to,"data":{"seq":sent,"p":payload}}),
            )
            .await?;
            sent += 1;
        }
        let Ok(Some(seen)) = tokio::time::timeout(quiet, rx.recv()).await else {
            break; // Nothing more is coming: the rest is lost.
        };
        if seen.frame["method"] != "NOTIFY" {
            continue;
        }
        let Some(seq) = seen.frame["data"]["seq"].as_u64() else {
            continue;
        };
        let count = received.entry(seq).or_default();
        *count += 1;
        if *count > 1 {
            duplicated += 1;
            continue;
        }
        delivered += 1;
        if seen.conn != (seq as usize) % s || seen.frame["from"] != pub_id.as_str() {
            misrouted += 1;
        }
    }
    let elapsed = started.elapsed();
    let lost = total - delivered;
    let rate = delivered as f64 / elapsed.as_secs_f64();
    report(
        label,
        "throughput",
        format!(
            "{delivered} messages to {s} subscribers (window {window}) in {:.0} ms: {rate:.0} msg/s; lost {lost}, duplicated {duplicated}, misrouted {misrouted}",
            ms(elapsed)
        ),
        json!({"subscribers": s, "messages": total, "window": window, "msgs_per_s": rate,
               "lost": lost, "duplicated": duplicated, "misrouted": misrouted}),
    );
    let _ = publisher.send(Message::Close(None)).await;
    for mut sub in subs {
        let _ = sub.send(Message::Close(None)).await;
    }
    if lost + duplicated + misrouted > 0 {
        return Err("messages were lost, duplicated or misrouted".into());
    }
    Ok(())
}

/// A reconnect storm: N subscribers join a stream with a publisher, all lose their connections
/// at once (TCP closed without a close frame, as a network drop or a deploy does), the
/// publisher sends each one NOTIFY while they are away (the server queues it), then every
/// subscriber resumes with its resume value, 50 at a time. Reports resumes per second (until
/// the last one has its queued frame) and, per subscriber, the time from starting to reconnect
/// to its first queued frame delivered.
async fn resume(base: &str, label: &str, n: usize) -> Result<(), String> {
    let path = format!("/bench/resume-{n}-{}", std::process::id());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (mut publisher, _) = join(base, &path, "publish", n, tx.clone()).await?;
    let mut members = Vec::with_capacity(n);
    for batch in (0..n).collect::<Vec<_>>().chunks(50) {
        let url = format!("{base}{path}?mode=subscribe");
        let joins = batch.iter().map(|&i| open(&url, i, tx.clone()));
        for result in futures_util::future::join_all(joins).await {
            let (sink, created, reader) = result?;
            let id = created["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let value = created["data"]["resume"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if value.is_empty() {
                return Err("no resume value in created: is resume on?".into());
            }
            members.push((sink, reader, id, value));
        }
    }
    let mut subscribed = 0;
    while subscribed < n {
        let seen = rx.recv().await.ok_or("readers ended")?;
        if seen.conn == n && event_type(&seen.frame) == Some("subscribed") {
            subscribed += 1;
        }
    }
    // Drop every subscriber's TCP connection without a close frame: the server sees 1006, a
    // connection lost, and keeps each member away for its grace period.
    let mut away = Vec::with_capacity(n);
    for (sink, reader, id, value) in members {
        reader.abort();
        let _ = reader.await;
        drop(sink);
        away.push((id, value));
    }
    // Give the server a moment to take the closes (nothing tells a peer a member is away).
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (i, (id, _)) in away.iter().enumerate() {
        send(
            &mut publisher,
            &json!({"method":"NOTIFY","to":id,"data":{"queued":i}}),
        )
        .await?;
    }
    // The object takes a connection's frames in order: once this is answered, every NOTIFY
    // above has been queued.
    send(
        &mut publisher,
        &json!({"method":"GET","resource":"/peerconnection","msg_id":1}),
    )
    .await?;
    loop {
        let seen = rx.recv().await.ok_or("readers ended")?;
        if seen.conn == n && seen.frame["msg_id"] == 1 {
            break;
        }
        if seen.conn == n && event_type(&seen.frame) == Some("unsubscribed") {
            return Err(format!(
                "a subscriber departed instead of going away: {}",
                seen.frame
            ));
        }
    }

    let started = Instant::now();
    let mut times = Vec::with_capacity(n);
    let mut sinks = Vec::with_capacity(n);
    for batch in away.chunks(50) {
        let resumes = batch.iter().enumerate().map(|(k, (id, value))| {
            let url = format!("{base}{path}?mode=subscribe&resume={value}");
            let (tx, mut mine) = mpsc::unbounded_channel();
            async move {
                let at = Instant::now();
                let (sink, created, _) = open(&url, k, tx).await?;
                if created["data"]["resumed"] != true || created["data"]["id"] != id.as_str() {
                    return Err(format!("resume answered {created}"));
                }
                loop {
                    let seen = mine.recv().await.ok_or("resumed reader ended")?;
                    if seen.frame["method"] == "NOTIFY" {
                        return Ok((sink, seen.at - at));
                    }
                }
            }
        });
        for result in futures_util::future::join_all(resumes).await {
            let (sink, took) = result?;
            sinks.push(sink);
            times.push(took);
        }
    }
    let elapsed = started.elapsed();
    times.sort();
    let pct = |p: f64| {
        let i = ((times.len() as f64 * p).ceil() as usize).saturating_sub(1);
        ms(times.get(i).copied().unwrap_or_default())
    };
    let per_sec = n as f64 / elapsed.as_secs_f64();
    report(
        label,
        "resume",
        format!(
            "{n} members resumed in {:.0} ms ({per_sec:.0}/s); reconnect to first queued frame p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
            ms(elapsed),
            pct(0.5),
            pct(0.9),
            pct(0.99)
        ),
        json!({"n": n, "resumes_per_s": per_sec, "first_frame_p50_ms": pct(0.5),
               "first_frame_p90_ms": pct(0.9), "first_frame_p99_ms": pct(0.99)}),
    );
    let _ = publisher.send(Message::Close(None)).await;
    for mut sink in sinks {
        let _ = sink.send(Message::Close(None)).await;
    }
    Ok(())
}
