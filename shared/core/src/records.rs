//! The records that flow between the tools, one JSON object per line.
//!
//! Field names are the wire contract: change them only with a migration of every reader.
//! Times are RFC 3339 UTC strings (see [`crate::time`]). Unknown fields are ignored on read
//! so that newer writers do not break older readers.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One time the person opened a video (Takeout, or the browser via ActivityWatch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchEvent {
    pub video_id: String,
    /// Empty when the export did not know it ([`WatchEvent::title_unknown`]).
    pub title: String,
    /// The export named the video by its URL only (Takeout does for videos whose details it
    /// had lost): a real watch, its title and channel to be filled from the video's details
    /// (`vrd-ingest youtube videos --db`; the store's watch events carry them once known).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub title_unknown: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    pub watched_at: Timestamp,
    /// Where the event came from, e.g. `takeout-json` ([`HAND_WRITTEN`] when a line has none),
    /// or one of the live sources ([`LIVE_SOURCES`]).
    #[serde(default = "hand_written")]
    pub source: String,
    /// How long it was really watched, in seconds, where a live source measured it (the
    /// browser's tab in front, or playing aloud behind another window; the page's player).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watched_s: Option<f64>,
}

/// A watch seen live in the browser by ActivityWatch's web watcher (aw-watcher-web).
pub const FROM_BROWSER_TAB: &str = "aw-web";
/// A watch seen live as a browser window titled as a YouTube video that the store knows
/// (ActivityWatch's window watcher, where no web watcher runs).
pub const FROM_WINDOW_TITLE: &str = "window-title";
/// A video played on `vrd-label serve`'s video page.
pub const FROM_PAGE: &str = "page";
/// The sources of watches seen as they happened, rather than exported afterwards.
pub const LIVE_SOURCES: [&str; 3] = [FROM_BROWSER_TAB, FROM_WINDOW_TITLE, FROM_PAGE];

impl WatchEvent {
    /// Two records of one video closer than this, one of them live, are one watch seen
    /// twice (the browser's tab and Takeout's history, the tab and the window's title).
    pub const SAME_WATCH_MINUTES: i64 = 5;

    /// Whether it was seen as it happened ([`LIVE_SOURCES`]).
    pub fn is_live(&self) -> bool {
        LIVE_SOURCES.contains(&self.source.as_str())
    }

    /// How much its title and channel are to be trusted: an export's (Takeout names the
    /// channel), then the browser tab's or the page's, then a window title matched to a
    /// stored video's.
    fn naming_rank(&self) -> u8 {
        match self.source.as_str() {
            FROM_WINDOW_TITLE => 1,
            FROM_BROWSER_TAB | FROM_PAGE => 2,
            _ => 3,
        }
    }

    /// Whether `other` is this same watch seen again: the same video within
    /// [`WatchEvent::SAME_WATCH_MINUTES`], one of the two live (an export's own entries
    /// stay as it has them; a live source never sees one video twice in five minutes, its
    /// visits go on for half an hour).
    pub fn is_same_watch(&self, other: &WatchEvent) -> bool {
        self.video_id == other.video_id
            && (self.is_live() || other.is_live())
            && (self.watched_at - other.watched_at).num_seconds().abs() <= Self::SAME_WATCH_MINUTES * 60
    }

    /// One watch from two records of it (`self` the stored one, whose moment it keeps):
    /// the best-named record's title and channel (Takeout's over a live one's), the live
    /// source (so the watch still reads as seen live), and the longest time watched.
    pub fn merged_with(&self, other: &WatchEvent) -> WatchEvent {
        let (better, worse) = match other.naming_rank() > self.naming_rank() {
            true => (other, self),
            false => (self, other),
        };
        let titled = match (better.title_unknown, worse.title_unknown) {
            (true, false) => worse,
            _ => better,
        };
        let live = [self, other].into_iter().filter(|e| e.is_live()).max_by_key(|e| e.naming_rank());
        let watched_s = match (self.watched_s, other.watched_s) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        WatchEvent {
            video_id: self.video_id.clone(),
            title: titled.title.clone(),
            title_unknown: titled.title_unknown,
            channel: better.channel.clone().or_else(|| worse.channel.clone()),
            channel_id: better.channel_id.clone().or_else(|| worse.channel_id.clone()),
            watched_at: self.watched_at,
            source: live.unwrap_or(self).source.clone(),
            watched_s,
        }
    }
}

