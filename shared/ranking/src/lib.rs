//! Ranking that needs no model, shared by the tools that make or show a feed (vrd-rank,
//! and vrd-label's page): which candidates a feed is made of and how an item becomes a
//! feed line (`candidates`), the cold-start feed (`cold_start`), the videos most like one
//! (`like`), how scores become a varied feed (`ordering`: the blend of the two
//! probabilities, freshness, maximal marginal relevance with a per-channel cap), what the
//! feeds served did (`served`), and the lexical view of titles beside the embeddings
//! (`lexical`: the grams two titles share, in any script). No libtorch: the embeddings are
//! read from vrd-encode's files. The next-watch model that ranks over these is
//! `vrd-next-watch`.

pub mod candidates;
pub mod cold_start;
pub mod lexical;
pub mod like;
pub mod ordering;
pub mod served;
pub mod words;

/// What the unit tests of every module build their cases from.
#[cfg(test)]
#[path = "../../test-support/records.rs"]
mod test_support;
