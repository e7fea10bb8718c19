//! Per-client rate limits: the platform's Rate Limiting binding where `wrangler.toml` declares
//! one, otherwise a fallback counted in this isolate's memory.
//!
//! Clients are keyed by [`client_key`]: an IPv4 address, or an IPv6 /64. The binding counts
//! across the deployment (per Cloudflare location); the fallback only sees what one isolate
//! sees, so it is a guard against accidents and simple loops, not a hard limit.

use std::cell::RefCell;
use std::collections::HashMap;

use streams_core::{client_key, KeyedLimiter, Rate, DEFAULT_MAX_KEYS};
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{js_sys, Env};

use crate::log;

/// The binding that limits WebSocket connection attempts.
pub const CONNECT_LIMITER: &str = "CONNECT_LIMITER";
/// The binding that limits `GET /api/ice-servers`.
pub const ICE_LIMITER: &str = "ICE_LIMITER";
/// The binding that limits `GET /api/streams/<path>`.
pub const STATUS_LIMITER: &str = "STATUS_LIMITER";

thread_local! {
    /// Fallback buckets per binding name, for deployments without the binding.
    static FALLBACK: RefCell<HashMap<&'static str, KeyedLimiter>> = RefCell::new(HashMap::new());
}

/// How one kind of request is limited in this deployment.
pub enum Limiter {
    /// The platform's binding: an object with a `limit({key})` method returning a Promise.
    Binding(js_sys::Object),
    /// This isolate's own buckets.
    Isolate(&'static str, Rate),
    Off,
}

impl Limiter {
    /// The binding named `name` if the deployment has one, else the fallback `rate`, if any.
    pub fn new(env: &Env, name: &'static str, fallback: Option<Rate>) -> Self {
        let binding = js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name))
            .ok()
            .filter(|b| {
                js_sys::Reflect::get(b, &JsValue::from_str("limit")).is_ok_and(|f| f.is_function())
            })
            .and_then(|b| b.dyn_into::<js_sys::Object>().ok());
        match (binding, fallback) {
            (Some(binding), _) => Limiter::Binding(binding),
            (None, Some(rate)) => Limiter::Isolate(name, rate),
            (None, None) => Limiter::Off,
        }
    }

    /// Whether the binding must be asked (asynchronously) for this request.
    pub fn is_binding(&self) -> bool {
        matches!(self, Limiter::Binding(_))
    }

    /// Counts a request from `address` (`CF-Connecting-IP`) in the fallback; `true` lets it
    /// through. Always `true` when the binding decides (ask [`Limiter::allow`]) or nothing does.
    pub fn allow_now(&self, address: Option<&str>, now_ms: u64) -> bool {
        let (Limiter::Isolate(name, rate), Some(address)) = (self, address) else {
            return true;
        };
        let key = client_key(address);
        FALLBACK.with(|cell| {
            cell.borrow_mut()
                .entry(*name)
                .or_insert_with(|| KeyedLimiter::new(*rate, DEFAULT_MAX_KEYS))
                .allow(&key, now_ms)
        })
    }

    /// Counts a request from `address`, asking the binding when there is one. A binding that
    /// fails (a platform fault, not the client's doing) lets the request through and is logged.
    pub async fn allow(&self, address: Option<&str>, now_ms: u64) -> bool {
        let (Limiter::Binding(binding), Some(address)) = (self, address) else {
            return self.allow_now(address, now_ms);
        };
        match ask(binding, &client_key(address)).await {
            Ok(allowed) => allowed,
            Err(e) => {
                log::error("rate-limiter-failed")
                    .str(
                        "message",
                        "the rate limiting binding failed; the request was let through",
                    )
                    .str("error", &format!("{e:?}"))
                    .emit();
                true
            }
        }
    }
}

/// `binding.limit({ key })`, resolved to its `success`.
async fn ask(binding: &js_sys::Object, key: &str) -> Result<bool, JsValue> {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"key".into(), &JsValue::from_str(key))?;
    let limit: js_sys::Function = js_sys::Reflect::get(binding, &"limit".into())?.dyn_into()?;
    let promise: js_sys::Promise = limit.call1(binding, &options)?.dyn_into()?;
    let outcome = JsFuture::from(promise).await?;
    Ok(js_sys::Reflect::get(&outcome, &"success".into())?
        .as_bool()
        .unwrap_or(true))
}
