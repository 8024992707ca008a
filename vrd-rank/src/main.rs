//! vrd-rank: scores candidate videos for the person and prints the ranked feed.

mod cold_start;
mod feed_format;
mod missing;
mod model_rank;
mod ordering;
mod searches;

use anyhow::{Context, Result};
use clap::Parser;
use feed_format::FeedFormat;
use shared::aw::timeline::Source;
use shared::cli::UsageError;
use shared::jsonl::JsonlReader;
use shared::output::Output;
use shared::records::{MediaText, Search, Video, WatchEvent};
use shared::tensors::Embeddings;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vrd-rank", about = "Rank candidate videos for the person and print the feed")]
struct Cli {
    /// Rank by similarity to what the person watched recently (needs no labels and no
    /// trained model).
    #[arg(long, conflicts_with = "model", required_unless_present = "model")]
    cold_start: bool,
    /// A model folder from vrd-train: rank by calibrated interest and right-time
    /// probabilities for the current activity.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Watch-event JSONL (vrd-ingest output); watched videos are left out. Default: the
    /// store's watch history (--db).
    #[arg(long, required_unless_present_any = ["model", "db"])]
    history: Option<PathBuf>,
    /// App-event JSONL (vrd-ingest aw) to cut "now" from, for a reproducible run;
    /// default: the ActivityWatch server (a file given wins over --aw-server and
    /// VRD_AW_SERVER). Several hosts' timelines (each event's `host`) are read as one each.
    #[arg(long)]
    events: Option<PathBuf>,
    /// An ActivityWatch export (aw-buckets-export.json) to cut "now" from instead of the
    /// server (its timeline computed as the server would, with the default categories).
    #[arg(long, conflicts_with = "events")]
    aw: Option<PathBuf>,
    /// The ActivityWatch server asked for the current activity, and whose.
    #[command(flatten)]
    aw_options: shared::aw::options::AwOptions,
    /// The moment to rank for (RFC 3339 with a zone); default now.
    #[arg(long, value_parser = shared::cli::time_arg)]
    at: Option<shared::time::Timestamp>,
    /// The sentence-encoder folder for activity texts (default: the packaged model); it
    /// must be the one the model was trained with.
    #[arg(long)]
    context_model: Option<PathBuf>,
    /// focus, balanced or explore: how interest and the moment are weighed, and how much
    /// variety.
    #[arg(long, value_enum, default_value = "balanced")]
    mode: ordering::Mode,
    /// Explicit weights `INTEREST,RIGHT_TIME` instead of the mode's.
    #[arg(long, value_parser = parse_weights)]
    weights: Option<(f64, f64)>,
    /// At most this many videos of one channel.
    #[arg(long, default_value_t = 3)]
    per_channel: usize,
    /// Half-life of a video's freshness, in days since publication (model ranking).
    #[arg(long, default_value_t = 30.0)]
    fresh_half_life_days: f64,
    /// Add the main reasons for each item.
    #[arg(long)]
    explain: bool,
    /// Your labels (vrd-label export), so that --explain names the liked video each item
    /// is most like.
    #[arg(long, requires = "explain")]
    labels: Option<PathBuf>,
    /// A vrd store: the feed is saved in it under the moment it was ranked for; candidates
    /// and history come from it when --candidates and --history are not given.
    #[arg(long)]
    db: Option<PathBuf>,
    /// No warnings on stderr (errors still go there), for cron.
    #[arg(long, short)]
    quiet: bool,
    /// Candidate video JSONL (`-` for stdin). Default: every video in the store (--db).
    #[arg(long, required_unless_present = "db")]
    candidates: Option<PathBuf>,
    /// Embeddings of history and candidates (vrd-encode media output): videos it lacks are
    /// encoded with --media-model and added to it (a file that does not exist yet is
    /// created).
    #[arg(long)]
    embeddings: PathBuf,
    /// The model folder that made --embeddings, for candidates it lacks (default: VRD_MODEL,
    /// then the packaged model).
    #[arg(long)]
    media_model: Option<PathBuf>,
    /// Encode missing candidates for this run only; leave the --embeddings file as it is.
    #[arg(long)]
    no_cache_update: bool,
    /// The encoder folder of a fusion model, if it moved since training (the same weights).
    #[arg(long, requires = "model")]
    encoder: Option<PathBuf>,
    /// How many items to print.
    #[arg(short = 'n', long, default_value_t = 20)]
    top: usize,
    /// How many of the most recent watch events form the taste profile.
    #[arg(long, default_value_t = cold_start::DEFAULT_RECENT)]
    recent: usize,
    /// The person's YouTube searches (vrd-ingest searches JSONL) for the cold-start
    /// profile. Default: the store's (--db), if it has any.
    #[arg(long)]
    searches: Option<PathBuf>,
    /// Weight of a candidate's channel familiarity (how often the history watched its
    /// channel, log scale, 0 to 1) added to its similarity in the cold-start feed.
    #[arg(long, default_value_t = cold_start::DEFAULT_CHANNEL_WEIGHT)]
    channel_weight: f64,
    /// The searches' share of the cold-start profile (0 to 1), when there are any.
    #[arg(long, default_value_t = cold_start::DEFAULT_SEARCH_WEIGHT)]
    search_weight: f64,
    /// Half-life, in days, of a watch event's weight (counted back from the newest event).
    #[arg(long, default_value_t = cold_start::DEFAULT_HALF_LIFE_DAYS)]
    half_life_days: f64,
    /// Also show videos the person has already watched.
    #[arg(long)]
    keep_watched: bool,
    /// jsonl, tsv or table.
    #[arg(long, value_enum, default_value_t = FeedFormat::Jsonl)]
    format: FeedFormat,
    /// Write the feed here instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli: Cli = vrd_model::version::parse_args_with_torch();
    shared::cli::run("vrd-rank", || rank(&cli))
}

