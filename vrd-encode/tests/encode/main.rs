//! vrd-encode's tests: one test binary (ripgrep's layout), a module per concern. The
//! helpers the modules share are included once here: `shared/test-support` (the checkout
//! and the real data, the built tools, a real aw-server, the simulated person, the page).

#[path = "../../../shared/test-support/paths.rs"]
mod paths;
#[path = "../../../shared/test-support/tools.rs"]
mod tools;

/// This tool, as cargo built it for these tests.
const BIN: &str = env!("CARGO_BIN_EXE_vrd-encode");

mod context_cli;
mod media_cli;
