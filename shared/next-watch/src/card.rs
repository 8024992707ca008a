//! The next-watch model on disk: `pick.json` in a model folder, written by `vrd-train fit
//! --history` and read by `vrd-rank --model`. The fast scorers are small enough to be kept
//! as numbers in the card and evaluated without libtorch: the features standardised, then a
//! single signal, a regression, or the regression with a one-layer network beside it. The
//! early-fusion scorer (`--arch fusion`) adds a deep part that runs the text encoder: its
//! weights are a file beside the card ([`NextWatchFusionPart`]), run by `vrd_next_watch_torch::fusion_part`.

use super::features::{Features, FEATURES};
use super::past::dot;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vrd_core::model_dir::{ModelDir, NEXT_WATCH_FORMAT as FORMAT};
use vrd_core::time::Timestamp;
use vrd_ranking::lexical::{Idf, IdfCard};

/// A feature's spread in training at or below this: it never varied (training stores this
/// floor for it, never 0).
pub const CONSTANT_STD: f32 = 1e-6;

/// What turns a candidate's standardised features into its score (higher: more likely
/// picked at that moment).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum NextWatchScorer {
    /// One feature alone.
    Signal { feature: String },
    /// A regression: `w · z + u · e`, `e` the candidate's unit-length embedding (`u`, the
    /// person's taste as a direction in the embedding space, may be empty).
    Regression {
        weights: Vec<f32>,
        #[serde(default)]
        taste: Vec<f32>,
    },
    /// The regression plus a network beside it: `w · z + u · e + v · relu(H z + c)`.
    Network {
        weights: Vec<f32>,
        #[serde(default)]
        taste: Vec<f32>,
        hidden: Vec<Vec<f32>>,
        hidden_bias: Vec<f32>,
        output: Vec<f32>,
    },
    /// The regression plus a deep part read through the text encoder: `w · z + u · e +
    /// f(text, z)`, `f` the early-fusion network of `crate::network` (the
    /// candidate's text with its features at the moment as one more token). The card's
    /// [`score`](NextWatchCard::score) is the regression part; the caller adds `f`.
    Fusion {
        weights: Vec<f32>,
        #[serde(default)]
        taste: Vec<f32>,
        fusion: NextWatchFusionPart,
    },
}

impl NextWatchScorer {
    pub fn name(&self) -> &'static str {
        match self {
            NextWatchScorer::Signal { .. } => "signal",
            NextWatchScorer::Regression { .. } => "regression",
            NextWatchScorer::Network { .. } => "network",
            NextWatchScorer::Fusion { .. } => "fusion",
        }
    }
}

/// What rebuilds a fusion scorer's deep part: the encoder it was fine-tuned from, its
/// trained weights beside the card, and how candidates become text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NextWatchFusionPart {
    /// The Hugging Face folder of the encoder (its frozen base is read from there).
    pub encoder: PathBuf,
    /// The encoder folder's fingerprint: the same weights must be found there.
    pub encoder_fingerprint: String,
    /// The trained weights (adapters and new layers), a file in the model folder.
    pub weights: String,
    /// Text tokens read per candidate.
    pub max_length: usize,
    pub text_template: String,
    pub description_chars: usize,
    /// The network's shape (`crate::network::NextWatchFusionConfig`).
    pub network: serde_json::Value,
}

/// The stretch of history a model was trained on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistorySpan {
    pub first_watch: Timestamp,
    pub last_watch: Timestamp,
    /// Watches used (ordered, consecutive repeats merged, titled).
    pub watches: usize,
    /// Moments trained on (first watches with enough history before them).
    pub moments: usize,
    /// Watches whose hour before the app timeline covered (0: trained without one, and
    /// the feed needs none).
    #[serde(default)]
    pub with_activity: usize,
}

/// One feature as the scorer reads it (training and ranking alike): less its training
/// mean, over its training spread; 0 for a feature that never varied in training.
pub fn standardised(x: f32, mean: f32, std: f32) -> f32 {
    if std <= CONSTANT_STD {
        0.0
    } else {
        (x - mean) / std
    }
}

