//! `vrd-train simulate`: a synthetic but structured person, for tests and demos.
//!
//! Weekdays hold two work blocks (programming, documentation, meetings) and a leisure
//! evening; weekends are leisure. The catalogue has videos on several topics. Interest
//! follows the topic (the person likes Rust, astronomy and cooking, not gossip or gaming).
//! Whether a moment is right for a video follows what the person did in the hour before:
//! after mostly leisure, yes; after mostly work, no, except a short Rust video (a work
//! break that fits). A little label noise keeps it honest. Everything is seeded.

use anyhow::{Context, Result};
use chrono::{Datelike, Duration, TimeZone, Utc, Weekday};
use std::path::Path;
use vrd_core::records::{AppEvent, Label, LabelKind, Video, WatchEvent};
use vrd_core::rng::Rng;
use vrd_core::time::Timestamp;

pub struct Options {
    pub days: i64,
    pub videos: usize,
    pub labels: usize,
    pub seed: u64,
    /// Share of flipped labels.
    pub noise: f64,
}

struct Topic {
    name: &'static str,
    liked: bool,
    channels: &'static [&'static str],
    subjects: &'static [&'static str],
    forms: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        name: "rust",
        liked: true,
        channels: &["Let's Get Rusty", "Jon Gjengset", "No Boilerplate", "Code to the Moon"],
        subjects: &[
            "lifetimes",
            "async traits",
            "the borrow checker",
            "iterators",
            "unsafe code",
            "error handling",
            "macros",
            "tokio",
        ],
        forms: &["Rust {} explained", "Crust of Rust: {}", "{} in 100 seconds", "Why {} matters in Rust"],
    },
    Topic {
        name: "astronomy",
        liked: true,
        channels: &["PBS Space Time", "AstroBackyard", "Anton Petrov"],
        subjects: &[
            "black holes",
            "the Andromeda galaxy",
            "dark matter",
            "exoplanets",
            "neutron stars",
            "the James Webb telescope",
        ],
        forms: &["What {} tell us about the universe", "Photographing {} from my backyard", "New results on {}"],
    },
    Topic {
        name: "cooking",
        liked: true,
        channels: &["Joshua Weissman", "Babish Culinary Universe", "Ethan Chlebowski"],
        subjects: &["sourdough bread", "ramen", "pizza dough", "curry", "dumplings", "a weeknight pasta"],
        forms: &["Making {} at home", "The best {} recipe", "{} but better"],
    },
    Topic {
        name: "gossip",
        liked: false,
        channels: &["Celeb Drama Daily", "Tea Time News"],
        subjects: &["a celebrity breakup", "the awards night scandal", "an influencer feud", "a reality show finale"],
        forms: &["You won't believe {}", "{}: the full story", "Reacting to {}"],
    },
    Topic {
        name: "gaming",
        liked: false,
        channels: &["Prank Kings", "Epic Fails TV"],
        subjects: &["the hardest level", "a speedrun fail", "the new battle royale", "a 24 hour challenge"],
        forms: &["I tried {}", "{} went wrong", "Top 10 moments: {}"],
    },
];

/// What the person does in a stretch of time.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Work,
    Leisure,
}

const WORK_APPS: &[(&str, &str, &[&str])] = &[
    ("Code", "main.rs - vrd - Visual Studio Code", &["Work", "Programming"]),
    ("Code", "store.rs - vrd - Visual Studio Code", &["Work", "Programming"]),
    ("Alacritty", "cargo test --release", &["Work", "Programming"]),
    ("firefox", "chrono_tz - Rust - docs.rs", &["Work", "Programming"]),
    ("firefox", "Pull request #42 · vrd - GitHub", &["Work", "Programming"]),
    ("zoom", "Weekly planning - Zoom Meeting", &["Work", "Meetings"]),
    ("libreoffice", "Quarterly report.odt - LibreOffice Writer", &["Work", "Documents"]),
];

const LEISURE_APPS: &[(&str, &str, &[&str])] = &[
    ("firefox", "YouTube - Home", &["Media", "Video"]),
    ("firefox", "r/rust - Reddit", &["Media", "Social Media"]),
    ("Steam", "Hollow Knight", &["Media", "Games"]),
    ("Spotify", "Evening chill playlist", &["Media", "Music"]),
    ("firefox", "Netflix - Watch TV Shows Online", &["Media", "Video"]),
];

pub struct Person {
    pub events: Vec<AppEvent>,
    pub videos: Vec<Video>,
    pub labels: Vec<Label>,
    /// What the person watched: Rust by day (a work break before lunch on weekdays),
    /// cooking at night, astronomy on weekend afternoons; about half of each topic's videos,
    /// so that the rest are still there to rank.
    pub history: Vec<WatchEvent>,
}

