//! `vrd-train fit`'s options (also the retrain's, which trains as `fit --db` does): one
//! type that the fit, the next-watch part, the inputs and the retrain all read.

use crate::options::{finetune_arg, Precision};
use clap::Args;
use std::path::PathBuf;
use vrd_model::RankerArch;

#[derive(Args, Clone)]
pub struct FitArgs {
    /// Everything from this vrd store instead of files: the answers, videos, watch
    /// history, searches and app timeline (embeddings from --embeddings, completed there
    /// with what it lacks; the activity windows cut here). The same model as the files give.
    #[arg(long, conflicts_with_all = ["labels", "videos", "media", "context", "history", "candidates", "searches", "events"])]
    pub(crate) db: Option<PathBuf>,
    /// With --db: the media embeddings cache (vrd-encode media, vrd-rank --embeddings);
    /// videos it lacks are encoded with --media-model and added to it.
    #[arg(long, requires = "db")]
    pub(crate) embeddings: Option<PathBuf>,
    /// With --db: the activity window before each answer (as vrd-encode context --window).
    #[arg(long, requires = "db", default_value = "6h", value_parser = vrd_cli::duration_arg)]
    pub(crate) window: chrono::Duration,
    /// With --db: the person's IANA time zone for the activity's time of day (default: the
    /// system's).
    #[arg(long, requires = "db", value_parser = vrd_cli::timezone_arg)]
    pub(crate) timezone: Option<vrd_core::time::Tz>,
    /// With --db: the sentence-encoder folder for activity texts (default: the packaged
    /// model).
    #[arg(long, requires = "db")]
    pub(crate) context_model: Option<PathBuf>,
    /// Labels (vrd-label export): the interest and right-time heads. Optional with
    /// --history, which is enough for a model.
    #[arg(long, required_unless_present_any = ["history", "db"], requires_all = ["videos", "context"])]
    pub(crate) labels: Option<PathBuf>,
    /// Video records (for durations, and upload times for the next-watch model), e.g.
    /// from vrd-ingest.
    #[arg(long)]
    pub(crate) videos: Option<PathBuf>,
    /// The videos' embeddings (vrd-encode media): of the labelled videos, and of the
    /// history's and --candidates' videos for the next-watch model.
    #[arg(long, required_unless_present = "db")]
    pub(crate) media: Option<PathBuf>,
    /// The activity before each label (vrd-encode context --labels, same labels file).
    #[arg(long)]
    pub(crate) context: Option<PathBuf>,
    /// The watch history (vrd-ingest takeout JSONL): learn the next-watch model from it,
    /// every first watch a positive at its moment (pick.json in --out).
    #[arg(long)]
    pub(crate) history: Option<PathBuf>,
    /// Videos the person never watched (stored candidates, subscriptions' uploads), as
    /// video JSONL: what the next-watch model learns taste from beside the person's own.
    #[arg(long, requires = "history")]
    pub(crate) candidates: Option<PathBuf>,
    /// The person's YouTube searches (vrd-ingest searches JSONL) for the next-watch model:
    /// the candidate against the queries before each moment.
    #[arg(long, requires = "history")]
    pub(crate) searches: Option<PathBuf>,
    /// The app timeline beside the history (vrd-ingest aw JSONL) for the next-watch model:
    /// what the person did in the hour before each watch, so that the model learns what
    /// they pick after which apps.
    #[arg(long, requires = "history")]
    pub(crate) events: Option<PathBuf>,
    /// The model folder that made --media (--embeddings), to embed the searches' queries
    /// (and with --db, the videos the cache lacks) alike (default: VRD_MODEL, then the
    /// packaged model).
    #[arg(long)]
    pub(crate) media_model: Option<PathBuf>,
    /// Where the trained model goes (a folder: model.safetensors + model.json; pick.json
    /// for the next-watch model).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Number of time-series folds (0: no evaluation); for the next-watch model,
    /// rolling-origin cuts of the history.
    #[arg(long, default_value_t = 4)]
    pub(crate) folds: usize,
    /// Evaluate on one split instead of folds: train on the labels before this moment
    /// (RFC 3339), test on the rest.
    #[arg(long, value_parser = vrd_cli::time_arg, conflicts_with = "folds")]
    pub(crate) test_from: Option<vrd_core::time::Timestamp>,
    /// Write the evaluation report here instead of stdout.
    #[arg(long)]
    pub(crate) report: Option<PathBuf>,
    /// Draw the per-fold metrics as SVG here.
    #[arg(long)]
    pub(crate) plot: Option<PathBuf>,
    #[arg(long, default_value_t = 20)]
    pub(crate) epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub(crate) batch_size: usize,
    #[arg(long, default_value_t = 5e-4)]
    pub(crate) lr: f64,
    #[arg(long, default_value_t = 1)]
    pub(crate) accumulation: usize,
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Standard errors of the validation ROC-AUC (the next-watch model: mean reciprocal
    /// rank) by which a trained epoch must beat the start (the tuned regression alone) for
    /// the deep part to be kept; 0 keeps any gain.
    #[arg(long, default_value_t = 1.0, value_parser = vrd_cli::non_negative_f64)]
    pub(crate) deep_margin: f64,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "auto")]
    pub(crate) device: vrd_encoder::runtime::DeviceChoice,
    /// f32, bf16 (weights and activations in bf16 with f32 master weights), or auto: bf16
    /// on CUDA, f32 on the CPU.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) precision: Precision,
    /// fast (cached media embeddings, the default) or fusion (the encoder fine-tuned over
    /// the video text with the activity token appended). For the next-watch model, fusion
    /// adds a contender: the encoder (LoRA) over each candidate's title and channel with its
    /// features at the moment as one more token, 3 epochs over 48 tokens, shipped only if
    /// it beats the fast scorer on the held-out slice by --deep-margin.
    #[arg(long, default_value = "fast", value_parser = crate::options::arch_arg)]
    pub(crate) arch: RankerArch,
    /// The encoder folder of the fusion model (default: the packaged model; BGE-M3 is a
    /// local folder).
    #[arg(long)]
    pub(crate) encoder: Option<PathBuf>,
    /// How the fusion model trains its encoder: lora, full or frozen.
    #[arg(long, default_value = "lora", value_parser = finetune_arg)]
    pub(crate) finetune: vrd_model::fusion::Finetune,
    /// The fusion model's encoder (or LoRA) learning rate.
    #[arg(long, default_value_t = 5e-5)]
    pub(crate) lr_encoder: f64,
    /// Tokens of video text the fusion model reads.
    #[arg(long, default_value_t = 256)]
    pub(crate) max_length: usize,
    /// Where the per-epoch checkpoints go (default: `checkpoints` in --out; removed when
    /// the run completes).
    #[arg(long)]
    pub(crate) checkpoints: Option<PathBuf>,
    /// Continue an interrupted run of the same command from its checkpoints.
    #[arg(long)]
    pub(crate) resume: bool,
    /// Seconds between checkpoints within a model's training (each model's end is always
    /// saved).
    #[arg(long, default_value_t = 60)]
    pub(crate) checkpoint_every: u64,
}
