//! The lexical view of a video's text, beside the sentence encoder's: what the two titles
//! literally share. The default encoder was trained on English, so a series' name, a
//! game's name or a Thai phrase is a row of unknown pieces to it, while the same
//! characters in two titles are plain to see. The view works in any script:
//!
//! - in scripts that put spaces between words (Latin, Cyrillic, Greek, Arabic, Hangul,
//!   Devanagari, digits…) each word, framed as `<word>`, gives its character 2–4-grams;
//! - in scripts without them (Chinese, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan) each
//!   run of them gives its plain character 2–4-grams (a run of one character, itself);
//! - an emoji or other symbol is a gram of its own; punctuation and spaces separate.
//!
//! Text is folded first: lower case, and the Turkish İ, I and ı all read as i (Turkish
//! titles are written in capitals as often as not, and "KARIŞIK" is "karışık").
//!
//! The grams are hashed (FNV-1a, a fixed function, so that a card's statistics stay valid
//! across builds) into [`BUCKETS`], weighted by `(1 + ln tf) · idf` with the inverse
//! document frequency of the person's own history and candidates ([`Idf`], kept in the
//! next-watch model's card so that training and ranking weigh alike), and L2-normalised:
//! two texts compare by the dot product of their [`LexicalVector`]s.

use anyhow::{bail, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The hashed space's size.
pub const BUCKETS: u32 = 1 << 18;
/// Names the grams, the hash and the space: a card made with another view is refused.
pub const VIEW: &str = "grams-2-4/fnv1a/262144/v1";
const MIN_GRAM: usize = 2;
const MAX_GRAM: usize = 4;

/// What a character is to the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A letter, digit or mark of a script with spaces between words.
    Word,
    /// A character of a script without spaces between words.
    Unspaced,
    /// An emoji or other pictograph: a gram of its own.
    Symbol,
    /// Space, punctuation: ends a run.
    Separator,
    /// Joiners and variation selectors: part of nothing, ending nothing.
    Ignored,
}

fn class(c: char) -> Class {
    let u = c as u32;
    match u {
        0x200B..=0x200D | 0x2060 | 0xFE00..=0xFE0F | 0xFEFF | 0xE0020..=0xE007F | 0x00AD => Class::Ignored,
        0x1F3FB..=0x1F3FF => Class::Ignored, // skin tones
        // Thai, Lao, Tibetan, Myanmar, Khmer.
        0x0E00..=0x0EFF | 0x0F00..=0x0FFF | 0x1000..=0x109F | 0x1780..=0x17FF | 0x19E0..=0x19FF => Class::Unspaced,
        // Kana, Bopomofo, CJK ideographs and their extensions, halfwidth katakana.
        0x3040..=0x30FF | 0x3100..=0x312F | 0x31A0..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF => Class::Unspaced,
        0xF900..=0xFAFF | 0xFF66..=0xFF9F | 0x20000..=0x3134F => Class::Unspaced,
        // Pictographs, dingbats, arrows and other symbols.
        0x2190..=0x21FF | 0x2300..=0x23FF | 0x2460..=0x24FF | 0x25A0..=0x27BF | 0x2B00..=0x2BFF => Class::Symbol,
        0x1F000..=0x1FAFF => Class::Symbol,
        // General punctuation, CJK punctuation, fullwidth ASCII punctuation.
        0x2000..=0x206F | 0x3000..=0x303F | 0xFE30..=0xFE4F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 => Class::Separator,
        0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 => Class::Separator,
        _ if c.is_whitespace() || c.is_ascii_punctuation() || c.is_control() => Class::Separator,
        // Latin-1 punctuation and signs (¡ ¿ « » · § ©…).
        0x00A1..=0x00BF | 0x00D7 | 0x00F7 => Class::Separator,
        _ => Class::Word,
    }
}

/// `c` as the view reads it (one character, or more: lower case may be longer).
fn fold(c: char, out: &mut Vec<char>) {
    match c {
        'İ' | 'I' | 'ı' => out.push('i'),
        _ => out.extend(c.to_lowercase()),
    }
}

