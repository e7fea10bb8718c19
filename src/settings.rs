//! The wrangler vars and secrets, read once per isolate into the core's [`Settings`].
//!
//! Vars cannot change while an isolate lives (a new deployment starts new isolates), so the
//! parsed settings are kept for its lifetime, and every problem with them, and who gets TURN
//! credentials, is logged once, when the isolate first needs them. Nothing else reads `env`
//! for a variable.

use std::cell::OnceCell;
use std::rc::Rc;

use streams_core::Settings;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{js_sys, Env};

use crate::log;

thread_local! {
    static SETTINGS: OnceCell<Rc<Settings>> = const { OnceCell::new() };
}

/// This isolate's settings, parsed on first use.
pub fn shared(env: &Env) -> Rc<Settings> {
    SETTINGS.with(|cell| {
        cell.get_or_init(|| {
            let (settings, errors) = Settings::from_vars(|name| read(env, name));
            for error in errors {
                log::error("config-problem")
                    .str("message", &error.to_string())
                    .emit();
            }
            log::info("ice-policy")
                .str("turn", settings.turn.as_str())
                .str("message", &settings.turn_summary())
                .emit();
            Rc::new(settings)
        })
        .clone()
    })
}

/// A var or secret as text. `[vars]` entries written as TOML numbers or booleans arrive as
/// JavaScript numbers or booleans, so those are accepted too, written as JavaScript writes them
/// (which also keeps Rust's float formatting out of the Wasm).
fn read(env: &Env, name: &str) -> Option<String> {
    let value = js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)).ok()?;
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if let Some(flag) = value.as_bool() {
        return Some(String::from(if flag { "true" } else { "false" }));
    }
    value.as_f64()?;
    let number: js_sys::Number = value.unchecked_into();
    number.to_string_with_radix(10).ok()?.as_string()
}
