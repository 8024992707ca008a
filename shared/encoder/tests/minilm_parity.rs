//! The packaged all-MiniLM-L6-v2, run through our BERT, against sentence-transformers'
//! own outputs (fixtures/golden/minilm.json, made by scripts/make_goldens.py): identical
//! token ids, and every embedding within 1e-5.

use serde::Deserialize;
use std::path::PathBuf;
use vrd_model::{SentenceEncoder, SentenceEncoderOptions};

#[derive(Deserialize)]
struct Golden {
    max_seq_length: usize,
    texts: Vec<String>,
    token_ids: Vec<Vec<u32>>,
    embeddings: Vec<Vec<f32>>,
}

fn golden() -> Golden {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/minilm.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn encoder() -> SentenceEncoder {
    let dir =
        vrd_encoder::encoder_dir::packaged_encoder_dir().expect("the packaged model is installed by scripts/setup");
    SentenceEncoder::load(&dir, &SentenceEncoderOptions::default()).unwrap()
}

#[test]
fn token_ids_match_the_reference_tokenizer() {
    let g = golden();
    let enc = encoder();
    assert_eq!(enc.max_length(), g.max_seq_length);
    let texts: Vec<&str> = g.texts.iter().map(String::as_str).collect();
    let encodings = enc.tokenize(&texts).unwrap();
    assert!(!g.texts.is_empty() && g.token_ids.len() == g.texts.len(), "the golden file lists every text's ids");
    assert_eq!(encodings.len(), g.token_ids.len(), "one encoding per text");
    for (i, (e, want)) in encodings.iter().zip(&g.token_ids).enumerate() {
        assert_eq!(e.get_ids(), &want[..], "token ids differ for text {i}: {:?}", g.texts[i]);
    }
}

#[test]
fn embeddings_match_sentence_transformers_within_1e_5() {
    let g = golden();
    let enc = encoder();
    let texts: Vec<&str> = g.texts.iter().map(String::as_str).collect();
    // Different batch sizes put each text next to different padding: results must not care.
    for batch_size in [1, 7, 64] {
        let got = enc.embed(&texts, batch_size).unwrap();
        assert!(!g.embeddings.is_empty() && g.embeddings.len() == texts.len(), "a reference vector per text");
        assert_eq!(got.len(), g.embeddings.len(), "batch size {batch_size}: one vector per text");
        let mut worst = (0f32, 0usize);
        for (i, (row, want)) in got.iter().zip(&g.embeddings).enumerate() {
            assert_eq!(row.len(), want.len());
            for (a, b) in row.iter().zip(want) {
                let d = (a - b).abs();
                if d > worst.0 {
                    worst = (d, i);
                }
            }
        }
        assert!(
            worst.0 <= 1e-5,
            "batch size {batch_size}: text {} ({:?}) is off by {}",
            worst.1,
            g.texts[worst.1],
            worst.0
        );
    }
}

/// bf16 is the fast CPU path (AVX512-BF16), not an exact one: its vectors must stay close
/// enough to rank the same way (cosine to the f32 reference, reported in BENCHMARKS.md).
#[test]
fn bf16_embeddings_stay_close_to_the_reference() {
    let g = golden();
    let dir = vrd_encoder::encoder_dir::packaged_encoder_dir().unwrap();
    let opts = SentenceEncoderOptions { kind: tch::Kind::BFloat16, ..Default::default() };
    let enc = SentenceEncoder::load(&dir, &opts).unwrap();
    let texts: Vec<&str> = g.texts.iter().map(String::as_str).collect();
    let got = enc.embed(&texts, 16).unwrap();
    // An empty run would leave the worst cosine at infinity and pass: count first.
    assert!(!texts.is_empty());
    assert_eq!(got.len(), g.embeddings.len(), "one bf16 vector per text");
    let cosines: Vec<f32> =
        got.iter().zip(&g.embeddings).map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum()).collect();
    let worst = cosines.iter().cloned().fold(f32::INFINITY, f32::min);
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    eprintln!("bf16 vs f32 reference: worst cosine {worst:.5}, mean {mean:.5}");
    assert!(worst > 0.99, "worst cosine {worst}");
}
