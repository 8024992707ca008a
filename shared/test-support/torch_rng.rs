//! The unit tests' lock on libtorch's random generator (vrd-model, vrd-answers and
//! vrd-next-watch-torch each include this file as their `torch_rng` module).
//!
//! Tests that seed or draw from libtorch's random generator (one for the whole process)
//! hold this: cargo runs a binary's tests on several threads, and a test drawing between
//! another's seeding and its draws changes that one's numbers.
pub(crate) fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