/// A row of features as the scorer reads it ([`standardised`], feature by feature).
pub fn standardised_row(f: &[f32], mean: &[f32], std: &[f32]) -> Vec<f32> {
    f.iter().zip(mean).zip(std).map(|((&x, &m), &s)| standardised(x, m, s)).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NextWatchCard {
    pub format: String,
    /// The feature names, in order ([`FEATURES`]).
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub scorer: NextWatchScorer,
    /// The media embeddings' model id: candidates must be embedded by the same.
    pub media_model: String,
    pub history: HistorySpan,
    /// Mean reciprocal rank of each scorer tried, on the latest slice of the history (held
    /// out from its training); `chosen` won there.
    pub selection: BTreeMap<String, f64>,
    pub chosen: String,
    /// How it was trained (negatives, epochs, the margin, time).
    pub training: serde_json::Value,
    /// The lexical view's frequencies, from the history and candidates it was trained on
    /// (none: trained without the view, and its lexical features read 0).
    #[serde(default)]
    pub lexical: Option<IdfCard>,
}

impl NextWatchCard {
    /// The score of one candidate: its features and its embedding (of a fusion scorer,
    /// the part without the encoder).
    pub fn score(&self, f: &Features, embedding: &[f32]) -> f64 {
        score_standardised(&self.scorer, &self.standardise(f), embedding)
    }

    /// The features as the scorer reads them: each less its training mean, over its
    /// training spread. A feature that never varied in training (the app activity of a
    /// history without a timeline) reads 0: the scorer learned nothing of it.
    pub fn standardise(&self, f: &Features) -> Vec<f32> {
        standardised_row(f, &self.mean, &self.std)
    }

    pub fn read(dir: &Path) -> Result<NextWatchCard> {
        let path = ModelDir::new(dir).next_watch_card();
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        let card: NextWatchCard =
            serde_json::from_str(&text).with_context(|| format!("{}: not a next-watch model card", path.display()))?;
        card.check().with_context(|| format!("{}", path.display()))?;
        Ok(card)
    }

    /// The next-watch model of a model folder, if it has one (a folder may hold only the
    /// answers' model).
    pub fn read_if_present(dir: &Path) -> Result<Option<NextWatchCard>> {
        match ModelDir::new(dir).has_next_watch_model() {
            true => Ok(Some(NextWatchCard::read(dir)?)),
            false => Ok(None),
        }
    }

    /// The lexical view the model was trained with, if any: ranking weighs grams exactly
    /// as training did.
    pub fn lexical_view(&self) -> Result<Option<Idf>> {
        self.lexical.as_ref().map(Idf::from_card).transpose().context("the next-watch model card")
    }

    /// The encoder part of a fusion scorer.
    pub fn fusion(&self) -> Option<&NextWatchFusionPart> {
        match &self.scorer {
            NextWatchScorer::Fusion { fusion, .. } => Some(fusion),
            _ => None,
        }
    }

    /// The scorer reads `dim`-long embeddings, if it reads them at all.
    pub fn check_dim(&self, dim: usize) -> Result<()> {
        let taste = match &self.scorer {
            NextWatchScorer::Regression { taste, .. }
            | NextWatchScorer::Network { taste, .. }
            | NextWatchScorer::Fusion { taste, .. } => taste.len(),
            NextWatchScorer::Signal { .. } => 0,
        };
        if taste != 0 && taste != dim {
            bail!("the model reads {taste}-d embeddings; these are {dim}-d");
        }
        Ok(())
    }

    /// The card's numbers fit the features this build computes.
    pub fn check(&self) -> Result<()> {
        if self.format != FORMAT {
            bail!("format {:?}, this vrd reads {FORMAT:?}", self.format);
        }
        if self.features != FEATURES {
            bail!("its features differ from this vrd's (retrain with this version's vrd-train fit --history)");
        }
        let n = FEATURES.len();
        if self.mean.len() != n || self.std.len() != n || self.std.iter().any(|&s| s.is_nan() || s <= 0.0) {
            bail!("mean and std must hold {n} numbers each, every std above 0");
        }
        let bad = match &self.scorer {
            NextWatchScorer::Signal { feature } => !self.features.contains(feature),
            NextWatchScorer::Regression { weights, .. } | NextWatchScorer::Fusion { weights, .. } => weights.len() != n,
            NextWatchScorer::Network { weights, hidden, hidden_bias, output, .. } => {
                weights.len() != n
                    || hidden.iter().any(|h| h.len() != n)
                    || hidden_bias.len() != hidden.len()
                    || output.len() != hidden.len()
            }
        };
        if bad {
            bail!("the {} scorer's weights do not fit {n} features", self.scorer.name());
        }
        if let Some(part) = self.fusion() {
            // A file of the model folder itself, never a path out of it.
            let plain = Path::new(&part.weights).file_name().is_some_and(|f| f == part.weights.as_str());
            if !plain || part.weights == ".." {
                bail!("the fusion scorer's weights {:?} must be a file name in the model folder", part.weights);
            }
        }
        Ok(())
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        let text = serde_json::to_string_pretty(self)?;
        vrd_core::output::write_bytes_atomic(&ModelDir::new(dir).next_watch_card(), text.as_bytes())
    }
}

/// A scorer over already standardised features `z` and the candidate's embedding (of a
/// fusion scorer, the part without the encoder).
pub fn score_standardised(scorer: &NextWatchScorer, z: &[f32], embedding: &[f32]) -> f64 {
    let linear = |w: &[f32]| w.iter().zip(z).map(|(&a, &b)| f64::from(a * b)).sum::<f64>();
    let taste = |u: &[f32]| match u.is_empty() {
        true => 0.0,
        false => f64::from(dot(u, embedding) / dot(embedding, embedding).sqrt().max(f32::MIN_POSITIVE)),
    };
    match scorer {
        NextWatchScorer::Signal { feature } => {
            f64::from(z[FEATURES.iter().position(|f| f == feature).expect("checked when read")])
        }
        NextWatchScorer::Regression { weights, taste: u } | NextWatchScorer::Fusion { weights, taste: u, .. } => {
            linear(weights) + taste(u)
        }
        NextWatchScorer::Network { weights, taste: u, hidden, hidden_bias, output } => {
            let deep: f64 = hidden
                .iter()
                .zip(hidden_bias)
                .zip(output)
                .map(|((h, &b), &v)| f64::from(v) * (linear(h) + f64::from(b)).max(0.0))
                .sum();
            linear(weights) + taste(u) + deep
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fusion_card(weights_file: &str) -> NextWatchCard {
        let n = FEATURES.len();
        let at = vrd_core::time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        NextWatchCard {
            format: FORMAT.into(),
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            mean: vec![0.0; n],
            std: vec![1.0; n],
            scorer: NextWatchScorer::Fusion {
                weights: vec![0.5; n],
                taste: Vec::new(),
                fusion: NextWatchFusionPart {
                    encoder: "enc".into(),
                    encoder_fingerprint: "f".into(),
                    weights: weights_file.into(),
                    max_length: 32,
                    text_template: "{title}".into(),
                    description_chars: 0,
                    network: serde_json::Value::Null,
                },
            },
            media_model: "m".into(),
            history: HistorySpan { first_watch: at, last_watch: at, watches: 1, moments: 1, with_activity: 0 },
            selection: BTreeMap::new(),
            chosen: "fusion".into(),
            training: serde_json::Value::Null,
            lexical: None,
        }
    }

    /// A fusion card reads its weights from its own folder only, and its score here is the
    /// regression part (the encoder's is added by the caller).
    #[test]
    fn a_fusion_card_names_a_file_of_its_folder_and_scores_its_regression() {
        let card = fusion_card(ModelDir::next_watch_fusion_weights_name());
        card.check().unwrap();
        let z: Vec<f32> = (0..FEATURES.len()).map(|i| i as f32).collect();
        let expected: f64 = z.iter().map(|&x| 0.5 * f64::from(x)).sum();
        assert!((score_standardised(&card.scorer, &z, &[1.0, 0.0]) - expected).abs() < 1e-6);
        for bad in ["../w.safetensors", "/etc/passwd", "..", "sub/w.safetensors", ""] {
            let err = fusion_card(bad).check().unwrap_err().to_string();
            assert!(err.contains("must be a file name in the model folder"), "{bad}: {err}");
        }
    }
}
