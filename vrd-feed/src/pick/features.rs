//! The next-watch features: what the model sees of a candidate at a moment. Their names
//! and order are the contract between training (vrd-training) and ranking (vrd-rank); the
//! card stores the names, and a model whose names differ is refused.

use vrd_core::time::Timestamp;

/// The feature names, in the order [`super::past::Moment::features`] fills them.
pub const FEATURES: [&str; 26] = [
    // The candidate against the recent watches one by one (late fusion).
    "sim_last",
    "sim_max_last10",
    "sim_top3_last50",
    // Against the recency-weighted taste profile (the cold start's).
    "sim_profile",
    // The person's interests (online clusters of the history, weights decaying with time).
    "interest_best_cos",
    "interest_best_share",
    "interest_mix",
    // Channel repeat with recency.
    "channel_decayed_log",
    "channel_count_log",
    "channel_days_since_log",
    "channel_new",
    "channel_share_last5",
    "channel_same_as_last",
    // The session.
    "session_sim",
    "session_active",
    // Time of day and day of week crossed with the candidate.
    "hour_affinity",
    "weekday_affinity",
    "channel_hour_lift",
    // The upload's age at the moment.
    "upload_age_log_days",
    "upload_age_known",
    // The cold start's channel familiarity.
    "channel_familiarity",
    // The candidate against the recent watches weighted by how recent they are: the topic
    // of the last hours, of the last days, and how long since a watch like it.
    "sim_decayed_hours",
    "sim_decayed_days",
    "topic_days_since_log",
    // The person's searches before the moment: the candidate against the last week's
    // queries, and against the latest ones weighted by how recent they are.
    "search_best_week",
    "search_recent",
];

pub type Features = [f32; FEATURES.len()];

/// The index of a feature by name.
pub fn index(name: &str) -> Option<usize> {
    FEATURES.iter().position(|&n| n == name)
}

/// A candidate as the features see it.
pub struct Candidate<'a> {
    /// Its media embedding (any length; taken at unit length).
    pub embedding: &'a [f32],
    /// Its channel key ([`channel_key`]).
    pub channel: Option<&'a str>,
    pub published_at: Option<Timestamp>,
}

/// The key a channel is counted under: its id where known, else its name. Watches and
/// candidates must use the same, so both go through here.
pub fn channel_key<'a>(channel_id: Option<&'a str>, channel: Option<&'a str>) -> Option<&'a str> {
    channel_id.filter(|c| !c.is_empty()).or(channel.filter(|c| !c.is_empty()))
}
