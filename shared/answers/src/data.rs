//! Training rows from the other tools' outputs: labels (vrd-label export) joined with the
//! videos (their durations), the media embeddings (vrd-encode media) and the activity
//! windows (vrd-encode context run on the same labels).
//!
//! One row per label: a (video, moment) pair with an answer to one question; the other
//! question's target is -100 (ignored). Rows are in time order, which the folds rely on.

use crate::net::activity::Activity;
use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::{Device, Kind, Tensor};
use vrd_core::context::{label_anchor_id, tensors, ContextArrays, ContextSpec};
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::{Head, Label, Video};
use vrd_core::tensors::{read_metadata, Embeddings};
use vrd_core::time::Timestamp;

/// A batch's target for a row not asked this head's question: the class index the loss
/// leaves out (libtorch's `ignore_index`). Only tensors carry it; a [`Row`] says which
/// question it answers.
pub const IGNORE: i64 = -100;

/// One answer as training reads it: the question answered, at a moment, about a video.
#[derive(Debug, Clone)]
pub struct Row {
    pub at: Timestamp,
    /// The question the person answered (each answer is to one).
    pub question: Head,
    /// Yes: interest or right time; no: uninterest or not now.
    pub answer: bool,
    /// Row of the media embedding tensor.
    pub media: usize,
    /// Row of the context tensors.
    pub context: usize,
    /// log1p of the video's duration in seconds (0 when unknown).
    pub duration_log1p: f64,
}

impl Row {
    /// The answer to `head`, if this row answers it.
    pub fn target(&self, head: Head) -> Option<bool> {
        (self.question == head).then_some(self.answer)
    }

    /// The row's target for `head` in a batch: 1, 0, or [`IGNORE`].
    pub fn target_class(&self, head: Head) -> i64 {
        self.target(head).map_or(IGNORE, i64::from)
    }

    /// Whether the row's question is about its moment, so that it sees the activity window.
    pub fn sees_activity(&self) -> bool {
        self.question == Head::RightTime
    }

    /// Whether this row may train a model tested on rows from `first` on: earlier, and a
    /// row with an activity window by more than `embargo` (the window length), so that its
    /// window and a test row's never overlap.
    pub fn before(&self, first: Timestamp, embargo: chrono::Duration) -> bool {
        if self.sees_activity() {
            self.at < first - embargo
        } else {
            self.at < first
        }
    }
}

/// Everything training reads, on the CPU.
pub struct Dataset {
    pub rows: Vec<Row>,
    /// Each media row's video text (title, channel, description), for the fusion model.
    pub texts: Vec<String>,
    /// Token ids per media row and the pad id, once [`Dataset::tokenize`] ran.
    pub tokens: Option<(Vec<Vec<i64>>, i64)>,
    /// Each media row: its embedding, then its metadata bag (`metadata_buckets` columns,
    /// `vrd_core::metadata`).
    pub media: Tensor,
    pub metadata_buckets: usize,
    /// Every anchor's activity window `(anchors, L, ·)`.
    pub context: Activity,
    pub media_model: String,
    /// How the windows were cut (the model card keeps it for ranking).
    pub spec: ContextSpec,
    /// Labels left out: without a media embedding, and without an activity window.
    pub left_out: (usize, usize),
}

impl Dataset {
    /// Tokenizes every video text with the fusion model's tokenizer.
    pub fn tokenize(&mut self, tokenizer: &vrd_model::fusion::FusionTokenizer) -> Result<()> {
        let ids = tokenizer.encode(&self.texts.iter().map(String::as_str).collect::<Vec<_>>())?;
        self.tokens = Some((ids, tokenizer.pad_id));
        Ok(())
    }

    pub fn media_dim(&self) -> i64 {
        self.media.size()[1]
    }
    pub fn context_dim(&self) -> i64 {
        self.context.text.size()[2]
    }
    pub fn num_features(&self) -> i64 {
        self.context.num.size()[2]
    }
    pub fn max_events(&self) -> i64 {
        self.context.mask.size()[1]
    }
    /// The window length the context tensors were cut with (the embargo of rows that
    /// share activity).
    pub fn window(&self) -> chrono::Duration {
        self.spec.window()
    }
}

pub struct Sources<'a> {
    pub labels: &'a Path,
    pub videos: &'a Path,
    pub media: &'a Path,
    pub context: &'a Path,
}

