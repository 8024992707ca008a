//! The next-watch features: what the model sees of a candidate at a moment. Their names
//! and order are the contract between training (`vrd_next_watch_torch::training`) and ranking (vrd-rank); the
//! card stores the names, and a model whose names differ is refused.

use vrd_core::time::Timestamp;
use vrd_ranking::lexical::LexicalVector;

/// Declares the features once: [`Feature`] (an index by name) and [`FEATURES`] (the names,
/// in the order [`super::past::Moment::features`] fills them), so that the two cannot drift.
macro_rules! features {
    ($($(#[$doc:meta])* $id:ident = $name:literal,)*) => {
        /// A feature's place in [`Features`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Feature {
            $($(#[$doc])* $id,)*
        }

        /// The feature names, in [`Feature`] order.
        pub const FEATURES: [&str; [$($name),*].len()] = [$($name),*];
    };
}

features! {
    // The candidate against the recent watches one by one (late fusion).
    SimLast = "sim_last",
    SimMaxLast10 = "sim_max_last10",
    SimTop3Last50 = "sim_top3_last50",
    // Against the recency-weighted taste profile (the cold start's).
    SimProfile = "sim_profile",
    // The person's interests (online clusters of the history, weights decaying with time).
    InterestBestCos = "interest_best_cos",
    InterestBestShare = "interest_best_share",
    InterestMix = "interest_mix",
    // Channel repeat with recency.
    ChannelDecayedLog = "channel_decayed_log",
    ChannelCountLog = "channel_count_log",
    ChannelDaysSinceLog = "channel_days_since_log",
    ChannelNew = "channel_new",
    ChannelShareLast5 = "channel_share_last5",
    ChannelSameAsLast = "channel_same_as_last",
    // The session.
    SessionSim = "session_sim",
    SessionActive = "session_active",
    // Time of day and day of week crossed with the candidate.
    HourAffinity = "hour_affinity",
    WeekdayAffinity = "weekday_affinity",
    ChannelHourLift = "channel_hour_lift",
    // The upload's age at the moment.
    UploadAgeLogDays = "upload_age_log_days",
    UploadAgeKnown = "upload_age_known",
    // The cold start's channel familiarity.
    ChannelFamiliarity = "channel_familiarity",
    // The candidate against the recent watches weighted by how recent they are: the topic
    // of the last hours, of the last days, and how long since a watch like it.
    SimDecayedHours = "sim_decayed_hours",
    SimDecayedDays = "sim_decayed_days",
    TopicDaysSinceLog = "topic_days_since_log",
    // The person's searches before the moment: the candidate against the last week's
    // queries, and against the latest ones weighted by how recent they are.
    SearchBestWeek = "search_best_week",
    SearchRecent = "search_recent",
    // The apps of the hour before (where the timeline covers the moment): the candidate
    // against what the person watched after the same apps, beyond the fortnight's usual,
    // and whether there was any such watch.
    ActivityAffinity = "activity_affinity",
    ActivityKnown = "activity_known",
    // The lexical view (`vrd_ranking::lexical`): the grams the candidate's title and channel
    // share with the last watch's, the best of the last 10, the last 50's vocabulary and
    // the last week's searches (where the English encoder sees unknown pieces, a series'
    // name still matches).
    LexLast = "lex_last",
    LexMaxLast10 = "lex_max_last10",
    LexProfile = "lex_profile",
    LexSearchWeek = "lex_search_week",
}

pub type Features = [f32; FEATURES.len()];

impl Feature {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        FEATURES[self.index()]
    }
}

impl std::ops::Index<Feature> for Features {
    type Output = f32;
    fn index(&self, f: Feature) -> &f32 {
        &self[f.index()]
    }
}

impl std::ops::IndexMut<Feature> for Features {
    fn index_mut(&mut self, f: Feature) -> &mut f32 {
        &mut self[f.index()]
    }
}

/// A candidate as the features see it.
pub struct Candidate<'a> {
    /// Its media embedding (any length; taken at unit length).
    pub embedding: &'a [f32],
    /// Its title and channel in the lexical view (none: the model has no lexical view, and
    /// the lexical features read 0).
    pub lexical: Option<&'a LexicalVector>,
    /// Its channel key ([`channel_key`]).
    pub channel: Option<&'a str>,
    pub published_at: Option<Timestamp>,
}

/// The key a channel is counted under: its id where known, else its name. Watches and
/// candidates must use the same, so both go through here.
pub fn channel_key<'a>(channel_id: Option<&'a str>, channel: Option<&'a str>) -> Option<&'a str> {
    channel_id.filter(|c| !c.is_empty()).or(channel.filter(|c| !c.is_empty()))
}
