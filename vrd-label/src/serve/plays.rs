//! A video played on the video page is a watch (`source: page`), with the seconds played
//! as the player reported them. The page posts it when playing starts and again as it goes
//! on (every few seconds, at a pause, the end, and when the page is left); each post is the
//! same watch (its moment is when it first played), grown.

use anyhow::{bail, Context, Result};
use vrd_core::records::{WatchEvent, FROM_PAGE};
use vrd_store::Store;

/// How far back a play may say it started: a page left open overnight and played again
/// the next morning posts a new play, so a day is plenty.
const OLDEST_PLAY_HOURS: i64 = 24;

/// The watch a play post describes (`video_id`, `started`, `seconds`), named as the store
/// names the video; an error for a malformed post or one about a video the store does not
/// hold (`Ok(None)`).
pub fn watch_of(store: &Store, body: &str) -> Result<Option<WatchEvent>> {
    #[derive(serde::Deserialize)]
    struct Play {
        video_id: String,
        started: String,
        seconds: f64,
    }
    let play: Play = serde_json::from_str(body).context("not a play")?;
    if !vrd_core::records::is_video_id(&play.video_id) {
        bail!("{:?} is not a video id", play.video_id);
    }
    let started = vrd_core::time::parse_rfc3339(&play.started).context("started")?;
    let now = chrono::Utc::now();
    if started > now + chrono::Duration::minutes(1) || started < now - chrono::Duration::hours(OLDEST_PLAY_HOURS) {
        bail!("a play started at {} is not one of the last {OLDEST_PLAY_HOURS} hours", play.started);
    }
    let most = (now - started).num_milliseconds() as f64 / 1000.0 + 60.0;
    if !play.seconds.is_finite() || play.seconds < 0.0 || play.seconds > most {
        bail!("{} seconds played is not possible since {}", play.seconds, play.started);
    }
    let Some(video) = store.videos_by_id(std::slice::from_ref(&play.video_id))?.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some(WatchEvent {
        video_id: video.video_id,
        title_unknown: video.title.is_empty(),
        title: video.title,
        channel: video.channel,
        channel_id: video.channel_id,
        watched_at: started,
        source: FROM_PAGE.to_string(),
        watched_s: Some((play.seconds * 10.0).round() / 10.0),
    }))
}
