//! Exit codes and how a tool's outcome reaches the shell.

use std::io::{self, Write};
use vrd_core::usage::UsageError;

/// Everything went well.
pub const EXIT_OK: u8 = 0;
/// Bad data, a missing file, a failed computation.
pub const EXIT_FAILURE: u8 = 1;
/// The command line itself was wrong (clap uses the same code for its own errors).
pub const EXIT_USAGE: u8 = 2;

/// Runs a tool's body, maps its outcome to an exit code ([`EXIT_USAGE`] for a
/// [`UsageError`] anywhere in the chain, [`EXIT_FAILURE`] for any other error) and ends
/// the process with it.
///
/// A closed stdout (`vrd-rank ... | head -1`) is not a failure: the reader has what it
/// wanted, so the tool exits 0 without a message, as Unix filters do.
///
/// The process ends without running the C++ static destructors of the libraries it links:
/// libtorch's deregister thousands of operators, about 0.1 s of every run of a tool that
/// links it (a fifth of a next-watch feed). Everything of ours is finished by then: the body
/// has returned, so its files are written and closed and its threads joined; stdout and
/// stderr are flushed here.
pub fn run(tool: &str, body: impl FnOnce() -> anyhow::Result<()>) -> ! {
    let outcome = body().and_then(|()| io::stdout().flush().map_err(anyhow::Error::from));
    let code = exit_code(tool, outcome);
    end(i32::from(code))
}

/// Ends the process with `code` once stdout and stderr are flushed, without the linked
/// libraries' static destructors (see [`run`]).
pub(crate) fn end(code: i32) -> ! {
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    // SAFETY: `_exit` only ends the process; nothing of this process runs after it.
    unsafe { libc::_exit(code) }
}

fn exit_code(tool: &str, outcome: anyhow::Result<()>) -> u8 {
    match outcome {
        Ok(()) => EXIT_OK,
        Err(err) if is_broken_pipe(&err) => EXIT_OK,
        Err(err) => {
            eprintln!("{tool}: error: {}", render_error(&err));
            if err.downcast_ref::<UsageError>().is_some() {
                EXIT_USAGE
            } else {
                EXIT_FAILURE
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

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn outcomes_map_to_their_exit_codes() {
        assert_eq!(exit_code("t", Ok(())), EXIT_OK);
        assert_eq!(exit_code("t", Err(anyhow::anyhow!("bad data"))), EXIT_FAILURE);
        let usage: anyhow::Result<()> = Err(UsageError("no such option".into()).into());
        assert_eq!(exit_code("t", usage.context("while reading")), EXIT_USAGE);
        let closed: anyhow::Result<()> = Err(io::Error::from(io::ErrorKind::BrokenPipe).into());
        assert_eq!(exit_code("t", closed.context("writing the feed")), EXIT_OK);
    }

    #[test]
    fn causes_are_not_repeated() {
        let err = anyhow::anyhow!("line 3: bad").context("reading f.jsonl: line 3: bad");
        assert_eq!(render_error(&err), "reading f.jsonl: line 3: bad");
        let err = anyhow::anyhow!("bad").context("reading f.jsonl");
        assert_eq!(render_error(&err), "reading f.jsonl: bad");
    }
}
