//! `vrd-encode context`: for each anchor (a label's moment, listed times, or now), the app
//! activity just before it as fixed-size tensors that vrd-train and vrd-rank read.
//!
//! Output (safetensors, the format `vrd_core::context::FORMAT` describes): `emb` [anchors, L,
//! D] (f32, or f16 with `--half`), `num` [anchors, L, 5] (see `vrd_core::context::FEATURES`),
//! `app` and `category` [anchors, L] (i64 hashed identities), `seconds` [anchors, L] (f32),
//! `mask` [anchors, L] (u8, 1 = event); events oldest first, padding at the end; an anchor
//! without activity has an all-zero mask. Metadata: the [`ContextSpec`] (model id, window,
//! time zone, features, the duration statistics fitted here or taken from `--stats`) and
//! the anchor ids and times.

use anyhow::{anyhow, Context, Result};
use safetensors::Dtype;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vrd_core::cli::{progress_bar, UsageError};
use vrd_core::context::Tz;
use vrd_core::context::{
    event_text, label_anchor_id, prepare_timeline, windows, Anchor, ContextSpec, DurationStats, Timeline, WindowArrays,
    WindowEvent, WindowSpec, APP_BUCKETS, FEATURES,
};
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::{AppEvent, Label};
use vrd_core::tensors::{
    f32_bytes, read_metadata, EmbeddingMeta, EmbeddingReader, EmbeddingWriter, SafetensorsWriter, TensorSpec,
};
use vrd_core::text::text_hash;
use vrd_core::time::{format_rfc3339, parse_rfc3339, Timestamp};
use vrd_engine::runtime::EncoderRuntimeArgs;
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
    #[arg(long = "at", value_parser = vrd_core::cli::time_arg)]
    at: Vec<Timestamp>,
    /// An anchor at the current moment (for ranking now).
    #[arg(long)]
    now: bool,
    /// The safetensors file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Window length before each anchor, e.g. 6h, 90m, 1800s.
    #[arg(long, default_value = "6h", value_parser = parse_window)]
    window: chrono::Duration,
    /// At most this many (most recent) events per window.
    #[arg(long, default_value_t = 64)]
    max_events: usize,
    /// The person's IANA time zone for time-of-day features (default: the system's).
    #[arg(long, value_parser = vrd_core::cli::timezone_arg)]
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
    runtime: EncoderRuntimeArgs,
}

/// `6h`, `90m`, `1800s`, `1d`.
fn parse_window(s: &str) -> Result<chrono::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| format!("{s:?}: expected a number and a unit, like 6h"))?;
    let d = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    if n <= 0 {
        return Err(format!("{s:?}: the window must be longer than zero"));
    }
    Ok(d)
}

