//! vrd-rank: scores candidate videos for the person and prints the ranked feed.
//!
//! `cli` holds the options, `feed` one run; the ranking itself is in `cold_start` and
//! `model_rank`, the order and variety in `ordering`, the output formats in `feed_format`.

mod cli;
mod feed;
mod feed_format;
mod missing;
mod model_rank;
mod searches;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli: cli::Cli = vrd_engine::version::parse_args_with_torch();
    vrd_core::cli::run("vrd-rank", || feed::run(&cli))
}
