//! `vrd-ingest youtube`: video details, a channel's uploads and the person's own likes and
//! dislikes from the YouTube Data API v3.
//!
//! Quota: every request costs a unit of a daily 10,000, and `videos.list` takes 50 ids a
//! request. With `--db`, each batch of 50 is stored as it arrives and videos the store
//! already has from the API are skipped, so a run cut short by the quota resumes where it
//! stopped the next day.

mod api;
mod discover;
mod oauth;
pub(crate) mod parse;

use anyhow::{anyhow, Context, Result};
use api::{ApiClient, Auth, QuotaExhausted};
use clap::{Args, Subcommand};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vrd_core::records::{Label, LabelKind, Video};
use vrd_core::secrets;
use vrd_core::usage::UsageError;
use vrd_store::Store;

/// `videos.list` takes at most this many ids.
const IDS_PER_CALL: usize = 50;

#[derive(Args)]
pub struct YoutubeArgs {
    #[command(subcommand)]
    command: YoutubeCommand,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Args)]
struct ApiArgs {
    /// A file holding the Data API key (readable by its owner only); or set
    /// VRD_YOUTUBE_API_KEY. The key is sent in a header and never printed.
    #[arg(long, global = true)]
    key_file: Option<PathBuf>,
    /// The API's base URL (for a proxy or a test server).
    #[arg(long, global = true, env = "VRD_YOUTUBE_API_BASE", default_value = api::DEFAULT_BASE)]
    api_base: String,
    /// Retries of a request that hit a rate limit, a server error or a network failure.
    #[arg(long, global = true, default_value_t = 5)]
    retries: u32,
    /// The first retry's wait; each further one waits twice as long.
    #[arg(long, global = true, default_value_t = 1000)]
    backoff_ms: u64,
    /// Write JSONL here instead of stdout.
    #[arg(short, long, global = true, conflicts_with = "db")]
    output: Option<PathBuf>,
    /// Upsert into this vrd store instead, a batch at a time.
    #[arg(long, global = true)]
    db: Option<PathBuf>,
}

#[derive(Subcommand)]
enum YoutubeCommand {
    /// Details of videos by id: title, description, channel, published time, duration,
    /// tags, category, live and Shorts flags.
    ///
    /// Ids come as arguments, from `--ids-from` (ids, watch URLs or JSONL records with a
    /// `video_id`, e.g. `vrd-ingest takeout … | vrd-ingest youtube videos --ids-from -`),
    /// or, with `--db` and neither, every watched or candidate video in the store that has
    /// no API details yet.
    Videos {
        ids: Vec<String>,
        #[arg(long)]
        ids_from: Option<PathBuf>,
        /// With --db: fetch again videos the store already has details of.
        #[arg(long)]
        refresh: bool,
    },
    /// Every upload of channels (ids `UC…` or handles `@name`), with details.
    Uploads {
        #[arg(required = true)]
        channels: Vec<String>,
        /// At most this many of each channel's latest uploads.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Channels the person has never watched, found within a daily budget (needs --db):
    /// searches for their recent searches and their strongest interests, the channels
    /// featured by those they watch most, and the region's most popular videos in the
    /// categories they watch. Each found channel enters the plan of `rss --db` as
    /// "discovered", its uploads as candidates; every unit spent is logged in the store.
    /// Without a key it says so and spends nothing.
    Discover {
        /// `search.list` calls a day (YouTube's own bucket allows 100).
        #[arg(long, default_value_t = 10)]
        searches_per_day: u32,
        /// Units a day of the other methods (YouTube's bucket allows 10,000, shared with
        /// `youtube videos`).
        #[arg(long, default_value_t = 100)]
        units_per_day: u32,
        /// The region (ISO 3166 code, e.g. DE) whose popular videos are looked at; none:
        /// not looked at.
        #[arg(long, env = "VRD_REGION")]
        region: Option<String>,
        /// The moment of the run (default now): its day's budget.
        #[arg(long, value_parser = vrd_cli::time_arg)]
        at: Option<vrd_core::time::Timestamp>,
    },
    /// The person's liked and disliked videos (OAuth) → interest / uninterest labels.
    ///
    /// The first run prints an address to open in a browser to grant read-only access;
    /// the refresh token is then kept in `--token-file` (0600) for later runs.
    Ratings {
        /// The OAuth client secret file downloaded from Google Cloud (a "Desktop app"
        /// client; readable by its owner only).
        #[arg(long)]
        client_secret: PathBuf,
        /// Where the tokens are kept.
        #[arg(long)]
        token_file: PathBuf,
        /// Try to open the address in the default browser.
        #[arg(long)]
        open: bool,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 300)]
        auth_timeout: u64,
    },
}

