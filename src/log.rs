//! Structured logs: one JSON object per line, written with the console method of its level, so
//! that Workers Logs indexes its fields and `wrangler tail --format json` carries it whole.
//!
//! Every line has `level` and `event` (a fixed kebab-case name, listed in docs/OPERATIONS.md)
//! and then fields from a small fixed vocabulary: `stream` (the stream key), `member`, `role`,
//! `code` (an error code's name), `close` (a WebSocket close code), `status` (an HTTP status)
//! and counts. Values come from the server's own state, never from a request's credentials:
//! names that would hold a secret are refused here, so a careless call cannot log one.

use serde_json::Value;

/// How serious a line is; also the console method it is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Field names that would carry a credential: never written.
const SECRET_NAMES: &[&str] = &[
    "token",
    "resume",
    "credential",
    "secret",
    "password",
    "authorization",
    "username",
];

/// Text longer than this is cut (paths and runtime messages are bounded, but a log line need
/// not carry all of a 2 KiB path).
const MAX_TEXT: usize = 512;

/// One log line being built: its JSON text so far, fields in the order given (level and event
/// first, so that a person reading raw lines sees them first).
#[must_use = "a line is written only by emit()"]
pub struct Line {
    level: Level,
    json: String,
}

pub fn info(event: &'static str) -> Line {
    Line::new(Level::Info, event)
}

pub fn warn(event: &'static str) -> Line {
    Line::new(Level::Warn, event)
}

pub fn error(event: &'static str) -> Line {
    Line::new(Level::Error, event)
}

impl Line {
    fn new(level: Level, event: &'static str) -> Self {
        let line = Self {
            level,
            json: String::from("{"),
        };
        line.field("level", level.as_str().into())
            .field("event", event.into())
    }

    /// A text field, cut to [`MAX_TEXT`] characters.
    pub fn str(self, name: &'static str, value: &str) -> Self {
        let text = match value.char_indices().nth(MAX_TEXT) {
            Some((cut, _)) => format!("{}…", value.get(..cut).unwrap_or_default()),
            None => value.to_owned(),
        };
        self.field(name, text.into())
    }

    pub fn num(self, name: &'static str, value: u64) -> Self {
        self.field(name, value.into())
    }

    pub fn flag(self, name: &'static str, value: bool) -> Self {
        self.field(name, value.into())
    }

    /// A text field when there is a value.
    pub fn opt_str(self, name: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(name, v),
            None => self,
        }
    }

    /// The `error` field: what a runtime call reported.
    pub fn err(self, e: &worker::Error) -> Self {
        self.str("error", &describe(e))
    }

    /// A number field when there is a value.
    pub fn opt_num(self, name: &'static str, value: Option<u64>) -> Self {
        match value {
            Some(v) => self.num(name, v),
            None => self,
        }
    }

    fn field(mut self, name: &'static str, value: Value) -> Self {
        if SECRET_NAMES.contains(&name) {
            return self;
        }
        if self.json.len() > 1 {
            self.json.push(',');
        }
        // Names are this crate's constants; values are escaped by serde_json.
        self.json.push_str(&Value::from(name).to_string());
        self.json.push(':');
        self.json.push_str(&value.to_string());
        self
    }

    /// The line as written.
    pub fn to_json(&self) -> String {
        format!("{}}}", self.json)
    }

    /// Writes the line.
    pub fn emit(self) {
        let text = wasm_bindgen::JsValue::from_str(&self.to_json());
        match self.level {
            Level::Info => worker::web_sys::console::log_1(&text),
            Level::Warn => worker::web_sys::console::warn_1(&text),
            Level::Error => worker::web_sys::console::error_1(&text),
        }
    }
}

/// A runtime error's message. Never `worker::Error`'s own `Display`: it formats every error
/// type workers-rs knows (its router's, I/O's, serializers'), kilobytes of Wasm for messages
/// this Worker never sees; only the variants its calls give are spelled out here.
pub fn describe(e: &worker::Error) -> String {
    use worker::Error;
    match e {
        Error::JsError(message) | Error::RustError(message) | Error::BindingError(message) => {
            message.clone()
        }
        Error::UnknownJsError {
            name: Some(name),
            message,
            ..
        } => [name.as_str(), message].join(": "),
        Error::UnknownJsError { message, .. } => message.clone(),
        other => <&'static str>::from(other).to_owned(),
    }
}

