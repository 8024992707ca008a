//! `vrd-ingest youtube discover --db`: channels the person has never watched, found through
//! the Data API within a daily budget they set, each found channel entering the plan as
//! "discovered" (and leaving it if never watched within four weeks,
//! `vrd_core::reach::DISCOVERED_DAYS`).
//!
//! Where it looks, in this order: `search.list` for the person's recent searches and for
//! their strongest current interests (the recent watches grouped by the words their titles
//! share, one query a group, from those words); the channels featured
//! (`channelSections.list`) by the channels they watch most; and `videos.list
//! chart=mostPopular` in their region for the categories they watch. What is found comes
//! with its uploads as candidates.
//!
//! Quota (YouTube's table, 2026): `search.list` has its own daily bucket of 100 calls, one
//! unit a call; every other method comes out of 10,000 units a day, `channelSections.list`,
//! `videos.list` and `videoCategories.list` one unit each. The default budget (10 searches,
//! 100 units a day) stays well under both, leaving room for `youtube videos`. Every unit
//! spent is logged in the store (`api_spend`), and a day's budget counts what the log holds
//! for that (UTC) day: a run stops when the budget is spent, and the next day's resumes
//! with what was not done (a task done in the last week is not done again).

use super::api::{ApiClient, QuotaExhausted};
use super::parse;
use anyhow::Result;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use vrd_core::reach::DiscoveredChannel;
use vrd_core::records::{Video, WatchEvent};
use vrd_core::time::Timestamp;
use vrd_store::Store;

/// The two quota buckets, as the spend log names them.
const SEARCH: &str = "search";
const UNITS: &str = "units";
/// How far back the "recent" searches and watches reach.
const RECENT_DAYS: i64 = 30;
/// A task done within this long is not done again.
const REDO_DAYS: i64 = 7;
/// Queries from the person's interests, and channels whose featured channels are asked.
const INTEREST_QUERIES: usize = 3;
const TOP_CHANNELS: usize = 3;
const POPULAR_CATEGORIES: usize = 2;

pub struct Budget {
    pub searches_per_day: u32,
    pub units_per_day: u32,
}

/// One thing to ask: what the log calls it, its bucket, and the request.
struct Task {
    what: String,
    quota: &'static str,
    kind: TaskKind,
}