pub fn run(args: YoutubeArgs) -> Result<()> {
    let api = &args.api;
    let mut store = api.db.as_deref().map(Store::create).transpose()?;
    let backoff = Duration::from_millis(api.backoff_ms);
    let key_client = || -> Result<ApiClient> {
        let key = secrets::secret(api.key_file.as_deref(), "VRD_YOUTUBE_API_KEY")?.ok_or_else(|| {
            UsageError("no YouTube API key: pass --key-file FILE (chmod 600) or set VRD_YOUTUBE_API_KEY".into())
        })?;
        ApiClient::new(&api.api_base, Auth::Key(key), api.retries, backoff)
    };
    match args.command {
        YoutubeCommand::Videos { ids, ids_from, refresh } => {
            let mut ids = ids.iter().map(|i| video_id_arg(i)).collect::<Result<Vec<_>>>()?;
            if let Some(path) = &ids_from {
                ids.extend(read_ids(path)?);
            }
            if ids.is_empty() && ids_from.is_none() {
                let Some(store) = store.as_ref() else {
                    return Err(UsageError(
                        "no video ids: give ids, --ids-from FILE, or --db to complete the store".into(),
                    )
                    .into());
                };
                ids = store_ids(store)?;
            }
            let ids = dedupe(ids);
            let ids = match (&store, refresh) {
                (Some(s), false) => without_api_details(s, ids)?,
                _ => ids,
            };
            let mut client = key_client()?;
            let mut sink = Sink::new(store.as_mut(), api.output.as_deref())?;
            let outcome = fetch_details(&mut client, &ids, &mut sink, &HashMap::new());
            finish(outcome, sink, &client, ids.len())
        }
        YoutubeCommand::Uploads { channels, limit } => {
            let mut client = key_client()?;
            let mut sink = Sink::new(store.as_mut(), api.output.as_deref())?;
            let mut wanted = 0;
            let outcome = (|| -> Result<()> {
                for channel in &channels {
                    let items = uploads(&mut client, channel, limit)?;
                    eprintln!("vrd-ingest: youtube {channel}: {} uploads", items.len());
                    let ids: Vec<String> = items.iter().filter_map(parse::playlist_video_id).collect();
                    wanted += ids.len();
                    let fallback: HashMap<String, &serde_json::Value> =
                        items.iter().filter_map(|i| parse::playlist_video_id(i).map(|id| (id, i))).collect();
                    fetch_details(&mut client, &ids, &mut sink, &fallback)?;
                }
                Ok(())
            })();
            finish(outcome, sink, &client, wanted)
        }
        YoutubeCommand::Discover { searches_per_day, units_per_day, region, at } => {
            let Some(store) = store.as_mut() else {
                return Err(UsageError("discover finds channels for the store: pass --db".into()).into());
            };
            let key = secrets::secret(api.key_file.as_deref(), "VRD_YOUTUBE_API_KEY")?;
            let Some(key) = key else {
                eprintln!(
                    "vrd-ingest: discover: no YouTube API key (VRD_YOUTUBE_API_KEY or --key-file): nothing looked \
                     for, nothing spent; the plan follows the channels you watch, save and subscribe to"
                );
                return Ok(());
            };
            let mut client = ApiClient::new(&api.api_base, Auth::Key(key), api.retries, backoff)?;
            let budget = discover::Budget { searches_per_day, units_per_day };
            discover::run(&mut client, store, &budget, region.as_deref(), at.unwrap_or_else(chrono::Utc::now))
        }
        YoutubeCommand::Ratings { client_secret, token_file, open, auth_timeout } => {
            let oauth_client = oauth::load_client(&client_secret)?;
            let token = oauth::access_token(&oauth_client, &token_file, open, Duration::from_secs(auth_timeout))?;
            let mut client = ApiClient::new(&api.api_base, Auth::Bearer(token), api.retries, backoff)?;
            ratings(&mut client, store.as_mut(), api.output.as_deref())
        }
    }
}

/// Where fetched videos go: the store a batch at a time, or JSONL at the end.
struct Sink<'a> {
    store: Option<&'a mut Store>,
    out: Option<vrd_core::output::Output>,
    written: usize,
    not_found: usize,
}

