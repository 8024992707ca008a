//! Command-line conventions shared by every tool: exit codes, quiet exit on a closed pipe,
//! error reporting on stderr, and `--version`.

use std::io;
use std::process::ExitCode;

/// Everything went well.
pub const EXIT_OK: u8 = 0;
/// Bad data, a missing file, a failed computation.
pub const EXIT_FAILURE: u8 = 1;
/// The command line itself was wrong (clap uses the same code for its own errors).
pub const EXIT_USAGE: u8 = 2;

/// An error that is the user's command line's fault rather than the data's: exits with
/// [`EXIT_USAGE`].
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Runs a tool's body and maps its outcome to an exit code.
///
/// A closed stdout (`vrd-rank ... | head -1`) is not a failure: the reader has what it
/// wanted, so the tool exits 0 without a message, as Unix filters do.
pub fn run(tool: &str, body: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    match body() {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(EXIT_OK),
        Err(err) => {
            eprintln!("{tool}: error: {}", render_error(&err));
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

/// The error and its causes on one line, outermost first, without repeating a cause
/// that the outer message already quotes.
fn render_error(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe))
}

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

/// A progress bar on stderr (drawn only when stderr is a terminal, so logs stay clean).
pub fn progress_bar(len: usize, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} {{per_sec}} eta {{eta}}"
        ))
        .expect("valid progress template")
        .progress_chars("=> "),
    );
    bar
}

/// clap's value parser for a time option (`--at`, `--since`…): RFC 3339 with a zone, as
/// UTC. One parser for every tool, so a bad time reads the same everywhere.
pub fn time_arg(s: &str) -> Result<crate::time::Timestamp, String> {
    crate::time::parse_rfc3339(s).map_err(|e| e.to_string())
}

/// clap's value parser for a length of time: `6h`, `90m`, `1800s`, `1d`.
pub fn duration_arg(s: &str) -> Result<chrono::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| format!("{s:?}: expected a number and a unit, like 6h"))?;
    let d = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    if n <= 0 {
        return Err(format!("{s:?}: the window must be longer than zero"));
    }
    Ok(d)
}

/// clap's value parser for `--timezone`: an IANA name, so a misspelt zone is a usage error
/// in every tool.
pub fn timezone_arg(s: &str) -> Result<crate::time::Tz, String> {
    crate::time::parse_timezone(s).map_err(|e| e.to_string())
}

/// clap's value parser for a finite number ≥ 0 (a margin, a weight).
pub fn non_negative_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(_) => Err(format!("`{s}` is not a finite number ≥ 0")),
        Err(e) => Err(format!("`{s}`: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_negative_numbers_only() {
        assert_eq!(non_negative_f64("0"), Ok(0.0));
        assert_eq!(non_negative_f64("1.5"), Ok(1.5));
        for bad in ["-1", "inf", "NaN", "one"] {
            assert!(non_negative_f64(bad).is_err(), "{bad}");
        }
    }
}
