//! A client for a running ActivityWatch server's REST API (`/api/0`): buckets, settings
//! (the category rules) and the query API that computes the canonical timeline on the
//! server. An API key, when the server wants one, is sent as a Bearer token and never
//! printed.

use crate::categories::CategorySpec;
use crate::{BucketInfo, Event, WireEvent};
use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub const DEFAULT_SERVER: &str = "http://localhost:5600";

pub struct Client {
    base: String,
    agent: ureq::Agent,
    api_key: Option<String>,
}

impl Client {
    pub fn new(base: &str, api_key: Option<String>) -> Result<Client> {
        let agent = crate::http::agent_for(
            base,
            ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(5)).timeout(Duration::from_secs(120)),
        )?;
        Ok(Client { base: base.trim_end_matches('/').to_string(), agent, api_key })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/0/{path}", self.base)
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let req = self.agent.request(method, &self.url(path));
        match &self.api_key {
            Some(key) => req.set("Authorization", &format!("Bearer {key}")),
            None => req,
        }
    }

    fn handle(&self, path: &str, result: Result<ureq::Response, ureq::Error>) -> Result<Value> {
        let url = self.url(path);
        match result {
            Ok(resp) => resp.into_json().map_err(|e| anyhow!("{url}: unreadable answer: {e}")),
            Err(ureq::Error::Status(code, resp)) => {
                let body = resp.into_string().unwrap_or_default();
                let hint = if code == 401 { " (set VRD_AW_API_KEY or --api-key-file)" } else { "" };
                bail!("{url}: ActivityWatch answered {code}{hint}: {}", body.chars().take(300).collect::<String>())
            }
            Err(ureq::Error::Transport(t)) => bail!(
                "cannot reach ActivityWatch at {}: {} (is aw-server running there? --aw-server or VRD_AW_SERVER \
                 names another address)",
                self.base,
                crate::http::transport_words(&t)
            ),
        }
    }

    fn get(&self, path: &str) -> Result<Value> {
        self.handle(path, self.request("GET", path).call())
    }

    pub fn hostname(&self) -> Result<String> {
        let info = self.get("info")?;
        info["hostname"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("{}: no hostname in the answer", self.url("info")))
    }

    pub fn buckets(&self) -> Result<Vec<BucketInfo>> {
        let map: BTreeMap<String, BucketInfo> = serde_json::from_value(self.get("buckets/")?)?;
        Ok(map
            .into_iter()
            .map(|(id, mut b)| {
                if b.id.is_empty() {
                    b.id = id;
                }
                b
            })
            .collect())
    }

    /// The most recent event of a bucket (the watchers keep extending it while nothing
    /// changes).
    pub fn latest_event(&self, bucket: &str) -> Result<Option<Event>> {
        let path = format!("buckets/{bucket}/events?limit=1");
        let events: Vec<WireEvent> = serde_json::from_value(self.get(&path)?)
            .map_err(|e| anyhow!("{}: unreadable events: {e}", self.url(&path)))?;
        Ok(events.into_iter().next().map(Event::from))
    }

    /// A bucket's raw events over `[since, until]`, oldest first (an event reaching into
    /// the period from before it comes cut to its start, as the server answers).
    pub fn events(&self, bucket: &str, (since, until): (&str, &str)) -> Result<Vec<Event>> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("start", since)
            .append_pair("end", until)
            .append_pair("limit", "-1")
            .finish();
        let path = format!("buckets/{bucket}/events?{query}");
        let events: Vec<WireEvent> = serde_json::from_value(self.get(&path)?)
            .map_err(|e| anyhow!("{}: unreadable events: {e}", self.url(&path)))?;
        let mut events: Vec<Event> = events.into_iter().map(Event::from).collect();
        events.sort_by_key(|e| e.start_us);
        Ok(events)
    }

    /// The person's category rules (`classes` setting), `None` when none are set.
    pub fn categories(&self) -> Result<Option<Vec<CategorySpec>>> {
        let resp = self.request("GET", "settings/classes").call();
        match resp {
            Err(ureq::Error::Status(404, _)) => Ok(None),
            other => match self.handle("settings/classes", other)? {
                Value::Null => Ok(None),
                Value::Array(a) if a.is_empty() => Ok(None),
                v => Ok(Some(serde_json::from_value(v).map_err(|e| anyhow!("server's category rules: {e}"))?)),
            },
        }
    }

    /// Runs a query (its lines) over one period and returns its events.
    pub fn query(&self, lines: &[String], period: (&str, &str)) -> Result<Vec<Event>> {
        let body = json!({"timeperiods": [format!("{}/{}", period.0, period.1)], "query": lines});
        let result = self.handle("query/", self.request("POST", "query/").send_json(body))?;
        let first = result.as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Array(vec![]));
        let events: Vec<WireEvent> = serde_json::from_value(first)
            .map_err(|e| anyhow!("{}: unexpected query result: {e}", self.url("query/")))?;
        Ok(events.into_iter().map(Event::from).collect())
    }
}
