//! How the feeds' reasons say things, the same in every ranker's `--explain`: how long ago,
//! a title cut short, a channel the person knows.

/// "5 min ago", "3 h ago", "yesterday", "12 days ago".
pub fn ago(days: f64) -> String {
    match days {
        d if d < 1.0 / 24.0 => format!("{:.0} min ago", (d * 1440.0).max(1.0)),
        d if d < 1.0 => format!("{:.0} h ago", (d * 24.0).max(1.0)),
        d if d < 1.5 => "yesterday".into(),
        d => format!("{:.0} days ago", d),
    }
}

/// `text` cut to `chars` characters, with an ellipsis where it was cut.
pub fn shorten(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// `s` with its first letter capitalised, the rest as it is ("Tue" stays "Tue"): a reason
/// or note that begins a sentence of its own.
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The candidate's channel as a reason: `seen` is how often the person watched it and how
/// many days ago the latest watch was (None: never).
pub fn channel_reason(channel: Option<&str>, seen: Option<(usize, f64)>) -> Option<String> {
    match seen {
        Some((count, days)) if count >= 3 && days <= 10.0 => Some(format!(
            "{}: a channel you watch often ({count} watches, the latest {})",
            channel.unwrap_or("this channel"),
            ago(days)
        )),
        Some((count, _)) if count >= 3 => Some(format!("{}: {count} watches before", channel.unwrap_or("its channel"))),
        None if channel.is_some() => Some("a channel new to you".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_say_times_titles_and_channels_as_people_do() {
        assert_eq!(ago(0.001), "1 min ago");
        assert_eq!(ago(0.25), "6 h ago");
        assert_eq!(ago(1.2), "yesterday");
        assert_eq!(ago(12.4), "12 days ago");
        assert_eq!(shorten("Minecraft Hardcore Ep 12", 9), "Minecraft…");
        assert_eq!(shorten("ไทย", 9), "ไทย");
        assert_eq!(capitalised("your activity since Tue 14:05"), "Your activity since Tue 14:05");
        assert_eq!(
            channel_reason(Some("Babish"), Some((7, 2.0))).unwrap(),
            "Babish: a channel you watch often (7 watches, the latest 2 days ago)"
        );
        assert_eq!(channel_reason(Some("Babish"), Some((4, 40.0))).unwrap(), "Babish: 4 watches before");
        assert_eq!(channel_reason(Some("Babish"), None).unwrap(), "a channel new to you");
        assert_eq!(channel_reason(Some("Babish"), Some((1, 2.0))), None);
        assert_eq!(channel_reason(None, None), None);
    }
}
