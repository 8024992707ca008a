//! `vrd-encode media`: one embedding per video, from its title, channel and description.
//!
//! Videos are de-duplicated by id (a rewatched video is encoded once; where the same id
//! comes with more text, e.g. a metadata record after a watch event, the fuller text wins).
//! With `--previous`, rows whose model id and text hash are unchanged are copied instead of
//! re-encoded, so a cron run over a mostly unchanged catalogue only encodes what is new.

use crate::runtime_args::RuntimeArgs;
use anyhow::{bail, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::MediaText;
use vrd_core::tensors::{EmbeddingMeta, EmbeddingReader, EmbeddingWriter};
use vrd_core::text::{text_hash, TextTemplate, DEFAULT_DESCRIPTION_CHARS, DEFAULT_TEMPLATE};
use vrd_core::usage::UsageError;
use vrd_model::pooling::Pooling;
use vrd_model::{SentenceEncoder, SentenceEncoderOptions};

#[derive(clap::Args)]
pub struct MediaArgs {
    /// JSONL files of videos or watch events (none or `-`: stdin).
    inputs: Vec<PathBuf>,
    /// The safetensors file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Hugging Face model folder (default: the packaged all-MiniLM-L6-v2).
    #[arg(long, env = "VRD_MODEL")]
    model: Option<PathBuf>,
    /// Text made from each video: fields {title}, {channel}, {description}, {tags}; `\n` is a newline.
    #[arg(long, default_value = DEFAULT_TEMPLATE, value_parser = TextTemplate::arg)]
    template: String,
    /// Characters of the description kept.
    #[arg(long, default_value_t = DEFAULT_DESCRIPTION_CHARS)]
    description_chars: usize,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Token limit per text (default: the model's).
    #[arg(long)]
    max_length: Option<usize>,
    /// mean or cls (default: the model folder's pooling config).
    #[arg(long, value_parser = vrd_model::pooling::Pooling::arg)]
    pooling: Option<Pooling>,
    /// Text put before every text, e.g. "query: " for multilingual E5 (default: the model
    /// folder's config_sentence_transformers.json prompt, else none). The other tools take
    /// the folder's: write it there rather than passing it here.
    #[arg(long)]
    prompt: Option<String>,
    /// Keep the pooled vectors as they are instead of scaling them to unit length.
    #[arg(long)]
    no_normalize: bool,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// An earlier output: unchanged rows are reused instead of re-encoded (may be the same
    /// file as --output).
    #[arg(long)]
    previous: Option<PathBuf>,
}

struct Item {
    id: String,
    text: String,
    hash: String,
}

pub fn run(args: &MediaArgs) -> Result<()> {
    if args.batch_size == 0 {
        return Err(UsageError("--batch-size must be at least 1".into()).into());
    }
    let template = TextTemplate::parse(&args.template, args.description_chars)?;
    let (device, kind) = args.runtime.runtime().apply()?;
    let opts = SentenceEncoderOptions {
        device,
        kind,
        max_length: args.max_length,
        pooling: args.pooling,
        normalize: !args.no_normalize,
        prompt: args.prompt.clone(),
    };
    let (items, untitled) = read_items(&args.inputs, &template)?;
    if untitled > 0 {
        eprintln!(
            "vrd-encode: {untitled} watch events with the title unknown left out \
             (their details come with `vrd-ingest youtube videos`)"
        );
    }
    if items.is_empty() {
        bail!("no videos in the input");
    }
    let model_dir = vrd_encoder::encoder_dir::resolve_encoder_dir(args.model.as_deref())?;
    let encoder = SentenceEncoder::load(&model_dir, &opts)?;
    let previous = match &args.previous {
        Some(p) if p.exists() => Some(EmbeddingReader::open(p)?),
        _ => None,
    };

    let meta = EmbeddingMeta {
        model_id: encoder.model_id().to_string(),
        dim: encoder.dim(),
        ids: items.iter().map(|i| i.id.clone()).collect(),
        text_hashes: items.iter().map(|i| i.hash.clone()).collect(),
    };
    let mut writer = EmbeddingWriter::create(&args.output, &meta)?;
    let reused = copy_unchanged_rows(previous.as_ref(), &meta, &mut writer)?;
    let todo: Vec<usize> = (0..items.len()).filter(|i| !reused.contains_key(i)).collect();

    let started = Instant::now();
    encode_rows(&encoder, &items, &todo, args.batch_size, &mut writer)?;
    writer.finish()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "vrd-encode: {} videos → {} ({} encoded in {:.2}s, {:.1} texts/s; {} reused) with {}",
        items.len(),
        args.output.display(),
        todo.len(),
        secs,
        todo.len() as f64 / secs.max(1e-9),
        reused.len(),
        encoder.model_id()
    );
    Ok(())
}

/// Reads every input, renders each video's text, keeps one row per video id. Watches whose
/// title the export did not know have no text yet: they are counted, not encoded.
fn read_items(inputs: &[PathBuf], template: &TextTemplate) -> Result<(Vec<Item>, usize)> {
    let stdin = [PathBuf::from("-")];
    let inputs = if inputs.is_empty() { &stdin[..] } else { inputs };
    let mut items: Vec<Item> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut untitled = 0;
    for path in inputs {
        let mut reader = JsonlReader::<MediaText>::open(Some(path.as_path()))?;
        while let Some(record) = reader.next() {
            let record = record?;
            if record.title_unknown {
                untitled += 1;
                continue;
            }
            let text = template.render(&record);
            if text.is_empty() {
                bail!(
                    "{}: field `title`: no text to encode (title, channel and description are empty)",
                    reader.location()
                );
            }
            match by_id.get(&record.video_id) {
                Some(&i) if items[i].text.len() >= text.len() => {}
                Some(&i) => {
                    items[i].hash = text_hash(&[&text]);
                    items[i].text = text;
                }
                None => {
                    by_id.insert(record.video_id.clone(), items.len());
                    items.push(Item { id: record.video_id, hash: text_hash(&[&text]), text });
                }
            }
        }
    }
    Ok((items, untitled))
}

/// Copies rows of the previous file that were made by the same model from the same text.
/// Returns new row → previous row.
fn copy_unchanged_rows(
    previous: Option<&EmbeddingReader>,
    meta: &EmbeddingMeta,
    writer: &mut EmbeddingWriter,
) -> Result<HashMap<usize, usize>> {
    let mut reused = HashMap::new();
    let Some(prev) = previous else { return Ok(reused) };
    if prev.meta.model_id != meta.model_id || prev.meta.dim != meta.dim {
        eprintln!("vrd-encode: previous embeddings were made by {}; encoding everything again", prev.meta.model_id);
        return Ok(reused);
    }
    let index = prev.index();
    let mut values = Vec::with_capacity(meta.dim);
    for (row, (id, hash)) in meta.ids.iter().zip(&meta.text_hashes).enumerate() {
        if let Some(&p) = index.get(id.as_str()) {
            if &prev.meta.text_hashes[p] == hash {
                prev.read_row(p, &mut values)?;
                writer.write_rows(&[row], &values)?;
                reused.insert(row, p);
            }
        }
    }
    Ok(reused)
}

fn encode_rows(
    encoder: &SentenceEncoder,
    items: &[Item],
    rows: &[usize],
    batch_size: usize,
    writer: &mut EmbeddingWriter,
) -> Result<()> {
    let progress = vrd_core::progress::bar(rows.len(), "encoding");
    let texts: Vec<&str> = rows.iter().map(|&r| items[r].text.as_str()).collect();
    encoder.embed_each(&texts, batch_size, |batch, values| {
        let targets: Vec<usize> = batch.iter().map(|&k| rows[k]).collect();
        writer.write_rows(&targets, values)?;
        progress.inc(batch.len() as u64);
        Ok(())
    })?;
    progress.finish_and_clear();
    Ok(())
}
