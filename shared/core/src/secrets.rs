//! API keys, client secrets and OAuth tokens: read only from files their owner alone can
//! read (or from the environment), written with 0600 permissions, never printed.

use anyhow::{anyhow, bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A file holding a secret; refuses one that others can read.
pub fn read_private_file(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        bail!("{}: readable by others; `chmod 600` it first", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A one-line secret from `file` if given, else from the environment variable `env`.
pub fn secret(file: Option<&Path>, env: &str) -> Result<Option<String>> {
    if let Some(path) = file {
        let text = read_private_file(path)?;
        let key = text.trim();
        if key.is_empty() {
            return Err(anyhow!("{}: empty", path.display()));
        }
        return Ok(Some(key.to_string()));
    }
    Ok(std::env::var(env).ok().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()))
}

/// Writes a secret file atomically, readable by its owner only from the first byte on.
pub fn write_private_file(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // tempfile creates its files 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "k3y\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = secret(Some(&path), "VRD_TEST_UNSET_ENV").unwrap_err().to_string();
        assert!(err.contains("chmod 600") && !err.contains("k3y"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(secret(Some(&path), "VRD_TEST_UNSET_ENV").unwrap().as_deref(), Some("k3y"));
    }

    #[test]
    fn written_secrets_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/token.json");
        write_private_file(&path, "{}").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read_private_file(&path).unwrap(), "{}");
    }
}
