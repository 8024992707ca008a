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

/// The unit tests' lock on libtorch's one random generator (shared with the other torch crates).
#[cfg(test)]
#[path = "../../test-support/torch_rng.rs"]
mod torch_rng;
#[cfg(test)]
pub(crate) use torch_rng::torch_rng_lock;