/// The labels' activity windows: a context file (`vrd-encode context --labels`), or the
/// same arrays cut in memory (`vrd-train fit --db`).
pub enum ContextInput<'a> {
    File(&'a Path),
    Arrays(Box<ContextArrays>),
}

/// The dataset from the files `src` names.
pub fn load(src: &Sources) -> Result<Dataset> {
    let labels: Vec<Label> = JsonlReader::open(Some(src.labels))?.read_all()?;
    let videos: Vec<Video> = JsonlReader::open(Some(src.videos))?.read_all()?;
    let media = Embeddings::read(src.media)?;
    assemble(&labels, &videos, media, ContextInput::File(src.context))
}

/// The dataset from records already read (from files or the store): one row per label
/// with a media embedding and an activity window.
pub fn assemble(labels: &[Label], videos: &[Video], media: Embeddings, context: ContextInput) -> Result<Dataset> {
    let (spec, anchor_ids) = match &context {
        ContextInput::File(path) => ContextSpec::from_metadata(&read_metadata(path)?, &path.display().to_string())?,
        ContextInput::Arrays(arrays) => (arrays.spec.clone(), arrays.anchor_ids.clone()),
    };
    let context_index: HashMap<&str, usize> = anchor_ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();

    let media_index = media.index();
    let joined = join_durations(labels, videos)?;
    let mut rows = Vec::new();
    let (mut no_media, mut no_context) = (0, 0);
    for (label, duration) in labels.iter().zip(joined) {
        let Some(head) = label.kind.head() else { continue };
        let Some(&media_row) = media_index.get(label.video_id.as_str()) else {
            no_media += 1;
            continue;
        };
        let anchor = label_anchor_id(&label.video_id, &label.labelled_at);
        let Some(&context_row) = context_index.get(anchor.as_str()) else {
            no_context += 1;
            continue;
        };
        rows.push(Row {
            at: label.labelled_at,
            question: head,
            answer: label.kind.is_positive(),
            media: media_row,
            context: context_row,
            duration_log1p: duration.map_or(0.0, |d| d.max(0.0).ln_1p()),
        });
    }
    if rows.is_empty() {
        bail!("no usable labels: none has both a media embedding and an activity window");
    }
    rows.sort_by_key(|r| r.at);

    let d = media.meta.dim;
    let media_tensor = Tensor::from_slice(media.data()).view([media.meta.rows() as i64, d as i64]);
    let context = match context {
        ContextInput::File(path) => activity_from_file(path)?,
        ContextInput::Arrays(arrays) => activity_from_arrays(*arrays),
    };
    let template = vrd_core::text::TextTemplate::parse(
        vrd_core::text::DEFAULT_TEMPLATE,
        vrd_core::text::DEFAULT_DESCRIPTION_CHARS,
    )?;
    let by_id: HashMap<&str, &Video> = videos.iter().map(|v| (v.video_id.as_str(), v)).collect();
    let texts = media
        .meta
        .ids
        .iter()
        .map(|id| {
            by_id
                .get(id.as_str())
                .map_or_else(String::new, |v| template.render(&vrd_core::records::MediaText::from(*v)))
        })
        .collect();
    let buckets = vrd_core::metadata::METADATA_BUCKETS;
    let bags: Vec<f32> = media
        .meta
        .ids
        .iter()
        .flat_map(|id| {
            by_id.get(id.as_str()).map_or_else(|| vec![0.0; buckets], |v| vrd_core::metadata::bag(v, buckets))
        })
        .collect();
    let bags = Tensor::from_slice(&bags).view([media.meta.rows() as i64, buckets as i64]);
    Ok(Dataset {
        rows,
        texts,
        tokens: None,
        media: Tensor::cat(&[media_tensor, bags], 1),
        metadata_buckets: buckets,
        context,
        media_model: media.meta.model_id.clone(),
        spec,
        left_out: (no_media, no_context),
    })
}

/// The activity tensors of a context file.
fn activity_from_file(path: &Path) -> Result<Activity> {
    let mut named: HashMap<String, Tensor> = Tensor::read_safetensors(path)
        .with_context(|| format!("{}: cannot read", path.display()))?
        .into_iter()
        .collect();
    let mut take = |name: &str| named.remove(name).ok_or_else(|| anyhow!("{}: no tensor `{name}`", path.display()));
    Ok(Activity {
        text: take(tensors::EMB)?.to_kind(Kind::Float),
        num: take(tensors::NUM)?.to_kind(Kind::Float),
        mask: take(tensors::MASK)?.to_kind(Kind::Int64),
        app: take(tensors::APP)?.to_kind(Kind::Int64),
        category: take(tensors::CATEGORY)?.to_kind(Kind::Int64),
        seconds: take(tensors::SECONDS)?.to_kind(Kind::Float),
    })
}

