//! Multilingual encoder folders as `VRD_MODEL`: multilingual E5's layout (a BERT with
//! XLM-R's Unigram tokenizer, mean pooling, the `query: ` prompt) and BGE-M3's (XLM-R,
//! CLS pooling), each read with the pooling and prompt its own files say.

#[path = "../../test-support/encoder_folders.rs"]
mod encoder_folders;

use std::path::PathBuf;
use vrd_model::pooling::Pooling;
use vrd_model::{SentenceEncoder, SentenceEncoderOptions};

fn tiny_xlmr() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-xlmr")
}

const TITLES: [&str; 4] =
    ["ข่าวเช้า ตอนที่ 12", "台灣新聞直播", "Minecraft Hardcore Ep 12", "Türkçe rap şarkıları: KARIŞIK liste"];

#[test]
fn an_e5_folder_puts_its_prompt_before_every_text_and_mean_pools() {
    let dir = tempfile::tempdir().unwrap();
    let e5 = encoder_folders::multilingual_e5(&tiny_xlmr(), dir.path());
    let enc = SentenceEncoder::load(&e5, &SentenceEncoderOptions::default()).unwrap();
    assert_eq!(enc.prompt(), "query: ");
    assert_eq!(enc.model_id(), "multilingual-e5-tiny|mean|norm|66|prompt=\"query: \"");
    // The same folder told no prompt, fed the prompted texts, gives the same vectors.
    let plain =
        SentenceEncoder::load(&e5, &SentenceEncoderOptions { prompt: Some(String::new()), ..Default::default() })
            .unwrap();
    assert_eq!(plain.model_id(), "multilingual-e5-tiny|mean|norm|66", "no prompt, the ids of before");
    let prompted: Vec<String> = TITLES.iter().map(|t| format!("query: {t}")).collect();
    let want = plain.embed(&prompted.iter().map(String::as_str).collect::<Vec<_>>(), 4).unwrap();
    let got = enc.embed(&TITLES, 4).unwrap();
    assert_eq!(got, want);
    assert_ne!(got, plain.embed(&TITLES, 4).unwrap(), "the prompt changes the vectors");
    // The Unigram tokenizer reads the prompt as its pieces, then the title's.
    let ids = enc.tokenize(&TITLES[..1]).unwrap()[0].get_ids().to_vec();
    let title_ids = plain.tokenize(&TITLES[..1]).unwrap()[0].get_ids().to_vec();
    assert!(ids.len() > title_ids.len() && ids.ends_with(&title_ids[1..]), "{ids:?} {title_ids:?}");
    // Mean pooling from 1_Pooling, unit vectors.
    let cls = SentenceEncoder::load(&e5, &SentenceEncoderOptions { pooling: Some(Pooling::Cls), ..Default::default() })
        .unwrap();
    assert_ne!(cls.embed(&TITLES, 4).unwrap(), got);
    for v in &got {
        assert!((v.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn a_bge_m3_folder_reads_cls_and_no_prompt_and_a_bad_prompt_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bge = encoder_folders::bge_m3(&tiny_xlmr(), dir.path());
    let enc = SentenceEncoder::load(&bge, &SentenceEncoderOptions::default()).unwrap();
    assert_eq!((enc.prompt(), enc.model_id()), ("", "bge-m3-tiny|cls|norm|64"));
    // The tiny XLM-R's own CLS vectors: the same weights read the same way.
    let reference = SentenceEncoder::load(&tiny_xlmr(), &SentenceEncoderOptions::default()).unwrap();
    assert_eq!(enc.embed(&TITLES, 2).unwrap(), reference.embed(&TITLES, 2).unwrap());
    std::fs::write(bge.join("config_sentence_transformers.json"), r#"{"prompts": {}, "default_prompt_name": "q"}"#)
        .unwrap();
    let err = SentenceEncoder::load(&bge, &SentenceEncoderOptions::default()).err().unwrap().to_string();
    assert!(err.contains("config_sentence_transformers.json") && err.contains("\"q\" names no prompt"), "{err}");
}
