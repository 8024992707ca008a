//! vrd-ingest aw against a real ActivityWatch server (aw-server from PyPI, installed into
//! the project venv by scripts/setup) on loopback: the server's query API and the local
//! computation from the export file must give the same timeline, event for event.

use crate::aw_server;
use crate::common;

use aw_server::AwServer;
use common::{ingest, repo};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

fn fixture(name: &str) -> String {
    repo().join("fixtures/activitywatch").join(name).to_string_lossy().into_owned()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A throwaway aw-server in testing mode, its data in a temporary folder; killed on drop.
/// Equal outputs, or the first line where they differ (outputs are too long to print).
fn assert_same(a: &str, b: &str) {
    if let Some((i, (x, y))) = a.lines().zip(b.lines()).enumerate().find(|(_, (x, y))| x != y) {
        panic!("line {}: server {x}\nfile   {y}", i + 1);
    }
    assert_eq!(a.lines().count(), b.lines().count(), "same events, different counts");
}

fn both_paths(
    server: &AwServer,
    export: &str,
    host: &str,
    since: &str,
    until: &str,
    extra: &[&str],
) -> (String, String) {
    let period = ["--aw-hostname", host, "--since", since, "--until", until];
    let from_server = ok(&ingest(&[&["aw", "--aw-server", &server.url][..], &period, extra].concat()));
    let from_file = ok(&ingest(&[&["aw", "--export", export][..], &period, extra].concat()));
    (from_server, from_file)
}

#[test]
fn server_and_export_file_give_the_same_timeline() {
    let server = AwServer::start();
    let fixture_export = fixture("aw-buckets-export.json");
    server.import(Path::new(&fixture_export));
    let (a, b) = both_paths(&server, &fixture_export, "laptop", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", &[]);
    assert_same(&a, &b);
    let events: Vec<vrd_core::records::AppEvent> = a.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.len() > 50, "{} events", events.len());
    // One timeline: sorted, no overlaps, all from the laptop's window bucket.
    for w in events.windows(2) {
        let end = w[0].start + chrono::Duration::microseconds((w[0].duration_s * 1e6).round() as i64);
        assert!(end <= w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
    }
    assert!(events.iter().all(|e| e.bucket == "aw-watcher-window_laptop" && e.app != "Finder"));
    // The server has no category settings: aw-client's default rules apply on both paths.
    assert!(events.iter().any(|e| e.title.contains("GitHub") && e.category == ["Work", "Programming"]));

    // With the person's rules from a file, on both paths.
    let rules = fixture("categories.json");
    let (a, b) = both_paths(
        &server,
        &fixture_export,
        "laptop",
        "2026-11-20T00:00:00Z",
        "2026-11-21T00:00:00Z",
        &["--categories", &rules],
    );
    assert_same(&a, &b);
    assert!(a.contains(r#""title":"Minecraft","category":["Media","Games"]"#), "lookahead rules work");
    assert!(a.contains(r##""app":"Slack","title":"#vrd | Slack","category":["Comms"]"##), "ignore_case rules work");

    // A period that cuts events at both ends.
    let (a, b) = both_paths(&server, &fixture_export, "laptop", "2026-11-20T09:00:00.5Z", "2026-11-20T10:30:00Z", &[]);
    assert_same(&a, &b);
    let cut: Vec<vrd_core::records::AppEvent> = a.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (since, until) = (
        vrd_core::time::parse_rfc3339("2026-11-20T09:00:00.5Z").unwrap(),
        vrd_core::time::parse_rfc3339("2026-11-20T10:30:00Z").unwrap(),
    );
    assert!(!cut.is_empty() && cut.len() < events.len());
    assert!(cut.iter().all(|e| e.start >= since
        && e.start + chrono::Duration::microseconds((e.duration_s * 1e6).round() as i64)
            <= until + chrono::Duration::milliseconds(1)));

    // A real export (Windows, overlapping AFK intervals).
    let sample = repo().join("../shared/data/activitywatch/endersa1-aw-buckets-export.json");
    assert!(sample.is_file(), "the real sample {} is missing (../shared/data)", sample.display());
    {
        // Its own server: both exports have an `aw-watcher-web-firefox` bucket.
        let server = AwServer::start();
        server.import(&sample);
        let (a, b) = both_paths(
            &server,
            sample.to_str().unwrap(),
            "LAPTOP-MCRJASPH",
            "2023-11-18T00:00:00Z",
            "2023-11-20T00:00:00Z",
            &[],
        );
        // The server's query answers 1864 events, one window piece twice (two of its AFK
        // periods overlap); vrd keeps it once: one timeline, sorted, without overlaps.
        assert_eq!(a.lines().count(), 1863);
        assert_same(&a, &b);
        let events: Vec<vrd_core::records::AppEvent> = a.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        for w in events.windows(2) {
            let end = w[0].start + chrono::Duration::microseconds((w[0].duration_s * 1e6).round() as i64);
            assert!(end <= w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
        }
        assert!(events.iter().all(|e| e.host.as_deref() == Some("LAPTOP-MCRJASPH")));
    }
}

#[test]
fn the_store_resumes_where_its_timeline_ends() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.sqlite");
    let export = fixture("aw-buckets-export.json");
    let run = |extra: &[&str]| {
        let out = ingest(
            &[&["aw", "--export", &export, "--hostname", "laptop", "--db", db.to_str().unwrap()][..], extra].concat(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = run(&["--until", "2026-11-20T10:00:00Z"]);
    assert!(first.contains("app events") && first.contains("new"), "{first}");
    let store = vrd_store::Store::open(&db).unwrap();
    let end = store.app_events_end("aw-watcher-window_laptop").unwrap().unwrap();
    // The period end is rounded up to the next millisecond, as the server's query does.
    assert!(end <= vrd_core::time::parse_rfc3339("2026-11-20T10:00:00.001Z").unwrap(), "{end}");
    // No --since: it continues from the stored end; a second identical run changes nothing.
    run(&[]);
    let again = run(&[]);
    assert!(again.contains(" 0 new, 0 updated"), "{again}");
    let events = store.app_events(None, None).unwrap();
    assert!(events.windows(2).all(|w| w[0].start < w[1].start));
    assert!(events.last().unwrap().start > end);
}

#[test]
fn failures_are_named() {
    // Nothing listens on this port.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = ingest(&["aw", "--server", &format!("http://127.0.0.1:{port}"), "--hostname", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach ActivityWatch at http://127.0.0.1:"), "{stderr}");
    // In words, the address once: not ureq's "Connection Failed: Connect error: …" after
    // the URL twice over.
    assert!(stderr.contains(": connection refused (is aw-server running there?"), "{stderr}");
    assert_eq!(stderr.matches(&format!("127.0.0.1:{port}")).count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());

    let out = ingest(&["aw", "--export", &repo().join("fixtures/candidates.jsonl").to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an ActivityWatch export"));

    let export = fixture("aw-buckets-export.json");
    let out = ingest(&["aw", "--export", &export]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("several hosts"));

    let out = ingest(&[
        "aw",
        "--export",
        &export,
        "--hostname",
        "laptop",
        "--since",
        "2026-11-21T00:00:00Z",
        "--until",
        "2026-11-20T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(2));

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "secret-key-123").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out =
        ingest(&["aw", "--server", "http://127.0.0.1:9", "--api-key-file", key.to_str().unwrap(), "--hostname", "x"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("chmod 600") && !stderr.contains("secret-key-123"), "{stderr}");
}

/// A desktop and a phone in one export: the laptop with its AFK watcher and a browser tab
/// that plays a video while the keyboard rests, and an aw-android window bucket (host
/// `unknown`, no AFK bucket, zero-length and repeated events as the phone writes them).
fn desktop_and_phone_export(dir: &Path) -> std::path::PathBuf {
    let ev = |t: &str, d: f64, data: serde_json::Value| serde_json::json!({"timestamp": format!("2026-11-25T{t}+00:00"), "duration": d, "data": data});
    let bucket = |id: &str, kind: &str, host: &str, events: Vec<serde_json::Value>| {
        (
            id.to_string(),
            serde_json::json!({"id": id, "created": "2026-11-25T00:00:00+00:00", "name": null, "type": kind, "client": "test", "hostname": host, "events": events}),
        )
    };
    let app = |a: &str, t: &str| serde_json::json!({"app": a, "title": t});
    let phone = |a: &str| serde_json::json!({"app": a, "package": "com.example", "classname": "Main"});
    let buckets: serde_json::Map<String, serde_json::Value> = [
        bucket(
            "aw-watcher-window_laptop",
            "currentwindow",
            "laptop",
            vec![ev("10:00:00", 1200.0, app("code", "main.rs")), ev("10:20:00", 2400.0, app("firefox", "YouTube"))],
        ),
        bucket(
            "aw-watcher-afk_laptop",
            "afkstatus",
            "laptop",
            vec![
                ev("10:00:00", 1500.0, serde_json::json!({"status": "not-afk"})),
                ev("10:25:00", 2100.0, serde_json::json!({"status": "afk"})),
            ],
        ),
        bucket(
            "aw-watcher-web-firefox",
            "web.tab.current",
            "laptop",
            vec![ev(
                "10:20:00",
                2100.0,
                serde_json::json!({"url": "https://www.youtube.com/watch?v=x", "title": "A talk", "audible": true}),
            )],
        ),
        bucket(
            "aw-watcher-android-test",
            "currentwindow",
            "unknown",
            vec![
                ev("10:30:00", 300.0, phone("抖音")),
                ev("10:35:02", 298.0, phone("抖音")),
                ev("10:44:00", 0.0, phone("系统桌面")),
                ev("10:45:00", 60.0, phone("微信")),
            ],
        ),
    ]
    .into_iter()
    .collect();
    let path = dir.join("aw-buckets-export.json");
    std::fs::write(&path, serde_json::json!({ "buckets": buckets }).to_string()).unwrap();
    path
}

fn spans(jsonl: &str) -> Vec<(String, String, String, f64)> {
    jsonl
        .lines()
        .map(|l| {
            let e: vrd_core::records::AppEvent = serde_json::from_str(l).unwrap();
            (e.host.unwrap_or_default(), e.app, e.start.format("%H:%M:%S").to_string(), e.duration_s)
        })
        .collect()
}

#[test]
fn a_desktop_and_a_phone_in_one_run_from_the_server_and_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let export = desktop_and_phone_export(dir.path());
    let export = export.to_str().unwrap();
    let server = AwServer::start();
    server.import(Path::new(export));
    let period = ["--since", "2026-11-25T00:00:00Z", "--until", "2026-11-26T00:00:00Z"];
    let run = |extra: &[&str]| {
        let from_server = ok(&ingest(&[&["aw", "--aw-server", &server.url][..], &period, extra].concat()));
        let from_file = ok(&ingest(&[&["aw", "--export", export][..], &period, extra].concat()));
        assert_same(&from_server, &from_file);
        from_server
    };
    let s = |host: &str, app: &str, at: &str, d: f64| (host.to_string(), app.to_string(), at.to_string(), d);
    let phone = [s("unknown", "抖音", "10:30:00", 600.0), s("unknown", "微信", "10:45:00", 60.0)];
    // The phone alone: its window bucket, flooded (the 2 s gap closed, the zero-length
    // event gone), with no AFK filter.
    assert_eq!(spans(&run(&["--aw-hostname", "unknown"])), phone);
    // Both hosts, in time order, each event tagged: the video looks AFK to the keyboard...
    let both = run(&["--aw-all-hosts"]);
    let laptop = [s("laptop", "code", "10:00:00", 1200.0), s("laptop", "firefox", "10:20:00", 300.0)];
    assert_eq!(spans(&both), [laptop.to_vec(), phone.to_vec()].concat());
    assert_eq!(both, run(&["--aw-hostname", "laptop,unknown"]), "a list of hosts is the same run");
    // ...unless audible tabs count as active: then it is watched until the tab fell silent.
    let audible = run(&["--aw-hostname", "laptop", "--aw-audible-active"]);
    assert_eq!(spans(&audible), [s("laptop", "code", "10:00:00", 1200.0), s("laptop", "firefox", "10:20:00", 2100.0)]);

    // Into a store: each host resumes where its own timeline ends.
    let db = dir.path().join("vrd.sqlite");
    let db = db.to_str().unwrap();
    let into_store = |until: &str| {
        let out = ingest(&["aw", "--export", export, "--aw-all-hosts", "--db", db, "--until", until]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    into_store("2026-11-25T10:40:00Z");
    into_store("2026-11-26T00:00:00Z");
    let store = vrd_store::Store::open(Path::new(db)).unwrap();
    let stored: Vec<(Option<String>, String)> =
        store.app_events(None, None).unwrap().into_iter().map(|e| (e.host, e.app)).collect();
    let names = |h: &str, a: &str| (Some(h.to_string()), a.to_string());
    assert_eq!(
        stored,
        [names("laptop", "code"), names("laptop", "firefox"), names("unknown", "抖音"), names("unknown", "微信")]
    );

    let out = ingest(&["aw", "--export", export, "--aw-hostname", "tablet"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no window bucket for host \"tablet\"") && stderr.contains("\"unknown\""), "{stderr}");
    assert!(stderr.contains("--aw-all-hosts"), "the flag that reads them all: {stderr}");
}