/// One stretch of a YouTube video open in the browser's active tab, as ActivityWatch's
/// web watcher recorded it (incognito tabs are never read). Watches are made of these
/// (`vrd_aw::web`); the store keeps them so that a watch still going on when one ingest
/// ends is completed by the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YoutubeTab {
    /// The web watcher's bucket (one per browser, e.g. `aw-watcher-web-chrome`).
    pub bucket: String,
    pub start: Timestamp,
    pub duration_s: f64,
    pub video_id: String,
    /// The tab's title as the browser had it ("(3) Title - YouTube").
    pub title: String,
    /// Whether the tab was playing sound.
    #[serde(default)]
    pub audible: bool,
}

impl YoutubeTab {
    pub fn end(&self) -> Timestamp {
        self.start + chrono::Duration::microseconds((self.duration_s * 1e6).round() as i64)
    }
}

/// The source of a record whose line names none: one written by hand or by another tool.
/// Every reader accepts such lines alike (vrd-encode always did; vrd-rank refused them).
pub const HAND_WRITTEN: &str = "hand-written";

fn hand_written() -> String {
    HAND_WRITTEN.to_string()
}

/// A video's metadata: a candidate for the feed, or the details of something watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Video {
    pub video_id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// YouTube's category name (e.g. "Science & Technology"), or its id when the name is
    /// unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `live` or `upcoming` for a broadcast, `completed` for a past one, absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    /// A YouTube Short (a `/shorts/` link, or short and tagged so), when the source tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<bool>,
    #[serde(default = "hand_written")]
    pub source: String,
}

impl From<&WatchEvent> for Video {
    /// A watched video as a record, with what the watch knows of it.
    fn from(e: &WatchEvent) -> Video {
        Video {
            video_id: e.video_id.clone(),
            title: e.title.clone(),
            description: String::new(),
            channel: e.channel.clone(),
            channel_id: e.channel_id.clone(),
            published_at: None,
            duration_s: None,
            tags: Vec::new(),
            category: None,
            live: None,
            short: None,
            source: e.source.clone(),
        }
    }
}

impl Video {
    /// This record laid over an older one of the same video: what this one knows wins,
    /// what only the older one knows is kept. A feed entry re-read after the Data API's
    /// details must not erase the duration, tags or category.
    pub fn merged_over(self, old: Video) -> Video {
        Video {
            video_id: self.video_id,
            title: if self.title.is_empty() { old.title } else { self.title },
            description: if self.description.is_empty() { old.description } else { self.description },
            channel: self.channel.or(old.channel),
            channel_id: self.channel_id.or(old.channel_id),
            published_at: self.published_at.or(old.published_at),
            duration_s: self.duration_s.or(old.duration_s),
            tags: if self.tags.is_empty() { old.tags } else { self.tags },
            category: self.category.or(old.category),
            live: self.live.or(old.live),
            short: self.short.or(old.short),
            // The richer source names the record: API details outrank a feed entry.
            source: if source_rank(&self.source) >= source_rank(&old.source) { self.source } else { old.source },
        }
    }
}

/// How much a video source knows: the Data API the most, a feed entry the least.
fn source_rank(source: &str) -> u8 {
    match source {
        s if s.starts_with("youtube-api") => 2,
        "youtube-rss" | "rss" => 0,
        _ => 1,
    }
}

/// A stretch of time in one application window (ActivityWatch), already cut to the
/// not-AFK periods where it came from the canonical query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppEvent {
    pub start: Timestamp,
    pub duration_s: f64,
    pub app: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// ActivityWatch category path, e.g. `["Work", "Programming"]`.
    #[serde(default)]
    pub category: Vec<String>,
    pub bucket: String,
    /// The device (ActivityWatch host) whose timeline this is; a file of several hosts'
    /// timelines is one timeline per host. Absent in older files: one host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// What the person said about a video: whether it interests them, whether it fitted the
/// moment it was shown, or that they skipped judging it (so it is not asked again).
/// Written in kebab case; the older snake-case names still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelKind {
    Interest,
    #[serde(alias = "not_interested", alias = "not-interested")]
    Uninterest,
    #[serde(alias = "right_time")]
    RightTime,
    #[serde(alias = "not_now")]
    NotNow,
    Skip,
}

