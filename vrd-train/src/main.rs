//! vrd-train: learns what interests the person and what fits the moment, from their labels,
//! the videos' embeddings and the activity before each label; judges it on time-series
//! folds against baselines; saves the model vrd-rank uses.

mod bench;
mod calibrate;
mod data;
mod evaluate;
mod linear;
mod metrics;
mod net;
mod optim;
mod plot;
mod resume;
mod simulate;
mod train;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use net::{Arch, Net};
use shared::cli::UsageError;
use shared::records::Head;
use std::path::PathBuf;
use std::process::ExitCode;
use train::TrainOptions;
use vrd_model::fast::Scorer;
use vrd_model::saved::{ArchCard, FusionCard, ModelCard, SavedModel};

#[derive(Parser)]
#[command(name = "vrd-train", about = "Train and evaluate the ranking model")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluates on time-series folds against baselines (the JSON report on stdout or
    /// --report), then trains on every label and saves the model to --out.
    Fit(Box<FitArgs>),
    /// Times training steps of the early-fusion model at a given encoder size (e.g.
    /// fixtures/bge-m3/config.json, random weights) on synthetic inputs; JSON on stdout.
    Bench(Box<bench::BenchArgs>),
    /// Writes a synthetic person (app events, a video catalogue, labels) as JSONL, for
    /// tests and demos.
    Simulate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 42)]
        days: i64,
        #[arg(long, default_value_t = 250)]
        videos: usize,
        #[arg(long, default_value_t = 900)]
        labels: usize,
        #[arg(long, default_value_t = 0.05)]
        noise: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Args)]
