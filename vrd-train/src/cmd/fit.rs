//! `vrd-train fit`: evaluates on time-series folds against the baselines (the report and
//! plot), then trains on every label and saves the model with its card; with `--history`
//! it also (or, without labels, only) learns the next-watch model from the watch history
//! (`cmd::fit_history`).

pub use super::fit_args::FitArgs;
use crate::inputs::Source;
use anyhow::{Context, Result};
use vrd_answers::model::{AnswersCard, AnswersModel, FusionCard, RankerCard};
use vrd_answers::net::fast::Scorer;
use vrd_answers::net::{Net, RankerSpec};
use vrd_answers::train::{self, TrainOptions};
use vrd_answers::{data, evaluate, plot, resume};
use vrd_core::records::Head;
use vrd_core::usage::UsageError;
use vrd_model::RankerArch;

pub fn run(args: &FitArgs) -> Result<()> {
    let source = Source::of(args)?;
    if source.has_history(args) {
        super::fit_history::run(args, &source)?;
    }
    if source.has_answers(args) {
        fit_labels(args, &source)?;
    }
    Ok(())
}

fn fit_labels(args: &FitArgs, source: &Source) -> Result<()> {
    if args.out.is_none() && args.folds == 0 && args.test_from.is_none() {
        return Err(UsageError("nothing to do: give --out, or --folds above 0".into()).into());
    }
    let device = args.device.resolve()?;
    let checkpoints = checkpoints(args)?;
    tch::manual_seed(args.seed as i64);
    let (data, arch) = load(args, source)?;
    let (no_media, no_context) = data.left_out;
    if no_media + no_context > 0 {
        eprintln!(
            "vrd-train: left out {no_media} labels without a media embedding and {no_context} without an activity \
             window (run vrd-encode media on the videos and vrd-encode context --labels on these labels)"
        );
    }
    let opts = TrainOptions {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        lr_encoder: args.lr_encoder,
        accumulation: args.accumulation.max(1),
        seed: args.seed,
        deep_margin: args.deep_margin,
        bf16: args.precision.bf16_on(device),
        ..Default::default()
    };
    let interest = data.rows.iter().filter(|r| r.question == vrd_core::records::Head::Interest).count();
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
    let run = Run { data: &data, arch: &arch, opts: &opts, device, checkpoints: checkpoints.as_ref() };
    let bar = vrd_core::progress::bar(2 * folds.len() + usize::from(args.out.is_some()), "models");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:20}] {pos}/{len} {msg} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    if !folds.is_empty() {
        evaluate_and_report(args, &run, &folds, &bar)?;
    }
    if let Some(out) = &args.out {
        train_and_save(&run, out, &bar)?;
    }
    if let Some(c) = &checkpoints {
        c.clear()?;
    }
    bar.finish_and_clear();
    Ok(())
}

/// What every model of one `fit` is trained from and how.
struct Run<'a> {
    data: &'a data::Dataset,
    arch: &'a RankerSpec,
    opts: &'a TrainOptions,
    device: tch::Device,
    checkpoints: Option<&'a resume::Checkpoints>,
}

/// Where checkpoints go (`--checkpoints`, else `checkpoints` in `--out`), and whether
/// `--resume` has any to resume from.
fn checkpoints(args: &FitArgs) -> Result<Option<resume::Checkpoints>> {
    let checkpoints = match (&args.checkpoints, &args.out) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(out)) => Some(out.join("checkpoints")),
        (None, None) => None,
    }
    .map(|dir| resume::Checkpoints {
        dir,
        resume: args.resume,
        every: std::time::Duration::from_secs(args.checkpoint_every),
        resumed: |job, epoch| eprintln!("vrd-train: {job}: resuming after epoch {epoch}"),
    });
    if args.resume && checkpoints.as_ref().is_none_or(|c| !c.dir.is_dir()) {
        return Err(UsageError(match &checkpoints {
            Some(c) => format!("--resume: no checkpoints in {}", c.dir.display()),
            None => "--resume needs --out or --checkpoints (where the interrupted run saved them)".into(),
        })
        .into());
    }
    Ok(checkpoints)
}

/// The labelled rows with their inputs, and the architecture to train (the fusion model's
/// encoder tokenizes the video texts here).
fn load(args: &FitArgs, source: &Source) -> Result<(data::Dataset, RankerSpec)> {
    let mut data = source.answers(args)?;
    let arch = match args.arch {
        RankerArch::Fast => RankerSpec::Fast,
        RankerArch::Fusion => {
            let encoder = vrd_encoder::encoder_dir::resolve_encoder_dir(args.encoder.as_deref())?;
            let tokenizer = vrd_model::fusion::FusionTokenizer::load(&encoder, args.max_length)?;
            data.tokenize(&tokenizer)?;
            RankerSpec::Fusion { encoder, finetune: args.finetune, max_length: tokenizer.max_length }
        }
    };
    Ok((data, arch))
}