/// A text's runs: words (spaced scripts), runs of unspaced script, and single symbols, in
/// order, folded.
fn runs(text: &str) -> Vec<(Class, Vec<char>)> {
    let mut out: Vec<(Class, Vec<char>)> = Vec::new();
    let mut current: Option<(Class, Vec<char>)> = None;
    for c in text.chars() {
        let k = class(c);
        match k {
            Class::Ignored => continue,
            Class::Separator | Class::Symbol => {
                out.extend(current.take());
                if k == Class::Symbol {
                    out.push((k, vec![c]));
                }
            }
            Class::Word | Class::Unspaced => {
                if current.as_ref().is_some_and(|(kind, _)| *kind != k) {
                    out.extend(current.take());
                }
                let run = current.get_or_insert_with(|| (k, Vec::new()));
                fold(c, &mut run.1);
            }
        }
    }
    out.extend(current);
    out
}

/// Calls `each` with every gram of `text`, as characters.
fn for_each_gram(text: &str, mut each: impl FnMut(&[char])) {
    let mut framed = Vec::new();
    for (kind, run) in runs(text) {
        let chars: &[char] = match kind {
            Class::Word => {
                framed.clear();
                framed.push('<');
                framed.extend_from_slice(&run);
                framed.push('>');
                &framed
            }
            _ => &run,
        };
        if kind != Class::Word && chars.len() < MIN_GRAM {
            each(chars);
            continue;
        }
        for n in MIN_GRAM..=MAX_GRAM.min(chars.len()) {
            for gram in chars.windows(n) {
                each(gram);
            }
        }
    }
}

/// Every gram of `text`, in order (repeats kept): what the view reads of it.
pub fn grams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_gram(text, |g| out.push(g.iter().collect()));
    out
}

/// A gram's bucket: FNV-1a over its UTF-8 bytes.
fn bucket(gram: &[char]) -> u32 {
    let mut h: u32 = 0x811C_9DC5;
    let mut buf = [0u8; 4];
    for c in gram {
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h & (BUCKETS - 1)
}

/// The buckets of `text`'s grams, each with its count, by bucket.
fn counts(text: &str) -> Vec<(u32, u32)> {
    let mut buckets = Vec::with_capacity(text.len() * 3);
    for_each_gram(text, |g| buckets.push((bucket(g), 1)));
    summed_by_bucket(buckets)
}

/// `pairs` sorted by bucket, those of one bucket summed into one.
fn summed_by_bucket<T: Copy + std::ops::AddAssign>(mut pairs: Vec<(u32, T)>) -> Vec<(u32, T)> {
    pairs.sort_unstable_by_key(|&(b, _)| b);
    let mut out: Vec<(u32, T)> = Vec::with_capacity(pairs.len());
    for (b, x) in pairs {
        match out.last_mut() {
            Some((last, sum)) if *last == b => *sum += x,
            _ => out.push((b, x)),
        }
    }
    out
}

/// Weights by bucket scaled to unit length (none stay none).
fn unit(mut weights: Vec<(u32, f32)>) -> LexicalVector {
    let norm = weights.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        weights.iter_mut().for_each(|(_, w)| *w /= norm);
    }
    LexicalVector(weights)
}

/// The text of a video or watch as the view reads it: its title and its channel.
pub fn text_of(title: &str, channel: Option<&str>) -> String {
    match channel {
        Some(c) if !c.is_empty() => format!("{title}\n{c}"),
        _ => title.to_string(),
    }
}

/// A text's weighted grams: (bucket, weight) by bucket, at unit length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LexicalVector(Vec<(u32, f32)>);

impl LexicalVector {
    /// The cosine of two texts (both at unit length; an empty text is 0 to all).
    pub fn dot(&self, other: &LexicalVector) -> f32 {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j, mut sum) = (0, 0, 0f32);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The sum of `vectors` at unit length: their shared vocabulary, each text's weight
    /// equal (an empty sum is empty).
    pub fn unit_sum<'a>(vectors: impl IntoIterator<Item = &'a LexicalVector>) -> LexicalVector {
        unit(summed_by_bucket(vectors.into_iter().flat_map(|v| v.0.iter().copied()).collect()))
    }
}

