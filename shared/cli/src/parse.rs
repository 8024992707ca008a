//! Parsing a tool's command line, and its `--version`.

/// Parses the command line of a tool that runs no model (`--version` prints the plain
/// version, without probing libtorch and CUDA).
pub fn parse_args<C: clap::Parser>() -> C {
    parse_with(C::command().version(env!("CARGO_PKG_VERSION")))
}

/// Parses the command line with a long `--version` text, computed only when `--version`
/// is asked for (the model tools' text probes libtorch and CUDA, which is slow).
pub fn parse_args_with_long_version<C: clap::Parser>(long_version: impl FnOnce() -> String) -> C {
    let mut cmd = C::command().version(env!("CARGO_PKG_VERSION"));
    if std::env::args_os().any(|a| a == "--version") {
        cmd = cmd.long_version(long_version());
    }
    parse_with(cmd)
}

fn parse_with<C: clap::Parser>(cmd: clap::Command) -> C {
    let matches = cmd.get_matches();
    C::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
