//! One run of vrd-rank: its inputs read (files, else the store), the embeddings completed,
//! the feed ranked by the cold start or the trained model, written and saved.

use crate::cli::Cli;
use crate::timeline_source::{Activity, ActivitySource};
use crate::{feed_format, searches};
use anyhow::Result;
use std::collections::{HashMap, HashSet};
use vrd_core::jsonl::JsonlReader;
use vrd_core::model_dir::ModelDir;
use vrd_core::output::Output;
use vrd_core::records::{Label, MediaText, Search, Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_core::usage::UsageError;
use vrd_engine::pick_fusion::PickEncoder;
use vrd_ranking::candidates::Answers;
use vrd_ranking::cold_start;
use vrd_ranking::ordering::{self, keep_places, spread_channels};
use vrd_ranking::pick::card::PickCard;
use vrd_ranking::pick::feed::{Besides, DeepPart, Picker};

/// The feed of one run: with `--model`, by the trained model for the moment; else the
/// cold start.
pub fn run(cli: &Cli) -> Result<()> {
    match (&cli.model, &cli.like) {
        (Some(model), _) => rank_with_model(cli, model),
        (None, Some(video_id)) => rank_like(cli, video_id),
        (None, None) => rank_cold_start(cli),
    }
}

/// `--like VIDEO_ID`: the videos most like it among the candidates.
fn rank_like(cli: &Cli, video_id: &str) -> Result<()> {
    let Inputs { candidates, history, labels, stored_ids, .. } = read_inputs(cli, false)?;
    let (embeddings, added) = load_embeddings(cli, &candidates.iter().map(MediaText::from).collect::<Vec<_>>())?;
    warn_unembedded(cli, &candidates, &embeddings);
    let settings = vrd_ranking::like::LikeSettings {
        top: cli.top,
        per_channel: cli.per_channel,
        lambda: cli.mode.blend().lambda,
        keep_watched: cli.keep_watched,
    };
    let answers = Answers::from_labels(&labels);
    let feed = vrd_ranking::like::like(video_id, &candidates, &history, &embeddings, &answers, &settings)?;
    save_embeddings(cli, embeddings, added, stored_ids.as_ref())?;
    write(cli, &feed)
}

/// The feed to stdout or `--output`.
fn write(cli: &Cli, feed: &[vrd_core::records::FeedItem]) -> Result<()> {
    let mut out = Output::open(cli.output.as_deref())?;
    feed_format::write_feed(&mut out, feed, cli.format)?;
    out.finish()
}

fn rank_cold_start(cli: &Cli) -> Result<()> {
    let Inputs { candidates, history, searches, labels, origins, stored_ids } = read_inputs(cli, true)?;
    let mut texts: Vec<MediaText> = candidates.iter().map(MediaText::from).collect();
    texts.extend(history.iter().map(MediaText::from));
    let (embeddings, added) = load_embeddings(cli, &texts)?;
    warn_unembedded(cli, &candidates, &embeddings);
    let settings = cold_start::Settings {
        recent: cli.recent,
        half_life_days: cli.half_life_days,
        keep_watched: cli.keep_watched,
        top: ranked_top(cli),
        channel_weight: cli.channel_weight,
        explain: cli.explain.then(chrono::Utc::now),
    };
    let search_profile = match searches.is_empty() || cli.search_weight == 0.0 {
        true => None,
        false => Some((
            searches::profile(&searches, &embeddings.meta.model_id, cli.media_model.as_deref(), &settings)?,
            cli.search_weight,
        )),
    };
    let answers = Answers::from_labels(&labels);
    let feed = cold_start::rank(&history, search_profile.as_ref(), &candidates, &embeddings, &answers, &settings)?;
    save_embeddings(cli, embeddings, added, stored_ids.as_ref())?;
    finish(cli, &chrono::Utc::now(), feed, None, (&origins, Spread::ByChannel))
}

/// Whether a feed's order gives each channel's next video a wait ([`spread_channels`]):
/// the answers' model already picks for variety (maximal marginal relevance).
enum Spread {
    ByChannel,
    AsRanked,
}

/// How many videos the rankers rank: more than the feed shows, so that the channels' turns
/// and the places kept for new channels have videos to choose from (the first `--top` of
/// each ranker's order are those it would give for `--top`).
fn ranked_top(cli: &Cli) -> usize {
    cli.top.saturating_mul(2)
}

/// The feed shaped (channels take turns where their videos come close; `--mode explore`
/// keeps every fourth place for a newly discovered channel), cut to `--top`, said where each
/// video came from (with `--explain`), saved in the store (with `--db`) under its moment
/// with since when its activity is unknown (`unknown`, where the server did not answer: a
/// reason of every item too), then written.
fn finish(
    cli: &Cli,
    at: &vrd_core::time::Timestamp,
    feed: Vec<vrd_core::records::FeedItem>,
    unknown: Option<String>,
    (origins, spread): (&Origins, Spread),
) -> Result<()> {
    let mut feed = match spread {
        Spread::ByChannel => spread_channels(feed),
        Spread::AsRanked => feed,
    };
    if cli.mode == ordering::Mode::Explore && !origins.discovered.is_empty() {
        feed = keep_places(feed, |i| origins.discovered.contains(&i.video_id), EXPLORE_EVERY);
    }
    feed.truncate(cli.top);
    let notes: Vec<String> = unknown.into_iter().collect();
    if cli.explain {
        for item in &mut feed {
            if let Some(words) = origins.words.get(&item.video_id) {
                item.reasons.insert(0, words.clone());
            }
            item.reasons.extend(notes.iter().cloned());
        }
    }
    if let Some(db) = &cli.db {
        vrd_store::Store::open(db)?.save_feed(at, &feed, &notes)?;
    }
    write(cli, &feed)
}

/// In `--mode explore`, every this many places one is kept for a new channel's video.
const EXPLORE_EVERY: usize = 4;

/// Where a model comes from, for the messages of a folder that holds none.
const TRAIN_ONE: &str = "the cron job (vrd-cron-feed) trains the first one there from the store (vrd-train \
                         retrain), or vrd-train fit --out DIR trains one from files";

fn rank_with_model(cli: &Cli, model: &std::path::Path) -> Result<()> {
    let activity = ActivitySource::new(cli)?;
    if !model.is_dir() {
        anyhow::bail!("--model {}: no such folder ({TRAIN_ONE})", model.display());
    }
    let pick = PickCard::read_if_present(model)?;
    if !ModelDir::new(model).has_answers_model() {
        return match pick {
            Some(card) => rank_with_pick(cli, model, &card, &activity),
            None => {
                let [answers, next_watch] = ModelDir::card_names();
                anyhow::bail!("{}: no model here (neither {answers} nor {next_watch}): {TRAIN_ONE}", model.display())
            }
        };
    }
    let saved = vrd_engine::saved::SavedModel::load(model, tch::Device::Cpu, cli.encoder.as_deref())?;
    let Inputs { candidates, history, labels, searches, origins, stored_ids } = read_inputs(cli, pick.is_some())?;
    let mut texts: Vec<MediaText> = candidates.iter().map(MediaText::from).collect();
    if pick.is_some() {
        texts.extend(history.iter().map(MediaText::from));
    }
    let (embeddings, added) = load_embeddings(cli, &texts)?;
    warn_unembedded(cli, &candidates, &embeddings);
    let at = cli.at.unwrap_or_else(chrono::Utc::now);
    // What was watched by the moment ranked for (a past --at does not know the later
    // watches).
    let history: Vec<WatchEvent> = history.into_iter().filter(|e| e.watched_at < at).collect();
    // The answers' window, and the fortnight of watches a next-watch model trained with
    // the timeline compares the moment's apps with.
    let mut since = at - saved.card.context.window() - chrono::Duration::days(1);
    if pick.as_ref().is_some_and(|card| card.history.with_activity > 0) {
        since = since.min(pick_activity_since(at));
    }
    let Activity { timeline, unknown } = activity.timeline((since, at))?;
    let encoder_dir = vrd_engine::encoder_dir::resolve_encoder_dir(cli.context_model.as_deref())?;
    let encoder = vrd_model::SentenceEncoder::load(&encoder_dir, &Default::default())?;
    let now = vrd_engine::rank::now_context(&saved, &timeline, at, &encoder)?;
    let mut blend = cli.mode.blend();
    if let Some((i, r)) = cli.weights {
        (blend.interest, blend.right_time) = (i, r);
    }
    let settings = vrd_engine::rank::Settings {
        at,
        blend,
        top: ranked_top(cli),
        per_channel: cli.per_channel.max(1),
        half_life_days: cli.fresh_half_life_days,
        keep_watched: cli.keep_watched,
        explain: cli.explain,
    };
    let answers = Answers::from_labels(&labels);
    let liked = cli.explain.then(|| vrd_engine::rank::Liked::from_labels(&labels, &candidates, &embeddings));
    let queries = match pick.is_some() {
        true => searches::before(&searches, at, &embeddings.meta.model_id, cli.media_model.as_deref())?,
        false => Vec::new(),
    };
    let pick_encoder =
        pick.as_ref().map(|card| PickEncoder::for_card(model, card, cli.encoder.as_deref())).transpose()?.flatten();
    let deep =
        |videos: &[&Video], z: &[Vec<f32>]| pick_encoder.as_ref().expect("loaded for a fusion card").scores(videos, z);
    let deep = pick_encoder.is_some().then_some(&deep as &DeepPart);
    let picker = pick
        .as_ref()
        .map(|card| {
            let besides = Besides { searches: &queries, timeline: Some(&timeline) };
            Picker::new(card, &history, besides, &embeddings, at).map(|p| p.with_deep_part(deep))
        })
        .transpose()?;
    let person =
        vrd_engine::rank::Person { history: &history, answers: &answers, liked: liked.as_ref(), pick: picker.as_ref() };
    let feed = vrd_engine::rank::rank(&saved, &now, &candidates, &embeddings, &person, &settings)?;
    save_embeddings(cli, embeddings, added, stored_ids.as_ref())?;
    finish(cli, &at, feed, unknown, (&origins, Spread::AsRanked))
}

/// The feed of a model folder that holds only the next-watch model (trained from the
/// watch history alone): no activity needed, the history before `--at` is the moment.
fn rank_with_pick(cli: &Cli, model: &std::path::Path, card: &PickCard, activity: &ActivitySource) -> Result<()> {
    let Inputs { candidates, history, labels, searches, origins, stored_ids } = read_inputs(cli, true)?;
    if history.is_empty() {
        return Err(UsageError(
            "the next-watch model ranks from the watch history: pass --history FILE or --db STORE".into(),
        )
        .into());
    }
    let at = cli.at.unwrap_or_else(chrono::Utc::now);
    // A model trained with the app timeline reads the moment's apps (and the fortnight's
    // before it) as the answers' model does: a file given, else the server.
    let (timeline, unknown) = match card.history.with_activity > 0 {
        true => {
            let Activity { timeline, unknown } = activity.timeline((pick_activity_since(at), at))?;
            (Some(timeline), unknown)
        }
        false => (None, None),
    };
    let mut texts: Vec<MediaText> = candidates.iter().map(MediaText::from).collect();
    texts.extend(history.iter().map(MediaText::from));
    let (embeddings, added) = load_embeddings(cli, &texts)?;
    warn_unembedded(cli, &candidates, &embeddings);
    let settings = vrd_ranking::pick::feed::PickSettings {
        at,
        top: ranked_top(cli),
        per_channel: cli.per_channel.max(1),
        keep_watched: cli.keep_watched,
        explain: cli.explain,
        timezone: vrd_core::time::timezone_or_system(None)?,
    };
    let answers = Answers::from_labels(&labels);
    let queries = searches::before(&searches, at, &embeddings.meta.model_id, cli.media_model.as_deref())?;
    let encoder = PickEncoder::for_card(model, card, cli.encoder.as_deref())?;
    let deep =
        |videos: &[&Video], z: &[Vec<f32>]| encoder.as_ref().expect("loaded for a fusion card").scores(videos, z);
    let deep = encoder.is_some().then_some(&deep as &DeepPart);
    let besides = Besides { searches: &queries, timeline: timeline.as_ref() };
    let feed =
        vrd_ranking::pick::feed::rank((card, deep), &history, besides, &candidates, &embeddings, &answers, &settings)?;
    save_embeddings(cli, embeddings, added, stored_ids.as_ref())?;
    finish(cli, &at, feed, unknown, (&origins, Spread::ByChannel))
}

/// How old an upload of the store's may be to stay in the feed, by default.
const STORE_MAX_AGE_DAYS: f64 = 30.0;

/// What a run ranks from.
struct Inputs {
    /// Without the uploads too old for the feed (`--max-age-days`), saved ones kept.
    candidates: Vec<Video>,
    /// Where the candidates came from (from the store), for the reasons and the places kept.
    origins: Origins,
    /// Every video the store holds or the history names: the embeddings cache keeps rows for
    /// these alone (None without a store: a file's cache is not pruned).
    stored_ids: Option<HashSet<String>>,
    history: Vec<WatchEvent>,
    /// Only for the cold start and the next-watch model (`with_searches`).
    searches: Vec<Search>,
    /// The person's answers (uninterest, not now; liked videos for --explain).
    labels: Vec<Label>,
}

/// Candidates, watch history, labels and (`with_searches`: for the cold start and the
/// next-watch model) searches
/// from the files given, else from the store (`--db`, opened once for all of them).
fn read_inputs(cli: &Cli, with_searches: bool) -> Result<Inputs> {
    let wants_store = cli.candidates.is_none()
        || cli.history.is_none()
        || cli.labels.is_none()
        || (with_searches && cli.searches.is_none());
    let store = match &cli.db {
        Some(db) if wants_store => Some(vrd_store::Store::open(db)?),
        _ => None,
    };
    let all_stored: Vec<String> = match &store {
        Some(store) => store.videos()?.into_iter().map(|v| v.video_id).collect(),
        None => Vec::new(),
    };
    let (candidates, max_age_days) = match (&cli.candidates, &store) {
        (Some(path), _) => (JsonlReader::open(Some(path))?.read_all()?, cli.max_age_days),
        (None, Some(store)) => (store.videos()?, Some(cli.max_age_days.unwrap_or(STORE_MAX_AGE_DAYS))),
        (None, None) => return Err(UsageError("no candidates: pass --candidates FILE or --db STORE".into()).into()),
    };
    let saved: HashSet<String> = match &store {
        Some(store) => store.saved_videos()?.into_iter().map(|s| s.video_id).collect(),
        None => Default::default(),
    };
    let candidates = match max_age_days {
        Some(days) => {
            let oldest = cli.at.unwrap_or_else(chrono::Utc::now) - chrono::Duration::seconds((days * 86_400.0) as i64);
            candidates
                .into_iter()
                .filter(|v| saved.contains(&v.video_id) || v.published_at.is_none_or(|p| p >= oldest))
                .collect()
        }
        None => candidates,
    };
    let history = match (&cli.history, &store) {
        (Some(path), _) => JsonlReader::open(Some(path))?.read_all()?,
        (None, Some(store)) => store.watch_events()?,
        (None, None) => Vec::new(),
    };
    let searches = match (with_searches, &cli.searches, &store) {
        (false, _, _) => Vec::new(),
        (true, Some(path), _) => JsonlReader::open(Some(path))?.read_all()?,
        (true, None, Some(store)) => store.searches()?,
        (true, None, None) => Vec::new(),
    };
    let labels = match (&cli.labels, &store) {
        (Some(path), _) => JsonlReader::open(Some(path))?.read_all()?,
        (None, Some(store)) => store.label_history()?,
        (None, None) => Vec::new(),
    };
    let stored_ids = store.as_ref().map(|_| {
        let mut ids: HashSet<String> = all_stored.iter().cloned().collect();
        ids.extend(history.iter().map(|e| e.video_id.clone()));
        ids
    });
    let origins = match &store {
        Some(store) => Origins::read(store, &candidates, &history, &saved, cli.at.unwrap_or_else(chrono::Utc::now))?,
        None => Origins::default(),
    };
    Ok(Inputs { candidates, origins, stored_ids, history, searches, labels })
}

/// Where each candidate came from, said first among its reasons: a video the person saved,
/// one of a channel they watch (and how often lately), one of a channel discovery found
/// (which `--mode explore` keeps places for), one of a channel they subscribe to.
#[derive(Default)]
struct Origins {
    /// Video id → the words.
    words: HashMap<String, String>,
    /// The videos of newly discovered channels.
    discovered: HashSet<String>,
}

impl Origins {
    fn read(
        store: &vrd_store::Store,
        candidates: &[Video],
        history: &[WatchEvent],
        saved: &HashSet<String>,
        now: vrd_core::time::Timestamp,
    ) -> Result<Origins> {
        // Each watched channel's watches, and those of the last eight weeks.
        let mut watched: HashMap<&str, (usize, usize, vrd_core::time::Timestamp)> = HashMap::new();
        for e in history {
            if let Some(c) = e.channel_id.as_deref() {
                let w = watched.entry(c).or_insert((0, 0, e.watched_at));
                w.0 += 1;
                w.1 += usize::from(now - e.watched_at <= chrono::Duration::weeks(8));
                w.2 = w.2.max(e.watched_at);
            }
        }
        let found: HashMap<String, vrd_core::reach::Reason> = store
            .discovered_channels()?
            .into_iter()
            .filter(|d| !watched.contains_key(d.channel_id.as_str()))
            .filter(|d| now - d.found_at <= chrono::Duration::days(vrd_core::reach::DISCOVERED_DAYS))
            .map(|d| (d.channel_id.clone(), d.reason()))
            .collect();
        let subscribed: HashSet<String> = store
            .subscriptions()?
            .into_iter()
            .filter_map(|s| s.channel_id)
            .filter(|c| !watched.contains_key(c.as_str()))
            .collect();
        let mut origins = Origins::default();
        for v in candidates {
            let channel = v.channel_id.as_deref().unwrap_or("");
            let words = if saved.contains(&v.video_id) {
                Some("saved for later".to_string())
            } else if let Some(reason) = found.get(channel) {
                origins.discovered.insert(v.video_id.clone());
                Some(reason.words())
            } else if let Some(&(watches, recent, latest)) = watched.get(channel) {
                let per_week = recent as f64 / 8.0;
                Some(vrd_core::reach::Reason::Watched { watches, latest, per_week }.words())
            } else if subscribed.contains(channel) {
                Some(vrd_core::reach::Reason::Subscribed.words())
            } else {
                None
            };
            if let Some(words) = words {
                origins.words.insert(v.video_id.clone(), words);
            }
        }
        Ok(origins)
    }
}

/// How far back a next-watch model trained with the timeline reads it at `at`: the
/// fortnight of watches it compares the moment's apps with, and the hour before the first.
fn pick_activity_since(at: vrd_core::time::Timestamp) -> vrd_core::time::Timestamp {
    use vrd_ranking::pick::activity::{ACTIVITY_DAYS, ACTIVITY_WINDOW_MINUTES};
    at - chrono::Duration::days(ACTIVITY_DAYS) - chrono::Duration::minutes(ACTIVITY_WINDOW_MINUTES)
}

/// The embeddings cache, with the videos it lacked encoded (and how many those were).
fn load_embeddings(cli: &Cli, videos: &[MediaText]) -> Result<(Embeddings, usize)> {
    let path = &cli.embeddings;
    let cache = if path.exists() {
        Some(Embeddings::read(path)?)
    } else if path.parent().is_some_and(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        anyhow::bail!("{}: no such file, and its folder does not exist", path.display());
    } else {
        None
    };
    let (embeddings, added) = vrd_engine::embeddings_cache::complete(cache, videos, cli.media_model.as_deref())?;
    if added > 0 && !cli.quiet {
        eprintln!("vrd-rank: encoded {added} videos that {} lacked", path.display());
    }
    Ok((embeddings, added))
}

/// Says (unless --quiet) which candidates still have no embedding: the ranking leaves them
/// out; what the cache lacked was encoded, so these had no text to encode.
fn warn_unembedded(cli: &Cli, candidates: &[Video], embeddings: &Embeddings) {
    let missing = vrd_ranking::candidates::without_embedding(candidates, embeddings);
    if !missing.is_empty() && !cli.quiet {
        eprintln!(
            "vrd-rank: {} candidates have no embedding and are left out (first: {}; run vrd-encode media over them)",
            missing.len(),
            missing[0]
        );
    }
}

/// Keeps what was encoded for the next run (once the feed is made: a failed run leaves
/// the cache as it was); with a store, without the rows of videos it no longer holds (the
/// uploads that aged out of it), so the cache stays bounded as the store does.
fn save_embeddings(
    cli: &Cli,
    mut embeddings: Embeddings,
    added: usize,
    stored: Option<&HashSet<String>>,
) -> Result<()> {
    if cli.no_cache_update {
        return Ok(());
    }
    let dropped = stored.map_or(0, |ids| embeddings.retain(|id| ids.contains(id)));
    if added + dropped > 0 {
        embeddings.write(&cli.embeddings)?;
    }
    Ok(())
}
