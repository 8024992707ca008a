//! The activity context file (`vrd_core::context::FORMAT`): for each anchor (a label's
//! moment, listed times, now), the app activity just before it as fixed-size tensors that
//! training and ranking read. `vrd-encode context` writes it from its options, `vrd-train
//! fit --db` from the store; both through [`write`], so the two give the same bytes.
//!
//! Tensors: `emb` [anchors, L, D] (f32, or f16 with `half`), `num` [anchors, L, 5] (see
//! `vrd_core::context::FEATURES`), `app` and `category` [anchors, L] (i64 hashed
//! identities), `seconds` [anchors, L] (f32), `mask` [anchors, L] (u8, 1 = event); events
//! oldest first, padding at the end; an anchor without activity has an all-zero mask.
//! Metadata: the [`ContextSpec`] (model id, window, time zone, features, the duration
//! statistics) and the anchor ids and times.

use anyhow::Result;
use safetensors::Dtype;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vrd_core::context::{
    event_text, prepare_timeline, tensors, windows, Anchor, ContextArrays, ContextSpec, DurationStats, Timeline,
    WindowArrays, WindowEvent, WindowSpec, APP_BUCKETS, FEATURES,
};
use vrd_core::records::AppEvent;
use vrd_core::tensors::{f32_bytes, EmbeddingMeta, EmbeddingReader, EmbeddingWriter, SafetensorsWriter, TensorSpec};
use vrd_core::text::text_hash;
use vrd_core::time::Tz;
use vrd_model::SentenceEncoder;

/// The window before each anchor unless told otherwise.
pub const DEFAULT_WINDOW: chrono::Duration = chrono::Duration::hours(6);
/// The most recent events a window keeps unless told otherwise.
pub const DEFAULT_MAX_EVENTS: usize = 64;

/// How the windows are cut and their texts encoded.
pub struct ContextOptions {
    pub window: chrono::Duration,
    pub max_events: usize,
    /// The person's time zone, for the time-of-day features.
    pub timezone: Tz,
    /// Prefix for every event text, e.g. "passage: " for e5 models.
    pub prefix: String,
    /// A text-embedding cache file, read and updated.
    pub cache: Option<PathBuf>,
    /// Event embeddings as f16.
    pub half: bool,
    pub batch_size: usize,
    /// The duration statistics to use (ranking: the training run's); None fits them here.
    pub stats: Option<DurationStats>,
}

impl ContextOptions {
    /// The defaults `vrd-encode context` has without options, in `timezone`.
    pub fn defaults(timezone: Tz) -> ContextOptions {
        ContextOptions {
            window: DEFAULT_WINDOW,
            max_events: DEFAULT_MAX_EVENTS,
            timezone,
            prefix: String::new(),
            cache: None,
            half: false,
            batch_size: 64,
            stats: None,
        }
    }
}

/// App events (from a file, the store or the server) as one timeline per host, in time
/// order; `name` says where they came from in an error.
pub fn timeline(events: Vec<AppEvent>, name: &str) -> Result<Timeline> {
    vrd_core::context::prepare_timeline(events, |i| format!("{name}: app event {}", i + 1))
}

/// The app events a store holds around `anchors`' windows, as a timeline (events that
/// start up to a day before the earliest window may still reach into it).
pub fn store_timeline(store: &vrd_store::Store, anchors: &[Anchor], window: chrono::Duration) -> Result<Timeline> {
    let (Some(first), Some(last)) = (anchors.iter().map(|a| a.at).min(), anchors.iter().map(|a| a.at).max()) else {
        return Ok(Timeline::default());
    };
    let from = first - window - chrono::Duration::days(1);
    let events: Vec<AppEvent> = store.app_events(Some(&from), Some(&last))?;
    let name = store.path().display().to_string();
    prepare_timeline(events, |i| format!("{name}: app event {}", i + 1))
}

/// Cuts each anchor's window from `timeline`, encodes the events' texts with `encoder`, and
/// writes the context file to `output` (complete or not at all).
pub fn write(
    timeline: &Timeline,
    anchors: &[Anchor],
    opts: &ContextOptions,
    encoder: &SentenceEncoder,
    output: &Path,
) -> Result<ContextReport> {
    let (windows, vectors, stats, mut report) = cut_and_embed(timeline, anchors, opts, encoder)?;
    report.shape = write_output(output, opts, anchors, &windows, &vectors, encoder, &stats)?;
    Ok(report)
}

