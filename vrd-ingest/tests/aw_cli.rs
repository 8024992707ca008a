//! vrd-ingest aw against a real ActivityWatch server (aw-server from PyPI, installed into
//! the project venv by scripts/setup) on loopback: the server's query API and the local
//! computation from the export file must give the same timeline, event for event.

#[path = "../../tests-common/aw_server.rs"]
mod aw_server;
mod common;

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
    let period = ["--hostname", host, "--since", since, "--until", until];
    let from_server = ok(&ingest(&[&["aw", "--server", &server.url][..], &period, extra].concat()));
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
    let events: Vec<shared::records::AppEvent> = a.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
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
    let cut: Vec<shared::records::AppEvent> = a.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (since, until) = (
        shared::time::parse_rfc3339("2026-11-20T09:00:00.5Z").unwrap(),
        shared::time::parse_rfc3339("2026-11-20T10:30:00Z").unwrap(),
    );
    assert!(!cut.is_empty() && cut.len() < events.len());
    assert!(cut.iter().all(|e| e.start >= since
        && e.start + chrono::Duration::microseconds((e.duration_s * 1e6).round() as i64)
            <= until + chrono::Duration::milliseconds(1)));

    // A real export (Windows, overlapping AFK intervals), when the samples are present.
    let sample = repo().join("../shared/data/activitywatch/endersa1-aw-buckets-export.json");
    if sample.is_file() {
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
        assert_eq!(a.lines().count(), 1864);
        assert_same(&a, &b);
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
    let store = shared::store::Store::open(&db).unwrap();
    let end = store.app_events_end("aw-watcher-window_laptop").unwrap().unwrap();
    // The period end is rounded up to the next millisecond, as the server's query does.
    assert!(end <= shared::time::parse_rfc3339("2026-11-20T10:00:00.001Z").unwrap(), "{end}");
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach ActivityWatch at http://127.0.0.1:"));
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
