//! `vrd-train bench`: training steps per second of the early-fusion model at a given size
//! (BGE-M3's exact config, randomly initialised: fixtures/bge-m3/config.json), on
//! synthetic inputs of fixed batch and lengths: the real model, loss and optimiser step
//! (`train::loss`, `train::optimizer_step`) and precision of `vrd-train fit`, without data
//! loading. scripts/bench_train_ref.py runs the Python reference stack (HF transformers +
//! peft) on the same shapes; scripts/bench-train-gpu runs both and compares.

use anyhow::Result;
use std::path::PathBuf;
use std::time::Instant;
use tch::{nn, Device, Kind, Tensor};
use vrd_answers::net::fusion::{is_new_layer, FusionConfig, FusionModel};
use vrd_answers::train::{self, TrainOptions};
use vrd_core::records::PerHead;
use vrd_model::fusion::Finetune;
use vrd_model::optim::AdamW;
use vrd_model::EncoderConfig;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The encoder's config.json (its weights are not needed: they start random).
    #[arg(long)]
    config: PathBuf,
    #[arg(long, default_value_t = 8)]
    batch_size: i64,
    /// Text tokens per video (the activity token comes on top).
    #[arg(long, default_value_t = 512)]
    length: i64,
    /// Activity events per window, and their text embeddings' width.
    #[arg(long, default_value_t = 64)]
    events: i64,
    #[arg(long, default_value_t = 1024)]
    context_dim: i64,
    /// Timed steps (after the warm-up steps).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    #[arg(long, default_value_t = 3)]
    warmup_steps: usize,
    /// lora, full or frozen.
    #[arg(long, default_value = "lora", value_parser = crate::options::finetune_arg)]
    finetune: Finetune,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "auto")]
    device: vrd_encoder::runtime::DeviceChoice,
    /// f32, bf16, or auto: bf16 on CUDA, f32 on the CPU.
    #[arg(long, value_enum, default_value = "auto")]
    precision: crate::options::Precision,
}

pub fn run(args: &BenchArgs) -> Result<()> {
    let device = args.device.resolve()?;
    let bf16 = args.precision.bf16_on(device);
    let enc_cfg = EncoderConfig::from_file(&args.config)?;
    let features = vrd_core::context::FEATURES.len() as i64;
    let buckets = vrd_core::context::APP_BUCKETS as i64;
    tch::manual_seed(0);
    let mut vs = nn::VarStore::new(device);
    let config = FusionConfig::new(enc_cfg.hidden_size, args.context_dim, features, buckets, args.finetune);
    let model = FusionModel::new(&vs, enc_cfg.clone(), config)?;
    let kind = if bf16 {
        vs.bfloat16();
        Kind::BFloat16
    } else {
        Kind::Float
    };
    let mut opt = AdamW::new(&vs, 2, |name| usize::from(is_new_layer(name)), 0.01);
    let vars = vs.variables();
    let total: i64 = vars.values().map(|v| v.numel() as i64).sum();
    let trainable: i64 = vars.values().filter(|v| v.requires_grad()).map(|v| v.numel() as i64).sum();

    let (b, t, l) = (args.batch_size, args.length, args.events);
    let ids = Tensor::randint_low(5, enc_cfg.vocab_size, [b, t], (Kind::Int64, device));
    let mask = Tensor::ones([b, t], (Kind::Int64, device));
    let activity = vrd_answers::net::activity::Activity {
        text: Tensor::randn([b, l, args.context_dim], (kind, device)),
        num: Tensor::randn([b, l, features], (kind, device)),
        mask: Tensor::ones([b, l], (Kind::Int64, device)),
        app: Tensor::randint_low(1, buckets, [b, l], (Kind::Int64, device)),
        category: Tensor::randint_low(1, buckets, [b, l], (Kind::Int64, device)),
        seconds: Tensor::full([b, l], 60.0, (kind, device)),
    };
    let duration_z = Tensor::randn([b], (kind, device));
    let targets = Tensor::randint(2, [b], (Kind::Int64, device));
    let class_weights = PerHead::new(|_| Tensor::ones([2], (Kind::Float, device)));
    // The training loop's own loss and optimiser step, at fit's default learning rates.
    let lrs = [TrainOptions::default().lr_encoder, TrainOptions::default().lr];
    let mut step = || {
        let out = model.forward(&ids, &mask, &activity, &duration_z, true, false);
        let loss = train::loss(&out, &targets, &targets, &class_weights);
        loss.backward();
        train::optimizer_step(&mut opt, lrs);
        loss.double_value(&[])
    };
    for _ in 0..args.warmup_steps {
        step();
    }
    sync(device);
    let started = Instant::now();
    let mut last_loss = 0.0;
    for _ in 0..args.steps {
        last_loss = step();
    }
    sync(device);
    let secs = started.elapsed().as_secs_f64();
    let report = serde_json::json!({
        "tool": "vrd-train bench",
        "model": enc_cfg.model_type,
        "hidden_size": enc_cfg.hidden_size,
        "layers": enc_cfg.num_hidden_layers,
        "finetune": args.finetune,
        "precision": if bf16 { "bf16" } else { "f32" },
        "device": format!("{device:?}"),
        "batch_size": b,
        "length": t,
        "events": l,
        "steps": args.steps,
        "seconds": secs,
        "steps_per_s": args.steps as f64 / secs,
        "params_total": total,
        "params_trainable": trainable,
        "last_loss": last_loss,
    });
    println!("{report}");
    Ok(())
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}
