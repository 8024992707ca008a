//! vrd-rank's command line, parsed into types once: everything else reads these fields.

use crate::feed_format::FeedFormat;
use std::path::PathBuf;
use vrd_ranking::{cold_start, ordering};

#[derive(clap::Parser)]
#[command(name = "vrd-rank", about = "Rank candidate videos for the person and print the feed")]
pub struct Cli {
    /// Rank by similarity to what the person watched recently (needs no labels and no
    /// trained model).
    #[arg(long, conflicts_with_all = ["model", "like"], required_unless_present_any = ["model", "like"])]
    pub cold_start: bool,
    /// "More like this": the candidates nearest this video by their embeddings, varied
    /// (MMR, --per-channel) and without what was watched; needs no trained model.
    #[arg(long, value_name = "VIDEO_ID", conflicts_with = "model")]
    pub like: Option<String>,
    /// A model folder from vrd-train: rank by calibrated interest and right-time
    /// probabilities for the current activity, and by what the person would pick now given
    /// their watch history (pick.json, from vrd-train fit --history).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Watch-event JSONL (vrd-ingest output); watched videos are left out. Default: the
    /// store's watch history (--db).
    #[arg(long, required_unless_present_any = ["model", "db", "like"])]
    pub history: Option<PathBuf>,
    /// App-event JSONL (vrd-ingest aw) to cut "now" from, for a reproducible run;
    /// default: with --db the store's timeline (vrd-ingest aw --db), completed by the
    /// ActivityWatch server past where it ends; else the server (a file given wins over
    /// --aw-server and VRD_AW_SERVER). Several hosts' timelines (each event's `host`) are
    /// read as one each.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// An ActivityWatch export (aw-buckets-export.json) to cut "now" from instead of the
    /// server (its timeline computed as the server would, with the default categories).
    #[arg(long, conflicts_with = "events")]
    pub aw: Option<PathBuf>,
    /// The ActivityWatch server asked for the current activity, and whose.
    #[command(flatten)]
    pub aw_options: vrd_cli::AwArgs,
    /// The moment to rank for (RFC 3339 with a zone); default now.
    #[arg(long, value_parser = vrd_cli::time_arg)]
    pub at: Option<vrd_core::time::Timestamp>,
    /// The sentence-encoder folder for activity texts (default: the packaged model); it
    /// must be the one the model was trained with.
    #[arg(long)]
    pub context_model: Option<PathBuf>,
    /// focus, balanced or explore: how interest and the moment are weighed, and how much
    /// variety.
    #[arg(long, value_parser = vrd_cli::choice::<ordering::Mode>(), default_value = "balanced")]
    pub mode: ordering::Mode,
    /// Explicit weights `INTEREST,RIGHT_TIME` instead of the mode's.
    #[arg(long, value_parser = weights_arg)]
    pub weights: Option<(f64, f64)>,
    /// At most this many videos of one channel.
    #[arg(long, default_value_t = 3)]
    pub per_channel: usize,
    /// Half-life of a video's freshness, in days since publication (model ranking).
    #[arg(long, default_value_t = 30.0, value_parser = positive_arg)]
    pub fresh_half_life_days: f64,
    /// Add the main reasons for each item.
    #[arg(long)]
    pub explain: bool,
    /// Your labels (vrd-label export; default: the store's, with --db): videos you marked
    /// "uninterest" never come back; "not now" ones come back when the moment fits them
    /// (with --model; the cold start leaves them out); --explain names the liked video
    /// each item is most like.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// A vrd store: the feed is saved in it under the moment it was ranked for; candidates,
    /// history and the app timeline come from it when --candidates, --history and --events
    /// (or --aw) are not given.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// No warnings on stderr (errors still go there), for cron.
    #[arg(long, short)]
    pub quiet: bool,
    /// Candidate video JSONL (`-` for stdin). Default: every video in the store (--db).
    #[arg(long, required_unless_present = "db")]
    pub candidates: Option<PathBuf>,
    /// Uploads older than this many days before --at leave the feed, unless the person
    /// saved them. Default: 30 for the store's candidates (--db); a candidates file is
    /// ranked whole unless this is given.
    #[arg(long, env = "VRD_MAX_AGE_DAYS", value_parser = positive_arg)]
    pub max_age_days: Option<f64>,
    /// Embeddings of history and candidates (vrd-encode media output): videos it lacks are
    /// encoded with --media-model and added to it (a file that does not exist yet is
    /// created).
    #[arg(long)]
    pub embeddings: PathBuf,
    /// The model folder that made --embeddings, for candidates it lacks (default: VRD_MODEL,
    /// then the packaged model).
    #[arg(long)]
    pub media_model: Option<PathBuf>,
    /// Encode missing candidates for this run only; leave the --embeddings file as it is.
    #[arg(long)]
    pub no_cache_update: bool,
    /// The encoder folder of a fusion model, if it moved since training (the same weights).
    #[arg(long, requires = "model")]
    pub encoder: Option<PathBuf>,
    /// How many items to print.
    #[arg(short = 'n', long, default_value_t = 20)]
    pub top: usize,
    /// How many of the most recent watch events form the taste profile.
    #[arg(long, default_value_t = cold_start::DEFAULT_RECENT)]
    pub recent: usize,
    /// The person's YouTube searches (vrd-ingest searches JSONL) for the cold-start
    /// profile and the next-watch model. Default: the store's (--db), if it has any.
    #[arg(long)]
    pub searches: Option<PathBuf>,
    /// Weight of a candidate's channel familiarity (how often the history watched its
    /// channel, log scale, 0 to 1) added to its similarity in the cold-start feed.
    #[arg(long, default_value_t = cold_start::DEFAULT_CHANNEL_WEIGHT, value_parser = share_arg)]
    pub channel_weight: f64,
    /// The searches' share of the cold-start profile (0 to 1), when there are any.
    #[arg(long, default_value_t = cold_start::DEFAULT_SEARCH_WEIGHT, value_parser = share_arg)]
    pub search_weight: f64,
    /// Half-life, in days, of a watch event's weight (counted back from the newest event).
    #[arg(long, default_value_t = cold_start::DEFAULT_HALF_LIFE_DAYS, value_parser = positive_arg)]
    pub half_life_days: f64,
    /// Also show videos the person has already watched.
    #[arg(long)]
    pub keep_watched: bool,
    /// jsonl, tsv or table.
    #[arg(long, value_enum, default_value_t = FeedFormat::Jsonl)]
    pub format: FeedFormat,
    /// Write the feed here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// `--weights INTEREST,RIGHT_TIME`, scaled to sum to 1.
fn weights_arg(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(',').ok_or("weights are INTEREST,RIGHT_TIME")?;
    let parse = |x: &str| x.trim().parse::<f64>().map_err(|_| format!("{x:?} is not a number"));
    let (a, b) = (parse(a)?, parse(b)?);
    if a < 0.0 || b < 0.0 || a + b == 0.0 {
        return Err("weights must be non-negative and not both zero".into());
    }
    Ok((a / (a + b), b / (a + b)))
}

/// A half-life: a number of days above zero.
fn positive_arg(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        _ => Err(format!("{s:?}: a number of days above 0")),
    }
}

/// A weight or share from 0 to 1.
fn share_arg(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s:?}: a number from 0 to 1")),
    }
}
