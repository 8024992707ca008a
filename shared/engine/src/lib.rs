//! What the tools need around the models of `vrd-model`, which itself knows no files of
//! ours, no environment and no command line: the answers' model, its weights and card
//! (`answers_model`), ranking with a trained model (`rank`: the moment cut as training cut it,
//! calibrated probabilities, deferred videos back when they fit, over `vrd-ranking`'s
//! selection), the activity context file (`context_file`), the embeddings cache completed
//! with what it lacks (`embeddings_cache`), the sentence encoders a run loads once (`encoders`), where a text model is found (`encoder_dir`:
//! flag, `VRD_MODEL`, the installed or packaged default), a next-watch fusion model's
//! encoder part (`next_watch_fusion`), the person's searches embedded as the videos are
//! (`queries`), where and how an encoder runs (`runtime`), and the `--version` of the tools
//! that run on libtorch (`version`).

pub mod answers_model;
pub mod context_file;
pub mod embeddings_cache;
pub mod encoder_dir;
pub mod encoders;
pub mod next_watch_fusion;
pub mod queries;
pub mod rank;
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