struct FitArgs {
    /// Labels (vrd-label export).
    #[arg(long)]
    labels: PathBuf,
    /// Video records (for durations), e.g. from vrd-ingest.
    #[arg(long)]
    videos: PathBuf,
    /// The videos' embeddings (vrd-encode media).
    #[arg(long)]
    media: PathBuf,
    /// The activity before each label (vrd-encode context --labels, same labels file).
    #[arg(long)]
    context: PathBuf,
    /// Where the trained model goes (a folder: model.safetensors + model.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Number of time-series folds (0: no evaluation).
    #[arg(long, default_value_t = 4)]
    folds: usize,
    /// Evaluate on one split instead of folds: train on the labels before this moment
    /// (RFC 3339), test on the rest.
    #[arg(long, value_parser = shared::cli::time_arg, conflicts_with = "folds")]
    test_from: Option<shared::time::Timestamp>,
    /// Write the evaluation report here instead of stdout.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Draw the per-fold metrics as SVG here.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    #[arg(long, default_value_t = 1)]
    accumulation: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// cpu, cuda or auto.
    #[arg(long, default_value = "auto")]
    device: String,
    /// f32, bf16 (weights and activations in bf16 with f32 master weights), or auto: bf16
    /// on CUDA, f32 on the CPU.
    #[arg(long, value_enum, default_value = "auto")]
    precision: Precision,
    /// fast (cached media embeddings, the default) or fusion (the encoder fine-tuned over
    /// the video text with the activity token appended).
    #[arg(long, value_enum, default_value = "fast")]
    arch: ArchName,
    /// The encoder folder of the fusion model (default: the packaged model; BGE-M3 is a
    /// local folder).
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// How the fusion model trains its encoder: lora, full or frozen.
    #[arg(long, default_value = "lora", value_parser = parse_finetune)]
    finetune: vrd_model::fused::Finetune,
    /// The fusion model's encoder (or LoRA) learning rate.
    #[arg(long, default_value_t = 5e-5)]
    lr_encoder: f64,
    /// Tokens of video text the fusion model reads.
    #[arg(long, default_value_t = 256)]
    max_length: usize,
    /// Where the per-epoch checkpoints go (default: `checkpoints` in --out; removed when
    /// the run completes).
    #[arg(long)]
    checkpoints: Option<PathBuf>,
    /// Continue an interrupted run of the same command from its checkpoints.
    #[arg(long)]
    resume: bool,
    /// Seconds between checkpoints within a model's training (each model's end is always
    /// saved).
    #[arg(long, default_value_t = 60)]
    checkpoint_every: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Precision {
    Auto,
    F32,
    Bf16,
}

impl Precision {
    /// Whether to train in bf16 on `device` (auto: on CUDA).
    fn bf16_on(self, device: tch::Device) -> bool {
        match self {
            Precision::Auto => device.is_cuda(),
            Precision::F32 => false,
            Precision::Bf16 => true,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ArchName {
    Fast,
    Fusion,
}

fn parse_finetune(s: &str) -> Result<vrd_model::fused::Finetune, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| format!("{s:?}: lora, full or frozen"))
}

fn main() -> ExitCode {
    let cli: Cli = vrd_model::version::parse_args_with_torch();
    shared::cli::run("vrd-train", || match cli.command {
        Command::Simulate { out, days, videos, labels, noise, seed } => {
            let person = simulate::simulate(&simulate::Options { days, videos, labels, seed, noise });
            simulate::write(&person, &out)?;
            eprintln!(
                "vrd-train: {}: {} app events, {} videos, {} labels",
                out.display(),
                person.events.len(),
                person.videos.len(),
                person.labels.len()
            );
            Ok(())
        }
        Command::Fit(args) => fit(&args),
        Command::Bench(args) => bench::run(&args),
    })
}

fn fit(args: &FitArgs) -> Result<()> {
    if args.out.is_none() && args.folds == 0 && args.test_from.is_none() {
        return Err(UsageError("nothing to do: give --out, or --folds above 0".into()).into());
    }
    let device = vrd_model::runtime::parse_device(&args.device).map_err(|e| UsageError(e.to_string()))?;
    let checkpoints = match (&args.checkpoints, &args.out) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(out)) => Some(out.join("checkpoints")),
        (None, None) => None,
    }
    .map(|dir| resume::Checkpoints {
        dir,
        resume: args.resume,
        every: std::time::Duration::from_secs(args.checkpoint_every),
    });
    if args.resume && checkpoints.as_ref().is_none_or(|c| !c.dir.is_dir()) {
        return Err(UsageError(match &checkpoints {
            Some(c) => format!("--resume: no checkpoints in {}", c.dir.display()),
            None => "--resume needs --out or --checkpoints (where the interrupted run saved them)".into(),
        })
        .into());
    }
    tch::manual_seed(args.seed as i64);
    let mut data = data::load(&data::Sources {
        labels: &args.labels,
        videos: &args.videos,
        media: &args.media,
        context: &args.context,
    })?;
    let arch = match args.arch {
        ArchName::Fast => Arch::Fast,
        ArchName::Fusion => {
            let encoder = vrd_model::model_dir::resolve_model_dir(args.encoder.as_deref())?;
            let tokenizer = vrd_model::fused::FusedTokenizer::load(&encoder, args.max_length)?;
            data.tokenize(&tokenizer)?;
            Arch::Fusion { encoder, finetune: args.finetune, max_length: tokenizer.max_length }
        }
    };
    let opts = TrainOptions {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        lr_encoder: args.lr_encoder,
        accumulation: args.accumulation.max(1),
        seed: args.seed,
        bf16: args.precision.bf16_on(device),
        ..Default::default()
    };
    let interest = data.rows.iter().filter(|r| r.interest != data::IGNORE).count();
    eprintln!(
        "vrd-train: {} rows ({interest} interest, {} right-time), media {}-d, activity {}-d × {} events, on {device:?}",
        data.rows.len(),
        data.rows.len() - interest,
        data.media_dim(),
        data.context_dim(),
        data.max_events(),
    );
    let folds = match (args.test_from, args.folds) {
        (Some(from), _) => evaluate::holdout(&data, from)?,
        (None, 0) => Vec::new(),
        (None, k) => evaluate::folds(&data, k)?,
    };
    let bar = shared::cli::progress_bar(2 * folds.len() + usize::from(args.out.is_some()), "models");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:20}] {pos}/{len} {msg} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    if !folds.is_empty() {
        let report = evaluate::evaluate(&data, &folds, &arch, &opts, device, &bar, checkpoints.as_ref())?;
        let json = serde_json::to_string_pretty(&report)? + "\n";
        match &args.report {
            Some(path) => shared::output::write_atomic(path, |f| Ok(std::io::Write::write_all(f, json.as_bytes())?))?,
            None => {
                let mut out = shared::output::Output::open(None)?;
                std::io::Write::write_all(&mut out, json.as_bytes())?;
                out.finish()?;
            }
        }
        if let Some(path) = &args.plot {
            let svg = plot::svg(&report);
            shared::output::write_atomic(path, |f| Ok(std::io::Write::write_all(f, svg.as_bytes())?))?;
        }
        print_summary(&report);
    }
    if let Some(out) = &args.out {
        bar.set_prefix("final model");
        let rows: Vec<&data::Row> = data.rows.iter().collect();
        let trained = train::train(
            &data,
            &rows,
            &arch,
            &opts,
            device,
            false,
            Some(&bar),
            checkpoints.as_ref().map(|c| (c, "final")),
        )?;
        bar.inc(1);
        let card = ModelCard {
            format: vrd_model::saved::FORMAT.into(),
            arch: arch_card(&arch, &trained.model)?,
            duration_log1p_mean: trained.scale.mean,
            duration_log1p_std: trained.scale.std,
            thresholds: trained.chosen.map(|_, c| c.calibrated.threshold),
            calibration: trained.chosen.map(|_, c| c.calibrated.calibration),
            media_model: data.media_model.clone(),
            context: data.spec.clone(),
            selection: trained.chosen.map(|_, c| c.validation.clone()),
            training: serde_json::json!({
                "options": opts,
                "rows": data.rows.len(),
                "best_epoch": trained.best_epoch,
                "logistic_l2": trained.baselines.map(|_, b| b.l2),
                "trained_at": shared::time::format_rfc3339(&chrono::Utc::now()),
            }),
        };
        bar.suspend(|| report_choice(&trained));
        SavedModel::save(&trained.vs, &card, out).with_context(|| format!("saving the model to {}", out.display()))?;
        eprintln!("vrd-train: model saved to {} (best epoch {})", out.display(), trained.best_epoch);
    }
    if let Some(c) = &checkpoints {
        c.clear()?;
    }
    bar.finish_and_clear();
    Ok(())
}

