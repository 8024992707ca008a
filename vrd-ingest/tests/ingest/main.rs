//! vrd-ingest's tests: one test binary (ripgrep's layout), a module per concern. The
//! helpers the modules share are included once here: `shared/test-support` (the checkout
//! and the real data, the built tools, a real aw-server, the simulated person, the page).

#[path = "../../../shared/test-support/aw_server.rs"]
mod aw_server;
#[path = "../../../shared/test-support/paths.rs"]
mod paths;
#[path = "../../../shared/test-support/tools.rs"]
mod tools;

/// This tool, as cargo built it for these tests.
const BIN: &str = env!("CARGO_BIN_EXE_vrd-ingest");

mod aw_cli;
mod common;
mod feeds_cli;
mod live_watches;
mod reach;
mod takeout_cli;
mod takeout_folder;
mod youtube_cli;
