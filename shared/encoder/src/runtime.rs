//! Where and how an encoder runs (device, precision, CPU matmul path), and what the
//! process's libtorch is.
//!
//! The command line only says what was asked for (`--device cuda:1`); whether this build
//! and machine have it is found out when the tool runs, as an error of the run (exit 1),
//! not of the command line.

use anyhow::{bail, Result};
use std::str::FromStr;
use tch::{Device, Kind};
use vrd_core::choice::{Choice, Named};
pub use vrd_model::linear::CpuMatmul;

/// `--device`: `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when available).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    Cpu,
    Cuda(usize),
    Auto,
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "cpu" => Ok(DeviceChoice::Cpu),
            "auto" => Ok(DeviceChoice::Auto),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            s => match s.strip_prefix("cuda:").and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => Ok(DeviceChoice::Cuda(n)),
                None => Err(format!("unknown device {s:?} (use cpu, cuda, cuda:N or auto)")),
            },
        }
    }
}

impl DeviceChoice {
    /// The device on this machine, or why it cannot be had.
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cuda(n) => {
                if !tch::Cuda::is_available() {
                    bail!("CUDA was asked for but is not available to this build (see `--version`)");
                }
                let count = tch::Cuda::device_count() as usize;
                if n >= count {
                    bail!("cuda:{n} asked for, but only {count} CUDA device(s) are visible");
                }
                Ok(Device::Cuda(n))
            }
        }
    }
}

/// `--dtype`: the compute precision of an encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    Bf16,
    F16,
}

impl Named for Dtype {
    const ALL: &'static [Choice<Self>] = &[
        Choice { value: Dtype::F32, name: "f32", aliases: &["float32"], help: "" },
        Choice { value: Dtype::Bf16, name: "bf16", aliases: &["bfloat16"], help: "" },
        Choice { value: Dtype::F16, name: "f16", aliases: &["float16"], help: "" },
    ];
}

impl Dtype {
    pub fn kind(self) -> Kind {
        match self {
            Dtype::F32 => Kind::Float,
            Dtype::Bf16 => Kind::BFloat16,
            Dtype::F16 => Kind::Half,
        }
    }
}

/// Where and how a text encoder runs.
#[derive(Debug, Clone, Copy)]
pub struct EncoderRuntime {
    pub device: DeviceChoice,
    pub dtype: Dtype,
    pub cpu_matmul: CpuMatmul,
}

impl EncoderRuntime {
    /// Sets the matmul path for this process and gives the device and precision to load
    /// the encoder with.
    pub fn apply(&self) -> Result<(Device, Kind)> {
        vrd_model::linear::set_cpu_matmul(self.cpu_matmul);
        Ok((self.device.resolve()?, self.dtype.kind()))
    }
}

/// The libtorch version the tools were built against, as its Python package says.
pub fn libtorch_version() -> &'static str {
    option_env!("VRD_LIBTORCH_VERSION").unwrap_or("unknown")
}

/// The folder of the libtorch this process loaded (the installed copy or the build venv's,
/// whichever the loader found first), read from the process's memory map; the build-time
/// folder where that cannot be read.
pub fn loaded_libtorch_dir() -> Option<String> {
    mapped_libtorch_dir().or_else(|| option_env!("VRD_LIBTORCH_LIB").map(String::from))
}

/// The folder of the `libtorch_cpu.so` in this process's memory map, if it can be read.
fn mapped_libtorch_dir() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.ends_with("/libtorch_cpu.so"))
        .and_then(|path| std::path::Path::new(path).parent().map(|dir| dir.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_without_probing_the_machine() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert!("gpu".parse::<DeviceChoice>().unwrap_err().contains("cpu, cuda, cuda:N or auto"));
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cpu.resolve().unwrap(), Device::Cpu);
        if !tch::Cuda::is_available() {
            let err = DeviceChoice::Cuda(0).resolve().unwrap_err().to_string();
            assert!(err.contains("not available to this build"), "{err}");
        }
    }

    #[test]
    fn the_loaded_libtorch_is_the_one_in_the_memory_map() {
        let _ = tch::Tensor::zeros([1], (Kind::Float, Device::Cpu));
        // From the memory map itself, not the build-time fallback: a broken reader fails.
        let dir = mapped_libtorch_dir().expect("libtorch_cpu.so is in /proc/self/maps");
        assert!(std::path::Path::new(&dir).join("libtorch_cpu.so").is_file(), "{dir}");
        assert_eq!(loaded_libtorch_dir(), Some(dir));
    }
}
