//! Device and precision choices, parsed from the command line.

use anyhow::{bail, Result};
use tch::{Device, Kind};

/// `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when available).
pub fn parse_device(text: &str) -> Result<Device> {
    match text {
        "cpu" => Ok(Device::Cpu),
        "auto" => Ok(Device::cuda_if_available()),
        "cuda" => cuda(0),
        s => match s.strip_prefix("cuda:").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => cuda(n),
            None => bail!("unknown device {s:?} (use cpu, cuda, cuda:N or auto)"),
        },
    }
}

fn cuda(n: usize) -> Result<Device> {
    if !tch::Cuda::is_available() {
        bail!("CUDA was asked for but is not available to this build (see `--version`)");
    }
    let count = tch::Cuda::device_count() as usize;
    if n >= count {
        bail!("cuda:{n} asked for, but only {count} CUDA device(s) are visible");
    }
    Ok(Device::Cuda(n))
}

/// `f32`, `bf16` or `f16`.
pub fn parse_dtype(text: &str) -> Result<Kind> {
    match text {
        "f32" | "float32" => Ok(Kind::Float),
        "bf16" | "bfloat16" => Ok(Kind::BFloat16),
        "f16" | "float16" => Ok(Kind::Half),
        s => bail!("unknown dtype {s:?} (use f32, bf16 or f16)"),
    }
}

/// The libtorch version the tools were built against, as its Python package says.
pub fn libtorch_version() -> &'static str {
    option_env!("VRD_LIBTORCH_VERSION").unwrap_or("unknown")
}
