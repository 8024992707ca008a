//! vrd-train's tests: one test binary (ripgrep's layout), a module per concern. The helpers
//! the modules share are included once here: `shared/test-support` (the checkout and the
//! real data, the built tools, a real aw-server, the simulated person, the page).

#[path = "../../../shared/test-support/aw_server.rs"]
mod aw_server;
#[path = "../../../shared/test-support/next_watch_fusion_card.rs"]
mod next_watch_fusion_card;
#[path = "../../../shared/test-support/paths.rs"]
mod paths;
#[path = "../../../shared/test-support/person_tools.rs"]
mod person_tools;
#[path = "../../../shared/test-support/tools.rs"]
mod tools;

/// This tool, as cargo built it for these tests.
const BIN: &str = env!("CARGO_BIN_EXE_vrd-train");

mod fit_from_store;
mod next_watch_bench;
mod retrain;
mod simulated_person;