/// The same windows as [`write`] writes, in memory: what `vrd-train fit --db` trains on,
/// value for value what it would read back from the file.
pub fn compute(
    timeline: &Timeline,
    anchors: &[Anchor],
    opts: &ContextOptions,
    encoder: &SentenceEncoder,
) -> Result<(ContextArrays, ContextReport)> {
    let (windows, vectors, stats, mut report) = cut_and_embed(timeline, anchors, opts, encoder)?;
    let spec = context_spec(opts, encoder, &stats);
    let (a, l, d, f) = (anchors.len(), opts.max_events, encoder.dim(), FEATURES.len());
    let mut arrays = ContextArrays {
        spec,
        anchor_ids: anchors.iter().map(|anchor| anchor.id.clone()).collect(),
        shape: [a, l, d],
        emb: vec![0.0; a * l * d],
        num: vec![0.0; a * l * f],
        mask: vec![0; a * l],
        app: vec![0; a * l],
        category: vec![0; a * l],
        seconds: vec![0.0; a * l],
    };
    for (i, window) in windows.iter().enumerate() {
        for (k, e) in window.iter().enumerate() {
            let v = &vectors[&format!("{}{}", opts.prefix, event_text(e))];
            let row = &mut arrays.emb[(i * l + k) * d..(i * l + k + 1) * d];
            match opts.half {
                // As the f16 file is read back.
                true => row.iter_mut().zip(v).for_each(|(out, x)| *out = half::f16::from_f32(*x).to_f32()),
                false => row.copy_from_slice(v),
            }
        }
        let w = WindowArrays::new(window, &arrays.spec, &opts.timezone);
        arrays.num[i * l * f..(i + 1) * l * f].copy_from_slice(&w.num);
        arrays.mask[i * l..(i + 1) * l].copy_from_slice(&w.mask);
        arrays.app[i * l..(i + 1) * l].copy_from_slice(&w.app);
        arrays.category[i * l..(i + 1) * l].copy_from_slice(&w.category);
        arrays.seconds[i * l..(i + 1) * l].copy_from_slice(&w.seconds);
    }
    report.shape = [a, l, d];
    Ok((arrays, report))
}

type Cut = (Vec<Vec<WindowEvent>>, HashMap<String, Vec<f32>>, DurationStats, ContextReport);

/// Each anchor's window cut from the timeline, the duration statistics and every
/// distinct event text embedded once.
fn cut_and_embed(
    timeline: &Timeline,
    anchors: &[Anchor],
    opts: &ContextOptions,
    encoder: &SentenceEncoder,
) -> Result<Cut> {
    let spec = WindowSpec { length: opts.window, max_events: opts.max_events };
    let started = Instant::now();
    let windows = windows(timeline, anchors, &spec)?;
    let mut report = ContextReport {
        app_events: timeline.len(),
        anchors: anchors.len(),
        cut_seconds: started.elapsed().as_secs_f64(),
        ..ContextReport::default()
    };
    let stats = match opts.stats {
        Some(s) => s,
        None => DurationStats::fit(windows.iter().flatten().map(|e| e.duration_s)),
    };
    let vectors = embed_distinct_texts(encoder, &windows, opts, &mut report)?;
    report.with_activity = windows.iter().filter(|w| !w.is_empty()).count();
    report.half = opts.half;
    Ok((windows, vectors, stats, report))
}

/// The file's spec: how its windows were cut and embedded.
fn context_spec(opts: &ContextOptions, encoder: &SentenceEncoder, stats: &DurationStats) -> ContextSpec {
    ContextSpec {
        model_id: encoder.model_id().to_string(),
        text_prefix: opts.prefix.clone(),
        window_s: opts.window.num_seconds(),
        max_events: opts.max_events,
        timezone: opts.timezone.name().to_string(),
        features: FEATURES.iter().map(|f| f.to_string()).collect(),
        duration: *stats,
        app_buckets: APP_BUCKETS,
    }
}

/// What writing a context file did, for the tool to tell the person.
#[derive(Debug, Default, Clone)]
pub struct ContextReport {
    pub app_events: usize,
    pub anchors: usize,
    /// Anchors whose window holds any activity.
    pub with_activity: usize,
    pub cut_seconds: f64,
    /// Events in all windows, and their distinct texts: encoded now or found in the cache.
    pub window_events: usize,
    pub distinct_texts: usize,
    pub encoded: usize,
    pub from_cache: usize,
    pub encode_seconds: f64,
    /// A cache made by another model, left unused: its path and that model's id.
    pub cache_of_another_model: Option<(PathBuf, String)>,
    /// The `[anchors, events, dim]` shape written, and whether in f16.
    pub shape: [usize; 3],
    pub half: bool,
}

