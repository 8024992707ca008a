//! vrd-ingest rss on feed files, real samples, an OPML list and feeds served over HTTP on
//! loopback, into JSONL and the store.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_vrd-ingest");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ingest(args: &[&str]) -> Output {
    Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap()
}

fn videos(out: &Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn fixture() -> String {
    repo().join("fixtures/rss/channel-feed.xml").to_string_lossy().into_owned()
}

#[test]
fn a_channel_feed_becomes_candidate_videos() {
    let v = videos(&ingest(&["rss", &fixture()]));
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["video_id"], "lWaRokVH711");
    assert_eq!(v[0]["channel_id"], "UCj_9basIcwkAABCDEFGHIJK", "the missing UC prefix is restored");
    assert_eq!(
        v[0]["description"],
        "Everything new in the latest stable Rust release: let chains, new lints & faster compile times."
    );
    assert_eq!(v[0]["published_at"], "2026-11-21T09:00:00Z");
    assert_eq!((v[0]["short"].as_bool(), v[1]["short"].as_bool()), (Some(false), Some(true)));
}

#[test]
fn real_feeds_parse() {
    let dir = repo().join("../shared/data/rss");
    if !dir.is_dir() {
        eprintln!("skipping: {} is not present", dir.display());
        return;
    }
    for (name, shorts) in
        [("dyeray-podtube.xml", 0), ("feedjira-youtube-atom.xml", 0), ("mikemad-youtube-feed.xml", 12)]
    {
        let v = videos(&ingest(&["rss", dir.join(name).to_str().unwrap()]));
        assert_eq!(v.len(), 15, "{name}");
        assert_eq!(v.iter().filter(|x| x["short"] == true).count(), shorts, "{name}");
        assert!(v.iter().all(|x| x["channel_id"].as_str().unwrap().starts_with("UC")), "{name}");
    }
}

/// Serves `body` to `n` requests on a loopback port; returns the base URL.
fn serve(body: String, n: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(body.as_bytes()).unwrap();
        }
    });
    url
}

#[test]
fn feeds_from_urls_and_an_opml_list_into_the_store() {
    let url = serve(std::fs::read_to_string(fixture()).unwrap(), 4);
    let dir = tempfile::tempdir().unwrap();
    let opml = dir.path().join("subs.opml");
    std::fs::write(
        &opml,
        format!("<?xml version=\"1.0\"?><opml version=\"1.1\"><body><outline text=\"YouTube\"><outline text=\"Rusty\" xmlUrl=\"{url}/feeds/videos.xml?channel_id=UCj_9basIcwkAABCDEFGHIJK\"/></outline></body></opml>"),
    )
    .unwrap();
    let db = dir.path().join("vrd.sqlite");
    let out =
        ingest(&["rss", "--opml", opml.to_str().unwrap(), &format!("{url}/other.xml"), "--db", db.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The same two videos twice (two feeds): stored once each.
    assert!(stderr.contains("videos 2 new, 0 updated, 2 unchanged"), "{stderr}");
    let stored = shared::store::Store::open(&db).unwrap().videos().unwrap();
    assert_eq!(stored.len(), 2);
}

#[test]
fn bad_feeds_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(&page, "<html><body>not a feed</body></html>").unwrap();
    let dest = dir.path().join("out.jsonl");
    let out = ingest(&["rss", page.to_str().unwrap(), "-o", dest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an Atom or RSS feed"));
    assert!(!dest.exists());
    let out = ingest(&["rss"]);
    assert_eq!(out.status.code(), Some(2));
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = ingest(&["rss", &format!("http://127.0.0.1:{port}/feed.xml")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("127.0.0.1:{port}")));
}