fn parse_weights(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(',').ok_or("weights are INTEREST,RIGHT_TIME")?;
    let parse = |x: &str| x.trim().parse::<f64>().map_err(|_| format!("{x:?} is not a number"));
    let (a, b) = (parse(a)?, parse(b)?);
    if a < 0.0 || b < 0.0 || a + b == 0.0 {
        return Err("weights must be non-negative and not both zero".into());
    }
    Ok((a / (a + b), b / (a + b)))
}

fn rank(cli: &Cli) -> Result<()> {
    if cli.half_life_days.is_nan()
        || cli.half_life_days <= 0.0
        || cli.fresh_half_life_days.is_nan()
        || cli.fresh_half_life_days <= 0.0
    {
        return Err(UsageError("half-lives must be positive".into()).into());
    }
    if !(0.0..=1.0).contains(&cli.search_weight) || !(0.0..=1.0).contains(&cli.channel_weight) {
        return Err(UsageError("--search-weight and --channel-weight are from 0 to 1".into()).into());
    }
    if let Some(model) = &cli.model {
        return rank_with_model(cli, model);
    }
    let (candidates, history, searches) = read_inputs(cli, true)?;
    let mut texts: Vec<MediaText> = candidates.iter().map(MediaText::from).collect();
    texts.extend(history.iter().map(MediaText::from));
    let (embeddings, added) = load_embeddings(cli, &texts)?;
    let settings = cold_start::Settings {
        recent: cli.recent,
        half_life_days: cli.half_life_days,
        keep_watched: cli.keep_watched,
        top: cli.top,
        channel_weight: cli.channel_weight,
    };
    let search_profile = match searches.is_empty() || cli.search_weight == 0.0 {
        true => None,
        false => Some((
            searches::profile(&searches, &embeddings.meta.model_id, cli.media_model.as_deref(), &settings)?,
            cli.search_weight,
        )),
    };
    let feed = cold_start::rank(&history, search_profile.as_ref(), &candidates, &embeddings, &settings)?;
    save_embeddings(cli, &embeddings, added)?;
    if let Some(db) = &cli.db {
        shared::store::Store::open(db)?.save_feed(&chrono::Utc::now(), &feed)?;
    }
    let mut out = Output::open(cli.output.as_deref())?;
    feed_format::write_feed(&mut out, &feed, cli.format)?;
    out.finish()
}

