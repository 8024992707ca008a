//! One module per subcommand: its options and its run (the terminal screen is `crate::tui`).

pub mod add;
pub mod export;
pub mod import;
pub mod stats;
pub mod undo;

use anyhow::{anyhow, Result};
use vrd_core::records::LabelKind;

/// A label kind as the person writes it (`not-now`, `not_now`, `right-time`…).
pub fn parse_kind(text: &str) -> Result<LabelKind> {
    LabelKind::parse(text.trim())
        .ok_or_else(|| anyhow!("unknown label kind {text:?} (interest, uninterest, right-time, not-now, skip)"))
}

/// clap's value parser for a kind on the command line.
pub fn kind_arg(text: &str) -> Result<LabelKind, String> {
    parse_kind(text).map_err(|e| e.to_string())
}
