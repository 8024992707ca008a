//! Watches seen live: `vrd-ingest aw` on a real aw-server loaded with the real Windows
//! export (its Firefox web bucket in its real shape, non-YouTube tabs and all), plus
//! generated YouTube tabs in that bucket and in a second browser's, placed in the real
//! hours when Firefox was the window in front: every URL form, the time really watched,
//! zaps, an incognito tab that leaves no trace, two browsers at once, a re-run that adds
//! nothing, a resume that reads only what is new, and a Takeout import afterwards that
//! adds no duplicate. Then the same watches from an export file as JSONL, and a window
//! title naming a stored video where no web watcher runs.

use crate::aw_server::AwServer;
use crate::common::{ingest, json_lines};
use crate::paths::shared_data;
use std::collections::BTreeMap;
use vrd_core::records::WatchEvent;
use vrd_store::Store;

const FIREFOX: &str = "aw-watcher-web-firefox";
const CHROME: &str = "aw-watcher-web-chrome";
const WEB_TYPE: &str = "web.tab.current";

/// One tab event as aw-watcher-web sends it.
fn tab(at: &str, seconds: f64, url: &str, title: &str, audible: bool, incognito: bool) -> serde_json::Value {
    serde_json::json!({"timestamp": at, "duration": seconds,
        "data": {"url": url, "title": title, "audible": audible, "incognito": incognito, "tabCount": 4}})
}

/// The generated tabs, each in a real stretch of the export when Firefox was in front and
/// the person was not away (silent ones: all of it watched) or anywhere (aloud: all of it).
fn firefox_tabs() -> serde_json::Value {
    serde_json::json!([
        // Firefox in front 20:34:03.231 for 271.7 s; the title settles after 5 s.
        tab(
            "2023-11-18T20:34:10Z",
            5.0,
            "https://www.youtube.com/watch?v=AAAAAAAAAA1&list=PL1&index=2",
            "YouTube",
            false,
            false
        ),
        tab(
            "2023-11-18T20:34:15Z",
            195.0,
            "https://www.youtube.com/watch?v=AAAAAAAAAA1&list=PL1&index=2",
            "(3) Rust in 100 seconds - YouTube",
            false,
            false
        ),
        // In front 21:54:13.626 for 183.1 s.
        tab(
            "2023-11-18T21:54:20Z",
            150.0,
            "https://m.youtube.com/watch?v=BBBBBBBBBB2",
            "Pan de masa madre - YouTube",
            false,
            false
        ),
        // Aloud, whatever is in front.
        tab(
            "2023-11-19T01:00:00Z",
            120.0,
            "https://music.youtube.com/watch?v=CCCCCCCCCC3&list=RDAMVM",
            "Watermelon Man - YouTube Music",
            true,
            false
        ),
        // In front 23:04:29.077 for 138.3 s.
        tab(
            "2023-11-18T23:04:35Z",
            100.0,
            "https://youtu.be/DDDDDDDDDD4?si=share",
            "(1) 東京 散歩 - YouTube",
            false,
            false
        ),
        // In front 23:13:40.040 for 143.0 s.
        tab(
            "2023-11-18T23:13:45Z",
            60.0,
            "https://www.youtube.com/shorts/EEEEEEEEEE5",
            "Ep 12 #shorts - YouTube",
            false,
            false
        ),
        tab(
            "2023-11-19T02:00:00Z",
            90.0,
            "https://www.youtube.com/live/FFFFFFFFFF6?feature=share",
            "Launch day - YouTube",
            true,
            false
        ),
        // A zap, and an incognito tab.
        tab(
            "2023-11-18T23:59:30Z",
            4.0,
            "https://www.youtube.com/watch?v=ZZZZZZZZZZ7",
            "Zapped - YouTube",
            true,
            false
        ),
        tab(
            "2023-11-19T00:03:10Z",
            100.0,
            "https://www.youtube.com/watch?v=IIIIIIIIII8",
            "Private secret - YouTube",
            true,
            true
        ),
    ])
}