/// The folds' models against the baselines: the JSON report (stdout or `--report`), the
/// plot, and the summary on stderr.
fn evaluate_and_report(
    args: &FitArgs,
    run: &Run,
    folds: &[evaluate::Fold],
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let report = evaluate::evaluate(run.data, folds, run.arch, run.opts, run.device, bar, run.checkpoints)?;
    let json = serde_json::to_string_pretty(&report)? + "\n";
    match &args.report {
        Some(path) => vrd_core::output::write_bytes_atomic(path, json.as_bytes())?,
        None => {
            let mut out = vrd_core::output::Output::open(None)?;
            std::io::Write::write_all(&mut out, json.as_bytes())?;
            out.finish()?;
        }
    }
    let svg = plot::svg(&report);
    if let Some(path) = &args.plot {
        vrd_core::output::write_bytes_atomic(path, svg.as_bytes())?;
    }
    // The model folder keeps what it was judged by: `vrd-label serve --model` shows it.
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let dir = vrd_core::model_dir::ModelDir::new(out);
        vrd_core::output::write_bytes_atomic(&dir.fold_plot(), svg.as_bytes())?;
        vrd_core::output::write_bytes_atomic(&dir.answers_report(), json.as_bytes())?;
    }
    print_summary(&report);
    Ok(())
}

/// The final model on every label, saved with its card into `out`.
fn train_and_save(run: &Run, out: &std::path::Path, bar: &indicatif::ProgressBar) -> Result<()> {
    bar.set_prefix("final model");
    let rows: Vec<&data::Row> = run.data.rows.iter().collect();
    let trained = train::train(
        run.data,
        &rows,
        run.arch,
        run.opts,
        run.device,
        false,
        Some(bar),
        run.checkpoints.map(|c| (c, "final")),
    )?;
    bar.inc(1);
    let card = AnswersCard {
        format: vrd_core::model_dir::ANSWERS_FORMAT.into(),
        arch: arch_card(run.arch, &trained.model)?,
        duration_log1p_mean: trained.scale.mean,
        duration_log1p_std: trained.scale.std,
        thresholds: trained.chosen.map(|_, c| c.calibrated.threshold),
        calibration: trained.chosen.map(|_, c| c.calibrated.calibration),
        media_model: run.data.media_model.clone(),
        context: run.data.spec.clone(),
        selection: trained.chosen.map(|_, c| c.validation.clone()),
        training: serde_json::json!({
            "options": run.opts,
            "rows": run.data.rows.len(),
            "best_epoch": trained.best_epoch,
            "logistic_l2": trained.baselines.map(|_, b| b.l2),
            "trained_at": vrd_core::time::format_rfc3339(&chrono::Utc::now()),
        }),
    };
    bar.suspend(|| report_choice(&trained));
    AnswersModel::save(&trained.vs, &card, out).with_context(|| format!("saving the model to {}", out.display()))?;
    if trained.best_epoch == 0 {
        eprintln!(
            "vrd-train: no trained epoch beat the start (the regression alone) on the validation labels by more than a standard error: the deep part stays at zero"
        );
    }
    eprintln!("vrd-train: model saved to {} (best epoch {})", out.display(), trained.best_epoch);
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
        let (baseline, model) = (auc(c.scorer.name()), auc("model"));
        eprintln!(
            "vrd-train: {head}: the saved model answers {head} with the {} baseline: on the held-out validation labels the model's ROC-AUC ({model:.3}) is not above the baseline's ({baseline:.3}) by more than one standard error (model − baseline {:+.3}, standard error {:.3})",
            c.scorer.name().replace('_', " "),
            model - baseline,
            c.standard_error.unwrap_or(f64::NAN),
        );
    }
}

/// The card's description of the trained network: the fusion model names the encoder
/// folder it reads its frozen weights from, and that folder's fingerprint.
fn arch_card(arch: &RankerSpec, net: &Net) -> Result<RankerCard> {
    Ok(match (arch, net) {
        (RankerSpec::Fast, Net::Fast(m)) => RankerCard::Fast(m.config.clone()),
        (RankerSpec::Fusion { encoder, max_length, .. }, Net::Fusion(m)) => RankerCard::Fusion(FusionCard {
            network: m.config.clone(),
            encoder: encoder.canonicalize().with_context(|| format!("cannot resolve {}", encoder.display()))?,
            encoder_fingerprint: vrd_encoder::encoder_dir::fingerprint(encoder)?,
            max_length: *max_length,
            text_template: vrd_core::text::DEFAULT_TEMPLATE.into(),
            description_chars: vrd_core::text::DEFAULT_DESCRIPTION_CHARS,
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
    for method in evaluate::ReportedMethod::ALL.map(evaluate::ReportedMethod::name) {
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
