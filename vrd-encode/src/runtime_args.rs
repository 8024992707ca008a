//! `--device`, `--dtype` and `--cpu-matmul`: the option group of both encoding commands.

use vrd_encoder::runtime::{CpuMatmul, DeviceChoice, Dtype, EncoderRuntime};

/// Where and how the text encoder runs.
#[derive(Debug, Clone, clap::Args)]
pub struct RuntimeArgs {
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Compute precision of the encoder (bf16 is several times faster on CPUs with
    /// AVX512-BF16, not exact).
    #[arg(long, value_parser = vrd_cli::choice::<Dtype>(), default_value = "f32")]
    pub dtype: Dtype,
    /// How frozen f32 layers multiply on the CPU: through oneDNN (up to twice as fast on
    /// AMD processors) or MKL, libtorch's own path (BENCHMARKS.md).
    #[arg(long, value_parser = vrd_cli::choice::<CpuMatmul>(), env = "VRD_CPU_MATMUL", default_value = "onednn")]
    pub cpu_matmul: CpuMatmul,
}

impl RuntimeArgs {
    pub fn runtime(&self) -> EncoderRuntime {
        EncoderRuntime { device: self.device, dtype: self.dtype, cpu_matmul: self.cpu_matmul }
    }
}
