//! How long ago, in the page's words (the cards' upload ages, when the model was trained,
//! the last retrain, the last watch seen live).

/// `3 hours ago`, `12 days ago`.
pub fn age(d: chrono::Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match d.num_minutes() {
        m if m < 0 => "upcoming".into(),
        m if m < 60 => plural(m, "minute"),
        m if m < 60 * 48 => plural(m / 60, "hour"),
        m if m < 60 * 24 * 60 => plural(m / (60 * 24), "day"),
        m => plural(m / (60 * 24 * 30), "month"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(age(chrono::Duration::minutes(5)), "5 minutes ago");
        assert_eq!(age(chrono::Duration::hours(1)), "1 hour ago");
        assert_eq!(age(chrono::Duration::days(3)), "3 days ago");
        assert_eq!(age(chrono::Duration::days(90)), "3 months ago");
    }
}
