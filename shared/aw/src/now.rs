//! What the person is doing right now, in one line, from a running ActivityWatch server:
//! the current window (categorised with their rules) and whether they are at the computer.

use crate::client::Client;
use crate::hosts::Hosts;
use crate::timeline::Source;
use anyhow::Result;

/// `Work > Programming · code — main.rs · active 12 min` (or `· away`), for the first of
/// the chosen hosts.
pub fn summary(client: &Client, hosts: &Hosts) -> Result<String> {
    let source = Source::Server(client);
    let Some(host) = source.hosts(hosts)?.into_iter().next() else {
        return Ok("no window watcher".into());
    };
    let Some(mut current) = client.latest_event(&host.window)? else {
        return Ok("no window events yet".into());
    };
    source.rules(None)?.categorize(std::slice::from_mut(&mut current));
    let text = |k: &str| current.data.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let category = current
        .data
        .get("$category")
        .and_then(|v| v.as_array())
        .map(|parts| parts.iter().filter_map(|p| p.as_str()).collect::<Vec<_>>().join(" > "))
        .unwrap_or_default();
    let afk = match &host.afk {
        Some(bucket) => client.latest_event(bucket)?,
        None => None,
    };
    let state = match (&host.afk, afk) {
        (None, _) => format!("on {}", host.host),
        (Some(_), Some(e)) if e.data.get("status").and_then(|s| s.as_str()) == Some("afk") => "away".to_string(),
        (Some(_), Some(e)) => format!("active {} min", e.duration_us / 60_000_000),
        (Some(_), None) => "activity unknown".to_string(),
    };
    Ok(format!("{category} · {} — {} · {state}", text("app"), text("title")))
}