impl<'a> Sink<'a> {
    fn new(store: Option<&'a mut Store>, output: Option<&Path>) -> Result<Sink<'a>> {
        let out = if store.is_none() { Some(vrd_core::output::Output::open(output)?) } else { None };
        Ok(Sink { store, out, written: 0, not_found: 0 })
    }

    fn put(&mut self, videos: &[Video]) -> Result<()> {
        match (&mut self.store, &mut self.out) {
            (Some(store), _) => {
                store.upsert_videos(videos)?;
            }
            (None, Some(out)) => {
                for v in videos {
                    vrd_core::jsonl::write_record(out, v)?;
                }
            }
            (None, None) => unreachable!("a sink has a store or an output"),
        }
        self.written += videos.len();
        Ok(())
    }
}

/// `videos.list` in batches of 50; ids the API no longer knows fall back to what their
/// playlist item said (uploads) or are counted as not found.
fn fetch_details(
    client: &mut ApiClient,
    ids: &[String],
    sink: &mut Sink,
    fallback: &HashMap<String, &serde_json::Value>,
) -> Result<()> {
    let bar = vrd_core::progress::bar(ids.len(), "videos");
    let mut categories: HashMap<String, String> = HashMap::new();
    for batch in ids.chunks(IDS_PER_CALL) {
        let joined = batch.join(",");
        let page = client.get(
            "videos",
            &[("part", "snippet,contentDetails,liveStreamingDetails"), ("id", &joined), ("maxResults", "50")],
        )?;
        let items = page.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default();
        learn_categories(client, &items, &mut categories)?;
        let mut videos = items.iter().map(|i| parse::video(i, &categories)).collect::<Result<Vec<_>>>()?;
        let found: HashSet<&str> = videos.iter().map(|v| v.video_id.as_str()).collect();
        let mut missing = Vec::new();
        for id in batch.iter().filter(|id| !found.contains(id.as_str())) {
            match fallback.get(id).map(|item| parse::video_from_playlist_item(item)).transpose()?.flatten() {
                Some(v) => missing.push(v),
                None => sink.not_found += 1,
            }
        }
        videos.extend(missing);
        sink.put(&videos)?;
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// Category names for the ids these items use that are not known yet (one request).
fn learn_categories(
    client: &mut ApiClient,
    items: &[serde_json::Value],
    known: &mut HashMap<String, String>,
) -> Result<()> {
    let new: Vec<&str> = items
        .iter()
        .filter_map(|i| i.pointer("/snippet/categoryId").and_then(|c| c.as_str()))
        .filter(|c| !known.contains_key(*c))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let page = client.get("videoCategories", &[("part", "snippet"), ("id", &new.join(","))])?;
    for item in page.get("items").and_then(|i| i.as_array()).into_iter().flatten() {
        if let (Some(id), Some(title)) =
            (item.get("id").and_then(|v| v.as_str()), item.pointer("/snippet/title").and_then(|v| v.as_str()))
        {
            known.insert(id.to_string(), title.to_string());
        }
    }
    // Ids the API did not name stay ids; do not ask again.
    for id in new {
        known.entry(id.to_string()).or_insert_with(|| id.to_string());
    }
    Ok(())
}

/// A channel's uploads playlist, every page (or the latest `limit`).
fn uploads(client: &mut ApiClient, channel: &str, limit: Option<usize>) -> Result<Vec<serde_json::Value>> {
    let by = if channel.starts_with('@') { "forHandle" } else { "id" };
    let page = client.get("channels", &[("part", "contentDetails"), (by, channel)])?;
    let item = page
        .get("items")
        .and_then(|i| i.as_array())
        .and_then(|i| i.first())
        .ok_or_else(|| anyhow!("youtube: no channel {channel}"))?;
    let id = item.get("id").and_then(|v| v.as_str()).unwrap_or(channel);
    // Every channel's uploads playlist is its id with `UU` for `UC`; older responses
    // without contentDetails still work.
    let playlist = item
        .pointer("/contentDetails/relatedPlaylists/uploads")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .or_else(|| id.strip_prefix("UC").map(|rest| format!("UU{rest}")))
        .ok_or_else(|| anyhow!("youtube: channel {channel} has no uploads playlist"))?;
    let per_page = limit.unwrap_or(50).clamp(1, 50).to_string();
    client.get_all(
        "playlistItems",
        &[("part", "snippet,contentDetails"), ("playlistId", &playlist), ("maxResults", &per_page)],
        limit,
    )
}

/// Likes → interest, dislikes → uninterest (labels), with the videos' details when
/// writing to the store. YouTube does not say when a rating was given: labels carry the
/// time of the import.
fn ratings(client: &mut ApiClient, store: Option<&mut Store>, output: Option<&Path>) -> Result<()> {
    let now = chrono::Utc::now();
    let mut labels = Vec::new();
    let mut videos = Vec::new();
    for (rating, kind) in [("like", LabelKind::Interest), ("dislike", LabelKind::Uninterest)] {
        let items = client.get_all(
            "videos",
            &[("part", "snippet,contentDetails"), ("myRating", rating), ("maxResults", "50")],
            None,
        )?;
        eprintln!("vrd-ingest: youtube: {} {rating}d videos", items.len());
        for item in &items {
            let video = parse::video(item, &HashMap::new())?;
            labels.push(Label {
                video_id: video.video_id.clone(),
                kind,
                labelled_at: now,
                source: format!("youtube-{rating}"),
                feed_at: None,
            });
            videos.push(video);
        }
    }
    match store {
        Some(store) => {
            let v = store.upsert_videos(&videos)?;
            let l = store.add_labels(&labels, true)?;
            eprintln!("vrd-ingest: {}: videos {v}; labels {l}", store.path().display());
            Ok(())
        }
        None => {
            let mut out = vrd_core::output::Output::open(output)?;
            for l in &labels {
                vrd_core::jsonl::write_record(&mut out, l)?;
            }
            out.finish()
        }
    }
}

/// Ends a run: a spent quota still keeps (store) or writes (JSONL) the complete batches
/// fetched before it and tells how to resume; other errors write nothing to a file.
fn finish(outcome: Result<()>, sink: Sink, client: &ApiClient, wanted: usize) -> Result<()> {
    let summary = format!(
        "{} videos written, {} not found (private or deleted), {} API requests",
        sink.written, sink.not_found, client.calls
    );
    let quota = outcome.as_ref().err().is_some_and(|e| e.downcast_ref::<QuotaExhausted>().is_some());
    if let Some(out) = sink.out {
        if outcome.is_ok() || quota {
            out.finish()?;
        }
    }
    eprintln!("vrd-ingest: youtube: {summary}");
    match outcome {
        Err(e) if quota => {
            let hint = if sink.store.is_some() {
                "the store keeps what was fetched; the same command resumes"
            } else {
                "the videos fetched so far were written; use --db to resume where this stopped"
            };
            Err(e.context(format!("stopped after {} of {wanted} videos; {hint}", sink.written + sink.not_found)))
        }
        other => other,
    }
}

/// A video id, or the id in a watch/shorts/youtu.be URL.
fn video_id_arg(text: &str) -> Result<String> {
    let text = text.trim();
    if text.contains('/') {
        return vrd_core::youtube::video_id_from_url(text).ok_or_else(|| anyhow!("no video id in {text:?}"));
    }
    if !vrd_core::records::is_video_id(text) {
        return Err(anyhow!("{text:?} is not a YouTube video id"));
    }
    Ok(text.to_string())
}

/// Ids from a file or stdin: one id or URL per line, or JSONL records with a `video_id`.
fn read_ids(path: &Path) -> Result<Vec<String>> {
    let name = path.display().to_string();
    let reader: Box<dyn BufRead> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?))
    };
    let mut ids = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{name}:{}", i + 1))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let id = if line.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| anyhow!("{name}:{}: {}", i + 1, vrd_core::jsonl::strip_position(&e.to_string())))?;
            v.get("video_id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| anyhow!("{name}:{}: field `video_id`: missing", i + 1))?
        } else {
            video_id_arg(line).map_err(|e| anyhow!("{name}:{}: {e}", i + 1))?
        };
        ids.push(id);
    }
    Ok(ids)
}

fn dedupe(ids: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(id.clone())).collect()
}

/// Watched and candidate videos of the store, most recently watched first.
fn store_ids(store: &Store) -> Result<Vec<String>> {
    let mut ids: Vec<String> = store.watch_events()?.into_iter().rev().map(|w| w.video_id).collect();
    ids.extend(store.videos()?.into_iter().map(|v| v.video_id));
    Ok(ids)
}

fn without_api_details(store: &Store, ids: Vec<String>) -> Result<Vec<String>> {
    let done: HashSet<String> =
        store.videos_by_id(&ids)?.into_iter().filter(|v| v.source == parse::SOURCE).map(|v| v.video_id).collect();
    if !done.is_empty() {
        eprintln!("vrd-ingest: youtube: {} videos already have details in the store", done.len());
    }
    Ok(ids.into_iter().filter(|id| !done.contains(id)).collect())
}
