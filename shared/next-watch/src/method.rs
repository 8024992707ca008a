//! The names of the next-watch model's methods, one enum for every place that names one:
//! the card's `chosen` and `selection`, the folds' report, `vrd-train`'s log, the page and
//! the benchmark's ranks.

use super::features::Feature;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The model as it ships (whichever scorer was chosen).
    Model,
    /// The one-layer network beside the regression.
    Network,
    /// The listwise regression.
    Regression,
    /// The early-fusion contender (the encoder over the candidate's text).
    Fusion,
    /// One feature alone.
    Signal(Feature),
    /// The cold start's taste profile, as vrd-rank --cold-start ranks (the benchmark).
    ColdStart,
    /// Both similarities to the last watch summed (the benchmark).
    SimPlusLexLast,
    /// The channel watched most lately first, new channels last (the benchmark).
    ChannelRecency,
    /// Every candidate alike (the benchmark).
    Chance,
}

impl Method {
    /// The name in the card and the reports: a signal as `signal:FEATURE`.
    pub fn key(self) -> String {
        match self {
            Method::Signal(feature) => format!("signal:{}", feature.name()),
            other => other.bench_key().to_string(),
        }
    }

    /// The name in the benchmark's ranks (`vrd-train next-watch`, which
    /// `scripts/next_watch_report.py` reads): a signal by its feature alone.
    pub fn bench_key(self) -> &'static str {
        match self {
            Method::Signal(feature) => feature.name(),
            Method::Model => "model",
            Method::Network => "network",
            Method::Regression => "regression",
            Method::Fusion => "fusion",
            Method::ColdStart => "cold_start",
            Method::SimPlusLexLast => "sim_plus_lex_last",
            Method::Chance => "chance",
            Method::ChannelRecency => "channel_recency",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_is_named_by_its_feature() {
        assert_eq!(Method::Signal(Feature::SimLast).key(), "signal:sim_last");
        assert_eq!(Method::Signal(Feature::SimLast).bench_key(), "sim_last");
        assert_eq!(Method::Signal(Feature::ChannelDecayedLog).key(), "signal:channel_decayed_log");
        assert_eq!(Method::ChannelRecency.bench_key(), "channel_recency");
        assert_eq!(Method::Regression.key(), Method::Regression.bench_key());
    }
}
