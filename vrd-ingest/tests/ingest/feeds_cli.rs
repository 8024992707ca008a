//! vrd-ingest rss on feed files, real samples, an OPML list and feeds served over HTTP on
//! loopback, into JSONL and the store.

use crate::common;

use common::{ingest, json_lines as videos, repo, Reply, Server};
use std::net::TcpListener;

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
    assert!(dir.is_dir(), "the real samples {} are missing (../shared/data)", dir.display());
    for (name, shorts) in
        [("dyeray-podtube.xml", 0), ("feedjira-youtube-atom.xml", 0), ("mikemad-youtube-feed.xml", 12)]
    {
        let v = videos(&ingest(&["rss", dir.join(name).to_str().unwrap()]));
        assert_eq!(v.len(), 15, "{name}");
        assert_eq!(v.iter().filter(|x| x["short"] == true).count(), shorts, "{name}");
        assert!(v.iter().all(|x| x["channel_id"].as_str().unwrap().starts_with("UC")), "{name}");
    }
}

/// Serves `body` to every request on a loopback port; returns the base URL.
fn serve(body: String, _n: usize) -> String {
    let server = Server::start(move |_| Reply {
        status: 200,
        content_type: "application/atom+xml",
        body: body.clone(),
        ..Reply::default()
    });
    let base = server.base.clone();
    // The server thread lives until the test process ends.
    std::mem::forget(server);
    base
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
    let stored = vrd_store::Store::open(&db).unwrap().videos().unwrap();
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

/// The store's subscriptions as a cron job fetches them, one channel per request path: a
/// channel gone (404), one whose server fails (500), one that answers. Each feed stands
/// alone: the one that answered is stored, the others are said with their reasons and
/// counted, and the run succeeds; only when none answers does it fail, storing nothing.
#[test]
fn each_channel_feed_stands_alone() {
    let fixture_feed = std::fs::read_to_string(fixture()).unwrap();
    let server = Server::start(move |req| match req.param("channel_id") {
        Some("UCgone000000000000000000") => {
            Reply { status: 404, content_type: "text/html", body: String::new(), ..Reply::default() }
        }
        Some("UCbroken0000000000000000") => {
            Reply { status: 500, content_type: "text/plain", body: "oops".into(), ..Reply::default() }
        }
        _ => {
            Reply { status: 200, content_type: "application/atom+xml", body: fixture_feed.clone(), ..Reply::default() }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let subscriptions = dir.path().join("subscriptions.csv");
    std::fs::write(
        &subscriptions,
        "Channel Id,Channel Url,Channel Title\n\
         UCgone000000000000000000,http://www.youtube.com/channel/UCgone000000000000000000,Gone\n\
         UCbroken0000000000000000,http://www.youtube.com/channel/UCbroken0000000000000000,Broken\n\
         UCj_9basIcwkAABCDEFGHIJK,http://www.youtube.com/channel/UCj_9basIcwkAABCDEFGHIJK,Rusty\n",
    )
    .unwrap();
    let db_arg = db.to_str().unwrap();
    assert!(ingest(&["subscriptions", subscriptions.to_str().unwrap(), "--db", db_arg]).status.success());
    let out = ingest(&["rss", "--db", db_arg, "--youtube-base", &server.base, "--keep-days", "100000"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "one channel answered: {stderr}");
    assert!(stderr.contains("Gone (") && stderr.contains("answered 404 Not Found (no such channel feed"), "{stderr}");
    assert!(stderr.contains("Broken (") && stderr.contains("answered 500"), "{stderr}");
    assert!(stderr.contains("channel feeds: 3 followed, 3 due; 1 fetched (0 not modified), 2 failed"), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    assert_eq!(vrd_store::Store::open(&db).unwrap().videos().unwrap().len(), 2, "the answering feed's videos");

    // None answers (the server is gone): a failure, and nothing new stored.
    drop(server);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let other = dir.path().join("other.db");
    assert!(ingest(&["subscriptions", subscriptions.to_str().unwrap(), "--db", other.to_str().unwrap()])
        .status
        .success());
    let out = ingest(&["rss", "--db", other.to_str().unwrap(), "--youtube-base", &format!("http://127.0.0.1:{port}")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("connection refused") && stderr.contains("none of the 3 channel feeds tried answered"),
        "{stderr}"
    );
    assert!(vrd_store::Store::open(&other).unwrap().videos().unwrap().is_empty());
}