/// Chrome open beside Firefox, playing aloud while Firefox plays CCCCCCCCCC3.
fn chrome_tabs() -> serde_json::Value {
    serde_json::json!([tab(
        "2023-11-19T01:00:30Z",
        60.0,
        "https://www.youtube.com/watch?v=HHHHHHHHHH9",
        "Two browsers - YouTube",
        true,
        false
    )])
}

/// (video, title, watched_s) of each stored watch, by video.
fn watches(db: &std::path::Path) -> BTreeMap<String, (String, f64, String)> {
    Store::open(db)
        .unwrap()
        .watch_events()
        .unwrap()
        .into_iter()
        .map(|w| (w.video_id.clone(), (w.title.clone(), w.watched_s.unwrap_or(-1.0), w.source.clone())))
        .collect()
}

fn expected() -> BTreeMap<String, (String, f64, String)> {
    [
        ("AAAAAAAAAA1", "Rust in 100 seconds", 200.0),
        ("BBBBBBBBBB2", "Pan de masa madre", 150.0),
        ("CCCCCCCCCC3", "Watermelon Man", 120.0),
        ("DDDDDDDDDD4", "東京 散歩", 100.0),
        ("EEEEEEEEEE5", "Ep 12 #shorts", 60.0),
        ("FFFFFFFFFF6", "Launch day", 90.0),
        ("HHHHHHHHHH9", "Two browsers", 60.0),
    ]
    .into_iter()
    .map(|(id, title, s)| (id.to_string(), (title.to_string(), s, "aw-web".to_string())))
    .collect()
}

