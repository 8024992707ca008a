//! Where a tool's data goes: stdout (block-buffered when piped, so large outputs are not
//! written a line at a time) or a file that appears only when complete.
//!
//! Files are written to a temporary sibling and renamed into place by [`Output::finish`],
//! so an interrupted or failed run never leaves a half-written file, and an existing file
//! is untouched until the new one is whole. A symlink is followed (the file it points to
//! is replaced; the link stays), and a special file — `/dev/null`, a named pipe, a
//! terminal — is written into once the output is whole, never replaced by a regular file.

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

/// Where a path's bytes really go.
#[derive(Debug, PartialEq)]
enum Target {
    /// A regular file (or none yet) at the end of any symlinks: replaced by rename.
    Regular(PathBuf),
    /// A device, named pipe or socket: written into.
    Special(PathBuf),
}

/// Follows `dest`'s symlinks (a dangling one names the file to create) to what it is.
fn target(dest: &Path) -> Target {
    let mut path = dest.to_path_buf();
    // As many hops as the kernel allows before ELOOP; a loop is left to the rename to report.
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => match fs::read_link(&path) {
                Ok(link) if link.is_absolute() => path = link,
                Ok(link) => path = path.parent().map_or_else(|| link.clone(), |dir| dir.join(&link)),
                Err(_) => break,
            },
            Ok(m) if !m.is_file() && !m.is_dir() => return Target::Special(path),
            _ => break,
        }
    }
    Target::Regular(path)
}

/// A temporary file in the destination's folder (so the final rename cannot cross file
/// systems; for a symlink, the folder of the file it points to; for a special file, the
/// system's temporary folder), deleted automatically unless persisted.
pub fn temp_sibling(dest: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match target(dest) {
        Target::Special(_) => std::env::temp_dir(),
        Target::Regular(file) => match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        },
    };
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))
}

/// Syncs a finished temporary file and renames it over `dest` (over the file a symlink
/// points to). The result gets the permissions of the file it replaces, or ordinary 0644
/// (temporaries are created 0600). A special file gets the bytes written into it instead.
pub fn persist(tmp: tempfile::NamedTempFile, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let file = match target(dest) {
        Target::Special(special) => {
            let mut out = fs::OpenOptions::new()
                .write(true)
                .open(&special)
                .with_context(|| format!("cannot write {}", dest.display()))?;
            let mut written = tmp.reopen().with_context(|| format!("writing {}", dest.display()))?;
            io::copy(&mut written, &mut out).with_context(|| format!("writing {}", dest.display()))?;
            return out.flush().with_context(|| format!("writing {}", dest.display()));
        }
        Target::Regular(file) => file,
    };
    let perms = fs::metadata(&file).map(|m| m.permissions()).unwrap_or_else(|_| fs::Permissions::from_mode(0o644));
    tmp.as_file().set_permissions(perms).with_context(|| format!("writing {}", dest.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("writing {}", dest.display()))?;
    tmp.persist(&file).map_err(|e| e.error).with_context(|| format!("cannot create {}", dest.display()))?;
    Ok(())
}

/// Writes a whole file atomically from a closure.
pub fn write_atomic(dest: &Path, fill: impl FnOnce(&mut fs::File) -> Result<()>) -> Result<()> {
    let mut tmp = temp_sibling(dest)?;
    fill(tmp.as_file_mut())?;
    persist(tmp, dest)
}

/// `bytes` into `dest`, complete or not at all ([`write_atomic`]).
pub fn write_bytes_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(dest, |f| Ok(std::io::Write::write_all(f, bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    fn write_through(dest: &Path, text: &str) {
        let mut out = Output::open(Some(dest)).unwrap();
        out.write_all(text.as_bytes()).unwrap();
        out.finish().unwrap();
    }

    #[test]
    fn a_symlink_stays_a_link_and_its_file_gets_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.jsonl");
        fs::write(&real, "old\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink("real.jsonl", &link).unwrap();
        write_through(&link, "new\n");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new\n");
        // A dangling link names the file to create.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("created.jsonl"), &dangling).unwrap();
        write_through(&dangling, "x\n");
        assert_eq!(fs::read_to_string(dir.path().join("created.jsonl")).unwrap(), "x\n");
        assert!(fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporaries left behind");
    }

    #[test]
    fn a_named_pipe_is_written_into_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
        };
        write_through(&fifo, "through the pipe\n");
        // Checked before joining: a replaced pipe would leave the reader waiting forever.
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "still a named pipe");
        assert_eq!(reader.join().unwrap(), "through the pipe\n");
    }

    #[test]
    fn a_device_stays_a_device() {
        // A null device of its own in a temporary folder (mknod needs root, as the harm
        // did: only root could replace /dev/null), so a regression replaces that, not
        // the machine's /dev/null.
        let dir = tempfile::tempdir().unwrap();
        let null = dir.path().join("null");
        let made = std::process::Command::new("mknod").arg(&null).args(["c", "1", "3"]).status().unwrap();
        assert!(made.success(), "mknod (the tests run as root, as CI does)");
        write_through(&null, "discarded\n");
        write_atomic(&null, |f| Ok(f.write_all(b"also discarded")?)).unwrap();
        assert!(fs::symlink_metadata(&null).unwrap().file_type().is_char_device(), "still a device");
    }
}
