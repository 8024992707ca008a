//! One module per subcommand: its options and its run.

pub mod bench;
pub mod fit;
pub mod simulate;