fn rank_with_model(cli: &Cli, model: &std::path::Path) -> Result<()> {
    // The server's options are checked first (a key file others can read is refused).
    let client = match (&cli.events, &cli.aw) {
        (None, None) => Some(cli.aw_options.client()?),
        _ => None,
    };
    let saved = vrd_model::saved::SavedModel::load(model, tch::Device::Cpu, cli.encoder.as_deref())?;
    let (candidates, history, _) = read_inputs(cli, false)?;
    let (embeddings, added) = load_embeddings(cli, &candidates.iter().map(MediaText::from).collect::<Vec<_>>())?;
    let at = cli.at.unwrap_or_else(chrono::Utc::now);
    let since = at - saved.card.context.window() - chrono::Duration::days(1);
    let (events, name) = match (&cli.events, &cli.aw) {
        (Some(path), _) => {
            let events: Vec<shared::records::AppEvent> = JsonlReader::open(Some(path))?.read_all()?;
            (events, path.display().to_string())
        }
        (None, Some(path)) => {
            let export = shared::aw::export::Export::read(path)?;
            let events = recent_app_events(&cli.aw_options, &Source::Export(&export), (since, at))
                .with_context(|| format!("{}: pass --aw-hostname", path.display()))?;
            (events, path.display().to_string())
        }
        (None, None) => {
            let client = client.as_ref().expect("made above when neither --events nor --aw is given");
            let events = recent_app_events(&cli.aw_options, &Source::Server(client), (since, at)).map_err(|e| {
                e.context("cannot get the current activity; pass --events FILE --at TIME, or rank with --cold-start")
            })?;
            (events, cli.aw_options.aw_server.clone())
        }
    };
    let timeline = model_rank::timeline(events, &name)?;
    let encoder_dir = vrd_model::model_dir::resolve_model_dir(cli.context_model.as_deref())?;
    let encoder = vrd_model::SentenceEncoder::load(&encoder_dir, &Default::default())?;
    let now = model_rank::now_context(&saved, &timeline, at, &encoder)?;
    let mut blend = cli.mode.blend();
    if let Some((i, r)) = cli.weights {
        (blend.interest, blend.right_time) = (i, r);
    }
    let settings = model_rank::Settings {
        at,
        blend,
        top: cli.top,
        per_channel: cli.per_channel.max(1),
        half_life_days: cli.fresh_half_life_days,
        keep_watched: cli.keep_watched,
        explain: cli.explain,
        quiet: cli.quiet,
    };
    let liked = match &cli.labels {
        Some(path) => {
            let labels: Vec<shared::records::Label> = JsonlReader::open(Some(path))?.read_all()?;
            Some(model_rank::Liked::from_labels(&labels, &candidates, &embeddings))
        }
        None => None,
    };
    let feed = model_rank::rank(&saved, &now, &candidates, &history, &embeddings, &settings, liked.as_ref())?;
    save_embeddings(cli, &embeddings, added)?;
    if let Some(db) = &cli.db {
        shared::store::Store::open(db)?.save_feed(&at, &feed)?;
    }
    let mut out = Output::open(cli.output.as_deref())?;
    feed_format::write_feed(&mut out, &feed, cli.format)?;
    out.finish()
}

/// Candidates, watch history and (`with_searches`: for the cold start) searches from the
/// files given, else from the store (`--db`, opened once for all three).
fn read_inputs(cli: &Cli, with_searches: bool) -> Result<(Vec<Video>, Vec<WatchEvent>, Vec<Search>)> {
    let wants_store = cli.candidates.is_none() || cli.history.is_none() || (with_searches && cli.searches.is_none());
    let store = match &cli.db {
        Some(db) if wants_store => Some(shared::store::Store::open(db)?),
        _ => None,
    };
    let candidates = match (&cli.candidates, &store) {
        (Some(path), _) => JsonlReader::open(Some(path))?.read_all()?,
        (None, Some(store)) => store.videos()?,
        (None, None) => return Err(UsageError("no candidates: pass --candidates FILE or --db STORE".into()).into()),
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
    Ok((candidates, history, searches))
}

/// The chosen hosts' timelines of `period`, categorised with the server's rules (an
/// export's: the defaults).
fn recent_app_events(
    aw: &shared::aw::options::AwOptions,
    source: &Source,
    period: (shared::time::Timestamp, shared::time::Timestamp),
) -> Result<Vec<shared::records::AppEvent>> {
    let rules = source.rules(None)?;
    source.all_app_events(&aw.hosts(), &rules, period, aw.aw_audible_active)
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
    let (embeddings, added) = missing::complete(cache, videos, cli.media_model.as_deref())?;
    if added > 0 && !cli.quiet {
        eprintln!("vrd-rank: encoded {added} videos that {} lacked", path.display());
    }
    Ok((embeddings, added))
}

/// Keeps what was encoded for the next run (once the feed is made: a failed run leaves
/// the cache as it was).
fn save_embeddings(cli: &Cli, embeddings: &Embeddings, added: usize) -> Result<()> {
    if added > 0 && !cli.no_cache_update {
        embeddings.write(&cli.embeddings)?;
    }
    Ok(())
}
