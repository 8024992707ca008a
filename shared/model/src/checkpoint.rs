//! Loading Hugging Face safetensors weights into a VarStore by name, strictly: every
//! variable of the model must be present with the right shape, or the error names it.

use anyhow::{anyhow, bail, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::nn::VarStore;
use tch::Tensor;

/// Prefixes that task-head checkpoints put before the encoder's own names.
pub const ENCODER_PREFIXES: &[&str] = &["bert.", "roberta.", "model."];

/// Copies the tensors of `file` into the variables of `vs` (converting dtype and device).
/// Names may carry one of `prefixes`; old-style LayerNorm `gamma`/`beta` are accepted.
/// Tensors the model does not use (a pooler, a task head) are ignored.
pub fn load_safetensors(vs: &VarStore, file: &Path, prefixes: &[&str]) -> Result<()> {
    load_safetensors_where(vs, file, prefixes, |_| true)
}

/// As [`load_safetensors`], for the variables whose names pass `include` (a model that
/// holds an encoder beside layers of its own loads the encoder's file into its part).
pub fn load_safetensors_where(
    vs: &VarStore,
    file: &Path,
    prefixes: &[&str],
    include: impl Fn(&str) -> bool,
) -> Result<()> {
    load(vs, file, prefixes, include, true)
}

/// Strictly loads weights a training run saved (names as the model has them): every
/// variable passing `include`, LoRA adapters included, must be in `file`.
pub fn load_trained_where(vs: &VarStore, file: &Path, include: impl Fn(&str) -> bool) -> Result<()> {
    load(vs, file, &[], include, false)
}

fn load(
    vs: &VarStore,
    file: &Path,
    prefixes: &[&str],
    include: impl Fn(&str) -> bool,
    lora_optional: bool,
) -> Result<()> {
    let tensors =
        Tensor::read_safetensors(file).map_err(|e| anyhow!("{}: cannot read weights: {e}", file.display()))?;
    let mut by_name: HashMap<String, Tensor> = HashMap::with_capacity(tensors.len());
    for (name, t) in tensors {
        by_name.insert(normalize_name(&name, prefixes), t);
    }
    let vars = vs.variables();
    let mut names: Vec<&String> = vars.keys().filter(|n| include(n)).collect();
    names.sort();
    tch::no_grad(|| -> Result<()> {
        for name in names {
            let var = &vars[name];
            // LoRA weights are not in a base checkpoint: they start at their own init.
            if lora_optional && name.contains(".lora_") && !by_name.contains_key(name.as_str()) {
                continue;
            }
            let src =
                by_name.get(name.as_str()).ok_or_else(|| anyhow!("{}: missing tensor `{name}`", file.display()))?;
            if src.size() != var.size() {
                bail!(
                    "{}: tensor `{name}` has shape {:?}, the model needs {:?}",
                    file.display(),
                    src.size(),
                    var.size()
                );
            }
            let mut var = var.shallow_clone();
            var.f_copy_(&src.to_device(var.device()).to_kind(var.kind()))?;
        }
        Ok(())
    })
}

fn normalize_name(name: &str, prefixes: &[&str]) -> String {
    let mut n = name;
    for p in prefixes {
        if let Some(rest) = n.strip_prefix(p) {
            n = rest;
            break;
        }
    }
    if let Some(stem) = n.strip_suffix(".gamma") {
        format!("{stem}.weight")
    } else if let Some(stem) = n.strip_suffix(".beta") {
        format!("{stem}.bias")
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_one_known_prefix_and_old_layer_norm_names() {
        assert_eq!(normalize_name("bert.embeddings.LayerNorm.gamma", ENCODER_PREFIXES), "embeddings.LayerNorm.weight");
        assert_eq!(
            normalize_name("roberta.encoder.layer.0.output.LayerNorm.beta", ENCODER_PREFIXES),
            "encoder.layer.0.output.LayerNorm.bias"
        );
        assert_eq!(
            normalize_name("embeddings.word_embeddings.weight", ENCODER_PREFIXES),
            "embeddings.word_embeddings.weight"
        );
    }
}
