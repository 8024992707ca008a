//! The pages, as askama templates (`vrd-label/templates/`, checked when this crate
//! compiles, every value HTML-escaped unless a template says otherwise), and the view of a
//! feed item they show.

use super::ago::age;
use anyhow::Result;
use askama::Template;
use std::collections::HashMap;
use vrd_core::records::{FeedItem, Video};
use vrd_core::tensors::Embeddings;
use vrd_ranking::candidates::Answers;
use vrd_ranking::like::{like, LikeSettings};
use vrd_store::Store;

/// Cards per page of the feed.
pub const PER_PAGE: usize = 21;

/// One card: what the feed says of a video and what the store knows of it.
pub struct Card {
    pub video_id: String,
    pub title: String,
    pub channel: String,
    pub duration: String,
    pub age: String,
    pub reasons: Vec<String>,
    /// The first letter of the channel, shown where the thumbnail cannot load (offline).
    pub initial: String,
}

impl Card {
    fn new(item: &FeedItem, video: Option<&Video>, now: vrd_core::time::Timestamp) -> Card {
        let channel = item.channel.clone().unwrap_or_default();
        Card {
            video_id: item.video_id.clone(),
            title: item.title.clone(),
            initial: channel
                .chars()
                .next()
                .or_else(|| item.title.chars().next())
                .unwrap_or('?')
                .to_uppercase()
                .collect(),
            channel,
            duration: video.and_then(|v| v.duration_s).map(duration).unwrap_or_default(),
            age: video.and_then(|v| v.published_at).map(|p| age(now - p)).unwrap_or_default(),
            reasons: item.reasons.clone(),
        }
    }
}

/// `1:02:03`, `4:05`.
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", (s % 3600) / 60, s % 60),
    }
}

fn cards(store: &Store, items: &[FeedItem]) -> Result<Vec<Card>> {
    let ids: Vec<String> = items.iter().map(|i| i.video_id.clone()).collect();
    let videos: HashMap<String, Video> =
        store.videos_by_id(&ids)?.into_iter().map(|v| (v.video_id.clone(), v)).collect();
    let now = chrono::Utc::now();
    Ok(items.iter().map(|i| Card::new(i, videos.get(&i.video_id), now)).collect())
}

/// A stored feed's moment as the page shows and sends it (RFC 3339 UTC, no trailing
/// zeros; the store keeps microseconds).
fn moment_text(stored: &str) -> String {
    vrd_core::time::parse_rfc3339(stored).map(|t| vrd_core::time::format_rfc3339(&t)).unwrap_or_else(|_| stored.into())
}

pub struct Moment {
    pub index: usize,
    pub at: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "feed.html")]
struct FeedPage<'a> {
    token: &'a str,
    moments: Vec<Moment>,
    feed: usize,
    /// What the feed says of itself (since when its activity is unknown), said once above
    /// the cards rather than on each.
    notes: Vec<String>,
    cards: Vec<Card>,
    next_page: Option<usize>,
}

/// The stored feed number `feed` (0: the newest), page `page`.
pub fn feed(store: &Store, token: &str, feed: usize, page: usize) -> Result<String> {
    let all = store.feed_moments()?;
    let (items, notes) = match all.get(feed) {
        Some(at) => (store.feed_at(at)?, store.feed_notes(at)?),
        None => (Vec::new(), Vec::new()),
    };
    let mut shown: Vec<FeedItem> = items.iter().skip(page * PER_PAGE).take(PER_PAGE).cloned().collect();
    for item in &mut shown {
        item.reasons.retain(|r| !notes.contains(r));
    }
    let next_page = ((page + 1) * PER_PAGE < items.len()).then_some(page + 1);
    let moments = all
        .iter()
        .enumerate()
        .map(|(index, at)| Moment { index, at: moment_text(at), current: index == feed })
        .collect();
    let notes = notes.iter().map(|n| vrd_ranking::words::capitalised(n)).collect();
    Ok(FeedPage { token, moments, feed, notes, cards: cards(store, &shown)?, next_page }.render()?)
}

#[derive(Template)]
#[template(path = "video.html")]
struct VideoPage<'a> {
    token: &'a str,
    /// The player's origin (`serve --player`).
    player: &'a str,
    card: Card,
    description: String,
    feed: usize,
    /// The moment of the feed it was shown in ("" when it is in none).
    feed_at: String,
    like: Vec<Card>,
    has_embeddings: bool,
}

/// The video page of `id` as shown in stored feed number `feed`; `None` if the store knows
/// neither the video nor a feed line of it.
pub fn video(
    store: &Store,
    (token, player): (&str, &str),
    id: &str,
    feed: usize,
    embeddings: Option<&Embeddings>,
) -> Result<Option<String>> {
    if !vrd_core::records::is_video_id(id) {
        return Ok(None);
    }
    let feed_at = store.feed_moments()?.get(feed).cloned().unwrap_or_default();
    let item = match feed_at.is_empty() {
        true => None,
        false => store.feed_at(&feed_at)?.into_iter().find(|i| i.video_id == id),
    };
    let video = store.videos_by_id(&[id.to_string()])?.into_iter().next();
    let item = match (item, &video) {
        (Some(item), _) => item,
        (None, Some(v)) => vrd_ranking::candidates::feed_item(0, v, 0.0, Default::default(), Vec::new()),
        (None, None) => return Ok(None),
    };
    let card = Card::new(&item, video.as_ref(), chrono::Utc::now());
    let like = match embeddings {
        Some(e) => cards(store, &more_like(store, id, e, 8)?)?,
        None => Vec::new(),
    };
    let page = VideoPage {
        token,
        player,
        card,
        description: video.map(|v| v.description).unwrap_or_default(),
        feed,
        feed_at: moment_text(&feed_at),
        like,
        has_embeddings: embeddings.is_some(),
    };
    Ok(Some(page.render()?))
}

