//! The packaged all-MiniLM-L6-v2, run through our BERT, against sentence-transformers'
//! own outputs (fixtures/golden/minilm.json, made by scripts/make_goldens.py): identical
//! token ids, and every embedding within 1e-5.

use serde::Deserialize;
use shared::model::{SentenceEncoder, SentenceEncoderOptions};
use std::path::PathBuf;

#[derive(Deserialize)]
struct Golden {
    max_seq_length: usize,
    texts: Vec<String>,
    token_ids: Vec<Vec<u32>>,
    embeddings: Vec<Vec<f32>>,
}

fn golden() -> Golden {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/golden/minilm.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn encoder() -> SentenceEncoder {
    let dir = shared::model_dir::packaged_model_dir().expect("the packaged model is installed by scripts/setup");
    SentenceEncoder::load(&dir, &SentenceEncoderOptions::default()).unwrap()
}

#[test]
fn token_ids_match_the_reference_tokenizer() {
    let g = golden();
    let enc = encoder();
    assert_eq!(enc.max_length(), g.max_seq_length);
    let texts: Vec<&str> = g.texts.iter().map(String::as_str).collect();
    let encodings = enc.tokenize(&texts).unwrap();
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
