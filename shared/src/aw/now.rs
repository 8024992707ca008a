//! What the person is doing right now, in one line, from a running ActivityWatch server:
//! the current window (categorised with their rules) and whether they are at the computer.

use super::categories::{default_rules, Categorizer};
use super::client::Client;
use anyhow::Result;

/// `Work > Programming · code — main.rs · active 12 min` (or `· away`).
pub fn summary(client: &Client) -> Result<String> {
    let (window, afk) = client.host_buckets(None)?;
    let Some(mut current) = client.latest_event(&window)? else {
        return Ok("no window events yet".into());
    };
    let rules = client.categories().ok().flatten().unwrap_or_else(default_rules);
    Categorizer::new(&rules)?.categorize(std::slice::from_mut(&mut current));
    let text = |k: &str| current.data.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let category = current
        .data
        .get("$category")
        .and_then(|v| v.as_array())
        .map(|parts| parts.iter().filter_map(|p| p.as_str()).collect::<Vec<_>>().join(" > "))
        .unwrap_or_default();
    let state = match client.latest_event(&afk)? {
        Some(e) if e.data.get("status").and_then(|s| s.as_str()) == Some("afk") => "away".to_string(),
        Some(e) => format!("active {} min", e.duration_us / 60_000_000),
        None => "activity unknown".to_string(),
    };
    Ok(format!("{category} · {} — {} · {state}", text("app"), text("title")))
}

/// The categorised "active window while not AFK" timeline of `[since, until)` from a
/// running server, as app events (what vrd-rank cuts "now" from).
pub fn recent_app_events(
    client: &Client,
    hostname: Option<&str>,
    since: crate::time::Timestamp,
    until: crate::time::Timestamp,
) -> Result<Vec<crate::records::AppEvent>> {
    let (window, afk) = client.host_buckets(hostname)?;
    let rules = client.categories()?.unwrap_or_else(default_rules);
    let period = (crate::time::format_rfc3339(&since), crate::time::format_rfc3339(&until));
    let mut events = client.canonical_timeline(&window, &afk, (&period.0, &period.1))?;
    Categorizer::new(&rules)?.categorize(&mut events);
    Ok(super::to_app_events(&events, &window))
}