fn run(args: &[&str]) -> String {
    let out = ingest(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

/// Every byte SQLite wrote for the store (the database and its write-ahead log).
fn store_bytes(db: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    let wal = db.with_extension("db-wal");
    if wal.exists() {
        bytes.extend(std::fs::read(wal).unwrap());
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn youtube_tabs_become_watches_in_the_store_and_resume() {
    let server = AwServer::start();
    server.import(&shared_data("activitywatch/endersa1-aw-buckets-export.json"));
    server.post_events_of("unknown", FIREFOX, WEB_TYPE, firefox_tabs());
    server.post_events_of("unknown", CHROME, WEB_TYPE, chrome_tabs());
    // A private window, as the window watcher sees it, while the person is at the keyboard
    // (after the export's last hour).
    let laptop = "LAPTOP-MCRJASPH";
    server.post_events_of(
        laptop,
        &format!("aw-watcher-afk_{laptop}"),
        "afkstatus",
        serde_json::json!([{"timestamp": "2023-11-19T13:30:00Z", "duration": 600.0, "data": {"status": "not-afk"}}]),
    );
    server.post_events_of(
        laptop,
        &format!("aw-watcher-window_{laptop}"),
        "currentwindow",
        serde_json::json!([{"timestamp": "2023-11-19T13:35:00Z", "duration": 100.0,
            "data": {"app": "firefox.exe", "title": "Private secret - YouTube — Mozilla Firefox Private Browsing"}}]),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let (db_arg, url) = (db.to_str().unwrap(), server.url.as_str());
    let base = ["aw", "--aw-server", url, "--aw-all-hosts", "--db", db_arg];
    let period = ["--since", "2023-11-18T20:00:00Z", "--until", "2023-11-19T14:00:00Z"];
    let said = run(&[&base[..], &period].concat());
    assert!(said.contains(&format!("{FIREFOX}: 8 YouTube tab stretches")), "the incognito tab is not one: {said}");
    assert!(said.contains(&format!("{CHROME}: 1 YouTube tab stretches")), "{said}");
    assert!(
        said.contains("live watches: 7 from the browser's tabs, 0 from window titles (1 under 10 s open"),
        "{said}"
    );
    assert!(said.contains("watch events 7 new, 0 updated, 0 unchanged"), "{said}");
    assert_eq!(watches(&db), expected());
    let store = Store::open(&db).unwrap();
    let a = store.watch_events().unwrap().into_iter().find(|w| w.video_id == "AAAAAAAAAA1").unwrap();
    assert_eq!(a.watched_at, vrd_core::time::parse_rfc3339("2023-11-18T20:34:10Z").unwrap(), "when first opened");
    let timeline = store.app_events(None, None).unwrap();
    assert!(timeline.len() > 1000, "the timeline went in beside them");
    let private = timeline.iter().find(|e| e.start == vrd_core::time::parse_rfc3339("2023-11-19T13:35:00Z").unwrap());
    assert_eq!(private.map(|e| (e.app.as_str(), e.title.as_str())), Some(("firefox.exe", "")), "its time, untitled");
    drop(store);
    // Incognito: no watch, no title, no count, and not a byte of it in the store (its
    // private window counts as time in the browser, untitled).
    let bytes = store_bytes(&db);
    assert!(!contains(&bytes, "IIIIIIIIII8") && !contains(&bytes, "Private secret"), "no trace of the incognito tab");
    assert!(!said.contains("incognito") && !said.contains("Private"), "{said}");

    // Again, resuming: nothing new, nothing changed.
    let said = run(&base);
    assert!(said.contains(&format!("{FIREFOX}: 0 YouTube tab stretches")), "{said}");
    assert!(said.contains("watch events 0 new, 0 updated, 0 unchanged"), "{said}");
    assert_eq!(watches(&db), expected());

    // A new watch after the last run: only it is read.
    let now = chrono::Utc::now();
    let start = (now - chrono::Duration::minutes(3)).to_rfc3339();
    let new_tab = tab(&start, 45.0, "https://www.youtube.com/watch?v=JJJJJJJJJ10", "Just now - YouTube", true, false);
    server.post_events_of("unknown", FIREFOX, WEB_TYPE, serde_json::json!([new_tab]));
    let said = run(&base);
    assert!(said.contains(&format!("{FIREFOX}: 1 YouTube tab stretches")), "only the new stretch: {said}");
    assert!(said.contains(&format!("{CHROME}: 0 YouTube tab stretches")), "{said}");
    assert!(said.contains("watch events 1 new, 0 updated, 0 unchanged"), "{said}");
    let mut with_new = expected();
    with_new.insert("JJJJJJJJJ10".into(), ("Just now".into(), 45.0, "aw-web".into()));
    assert_eq!(watches(&db), with_new);

    // Takeout's history of the same days, later: the live watch gets Takeout's title and
    // channel and keeps its time watched; a watch only Takeout saw is added.
    let takeout = dir.path().join("watch-history.json");
    std::fs::write(
        &takeout,
        r#"[
 {"header":"YouTube","title":"Watched Rust in 100 Seconds","titleUrl":"https://www.youtube.com/watch?v\u003dAAAAAAAAAA1","subtitles":[{"name":"Fireship","url":"https://www.youtube.com/channel/UCsBjURrPoezykLs9EqgamOA"}],"time":"2023-11-18T20:35:02.123Z","products":["YouTube"]},
 {"header":"YouTube","title":"Watched Only in Takeout","titleUrl":"https://www.youtube.com/watch?v\u003dKKKKKKKKK11","subtitles":[{"name":"Somebody","url":"https://www.youtube.com/channel/UCsBjURrPoezykLs9EqgamOB"}],"time":"2023-11-18T20:50:00Z","products":["YouTube"]}
]"#,
    )
    .unwrap();
    let said = run(&["takeout", takeout.to_str().unwrap(), "--db", db_arg]);
    assert!(said.contains("watch events 1 new, 1 updated, 0 unchanged"), "{said}");
    let all: Vec<WatchEvent> = Store::open(&db).unwrap().watch_events().unwrap();
    let a: Vec<&WatchEvent> = all.iter().filter(|w| w.video_id == "AAAAAAAAAA1").collect();
    assert_eq!(a.len(), 1, "one watch, wherever it came from: {a:?}");
    assert_eq!(a[0].title, "Rust in 100 Seconds");
    assert_eq!(a[0].channel.as_deref(), Some("Fireship"));
    assert_eq!((a[0].watched_s, a[0].source.as_str()), (Some(200.0), "aw-web"));
    assert_eq!(a[0].watched_at, vrd_core::time::parse_rfc3339("2023-11-18T20:34:10Z").unwrap());
    assert_eq!(all.len(), 9);
    // The same Takeout again changes nothing.
    let said = run(&["takeout", takeout.to_str().unwrap(), "--db", db_arg]);
    assert!(said.contains("watch events 0 new, 0 updated, 2 unchanged"), "{said}");

    // The same watches from an export file, as JSONL.
    let export = dir.path().join("aw-buckets-export.json");
    std::fs::write(&export, server.export()).unwrap();
    let out =
        ingest(&[&["aw", "--export", export.to_str().unwrap(), "--aw-all-hosts", "--watches"][..], &period].concat());
    let lines: Vec<serde_json::Value> = json_lines(&out);
    let from_file: BTreeMap<String, (String, f64, String)> = lines
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap().to_string();
            (s("video_id"), (s("title"), l["watched_s"].as_f64().unwrap(), s("source")))
        })
        .collect();
    assert_eq!(from_file, expected());
}

/// Where no web watcher runs, a browser window titled as a YouTube video becomes a watch
/// when its title names exactly one video the store holds.
#[test]
fn a_window_title_names_a_stored_video() {
    let server = AwServer::start();
    let host = server.hostname();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let mut store = Store::open(&db).unwrap();
    let video = |id: &str, title: &str| vrd_core::records::Video {
        title: title.into(),
        channel: Some("Fireship".into()),
        ..vrd_core::records::Video::from(&WatchEvent {
            video_id: id.into(),
            title: String::new(),
            title_unknown: false,
            channel: None,
            channel_id: None,
            watched_at: chrono::Utc::now(),
            source: "rss".into(),
            watched_s: None,
        })
    };
    store
        .upsert_videos(&[
            video("AAAAAAAAAA1", "Rust in 100 seconds"),
            video("BBBBBBBBBB2", "Trailer"),
            video("CCCCCCCCCC3", "Trailer"),
        ])
        .unwrap();
    drop(store);
    let window = |at: &str, seconds: f64, app: &str, title: &str| serde_json::json!({"timestamp": at, "duration": seconds, "data": {"app": app, "title": title}});
    server.post_events(
        &format!("aw-watcher-window_{host}"),
        "currentwindow",
        serde_json::json!([
            window("2026-11-20T10:00:00Z", 300.0, "Google-chrome", "(2) Rust in 100 seconds - YouTube - Google Chrome"),
            window("2026-11-20T10:05:00Z", 200.0, "Google-chrome", "Trailer - YouTube - Google Chrome"),
            window("2026-11-20T10:08:20Z", 100.0, "Code", "main.rs - vrd - Visual Studio Code"),
        ]),
    );
    server.post_events(
        &format!("aw-watcher-afk_{host}"),
        "afkstatus",
        serde_json::json!([{"timestamp": "2026-11-20T10:00:00Z", "duration": 600.0, "data": {"status": "not-afk"}}]),
    );
    let said = run(&[
        "aw",
        "--aw-server",
        &server.url,
        "--db",
        db.to_str().unwrap(),
        "--since",
        "2026-11-20T09:00:00Z",
        "--until",
        "2026-11-20T11:00:00Z",
    ]);
    assert!(said.contains("live watches: 0 from the browser's tabs, 1 from window titles"), "{said}");
    let all = Store::open(&db).unwrap().watch_events().unwrap();
    assert_eq!(all.len(), 1, "the ambiguous title names no watch: {all:?}");
    assert_eq!(
        (all[0].video_id.as_str(), all[0].source.as_str(), all[0].watched_s, all[0].channel.as_deref()),
        ("AAAAAAAAAA1", "window-title", Some(300.0), Some("Fireship")),
        "the channel from the stored video"
    );
}
