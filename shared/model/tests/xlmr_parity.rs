//! XLM-RoBERTa (BGE-M3's code path) against HF transformers on a tiny checkpoint with its
//! own tokenizer (fixtures/tiny-xlmr, made by scripts/make_goldens.py with a fixed seed):
//! token ids identical, CLS and mean embeddings within 1e-5, plus the loader's promises.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use tch::{nn::VarStore, Device, Kind, Tensor};
use vrd_model::checkpoint::{load_safetensors, ENCODER_PREFIXES};
use vrd_model::pooling::Pooling;
use vrd_model::xlm_roberta::XlmRobertaModel;
use vrd_model::{EncoderConfig, SentenceEncoder, SentenceEncoderOptions, TextEncoder};

#[derive(Deserialize)]
struct Golden {
    max_length: usize,
    texts: Vec<String>,
    token_ids: Vec<Vec<u32>>,
    cls: Vec<Vec<f32>>,
    mean: Vec<Vec<f32>>,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn model_dir() -> PathBuf {
    fixtures().join("tiny-xlmr")
}

fn golden() -> Golden {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("golden/tiny_xlmr.json")).unwrap()).unwrap()
}

fn load(dir: &Path, pooling: Option<Pooling>, kind: Kind) -> anyhow::Result<SentenceEncoder> {
    SentenceEncoder::load(dir, &SentenceEncoderOptions { pooling, kind, ..Default::default() })
}

fn worst_difference(got: &[Vec<f32>], want: &[Vec<f32>]) -> (f32, usize) {
    assert!(!want.is_empty(), "the golden file has reference vectors");
    assert_eq!(got.len(), want.len(), "one vector per reference");
    let mut worst = (0f32, 0usize);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len());
        for (a, b) in g.iter().zip(w) {
            if (a - b).abs() > worst.0 {
                worst = ((a - b).abs(), i);
            }
        }
    }
    worst
}

#[test]
fn token_ids_and_truncation_match() {
    let g = golden();
    let enc = load(&model_dir(), None, Kind::Float).unwrap();
    assert_eq!(enc.max_length(), g.max_length, "positions start after the padding index: 66 - 2 tokens");
    let texts: Vec<&str> = g.texts.iter().map(String::as_str).collect();
    let encodings = enc.tokenize(&texts).unwrap();
    assert!(!texts.is_empty() && g.token_ids.len() == texts.len(), "the golden file lists every text's ids");
    assert_eq!(encodings.len(), g.token_ids.len(), "one encoding per text");
    for (i, (e, want)) in encodings.iter().zip(&g.token_ids).enumerate() {
        assert_eq!(e.get_ids(), &want[..], "text {i}: {:?}", g.texts[i]);
    }
    assert!(g.token_ids.iter().any(|ids| ids.len() == g.max_length), "a text is long enough to be truncated");
}

#[test]
fn cls_and_mean_embeddings_match_transformers_within_1e_5() {
    let g = golden();
    let texts: Vec<&str> = g.texts.iter().map(String::as_str).collect();
    // XLM-R without a sentence-transformers pooling file defaults to CLS (BGE-M3's dense vector).
    let cls = load(&model_dir(), None, Kind::Float).unwrap();
    assert!(cls.model_id().contains("|cls|"), "{}", cls.model_id());
    let mean = load(&model_dir(), Some(Pooling::Mean), Kind::Float).unwrap();
    for batch_size in [1, 5, 64] {
        let (d, i) = worst_difference(&cls.embed(&texts, batch_size).unwrap(), &g.cls);
        assert!(d <= 1e-5, "cls, batch {batch_size}: text {i} {:?} off by {d}", g.texts[i]);
        let (d, i) = worst_difference(&mean.embed(&texts, batch_size).unwrap(), &g.mean);
        assert!(d <= 1e-5, "mean, batch {batch_size}: text {i} {:?} off by {d}", g.texts[i]);
    }
}

#[test]
fn bf16_and_f16_runs_stay_close_and_finite() {
    let g = golden();
    let texts: Vec<&str> = g.texts.iter().map(String::as_str).collect();
    for kind in [Kind::BFloat16, Kind::Half] {
        let enc = load(&model_dir(), None, kind).unwrap();
        let got = enc.embed(&texts, 16).unwrap();
        assert!(!g.cls.is_empty());
        assert_eq!(got.len(), g.cls.len(), "{kind:?}: one vector per text");
        for (i, (row, want)) in got.iter().zip(&g.cls).enumerate() {
            assert!(row.iter().all(|x| x.is_finite()), "{kind:?} text {i} not finite");
            let cos: f32 = row.iter().zip(want).map(|(a, b)| a * b).sum();
            assert!(cos > 0.99, "{kind:?} text {i}: cosine {cos} to the f32 reference");
        }
    }
}

fn copy_folder_with_weights(dir: &Path, edit: impl FnOnce(Vec<(String, Tensor)>) -> Vec<(String, Tensor)>) {
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(model_dir().join(f), dir.join(f)).unwrap();
    }
    let tensors = Tensor::read_safetensors(model_dir().join("model.safetensors")).unwrap();
    Tensor::write_safetensors(&edit(tensors), dir.join("model.safetensors")).unwrap();
}

