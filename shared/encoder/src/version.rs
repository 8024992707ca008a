//! The `--version` text of the tools that run models.

/// The `--version` of a tool that runs models: the tool version plus the libtorch it runs on and what accelerators that libtorch can
/// see, so a user can tell a CPU from a CUDA build.
pub fn long_version() -> String {
    let cuda = tch::Cuda::is_available();
    let devices = if cuda { tch::Cuda::device_count() } else { 0 };
    format!(
        "{}\nlibtorch: {} ({})\ndefault model: {}\ncuda available: {}\ncuda devices: {}\ncudnn available: {}",
        env!("CARGO_PKG_VERSION"),
        crate::runtime::libtorch_version(),
        crate::runtime::loaded_libtorch_dir().unwrap_or_else(|| "location unknown".into()),
        crate::encoder_dir::packaged_encoder_dir().map_or_else(|| "none".into(), |p| p.display().to_string()),
        cuda,
        devices,
        tch::Cuda::cudnn_is_available(),
    )
}