/// Several texts in the lexical view, indexed by bucket so that one candidate is compared
/// with all of them in one pass over its own grams: a feed compares 10,000 candidates with
/// the last watches and their profile, whose thousands of buckets a merge would walk for
/// every candidate.
#[derive(Debug, Clone, Default)]
pub struct LexicalIndex {
    /// Bucket → its run in `weights`.
    runs: std::collections::HashMap<u32, (u32, u32), BucketHash>,
    /// (text, weight) runs, each text's weight for that bucket.
    weights: Vec<(u16, f32)>,
    texts: usize,
}

impl LexicalIndex {
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a LexicalVector>) -> LexicalIndex {
        let mut all: Vec<(u32, u16, f32)> = Vec::new();
        let mut count = 0usize;
        for (k, v) in texts.into_iter().enumerate() {
            all.extend(v.0.iter().map(|&(b, w)| (b, k as u16, w)));
            count = k + 1;
        }
        assert!(count <= usize::from(u16::MAX), "an index holds at most 65,535 texts");
        all.sort_unstable_by_key(|&(b, k, _)| (b, k));
        let mut runs = std::collections::HashMap::with_capacity_and_hasher(all.len(), BucketHash);
        let mut weights = Vec::with_capacity(all.len());
        for (b, k, w) in all {
            let run = runs.entry(b).or_insert((weights.len() as u32, 0));
            run.1 += 1;
            weights.push((k, w));
        }
        LexicalIndex { runs, weights, texts: count }
    }

    /// The cosine of `c` with each text, in the order given (the same sums, in the same
    /// order, as [`LexicalVector::dot`]).
    pub fn dots(&self, c: &LexicalVector, out: &mut [f32]) {
        assert_eq!(out.len(), self.texts, "one cosine per text");
        out.fill(0.0);
        for (b, w) in &c.0 {
            if let Some(&(start, len)) = self.runs.get(b) {
                for &(k, v) in &self.weights[start as usize..(start + len) as usize] {
                    out[usize::from(k)] += v * w;
                }
            }
        }
    }
}

/// Buckets are hashes already; one multiplication spreads them over the table's bits.
#[derive(Debug, Clone, Copy, Default)]
struct BucketHash;

impl std::hash::BuildHasher for BucketHash {
    type Hasher = BucketHasher;
    fn build_hasher(&self) -> BucketHasher {
        BucketHasher(0)
    }
}

#[derive(Debug, Clone, Copy)]
struct BucketHasher(u64);

impl std::hash::Hasher for BucketHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, b: u32) {
        self.0 = u64::from(b).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// How many of the documents hold each bucket: the view's inverse document frequencies.
/// Built from the person's own history and candidates, each video once.
#[derive(Debug, Clone, PartialEq)]
pub struct Idf {
    documents: u32,
    df: Vec<u32>,
}

impl Idf {
    /// The frequencies of `texts` (one per video). A gram in a single document is kept
    /// as if unseen: the card keeps only what two documents share, and training weighs
    /// with exactly what the card keeps.
    pub fn fit<'a>(texts: impl IntoIterator<Item = &'a str>) -> Idf {
        let mut df = vec![0u32; BUCKETS as usize];
        let mut documents = 0u32;
        for text in texts {
            documents += 1;
            for (b, _) in counts(text) {
                df[b as usize] += 1;
            }
        }
        for d in &mut df {
            if *d < 2 {
                *d = 0;
            }
        }
        Idf { documents, df }
    }

    pub fn documents(&self) -> u32 {
        self.documents
    }

    /// A bucket's weight: `ln((1 + N) / (1 + df)) + 1` (scikit-learn's smoothed IDF).
    fn idf(&self, bucket: u32) -> f32 {
        ((1.0 + self.documents as f32) / (1.0 + self.df[bucket as usize] as f32)).ln() + 1.0
    }

