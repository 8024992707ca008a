//! Reach: the plan of the channels a store follows, and their fetching, against a loopback
//! server standing in for YouTube's channel feeds (tests never reach YouTube): an ETag and
//! 304, a server error that passes, a channel gone for good, 429 with Retry-After, slow
//! answers, and a whole outage.

use crate::common::{ingest, Reply, Server};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use vrd_core::reach::{ChannelFetch, PlannedChannel, Reason};
use vrd_store::Store;

const ETAG: &str = "UCetag0000000000000000aa";
const DAILY: &str = "UCdaily000000000000000aa";
const WEEKLY: &str = "UCweekly00000000000000aa";
const BROKEN: &str = "UCbroken00000000000000aa";
const GONE: &str = "UCgone0000000000000000aa";
const OTHER: &str = "UCother000000000000000aa";
const ALL: [&str; 6] = [ETAG, DAILY, WEEKLY, BROKEN, GONE, OTHER];

/// A channel's Atom feed of 15 uploads, `every` apart, the latest an hour ago.
fn feed(channel: &str, every: chrono::Duration) -> String {
    let latest = chrono::Utc::now() - chrono::Duration::hours(1);
    let entries: String = (0..15)
        .map(|i| {
            let id = format!("{}{i:02}", &channel[2..11]);
            let published = (latest - every * i).to_rfc3339();
            format!(
                "<entry><yt:videoId>{id}</yt:videoId><yt:channelId>{channel}</yt:channelId><title>Upload {i} of {channel}</title>\
                 <link rel=\"alternate\" href=\"https://www.youtube.com/watch?v={id}\"/><author><name>{channel}</name></author>\
                 <published>{published}</published></entry>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><feed xmlns:yt=\"http://www.youtube.com/xml/schemas/2015\" xmlns=\"http://www.w3.org/2005/Atom\">\
         <yt:channelId>{channel}</yt:channelId><title>{channel}</title>{entries}</feed>"
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Slow,
    Outage,
    Limited,
}

fn stand_in(mode: Arc<Mutex<Mode>>) -> Server {
    let broken_asked = Arc::new(AtomicUsize::new(0));
    Server::start(move |req| {
        let mode = *mode.lock().unwrap();
        let channel = req.param("channel_id").unwrap_or("").to_string();
        let ok = |body: String| Reply { status: 200, content_type: "application/atom+xml", body, ..Reply::default() };
        let delay = match mode {
            Mode::Slow => std::time::Duration::from_millis(1500),
            _ => std::time::Duration::ZERO,
        };
        let reply = match (mode, channel.as_str()) {
            (Mode::Outage, _) => {
                Reply { status: 500, content_type: "text/plain", body: "down".into(), ..Reply::default() }
            }
            (Mode::Limited, OTHER) => Reply {
                status: 429,
                content_type: "text/plain",
                body: "slow down".into(),
                headers: vec![("Retry-After", "3600".into())],
                ..Reply::default()
            },
            (_, ETAG) if req.header("If-None-Match") == Some("\"v1\"") => {
                Reply { status: 304, content_type: "application/atom+xml", ..Reply::default() }
            }
            (_, ETAG) => {
                Reply { headers: vec![("ETag", "\"v1\"".into())], ..ok(feed(ETAG, chrono::Duration::days(1))) }
            }
            (_, DAILY) | (_, OTHER) => ok(feed(&channel, chrono::Duration::days(1))),
            (_, WEEKLY) => ok(feed(WEEKLY, chrono::Duration::days(7))),
            (_, BROKEN) if broken_asked.fetch_add(1, Ordering::SeqCst) == 0 => {
                Reply { status: 500, content_type: "text/plain", body: "oops".into(), ..Reply::default() }
            }
            (_, BROKEN) => ok(feed(BROKEN, chrono::Duration::days(2))),
            _ => Reply { status: 404, content_type: "text/html", ..Reply::default() },
        };
        Reply { delay, ..reply }
    })
}

/// Every channel due again (its last fetch long ago), as days passing would make it.
fn age(db: &std::path::Path) {
    let mut store = Store::open(db).unwrap();
    let aged: Vec<ChannelFetch> = store
        .channel_fetches()
        .unwrap()
        .into_iter()
        .map(|f| ChannelFetch {
            last_tried: Some(chrono::Utc::now() - chrono::Duration::days(10)),
            retry_at: None,
            ..f
        })
        .collect();
    store.upsert_channel_fetches(&aged).unwrap();
}

fn asked(server: &Server, channel: &str) -> usize {
    server.requests().iter().filter(|r| r.param("channel_id") == Some(channel)).count()
}

#[test]
fn channel_feeds_are_fetched_politely_each_on_its_own() {
    let mode = Arc::new(Mutex::new(Mode::Normal));
    let server = stand_in(mode.clone());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let csv = dir.path().join("subscriptions.csv");
    let rows: String = ALL.iter().map(|c| format!("{c},http://www.youtube.com/channel/{c},Name of {c}\n")).collect();
    std::fs::write(&csv, format!("Channel Id,Channel Url,Channel Title\n{rows}")).unwrap();
    let db_arg = db.to_str().unwrap();
    assert!(ingest(&["subscriptions", csv.to_str().unwrap(), "--db", db_arg]).status.success());
    // The gone channel has answered "not found" twice over the last three days.
    let now = chrono::Utc::now();
    let failing = ChannelFetch {
        channel_id: GONE.into(),
        last_tried: Some(now - chrono::Duration::hours(2)),
        failures: 2,
        failing_since: Some(now - chrono::Duration::days(3)),
        retry_at: Some(now - chrono::Duration::hours(1)),
        ..ChannelFetch::default()
    };
    Store::open(&db).unwrap().upsert_channel_fetches(&[failing]).unwrap();
    let rss = |extra: &[&str]| {
        let args = [&["rss", "--db", db_arg, "--youtube-base", &server.base, "--pause-ms", "0,0"][..], extra].concat();
        let out = ingest(&args);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };

    // Every feed that answered is stored, whatever the others did; the gone one is said once.
    let (code, said) = rss(&[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("channel feeds: 6 followed, 6 due; 4 fetched (0 not modified), 2 failed"), "{said}");
    assert!(said.contains(&format!("gone: Name of {GONE} ({GONE})")), "{said}");
    assert!(said.contains(&format!("Name of {BROKEN} ({BROKEN}): answered 500")), "{said}");
    // The weekly channel's uploads of more than 60 days ago (six of its fifteen) left the
    // store at once: it stays bounded.
    assert!(said.contains("6 uploads and 0 feed lines older than 60 days left the store"), "{said}");
    assert_eq!(Store::open(&db).unwrap().videos().unwrap().len(), 4 * 15 - 6);
    assert!(server.most_at_once.load(Ordering::SeqCst) <= 3, "at most three at once");

    // The plan (a small budget, so that no interval is at its bound): each channel with its
    // reasons; the gone one left out; intervals follow the uploads (the same attention,
    // daily uploads fetched √7 times as often as weekly ones); the failed one backs off.
    let out = ingest(&["rss", "--db", db_arg, "--plan", "--fetches-per-day", "20"]);
    let plan: Vec<PlannedChannel> =
        crate::common::json_lines(&out).into_iter().map(|v| serde_json::from_value(v).unwrap()).collect();
    let get = |id: &str| plan.iter().find(|c| c.channel_id == id);
    assert!(get(GONE).is_none(), "a gone channel leaves the plan");
    assert_eq!(plan.len(), 5);
    assert!(plan.iter().all(|c| c.reasons == [Reason::Subscribed]), "{plan:?}");
    let (daily, weekly) = (get(DAILY).unwrap(), get(WEEKLY).unwrap());
    assert_eq!((daily.uploads_per_day, weekly.uploads_per_day.map(|u| (u * 7.0).round())), (Some(1.0), Some(1.0)));
    assert!((weekly.interval_hours / daily.interval_hours - 7f64.sqrt()).abs() < 0.01, "{daily:?} {weekly:?}");
    assert!(get(BROKEN).unwrap().next_due >= now + chrono::Duration::minutes(59), "backed off an hour");

    // Days later: the ETag asked back (304), the server error passed, the gone one not asked.
    age(&db);
    let gone_asked = asked(&server, GONE);
    let (code, said) = rss(&[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("5 due; 5 fetched (1 not modified), 0 failed"), "{said}");
    let etag_asks: Vec<_> = server.requests().into_iter().filter(|r| r.param("channel_id") == Some(ETAG)).collect();
    assert_eq!(etag_asks.last().unwrap().header("If-None-Match"), Some("\"v1\""));
    assert_eq!(asked(&server, GONE), gone_asked);
    assert_eq!(Store::open(&db).unwrap().videos().unwrap().len(), 5 * 15 - 6);

    // The cap holds.
    age(&db);
    let before = server.requests().len();
    let (_, said) = rss(&["--max-fetches", "2"]);
    assert_eq!(server.requests().len() - before, 2, "{said}");
    assert!(said.contains("5 due; 2 fetched") && said.contains("3 left for the next run"), "{said}");

    // The time budget holds: slow answers, a second's budget, one round of three at most.
    age(&db);
    *mode.lock().unwrap() = Mode::Slow;
    let before = server.requests().len();
    let started = std::time::Instant::now();
    let (_, said) = rss(&["--time-budget", "1s"]);
    assert!(server.requests().len() - before <= 3, "{said}");
    assert!(said.contains("left for the next run"), "{said}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    // An outage: every feed fails at once; nothing counts against any channel, none is gone.
    age(&db);
    *mode.lock().unwrap() = Mode::Outage;
    let (code, said) = rss(&[]);
    assert_eq!(code, Some(1), "nothing at all answered: {said}");
    assert!(said.contains("an outage, not dead channels"), "{said}");
    let fetches = Store::open(&db).unwrap().channel_fetches().unwrap();
    assert!(
        fetches.iter().filter(|f| f.channel_id != GONE).all(|f| f.failures == 0 && f.gone_since.is_none()),
        "{fetches:?}"
    );
    assert_eq!(Store::open(&db).unwrap().videos().unwrap().len(), 5 * 15 - 6, "the last good copies stay");

    // 429: the run stops there, and that channel waits as long as it was asked to.
    age(&db);
    *mode.lock().unwrap() = Mode::Limited;
    let (_, said) = rss(&[]);
    assert!(said.contains("YouTube asked to slow down (429)"), "{said}");
    let other =
        Store::open(&db).unwrap().channel_fetches().unwrap().into_iter().find(|f| f.channel_id == OTHER).unwrap();
    assert!(other.retry_at.unwrap() >= chrono::Utc::now() + chrono::Duration::minutes(59), "{other:?}");
}

/// The plan follows every channel with its reasons: watched (how often lately), subscribed,
/// saved (the channel of a saved video, once the store knows it); and a channel of the
/// history is followed though never subscribed to.
#[test]
fn the_plan_gives_each_channel_its_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let mut store = Store::open(&db).unwrap();
    let at = vrd_core::time::parse_rfc3339("2026-12-01T12:00:00Z").unwrap();
    let watch = |id: &str, channel: &str, days_ago: i64| -> vrd_core::records::WatchEvent {
        serde_json::from_value(serde_json::json!({"video_id": id, "title": format!("video {id}"), "channel": format!("Name {channel}"),
            "channel_id": channel, "watched_at": (at - chrono::Duration::days(days_ago)).to_rfc3339(), "source": "takeout-json"}))
        .unwrap()
    };
    let watches: Vec<_> = (0..16)
        .map(|i| watch(&format!("weekly{i:05}"), DAILY, i * 3))
        .chain([watch("once0000001", OTHER, 400)])
        .collect();
    store.upsert_watch_events(&watches).unwrap();
    store
        .upsert_subscriptions(&[vrd_core::records::Subscription::channel(WEEKLY, Some("Weekly".into()), "takeout")])
        .unwrap();
    store
        .upsert_saved_videos(&[vrd_core::reach::SavedVideo {
            video_id: "saved000001".into(),
            playlist: "Watch later".into(),
            saved_at: None,
        }])
        .unwrap();
    let saved: vrd_core::records::Video = serde_json::from_value(
        serde_json::json!({"video_id": "saved000001", "title": "Saved one", "channel": "Etag", "channel_id": ETAG, "source": "youtube-api"}),
    )
    .unwrap();
    store.upsert_videos(&[saved]).unwrap();
    drop(store);
    let out = ingest(&["rss", "--db", db.to_str().unwrap(), "--plan", "--at", "2026-12-01T12:00:00Z"]);
    let plan: Vec<PlannedChannel> =
        crate::common::json_lines(&out).into_iter().map(|v| serde_json::from_value(v).unwrap()).collect();
    let reasons = |id: &str| plan.iter().find(|c| c.channel_id == id).map(|c| c.reasons.clone()).unwrap_or_default();
    assert!(
        // Sixteen watches in the last eight weeks: two a week.
        matches!(reasons(DAILY)[..], [Reason::Watched { watches: 16, per_week, .. }] if per_week == 2.0),
        "{plan:?}"
    );
    assert_eq!(reasons(DAILY)[0].words(), "a channel you watch weekly");
    assert_eq!(reasons(WEEKLY), [Reason::Subscribed]);
    assert_eq!(reasons(ETAG), [Reason::Saved { videos: 1 }]);
    assert!(
        matches!(reasons(OTHER)[..], [Reason::Watched { watches: 1, .. }]),
        "watched once, long ago: still followed"
    );
    assert_eq!(plan[0].channel_id, DAILY, "the channel that matters most now first");
    let by_id = |id: &str| plan.iter().find(|c| c.channel_id == id).unwrap();
    assert!(by_id(OTHER).interval_hours >= by_id(DAILY).interval_hours);
}