enum TaskKind {
    Search { query: String, why: &'static str },
    Featured { channel_id: String, title: String },
    Popular { region: String, category_id: String, category: String },
}

/// The day's discovery: the tasks not done lately, in order, until the budget is spent.
pub fn run(
    client: &mut ApiClient,
    store: &mut Store,
    budget: &Budget,
    region: Option<&str>,
    at: Timestamp,
) -> Result<()> {
    let day = at.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let next_day = day + chrono::Duration::days(1);
    let watches = store.watch_events()?;
    let done = done_lately(store, at)?;
    let mut tasks = search_tasks(store, &watches, at)?;
    tasks.extend(featured_tasks(&watches, at));
    if let Some(region) = region {
        let spent = store.api_spent(UNITS, &day, &next_day)?;
        tasks.extend(popular_tasks(client, store, (region, &done), &watches, (at, spent, budget.units_per_day))?);
    }
    let known = known_channels(store, &watches)?;
    let (mut found, mut videos, mut ran) = (Vec::<DiscoveredChannel>::new(), Vec::<Video>::new(), 0usize);
    let mut spent_buckets: HashSet<&str> = HashSet::new();
    for task in tasks.into_iter().filter(|t| !done.contains(&t.what)) {
        if spent_buckets.contains(task.quota) {
            continue;
        }
        let (limit, spent) = match task.quota {
            SEARCH => (budget.searches_per_day, store.api_spent(SEARCH, &day, &next_day)?),
            _ => (budget.units_per_day, store.api_spent(UNITS, &day, &next_day)?),
        };
        if spent >= limit {
            eprintln!(
                "vrd-ingest: discover: the day's budget of {limit} {} is spent; the rest comes tomorrow",
                if task.quota == SEARCH { "searches" } else { "units" }
            );
            spent_buckets.insert(task.quota);
            continue;
        }
        let answer = match &task.kind {
            TaskKind::Search { query, .. } => client.get(
                "search",
                &[
                    ("part", "snippet"),
                    ("type", "video"),
                    ("maxResults", "25"),
                    ("q", query),
                    ("publishedAfter", &vrd_core::time::format_rfc3339(&(at - chrono::Duration::days(RECENT_DAYS)))),
                ],
            ),
            TaskKind::Featured { channel_id, .. } => {
                client.get("channelSections", &[("part", "contentDetails"), ("channelId", channel_id)])
            }
            TaskKind::Popular { region, category_id, .. } => client.get(
                "videos",
                &[
                    ("part", "snippet,contentDetails"),
                    ("chart", "mostPopular"),
                    ("regionCode", region),
                    ("videoCategoryId", category_id),
                    ("maxResults", "25"),
                ],
            ),
        };
        // A call answered or refused costs its unit all the same.
        store.log_api_spend(&at, task.quota, 1, &task.what)?;
        let answer = match answer {
            Ok(a) => a,
            Err(e) if e.is::<QuotaExhausted>() => {
                eprintln!("vrd-ingest: discover: {e}; the rest comes tomorrow");
                break;
            }
            Err(e) => {
                eprintln!("vrd-ingest: discover: {}: {e:#}", task.what);
                continue;
            }
        };
        ran += 1;
        let (new_videos, channels) = read_answer(&task.kind, &answer)?;
        for (channel_id, title) in channels {
            if known.contains(&channel_id) || found.iter().any(|f| f.channel_id == channel_id) {
                continue;
            }
            let (how, detail) = match &task.kind {
                TaskKind::Search { query, .. } => ("search", query.clone()),
                TaskKind::Featured { title, .. } => ("featured", title.clone()),
                TaskKind::Popular { category, .. } => ("popular", category.clone()),
            };
            found.push(DiscoveredChannel { channel_id, title, found_at: at, how: how.into(), detail: Some(detail) });
        }
        let kept: HashSet<&str> = found.iter().map(|f| f.channel_id.as_str()).collect();
        // The uploads of channels new to the person are candidates (those of channels
        // already followed come with their feeds).
        videos.extend(new_videos.into_iter().filter(|v| v.channel_id.as_deref().is_some_and(|c| kept.contains(c))));
    }
    let channels = store.upsert_discovered(&found)?;
    let stored = store.upsert_videos(&videos)?;
    eprintln!(
        "vrd-ingest: discover: {ran} requests; {} new channels ({}), {} of their uploads ({stored})",
        channels.inserted,
        found.iter().map(|f| f.title.as_deref().unwrap_or(&f.channel_id)).collect::<Vec<_>>().join(", "),
        videos.len()
    );
    Ok(())
}

/// The tasks done within [`REDO_DAYS`] (the spend log's `what`).
fn done_lately(store: &Store, at: Timestamp) -> Result<HashSet<String>> {
    Ok(store.api_spend_whats(&(at - chrono::Duration::days(REDO_DAYS)), &at)?.into_iter().collect())
}

/// Every channel the person already has: watched, subscribed, or found before.
fn known_channels(store: &Store, watches: &[WatchEvent]) -> Result<HashSet<String>> {
    let mut known: HashSet<String> = watches.iter().filter_map(|w| w.channel_id.clone()).collect();
    known.extend(store.subscriptions()?.into_iter().filter_map(|s| s.channel_id));
    known.extend(store.discovered_channels()?.into_iter().map(|d| d.channel_id));
    Ok(known)
}

/// Searches: the person's recent queries (latest first), then their interests.
fn search_tasks(store: &Store, watches: &[WatchEvent], at: Timestamp) -> Result<Vec<Task>> {
    let since = at - chrono::Duration::days(RECENT_DAYS);
    let mut searches: Vec<_> =
        store.searches()?.into_iter().filter(|s| s.searched_at >= since && s.searched_at <= at).collect();
    searches.sort_by_key(|s| std::cmp::Reverse(s.searched_at));
    let mut seen = HashSet::new();
    let mut tasks: Vec<Task> = searches
        .into_iter()
        .filter(|s| seen.insert(s.query.to_lowercase()))
        .map(|s| Task {
            what: format!("search:{}", s.query),
            quota: SEARCH,
            kind: TaskKind::Search { query: s.query, why: "search" },
        })
        .collect();
    let recent: Vec<&WatchEvent> =
        watches.iter().filter(|w| w.watched_at >= since && w.watched_at <= at && !w.title_unknown).collect();
    for query in interest_queries(&recent.iter().map(|w| w.title.as_str()).collect::<Vec<_>>()) {
        if seen.insert(query.to_lowercase()) {
            tasks.push(Task {
                what: format!("interest:{query}"),
                quota: SEARCH,
                kind: TaskKind::Search { query, why: "interest" },
            });
        }
    }
    Ok(tasks)
}

/// Words too common in titles to say what a video is about.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "you", "your", "how", "what", "why", "this", "that", "from", "are", "was", "not",
    "all", "official", "video", "full", "episode", "part", "new", "live", "music", "feat", "vs", "los", "las", "del",
    "und", "der", "die", "das", "les", "des", "une", "con", "para", "por", "ile", "bir", "shorts",
];