/// The same tensors from arrays cut in memory.
fn activity_from_arrays(arrays: ContextArrays) -> Activity {
    let [a, l, d] = arrays.shape.map(|n| n as i64);
    let f = vrd_core::context::FEATURES.len() as i64;
    Activity {
        text: Tensor::from_slice(&arrays.emb).view([a, l, d]),
        num: Tensor::from_slice(&arrays.num).view([a, l, f]),
        mask: Tensor::from_slice(&arrays.mask).view([a, l]).to_kind(Kind::Int64),
        app: Tensor::from_slice(&arrays.app).view([a, l]),
        category: Tensor::from_slice(&arrays.category).view([a, l]),
        seconds: Tensor::from_slice(&arrays.seconds).view([a, l]),
    }
}

/// Each label's video duration (seconds), from the first record of its video (a video
/// listed twice keeps its first record).
fn join_durations(labels: &[Label], videos: &[Video]) -> Result<Vec<Option<f64>>> {
    let mut by_id: HashMap<&str, Option<f64>> = HashMap::with_capacity(videos.len());
    for v in videos {
        by_id.entry(v.video_id.as_str()).or_insert(v.duration_s);
    }
    Ok(labels.iter().map(|l| by_id.get(l.video_id.as_str()).copied().flatten()).collect())
}

/// Gathers a batch's tensors.
pub struct Batch {
    pub media: Tensor,
    /// Each row's window; empty for interest rows.
    pub activity: Activity,
    pub duration_z: Tensor,
    pub interest: Tensor,
    pub right_time: Tensor,
    /// Token ids and attention mask `(B, T)`, right-padded (fusion model only).
    pub tokens: Option<(Tensor, Tensor)>,
}

/// Duration statistics, fitted on a training part only and saved with the model.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct DurationScale {
    pub mean: f64,
    pub std: f64,
}

impl DurationScale {
    pub fn fit(rows: &[&Row]) -> DurationScale {
        let n = rows.len().max(1) as f64;
        let mean = rows.iter().map(|r| r.duration_log1p).sum::<f64>() / n;
        let var = rows.iter().map(|r| (r.duration_log1p - mean).powi(2)).sum::<f64>() / n;
        DurationScale { mean, std: var.sqrt().max(1e-6) }
    }
    pub fn z(&self, log1p: f64) -> f64 {
        (log1p - self.mean) / self.std
    }
}

impl Dataset {
    /// Interest rows see no activity (the question is about the person, not the moment):
    /// their context is the empty sequence, which the compressor maps to the zero token.
    /// Float inputs come in `kind` (the model's: f32, or bf16 when training in bf16).
    pub fn batch(&self, rows: &[&Row], scale: &DurationScale, device: Device, kind: Kind) -> Batch {
        let idx = |f: &dyn Fn(&Row) -> usize| Tensor::from_slice(&rows.iter().map(|r| f(r) as i64).collect::<Vec<_>>());
        let media_idx = idx(&|r| r.media);
        let ctx_idx = idx(&|r| r.context);
        let keep_context: Vec<i64> = rows.iter().map(|r| i64::from(r.sees_activity())).collect();
        let keep = Tensor::from_slice(&keep_context);
        let targets = |head| Tensor::from_slice(&rows.iter().map(|r| r.target_class(head)).collect::<Vec<_>>());
        let dz: Vec<f32> = rows.iter().map(|r| scale.z(r.duration_log1p) as f32).collect();
        Batch {
            media: self.media.index_select(0, &media_idx).to_device(device).to_kind(kind),
            activity: self.context.index_select(&ctx_idx).keep_rows(&keep).to(device, kind),
            duration_z: Tensor::from_slice(&dz).to_device(device).to_kind(kind),
            interest: targets(Head::Interest).to_device(device),
            right_time: targets(Head::RightTime).to_device(device),
            tokens: self.tokens.as_ref().map(|(ids, pad)| {
                let ids: Vec<&[i64]> = rows.iter().map(|r| ids[r.media].as_slice()).collect();
                let (ids, mask) = vrd_model::fusion::pad_token_ids(&ids, *pad);
                (ids.to_device(device), mask.to_device(device))
            }),
        }
    }
}
