//! The next-watch model's parts on libtorch, over the model itself (`vrd-next-watch`: its
//! features, card, scorer and feed):
//!
//! - [`network`]: the early-fusion network, the text encoder reading each candidate's text
//!   with its features at the moment as one more token;
//! - [`fusion_part`]: that network loaded from a model folder, ready to score;
//! - [`queries`]: the person's searches embedded as the videos are, for the cold-start
//!   profile and the model;
//! - [`training`]: learning the model from the history, choosing its scorer, and judging it
//!   on rolling-origin folds.

pub mod fusion_part;
pub mod network;
pub mod queries;
pub mod training;

/// Tests that seed or draw from libtorch's random generator (one for the whole process)
/// hold this: cargo runs a binary's tests on several threads, and a test drawing between
/// another's seeding and its draws changes that one's numbers.
#[cfg(test)]
pub(crate) fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