impl LabelKind {
    pub const ALL: [LabelKind; 5] =
        [LabelKind::Interest, LabelKind::Uninterest, LabelKind::RightTime, LabelKind::NotNow, LabelKind::Skip];

    /// The wire name (`right-time`).
    pub fn name(self) -> &'static str {
        match self {
            LabelKind::Interest => "interest",
            LabelKind::Uninterest => "uninterest",
            LabelKind::RightTime => "right-time",
            LabelKind::NotNow => "not-now",
            LabelKind::Skip => "skip",
        }
    }

    /// Reads a wire name or one of its aliases.
    pub fn parse(text: &str) -> Option<LabelKind> {
        serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
    }

    /// Which of the model's two questions the label answers (none for `skip`).
    pub fn head(self) -> Option<Head> {
        match self {
            LabelKind::Interest | LabelKind::Uninterest => Some(Head::Interest),
            LabelKind::RightTime | LabelKind::NotNow => Some(Head::RightTime),
            LabelKind::Skip => None,
        }
    }

    /// The positive class of its head.
    pub fn is_positive(self) -> bool {
        matches!(self, LabelKind::Interest | LabelKind::RightTime)
    }
}

/// The latest label (by when it was given, then insertion order) per video and question.
pub fn latest_per_question(history: Vec<Label>) -> Vec<Label> {
    let mut latest: std::collections::HashMap<(String, Head), (usize, Label)> = std::collections::HashMap::new();
    for (order, label) in history.into_iter().enumerate() {
        let Some(head) = label.kind.head() else { continue };
        let key = (label.video_id.clone(), head);
        match latest.get(&key) {
            Some((o, l)) if (l.labelled_at, *o) > (label.labelled_at, order) => {}
            _ => {
                latest.insert(key, (order, label));
            }
        }
    }
    let mut out: Vec<(usize, Label)> = latest.into_values().collect();
    out.sort_by_key(|(order, label)| (label.labelled_at, *order));
    out.into_iter().map(|(_, l)| l).collect()
}

/// The model's two questions about a (video, moment) pair: does it interest the person,
/// and does it fit the moment. Written `interest` / `right_time` (report keys, score names,
/// tensor prefixes); labels name the positive answer of the second `right-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    Interest,
    RightTime,
}

impl Head {
    pub const ALL: [Head; 2] = [Head::Interest, Head::RightTime];

    /// The key in reports, scores and weight names.
    pub fn key(self) -> &'static str {
        match self {
            Head::Interest => "interest",
            Head::RightTime => "right_time",
        }
    }

    /// Index in `[interest, right_time]` arrays.
    pub fn index(self) -> usize {
        match self {
            Head::Interest => 0,
            Head::RightTime => 1,
        }
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// One value per question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PerHead<T> {
    pub interest: T,
    pub right_time: T,
}

impl<T> PerHead<T> {
    pub fn new(mut f: impl FnMut(Head) -> T) -> PerHead<T> {
        PerHead { interest: f(Head::Interest), right_time: f(Head::RightTime) }
    }

    pub fn get(&self, head: Head) -> &T {
        match head {
            Head::Interest => &self.interest,
            Head::RightTime => &self.right_time,
        }
    }

    pub fn get_mut(&mut self, head: Head) -> &mut T {
        match head {
            Head::Interest => &mut self.interest,
            Head::RightTime => &mut self.right_time,
        }
    }

    pub fn map<U>(&self, mut f: impl FnMut(Head, &T) -> U) -> PerHead<U> {
        PerHead { interest: f(Head::Interest, &self.interest), right_time: f(Head::RightTime, &self.right_time) }
    }
}

impl std::fmt::Display for LabelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Something the person searched YouTube for (Takeout's search history): another sign of
/// what interests them, read by the cold-start profile beside their watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    pub query: String,
    pub searched_at: Timestamp,
    /// Where it came from, e.g. `takeout-json` ([`HAND_WRITTEN`] when a line has none).
    #[serde(default = "hand_written")]
    pub source: String,
}

/// A feed the person follows: a YouTube channel they subscribe to (Takeout's
/// `subscriptions.csv`) or any Atom/RSS feed of an OPML list. `vrd-ingest rss` fetches the
/// subscribed feeds' uploads as candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// The feed's URL; for a YouTube channel, its channel feed.
    pub feed: String,
    /// The YouTube channel id (`UC…`), for a channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where it came from, e.g. `takeout-subscriptions`, `opml`.
    #[serde(default = "hand_written")]
    pub source: String,
}

