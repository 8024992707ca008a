//! The model folder a nightly retrain keeps: `DIR` (what `vrd-rank --model` and `vrd-label
//! serve --model` read) is a symbolic link to one version in `DIR.versions/`, swapped in
//! one atomic rename, so a reader sees the old model or the new one, never half of one,
//! and a retrain killed at any point leaves the current model as it was. Beside the
//! versions: `retrain.log` (one JSON record per run: what happened and why, with the
//! figures it was judged by), which the page reads, and `.lock`, held by a running
//! retrain. Each version is a model folder (`crate::model_dir`).

use crate::time::Timestamp;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A model folder's versions.
pub struct Versions {
    /// The folder the tools read (a link once retrained).
    pub link: PathBuf,
    /// `DIR.versions`.
    pub dir: PathBuf,
}

/// What a retrain run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The new model replaced the current one.
    Deployed,
    /// The new model was worse on the latest slice; the current one stays.
    Refused,
    /// Nothing to do (nothing new, or already retrained tonight).
    Skipped,
    /// Training failed; the current model stays.
    Failed,
    /// `vrd-train rollback`: the version before the current one is back.
    RolledBack,
}

/// One line of `retrain.log`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetrainRecord {
    pub at: Timestamp,
    pub outcome: Outcome,
    /// The version made (deployed, refused) or returned to (rolled back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The version that was current before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Why, in words.
    pub reason: String,
    /// The figures the new model was judged by (current against new), when judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<serde_json::Value>,
}

const LOG: &str = "retrain.log";

impl Versions {
    pub fn of(model: &Path) -> Versions {
        let mut name = model.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "model".into());
        name.push(".versions");
        Versions { link: model.to_path_buf(), dir: model.with_file_name(name) }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join(LOG)
    }

    /// Every record, oldest first (none before the first retrain).
    pub fn log(&self) -> Result<Vec<RetrainRecord>> {
        let path = self.log_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        crate::jsonl::JsonlReader::open(Some(&path))?.read_all()
    }

    pub fn append(&self, record: &RetrainRecord) -> Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("cannot create {}", self.dir.display()))?;
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .with_context(|| format!("cannot write {}", self.log_path().display()))?;
        f.write_all(line.as_bytes())?;
        f.sync_all()?;
        Ok(())
    }

    /// The version the link points to (None: no model, or a plain folder not adopted yet).
    pub fn current(&self) -> Option<String> {
        let target = std::fs::read_link(&self.link).ok()?;
        target.file_name().map(|n| n.to_string_lossy().into_owned())
    }

    pub fn path_of(&self, version: &str) -> PathBuf {
        self.dir.join(version)
    }

    /// A plain model folder (from `vrd-train fit --out`) becomes the first version, so the
    /// retrain can swap versions in by renaming links. Nothing to do for a link or no folder.
    /// Only a folder that holds a model card (one of `cards`) is adopted: anything else (a
    /// text encoder an earlier `make install` put where the cron job keeps its model, a
    /// mistyped path) is refused, with what it looks like, and left as it is.
    pub fn adopt(&self, cards: &[&str]) -> Result<()> {
        let meta = match std::fs::symlink_metadata(&self.link) {
            Ok(m) => m,
            Err(_) => return Ok(()),
        };
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        if !meta.is_dir() {
            bail!("{}: not a model folder", self.link.display());
        }
        if !cards.iter().any(|card| self.link.join(card).is_file()) {
            let looks_like = match self.link.join("config.json").is_file() {
                true => {
                    " It holds a text encoder (config.json), which an install before this one put where the \
                     cron job keeps the person's model: `make install` again moves it out of the way."
                }
                false => "",
            };
            bail!(
                "{}: not a model folder (no {}), so the retrain does not take it over as a version.{looks_like} \
                 Remove or rename the folder, or pass another --model, and the retrain trains the first model there",
                self.link.display(),
                cards.join(" or "),
            );
        }
        std::fs::create_dir_all(&self.dir)?;
        let version = format!("adopted-{}", stamp(&chrono::Utc::now()));
        std::fs::rename(&self.link, self.path_of(&version))
            .with_context(|| format!("cannot move {} into {}", self.link.display(), self.dir.display()))?;
        self.point_to(&version)
    }

    /// Points the link at `version` in one rename (a new link beside it, renamed over it).
    pub fn point_to(&self, version: &str) -> Result<()> {
        let target = self.path_of(version);
        if !target.is_dir() {
            bail!("{}: no such version", target.display());
        }
        let relative = Path::new(self.dir.file_name().expect("named")).join(version);
        let staged = self.link.with_file_name(format!(".{}.next", self.link.file_name().unwrap().to_string_lossy()));
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(&relative, &staged)
            .with_context(|| format!("cannot make the link {}", staged.display()))?;
        std::fs::rename(&staged, &self.link).with_context(|| format!("cannot swap {}", self.link.display()))?;
        Ok(())
    }

    /// The retrain lock, taken without waiting: None when another run holds it.
    pub fn try_lock(&self) -> Result<Option<std::fs::File>> {
        std::fs::create_dir_all(&self.dir)?;
        let f = std::fs::File::create(self.dir.join(".lock"))?;
        match f.try_lock() {
            Ok(()) => Ok(Some(f)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// The version that was current before `version` was deployed, from the log (a
    /// rollback walks back along the deployments, never forward again).
    pub fn before(&self, version: &str) -> Result<Option<String>> {
        Ok(self
            .log()?
            .into_iter()
            .rev()
            .find(|r| r.outcome == Outcome::Deployed && r.version.as_deref() == Some(version))
            .and_then(|r| r.previous))
    }

    /// Unfinished versions of killed runs (`*.partial`), removed.
    pub fn clear_partial(&self) -> Result<()> {
        if !self.dir.is_dir() {
            return Ok(());
        }
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "partial") {
                std::fs::remove_dir_all(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        Ok(())
    }
}

/// A version's name from its time (sorts as time does).
pub fn stamp(t: &Timestamp) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}
