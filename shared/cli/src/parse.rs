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

/// Help, `--version` and usage errors print as clap prints them and end the process as
/// [`crate::run`] ends it (clap's own exit would run libtorch's teardown: 0.1 s).
fn parse_with<C: clap::Parser>(cmd: clap::Command) -> C {
    match cmd.try_get_matches().and_then(|m| C::from_arg_matches(&m)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            crate::exit::end(e.exit_code())
        }
    }
}