    /// `text`'s vector.
    pub fn vector(&self, text: &str) -> LexicalVector {
        unit(counts(text).into_iter().map(|(b, n)| (b, (1.0 + (n as f32).ln()) * self.idf(b))).collect())
    }

    /// The compact form the card keeps: the buckets two or more documents hold, as
    /// varint gaps and counts, base64.
    pub fn to_card(&self) -> IdfCard {
        let mut bytes = Vec::new();
        let mut last = 0u32;
        for (b, &d) in self.df.iter().enumerate().filter(|(_, &d)| d > 0) {
            varint(&mut bytes, b as u32 - last);
            varint(&mut bytes, d);
            last = b as u32;
        }
        IdfCard { view: VIEW.into(), documents: self.documents, frequencies: BASE64.encode(&bytes) }
    }

    pub fn from_card(card: &IdfCard) -> Result<Idf> {
        if card.view != VIEW {
            bail!("its lexical view is {:?}, this vrd reads {VIEW:?} (retrain)", card.view);
        }
        let bytes = BASE64
            .decode(&card.frequencies)
            .map_err(|e| anyhow::anyhow!("its lexical frequencies are not base64 ({e})"))?;
        let mut df = vec![0u32; BUCKETS as usize];
        let (mut at, mut bucket, mut first) = (0usize, 0u32, true);
        while at < bytes.len() {
            let gap = read_varint(&bytes, &mut at)?;
            let count = read_varint(&bytes, &mut at)?;
            bucket = bucket.checked_add(gap).filter(|&b| b < BUCKETS && (first || gap > 0)).ok_or_else(|| {
                anyhow::anyhow!("its lexical frequencies are corrupt (bucket past {BUCKETS} or out of order)")
            })?;
            if count > card.documents {
                bail!("its lexical frequencies are corrupt (a count above the {} documents)", card.documents);
            }
            df[bucket as usize] = count;
            first = false;
        }
        Ok(Idf { documents: card.documents, df })
    }
}

/// The view's statistics as a model card keeps them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdfCard {
    /// [`VIEW`].
    pub view: String,
    /// The documents (videos) counted.
    pub documents: u32,
    /// The document frequencies: for each bucket two or more documents hold, in order, the
    /// gap from the last one and the count, each an LEB128 varint; base64 (standard).
    pub frequencies: String,
}

/// The card's base64: standard, padded.
const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7F) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Result<u32> {
    let mut v: u64 = 0;
    for shift in (0..35).step_by(7) {
        let Some(&b) = bytes.get(*at) else { bail!("its lexical frequencies end inside a number") };
        *at += 1;
        v |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return u32::try_from(v).map_err(|_| anyhow::anyhow!("its lexical frequencies hold a number too large"));
        }
    }
    bail!("its lexical frequencies hold a number too long")
}

/// The longest run of words (in scripts without spaces, of characters) that `a` and `b`
/// share, as `a` writes it, if it says something: two words or more, one word of four
/// characters or more, or two characters or more of a script without spaces.
pub fn shared_phrase(a: &str, b: &str) -> Option<String> {
    let (ta, tb) = (tokens(a), tokens(b));
    let (mut best, mut best_len) = (None, 0usize);
    // Longest common substring over tokens (titles are short: quadratic is fine).
    let mut prev = vec![0usize; tb.len() + 1];
    for i in 0..ta.len() {
        let mut row = vec![0usize; tb.len() + 1];
        for j in 0..tb.len() {
            if ta[i].folded == tb[j].folded {
                row[j + 1] = prev[j] + 1;
                let k = row[j + 1];
                let chars: usize = ta[i + 1 - k..=i].iter().map(|t| t.folded.chars().count()).sum();
                if chars > best_len {
                    (best, best_len) = (Some((i + 1 - k, i)), chars);
                }
            }
        }
        prev = row;
    }
    let (first, last) = best?;
    let run = &ta[first..=last];
    let unspaced = run.iter().all(|t| t.unspaced);
    let says_something = match unspaced {
        true => run.len() >= 2,
        false => run.iter().filter(|t| !t.unspaced).count() >= 2 || best_len >= 4,
    };
    says_something.then(|| a[run[0].start..run[run.len() - 1].end].to_string())
}

