//! Learning from the person's answers, for `vrd-train`: no command line and no files but
//! the ones a caller names (datasets in, reports, plots and checkpoints out).
//!
//! - [`data`]: labels, videos, media embeddings and activity windows joined into rows;
//! - [`net`] and [`train`]: the fast model's training loop (setup, epochs, checkpoints,
//!   calibration and the choice between the model and the baselines);
//! - [`baselines`], [`calibrate`], [`metrics`]: the linear baselines (logistic
//!   regression, similarity; `vrd_model::linear` is a layer), the bounded Platt fit, the
//!   metrics of the report (AdamW, written out for `--resume`, is `vrd_model::optim`);
//! - [`evaluate`] and [`plot`]: time-series folds against the baselines, the report and
//!   its SVG; [`resume`]: checkpoints of interrupted runs;
//! - [`simulate`]: the synthetic person of the tests and the demo.

pub mod baselines;
pub mod calibrate;
pub mod data;
pub mod evaluate;
pub mod folds;
pub mod metrics;
pub mod net;
pub mod plot;
pub mod resume;
pub mod simulate;
pub mod train;

/// Tests that seed or draw from libtorch's random generator (one for the whole process)
/// hold this: cargo runs a binary's tests on several threads, and a test drawing between
/// another's seeding and its draws changes that one's numbers.
#[cfg(test)]
pub(crate) fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
