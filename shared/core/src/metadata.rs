//! A video's metadata as model columns: its channel, category and tags hashed into a fixed
//! number of buckets, as a bag of unit length (the same length as the media embedding it is
//! set beside). One owner for the answers' model's training rows and its ranking's
//! candidates (vrd-answers), so both cut a video the same way.
//!
//! Why: the text embedding blurs what a person picks by (the channel, the genre). On
//! MovieLens interest a regression on the embedding reached 0.604 held-out ROC-AUC, 0.622
//! with the genres as such a bag beside it (`scripts/bench-ceiling`, BENCHMARKS.md).

use crate::context::bucket_of;
use crate::records::Video;

/// Buckets of the bag in a model trained now (its card records the count it used).
pub const METADATA_BUCKETS: usize = 64;

/// The terms a video is known by: channel (its id, else its name), category, tags;
/// lowercased, each once.
pub fn terms(video: &Video) -> Vec<String> {
    let channel = video.channel_id.as_deref().or(video.channel.as_deref());
    let named = [("channel", channel), ("category", video.category.as_deref())].into_iter();
    let tags = video.tags.iter().map(|t| ("tag", Some(t.as_str())));
    let mut terms: Vec<String> = named
        .chain(tags)
        .filter_map(|(kind, value)| {
            let value = value?.trim().to_lowercase();
            (!value.is_empty()).then(|| format!("{kind}:{value}"))
        })
        .collect();
    terms.sort();
    terms.dedup();
    terms
}

/// The video's bag over `buckets` columns: each term's bucket gets 1/√(terms), so the bag
/// has unit length (colliding terms add); all zero without terms or buckets.
pub fn bag(video: &Video, buckets: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; buckets];
    let terms = terms(video);
    if buckets == 0 || terms.is_empty() {
        return out;
    }
    let value = 1.0 / (terms.len() as f32).sqrt();
    for term in &terms {
        // bucket_of leaves 0 for padding; the bag uses every column.
        out[(bucket_of(term, buckets + 1) - 1) as usize] += value;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(json: &str) -> Video {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn terms_come_from_channel_category_and_tags_once_each() {
        let v = video(
            r#"{"video_id":"a","title":"t","channel":"Let's Get Rusty","category":"Education","tags":["Rust"," rust ","","async"]}"#,
        );
        assert_eq!(terms(&v), ["category:education", "channel:let's get rusty", "tag:async", "tag:rust"]);
        let by_id = video(r#"{"video_id":"a","title":"t","channel":"Name","channel_id":"UC123"}"#);
        assert_eq!(terms(&by_id), ["channel:uc123"], "the id outlives a renamed channel");
        assert!(terms(&video(r#"{"video_id":"a","title":"t"}"#)).is_empty());
    }

    #[test]
    fn the_bag_has_unit_length_and_is_the_same_for_the_same_terms() {
        let a = video(r#"{"video_id":"a","title":"t","tags":["Drama","War"]}"#);
        let b = video(r#"{"video_id":"b","title":"other","tags":["war","drama"]}"#);
        let bag_a = bag(&a, METADATA_BUCKETS);
        assert_eq!(bag_a, bag(&b, METADATA_BUCKETS), "tags in any order and case");
        // Two terms in two buckets (these two do not collide at 64).
        assert_eq!(bag_a.iter().filter(|x| **x > 0.0).count(), 2);
        let norm: f32 = bag_a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6, "{norm}");
        assert_eq!(bag(&video(r#"{"video_id":"c","title":"t"}"#), 8), vec![0.0; 8]);
        assert!(bag(&a, 0).is_empty());
        let comedy = video(r#"{"video_id":"d","title":"t","tags":["Comedy"]}"#);
        assert_ne!(bag(&comedy, METADATA_BUCKETS), bag_a);
    }
}