/// "More like this" over the store's videos, without what was watched or dismissed.
pub fn more_like(store: &Store, id: &str, embeddings: &Embeddings, top: usize) -> Result<Vec<FeedItem>> {
    let answers = Answers::from_labels(&store.label_history()?);
    let settings = LikeSettings { top, ..Default::default() };
    like(id, &store.videos()?, &store.watch_events()?, embeddings, &answers, &settings)
}

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage<'a> {
    token: &'a str,
    /// The weekly chart, drawn here from numbers and kind names only (no person's text).
    chart: String,
    total: usize,
    /// What the latest feed says of itself (since when its activity is unknown).
    feed_notes: Vec<String>,
    /// The model's fold plot (`folds.svg`, which `vrd-train fit --out` writes beside the
    /// model), when serve was given `--model` and it has one.
    has_model_plot: bool,
    /// What the model is, when serve was given `--model`.
    model: Option<super::model_info::ModelInfo>,
    /// The watches seen live, and how the served feeds did for them.
    live: super::live_info::LiveInfo,
}

/// What the model is (`model`: serve's `--model`), the watches seen live and how the
/// served feeds did for them (`live`), the answers per week and kind as a picture, and the
/// model's fold metrics.
pub fn progress(
    store: &Store,
    token: &str,
    has_model_plot: bool,
    model: Option<&std::path::Path>,
    live: super::live_info::LiveInfo,
) -> Result<String> {
    let tz = vrd_core::time::timezone_or_system(None).unwrap_or(vrd_core::time::Tz::UTC);
    let history = store.label_history()?;
    let weeks = crate::stats::weekly_by_kind(&history, &tz);
    let (latest, feed_notes) = match store.latest_feed()? {
        Some((at, items)) => (items, store.feed_notes(&at)?),
        None => (Vec::new(), Vec::new()),
    };
    let model = model.map(|m| super::model_info::read(m, &latest)).transpose()?;
    let page = ProgressPage {
        token,
        chart: weekly_chart(&weeks),
        total: history.len(),
        feed_notes,
        has_model_plot,
        model,
        live,
    };
    Ok(page.render()?)
}

/// Stacked bars, one per week, one colour per kind, with a legend.
fn weekly_chart(weeks: &std::collections::BTreeMap<(i32, u32), [usize; 5]>) -> String {
    const COLOURS: [&str; 5] = ["#2e7d32", "#c62828", "#1565c0", "#ef6c00", "#9e9e9e"];
    let (bar, gap, height, top) = (28.0, 12.0, 220.0, 20.0);
    let most = weeks.values().map(|c| c.iter().sum::<usize>()).max().unwrap_or(0).max(1) as f64;
    // Wide enough for the weeks' bars and for the legend below them.
    let legend = 40.0 + vrd_core::records::LabelKind::ALL.len() as f64 * 110.0;
    let width = (60.0 + weeks.len().max(1) as f64 * (bar + gap)).max(legend);
    // Drawn at its own size in pixels (the page may narrow it, never widen it): a chart
    // of few weeks, sized by its viewBox alone, was stretched across the page.
    let total_height = height + top + 70.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width}\" height=\"{total_height}\" \
         viewBox=\"0 0 {width} {total_height}\" role=\"img\" aria-label=\"labels per week and kind\">"
    );
    svg += &format!("<text x=\"4\" y=\"{}\" font-size=\"11\">{most}</text>", top + 4.0);
    for (i, ((year, week), counts)) in weeks.iter().enumerate() {
        let x = 40.0 + i as f64 * (bar + gap);
        let mut y = top + height;
        for (k, n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            let h = *n as f64 / most * height;
            y -= h;
            svg += &format!(
                "<rect x=\"{x}\" y=\"{y:.1}\" width=\"{bar}\" height=\"{h:.1}\" fill=\"{}\"><title>{n} {}</title></rect>",
                COLOURS[k],
                vrd_core::records::LabelKind::ALL[k].name()
            );
        }
        svg += &format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{year}-W{week:02}</text>",
            x + bar / 2.0,
            top + height + 14.0
        );
    }
    for (k, kind) in vrd_core::records::LabelKind::ALL.iter().enumerate() {
        let x = 40.0 + k as f64 * 110.0;
        let y = top + height + 40.0;
        svg += &format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            COLOURS[k],
            x + 16.0,
            y + 11.0,
            kind.name()
        );
    }
    svg + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(65.0), "1:05");
        assert_eq!(duration(3723.0), "1:02:03");
    }

    #[test]
    fn the_weekly_chart_stacks_each_kind() {
        let weeks = std::collections::BTreeMap::from([((2026, 47), [3, 1, 0, 2, 0]), ((2026, 48), [1, 0, 0, 0, 0])]);
        let svg = weekly_chart(&weeks);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("2026-W47") && svg.contains("2026-W48"));
        // The tallest week's bars fill the chart: 3 + 1 + 2 of 6.
        assert!(svg.contains("<title>3 interest</title>") && svg.contains("<title>2 not-now</title>"));
        assert_eq!(svg.matches("<rect").count(), 4 + 5, "four bars and five legend keys");
    }
}
