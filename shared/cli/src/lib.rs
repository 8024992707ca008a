//! The command-line conventions every vrd tool follows, and the only library that knows
//! clap: the libraries take typed options, the tools parse them here.
//!
//! - [`exit`]: exit codes, error reporting on stderr, quiet exit on a closed pipe;
//! - [`parse`]: parsing a tool's command line, with `--version`;
//! - [`values`]: typed value parsers (times, lengths of time, zones, numbers, a library's
//!   named choices), so a bad value reads the same in every tool;
//! - [`activitywatch`]: the ActivityWatch option group of every tool that asks a server.

pub mod activitywatch;
pub mod exit;
pub mod parse;
pub mod values;

pub use activitywatch::AwArgs;
pub use exit::run;
pub use parse::{parse_args, parse_args_with_long_version};
pub use values::{choice, duration_arg, non_negative_f64, time_arg, timezone_arg};
