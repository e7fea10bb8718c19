//! Builds ICE configurations from the deployment's variables and secrets, calling Cloudflare's
//! TURN API when it is configured. Shared by `GET /peerconnection` on the WebSocket and the
//! `GET /api/ice-servers` HTTP endpoint.

use std::time::Duration;

use futures_util::future::{select, Either};
use streams_core::ice::{parse_cloudflare_response, IceConfiguration, IceSettings};
use streams_core::ConfigError;
use worker::wasm_bindgen::JsValue;
use worker::{console_error, Date, Delay, Env, Fetch, Headers, Method, Request, RequestInit};

/// Cloudflare usually answers in tens of milliseconds; past this the other sources answer alone.
const CLOUDFLARE_TIMEOUT: Duration = Duration::from_secs(3);

/// The ICE sources of this deployment, or why they are unusable.
pub struct IceService {
    settings: Result<IceSettings, ConfigError>,
}

impl IceService {
    /// Reads every ICE variable and secret once; a bad one is logged here, at start-up, and
    /// reported to every client that asks, rather than silently replaced by a default.
    pub fn from_env(env: &Env) -> Self {
        let lookup = |name: &str| crate::settings::read(env, name);
        let settings = IceSettings::from_vars(&lookup);
        if let Err(e) = &settings {
            console_error!("ICE configuration is invalid: {e}");
        }
        Self { settings }
    }

    /// A configuration for one client; `label` goes into minted TURN usernames.
    pub async fn configuration(&self, label: &str) -> Result<IceConfiguration, ConfigError> {
        let settings = self.settings.as_ref().map_err(Clone::clone)?;
        let cloudflare = match settings.cloudflare_request() {
            Some(request) => match ask_cloudflare(&request).await {
                Ok(servers) => Some(servers),
                Err(e) => {
                    console_error!("Cloudflare TURN unavailable, answering without it: {e}");
                    None
                }
            },
            None => None,
        };
        let now_unix = Date::now().as_millis() / 1000;
        Ok(settings.configuration(label, now_unix, cloudflare))
    }
}

async fn ask_cloudflare(
    request: &streams_core::ice::CloudflareRequest,
) -> Result<Vec<serde_json::Value>, ConfigError> {
    let fail = |e: worker::Error| ConfigError(e.to_string());
    let headers = Headers::new();
    headers
        .set("Authorization", &request.authorization)
        .map_err(fail)?;
    headers
        .set("Content-Type", "application/json")
        .map_err(fail)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&request.body)));
    let req = Request::new_with_init(&request.url, &init).map_err(fail)?;
    let call = Box::pin(async move {
        let mut response = Fetch::Request(req).send().await?;
        let status = response.status_code();
        let body = response.text().await?;
        Ok::<_, worker::Error>((status, body))
    });
    let timeout = Box::pin(Delay::from(CLOUDFLARE_TIMEOUT));
    let (status, body) = match select(call, timeout).await {
        Either::Left((answer, _)) => answer.map_err(fail)?,
        Either::Right(_) => return Err(ConfigError("no answer within 3 s".into())),
    };
    if !(200..300).contains(&status) {
        return Err(ConfigError(format!("HTTP {status}")));
    }
    parse_cloudflare_response(&body)
}
