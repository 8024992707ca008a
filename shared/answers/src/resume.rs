//! Checkpoints that let an interrupted `vrd-train fit` continue (`--resume`): after every
//! epoch of every model it trains (each fold's model and context-blind twin, then the
//! final model), the trained weights, the best epoch's weights, the optimiser's moments
//! and the loop's state (epoch, step, sampler, moving average) go into a folder. A
//! resumed run skips the models that finished (reloading them) and continues the one that
//! was cut off from its last completed epoch, ending where an uninterrupted run ends.
//!
//! Each checkpoint is a pair: `<job>-<epoch>.safetensors`, written complete and renamed
//! into place, then `<job>.json`, renamed over the previous one, naming it; a crash at any
//! moment leaves the last complete pair. A checkpoint of another run (other data, options
//! or architecture) is refused, not mixed in.

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use tch::Tensor;

#[derive(Debug, Clone)]
pub struct Checkpoints {
    pub dir: PathBuf,
    /// Continue from what is there (otherwise it is overwritten).
    pub resume: bool,
    /// Save an epoch only when this long has passed since the last save (a model's last
    /// epoch is always saved): the fast model's epochs take a fraction of a second, and
    /// writing its state each time would cost more than redoing a minute of training.
    pub every: std::time::Duration,
    /// Told when a model's training continues from a saved epoch (`job`, the epoch): the
    /// tool says so in its own words.
    pub resumed: fn(job: &str, epoch: usize),
}

/// Where a model's training loop stood after an epoch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoopState {
    /// What identifies the run: data, options, architecture and which model this is.
    pub run_key: String,
    pub epochs_done: usize,
    /// Optimiser updates so far.
    pub steps: usize,
    /// The row sampler's state.
    pub sampler: u64,
    pub ema: Option<f64>,
    pub best_score: f64,
    pub best_epoch: usize,
    /// The weights file of this checkpoint.
    pub weights: String,
}

impl Checkpoints {
    fn state_path(&self, job: &str) -> PathBuf {
        self.dir.join(format!("{job}.json"))
    }

    /// The saved state of `job`, when resuming and there is one; an error when it belongs
    /// to another run.
    pub fn load(&self, job: &str, run_key: &str) -> Result<Option<(LoopState, HashMap<String, Tensor>)>> {
        let path = self.state_path(job);
        if !self.resume || !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let state: LoopState =
            serde_json::from_str(&text).map_err(|e| anyhow!("{}: not a vrd-train checkpoint: {e}", path.display()))?;
        if state.run_key != run_key {
            bail!(
                "{}: this checkpoint is from another run (other labels, options or architecture); \
                 run without --resume to start over",
                path.display()
            );
        }
        let weights = self.dir.join(&state.weights);
        let tensors = Tensor::read_safetensors(&weights)
            .map_err(|e| anyhow!("{}: cannot read the checkpoint: {e}", weights.display()))?
            .into_iter()
            .collect();
        Ok(Some((state, tensors)))
    }

    pub fn save(&self, job: &str, mut state: LoopState, tensors: &[(String, Tensor)]) -> Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("cannot create {}", self.dir.display()))?;
        state.weights = format!("{job}-{}.safetensors", state.epochs_done);
        let weights = self.dir.join(&state.weights);
        let tmp = self.dir.join(format!(".tmp-{}", state.weights));
        Tensor::write_safetensors(tensors, &tmp).map_err(|e| anyhow!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &weights).with_context(|| format!("cannot write {}", weights.display()))?;
        let previous = self.read_state(job).map(|s| s.weights);
        let text = serde_json::to_string_pretty(&state)? + "\n";
        vrd_core::output::write_bytes_atomic(&self.state_path(job), text.as_bytes())?;
        if let Some(old) = previous.filter(|old| *old != state.weights) {
            let _ = std::fs::remove_file(self.dir.join(old));
        }
        Ok(())
    }

    fn read_state(&self, job: &str) -> Option<LoopState> {
        serde_json::from_str(&std::fs::read_to_string(self.state_path(job)).ok()?).ok()
    }

    /// Removes the folder once the whole run has finished.
    pub fn clear(&self) -> Result<()> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).with_context(|| format!("cannot remove {}", self.dir.display()))?;
        }
        Ok(())
    }
}

/// Names what makes two runs the same: a hash over the given parts.
pub fn run_key(parts: &[&str]) -> String {
    vrd_core::text::text_hash(parts)
}

/// The tensors of `saved` named `<prefix><name>`, as `(name, tensor)` in name order.
pub fn with_prefix(saved: &HashMap<String, Tensor>, prefix: &str) -> Vec<(String, Tensor)> {
    let mut out: Vec<(String, Tensor)> = saved
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|name| (name.to_string(), v.shallow_clone())))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(epochs_done: usize) -> LoopState {
        LoopState {
            run_key: "k".into(),
            epochs_done,
            steps: 10 * epochs_done,
            sampler: 99,
            ema: Some(0.5),
            best_score: 0.5,
            best_epoch: 0,
            weights: String::new(),
        }
    }

    #[test]
    fn the_last_complete_checkpoint_is_what_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let c = Checkpoints {
            dir: dir.path().join("ck"),
            resume: true,
            every: std::time::Duration::ZERO,
            resumed: |_, _| {},
        };
        assert!(c.load("final", "k").unwrap().is_none());
        let t = |x: f32| vec![("model.w".to_string(), Tensor::from_slice(&[x]))];
        c.save("final", state(1), &t(1.0)).unwrap();
        c.save("final", state(2), &t(2.0)).unwrap();
        let (s, tensors) = c.load("final", "k").unwrap().unwrap();
        assert_eq!((s.epochs_done, s.steps), (2, 20));
        assert_eq!(tensors["model.w"].double_value(&[0]), 2.0);
        assert_eq!(with_prefix(&tensors, "model.").len(), 1);
        let mut files: Vec<String> =
            std::fs::read_dir(&c.dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        assert_eq!(files, ["final-2.safetensors", "final.json"], "the older weights are gone");

        let err = c.load("final", "other").unwrap_err().to_string();
        assert!(err.contains("from another run"), "{err}");
        let fresh = Checkpoints { resume: false, ..c.clone() };
        assert!(fresh.load("final", "other").unwrap().is_none(), "without --resume it is ignored");
        c.clear().unwrap();
        assert!(!c.dir.exists());
    }
}
