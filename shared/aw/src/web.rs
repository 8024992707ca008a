//! Watches seen live in the browser. ActivityWatch's web watcher (aw-watcher-web: one
//! bucket per browser, type `web.tab.current`, host `unknown` since the extension does not
//! know it) records the active tab's URL, title, audible and incognito flags, with its
//! duration. Its YouTube watch tabs are stretches of a video being open
//! ([`YoutubeTab`]; an incognito tab is dropped unread: no watch, no title, no count).
//!
//! A watch is one visit of a video: its stretches, each begun within
//! [`VISIT_GAP_MINUTES`] of the previous one's end (a glance at another tab, or the
//! watcher's own pauses, do not end it). It is dated when the video was first opened, and
//! `watched_s` is how long it was really watched: the time the tab played aloud, and
//! where it was silent, the time the browser was the window in front while the person was
//! not away (the "active window while not AFK" timeline), as ActivityWatch's own browser
//! time with "include audible" counts it. A visit open for less than the threshold is a
//! zap, not a watch.
//!
//! Where no web watcher runs, a browser window titled as a YouTube video (as Chrome titles
//! it, "Title - YouTube - Google Chrome") is a watch when its title names exactly one video
//! the store knows ([`window_title_watches`]).

use crate::{BucketInfo, Event, WEB_TYPE};
use serde_json::Value;
use std::collections::HashMap;
use vrd_core::records::{AppEvent, WatchEvent, YoutubeTab, FROM_BROWSER_TAB, FROM_WINDOW_TITLE};
use vrd_core::time::Timestamp;
use vrd_core::youtube::{title_of_tab, title_of_window, video_id_from_url};

/// The longest pause between two stretches of one video that still leaves them one visit.
pub const VISIT_GAP_MINUTES: i64 = 30;

/// Below this many seconds open, a video was zapped past rather than watched.
pub const DEFAULT_MIN_WATCH_S: f64 = 10.0;

/// The browsers' app names as the window watcher reports them (aw-client's list, every
/// browser together: one person's browsers are not told apart here).
const BROWSER_APPS: &[&str] = &[
    "Google Chrome",
    "Google-chrome",
    "chrome.exe",
    "google-chrome-stable",
    "Chromium",
    "Chromium-browser",
    "Chromium-browser-chromium",
    "chromium.exe",
    "Google-chrome-beta",
    "Google-chrome-unstable",
    "Brave-browser",
    "brave.exe",
    "Firefox",
    "Firefox.exe",
    "firefox",
    "firefox.exe",
    "Firefox Developer Edition",
    "firefoxdeveloperedition",
    "Firefox-esr",
    "Firefox Beta",
    "Nightly",
    "org.mozilla.firefox",
    "opera.exe",
    "Opera",
    "msedge.exe",
    "Microsoft Edge",
    "Vivaldi-stable",
    "Vivaldi-snapshot",
    "vivaldi.exe",
];

/// Whether a window's title is a private browser window's (Firefox's "— Mozilla Firefox
/// Private Browsing", Edge's "[InPrivate]", Chrome's and Brave's "(Incognito)" and
/// "(Private)"): its title is never kept, as an incognito tab never is.
pub fn is_private_window(title: &str) -> bool {
    let lower = title.to_lowercase();
    ["private browsing", "incognito", "inprivate", "(private)"].iter().any(|m| lower.contains(m))
}

/// Whether a window watcher's app is a browser.
pub fn is_browser(app: &str) -> bool {
    BROWSER_APPS.contains(&app)
}

/// The web watchers' buckets, every browser's (whatever host they name).
pub fn web_buckets(buckets: &[BucketInfo]) -> Vec<String> {
    let mut ids: Vec<String> = buckets.iter().filter(|b| b.kind == WEB_TYPE).map(|b| b.id.clone()).collect();
    ids.sort();
    ids
}

