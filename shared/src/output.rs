//! Where a tool's data goes: stdout (block-buffered when piped, so large outputs are not
//! written a line at a time) or a file that appears only when complete.
//!
//! Files are written to a temporary sibling and renamed into place by [`Output::finish`],
//! so an interrupted or failed run never leaves a half-written file, and an existing file
//! is untouched until the new one is whole.

use anyhow::{Context, Result};
use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

pub enum Output {
    Stdout(BufWriter<io::StdoutLock<'static>>),
    File { writer: BufWriter<tempfile::NamedTempFile>, dest: PathBuf },
}

impl Output {
    /// `None` or `-` means stdout.
    pub fn open(path: Option<&Path>) -> Result<Output> {
        match path {
            None => Ok(Self::stdout()),
            Some(p) if p.as_os_str() == "-" => Ok(Self::stdout()),
            Some(p) => {
                let tmp = temp_sibling(p)?;
                Ok(Output::File { writer: BufWriter::with_capacity(1 << 16, tmp), dest: p.to_path_buf() })
            }
        }
    }

    fn stdout() -> Output {
        let stdout = io::stdout();
        // A terminal reader wants lines as they come; a pipe wants throughput.
        let capacity = if stdout.is_terminal() { 1024 } else { 1 << 16 };
        Output::Stdout(BufWriter::with_capacity(capacity, stdout.lock()))
    }

    /// Flushes everything and, for a file, moves it into place. Without this call a file
    /// output is discarded (its temporary is deleted on drop).
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().context("writing to stdout"),
            Output::File { writer, dest } => {
                let tmp = writer
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", dest.display()))?;
                persist(tmp, &dest)
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File { writer, .. } => writer.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(buf),
            Output::File { writer, .. } => writer.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File { writer, .. } => writer.flush(),
        }
    }
}

/// A temporary file in the destination's folder (so the final rename cannot cross file
/// systems), deleted automatically unless persisted.
pub fn temp_sibling(dest: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))
}

/// Syncs a finished temporary file and renames it over `dest`. The result gets the
/// permissions of the file it replaces, or ordinary 0644 (temporaries are created 0600).
pub fn persist(tmp: tempfile::NamedTempFile, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let perms = fs::metadata(dest).map(|m| m.permissions()).unwrap_or_else(|_| fs::Permissions::from_mode(0o644));
    tmp.as_file().set_permissions(perms).with_context(|| format!("writing {}", dest.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("writing {}", dest.display()))?;
    tmp.persist(dest).map_err(|e| e.error).with_context(|| format!("cannot create {}", dest.display()))?;
    Ok(())
}

/// Writes a whole file atomically from a closure.
pub fn write_atomic(dest: &Path, fill: impl FnOnce(&mut fs::File) -> Result<()>) -> Result<()> {
    let mut tmp = temp_sibling(dest)?;
    fill(tmp.as_file_mut())?;
    persist(tmp, dest)
}
