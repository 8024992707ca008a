//! One activity entry of a Takeout history, whichever form it was read from (JSON or
//! HTML), and the verb its title starts with in the account's language.

use std::borrow::Cow;
use vrd_core::time::Timestamp;

/// One activity entry, whatever file it came from. The JSON form's strings are borrowed
/// from the file's text where they have no escapes (most do not): a 100k-entry history is
/// then read with a few allocations an entry instead of a dozen.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEntry<'a> {
    /// "YouTube" or "YouTube Music".
    pub header: Option<Cow<'a, str>>,
    /// The title without the leading verb.
    pub title: Cow<'a, str>,
    pub title_url: Option<Cow<'a, str>>,
    pub channel: Option<Cow<'a, str>>,
    pub channel_url: Option<Cow<'a, str>>,
    pub time: Timestamp,
    pub is_ad: bool,
    /// `takeout-json`, `takeout-html`, `takeout-json-legacy`.
    pub source: &'static str,
}

/// Title verbs by account language ("Watched X" in English).
const VERBS: &[&str] = &["Watched ", "Has visto ", "Vous avez regardé ", "Angesehen: ", "Hai guardato ", "Assistiu a "];

pub fn strip_verb(title: &str) -> &str {
    let t = title.trim();
    VERBS.iter().find_map(|v| t.strip_prefix(v)).unwrap_or(t).trim()
}
