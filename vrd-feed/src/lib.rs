//! Ranking that needs no model, shared by the tools that make or show a feed (vrd-rank,
//! and vrd-label's page): which candidates a feed is made of and how an item becomes a
//! feed line (`candidates`), the cold-start feed (`cold_start`), the videos most like one
//! (`like`), and how scores become a varied feed (`ordering`: the blend of the two
//! probabilities, freshness, maximal marginal relevance with a per-channel cap). No
//! libtorch: the embeddings are read from vrd-encode's files.

pub mod candidates;
pub mod cold_start;
pub mod like;
pub mod ordering;
