//! Ranking with the trained models, around the networks of `vrd-model` and over the
//! encoders of `vrd-encoder`:
//! - `answers_model`: the answers' model, its weights and card, and ranking with it
//!   (`answers_model::rank`: the moment cut as training cut it, calibrated probabilities,
//!   deferred videos back when they fit, over `vrd-ranking`'s selection, with the
//!   next-watch model's scores beside when there is one).

pub mod answers_model;

/// Tests that seed or draw from libtorch's random generator (one for the whole process)
/// hold this: cargo runs a binary's tests on several threads, and a test drawing between
/// another's seeding and its draws changes that one's numbers.
#[cfg(test)]
pub(crate) fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