/// A word, or one character of a script without spaces, with where it stands in the text.
struct Token {
    folded: String,
    start: usize,
    end: usize,
    unspaced: bool,
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut word: Option<Token> = None;
    for (at, c) in text.char_indices() {
        let end = at + c.len_utf8();
        let mut folded = Vec::new();
        fold(c, &mut folded);
        match class(c) {
            Class::Word => {
                let w = word.get_or_insert_with(|| Token { folded: String::new(), start: at, end, unspaced: false });
                w.folded.extend(folded);
                w.end = end;
            }
            Class::Ignored => {}
            kind => {
                out.extend(word.take());
                if kind == Class::Unspaced {
                    out.push(Token { folded: folded.into_iter().collect(), start: at, end, unspaced: true });
                }
            }
        }
    }
    out.extend(word);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(text: &str) -> Vec<String> {
        grams(text)
    }

    #[test]
    fn words_give_their_framed_grams() {
        assert_eq!(g("Ep 12"), ["<e", "ep", "p>", "<ep", "ep>", "<ep>", "<1", "12", "2>", "<12", "12>", "<12>"]);
        assert_eq!(g("a!"), ["<a", "a>", "<a>"]);
    }

    #[test]
    fn turkish_folds_its_dotted_and_dotless_i() {
        assert_eq!(g("KARIŞIK"), g("karışık"));
        assert_eq!(g("İstanbul"), g("istanbul"));
        assert_eq!(g("Işık")[..3], ["<i", "iş", "şi"]);
    }

    #[test]
    fn chinese_japanese_and_thai_give_plain_grams() {
        assert_eq!(g("你好世界"), ["你好", "好世", "世界", "你好世", "好世界", "你好世界"]);
        assert_eq!(g("新闻"), ["新闻"]);
        assert_eq!(g("台"), ["台"]);
        // Thai vowel and tone marks are characters of the run.
        assert_eq!(g("ข่าว"), ["ข่", "่า", "าว", "ข่า", "่าว", "ข่าว"]);
        // A space or punctuation ends a run; digits inside are a word of their own.
        assert_eq!(g("第12集"), ["第", "<1", "12", "2>", "<12", "12>", "<12>", "集"]);
        assert_eq!(g("新闻，直播"), ["新闻", "直播"]);
    }

    #[test]
    fn korean_is_spaced_and_emoji_stand_alone() {
        assert_eq!(
            g("김치 찌개"),
            ["<김", "김치", "치>", "<김치", "김치>", "<김치>", "<찌", "찌개", "개>", "<찌개", "찌개>", "<찌개>"]
        );
        // A skin tone and the variation selector are part of nothing.
        assert_eq!(g("🎮👍🏽 ❤️"), ["🎮", "👍", "❤"]);
        assert_eq!(g("go🚀"), ["<g", "go", "o>", "<go", "go>", "<go>", "🚀"]);
    }

    #[test]
    fn vectors_compare_what_titles_share() {
        let titles =
            ["Minecraft Hardcore Ep 12", "Minecraft Hardcore Ep 13", "Sourdough bread at home", "ข่าวเช้า ตอนที่ 5"];
        let idf = Idf::fit(titles.iter().copied().chain(["ข่าวเช้า ตอนที่ 6", "bread"]));
        let v: Vec<LexicalVector> = titles.iter().map(|t| idf.vector(t)).collect();
        assert!((v[0].dot(&v[0]) - 1.0).abs() < 1e-5);
        assert!(v[0].dot(&v[1]) > 0.7, "{}", v[0].dot(&v[1]));
        assert!(v[0].dot(&v[2]) < 0.2, "a few grams in common: {}", v[0].dot(&v[2]));
        assert!(idf.vector("ข่าวเช้า ตอนที่ 6").dot(&v[3]) > 0.7);
        assert_eq!(idf.vector("").dot(&v[0]), 0.0);
    }