/// Says on stderr what answers each question when it is not the model, and the two
/// scores on the held-out validation half the choice was made on.
fn report_choice(trained: &train::Trained) {
    for head in Head::ALL {
        let c = trained.chosen.get(head);
        if c.scorer == Scorer::Model {
            continue;
        }
        let auc = |name: &str| c.validation.get(name).copied().unwrap_or(f64::NAN);
        eprintln!(
            "vrd-train: {head}: the model does not rank the held-out validation labels better than the {} baseline by more than a standard error (ROC-AUC: baseline {:.3}, model {:.3}, {:+.3}); the saved model answers {head} with the baseline",
            c.scorer.name().replace('_', " "),
            auc(c.scorer.name()),
            auc("model"),
            auc(c.scorer.name()) - auc("model")
        );
    }
}

/// The card's description of the trained network: the fusion model names the encoder
/// folder it reads its frozen weights from, and that folder's fingerprint.
fn arch_card(arch: &Arch, net: &Net) -> Result<ArchCard> {
    Ok(match (arch, net) {
        (Arch::Fast, Net::Fast(m)) => ArchCard::Fast(m.config.clone()),
        (Arch::Fusion { encoder, max_length, .. }, Net::Fused(m)) => ArchCard::Fusion(FusionCard {
            fused: m.config.clone(),
            encoder: encoder.canonicalize().with_context(|| format!("cannot resolve {}", encoder.display()))?,
            encoder_fingerprint: vrd_model::model_dir::fingerprint(encoder)?,
            max_length: *max_length,
            text_template: shared::text::DEFAULT_TEMPLATE.into(),
            description_chars: shared::text::DEFAULT_DESCRIPTION_CHARS,
        }),
        _ => unreachable!("the network is built from the architecture"),
    })
}

/// The headline numbers on stderr: mean F1 and ROC-AUC per method and question.
fn print_summary(report: &evaluate::Report) {
    eprintln!("vrd-train: {} folds, mean over folds:", report.folds.len());
    eprintln!(
        "  {:<20} {:>12} {:>12} {:>14} {:>14}",
        "method", "interest F1", "interest AUC", "right-time F1", "right-time AUC"
    );
    for method in evaluate::METHODS {
        let get = |head: &str, metric: &str| {
            report
                .summary
                .get(method)
                .and_then(|h| h.get(head))
                .and_then(|m| m.get(metric))
                .map_or("-".to_string(), |s| format!("{:.3}±{:.3}", s.mean, s.std))
        };
        eprintln!(
            "  {:<20} {:>12} {:>12} {:>14} {:>14}",
            method,
            get("interest", "f1"),
            get("interest", "roc_auc"),
            get("right_time", "f1"),
            get("right_time", "roc_auc")
        );
    }
    for fold in &report.folds {
        eprintln!(
            "  fold {}: chosen for interest {}, for right time {}",
            fold.fold, fold.choice.interest.scorer, fold.choice.right_time.scorer
        );
    }
}
