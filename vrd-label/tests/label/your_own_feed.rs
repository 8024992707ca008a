//! README's "Your own feed", run exactly as written (the commands extracted from README.md,
//! as the install test does) with a temporary HOME holding a Takeout folder built from the
//! real samples in ../shared/data (a watch and a search history, and subscriptions to the
//! channels of the real RSS samples), a real aw-server loaded with the real Windows
//! export, and the subscribed channels' feeds served from a loopback HTTP server. At the
//! end the page serves a feed that a model trained from the store ranked.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::aw_server;

use crate::paths;
use paths::{repo, shared_data as shared};

/// The real RSS samples, by the channel each is the feed of.
const CHANNELS: [(&str, &str, &str); 3] = [
    ("UCk195x4zYdMx4LhqEwhcPng", "Podtube", "rss/dyeray-podtube.xml"),
    ("UCK8sQmJBp8GCxrOtXWBpyEA", "Feedjira", "rss/feedjira-youtube-atom.xml"),
    ("UC2_f3_-kgw2I8kqVY69rerg", "Sabelle", "rss/mikemad-youtube-feed.xml"),
];

/// Serves each channel's feed as YouTube does (`/feeds/videos.xml?channel_id=…`) on a
/// loopback port, for as long as the test runs; returns the base URL.
fn serve_feeds() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let feed = CHANNELS.iter().find(|(id, _, _)| line.contains(&format!("channel_id={id}")));
            let (status, body) = match feed {
                Some((_, _, file)) => ("200 OK", std::fs::read_to_string(shared(file)).unwrap()),
                None => ("404 Not Found", String::new()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/atom+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

/// A Takeout as Google's archive unpacks it, from the real samples.
fn takeout(home: &Path) {
    let yt = home.join("Takeout/YouTube and YouTube Music");
    std::fs::create_dir_all(yt.join("history")).unwrap();
    std::fs::create_dir_all(yt.join("subscriptions")).unwrap();
    std::fs::copy(shared("takeout/beytullahdizman-watch-history.html"), yt.join("history/watch-history.html")).unwrap();
    std::fs::copy(shared("takeout/beytullahdizman-search-history.html"), yt.join("history/search-history.html"))
        .unwrap();
    let mut csv = String::from("Channel Id,Channel Url,Channel Title\n");
    for (id, title, _) in CHANNELS {
        csv += &format!("{id},http://www.youtube.com/channel/{id},{title}\n");
    }
    std::fs::write(yt.join("subscriptions/subscriptions.csv"), csv).unwrap();
}

/// The commands of the ```sh block under "## Your own feed", exactly as a reader copies them.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme.split("## Your own feed").nth(1).expect("README has a section \"Your own feed\"");
    let block = section.split("```sh\n").nth(1).expect("the section holds a ```sh block");
    block.split("```").next().unwrap().lines().filter(|l| !l.trim().is_empty()).map(String::from).collect()
}

struct Page(Child);

impl Drop for Page {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

use crate::page;
use page::get;

#[test]
fn the_readme_takes_a_person_from_their_exports_to_a_page_ranked_by_their_own_model() {
    let commands = readme_commands();
    assert!(commands.len() <= 4, "at most four commands: {commands:#?}");
    let aw = aw_server::AwServer::start();
    aw.import(&shared("activitywatch/endersa1-aw-buckets-export.json"));
    let feeds = serve_feeds();
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    takeout(&home);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // The README's commands find the tools on the PATH: the built ones, fresh.
    let bin = crate::tools::tool("vrd-ingest").parent().unwrap().to_path_buf();
    let shell = |script: &str| {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(format!("set -euo pipefail\n{script}"))
            .current_dir(repo())
            .env_clear()
            .env("HOME", &home)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("LANG", "C.UTF-8")
            .env("VRD_AW_SERVER", &aw.url)
            .env("VRD_YOUTUBE_BASE", &feeds)
            .env("VRD_LISTEN", format!("127.0.0.1:{port}"));
        cmd
    };
    // Every command but the page, which serves until stopped.
    let (page, setup) = commands.split_last().unwrap();
    let out = shell(&setup.join("\n")).stdin(Stdio::null()).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    for line in ["watch history: 1122 watches", "search history: 384 searches", "subscriptions: 3 channels"] {
        assert!(said.contains(line), "{line:?} in:\n{said}");
    }
    assert!(said.contains("3 subscribed feeds") && said.contains("videos 45 new"), "{said}");
    assert!(said.contains("retrain deployed"), "{said}");

    let db = home.join(".local/share/vrd/vrd.db");
    let store = vrd_store::Store::open(&db).unwrap();
    assert!(store.app_events(None, None).unwrap().len() > 1000, "the real Windows timeline is in the store");
    let (_, feed) = store.latest_feed().unwrap().expect("a feed saved in the store");
    assert!(!feed.is_empty());
    assert!(feed.iter().all(|item| item.scores.contains_key("pick")), "ranked by the next-watch model");
    drop(store);

    let mut child = shell(page).stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let served = Page(child);
    loop {
        let line = lines.next().expect("serve says where it listens").unwrap();
        if line.contains(&format!("serving http://127.0.0.1:{port}/")) {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let page = get(port, "/");
    let cards = page.matches("class=\"card\"").count();
    // The page's first screen of the stored feed (21 cards a page).
    assert_eq!(cards, feed.len().min(21), "{page}");
    assert!(cards > 0 && page.matches("<ul class=\"reasons\">").count() == cards, "reasons on every card:\n{page}");
    let progress = get(port, "/progress");
    assert!(progress.contains("on 1122 watches"), "{progress}");
    assert!(progress.contains("the first model"), "the retrain shown: {progress}");
    drop(served);
}
