//! vrd-rank's tests, and the pipeline end to end through the built tools: one test binary
//! (ripgrep's layout), a module per concern. The helpers the modules share are included
//! once here: `shared/test-support` (the checkout and the real data, the built tools, a
//! real aw-server, the simulated person, the page, multilingual encoder folders).

#[path = "../../../shared/test-support/aw_server.rs"]
mod aw_server;
#[path = "../../../shared/test-support/encoder_folders.rs"]
mod encoder_folders;
#[path = "../../../shared/test-support/next_watch_fusion_card.rs"]
mod next_watch_fusion_card;
#[path = "../../../shared/test-support/paths.rs"]
mod paths;
#[path = "../../../shared/test-support/person_tools.rs"]
mod person_tools;
#[path = "../../../shared/test-support/tools.rs"]
mod tools;

/// This tool, as cargo built it for these tests.
const BIN: &str = env!("CARGO_BIN_EXE_vrd-rank");

mod deferred;
mod every_language;
mod feed_cli;
mod install;
mod metadata_columns;
mod next_watch;
mod next_watch_fusion;
mod real_exports;
mod store_timeline;
