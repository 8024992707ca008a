//! The person's category rules, in ActivityWatch's settings format (`classes`: a list of
//! `{name: [...], rule: {type: "regex", regex, ignore_case, select_keys}}`), applied the
//! way aw-core's `categorize` does: every matching rule counts and the deepest category
//! wins (the later rule on equal depth); no match is `["Uncategorized"]`.

use crate::Event;
use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategorySpec {
    pub name: Vec<String>,
    pub rule: RuleSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleSpec {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_keys: Option<Vec<String>>,
}

pub struct Categorizer {
    rules: Vec<CompiledRule>,
}

struct CompiledRule {
    name: Vec<String>,
    regex: Option<fancy_regex::Regex>,
    select_keys: Option<Vec<String>>,
}

impl Categorizer {
    pub fn new(specs: &[CategorySpec]) -> Result<Categorizer> {
        let rules = specs
            .iter()
            .map(|s| {
                // As aw-core: a non-empty regex is used whatever the rule's type says.
                let regex = match &s.rule.regex {
                    Some(r) if !r.is_empty() => {
                        let pattern = if s.rule.ignore_case { format!("(?i){r}") } else { r.clone() };
                        Some(
                            fancy_regex::Regex::new(&pattern)
                                .map_err(|e| anyhow!("category {:?}: invalid regex {r:?}: {e}", s.name))?,
                        )
                    }
                    _ => None, // rules without a regex never match
                };
                Ok(CompiledRule { name: s.name.clone(), regex, select_keys: s.rule.select_keys.clone() })
            })
            .collect::<Result<_>>()?;
        Ok(Categorizer { rules })
    }

    /// Reads rules from a JSON file: the `classes` setting as exported by the web UI.
    pub fn from_file(path: &Path) -> Result<Vec<CategorySpec>> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{}: not a list of category rules", path.display()))
    }

    pub fn categorize(&self, events: &mut [Event]) {
        for e in events {
            let mut best: Vec<String> = vec!["Uncategorized".into()];
            for rule in &self.rules {
                if matches(rule.regex.as_ref(), rule.select_keys.as_deref(), e) && rule.name.len() >= best.len() {
                    best = rule.name.clone();
                }
            }
            e.data.insert("$category".into(), Value::from(best));
        }
    }
}

fn matches(regex: Option<&fancy_regex::Regex>, keys: Option<&[String]>, e: &Event) -> bool {
    let Some(regex) = regex else { return false };
    let hit = |v: &Value| v.as_str().is_some_and(|s| regex.is_match(s).unwrap_or(false));
    match keys {
        Some(keys) => keys.iter().filter_map(|k| e.data.get(k)).any(hit),
        None => e.data.values().any(hit),
    }
}

/// aw-client's default rules, used when neither the server nor a file provides any.
pub fn default_rules() -> Vec<CategorySpec> {
    let rule = |name: &[&str], regex: &str, ignore_case: bool| CategorySpec {
        name: name.iter().map(|s| s.to_string()).collect(),
        rule: RuleSpec { kind: "regex".into(), regex: Some(regex.into()), ignore_case, select_keys: None },
    };
    vec![
        rule(&["Work"], "Google Docs|libreoffice|ReText", false),
        rule(&["Work", "Programming"], "GitHub|Stack Overflow|BitBucket|Gitlab|vim|Spyder|kate|Ghidra|Scite", false),
        rule(&["Work", "Programming", "ActivityWatch"], "ActivityWatch|aw-", true),
        rule(&["Work", "Image"], "Gimp|Inkscape", false),
        rule(&["Work", "Video"], "Kdenlive", false),
        rule(&["Work", "Audio"], "Audacity", false),
        rule(&["Work", "3D"], "Blender", false),
        rule(&["Media", "Games"], "Minecraft|RimWorld", false),
        rule(&["Media", "Video"], "YouTube|Plex|VLC", false),
        rule(&["Media", "Social Media"], "reddit|Facebook|Twitter|Instagram|devRant", true),
        rule(&["Media", "Music"], "Spotify|Deezer", true),
        rule(&["Comms", "IM"], "Messenger|Telegram|Signal|WhatsApp|Rambox|Slack|Riot|Discord|Nheko", false),
        rule(&["Comms", "Email"], "Gmail|Thunderbird|mutt|alpine", false),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deepest_category_wins_and_case_rules_apply() {
        let c = Categorizer::new(&default_rules()).unwrap();
        let mut evs: Vec<Event> = [
            json!({"app": "firefox", "title": "vrd - GitHub"}),
            json!({"app": "firefox", "title": "aw-server issues - GitHub"}),
            json!({"app": "spotify", "title": "Music"}),
            json!({"app": "xterm", "title": "bash"}),
        ]
        .into_iter()
        .map(|d| Event { start_us: 0, duration_us: 1, data: d.as_object().unwrap().clone() })
        .collect();
        c.categorize(&mut evs);
        let cats: Vec<Value> = evs.iter().map(|e| e.data["$category"].clone()).collect();
        assert_eq!(cats[0], json!(["Work", "Programming"]));
        assert_eq!(cats[1], json!(["Work", "Programming", "ActivityWatch"]));
        assert_eq!(cats[2], json!(["Media", "Music"]));
        assert_eq!(cats[3], json!(["Uncategorized"]));
    }

    #[test]
    fn a_broken_rule_is_named() {
        let spec: Vec<CategorySpec> =
            serde_json::from_value(json!([{"name": ["Work"], "rule": {"type": "regex", "regex": "(unclosed"}}]))
                .unwrap();
        let err = Categorizer::new(&spec).err().unwrap().to_string();
        assert!(err.contains("[\"Work\"]") && err.contains("(unclosed"), "{err}");
    }
}
