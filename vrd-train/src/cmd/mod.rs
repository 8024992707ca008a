//! One module per subcommand: its options and its run.

pub mod bench;
pub mod fit;
pub mod fit_args;
pub mod fit_history;
pub mod next_watch;
pub mod retrain;
pub mod simulate;
