//! Options that `fit` and `bench` share, parsed into types once.

/// `--precision`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Precision {
    Auto,
    F32,
    Bf16,
}

impl Precision {
    /// Whether to train in bf16 on `device` (auto: on CUDA).
    pub fn bf16_on(self, device: tch::Device) -> bool {
        match self {
            Precision::Auto => device.is_cuda(),
            Precision::F32 => false,
            Precision::Bf16 => true,
        }
    }
}

/// clap's value parser for `--finetune` (the type is the model crate's, which has no
/// command line): lora, full or frozen.
pub fn finetune_arg(s: &str) -> Result<vrd_model::fusion::Finetune, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| format!("{s:?}: lora, full or frozen"))
}

/// clap's value parser for `--arch`: fast or fusion.
pub fn arch_arg(s: &str) -> Result<vrd_model::RankerArch, String> {
    vrd_model::RankerArch::parse(s).ok_or_else(|| format!("{s:?}: {}", vrd_model::RankerArch::names()))
}