impl Subscription {
    /// Where YouTube serves channel feeds.
    pub const YOUTUBE: &'static str = "https://www.youtube.com";

    /// A YouTube channel's subscription.
    pub fn channel(channel_id: &str, title: Option<String>, source: &str) -> Subscription {
        Subscription {
            feed: Subscription::channel_feed(Subscription::YOUTUBE, channel_id),
            channel_id: Some(channel_id.to_string()),
            title,
            source: source.to_string(),
        }
    }

    /// A channel's feed URL at `base` (YouTube, or a mirror that serves the same paths).
    pub fn channel_feed(base: &str, channel_id: &str) -> String {
        format!("{}/feeds/videos.xml?channel_id={channel_id}", base.trim_end_matches('/'))
    }

    /// The URL to fetch: a channel's feed at `youtube_base`, else the feed as given.
    pub fn feed_at(&self, youtube_base: &str) -> String {
        match &self.channel_id {
            Some(id) => Subscription::channel_feed(youtube_base, id),
            None => self.feed.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub video_id: String,
    pub kind: LabelKind,
    /// When the answer was given: a right-time answer is about the activity before it.
    pub labelled_at: Timestamp,
    #[serde(default = "hand_written")]
    pub source: String,
    /// The moment of the feed the video was shown in, when it was answered from one (the
    /// feed page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_at: Option<Timestamp>,
}

/// One line of the ranked feed that `vrd-rank` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    pub rank: usize,
    pub video_id: String,
    /// The score the feed is ordered by.
    pub score: f64,
    /// The named parts the score was made from ([`Score`]'s keys: `similarity`,
    /// `interest`, `right_time` …).
    #[serde(default)]
    pub scores: BTreeMap<String, f64>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub url: String,
    /// Why it ranks where it does, in a few words (`vrd-rank --explain`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl FeedItem {
    /// One named part of the score, where the ranker gave it.
    pub fn score_of(&self, part: Score) -> Option<f64> {
        self.scores.get(part.key()).copied()
    }
}

/// The named parts of a feed item's score (the keys of [`FeedItem::scores`]): written by
/// the rankers, read by the page and the label screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    /// The answers' model: the probability that the video interests the person.
    Interest,
    /// The answers' model: the probability that it fits the moment.
    RightTime,
    /// The answers' model's feed: how fresh the upload is (its age decay).
    Freshness,
    /// The next-watch model: the probability that it is the one picked next (its key,
    /// "pick", is what the saved feeds hold).
    NextWatch,
    /// The cold start and "more like this": cosine similarity to the profile or the video.
    Similarity,
    /// The cold start: how familiar the candidate's channel is.
    Channel,
}

impl Score {
    pub fn key(self) -> &'static str {
        match self {
            Score::Interest => "interest",
            Score::RightTime => "right_time",
            Score::Freshness => "freshness",
            Score::NextWatch => "pick",
            Score::Similarity => "similarity",
            Score::Channel => "channel",
        }
    }

    /// A feed item's `scores` from its parts.
    pub fn map(parts: impl IntoIterator<Item = (Score, f64)>) -> BTreeMap<String, f64> {
        parts.into_iter().map(|(part, value)| (part.key().to_string(), value)).collect()
    }
}

/// Whether `id` can be a video id: 1 to 64 characters of YouTube's URL-safe alphabet
/// (letters, digits, `-`, `_`; YouTube's own are 11). The one rule every reader of ids
/// uses (Takeout URLs, label files, the page's answers, the Data API's arguments).
pub fn is_video_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The canonical watch URL of a YouTube video.
pub fn youtube_url(video_id: &str) -> String {
    format!("https://www.youtube.com/watch?v={video_id}")
}

/// The text-bearing fields shared by [`WatchEvent`] and [`Video`] lines, so that a tool
/// that only needs the words (the encoder) accepts either.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MediaText {
    pub video_id: String,
    pub title: String,
    /// A watch whose title the export did not know: no text yet, skipped by encoders.
    #[serde(default)]
    pub title_unknown: bool,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl From<&WatchEvent> for MediaText {
    fn from(w: &WatchEvent) -> MediaText {
        MediaText {
            video_id: w.video_id.clone(),
            title: w.title.clone(),
            title_unknown: w.title_unknown,
            channel: w.channel.clone(),
            description: String::new(),
            tags: Vec::new(),
        }
    }
}