#[test]
fn prefixed_weight_names_load_the_same() {
    let dir = tempfile::tempdir().unwrap();
    copy_folder_with_weights(dir.path(), |ts| ts.into_iter().map(|(n, t)| (format!("roberta.{n}"), t)).collect());
    let texts = ["Rust ownership", "やわらかい食パンの作り方"];
    let a = load(&model_dir(), None, Kind::Float).unwrap().embed(&texts, 2).unwrap();
    let b = load(dir.path(), None, Kind::Float).unwrap().embed(&texts, 2).unwrap();
    assert_eq!(a, b);
}

#[test]
fn missing_and_mis_shaped_tensors_are_named() {
    let dir = tempfile::tempdir().unwrap();
    copy_folder_with_weights(dir.path(), |ts| {
        ts.into_iter().filter(|(n, _)| n != "encoder.layer.1.intermediate.dense.weight").collect()
    });
    let err = load(dir.path(), None, Kind::Float).err().unwrap().to_string();
    assert!(err.contains("missing tensor `encoder.layer.1.intermediate.dense.weight`"), "{err}");

    copy_folder_with_weights(dir.path(), |ts| {
        ts.into_iter()
            .map(|(n, t)| {
                if n == "embeddings.LayerNorm.bias" {
                    (n, Tensor::zeros([31], (Kind::Float, Device::Cpu)))
                } else {
                    (n, t)
                }
            })
            .collect()
    });
    let err = load(dir.path(), None, Kind::Float).err().unwrap().to_string();
    assert!(err.contains("`embeddings.LayerNorm.bias` has shape [31]"), "{err}");
}

#[test]
fn a_tokenizer_larger_than_the_vocabulary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_folder_with_weights(dir.path(), |ts| ts);
    let cfg = std::fs::read_to_string(dir.path().join("config.json"))
        .unwrap()
        .replace("\"vocab_size\": 582", "\"vocab_size\": 100");
    std::fs::write(dir.path().join("config.json"), cfg).unwrap();
    let err = load(dir.path(), None, Kind::Float).err().unwrap().to_string();
    assert!(err.contains("tokenizer.json") && err.contains("vocab_size 100"), "{err}");
}

/// The tiny checkpoint as a bare model (the VarStore owns its weights: keep it alive).
fn tiny_model() -> (EncoderConfig, VarStore, XlmRobertaModel) {
    let cfg = EncoderConfig::from_file(&model_dir().join("config.json")).unwrap();
    let vs = VarStore::new(Device::Cpu);
    let model = XlmRobertaModel::new(vs.root(), &cfg);
    load_safetensors(&vs, &model_dir().join("model.safetensors"), ENCODER_PREFIXES).unwrap();
    (cfg, vs, model)
}

/// `<s> … </s>`: five token ids and their all-ones mask.
fn five_tokens() -> (Tensor, Tensor) {
    (Tensor::from_slice(&[0i64, 57, 120, 9, 2]).view([1, 5]), Tensor::ones([1, 5], (Kind::Int64, Device::Cpu)))
}

/// The training model appends its app-sequence token between the embedding layer and the
/// encoder stack: the two calls compose to `forward`, and a masked extra position changes
/// nothing for the real tokens.
#[test]
fn embeddings_and_encoder_compose_and_masked_positions_are_ignored() {
    let (cfg, _vs, model) = tiny_model();
    let (ids, mask) = five_tokens();
    tch::no_grad(|| {
        let full = model.forward(&ids, &mask, None, false);
        let h = model.embeddings(&ids, None, false);
        assert!(full.allclose(&model.encoder(&h, &mask, false), 1e-6, 1e-6, false));

        let extra = Tensor::randn([1, 1, cfg.hidden_size], (Kind::Float, Device::Cpu));
        let with_extra = Tensor::cat(&[h, extra], 1);
        let masked = Tensor::cat(&[mask.shallow_clone(), Tensor::zeros([1, 1], (Kind::Int64, Device::Cpu))], 1);
        let out = model.encoder(&with_extra, &masked, false);
        assert!(out.narrow(1, 0, 5).allclose(&full, 1e-5, 1e-5, false));
        let attended = model.encoder(&with_extra, &Tensor::ones([1, 6], (Kind::Int64, Device::Cpu)), false);
        assert!(!attended.narrow(1, 0, 5).allclose(&full, 1e-3, 1e-3, false), "an attended token does change them");
    });
}

#[test]
fn dropout_acts_only_in_training() {
    let (_, _vs, model) = tiny_model();
    let (ids, mask) = five_tokens();
    tch::no_grad(|| {
        let a = model.forward(&ids, &mask, None, false);
        let b = model.forward(&ids, &mask, None, false);
        assert!(a.equal(&b), "inference is deterministic");
        tch::manual_seed(1);
        let t = model.forward(&ids, &mask, None, true);
        assert!(!a.allclose(&t, 1e-4, 1e-4, false), "training mode applies dropout");
    });
}
