//! README's "Your own feed", run exactly as written (the commands extracted from README.md,
//! as the install test does) on its own paths: `make install` into a temporary HOME's
//! `~/.local`, then the commands with the installed tools and cron job alone on the PATH,
//! the store and models in the default `~/.local/share/vrd`. The HOME holds a Takeout folder
//! built from the real samples in ../shared/data (a watch and a search history, and
//! subscriptions to the channels of the real RSS samples); a real aw-server is loaded with
//! the real Windows export, and the subscribed channels' feeds are served from a loopback
//! HTTP server.
//!
//! Then the loop's daily life: a retrain, the cron job again with ActivityWatch stopped and
//! one channel answering 500 and another 404 (each run still makes a feed; what answered is
//! stored; the failure is said once), the page in a real browser for a person with no
//! answers yet (the model's state in the first screen), and `make uninstall`, which leaves
//! the person's store and models.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::aw_server;

use crate::paths;
use paths::{repo, shared_data as shared};

/// The real RSS samples, by the channel each is the feed of.
const CHANNELS: [(&str, &str, &str); 3] = [
    ("UCk195x4zYdMx4LhqEwhcPng", "Podtube", "rss/dyeray-podtube.xml"),
    ("UCK8sQmJBp8GCxrOtXWBpyEA", "Feedjira", "rss/feedjira-youtube-atom.xml"),
    ("UC2_f3_-kgw2I8kqVY69rerg", "Sabelle", "rss/mikemad-youtube-feed.xml"),
];

/// The upload that appears in Podtube's feed once the other two channels fail.
const NEW_UPLOAD: &str = "vrdNewVid01";

/// The channel the person watched most (535 times, in 2024) and never subscribed to.
const WATCHED: &str = "UClKBd-4xFVodFmK3bZfJAAQ";

