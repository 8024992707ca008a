//! The text encoders as the tools run them, over the encoder models of `vrd-model` (which
//! know no files of ours, no environment and no command line):
//! - `encoder_dir`: where a text model is found (flag, `VRD_MODEL`, the installed or
//!   packaged default) and its fingerprint; `runtime`: where and how an encoder runs
//!   (device, precision, CPU matmul path), and the libtorch in use;
//! - `encoders`: the sentence encoders a run loads, each folder once;
//! - what they make: `embeddings_cache`, the media embeddings completed with what they
//!   lack; `context_file`, the activity before each moment as tensors, in a file or in
//!   memory, and the app events as a timeline;
//! - `version`: the `--version` of the tools that run on libtorch.
//!
//! The trained models that rank over these are crates of their own: the answers' model
//! (`vrd-answers`) and the next-watch model's parts on libtorch (`vrd-next-watch-torch`).

pub mod context_file;
pub mod embeddings_cache;
pub mod encoder_dir;
pub mod encoders;
pub mod runtime;
pub mod version;