    #[test]
    fn an_index_gives_every_texts_cosine_as_a_dot_would() {
        let titles = ["Minecraft Ep 1", "Minecraft Ep 2", "bread at home", "台灣 新聞", "", "新聞 today"];
        let idf = Idf::fit(titles.iter().copied().chain(["bread rolls", "台灣"]));
        let v: Vec<LexicalVector> = titles.iter().map(|t| idf.vector(t)).collect();
        let index = LexicalIndex::new(&v);
        let mut out = vec![9.0; v.len()];
        for c in ["Minecraft Ep 3", "台灣 新聞 today", "nothing shared", ""] {
            let c = idf.vector(c);
            index.dots(&c, &mut out);
            let expected: Vec<f32> = v.iter().map(|t| t.dot(&c)).collect();
            assert_eq!(out, expected, "exactly, the same sums in the same order");
        }
        assert!(out.iter().all(|&x| x == 0.0));
        LexicalIndex::new([]).dots(&v[0], &mut []);
    }

    #[test]
    fn a_profile_is_the_unit_sum_of_its_texts() {
        let idf = Idf::fit(["Minecraft Ep 1", "Minecraft Ep 2", "bread at home", "bread rolls"]);
        let (a, b) = (idf.vector("Minecraft Ep 1"), idf.vector("bread at home"));
        let profile = LexicalVector::unit_sum([&a, &b]);
        assert!((profile.dot(&profile) - 1.0).abs() < 1e-5);
        // Each text's cosine to the sum of two unit vectors is (1 + a·b) / |a + b|.
        let expected = (1.0 + a.dot(&b)) / (2.0 + 2.0 * a.dot(&b)).sqrt();
        assert!((profile.dot(&a) - expected).abs() < 1e-5, "{} vs {expected}", profile.dot(&a));
        assert!((profile.dot(&b) - expected).abs() < 1e-5);
        assert!((LexicalVector::unit_sum([&a]).dot(&a) - 1.0).abs() < 1e-5, "one text's profile is that text");
        assert!(LexicalVector::unit_sum([]).is_empty());
    }

    #[test]
    fn the_card_keeps_the_frequencies_exactly() {
        let idf = Idf::fit(["a b c", "a b", "a", "台灣 新聞", "台灣"]);
        let card = idf.to_card();
        assert_eq!(Idf::from_card(&card).unwrap(), idf);
        let mut bad = card.clone();
        bad.view = "other".into();
        assert!(Idf::from_card(&bad).unwrap_err().to_string().contains("lexical view"));
        bad = card.clone();
        bad.frequencies.push_str("!!");
        assert!(Idf::from_card(&bad).is_err());
        // Standard padded base64, as the card's format says.
        assert!(card.frequencies.len().is_multiple_of(4) && !card.frequencies.is_empty(), "{}", card.frequencies);
        let alphabet = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
        assert!(card.frequencies.chars().all(alphabet), "{}", card.frequencies);
    }

    #[test]
    fn the_shared_phrase_is_said_as_the_candidate_writes_it() {
        assert_eq!(
            shared_phrase("MINECRAFT Hardcore Ep 13: the end", "Minecraft Hardcore Ep 12").as_deref(),
            Some("MINECRAFT Hardcore Ep")
        );
        assert_eq!(shared_phrase("ข่าวเช้า ตอนที่ 6", "ข่าวเช้า ตอนที่ 5").as_deref(), Some("ข่าวเช้า ตอนที่"));
        assert_eq!(shared_phrase("台灣新聞直播", "今日新聞直播").as_deref(), Some("新聞直播"));
        assert_eq!(shared_phrase("a day at the zoo", "the cat"), None, "one short word says nothing");
        assert_eq!(shared_phrase("abc", "xyz"), None);
    }
}
