//! The build script of every crate that links libtorch (vrd-model and the tools that run
//! models; each Cargo.toml points `build` here).
//!
//! Linker arguments from torch-sys's own build script do not reach downstream binaries, so
//! each crate bakes in an rpath to the libtorch folder itself: the tools and test binaries
//! then run with no LD_LIBRARY_PATH. `DEP_TCH_LIBTORCH_LIB` is only visible because each
//! crate depends on `torch-sys` directly.
//!
//! Ahead of that folder comes `$ORIGIN/../lib/vrd/torch/lib`, where `make install`
//! (scripts/install) puts the same libraries beside the installed tools, so that they keep
//! running after the clone and its venv are gone. In the build tree that folder does not
//! exist and the loader goes on to the venv.
//!
//! With `VRD_CUDA=1` (a build against the full CUDA torch install), `torch_cuda` is linked
//! with `--no-as-needed`: no Rust symbol references it, so as-needed linking would silently
//! drop it and CUDA would report unavailable at run time. The lean CPU install ships the
//! `libtorch_cuda.so` file but not the cuDNN/cuBLAS it needs, so it must not be force-linked
//! there.
//!
//! It also records where that libtorch lives and its version (`VRD_LIBTORCH_LIB`,
//! `VRD_LIBTORCH_VERSION`): `--version` reports them, and the default model package is
//! found beside it in the same site-packages folder.
use std::path::Path;

/// Where scripts/install puts libtorch, relative to the installed tools' prefix.
const INSTALLED_LIBTORCH: &str = "lib/vrd/torch/lib";

fn main() {
    println!("cargo:rerun-if-env-changed=VRD_CUDA");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let lib = Path::new(&lib);
    // No shell sees this argument: `$ORIGIN` reaches the linker as written.
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/../{INSTALLED_LIBTORCH}");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if std::env::var("VRD_CUDA").as_deref() == Ok("1") {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-L{}", lib.display());
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
    println!("cargo:rustc-env=VRD_LIBTORCH_LIB={}", lib.display());
    if let Some(version) = lib.parent().and_then(|torch| torch_version(&torch.join("version.py"))) {
        println!("cargo:rustc-env=VRD_LIBTORCH_VERSION={version}");
    }
}

/// `__version__ = '2.11.0+cu130'` from torch's version.py.
fn torch_version(version_py: &Path) -> Option<String> {
    println!("cargo:rerun-if-changed={}", version_py.display());
    let text = std::fs::read_to_string(version_py).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix("__version__"))?;
    Some(line.trim_start_matches([' ', '=', ':']).trim().trim_matches(['\'', '"']).to_string())
}
