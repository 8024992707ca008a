//! Multilingual encoder folders laid out as their Hugging Face downloads are, made from
//! the tiny XLM-R of `fixtures/tiny-xlmr` (random weights, its own Unigram tokenizer in
//! XLM-R's layout), for the tests that check such a folder works as `VRD_MODEL`:
//!
//! - [`multilingual_e5`]: `intfloat/multilingual-e5-small`'s layout: a BERT whose tokenizer
//!   is XLM-R's Unigram one, mean pooling (`1_Pooling`), and the `query: ` prompt in
//!   `config_sentence_transformers.json` (the file its sentence-transformers users write);
//! - [`bge_m3`]: `BAAI/bge-m3`'s: an XLM-RoBERTa with CLS pooling and no prompt.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A folder `name` in `into` with the tiny model's tokenizer and weights and `config`.
fn folder(tiny_xlmr: &Path, into: &Path, name: &str, config: serde_json::Value, pooling: &str) -> PathBuf {
    let dir = into.join(name);
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    for file in ["tokenizer.json", "model.safetensors"] {
        std::fs::copy(tiny_xlmr.join(file), dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let pooling = serde_json::json!({
        "word_embedding_dimension": config["hidden_size"],
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
    });
    std::fs::write(dir.join("1_Pooling/config.json"), pooling.to_string()).unwrap();
    dir
}

fn tiny_config(tiny_xlmr: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(tiny_xlmr.join("config.json")).unwrap()).unwrap()
}

/// multilingual-e5-small's layout (BERT, XLM-R's tokenizer, mean pooling, `query: `).
pub fn multilingual_e5(tiny_xlmr: &Path, into: &Path) -> PathBuf {
    let mut config = tiny_config(tiny_xlmr);
    config["model_type"] = "bert".into();
    config["architectures"] = serde_json::json!(["BertModel"]);
    config["tokenizer_class"] = "XLMRobertaTokenizer".into();
    config["layer_norm_eps"] = 1e-12.into();
    let dir = folder(tiny_xlmr, into, "multilingual-e5-tiny", config, "mean");
    let prompts = serde_json::json!({"prompts": {"query": "query: ", "passage": "passage: "}});
    std::fs::write(dir.join("config_sentence_transformers.json"), prompts.to_string()).unwrap();
    dir
}

/// bge-m3's layout (XLM-RoBERTa, CLS pooling, no prompt).
pub fn bge_m3(tiny_xlmr: &Path, into: &Path) -> PathBuf {
    folder(tiny_xlmr, into, "bge-m3-tiny", tiny_config(tiny_xlmr), "cls")
}
