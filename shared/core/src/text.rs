//! The text a video is encoded from, and the hash that says whether a stored embedding
//! was made from exactly that text.

use crate::records::MediaText;
use anyhow::{anyhow, bail, Result};
use sha2::{Digest, Sha256};

/// Title, channel and the start of the description: enough to say what a video is about
/// without drowning short titles in boilerplate links.
pub const DEFAULT_TEMPLATE: &str = "{title}\\n{channel}\\n{description}";
pub const DEFAULT_DESCRIPTION_CHARS: usize = 300;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Title,
    Channel,
    Description,
    Tags,
}

/// A template such as `{title} | {channel}` (`\n` written as the two characters is a
/// newline). Lines that come out empty are dropped, so a missing channel or description
/// leaves no stray separators.
#[derive(Debug, Clone, PartialEq)]
pub struct TextTemplate {
    pieces: Vec<Piece>,
    description_chars: usize,
}

impl TextTemplate {
    pub fn parse(template: &str, description_chars: usize) -> Result<TextTemplate> {
        let template = template.replace("\\n", "\n");
        let mut pieces = Vec::new();
        let mut rest = template.as_str();
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_string()));
            }
            let close = rest[open..].find('}').ok_or_else(|| anyhow!("template {template:?}: unclosed `{{`"))? + open;
            pieces.push(match &rest[open + 1..close] {
                "title" => Piece::Title,
                "channel" => Piece::Channel,
                "description" => Piece::Description,
                "tags" => Piece::Tags,
                other => {
                    bail!("template {template:?}: unknown field `{{{other}}}` (use title, channel, description, tags)")
                }
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_string()));
        }
        Ok(TextTemplate { pieces, description_chars })
    }

    /// A clap value parser for `--template`: the text, once it is known to parse, so that a
    /// bad template on the command line is a usage error (one read from a model card is an
    /// error of the run).
    pub fn arg(template: &str) -> Result<String, String> {
        Self::parse(template, 0).map(|_| template.to_string()).map_err(|e| e.to_string())
    }

    pub fn render(&self, m: &MediaText) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Title => out.push_str(m.title.trim()),
                Piece::Channel => out.push_str(m.channel.as_deref().unwrap_or("").trim()),
                Piece::Description => out.push_str(&truncate_chars(m.description.trim(), self.description_chars)),
                Piece::Tags => out.push_str(&m.tags.join(", ")),
            }
        }
        out.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// A short, stable hash of the exact text (and anything else that shapes the embedding).
pub fn text_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(title: &str, channel: Option<&str>, description: &str) -> MediaText {
        MediaText {
            video_id: "x".into(),
            title: title.into(),
            title_unknown: false,
            channel: channel.map(Into::into),
            description: description.into(),
            tags: vec![],
        }
    }

    #[test]
    fn default_template_drops_empty_lines_and_truncates_by_chars() {
        let t = TextTemplate::parse(DEFAULT_TEMPLATE, 4).unwrap();
        assert_eq!(t.render(&media("Rust async", None, "")), "Rust async");
        assert_eq!(t.render(&media("T", Some("C"), "日本語のせつめい")), "T\nC\n日本語の");
    }

    #[test]
    fn an_unknown_field_is_named_and_is_a_usage_error_only_on_the_command_line() {
        let err = TextTemplate::parse("{title} {views}", 10).unwrap_err();
        assert!(
            err.downcast_ref::<crate::usage::UsageError>().is_none(),
            "a card's template is not a bad command line"
        );
        assert!(err.to_string().contains("{views}"), "{err}");
        assert!(TextTemplate::arg("{title} {views}").unwrap_err().contains("{views}"));
        assert!(TextTemplate::parse("{title", 10).unwrap_err().to_string().contains("unclosed"));
        assert_eq!(TextTemplate::arg(DEFAULT_TEMPLATE).as_deref(), Ok(DEFAULT_TEMPLATE));
    }

    #[test]
    fn hash_depends_on_every_part_and_their_boundaries() {
        assert_eq!(text_hash(&["a", "b"]), text_hash(&["a", "b"]));
        assert_ne!(text_hash(&["ab", ""]), text_hash(&["a", "b"]));
        assert_eq!(text_hash(&["x"]).len(), 16);
    }
}