/// A web bucket's events as YouTube tab stretches, in time order: watch URLs only (any
/// form, [`video_id_from_url`]); an incognito tab is dropped here, before anything of it is
/// looked at.
pub fn youtube_tabs(bucket: &str, events: &[Event]) -> Vec<YoutubeTab> {
    let mut tabs: Vec<YoutubeTab> = events
        .iter()
        .filter(|e| e.data.get("incognito") != Some(&Value::Bool(true)))
        .filter(|e| e.duration_us > 0)
        .filter_map(|e| {
            let video_id = video_id_from_url(e.data.get("url")?.as_str()?)?;
            Some(YoutubeTab {
                bucket: bucket.to_string(),
                start: chrono::DateTime::from_timestamp_micros(e.start_us)?,
                duration_s: e.duration_us as f64 / 1e6,
                video_id,
                title: e.data.get("title").and_then(Value::as_str).unwrap_or_default().to_string(),
                audible: e.data.get("audible") == Some(&Value::Bool(true)),
            })
        })
        .collect();
    tabs.sort_by_key(|t| t.start);
    tabs
}

/// The watches `tabs` make, and how many visits were zaps.
#[derive(Debug, Default)]
pub struct Watches {
    pub watches: Vec<WatchEvent>,
    pub zaps: usize,
}

/// A half-open span of time in microseconds.
type Span = (i64, i64);

fn micros(t: &Timestamp) -> i64 {
    t.timestamp_micros()
}

fn span_of(start: &Timestamp, duration_s: f64) -> Span {
    let s = micros(start);
    (s, s + (duration_s * 1e6).round() as i64)
}

/// `spans` as a sorted union without overlaps.
fn union(mut spans: Vec<Span>) -> Vec<Span> {
    spans.retain(|(s, e)| e > s);
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn total_s(spans: &[Span]) -> f64 {
    spans.iter().map(|(s, e)| (e - s) as f64 / 1e6).sum()
}

/// The parts of `span` inside `periods` (sorted, no overlaps).
fn within(span: Span, periods: &[Span]) -> impl Iterator<Item = Span> + '_ {
    let first = periods.partition_point(|p| p.1 <= span.0);
    periods[first..].iter().take_while(move |p| p.0 < span.1).map(move |p| (p.0.max(span.0), p.1.min(span.1)))
}

