//! The library every vrd tool is built on: the record types that flow between the tools as
//! JSONL, their readers and writers, the embedding-file format, time handling, the
//! SQLite store, the ActivityWatch client and timeline, activity windows, and the
//! command-line conventions (exit codes, broken pipes, atomic outputs).
//!
//! The transformer encoders live in the `vrd-model` crate, so the tools that run no model
//! never load libtorch; `records` know nothing of models, and models nothing of records,
//! files or stores.

pub mod aw;
pub mod cli;
pub mod context;
pub mod jsonl;
pub mod output;
pub mod records;
pub mod secrets;
pub mod store;
pub mod tensors;
pub mod text;
pub mod time;