/// A runtime error as the runtime takes it from a handler: a JavaScript `Error` with the
/// message of [`describe`].
pub fn js_error(e: worker::Error) -> wasm_bindgen::JsValue {
    worker::js_sys::Error::new(&describe(&e)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_level_and_event_first() {
        let line = info("joined")
            .str("stream", "/s")
            .str("member", "ab12")
            .str("role", "pub")
            .num("subscribers", 2)
            .flag("live", true)
            .opt_num("close", None)
            .to_json();
        assert_eq!(
            line,
            r#"{"level":"info","event":"joined","stream":"/s","member":"ab12","role":"pub","subscribers":2,"live":true}"#
        );
    }

    /// The quoted kebab-case names that follow each `marker` in `text`.
    fn names_after(text: &str, marker: &str) -> Vec<String> {
        text.match_indices(marker)
            .filter_map(|(i, _)| {
                let rest = &text[i + marker.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                    .collect();
                (!name.is_empty() && rest[name.len()..].starts_with('"')).then_some(name)
            })
            .collect()
    }

    /// Every event the Worker logs is in docs/OPERATIONS.md's table of events, and every event
    /// there is logged somewhere.
    #[test]
    fn the_operators_guide_lists_exactly_the_events_logged() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut logged = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(root.join("src")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            // Only the code before a file's tests.
            let code = text.split("#[cfg(test)]").next().unwrap();
            for marker in ["log::info(\"", "log::warn(\"", "log::error(\"", "event: \""] {
                logged.extend(names_after(code, marker));
            }
            if path.ends_with("report.rs") {
                // Membership events are named in a table of (log event, data point) pairs.
                logged.extend(names_after(code, "=> (\""));
            }
        }
        // Data point names, which share the `event: "..."` spelling, are not log events.
        for point in ["refuse", "close"] {
            logged.remove(point);
        }
        let guide = std::fs::read_to_string(root.join("docs/OPERATIONS.md")).unwrap();
        let table: std::collections::BTreeSet<String> = guide
            .split("The events:")
            .nth(1)
            .unwrap()
            .lines()
            .skip_while(|l| !l.starts_with("| `"))
            .take_while(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('`').nth(1).map(str::to_owned))
            .collect();
        assert_eq!(
            logged, table,
            "src/ logs these events; docs/OPERATIONS.md lists those"
        );
    }

    #[test]
    fn a_runtime_error_is_described_by_its_message_alone() {
        let busy = worker::Error::RustError("stream state is busy".into());
        assert_eq!(describe(&busy), "stream state is busy");
        assert_eq!(describe(&worker::Error::JsError("closed".into())), "closed");
        // Any other kind is named, never formatted with the payload it carries.
        assert_eq!(describe(&worker::Error::BodyUsed), "BodyUsed");
        let line = error("runtime-error").err(&busy).to_json();
        assert!(
            line.ends_with(r#""error":"stream state is busy"}"#),
            "{line}"
        );
    }

    #[test]
    fn secret_field_names_are_never_written() {
        let line = warn("refused")
            .str("token", "eyJ.secret.sig")
            .str("resume", "r-value")
            .str("credential", "c")
            .str("code", "token-expired")
            .to_json();
        assert!(!line.contains("eyJ") && !line.contains("r-value"), "{line}");
        assert!(line.contains("token-expired"));
    }

    #[test]
    fn hostile_text_stays_inside_its_string_and_long_text_is_cut() {
        let line = error("failed")
            .str("error", "a\"}\n{\"event\":\"forged\"")
            .to_json();
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["event"], "failed");
        assert!(!line.contains('\n'));
        let long = "x".repeat(5000);
        let parsed: Value = serde_json::from_str(&info("e").str("path", &long).to_json()).unwrap();
        assert_eq!(
            parsed["path"].as_str().unwrap().chars().count(),
            MAX_TEXT + 1
        );
    }
}