pub fn run(args: &ContextArgs) -> Result<()> {
    if args.max_events == 0 || args.batch_size == 0 {
        return Err(UsageError("--max-events and --batch-size must be at least 1".into()).into());
    }
    let tz = vrd_core::time::timezone_or_system(args.timezone)?;
    let anchors = read_anchors(args)?;
    let spec = WindowSpec { length: args.window, max_events: args.max_events };
    let started = Instant::now();
    let events = read_events(args, &anchors)?;
    let windows = windows(&events, &anchors, &spec)?;
    eprintln!(
        "vrd-encode: {} app events, {} anchors: windows cut in {:.2}s",
        events.len(),
        anchors.len(),
        started.elapsed().as_secs_f64()
    );

    let stats = match &args.stats {
        Some(p) => stats_from(p)?,
        None => DurationStats::fit(windows.iter().flatten().map(|e| e.duration_s)),
    };

    let (device, kind) = args.runtime.apply()?;
    let opts = SentenceEncoderOptions { device, kind, ..Default::default() };
    let encoder = SentenceEncoder::load(&vrd_engine::model_dir::resolve_model_dir(args.model.as_deref())?, &opts)?;
    let vectors = embed_distinct_texts(&encoder, &windows, args)?;

    write_output(args, &anchors, &windows, &vectors, &encoder, &stats, &tz)?;
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
        let (Some(first), Some(last)) = (anchors.iter().map(|a| a.at).min(), anchors.iter().map(|a| a.at).max()) else {
            return Ok(Timeline::default());
        };
        // Events starting up to a day before the earliest window may still reach into it.
        let from = first - args.window - chrono::Duration::days(1);
        let events = Store::open(db)?.app_events(Some(&from), Some(&last))?;
        let name = db.display().to_string();
        return prepare_timeline(events, |i| format!("{name}: app event {}", i + 1));
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

/// Encodes every distinct event text once (a window title seen in a thousand windows is
/// one encoding), reusing the cache file where it has the text from the same model.
fn embed_distinct_texts(
    encoder: &SentenceEncoder,
    windows: &[Vec<WindowEvent>],
    args: &ContextArgs,
) -> Result<HashMap<String, Vec<f32>>> {
    let mut vectors: HashMap<String, Vec<f32>> = HashMap::new();
    for e in windows.iter().flatten() {
        vectors.entry(format!("{}{}", args.prefix, event_text(e))).or_default();
    }
    let total_events: usize = windows.iter().map(Vec::len).sum();
    let cached = match &args.cache {
        Some(p) if p.exists() => load_cache(p, encoder.model_id(), &mut vectors)?,
        _ => 0,
    };
    let todo: Vec<String> = vectors.iter().filter(|(_, v)| v.is_empty()).map(|(t, _)| t.clone()).collect();
    let refs: Vec<&str> = todo.iter().map(String::as_str).collect();
    let progress = progress_bar(refs.len(), "encoding event texts");
    let started = Instant::now();
    let dim = encoder.dim();
    encoder.embed_each(&refs, args.batch_size, |rows, values| {
        for (k, &i) in rows.iter().enumerate() {
            vectors.insert(todo[i].clone(), values[k * dim..(k + 1) * dim].to_vec());
        }
        progress.inc(rows.len() as u64);
        Ok(())
    })?;
    progress.finish_and_clear();
    eprintln!(
        "vrd-encode: {} window events, {} distinct texts: {} encoded, {} from the cache ({:.2}s)",
        total_events,
        vectors.len(),
        todo.len(),
        cached,
        started.elapsed().as_secs_f64()
    );
    if let Some(p) = &args.cache {
        save_cache(p, encoder, &vectors)?;
    }
    Ok(vectors)
}

/// The cache is an embeddings file whose ids are the texts themselves.
fn load_cache(path: &Path, model_id: &str, vectors: &mut HashMap<String, Vec<f32>>) -> Result<usize> {
    let cache = EmbeddingReader::open(path)?;
    if cache.meta.model_id != model_id {
        eprintln!("vrd-encode: cache {} was made by {}; not used", path.display(), cache.meta.model_id);
        return Ok(0);
    }
    let mut hits = 0;
    for (text, row) in cache.index() {
        if let Some(v) = vectors.get_mut(text) {
            cache.read_row(row, v)?;
            hits += 1;
        }
    }
    Ok(hits)
}

fn save_cache(path: &Path, encoder: &SentenceEncoder, vectors: &HashMap<String, Vec<f32>>) -> Result<()> {
    // Keep what the cache already had, add what is new.
    let mut all: BTreeMap<String, Vec<f32>> = BTreeMap::new();
    if path.exists() {
        let old = EmbeddingReader::open(path)?;
        if old.meta.model_id == encoder.model_id() {
            let mut v = Vec::new();
            for (i, text) in old.meta.ids.iter().enumerate() {
                old.read_row(i, &mut v)?;
                all.insert(text.clone(), v.clone());
            }
        }
    }
    all.extend(vectors.iter().map(|(t, v)| (t.clone(), v.clone())));
    let meta = EmbeddingMeta {
        model_id: encoder.model_id().to_string(),
        dim: encoder.dim(),
        ids: all.keys().cloned().collect(),
        text_hashes: all.keys().map(|t| text_hash(&[t])).collect(),
    };
    let mut w = EmbeddingWriter::create(path, &meta)?;
    for (i, v) in all.values().enumerate() {
        w.write_rows(&[i], v)?;
    }
    w.finish()
}

fn write_output(
    args: &ContextArgs,
    anchors: &[Anchor],
    windows: &[Vec<WindowEvent>],
    vectors: &HashMap<String, Vec<f32>>,
    encoder: &SentenceEncoder,
    stats: &DurationStats,
    tz: &Tz,
) -> Result<()> {
    let (a, l, d, f) = (anchors.len(), args.max_events, encoder.dim(), FEATURES.len());
    let spec = ContextSpec {
        model_id: encoder.model_id().to_string(),
        text_prefix: args.prefix.clone(),
        window_s: args.window.num_seconds(),
        max_events: l,
        timezone: tz.name().to_string(),
        features: FEATURES.iter().map(|f| f.to_string()).collect(),
        duration: *stats,
        app_buckets: APP_BUCKETS,
    };
    let emb_dtype = if args.half { Dtype::F16 } else { Dtype::F32 };
    let specs = [
        TensorSpec::new("emb", emb_dtype, &[a, l, d]),
        TensorSpec::new("num", Dtype::F32, &[a, l, f]),
        TensorSpec::new("mask", Dtype::U8, &[a, l]),
        TensorSpec::new("app", Dtype::I64, &[a, l]),
        TensorSpec::new("category", Dtype::I64, &[a, l]),
        TensorSpec::new("seconds", Dtype::F32, &[a, l]),
    ];
    let writer = SafetensorsWriter::create(&args.output, &specs, &spec.to_metadata(anchors)?)?;
    let elem = if args.half { 2 } else { 4 };
    let i64_bytes = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for (i, window) in windows.iter().enumerate() {
        let mut emb: Vec<u8> = Vec::with_capacity(window.len() * d * elem);
        for e in window {
            let v = &vectors[&format!("{}{}", args.prefix, event_text(e))];
            if args.half {
                emb.extend(v.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()));
            } else {
                emb.extend(f32_bytes(v));
            }
        }
        let arrays = WindowArrays::new(window, &spec, tz);
        // Padding rows of `emb` stay zero (the file is created zero-filled).
        writer.write(0, i * l * d * elem, &emb)?;
        writer.write(1, i * l * f * 4, &f32_bytes(&arrays.num))?;
        writer.write(2, i * l, &arrays.mask)?;
        writer.write(3, i * l * 8, &i64_bytes(&arrays.app))?;
        writer.write(4, i * l * 8, &i64_bytes(&arrays.category))?;
        writer.write(5, i * l * 4, &f32_bytes(&arrays.seconds))?;
    }
    writer.finish()?;
    let with_activity = windows.iter().filter(|w| !w.is_empty()).count();
    eprintln!(
        "vrd-encode: {} anchors ({} with activity) → {} ([{a}, {l}, {d}] {})",
        a,
        with_activity,
        args.output.display(),
        if args.half { "f16" } else { "f32" }
    );
    Ok(())
}
