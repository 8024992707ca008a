//! The `--version` text of the tools that run models.

/// Parses the command line of a tool that runs models: `--version` also reports the
/// libtorch it runs on and the accelerators it sees (probed only when asked for: the probe
/// loads the CUDA libraries).
pub fn parse_args_with_torch<C: clap::Parser>() -> C {
    shared::cli::parse_args_with_long_version(long_version)
}

/// The tool version plus the libtorch it runs on and what accelerators that libtorch can
/// see, so a user can tell a CPU from a CUDA build.
pub fn long_version() -> String {
    let cuda = tch::Cuda::is_available();
    let devices = if cuda { tch::Cuda::device_count() } else { 0 };
    format!(
        "{}\nlibtorch: {} ({})\ncuda available: {}\ncuda devices: {}\ncudnn available: {}",
        env!("CARGO_PKG_VERSION"),
        crate::runtime::libtorch_version(),
        option_env!("VRD_LIBTORCH_LIB").unwrap_or("location unknown"),
        cuda,
        devices,
        tch::Cuda::cudnn_is_available(),
    )
}
