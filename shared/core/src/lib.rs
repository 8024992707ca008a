//! The light core every vrd tool is built on: the record types that flow between the tools
//! as JSONL, their readers and writers, the embedding and context file formats, time
//! handling, media text, activity windows, atomic outputs, progress on stderr, named choices and
//! the usage error. It knows no command line: that is vrd-cli's.
//!
//! Heavier concerns are crates of their own, so a tool compiles only what it uses: the
//! SQLite store (`vrd-store`), the ActivityWatch client and timeline (`vrd-aw`), the
//! transformer encoders and heads on libtorch (`vrd-model`). `records` know nothing of
//! models, and models nothing of records, files or stores.

pub mod choice;
pub mod context;
pub mod jsonl;
pub mod label_files;
pub mod metadata;
pub mod model_dir;
pub mod model_versions;
pub mod output;
pub mod progress;
pub mod reach;
pub mod records;
pub mod rng;
pub mod secrets;
pub mod tensors;
pub mod text;
pub mod time;
pub mod usage;
pub mod youtube;
