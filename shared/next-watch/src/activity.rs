//! What the person was doing before a moment, as the next-watch features read it: the
//! apps of the hour before, each with its share of that hour's active time. A watch made
//! after an hour of coding and one made after an hour of a game are told apart by it, and
//! a candidate is compared with what the person watched after the same apps.
//!
//! The hour is cut from the timeline exactly as the activity windows are
//! ([`vrd_core::context::windows`]): nothing that starts at or after the moment, an event
//! running into it cut there. Time on YouTube itself (its app, or a window or tab titled
//! or addressed as YouTube) is left out: a feed is picked while watching, and that says
//! nothing about what came before it.

use anyhow::Result;
use std::collections::HashMap;
use vrd_core::context::{windows, Anchor, Timeline, WindowEvent, WindowSpec};
use vrd_core::time::Timestamp;

/// How long before a moment its activity is read.
pub const ACTIVITY_WINDOW_MINUTES: i64 = 60;
/// Less active time than this (beside watching) in the hour, and the moment's activity is
/// unknown.
pub const MIN_ACTIVE_SECONDS: f64 = 60.0;
/// The watches of this many days before a moment are what its activity is compared with
/// (so a feed needs this much of the timeline, not all of it).
pub const ACTIVITY_DAYS: i64 = 14;

/// The apps of the hour before a moment and their shares of its active time (adding up to
/// 1), largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    apps: Vec<(String, f32)>,
}

impl Activity {
    /// The activity of one window's events, if it holds enough active time.
    pub fn of_window(events: &[WindowEvent]) -> Option<Activity> {
        let mut seconds: HashMap<&str, f64> = HashMap::new();
        for e in events.iter().filter(|e| !is_youtube(e)) {
            *seconds.entry(e.app.as_str()).or_default() += e.duration_s;
        }
        let total: f64 = seconds.values().sum();
        if total < MIN_ACTIVE_SECONDS {
            return None;
        }
        let mut apps: Vec<(String, f32)> = seconds
            .into_iter()
            .filter(|&(_, s)| s > 0.0)
            .map(|(app, s)| (app.to_string(), (s / total) as f32))
            .collect();
        apps.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Some(Activity { apps })
    }

    /// The apps and their shares, largest first.
    pub fn apps(&self) -> &[(String, f32)] {
        &self.apps
    }

    /// The app with the largest share.
    pub fn main_app(&self) -> &str {
        &self.apps[0].0
    }

    /// How alike two activities are: the time they spent in the same apps (Σ of the
    /// smaller share per app; 1 for the same mix, 0 for no app in common).
    pub fn overlap(&self, other: &Activity) -> f32 {
        self.apps.iter().filter_map(|(app, a)| other.apps.iter().find(|(o, _)| o == app).map(|(_, b)| a.min(*b))).sum()
    }
}

/// The activity before each of `times` (in any order), from the timeline.
pub fn activities(timeline: &Timeline, times: &[Timestamp]) -> Result<Vec<Option<Activity>>> {
    let anchors: Vec<Anchor> = times.iter().map(|&at| Anchor { id: String::new(), at }).collect();
    let spec = WindowSpec { length: chrono::Duration::minutes(ACTIVITY_WINDOW_MINUTES), max_events: usize::MAX };
    Ok(windows(timeline, &anchors, &spec)?.iter().map(|w| Activity::of_window(w)).collect())
}

fn is_youtube(e: &WindowEvent) -> bool {
    let youtube = |s: &str| s.to_lowercase().contains("youtube");
    youtube(&e.app) || youtube(&e.title)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::context::prepare_timeline;
    use vrd_core::records::AppEvent;
    use vrd_core::time::parse_rfc3339;

    fn event(app: &str, title: &str, start: Timestamp, minutes: f64) -> AppEvent {
        AppEvent {
            start,
            duration_s: minutes * 60.0,
            app: app.into(),
            title: title.into(),
            url: None,
            category: Vec::new(),
            bucket: "b".into(),
            host: None,
        }
    }

    #[test]
    fn the_hour_before_as_shares_of_its_active_time_without_youtube() {
        let t = parse_rfc3339("2025-03-01T10:00:00Z").unwrap();
        let min = |m: i64| t - chrono::Duration::minutes(m);
        let timeline = prepare_timeline(
            vec![
                // Began before the hour: only its last 10 minutes count.
                event("Code", "main.rs", min(80), 30.0),
                event("Firefox", "Rust docs", min(50), 10.0),
                event("Firefox", "Cooking - YouTube", min(40), 20.0),
                event("Code", "lib.rs", min(20), 10.0),
                // Runs into the moment: cut there.
                event("Slack", "chat", min(10), 30.0),
                // After the moment: never seen.
                event("Steam", "game", t + chrono::Duration::minutes(20), 60.0),
            ],
            |i| format!("event {i}"),
        )
        .unwrap();
        let [now] = &activities(&timeline, &[t]).unwrap()[..] else { panic!() };
        let now = now.as_ref().expect("40 minutes of activity");
        let share = |app: &str| now.apps().iter().find(|(a, _)| a == app).map(|(_, s)| *s);
        assert_eq!(now.main_app(), "Code");
        assert!((share("Code").unwrap() - 0.5).abs() < 1e-6, "{now:?}");
        assert!((share("Firefox").unwrap() - 0.25).abs() < 1e-6, "{now:?}");
        assert!((share("Slack").unwrap() - 0.25).abs() < 1e-6, "{now:?}");
        assert_eq!(share("Steam"), None);
        assert!((now.overlap(now) - 1.0).abs() < 1e-6);
        // Half a minute of activity in the hour: unknown.
        let quiet = prepare_timeline(vec![event("Code", "x", min(5), 0.5)], |i| format!("event {i}")).unwrap();
        assert_eq!(activities(&quiet, &[t]).unwrap(), vec![None]);
    }
}