/// One query per group of recent watches: the word most of their titles share, with the
/// word that most often goes with it; the group's titles then set aside, up to
/// [`INTEREST_QUERIES`] groups of at least two titles.
pub fn interest_queries(titles: &[&str]) -> Vec<String> {
    let words: Vec<HashSet<String>> = titles
        .iter()
        .map(|t| {
            t.split(|c: char| !c.is_alphanumeric())
                .map(str::to_lowercase)
                .filter(|w| w.chars().count() >= 3 || w.chars().any(|c| c as u32 >= 0x2E80))
                .filter(|w| !w.chars().all(|c| c.is_ascii_digit()) && !STOPWORDS.contains(&w.as_str()))
                .collect()
        })
        .collect();
    let mut left: Vec<usize> = (0..titles.len()).collect();
    let mut queries = Vec::new();
    while queries.len() < INTEREST_QUERIES {
        let count = |among: &[usize], skip: Option<&str>| -> Option<(String, usize)> {
            let mut n: HashMap<&str, usize> = HashMap::new();
            for &i in among {
                for w in &words[i] {
                    if Some(w.as_str()) != skip {
                        *n.entry(w.as_str()).or_default() += 1;
                    }
                }
            }
            n.into_iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0))).map(|(w, c)| (w.to_string(), c))
        };
        let Some((first, n)) = count(&left, None).filter(|(_, n)| *n >= 2) else { break };
        let group: Vec<usize> = left.iter().copied().filter(|&i| words[i].contains(&first)).collect();
        let query = match count(&group, Some(&first)).filter(|(_, m)| *m >= 2 && 2 * m >= n) {
            Some((second, _)) => format!("{first} {second}"),
            None => first.clone(),
        };
        queries.push(query);
        left.retain(|i| !words[*i].contains(&first));
    }
    queries
}

/// The channels featured by the channels watched most lately.
fn featured_tasks(watches: &[WatchEvent], at: Timestamp) -> Vec<Task> {
    let since = at - chrono::Duration::days(RECENT_DAYS);
    let mut counts: HashMap<(&str, &str), usize> = HashMap::new();
    for w in watches.iter().filter(|w| w.watched_at >= since && w.watched_at <= at) {
        if let Some(id) = w.channel_id.as_deref() {
            *counts.entry((id, w.channel.as_deref().unwrap_or(id))).or_default() += 1;
        }
    }
    let mut top: Vec<_> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.into_iter()
        .take(TOP_CHANNELS)
        .map(|((id, title), _)| Task {
            what: format!("featured:{id}"),
            quota: UNITS,
            kind: TaskKind::Featured { channel_id: id.into(), title: title.into() },
        })
        .collect()
}