pub fn simulate(o: &Options) -> Person {
    let mut rng = Rng::new(o.seed);
    let start = Utc.with_ymd_and_hms(2026, 9, 7, 0, 0, 0).unwrap(); // a Monday
    let events = timeline(&mut rng, start, o.days);
    let videos = catalogue(&mut rng, o.videos, start);
    let labels = label(&mut rng, o, &events, &videos, start);
    // Its own generator: the events, videos and labels stay what they were before the
    // person had a history.
    let history = history(&mut Rng::new(o.seed ^ 0x5157_0a7c), &videos, start, o.days);
    Person { events, videos, labels, history }
}

/// The watch history: each slot of a day takes an unwatched video of its topic with some
/// probability, until half of the topic's videos are watched.
fn history(rng: &mut Rng, videos: &[Video], start: Timestamp, days: i64) -> Vec<WatchEvent> {
    let mut unwatched: std::collections::HashMap<&str, Vec<&Video>> = std::collections::HashMap::new();
    for v in videos {
        unwatched.entry(topic_of(v).name).or_default().push(v);
    }
    let budget: std::collections::HashMap<&str, usize> = unwatched.iter().map(|(t, v)| (*t, v.len() / 2)).collect();
    let mut watched: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for d in 0..days {
        let day = start + Duration::days(d);
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        // (topic, hour, chance, how many in a row)
        let slots: &[(&str, f64, f64, usize)] = match weekend {
            false => &[("rust", 10.0, 0.8, 1), ("cooking", 21.5, 0.7, 2)],
            true => &[("astronomy", 15.0, 0.7, 1), ("cooking", 21.5, 0.7, 2)],
        };
        for &(topic, hour, chance, run) in slots {
            if rng.uniform() >= chance {
                continue;
            }
            let mut t = day + Duration::seconds((hour * 3600.0) as i64 + rng.below(1800) as i64);
            for _ in 0..run {
                let pool = unwatched.get_mut(topic).expect("every topic has videos");
                let n = watched.entry(topic).or_default();
                if *n >= budget[topic] || pool.is_empty() {
                    break;
                }
                let v = pool.swap_remove(rng.below(pool.len()));
                *n += 1;
                out.push(WatchEvent {
                    video_id: v.video_id.clone(),
                    title: v.title.clone(),
                    title_unknown: false,
                    channel: v.channel.clone(),
                    channel_id: v.channel_id.clone(),
                    watched_at: t,
                    source: "simulated".into(),
                    watched_s: None,
                });
                t += Duration::seconds(v.duration_s.unwrap_or(600.0) as i64 + 30);
            }
        }
    }
    out
}

/// The day's blocks, in UTC hours (the person lives on UTC, to keep it simple).
fn day_plan(day: Timestamp) -> Vec<(f64, f64, Mode)> {
    match day.weekday() {
        Weekday::Sat | Weekday::Sun => vec![(10.0, 13.0, Mode::Leisure), (15.0, 23.0, Mode::Leisure)],
        _ => vec![(8.5, 12.0, Mode::Work), (13.0, 17.5, Mode::Work), (19.0, 23.0, Mode::Leisure)],
    }
}

fn timeline(rng: &mut Rng, start: Timestamp, days: i64) -> Vec<AppEvent> {
    let mut events = Vec::new();
    for d in 0..days {
        let day = start + Duration::days(d);
        for (from, to, mode) in day_plan(day) {
            let mut t = day + Duration::seconds((from * 3600.0) as i64 + rng.below(900) as i64);
            let end = day + Duration::seconds((to * 3600.0) as i64);
            while t < end {
                let apps = if mode == Mode::Work { WORK_APPS } else { LEISURE_APPS };
                // Now and then the other mode intrudes (a quick look at Reddit at work).
                let apps = if rng.uniform() < 0.08 {
                    if mode == Mode::Work {
                        LEISURE_APPS
                    } else {
                        WORK_APPS
                    }
                } else {
                    apps
                };
                let (app, title, category) = *rng.pick(apps);
                let len = Duration::seconds(60 + rng.below(1500) as i64).min(end - t);
                events.push(AppEvent {
                    start: t,
                    duration_s: len.num_milliseconds() as f64 / 1000.0,
                    app: app.into(),
                    title: title.into(),
                    url: None,
                    category: category.iter().map(|c| c.to_string()).collect(),
                    bucket: "aw-watcher-window_simulated".into(),
                    host: None,
                });
                t = t + len + Duration::seconds(rng.below(120) as i64);
            }
        }
    }
    events
}

