//! The YouTube Data API v3 over HTTP: authentication in headers (so that no URL, log line
//! or error message ever carries the key), retries with exponential backoff on rate limits
//! and server errors, and a distinct error when the daily quota is spent.

use anyhow::{anyhow, Result};
use serde_json::Value;
use std::time::Duration;

pub const DEFAULT_BASE: &str = "https://www.googleapis.com/youtube/v3";

/// How a request proves who it is for.
pub enum Auth {
    /// A Data API key (public data only).
    Key(String),
    /// An OAuth access token (the person's own ratings).
    Bearer(String),
}

/// The daily quota is spent: retrying today is pointless, so the run stops and says so.
#[derive(Debug)]
pub struct QuotaExhausted(pub String);

impl std::fmt::Display for QuotaExhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "YouTube API quota exhausted ({}); it resets at midnight Pacific time", self.0)
    }
}

impl std::error::Error for QuotaExhausted {}

pub struct ApiClient {
    base: String,
    auth: Auth,
    agent: ureq::Agent,
    retries: u32,
    backoff: Duration,
    /// Requests that got an answer (each costs quota).
    pub calls: u32,
}

/// What to do with a failed request.
enum Failure {
    Retry(String, Option<Duration>),
    Quota(String),
    Fatal(String),
}

impl ApiClient {
    pub fn new(base: &str, auth: Auth, retries: u32, backoff: Duration) -> Result<ApiClient> {
        let agent = vrd_aw::http::agent(ureq::AgentBuilder::new().timeout(Duration::from_secs(60)))?;
        Ok(ApiClient { base: base.trim_end_matches('/').to_string(), auth, agent, retries, backoff, calls: 0 })
    }

    /// GET `{base}/{endpoint}?params` as JSON, retrying what can be retried.
    pub fn get(&mut self, endpoint: &str, params: &[(&str, &str)]) -> Result<Value> {
        let url = format!("{}/{endpoint}", self.base);
        let mut attempt = 0;
        loop {
            let mut req = self.agent.get(&url);
            for (k, v) in params {
                req = req.query(k, v);
            }
            req = match &self.auth {
                Auth::Key(key) => req.set("X-Goog-Api-Key", key),
                Auth::Bearer(token) => req.set("Authorization", &format!("Bearer {token}")),
            };
            let failure = match req.call() {
                Ok(resp) => {
                    self.calls += 1;
                    return resp.into_json().map_err(|e| anyhow!("youtube {endpoint}: unreadable response: {e}"));
                }
                Err(ureq::Error::Status(code, resp)) => {
                    self.calls += 1;
                    classify(code, resp)
                }
                Err(ureq::Error::Transport(t)) => Failure::Retry(format!("{}", t.kind()), None),
            };
            match failure {
                Failure::Quota(msg) => return Err(QuotaExhausted(msg).into()),
                Failure::Fatal(msg) => return Err(anyhow!("youtube {endpoint}: {msg}")),
                Failure::Retry(msg, _) if attempt >= self.retries => {
                    return Err(anyhow!("youtube {endpoint}: {msg} (gave up after {} tries)", attempt + 1))
                }
                Failure::Retry(msg, after) => {
                    let wait = after.unwrap_or(self.backoff * 2u32.saturating_pow(attempt));
                    eprintln!("vrd-ingest: youtube {endpoint}: {msg}; retrying in {:.1} s", wait.as_secs_f64());
                    std::thread::sleep(wait);
                    attempt += 1;
                }
            }
        }
    }

    /// Every page of a list endpoint (following `nextPageToken`), up to `limit` items.
    pub fn get_all(&mut self, endpoint: &str, params: &[(&str, &str)], limit: Option<usize>) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut page_params = params.to_vec();
            if let Some(t) = &token {
                page_params.push(("pageToken", t));
            }
            let page = self.get(endpoint, &page_params)?;
            if let Some(list) = page.get("items").and_then(Value::as_array) {
                items.extend(list.iter().cloned());
            }
            if limit.is_some_and(|l| items.len() >= l) {
                items.truncate(limit.unwrap_or(usize::MAX));
                return Ok(items);
            }
            match page.get("nextPageToken").and_then(Value::as_str) {
                Some(next) if Some(next) != token.as_deref() => token = Some(next.to_string()),
                _ => return Ok(items),
            }
        }
    }
}

/// Google's error body: `{"error": {"code", "message", "errors": [{"reason", …}]}}`.
fn classify(code: u16, resp: ureq::Response) -> Failure {
    let retry_after = resp.header("Retry-After").and_then(|s| s.trim().parse::<u64>().ok()).map(Duration::from_secs);
    let body: Value = resp.into_json().unwrap_or(Value::Null);
    let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or("").to_string();
    let reason =
        body.pointer("/error/errors/0/reason").and_then(Value::as_str).unwrap_or("no reason given").to_string();
    let described =
        format!("HTTP {code} {reason}{}", if message.is_empty() { String::new() } else { format!(": {message}") });
    match (code, reason.as_str()) {
        (_, "quotaExceeded" | "dailyLimitExceeded") => Failure::Quota(described),
        (429, _) | (500..=599, _) | (403, "rateLimitExceeded" | "userRateLimitExceeded") => {
            Failure::Retry(described, retry_after)
        }
        (400, "keyInvalid") | (400, "badRequest") if message.contains("API key") => {
            Failure::Fatal(format!("{described} (check the API key)"))
        }
        _ => Failure::Fatal(described),
    }
}