/// The region's most popular videos in the categories the person watches most (named as
/// the store names them; their ids asked of `videoCategories.list`, one unit, logged, and
/// only when one of those categories is not done lately).
fn popular_tasks(
    client: &mut ApiClient,
    store: &mut Store,
    (region, done): (&str, &HashSet<String>),
    watches: &[WatchEvent],
    (at, spent, budget): (Timestamp, u32, u32),
) -> Result<Vec<Task>> {
    let watched: HashSet<&str> = watches.iter().map(|w| w.video_id.as_str()).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for v in store.videos()?.into_iter().filter(|v| watched.contains(v.video_id.as_str())) {
        if let Some(c) = v.category {
            *counts.entry(c).or_default() += 1;
        }
    }
    let mut top: Vec<(String, usize)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(POPULAR_CATEGORIES);
    let what = |name: &str| format!("popular:{region}:{name}");
    if top.iter().all(|(name, _)| done.contains(&what(name))) || spent >= budget {
        return Ok(Vec::new());
    }
    let answer = client.get("videoCategories", &[("part", "snippet"), ("regionCode", region)]);
    store.log_api_spend(&at, UNITS, 1, &format!("categories:{region}"))?;
    let ids: HashMap<String, String> = answer?
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c.pointer("/snippet/title")?.as_str()?.to_string(), c.get("id")?.as_str()?.to_string())))
        .collect();
    Ok(top
        .into_iter()
        .filter_map(|(name, _)| {
            let id = ids.get(&name).cloned()?;
            Some(Task {
                what: what(&name),
                quota: UNITS,
                kind: TaskKind::Popular { region: region.to_string(), category_id: id, category: name },
            })
        })
        .collect())
}

/// A channel an answer names, with its title where it says it.
type NamedChannel = (String, Option<String>);

/// An answer's videos and the channels it names.
fn read_answer(kind: &TaskKind, answer: &Value) -> Result<(Vec<Video>, Vec<NamedChannel>)> {
    let items = answer.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    match kind {
        TaskKind::Search { why, .. } => {
            let videos: Vec<Video> = items.iter().filter_map(|i| search_video(i, why)).collect();
            let channels = videos.iter().filter_map(|v| Some((v.channel_id.clone()?, v.channel.clone()))).collect();
            Ok((videos, channels))
        }
        TaskKind::Featured { .. } => {
            let channels = items
                .iter()
                .filter_map(|s| s.pointer("/contentDetails/channels").and_then(Value::as_array))
                .flatten()
                .filter_map(|c| c.as_str().map(|id| (id.to_string(), None)))
                .collect();
            Ok((Vec::new(), channels))
        }
        TaskKind::Popular { .. } => {
            let videos: Vec<Video> = items.iter().map(|i| parse::video(i, &HashMap::new())).collect::<Result<_>>()?;
            let channels = videos.iter().filter_map(|v| Some((v.channel_id.clone()?, v.channel.clone()))).collect();
            Ok((videos, channels))
        }
    }
}

/// A `search.list` result as a candidate: what its snippet says.
fn search_video(item: &Value, why: &str) -> Option<Video> {
    let s = item.get("snippet")?;
    let text = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_string);
    serde_json::from_value(serde_json::json!({
        "video_id": item.pointer("/id/videoId")?.as_str()?,
        "title": text("title")?,
        "description": text("description").unwrap_or_default(),
        "channel": text("channelTitle"),
        "channel_id": text("channelId"),
        "published_at": text("publishedAt").and_then(|p| vrd_core::time::parse_rfc3339(&p).ok()),
        "source": format!("youtube-search-{why}"),
    }))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interests_are_the_words_the_recent_titles_share() {
        let titles = [
            "Sourdough bread for beginners",
            "My sourdough starter, day 5",
            "Sourdough starter troubleshooting",
            "Rust async in 10 minutes",
            "Rust async: pinning explained",
            "A cat video",
        ];
        assert_eq!(interest_queries(&titles), ["sourdough starter", "async rust"]);
        let chinese = ["台灣 新聞 今日", "台灣 新聞 直播", "天氣"];
        assert_eq!(interest_queries(&chinese), ["台灣 新聞"]);
        assert!(interest_queries(&["one title"]).is_empty(), "a group is at least two titles");
    }
}