fn catalogue(rng: &mut Rng, n: usize, start: Timestamp) -> Vec<Video> {
    (0..n)
        .map(|i| {
            let topic = &TOPICS[i % TOPICS.len()];
            let subject = rng.pick(topic.subjects);
            let title = rng.pick(topic.forms).replace("{}", subject);
            let channel = rng.pick(topic.channels).to_string();
            let short = rng.uniform() < 0.3;
            let duration = if short { 40.0 + rng.below(500) as f64 } else { 900.0 + rng.below(3000) as f64 };
            Video {
                video_id: format!("sim{i:08}"),
                title,
                description: format!("A {} video about {subject} by {channel}.", topic.name),
                channel: Some(channel),
                channel_id: None,
                published_at: Some(start - Duration::days(rng.below(365) as i64)),
                duration_s: Some(duration),
                tags: vec![topic.name.to_string()],
                category: None,
                live: None,
                short: Some(duration <= 60.0),
                source: "simulated".into(),
            }
        })
        .collect()
}

fn topic_of(v: &Video) -> &'static Topic {
    TOPICS.iter().find(|t| v.tags.first().is_some_and(|tag| tag == t.name)).expect("simulated videos carry their topic")
}

/// Share of the hour before `t` spent at work (by category), of the time active.
fn work_share(events: &[AppEvent], t: Timestamp) -> Option<f64> {
    let from = t - Duration::hours(1);
    let (mut work, mut all) = (0.0, 0.0);
    for e in events {
        let end = e.start + Duration::milliseconds((e.duration_s * 1000.0) as i64);
        let overlap = (end.min(t) - e.start.max(from)).num_seconds() as f64;
        if overlap > 0.0 {
            all += overlap;
            if e.category.first().is_some_and(|c| c == "Work") {
                work += overlap;
            }
        }
    }
    (all > 600.0).then(|| work / all)
}

fn label(rng: &mut Rng, o: &Options, events: &[AppEvent], videos: &[Video], start: Timestamp) -> Vec<Label> {
    let mut labels = Vec::new();
    let mut tries = 0;
    while labels.len() < o.labels && tries < o.labels * 20 {
        tries += 1;
        // A moment when the person is at the computer.
        let t = start + Duration::seconds(rng.below((o.days * 86_400) as usize) as i64);
        let Some(work) = work_share(events, t) else { continue };
        let video = rng.pick(videos);
        let topic = topic_of(video);
        let flip = |rng: &mut Rng, yes: bool| if rng.uniform() < o.noise { !yes } else { yes };
        let kind = if rng.uniform() < 0.5 {
            let liked = flip(rng, topic.liked);
            if liked {
                LabelKind::Interest
            } else {
                LabelKind::Uninterest
            }
        } else {
            let work_break = topic.name == "rust" && video.duration_s.unwrap_or(0.0) < 600.0;
            if flip(rng, work < 0.5 || work_break) {
                LabelKind::RightTime
            } else {
                LabelKind::NotNow
            }
        };
        labels.push(Label {
            video_id: video.video_id.clone(),
            kind,
            labelled_at: t,
            source: "simulated".into(),
            feed_at: None,
        });
    }
    labels.sort_by_key(|l| l.labelled_at);
    // Seconds are enough; keep the instants distinct.
    labels.dedup_by(|a, b| a.labelled_at == b.labelled_at);
    labels
}

/// Writes `app-events.jsonl`, `videos.jsonl` and `labels.jsonl` into `dir`.
pub fn write(person: &Person, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_jsonl(&dir.join("app-events.jsonl"), &person.events)?;
    write_jsonl(&dir.join("videos.jsonl"), &person.videos)?;
    write_jsonl(&dir.join("labels.jsonl"), &person.labels)?;
    write_jsonl(&dir.join("watch-history.jsonl"), &person.history)?;
    Ok(())
}

fn write_jsonl<T: serde::Serialize>(path: &Path, records: &[T]) -> Result<()> {
    let mut out = vrd_core::output::Output::open(Some(path))?;
    for r in records {
        vrd_core::jsonl::write_record(&mut out, r)?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_person_is_structured_and_reproducible() {
        let o = Options { days: 28, videos: 100, labels: 300, seed: 1, noise: 0.0 };
        let p = simulate(&o);
        assert_eq!(p.labels.len(), simulate(&o).labels.len());
        assert!(p.labels.len() > 250, "{}", p.labels.len());
        // Right-time answers follow the hour before.
        for l in p.labels.iter().filter(|l| l.kind.head() == Some(vrd_core::records::Head::RightTime)) {
            let work = work_share(&p.events, l.labelled_at).unwrap();
            let v = p.videos.iter().find(|v| v.video_id == l.video_id).unwrap();
            let brk = topic_of(v).name == "rust" && v.duration_s.unwrap() < 600.0;
            assert_eq!(l.kind == LabelKind::RightTime, work < 0.5 || brk);
        }
        let right = p.labels.iter().filter(|l| l.kind == LabelKind::RightTime).count();
        let not_now = p.labels.iter().filter(|l| l.kind == LabelKind::NotNow).count();
        assert!(right > 30 && not_now > 30, "both answers occur: {right} / {not_now}");
        assert!(p.events.windows(2).all(|w| w[0].start < w[1].start));
    }
}