impl ContextReport {
    /// The report as lines for stderr, `output` being the file written.
    pub fn lines(&self, output: &Path) -> Vec<String> {
        let mut lines = vec![format!(
            "{} app events, {} anchors: windows cut in {:.2}s",
            self.app_events, self.anchors, self.cut_seconds
        )];
        if let Some((path, model)) = &self.cache_of_another_model {
            lines.push(format!("cache {} was made by {model}; not used", path.display()));
        }
        lines.push(format!(
            "{} window events, {} distinct texts: {} encoded, {} from the cache ({:.2}s)",
            self.window_events, self.distinct_texts, self.encoded, self.from_cache, self.encode_seconds
        ));
        let [a, l, d] = self.shape;
        lines.push(format!(
            "{a} anchors ({} with activity) → {} ([{a}, {l}, {d}] {})",
            self.with_activity,
            output.display(),
            if self.half { "f16" } else { "f32" }
        ));
        lines
    }
}

/// Encodes every distinct event text once (a window title seen in a thousand windows is
/// one encoding), reusing the cache file where it has the text from the same model.
fn embed_distinct_texts(
    encoder: &SentenceEncoder,
    windows: &[Vec<WindowEvent>],
    opts: &ContextOptions,
    report: &mut ContextReport,
) -> Result<HashMap<String, Vec<f32>>> {
    let mut vectors: HashMap<String, Vec<f32>> = HashMap::new();
    for e in windows.iter().flatten() {
        vectors.entry(format!("{}{}", opts.prefix, event_text(e))).or_default();
    }
    let total_events: usize = windows.iter().map(Vec::len).sum();
    let cached = match &opts.cache {
        Some(p) if p.exists() => load_cache(p, encoder.model_id(), &mut vectors, report)?,
        _ => 0,
    };
    let todo: Vec<String> = vectors.iter().filter(|(_, v)| v.is_empty()).map(|(t, _)| t.clone()).collect();
    let refs: Vec<&str> = todo.iter().map(String::as_str).collect();
    let progress = vrd_core::progress::bar(refs.len(), "encoding event texts");
    let started = Instant::now();
    let dim = encoder.dim();
    encoder.embed_each(&refs, opts.batch_size, |rows, values| {
        for (k, &i) in rows.iter().enumerate() {
            vectors.insert(todo[i].clone(), values[k * dim..(k + 1) * dim].to_vec());
        }
        progress.inc(rows.len() as u64);
        Ok(())
    })?;
    progress.finish_and_clear();
    (report.window_events, report.distinct_texts, report.encoded, report.from_cache) =
        (total_events, vectors.len(), todo.len(), cached);
    report.encode_seconds = started.elapsed().as_secs_f64();
    if let Some(p) = &opts.cache {
        save_cache(p, encoder, &vectors)?;
    }
    Ok(vectors)
}

/// The cache is an embeddings file whose ids are the texts themselves.
fn load_cache(
    path: &Path,
    model_id: &str,
    vectors: &mut HashMap<String, Vec<f32>>,
    report: &mut ContextReport,
) -> Result<usize> {
    let cache = EmbeddingReader::open(path)?;
    if cache.meta.model_id != model_id {
        report.cache_of_another_model = Some((path.to_path_buf(), cache.meta.model_id.clone()));
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
    output: &Path,
    opts: &ContextOptions,
    anchors: &[Anchor],
    windows: &[Vec<WindowEvent>],
    vectors: &HashMap<String, Vec<f32>>,
    encoder: &SentenceEncoder,
    stats: &DurationStats,
) -> Result<[usize; 3]> {
    let tz = &opts.timezone;
    let (a, l, d, f) = (anchors.len(), opts.max_events, encoder.dim(), FEATURES.len());
    let spec = context_spec(opts, encoder, stats);
    let emb_dtype = if opts.half { Dtype::F16 } else { Dtype::F32 };
    let specs = [
        TensorSpec::new(tensors::EMB, emb_dtype, &[a, l, d]),
        TensorSpec::new(tensors::NUM, Dtype::F32, &[a, l, f]),
        TensorSpec::new(tensors::MASK, Dtype::U8, &[a, l]),
        TensorSpec::new(tensors::APP, Dtype::I64, &[a, l]),
        TensorSpec::new(tensors::CATEGORY, Dtype::I64, &[a, l]),
        TensorSpec::new(tensors::SECONDS, Dtype::F32, &[a, l]),
    ];
    let writer = SafetensorsWriter::create(output, &specs, &spec.to_metadata(anchors)?)?;
    let elem = if opts.half { 2 } else { 4 };
    let i64_bytes = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for (i, window) in windows.iter().enumerate() {
        let mut emb: Vec<u8> = Vec::with_capacity(window.len() * d * elem);
        for e in window {
            let v = &vectors[&format!("{}{}", opts.prefix, event_text(e))];
            if opts.half {
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
    Ok([a, l, d])
}
