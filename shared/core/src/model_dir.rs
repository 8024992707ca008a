//! The trained model folder (`vrd-train fit --out DIR`; what `vrd-rank --model`, `vrd-label
//! serve --model`, the retrain and the rollback read): the one place that names its files
//! and their formats. Every tool asks a [`ModelDir`] for a file's path; no other file name
//! of the folder is written anywhere else.
//!
//! A folder holds either model or both:
//! - the next-watch model (learned from the watch history): its card `pick.json`, the
//!   weights of an early-fusion scorer beside it, and the report of its folds;
//! - the answers' model (learned from interest and right-time answers): its card
//!   `model.json`, its weights `model.safetensors`, and the report and plot of its folds.
//!
//! A retrain keeps versions of the folder ([`Versions`]): then `DIR` is a link to one of
//! them, and each version holds `trained-on.json`.

use crate::model_versions::Versions;
use crate::records::PerHead;
use crate::time::Timestamp;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The next-watch model card's format (`pick.json`'s `format`).
pub const NEXT_WATCH_FORMAT: &str = "vrd-pick/1";
/// The answers' model card's format (`model.json`'s `format`); `/3` reads windows as active
/// fraction + shares of the active time and crosses them with whitened components (a `/2`
/// model's wide weights mean other things).
pub const ANSWERS_FORMAT: &str = "vrd-model/3";

const NEXT_WATCH_CARD: &str = "pick.json";
const NEXT_WATCH_FUSION_WEIGHTS: &str = "pick-fusion.safetensors";
const NEXT_WATCH_REPORT: &str = "pick-report.json";
const ANSWERS_CARD: &str = "model.json";
const ANSWERS_WEIGHTS: &str = "model.safetensors";
const ANSWERS_REPORT: &str = "report.json";
const FOLD_PLOT: &str = "folds.svg";
const TRAINED_ON: &str = "trained-on.json";

/// A model folder, by its path (it need not exist yet: `fit --out` creates it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    root: PathBuf,
}

impl ModelDir {
    pub fn new(root: impl Into<PathBuf>) -> ModelDir {
        ModelDir { root: root.into() }
    }

    /// The next-watch model's card.
    pub fn next_watch_card(&self) -> PathBuf {
        self.root.join(NEXT_WATCH_CARD)
    }

    /// The file name an early-fusion next-watch scorer's weights are saved under (the card
    /// names it, and ranking reads the file the card names with [`ModelDir::file`]).
    pub fn next_watch_fusion_weights_name() -> &'static str {
        NEXT_WATCH_FUSION_WEIGHTS
    }

    /// Where training saves an early-fusion next-watch scorer's weights.
    pub fn next_watch_fusion_weights(&self) -> PathBuf {
        self.root.join(NEXT_WATCH_FUSION_WEIGHTS)
    }

    /// The report of the next-watch model's folds, kept by a retrain.
    pub fn next_watch_report(&self) -> PathBuf {
        self.root.join(NEXT_WATCH_REPORT)
    }

    /// The answers' model's card.
    pub fn answers_card(&self) -> PathBuf {
        self.root.join(ANSWERS_CARD)
    }

    /// The answers' model's trained weights.
    pub fn answers_weights(&self) -> PathBuf {
        self.root.join(ANSWERS_WEIGHTS)
    }

    /// The report of the answers' model's folds, kept beside it for the page.
    pub fn answers_report(&self) -> PathBuf {
        self.root.join(ANSWERS_REPORT)
    }

    /// The plot of the answers' model's per-fold metrics, which the page shows.
    pub fn fold_plot(&self) -> PathBuf {
        self.root.join(FOLD_PLOT)
    }

    /// What the store held when this folder was trained (a version a retrain made).
    pub fn trained_on(&self) -> PathBuf {
        self.root.join(TRAINED_ON)
    }

    /// A file a card names inside the folder (a fusion scorer's weights).
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The card files, either of which makes a folder a model folder.
    pub fn card_names() -> [&'static str; 2] {
        [ANSWERS_CARD, NEXT_WATCH_CARD]
    }

    pub fn has_answers_model(&self) -> bool {
        self.answers_card().is_file()
    }

    pub fn has_next_watch_model(&self) -> bool {
        self.next_watch_card().is_file()
    }

    /// The versions a retrain keeps of this folder (`DIR.versions/`).
    pub fn versions(&self) -> Versions {
        Versions::of(&self.root)
    }

    /// What the store held when this folder was trained, where it says (a version a
    /// retrain made; a folder from `fit --out` has none).
    pub fn read_trained_on(&self) -> Option<TrainedOn> {
        serde_json::from_slice(&std::fs::read(self.trained_on()).ok()?).ok()
    }

    /// The figures of the answers' model's card, where the folder has one (read without
    /// the model, which needs libtorch: the card's full type is `vrd_answers::model::AnswersCard`).
    pub fn read_answers_summary(&self) -> Result<Option<AnswersSummary>> {
        let path = self.answers_card();
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        let summary = serde_json::from_slice(&text).with_context(|| format!("{}: not a model card", path.display()))?;
        Ok(Some(summary))
    }

    /// The same folder's version `version`, as a model folder.
    pub fn version(&self, version: &str) -> ModelDir {
        ModelDir::new(self.versions().path_of(version))
    }
}

/// What the store held when a version was trained (`trained-on.json` in it, written by the retrain).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainedOn {
    pub trained_at: Timestamp,
    pub watches: usize,
    #[serde(default)]
    pub last_watch: Option<Timestamp>,
    /// Every answer given by then (the label history's length).
    pub answers: usize,
}

/// What the answers' model card says of how it did and what it was trained on.
#[derive(Debug, Clone, Deserialize)]
pub struct AnswersSummary {
    /// Per question, the held-out ROC-AUC of the model (`model`) and of each baseline.
    pub selection: PerHead<BTreeMap<String, f64>>,
    pub training: AnswersTraining,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AnswersTraining {
    /// The answers it was trained on.
    pub rows: usize,
    #[serde(default)]
    pub trained_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_file_lies_in_the_folder_and_no_two_share_a_name() {
        let dir = ModelDir::new("/m");
        let files = [
            dir.next_watch_card(),
            dir.next_watch_report(),
            dir.next_watch_fusion_weights(),
            dir.answers_card(),
            dir.answers_weights(),
            dir.answers_report(),
            dir.fold_plot(),
            dir.trained_on(),
        ];
        let names: std::collections::BTreeSet<_> = files.iter().map(|f| f.file_name().unwrap()).collect();
        assert_eq!(names.len(), files.len());
        assert!(files.iter().all(|f| f.parent() == Some(Path::new("/m"))));
        assert_eq!(ModelDir::card_names().map(|n| dir.file(n)), [dir.answers_card(), dir.next_watch_card()]);
    }

    #[test]
    fn a_version_is_a_folder_beside_the_link() {
        let dir = ModelDir::new("/home/me/vrd/model");
        assert_eq!(
            dir.version("20261207T010000Z").answers_card(),
            Path::new("/home/me/vrd/model.versions/20261207T010000Z/model.json")
        );
        assert_eq!(dir.version("v1").trained_on(), Path::new("/home/me/vrd/model.versions/v1/trained-on.json"));
    }
}
