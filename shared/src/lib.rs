//! The library every vrd tool is built on: the record types that flow between the tools as
//! JSONL, their readers and writers, the embedding-file format, time handling, the
//! transformer encoders and the command-line conventions (exit codes, broken pipes,
//! atomic outputs).
//!
//! Layering: `records` know nothing of models; `model` knows nothing of records, files
//! or stores.

pub mod aw;
pub mod cli;
pub mod context;
pub mod jsonl;
pub mod model;
pub mod model_dir;
pub mod output;
pub mod records;
pub mod store;
pub mod tensors;
pub mod text;
pub mod time;
