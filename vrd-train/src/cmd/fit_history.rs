//! `vrd-train fit --history`: the next-watch model learned from the watch history alone
//! (labels optional), chosen on the latest slice of the history and saved as `pick.json`
//! in `--out`; its report (what each scorer reached on that slice) on stdout or
//! `--report` when there are no labels, else beside the model as `pick-report.json`.

use super::fit_args::FitArgs;
use crate::inputs::Source;
use anyhow::{Context, Result};
use std::path::Path;
use vrd_core::model_dir::ModelDir;
use vrd_next_watch::features::Feature;
use vrd_next_watch::method::Method;
use vrd_next_watch_torch::training::fit::FitOptions;
use vrd_next_watch_torch::training::fusion::FusionOptions;
use vrd_next_watch_torch::training::sample::Sampling;

pub fn options(args: &FitArgs) -> Result<(Sampling, FitOptions)> {
    let fusion = match args.arch {
        vrd_model::RankerArch::Fast => None,
        vrd_model::RankerArch::Fusion => {
            Some(FusionOptions { finetune: args.finetune, ..fusion_options(args.encoder.as_deref())? })
        }
    };
    Ok((
        Sampling { seed: args.seed, ..Sampling::default() },
        FitOptions { deep_margin: args.deep_margin, seed: args.seed, fusion, ..FitOptions::default() },
    ))
}

/// The fusion contender over the encoder folder `encoder` (default: the packaged model).
pub fn fusion_options(encoder: Option<&Path>) -> Result<FusionOptions> {
    let encoder = vrd_encoder::encoder_dir::resolve_encoder_dir(encoder)?;
    let fingerprint = vrd_encoder::encoder_dir::fingerprint(&encoder)?;
    Ok(FusionOptions::new(encoder, fingerprint))
}

/// Saves a trained next-watch model in `out`: the card, and a fusion scorer's weights
/// beside it (an earlier model's left there are removed: no card reads them).
pub fn save(trained: &vrd_next_watch_torch::training::Trained, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let file = ModelDir::new(out).next_watch_fusion_weights();
    match trained.deep_part() {
        Some(fitted) => tch::Tensor::write_safetensors(&fitted.trained_variables(), &file)
            .with_context(|| format!("{}: cannot write", file.display()))?,
        None if file.exists() => {
            std::fs::remove_file(&file).with_context(|| format!("{}: cannot remove", file.display()))?
        }
        None => {}
    }
    trained.card.write(out)
}

pub fn run(args: &FitArgs, source: &Source) -> Result<()> {
    let (data, media) = source.history(args)?;
    let (sampling, options) = options(args)?;
    let index = data.embeddings.index();
    let titled = data.history.iter().filter(|e| !e.title_unknown).count();
    let embedded = data.history.iter().filter(|e| !e.title_unknown && index.contains_key(e.video_id.as_str())).count();
    eprintln!(
        "vrd-train: next-watch model from {} watches ({titled} titled, {embedded} with embeddings), {} never-watched candidates, {} searches",
        data.history.len(),
        data.candidates.len(),
        data.searches.len()
    );
    if embedded < titled {
        eprintln!(
            "vrd-train: {} titled watches have no embedding in {} and are left out (run vrd-encode media over the history)",
            titled - embedded,
            media.display()
        );
    }
    let inputs = data.inputs(&data.history, &data.candidates);
    let trained = vrd_next_watch_torch::training::train(&inputs, &sampling, &options, &data.embeddings.meta.model_id)?;
    let card = &trained.card;
    if let Some(timeline) = &data.timeline {
        eprintln!(
            "vrd-train: the app timeline ({} events) knew the hour before {} of the {} watches trained on",
            timeline.len(),
            card.history.with_activity,
            card.history.watches
        );
    }
    let folds = vrd_next_watch_torch::training::folds::evaluate(
        &inputs,
        &sampling,
        &options,
        &data.embeddings.meta.model_id,
        args.folds,
    )?;
    let summary: std::collections::BTreeMap<&str, f64> = folds
        .first()
        .map(|f| {
            f.mrr
                .keys()
                .map(|k| (k.as_str(), folds.iter().map(|f| f.mrr[k]).sum::<f64>() / folds.len() as f64))
                .collect()
        })
        .unwrap_or_default();
    let report = serde_json::json!({
        "next_watch": {
            "chosen": card.chosen,
            "held_out_mrr": card.selection,
            "history": card.history,
            "training": card.training,
            "folds": folds,
            "folds_mean_mrr": summary,
        }
    });
    let json = serde_json::to_string_pretty(&report)? + "\n";
    match (&args.report, args.labels.is_some(), &args.out) {
        (Some(path), false, _) => vrd_core::output::write_bytes_atomic(path, json.as_bytes())?,
        (_, true, Some(out)) => {
            std::fs::create_dir_all(out)?;
            vrd_core::output::write_bytes_atomic(&ModelDir::new(out).next_watch_report(), json.as_bytes())?
        }
        (_, true, None) => {}
        (None, false, _) => {
            let mut out = vrd_core::output::Output::open(None)?;
            std::io::Write::write_all(&mut out, json.as_bytes())?;
            out.finish()?;
        }
    }
    let mrr = |m: Method| card.selection.get(&m.key()).map_or("-".to_string(), |v| format!("{v:.3}"));
    eprintln!(
        "vrd-train: next-watch: {} moments; on the latest {} questions held out, mean reciprocal rank: network {}, regression {}, similarity to the last watch {}, channel recency {}; chosen: {}",
        card.history.moments,
        card.training["held_out_groups"],
        mrr(Method::Network),
        mrr(Method::Regression),
        mrr(Method::Signal(Feature::SimLast)),
        mrr(Method::Signal(Feature::ChannelDecayedLog)),
        card.chosen
    );
    if !folds.is_empty() {
        let mrr = |m: Method| summary.get(m.key().as_str()).map_or("-".to_string(), |v| format!("{v:.3}"));
        eprintln!(
            "vrd-train: next-watch, {} rolling-origin folds, mean reciprocal rank on the moments after each cut: model {}, regression {}, similarity to the last watch {}, channel recency {}",
            folds.len(),
            mrr(Method::Model),
            mrr(Method::Regression),
            mrr(Method::Signal(Feature::SimLast)),
            mrr(Method::Signal(Feature::ChannelDecayedLog))
        );
    }
    if let Some(out) = &args.out {
        save(&trained, out)?;
        eprintln!("vrd-train: next-watch model saved to {}", ModelDir::new(out).next_watch_card().display());
    }
    Ok(())
}