/// Consecutive items (in time order) of one key, each begun within the visit gap of the
/// previous one's end, grouped; `key` None leaves an item out.
fn visits<T>(items: &[T], key: impl Fn(&T) -> Option<&str>, span: impl Fn(&T) -> Span) -> Vec<Vec<&T>> {
    let gap = VISIT_GAP_MINUTES * 60 * 1_000_000;
    let mut groups: Vec<(i64, Vec<&T>)> = Vec::new();
    let mut open: HashMap<&str, usize> = HashMap::new();
    for item in items {
        let Some(k) = key(item) else { continue };
        let (start, end) = span(item);
        match open.get(k).copied() {
            Some(i) if start - groups[i].0 <= gap => {
                groups[i].0 = groups[i].0.max(end);
                groups[i].1.push(item);
            }
            _ => {
                open.insert(k, groups.len());
                groups.push((end, vec![item]));
            }
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// The visits of YouTube tab stretches (any buckets, in time order): each video's
/// stretches grouped, a stretch begun more than [`VISIT_GAP_MINUTES`] after the previous
/// one's end beginning another visit. A visit depends on its own video's stretches alone.
pub fn tab_visits(tabs: &[YoutubeTab]) -> Vec<Vec<&YoutubeTab>> {
    visits(tabs, |t| Some(t.video_id.as_str()), |t| span_of(&t.start, t.duration_s))
}

/// The watches of YouTube tab stretches (any buckets, in time order). `timeline`: the app
/// events (active window while not AFK) of the same hours, which say when a browser was in
/// front; `min_watch_s`: the zap threshold, on the time the video was open.
pub fn watches(tabs: &[YoutubeTab], timeline: &[AppEvent], min_watch_s: f64) -> Watches {
    watches_of(&tab_visits(tabs), timeline, min_watch_s)
}

/// The watches of visits (from [`tab_visits`]), as [`watches`].
pub fn watches_of(visits: &[Vec<&YoutubeTab>], timeline: &[AppEvent], min_watch_s: f64) -> Watches {
    let front =
        union(timeline.iter().filter(|e| is_browser(&e.app)).map(|e| span_of(&e.start, e.duration_s)).collect());
    let mut out = Watches::default();
    for visit in visits {
        let open = union(visit.iter().map(|t| span_of(&t.start, t.duration_s)).collect());
        if total_s(&open) < min_watch_s {
            out.zaps += 1;
            continue;
        }
        let seen: Vec<Span> = visit
            .iter()
            .flat_map(|t| {
                let span = span_of(&t.start, t.duration_s);
                let parts: Vec<Span> = match t.audible {
                    true => vec![span],
                    false => within(span, &front).collect(),
                };
                parts
            })
            .collect();
        let first = visit[0];
        // The latest title is the settled one: YouTube retitles the tab as the page loads.
        let title = visit.iter().rev().find_map(|t| title_of_tab(&t.title));
        out.watches.push(WatchEvent {
            video_id: first.video_id.clone(),
            title_unknown: title.is_none(),
            title: title.unwrap_or_default(),
            channel: None,
            channel_id: None,
            watched_at: first.start,
            source: FROM_BROWSER_TAB.to_string(),
            watched_s: Some(round_tenth(total_s(&union(seen)))),
        });
    }
    out
}

fn round_tenth(s: f64) -> f64 {
    (s * 10.0).round() / 10.0
}

/// The videos a window title can name: each title the store knows (of a video, or of a
/// watch) with its one video id; a title that several videos share names none.
#[derive(Default)]
pub struct KnownTitles(HashMap<String, Option<String>>);

impl KnownTitles {
    pub fn add(&mut self, title: &str, video_id: &str) {
        let title = title.trim();
        if title.is_empty() {
            return;
        }
        self.0
            .entry(title.to_string())
            .and_modify(|id| {
                if id.as_deref() != Some(video_id) {
                    *id = None;
                }
            })
            .or_insert_with(|| Some(video_id.to_string()));
    }

    fn video_of(&self, title: &str) -> Option<&str> {
        self.0.get(title).and_then(Option::as_deref)
    }
}

/// Watches seen as browser windows titled as a YouTube video that names exactly one known
/// video: a visit of its windows (the timeline's pieces, in time order) dated by the
/// first, `watched_s` the active time they add up to; a visit under `min_watch_s` is a zap.
pub fn window_title_watches(timeline: &[AppEvent], known: &KnownTitles, min_watch_s: f64) -> Watches {
    let named: Vec<(&AppEvent, &str, String)> = timeline
        .iter()
        .filter_map(|e| {
            let title = title_of_window(&e.title)?;
            let id = known.video_of(&title)?;
            Some((e, id, title))
        })
        .collect();
    let mut out = Watches::default();
    for visit in visits(&named, |(_, id, _)| Some(*id), |(e, _, _)| span_of(&e.start, e.duration_s)) {
        let active = total_s(&union(visit.iter().map(|(e, _, _)| span_of(&e.start, e.duration_s)).collect()));
        if active < min_watch_s {
            out.zaps += 1;
            continue;
        }
        let (first, id, title) = visit[0];
        out.watches.push(WatchEvent {
            video_id: id.to_string(),
            title: title.clone(),
            title_unknown: false,
            channel: None,
            channel_id: None,
            watched_at: first.start,
            source: FROM_WINDOW_TITLE.to_string(),
            watched_s: Some(round_tenth(active)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T0: i64 = 1_764_000_000; // 2025-11-24T16:00:00Z

    fn tab(url: &str, title: &str, start_s: i64, dur_s: i64, audible: bool, incognito: bool) -> Event {
        let data = json!({"url": url, "title": title, "audible": audible, "incognito": incognito, "tabCount": 3});
        Event {
            start_us: (T0 + start_s) * 1_000_000,
            duration_us: dur_s * 1_000_000,
            data: data.as_object().unwrap().clone(),
        }
    }

    fn app(app: &str, start_s: i64, dur_s: i64) -> AppEvent {
        AppEvent {
            start: chrono::DateTime::from_timestamp(T0 + start_s, 0).unwrap(),
            duration_s: dur_s as f64,
            app: app.into(),
            title: String::new(),
            url: None,
            category: vec![],
            bucket: "aw-watcher-window_laptop".into(),
            host: Some("laptop".into()),
        }
    }

    #[test]
    fn tabs_become_visits_with_the_time_really_watched() {
        let events = [
            // A video opened, its title settling, watched in front for a minute, then
            // aloud behind the editor for two.
            tab("https://www.youtube.com/watch?v=AAAAAAAAAAA&t=1", "YouTube", 0, 5, false, false),
            tab(
                "https://www.youtube.com/watch?v=AAAAAAAAAAA",
                "(3) Rust in 100 seconds - YouTube",
                5,
                55,
                false,
                false,
            ),
            tab(
                "https://www.youtube.com/watch?v=AAAAAAAAAAA",
                "(3) Rust in 100 seconds - YouTube",
                60,
                120,
                true,
                false,
            ),
            // A glance at the mail, then back: the same visit.
            tab("https://mail.example.org/", "Inbox", 180, 60, false, false),
            tab("https://youtu.be/AAAAAAAAAAA", "(3) Rust in 100 seconds - YouTube", 240, 30, false, false),
            // A zap, and an incognito tab.
            tab("https://m.youtube.com/shorts/BBBBBBBBBBB", "Short - YouTube", 300, 4, true, false),
            tab("https://www.youtube.com/watch?v=CCCCCCCCCCC", "Secret - YouTube", 400, 600, true, true),
            // The same video the next day: another watch.
            tab("https://www.youtube.com/live/AAAAAAAAAAA", "Rust in 100 seconds - YouTube", 86_400, 20, true, false),
        ];
        let tabs = youtube_tabs("aw-watcher-web-chrome", &events);
        assert_eq!(tabs.len(), 6, "the mail and the incognito tab are not YouTube stretches");
        assert!(tabs.iter().all(|t| t.video_id != "CCCCCCCCCCC" && !t.title.contains("Secret")));
        let timeline = [app("chrome.exe", 0, 60), app("Code", 60, 180), app("chrome.exe", 240, 15)];
        let w = watches(&tabs, &timeline, DEFAULT_MIN_WATCH_S);
        assert_eq!(w.zaps, 1);
        let got: Vec<(&str, &str, i64, f64)> = w
            .watches
            .iter()
            .map(|w| (w.video_id.as_str(), w.title.as_str(), w.watched_at.timestamp() - T0, w.watched_s.unwrap()))
            .collect();
        // 60 s in front, 120 s aloud behind, 15 of the last 30 s in front; then 20 s aloud.
        assert_eq!(
            got,
            [("AAAAAAAAAAA", "Rust in 100 seconds", 0, 195.0), ("AAAAAAAAAAA", "Rust in 100 seconds", 86_400, 20.0)]
        );
        assert!(w.watches.iter().all(|w| w.source == FROM_BROWSER_TAB && w.channel.is_none()));
    }

    #[test]
    fn private_windows_are_told_by_their_titles() {
        for title in [
            "Secret - YouTube — Mozilla Firefox Private Browsing",
            "Secret - YouTube - [InPrivate] - Microsoft\u{200b} Edge",
            "Secret - YouTube - Google Chrome (Incognito)",
            "Secret - YouTube - Brave (Private)",
        ] {
            assert!(is_private_window(title), "{title}");
        }
        assert!(!is_private_window("Privacy settings - YouTube - Google Chrome"));
    }

    #[test]
    fn a_window_title_names_a_watch_only_when_it_names_one_known_video() {
        let mut known = KnownTitles::default();
        known.add("Rust in 100 seconds", "AAAAAAAAAAA");
        known.add("Trailer", "BBBBBBBBBBB");
        known.add("Trailer", "CCCCCCCCCCC");
        let window = |title: &str, start_s: i64, dur_s: i64| AppEvent {
            title: title.into(),
            ..app("chrome.exe", start_s, dur_s)
        };
        let timeline = [
            window("(1) Rust in 100 seconds - YouTube - Google Chrome", 0, 40),
            window("Trailer - YouTube - Google Chrome", 40, 100),
            window("Rust in 100 seconds - YouTube - Google Chrome", 140, 20),
            window("Something else - YouTube - Google Chrome", 160, 100),
        ];
        let w = window_title_watches(&timeline, &known, DEFAULT_MIN_WATCH_S);
        assert_eq!(w.watches.len(), 1, "an ambiguous title and an unknown one name no video");
        let watch = &w.watches[0];
        assert_eq!(
            (watch.video_id.as_str(), watch.watched_s, watch.source.as_str()),
            ("AAAAAAAAAAA", Some(60.0), FROM_WINDOW_TITLE)
        );
    }
}
