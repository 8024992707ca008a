//! One module per subcommand: its options and its run (the terminal screen is `crate::tui`).

pub mod add;
pub mod export;
pub mod import;
pub mod stats;
pub mod undo;

use anyhow::Result;
use vrd_core::records::LabelKind;

/// A label kind as the person writes it (`not-now`, `not_now`, `right-time`…).
pub fn parse_kind(text: &str) -> Result<LabelKind> {
    vrd_core::label_files::parse_kind(text)
}

/// clap's value parser for a kind on the command line.
pub fn kind_arg(text: &str) -> Result<LabelKind, String> {
    parse_kind(text).map_err(|e| e.to_string())
}