impl From<&Video> for MediaText {
    fn from(v: &Video) -> MediaText {
        MediaText {
            video_id: v.video_id.clone(),
            title: v.title.clone(),
            title_unknown: false,
            channel: v.channel.clone(),
            description: v.description.clone(),
            tags: v.tags.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_video_ids() {
        assert!(is_video_id("lWaRokVH711") && is_video_id("a-b_c") && is_video_id("sim00000139"));
        for bad in ["", "../x", "a b", "<script>", "x?y", "é", &"x".repeat(65)] {
            assert!(!is_video_id(bad), "{bad}");
        }
    }
    use crate::time::parse_rfc3339;

    #[test]
    fn watch_event_round_trips_with_utc_z() {
        let ev = WatchEvent {
            video_id: "abc".into(),
            title: "T".into(),
            title_unknown: false,
            channel: Some("C".into()),
            channel_id: None,
            watched_at: parse_rfc3339("2024-01-02T03:04:05.678+01:00").unwrap(),
            source: "takeout-json".into(),
            watched_s: None,
        };
        let line = serde_json::to_string(&ev).unwrap();
        assert!(line.contains(r#""watched_at":"2024-01-02T02:04:05.678Z""#), "{line}");
        assert!(!line.contains("channel_id"), "absent options are omitted: {line}");
        assert_eq!(serde_json::from_str::<WatchEvent>(&line).unwrap(), ev);
    }

    #[test]
    fn label_kinds_are_kebab_case_and_old_names_still_read() {
        assert_eq!(serde_json::to_string(&LabelKind::Uninterest).unwrap(), r#""uninterest""#);
        assert_eq!(serde_json::to_string(&LabelKind::RightTime).unwrap(), r#""right-time""#);
        assert_eq!(LabelKind::parse("not_now"), Some(LabelKind::NotNow));
        assert_eq!(LabelKind::parse("not_interested"), Some(LabelKind::Uninterest));
        assert_eq!(LabelKind::parse("maybe"), None);
        for k in LabelKind::ALL {
            assert_eq!(LabelKind::parse(k.name()), Some(k));
        }
    }

    #[test]
    fn a_feed_entry_does_not_erase_api_details() {
        let api: Video = serde_json::from_str(
            r#"{"video_id":"v","title":"Old","description":"long","duration_s":61.0,"tags":["a"],"category":"Education","source":"youtube-api"}"#,
        )
        .unwrap();
        let feed: Video =
            serde_json::from_str(r#"{"video_id":"v","title":"New title","short":false,"source":"youtube-rss"}"#)
                .unwrap();
        let merged = feed.merged_over(api);
        assert_eq!(merged.title, "New title");
        assert_eq!((merged.description.as_str(), merged.duration_s), ("long", Some(61.0)));
        assert_eq!((merged.tags.len(), merged.category.as_deref(), merged.short), (1, Some("Education"), Some(false)));
        assert_eq!(merged.source, "youtube-api");
    }

    #[test]
    fn lines_without_a_source_are_hand_written() {
        let v: Video = serde_json::from_str(r#"{"video_id":"v","title":"t"}"#).unwrap();
        assert_eq!(v.source, HAND_WRITTEN);
        let w: WatchEvent =
            serde_json::from_str(r#"{"video_id":"a","title":"t","watched_at":"2024-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!(w.source, HAND_WRITTEN);
        let l: Label =
            serde_json::from_str(r#"{"video_id":"a","kind":"interest","labelled_at":"2024-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!(l.source, HAND_WRITTEN);
        assert!(serde_json::to_string(&v).unwrap().contains(r#""source":"hand-written""#), "written out named");
    }

    #[test]
    fn media_text_reads_both_watch_and_video_lines() {
        let w: MediaText =
            serde_json::from_str(r#"{"video_id":"a","title":"t","watched_at":"2024-01-01T00:00:00Z","source":"x"}"#)
                .unwrap();
        assert_eq!(w.description, "");
        let v: MediaText =
            serde_json::from_str(r#"{"video_id":"b","title":"t","description":"d","tags":["x"],"source":"api"}"#)
                .unwrap();
        assert_eq!(v.tags, vec!["x".to_string()]);
    }
}