/// Its feed: three uploads of the last days.
fn watched_channels_feed() -> String {
    let entries: String = (0..3)
        .map(|i| {
            let id = format!("vrdWatched{i}");
            let published = (chrono::Utc::now() - chrono::Duration::days(i + 1)).to_rfc3339();
            format!(
                "<entry><yt:videoId>{id}</yt:videoId><yt:channelId>{WATCHED}</yt:channelId>\
                 <title>Matematik ders {i}: türev ve integral</title><link rel=\"alternate\" href=\"https://www.youtube.com/watch?v={id}\"/>\
                 <author><name>BUders Boğaziçiliden Özel Ders</name></author><published>{published}</published></entry>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><feed xmlns:yt=\"http://www.youtube.com/xml/schemas/2015\" xmlns=\"http://www.w3.org/2005/Atom\">\
         <yt:channelId>{WATCHED}</yt:channelId><title>BUders Boğaziçiliden Özel Ders</title>{entries}</feed>"
    )
}

/// Podtube's real feed with one more upload at its head (a copy of its first entry under
/// another id and title).
fn podtube_with_a_new_upload() -> String {
    let feed = std::fs::read_to_string(shared(CHANNELS[0].2)).unwrap();
    let start = feed.find("<entry>").unwrap();
    let end = feed.find("</entry>").unwrap() + "</entry>".len();
    let old_id = "Elewn679CZI";
    let entry = feed[start..end]
        .replace(old_id, NEW_UPLOAD)
        .replace("El Brillante Futuro de la Física", "Un vídeo nuevo sobre neutrinos y física");
    assert!(entry.contains(NEW_UPLOAD), "the sample's first entry is {old_id}");
    format!("{}{entry}\n {}", &feed[..start], &feed[start..])
}

/// Serves each channel's feed as YouTube does (`/feeds/videos.xml?channel_id=…`) on a
/// loopback port, for as long as the test runs; returns the base URL. Once `faults` is set,
/// Feedjira's answers 500, Sabelle's 404 (as a deleted channel's does), and Podtube's holds a
/// new upload.
fn serve_feeds(faults: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let asked = |id: &str| line.contains(&format!("channel_id={id}"));
            let failing = faults.load(Ordering::SeqCst);
            let (status, body) = match CHANNELS.iter().position(|(id, _, _)| asked(id)) {
                Some(0) if failing => ("200 OK", podtube_with_a_new_upload()),
                Some(1) if failing => ("500 Internal Server Error", "oops".to_string()),
                Some(2) if failing => ("404 Not Found", String::new()),
                Some(i) => ("200 OK", std::fs::read_to_string(shared(CHANNELS[i].2)).unwrap()),
                None if asked(WATCHED) => ("200 OK", watched_channels_feed()),
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

/// `make TARGET PREFIX=prefix` in the clone, as a person runs it (the tools are already
/// built, so its build step finds nothing to do).
fn make(target: &str, prefix: &Path) {
    let out = Command::new("make")
        .arg(target)
        .arg(format!("PREFIX={}", prefix.display()))
        .current_dir(repo())
        // Not the outer `make test`'s jobserver.
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "make {target}:\n{}", String::from_utf8_lossy(&out.stderr));
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

/// The stored feeds' moments, newest first.
fn feed_moments(db: &Path) -> Vec<String> {
    vrd_store::Store::open(db).unwrap().feed_moments().unwrap()
}

#[test]
fn the_readme_takes_a_person_from_their_exports_to_a_page_ranked_by_their_own_model() {
    let commands = readme_commands();
    assert!(commands.len() <= 4, "at most four commands: {commands:#?}");
    let chromium = crate::page::chromium();
    let aw = aw_server::AwServer::start();
    aw.import(&shared("activitywatch/endersa1-aw-buckets-export.json"));
    let faults = Arc::new(AtomicBool::new(false));
    let feeds = serve_feeds(faults.clone());
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    takeout(&home);
    let prefix = home.join(".local");
    // The tools the commands run are these, installed: fresh ones.
    crate::tools::tool("vrd-label");
    make("install", &prefix);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let aw_url = aw.url.clone();
    // The README's commands from the person's home, with nothing of the clone's around: the
    // installed tools alone on the PATH.
    let shell = |script: &str| {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(format!("set -euo pipefail\n{script}"))
            .current_dir(&home)
            .env_clear()
            .env("HOME", &home)
            .env("PATH", format!("{}:/usr/bin:/bin", prefix.join("bin").display()))
            .env("LANG", "C.UTF-8")
            .env("VRD_AW_SERVER", &aw_url)
            .env("VRD_YOUTUBE_BASE", &feeds)
            .env("VRD_LISTEN", format!("127.0.0.1:{port}"))
            // The real channel feeds are samples years old: their uploads stay candidates,
            // as new ones would.
            .env("VRD_MAX_AGE_DAYS", "100000")
            .env("VRD_KEEP_DAYS", "100000")
            // No pauses between the loopback server's answers.
            .env("VRD_FETCH_PAUSE_MS", "0,0");
        cmd
    };
    let run = |script: &str| -> (Output, String) {
        let out = shell(script).stdin(Stdio::null()).output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{script}:\n{said}");
        (out, said)
    };
    // Every command but the page, which serves until stopped.
    let (page, setup) = commands.split_last().unwrap();
    let cron = setup.iter().find(|c| c.contains("vrd-cron-feed")).expect("the README runs the installed cron job");
    let (_, said) = run(&setup.join("\n"));
    for line in ["watch history: 1122 watches", "search history: 384 searches", "subscriptions: 3 channels"] {
        assert!(said.contains(line), "{line:?} in:\n{said}");
    }
    // The channels followed: the three subscribed and the 360 of the history; the
    // subscriptions, which matter most now, come first under the run's cap.
    assert!(said.contains("channel feeds: 363 followed, 363 due; 4 fetched"), "{said}");
    assert!(said.contains("videos 48 new"), "{said}");
    assert!(said.contains("retrain deployed"), "{said}");

    let data = home.join(".local/share/vrd");
    let db = data.join("vrd.db");
    let store = vrd_store::Store::open(&db).unwrap();
    assert!(store.app_events(None, None).unwrap().len() > 1000, "the real Windows timeline is in the store");
    let (_, feed) = store.latest_feed().unwrap().expect("a feed saved in the store");
    assert!(!feed.is_empty());
    assert!(feed.iter().all(|item| item.scores.contains_key("pick")), "ranked by the next-watch model");
    // The uploads of a channel the person watches but never subscribed to, said so.
    let from_watched: Vec<_> = feed.iter().filter(|i| i.video_id.starts_with("vrdWatched")).collect();
    assert!(!from_watched.is_empty(), "{feed:#?}");
    assert!(from_watched.iter().all(|i| i.reasons[0].starts_with("a channel you watch")), "{from_watched:#?}");
    drop(store);
    let encoder = prefix.join("lib/vrd/encoder");
    assert!(encoder.join("config.json").is_file(), "the encoder where make install put it");
    assert!(!data.join("model/config.json").exists(), "the person's model folder holds no encoder");

    // The browser extension sees the person watch the feed's first video (a Chrome tab,
    // aloud, just now): the cron job brings the watch in, and the next feed leaves it out.
    let (first_feed_at, feed) = vrd_store::Store::open(&db).unwrap().latest_feed().unwrap().unwrap();
    let picked = feed[0].clone();
    let opened = vrd_core::time::parse_rfc3339(&first_feed_at).unwrap() + chrono::Duration::seconds(1);
    // The tab is in the past when the cron job reads it: wait until 20 s of it have gone by.
    let watched = std::time::Duration::from_secs(20);
    std::thread::sleep((opened - chrono::Utc::now()).to_std().unwrap_or_default() + watched);
    aw.post_events_of(
        "unknown",
        "aw-watcher-web-chrome",
        "web.tab.current",
        serde_json::json!([{"timestamp": opened.to_rfc3339(), "duration": 20.0, "data": {
            "url": format!("https://www.youtube.com/watch?v={}&t=0s", picked.video_id),
            "title": format!("(2) {} - YouTube", picked.title), "audible": true, "incognito": false, "tabCount": 5}}]),
    );
    let (_, said) = run(cron);
    assert!(said.contains("live watches: 1 from the browser's tabs"), "{said}");
    let store = vrd_store::Store::open(&db).unwrap();
    let live = store.latest_live_watch().unwrap().expect("the watch seen live");
    assert_eq!((live.video_id.as_str(), live.watched_s), (picked.video_id.as_str(), Some(20.0)));
    let (_, next) = store.latest_feed().unwrap().unwrap();
    assert!(!next.is_empty() && next.iter().all(|i| i.video_id != picked.video_id), "watched, so gone: {next:#?}");
    drop(store);

    // The nightly retrain (allowed a second one today) sees the live watch as new: it
    // trains on it rather than waiting for a day of new watches.
    let (_, said) = run("vrd-train retrain --db ~/.local/share/vrd/vrd.db --model ~/.local/share/vrd/model \
         --embeddings ~/.local/share/vrd/media.safetensors --min-interval 1s");
    assert!(said.contains("retrain deployed") || said.contains("retrain refused"), "{said}");
    assert!(
        said.contains(
            "the feeds served: of the 1 videos you watched (seen live) in the last 28 days, 1 had been in a feed"
        ),
        "{said}"
    );
    assert!(said.contains("next-watch model from 1123 watches"), "the live watch among those trained on: {said}");
    let log = vrd_core::model_versions::Versions::of(&data.join("model")).log().unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.figures.as_ref().unwrap()["served_feeds"]["shown"], 1, "{last:?}");

    // ActivityWatch stopped, one channel failing with 500, another gone (404), and a new
    // upload in the third: the cron job again, twice, each run a feed.
    drop(aw);
    faults.store(true, Ordering::SeqCst);
    // Days pass: every channel is due again.
    let mut store = vrd_store::Store::open(&db).unwrap();
    let aged: Vec<vrd_core::reach::ChannelFetch> = store
        .channel_fetches()
        .unwrap()
        .into_iter()
        .map(|f| vrd_core::reach::ChannelFetch {
            last_tried: Some(chrono::Utc::now() - chrono::Duration::days(10)),
            retry_at: None,
            ..f
        })
        .collect();
    store.upsert_channel_fetches(&aged).unwrap();
    drop(store);
    let before = feed_moments(&db).len();
    let (_, said) = run(&format!("export VRD_RETRAIN_HOURS=always\n{cron}"));
    assert!(said.contains("cannot reach ActivityWatch at http://127.0.0.1:"), "{said}");
    assert!(said.contains("connection refused"), "in words: {said}");
    assert_eq!(said.matches("cannot reach ActivityWatch").count(), 1, "said once: {said}");
    assert!(said.contains("failed (exit 1); said once"), "{said}");
    // Each named as the store knows the channel (a title from its feed or the watches).
    let failed = |id: &str, how: &str| said.lines().any(|l| l.contains(&format!("({id}): {how}")));
    assert!(failed(CHANNELS[2].0, "answered 404 Not Found"), "{said}");
    assert!(failed(CHANNELS[1].0, "answered 500 Internal Server Error"), "{said}");
    assert!(said.contains("; 2 fetched (0 not modified), 58 failed"), "those answering stored: {said}");
    assert_eq!(feed_moments(&db).len(), before + 1, "a feed despite both: {said}");
    let store = vrd_store::Store::open(&db).unwrap();
    let new_upload = store.videos_by_id(&[NEW_UPLOAD.to_string()]).unwrap();
    assert_eq!(new_upload.len(), 1, "the channel that answered is stored: {said}");
    drop(store);
    // The installed encoder still loads: the feed encoded the new upload into the cache.
    let cache = vrd_core::tensors::Embeddings::read(&data.join("media.safetensors")).unwrap();
    assert!(cache.index().contains_key(NEW_UPLOAD), "the new upload encoded: {said}");
    let (_, said) = run(cron);
    assert!(!said.contains("ActivityWatch"), "the same failure is not said again: {said}");
    assert_eq!(feed_moments(&db).len(), before + 2, "a feed every run: {said}");

    // The page, by the installed vrd-label: the stored feed, and the progress page of a
    // person with no answers yet.
    let mut child = shell(page).stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let served = Page(child);
    loop {
        let line = lines.next().expect("serve says where it listens").unwrap();
        assert!(!line.contains("folds.svg"), "no warning about a plot a retrained model never has: {line}");
        if line.contains(&format!("serving http://127.0.0.1:{port}/")) {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let page = get(port, "/");
    let cards = page.matches("class=\"card\"").count();
    let (_, feed) = vrd_store::Store::open(&db).unwrap().latest_feed().unwrap().unwrap();
    // The page's first screen of the stored feed (21 cards a page).
    assert_eq!(cards, feed.len().min(21), "{page}");
    assert!(cards > 0 && page.matches("<ul class=\"reasons\">").count() == cards, "reasons on every card:\n{page}");
    let progress = get(port, "/progress");
    assert!(progress.contains("on 1122 watches") || progress.contains("on 1123 watches"), "{progress}");
    assert!(progress.contains("Last retrain"), "the retrain shown: {progress}");
    assert!(progress.contains("No answers yet"), "{progress}");
    let live = progress.split("id=\"live-last\">").nth(1).unwrap().split("</p>").next().unwrap();
    assert!(live.contains("from the browser&#39;s tab") || live.contains("from the browser's tab"), "{live}");
    assert!(progress.contains("had been in a feed before you watched them, at a median rank of 1"), "{progress}");

    // In the browser, as a person sees it: what the model is, in the first screen; no
    // picture taller than a chart's bound.
    let script = repo().join("scripts/browser-layout.py");
    let url = format!("http://127.0.0.1:{port}/progress");
    let out = Command::new("python3")
        .arg(&script)
        .args([&url, "#model-trained", "#model-next-watch", "--chromium", chromium])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let layout: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let viewport = layout["viewport"].as_f64().unwrap();
    for id in ["#model-trained", "#model-next-watch"] {
        let top = layout[id]["top"].as_f64().unwrap_or_else(|| panic!("{id} on the page: {layout}"));
        let bottom = top + layout[id]["height"].as_f64().unwrap();
        assert!(bottom <= viewport, "{id} within the first screen ({viewport} px): {layout}");
    }
    assert!(layout["#model-next-watch"]["text"].as_str().unwrap().contains("the cold start"), "{layout}");
    let pictures = layout["pictures"].as_array().unwrap();
    assert!(pictures.iter().all(|h| h.as_f64().unwrap() <= 400.0), "no picture taller than 400 px: {layout}");
    drop(served);

    // Uninstalled, the tools are gone and the person's data stays.
    make("uninstall", &prefix);
    assert!(!prefix.join("bin/vrd-cron-feed").exists() && !prefix.join("lib/vrd").exists());
    for kept in ["vrd.db", "media.safetensors", "model/pick.json", "model.versions/retrain.log"] {
        assert!(data.join(kept).exists(), "{kept} left where it was");
    }
}

/// An install made before the encoder moved (it lay in `PREFIX/share/vrd/model`, the cron
/// job's model folder, with its list in `PREFIX/share/vrd/installed-files`), in both states
/// a person may have: never retrained (the encoder's own folder), and retrained (the folder
/// a link to the adopted encoder in the person's versions). `make install` removes the
/// first and leaves the second's files, which are the person's now; the cron job then
/// trains the first model and ranks with it.
#[test]
fn an_install_before_the_move_is_cleaned_up_and_its_model_folder_heals() {
    let root = tempfile::tempdir().unwrap();
    let encoder_files = ["config.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json"];
    let old_install = |prefix: &Path, model_dir: &Path| {
        let share = prefix.join("share/vrd");
        let mut listed: Vec<PathBuf> = Vec::new();
        for file in encoder_files {
            let path = model_dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "encoder").unwrap();
            listed.push(share.join("model").join(file));
        }
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        std::fs::write(prefix.join("bin/vrd-rank"), "old").unwrap();
        listed.push(prefix.join("bin/vrd-rank"));
        let list: String = listed.iter().map(|p| format!("{}\n", p.display())).collect();
        std::fs::write(share.join("installed-files"), list).unwrap();
        std::fs::write(share.join("vrd.db"), "the person's store").unwrap();
    };
    // Never retrained: the encoder in the model folder, removed.
    let fresh = root.path().join("fresh");
    old_install(&fresh, &fresh.join("share/vrd/model"));
    make("install", &fresh);
    assert!(!fresh.join("share/vrd/model").exists(), "the old encoder copy is gone");
    assert!(!fresh.join("share/vrd/installed-files").exists());
    assert_eq!(std::fs::read_to_string(fresh.join("share/vrd/vrd.db")).unwrap(), "the person's store");
    assert!(fresh.join("lib/vrd/encoder/config.json").is_file() && fresh.join("bin/vrd-cron-feed").is_file());

    // Retrained: the model folder a link into the versions; the files behind it stay.
    let retrained = root.path().join("retrained");
    let share = retrained.join("share/vrd");
    let adopted = share.join("model.versions/adopted-20261201T000000Z");
    old_install(&retrained, &adopted);
    std::os::unix::fs::symlink("model.versions/adopted-20261201T000000Z", share.join("model")).unwrap();
    make("install", &retrained);
    for file in encoder_files {
        assert!(adopted.join(file).is_file(), "{file} behind the link left alone");
    }
    assert!(share.join("model").is_symlink() && share.join("vrd.db").is_file());

    // The cron job of the new install sees no model there: it trains the first one at once
    // and ranks with it (the simulated person's history and videos; no server, no channels).
    std::fs::remove_file(share.join("vrd.db")).unwrap();
    let mut store = vrd_store::Store::open(&share.join("vrd.db")).unwrap();
    let person = |file: &str| std::fs::read(crate::person_tools::person(file)).unwrap();
    store.upsert_videos(&crate::tools::json_lines(&person("videos.jsonl"))).unwrap();
    store.upsert_watch_events(&crate::tools::json_lines(&person("watch-history.jsonl"))).unwrap();
    drop(store);
    let out = Command::new(retrained.join("bin/vrd-cron-feed"))
        .env("VRD_HOME", &share)
        .env("VRD_AW_SERVER", "http://127.0.0.1:9")
        // The simulated person's videos are of 2025–2026: candidates still.
        .env("VRD_MAX_AGE_DAYS", "100000")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("retrain deployed"), "{said}");
    assert!(share.join("model/pick.json").is_file(), "the link now points at a model: {said}");
    assert!(!crate::tools::json_lines::<serde_json::Value>(&out.stdout).is_empty(), "a feed: {said}");
}
