//! `vrd-encode context`: for each anchor (a label's moment, listed times, or now), the app
//! activity just before it as fixed-size tensors that vrd-train and vrd-rank read; the
//! file and how it is made are `vrd_encoder::context_file`'s.

use crate::runtime_args::RuntimeArgs;
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};
use vrd_core::context::{label_anchor_id, prepare_timeline, Anchor, ContextSpec, DurationStats, Timeline};
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::{AppEvent, Label};
use vrd_core::tensors::read_metadata;
use vrd_core::time::{format_rfc3339, parse_rfc3339, Timestamp};
use vrd_core::usage::UsageError;
use vrd_encoder::context_file::{self, ContextOptions};
use vrd_model::{SentenceEncoder, SentenceEncoderOptions};
use vrd_store::Store;

#[derive(clap::Args)]
pub struct ContextArgs {
    /// App-event JSONL (the not-AFK window timeline from vrd-ingest aw), oldest first.
    #[arg(long, conflicts_with = "db", required_unless_present = "db")]
    events: Option<PathBuf>,
    /// Read app events from this vrd store instead.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Anchors from label JSONL: each label's moment.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Anchors from a file of RFC 3339 times, one per line.
    #[arg(long)]
    times: Option<PathBuf>,
    /// An anchor at this RFC 3339 time (repeatable).
    #[arg(long = "at", value_parser = vrd_cli::time_arg)]
    at: Vec<Timestamp>,
    /// An anchor at the current moment (for ranking now).
    #[arg(long)]
    now: bool,
    /// The safetensors file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Window length before each anchor, e.g. 6h, 90m, 1800s (default 6h).
    #[arg(long, default_value = "6h", value_parser = vrd_cli::duration_arg)]
    window: chrono::Duration,
    /// At most this many (most recent) events per window.
    #[arg(long, default_value_t = context_file::DEFAULT_MAX_EVENTS)]
    max_events: usize,
    /// The person's IANA time zone for time-of-day features (default: the system's).
    #[arg(long, value_parser = vrd_cli::timezone_arg)]
    timezone: Option<vrd_core::time::Tz>,
    /// Duration statistics from an earlier output (the training run's), instead of
    /// fitting them here. Ranking must use the training statistics.
    #[arg(long)]
    stats: Option<PathBuf>,
    /// Hugging Face model folder for event texts (default: the packaged all-MiniLM-L6-v2).
    #[arg(long, env = "VRD_MODEL")]
    model: Option<PathBuf>,
    /// Prefix for every event text, e.g. "passage: " for e5 models.
    #[arg(long, default_value = "")]
    prefix: String,
    /// A text-embedding cache file, read and updated: texts seen in earlier runs are not
    /// encoded again.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Store the event embeddings as f16 (half the size).
    #[arg(long)]
    half: bool,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

pub fn run(args: &ContextArgs) -> Result<()> {
    if args.max_events == 0 || args.batch_size == 0 {
        return Err(UsageError("--max-events and --batch-size must be at least 1".into()).into());
    }
    let timezone = vrd_core::time::timezone_or_system(args.timezone)?;
    let anchors = read_anchors(args)?;
    let opts = ContextOptions {
        window: args.window,
        max_events: args.max_events,
        timezone,
        prefix: args.prefix.clone(),
        cache: args.cache.clone(),
        half: args.half,
        batch_size: args.batch_size,
        stats: args.stats.as_deref().map(stats_from).transpose()?,
    };
    let timeline = read_events(args, &anchors)?;
    let (device, kind) = args.runtime.runtime().apply()?;
    let encoder_opts = SentenceEncoderOptions { device, kind, ..Default::default() };
    let encoder =
        SentenceEncoder::load(&vrd_encoder::encoder_dir::resolve_encoder_dir(args.model.as_deref())?, &encoder_opts)?;
    let report = context_file::write(&timeline, &anchors, &opts, &encoder, &args.output)?;
    for line in report.lines(&args.output) {
        eprintln!("vrd-encode: {line}");
    }
    Ok(())
}

fn read_anchors(args: &ContextArgs) -> Result<Vec<Anchor>> {
    let mut anchors = Vec::new();
    if let Some(path) = &args.labels {
        for label in JsonlReader::<Label>::open(Some(path))? {
            let label = label?;
            anchors.push(Anchor { id: label_anchor_id(&label.video_id, &label.labelled_at), at: label.labelled_at });
        }
    }
    if let Some(path) = &args.times {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = parse_rfc3339(line).map_err(|e| anyhow!("{}:{}: {e}", path.display(), i + 1))?;
            anchors.push(Anchor { id: format_rfc3339(&at), at });
        }
    }
    anchors.extend(args.at.iter().map(|t| Anchor { id: format_rfc3339(t), at: *t }));
    if args.now {
        anchors.push(Anchor { id: "now".into(), at: chrono::Utc::now() });
    }
    if anchors.is_empty() && args.labels.is_none() && args.times.is_none() {
        return Err(UsageError("no anchors: give --labels, --times, --at or --now".into()).into());
    }
    Ok(anchors)
}

fn read_events(args: &ContextArgs, anchors: &[Anchor]) -> Result<Timeline> {
    if let Some(db) = &args.db {
        return context_file::store_timeline(&Store::open(db)?, anchors, args.window);
    }
    let path = args.events.as_deref().expect("clap requires --events or --db");
    let mut reader = JsonlReader::<AppEvent>::open(Some(path))?;
    let (mut events, mut locations) = (Vec::new(), Vec::new());
    while let Some(event) = reader.next() {
        events.push(event?);
        locations.push(reader.location());
    }
    prepare_timeline(events, |i| locations[i].clone())
}

fn stats_from(path: &Path) -> Result<DurationStats> {
    let meta = read_metadata(path)?;
    let (spec, _) = ContextSpec::from_metadata(&meta, &path.display().to_string())
        .context("--stats wants an earlier `vrd-encode context` output")?;
    Ok(spec.duration)
}
