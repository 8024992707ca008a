//! What the progress page says of the watches seen live: when the last one arrived and from
//! where, whether the browser extension seems to have stopped, and how the feeds served
//! did for the videos watched since ([`vrd_ranking::served`]).

use anyhow::Result;
use vrd_core::records::{FROM_BROWSER_TAB, FROM_PAGE, FROM_WINDOW_TITLE};
use vrd_core::tensors::Embeddings;
use vrd_ranking::served::{feed_hits, ServedFeed};
use vrd_store::Store;

/// The span the feeds are judged over.
pub const FEED_DAYS: i64 = 28;

/// After this long without a YouTube tab while ActivityWatch kept recording, the page asks
/// whether the browser extension still runs.
const QUIET_DAYS: i64 = 3;

/// The page's sentences, each in words.
pub struct LiveInfo {
    /// "The last watch seen live: “…”, 2 hours ago, from the browser's tab."
    pub last: String,
    /// The browser extension has sent nothing for days though ActivityWatch ran on.
    pub quiet: Option<String>,
    /// How the served feeds did for the videos watched since (None before any live watch).
    pub feeds: Option<String>,
}

fn from_where(source: &str) -> &'static str {
    match source {
        FROM_BROWSER_TAB => "from the browser's tab (ActivityWatch's web watcher)",
        FROM_WINDOW_TITLE => "from a browser window's title (ActivityWatch's window watcher)",
        FROM_PAGE => "played on this page",
        _ => "",
    }
}

pub fn read(store: &Store, embeddings: Option<&Embeddings>) -> Result<LiveInfo> {
    let now = chrono::Utc::now();
    let ago = |t| super::ago::age(now - t);
    let Some(last) = store.latest_live_watch()? else {
        return Ok(LiveInfo {
            last: "No watch seen live yet. With ActivityWatch's browser extension (aw-watcher-web) installed, the \
                   cron job brings in every YouTube video you watch in the browser within half an hour, and the \
                   feed and the model keep up with you; a video played on this page counts too."
                .into(),
            quiet: None,
            feeds: None,
        });
    };
    let title = match last.title_unknown {
        true => last.video_id.clone(),
        false => last.title.clone(),
    };
    let text = format!("The last watch seen live: “{title}”, {}, {}.", ago(last.watched_at), from_where(&last.source));
    let quiet = match (store.latest_youtube_tab()?, store.app_events_reach()?) {
        (Some(tab), Some(reach)) if reach - tab.end() > chrono::Duration::days(QUIET_DAYS) => Some(format!(
            "Nothing from the browser extension since {} ({}), though ActivityWatch recorded until {}: if you \
             watched YouTube in the browser since, check that aw-watcher-web is still installed and enabled.",
            tab.end().format("%Y-%m-%d %H:%M UTC"),
            ago(tab.end()),
            reach.format("%Y-%m-%d %H:%M UTC")
        )),
        _ => None,
    };
    let since = now - chrono::Duration::days(FEED_DAYS);
    let feeds: Vec<ServedFeed> = store
        .feeds_since(&(since - chrono::Duration::days(vrd_ranking::served::SHOWN_WITHIN_DAYS)))?
        .into_iter()
        .map(|(at, items)| ServedFeed { at, items })
        .collect();
    let hits = feed_hits(&feeds, &store.watch_events()?, &store.videos()?, embeddings, since);
    let feeds = (hits.watched > 0).then(|| vrd_ranking::words::capitalised(&hits.words(FEED_DAYS)) + ".");
    Ok(LiveInfo { last: text, quiet, feeds })
}
