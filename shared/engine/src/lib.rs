//! What the tools need around the models of `vrd-model`, which itself knows no files of
//! ours, no environment and no command line:
//! - `answers_model`: the answers' model, its weights and card, and ranking with it
//!   (`answers_model::rank`: the moment cut as training cut it, calibrated probabilities,
//!   deferred videos back when they fit, over `vrd-ranking`'s selection);
//! - `next_watch_fusion`: a next-watch fusion model's encoder part;
//! - `context_file`: the activity before each moment, in a file or in memory, and the app
//!   events as a timeline;
//! - `embeddings_cache`: the media embeddings completed with what they lack;
//! - `encoders`: the sentence encoders a run loads once; `encoder_dir`: where a text model is
//!   found (flag, `VRD_MODEL`, the installed or packaged default); `runtime`: where and how
//!   an encoder runs;
//! - `queries`: the person's searches embedded as the videos are;
//! - `version`: the `--version` of the tools that run on libtorch.

pub mod answers_model;
pub mod context_file;
pub mod embeddings_cache;
pub mod encoder_dir;
pub mod encoders;
pub mod next_watch_fusion;
pub mod queries;
pub mod runtime;
pub mod version;

/// Tests that seed or draw from libtorch's random generator (one for the whole process)
/// hold this: cargo runs a binary's tests on several threads, and a test drawing between
/// another's seeding and its draws changes that one's numbers.
#[cfg(test)]
pub(crate) fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
