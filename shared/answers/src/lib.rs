//! The answers' model: whether a video interests the person, and whether now is the right
//! time for it, learned from their answers (`vrd-label`) over the media embeddings and the
//! activity before each answer. No command line and no files but the ones a caller names.
//!
//! Learning it:
//! - [`data`]: labels, videos, media embeddings and activity windows joined into rows;
//! - [`net`]: its networks (the fast and early-fusion architectures, the activity
//!   compressor, the heads);
//! - [`train`]: the training loop (setup, epochs, checkpoints, calibration and the choice
//!   between the model and the baselines);
//! - [`baselines`], [`calibrate`], [`metrics`]: the linear baselines (logistic
//!   regression, similarity; `vrd_model::linear` is a layer), the calibration and its bounded Platt fit, the
//!   metrics of the report (AdamW, written out for `--resume`, is `vrd_model::optim`);
//! - [`evaluate`], [`folds`] and [`plot`]: time-series folds against the baselines, the
//!   report and its SVG; [`resume`]: checkpoints of interrupted runs;
//! - [`simulate`]: the synthetic person of the tests and the demo.
//!
//! Using it:
//! - [`model`]: the saved model, its weights and card (`model.json`);
//! - [`rank`]: ranking with it, the moment cut as training cut it, calibrated
//!   probabilities, deferred videos back when they fit, over `vrd-ranking`'s selection and
//!   with the next-watch model's scores beside when there is one.
//!
//! Its networks are built from `vrd-model`'s layers, shared with the next-watch model.

pub mod baselines;
pub mod calibrate;
pub mod data;
pub mod evaluate;
pub mod folds;
pub mod metrics;
pub mod model;
pub mod net;
pub mod plot;
pub mod rank;
pub mod resume;
pub mod simulate;
pub mod train;

/// The unit tests' lock on libtorch's one random generator (shared with the other torch crates).
#[cfg(test)]
#[path = "../../test-support/torch_rng.rs"]
mod torch_rng;
#[cfg(test)]
pub(crate) use torch_rng::torch_rng_lock;
