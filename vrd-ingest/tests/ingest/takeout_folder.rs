//! `vrd-ingest takeout DIR|ZIP`: a whole Takeout, as Google sends it, assembled from the
//! real samples in ../shared/data (a German account's folder names), into the store; and
//! `vrd-ingest subscriptions` with `rss --db` fetching the subscribed channels' feeds from a
//! loopback server that serves the real RSS samples.

use crate::common;

use common::{ingest, repo, Reply, Server};
use std::path::{Path, PathBuf};
use vrd_store::Store;

fn shared(path: &str) -> PathBuf {
    let p = repo().join("../shared/data").join(path);
    assert!(p.is_file(), "the real sample {} is missing (../shared/data)", p.display());
    p
}

const KURZGESAGT: &str = "UCsXVk37bltHxD1rDPwtNM8Q";
const PODTUBE: &str = "UC2_f3_-kgw2I8kqVY69rerg";

/// A German account's Takeout: the real watch and search histories (HTML), subscriptions,
/// a liked list holding two watched videos, and a playlist vrd does not use.
fn takeout(root: &Path) -> PathBuf {
    let yt = root.join("Takeout/YouTube und YouTube Music");
    for dir in ["Verlauf", "Abos", "Playlists"] {
        std::fs::create_dir_all(yt.join(dir)).unwrap();
    }
    std::fs::copy(shared("takeout/beytullahdizman-watch-history.html"), yt.join("Verlauf/Wiedergabeverlauf.html"))
        .unwrap();
    std::fs::copy(shared("takeout/beytullahdizman-search-history.html"), yt.join("Verlauf/Suchverlauf.html")).unwrap();
    std::fs::write(
        yt.join("Abos/Abos.csv"),
        format!(
            "Kanal-ID,Kanal-URL,Kanaltitel\n{KURZGESAGT},http://www.youtube.com/channel/{KURZGESAGT},Kurzgesagt – In a Nutshell\n\
             {PODTUBE},http://www.youtube.com/channel/{PODTUBE},Podtube\n"
        ),
    )
    .unwrap();
    std::fs::write(
        yt.join("Playlists/Videos mit \"Mag ich\"-Bewertung.csv"),
        "Video-ID,Zeitstempel der Erstellung des Playlist-Videos\nEr5X_clRDZI,2023-07-01T12:34:56+00:00\n2DIdtwlt8_o,2023-07-02T08:00:00+00:00\n",
    )
    .unwrap();
    std::fs::write(
        yt.join("Playlists/Später ansehen-Videos.csv"),
        "Video-ID,Zeitstempel\nabc,2023-07-01T12:34:56+00:00\n",
    )
    .unwrap();
    root.join("Takeout")
}

fn run_ok(args: &[&str]) -> String {
    let out = ingest(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

#[test]
fn a_whole_takeout_folder_and_its_zip_go_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let folder = takeout(dir.path());
    let db = dir.path().join("vrd.db");
    let tz = ["--timezone", "Europe/Istanbul"];
    let said = run_ok(&[&["takeout", folder.to_str().unwrap(), "--db", db.to_str().unwrap()], &tz[..]].concat());
    for line in [
        "watch history: 1122 watches from",
        "search history: 384 searches from",
        "subscriptions: 2 channels from",
        "liked videos: 2 videos from",
        "disliked videos: not found",
        "saved videos: 1 videos from",
        "not used: 0",
    ] {
        assert!(said.contains(line), "{line:?} in:\n{said}");
    }
    let store = Store::open(&db).unwrap();
    // The same as ingesting each file on its own.
    let single = dir.path().join("single.db");
    let history = shared("takeout/beytullahdizman-watch-history.html");
    run_ok(&[&["takeout", history.to_str().unwrap(), "--db", single.to_str().unwrap()], &tz[..]].concat());
    let searches = shared("takeout/beytullahdizman-search-history.html");
    run_ok(&[&["searches", searches.to_str().unwrap(), "--db", single.to_str().unwrap()], &tz[..]].concat());
    let single = Store::open(&single).unwrap();
    assert_eq!(store.watch_events().unwrap(), single.watch_events().unwrap());
    assert_eq!(store.searches().unwrap(), single.searches().unwrap());
    let subs = store.subscriptions().unwrap();
    assert_eq!(subs.len(), 2);
    assert!(subs.iter().any(
        |s| s.channel_id.as_deref() == Some(KURZGESAGT) && s.title.as_deref() == Some("Kurzgesagt – In a Nutshell")
    ));
    // The German account's "Später ansehen" (Watch later) list: a saved video, a candidate
    // until it is watched.
    let saved = store.saved_videos().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!((saved[0].video_id.as_str(), saved[0].playlist.as_str()), ("abc", "Später ansehen"));
    assert!(store.videos_by_id(&["abc".to_string()]).unwrap().len() == 1, "a stored video, its details to come");
    let labels = store.label_history().unwrap();
    assert_eq!(labels.len(), 2);
    assert!(labels.iter().all(|l| l.kind == vrd_core::records::LabelKind::Interest && l.source == "takeout-liked"));

    // Again: nothing new. From the .zip Google sends: the same store.
    let again = run_ok(&[&["takeout", folder.to_str().unwrap(), "--db", db.to_str().unwrap()], &tz[..]].concat());
    assert!(again.contains("watch events 0 new, 0 updated, 1122 unchanged"), "{again}");
    assert!(again.contains("liked and disliked videos 0 added, 2 already present"), "{again}");
    let zip_path = dir.path().join("takeout-20261206T000000Z-001.zip");
    zip_folder(&folder, &zip_path);
    let zipped = dir.path().join("zipped.db");
    run_ok(&[&["takeout", zip_path.to_str().unwrap(), "--db", zipped.to_str().unwrap()], &tz[..]].concat());
    let zipped = Store::open(&zipped).unwrap();
    assert_eq!(zipped.watch_events().unwrap(), store.watch_events().unwrap());
    assert_eq!(zipped.searches().unwrap(), store.searches().unwrap());
    assert_eq!(zipped.subscriptions().unwrap(), subs);
}

#[test]
fn a_takeout_without_what_vrd_reads_or_without_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let folder = takeout(dir.path());
    let out = ingest(&["takeout", folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "no --db: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --db"));
    let empty = dir.path().join("Takeout-empty/YouTube and YouTube Music/playlists");
    std::fs::create_dir_all(&empty).unwrap();
    // The list of playlists names no video.
    std::fs::write(
        empty.join("playlists.csv"),
        "Playlist ID,Add new videos to top,Playlist Title (Original)\nPL1,False,Mine\n",
    )
    .unwrap();
    let db = dir.path().join("vrd.db");
    let out = ingest(&["takeout", dir.path().join("Takeout-empty").to_str().unwrap(), "--db", db.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("watch history: not found") && stderr.contains("no watch history"), "{stderr}");
    // A history file that does not read names itself, and nothing is written.
    let broken = takeout(&dir.path().join("broken"));
    std::fs::write(
        broken.join("YouTube und YouTube Music/Verlauf/Wiedergabeverlauf.html"),
        "<html><body><div class=\"outer-cell\">x",
    )
    .unwrap();
    let out = ingest(&["takeout", broken.to_str().unwrap(), "--db", db.to_str().unwrap(), "--timezone", "UTC"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Wiedergabeverlauf.html"), "{stderr}");
    assert!(Store::open(&db).unwrap().subscriptions().unwrap().is_empty(), "nothing written");
}

#[test]
fn subscriptions_become_the_feeds_rss_fetches() {
    let dir = tempfile::tempdir().unwrap();
    // Each channel's feed is a real sample, served on loopback as YouTube serves it.
    let server = Server::start(move |request| {
        let file = match request.param("channel_id") {
            Some(KURZGESAGT) => "rss/mikemad-youtube-feed.xml",
            Some(PODTUBE) => "rss/dyeray-podtube.xml",
            _ => {
                return Reply {
                    status: 404,
                    content_type: "text/plain",
                    body: "no such channel".into(),
                    ..Reply::default()
                }
            }
        };
        let body = std::fs::read_to_string(shared(file)).unwrap();
        Reply { status: 200, content_type: "application/atom+xml", body, ..Reply::default() }
    });
    let csv = dir.path().join("subscriptions.csv");
    std::fs::write(
        &csv,
        format!(
            "Channel Id,Channel Url,Channel Title\n{KURZGESAGT},http://www.youtube.com/channel/{KURZGESAGT},Kurzgesagt\n\
             {PODTUBE},http://www.youtube.com/channel/{PODTUBE},Podtube\n"
        ),
    )
    .unwrap();
    let out = ingest(&["subscriptions", csv.to_str().unwrap()]);
    let lines = common::json_lines(&out);
    assert_eq!(lines[0]["feed"], format!("https://www.youtube.com/feeds/videos.xml?channel_id={KURZGESAGT}"));
    let db = dir.path().join("vrd.db");
    run_ok(&["subscriptions", csv.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    let out = std::process::Command::new(common::BIN)
        .args(["rss", "--db", db.to_str().unwrap()])
        .env("VRD_YOUTUBE_BASE", &server.base)
        // The real samples' uploads are years old: kept, as if new.
        .env("VRD_KEEP_DAYS", "100000")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("channel feeds: 2 followed, 2 due; 2 fetched") && stderr.contains("videos 30 new"),
        "{stderr}"
    );
    assert_eq!(Store::open(&db).unwrap().videos().unwrap().len(), 30);
    assert_eq!(server.requests().len(), 2, "one request per channel");
}

/// Zips `folder` as Takeout does (paths from the `Takeout/` folder down).
fn zip_folder(folder: &Path, out: &Path) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let base = folder.parent().unwrap();
    let mut todo = vec![folder.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            let name = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            zip.start_file(name, zip::write::FileOptions::default()).unwrap();
            std::io::Write::write_all(&mut zip, &std::fs::read(&path).unwrap()).unwrap();
        }
    }
    zip.finish().unwrap();
}

/// A folder holding two people's Takeouts (each a whole German account's, from the real
/// samples) is refused, naming both, and nothing is stored; one Takeout whose parts were
/// unpacked apart (a multi-part archive: the history in one folder, the subscriptions in
/// another) is one person's, and goes in whole.
#[test]
fn several_peoples_takeouts_are_refused_and_a_split_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people");
    takeout(&people.join("alice"));
    takeout(&people.join("bob"));
    let db = dir.path().join("vrd.db");
    let out = ingest(&["takeout", people.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let (alice, bob) = (people.join("alice/Takeout"), people.join("bob/Takeout"));
    assert!(stderr.contains("holds 2 Takeouts, each with a watch history"), "{stderr}");
    assert!(stderr.contains(&alice.display().to_string()) && stderr.contains(&bob.display().to_string()), "{stderr}");
    assert!(!db.exists() || Store::open(&db).unwrap().watch_events().unwrap().is_empty(), "nothing stored");

    // One person's Takeout in two parts.
    let split = dir.path().join("split");
    takeout(&split.join("part-1"));
    let part2 = split.join("part-2/Takeout/YouTube und YouTube Music/Abos");
    std::fs::create_dir_all(&part2).unwrap();
    let abos = split.join("part-1/Takeout/YouTube und YouTube Music/Abos/Abos.csv");
    std::fs::rename(&abos, part2.join("Abos.csv")).unwrap();
    let said = run_ok(&["takeout", split.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert!(said.contains("watch history: 1122 watches") && said.contains("subscriptions: 2 channels"), "{said}");
}

/// An English account's playlists beside the German account's: "Watch later" and a list of
/// the person's own become saved videos with their playlist's name and when they were added;
/// the liked list stays answers.
#[test]
fn saved_playlists_in_two_account_languages() {
    let dir = tempfile::tempdir().unwrap();
    let english = dir.path().join("en/Takeout/YouTube and YouTube Music/playlists");
    std::fs::create_dir_all(&english).unwrap();
    std::fs::write(
        english.join("Watch later-videos.csv"),
        "Video ID,Playlist Video Creation Timestamp\nY7dpJ0oseIA,2024-03-01T10:00:00+00:00\nRzPZvKSdN7g,2024-03-02T10:00:00+00:00\n",
    )
    .unwrap();
    std::fs::write(
        english.join("Sourdough-videos.csv"),
        "Video ID,Playlist Video Creation Timestamp\n2DIdtwlt8_o,2024-03-03T10:00:00+00:00\n",
    )
    .unwrap();
    std::fs::write(
        english.join("Liked videos-videos.csv"),
        "Video ID,Playlist Video Creation Timestamp\nEr5X_clRDZI,2024-03-04T10:00:00+00:00\n",
    )
    .unwrap();
    let db = dir.path().join("en.db");
    let said = run_ok(&["takeout", dir.path().join("en/Takeout").to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert!(said.contains("saved videos: 3 videos from") && said.contains("liked videos: 1 videos"), "{said}");
    let saved = Store::open(&db).unwrap().saved_videos().unwrap();
    let got: Vec<(&str, &str, Option<String>)> =
        saved.iter().map(|s| (s.video_id.as_str(), s.playlist.as_str(), s.saved_at.map(|t| t.to_rfc3339()))).collect();
    assert_eq!(
        got,
        [
            ("2DIdtwlt8_o", "Sourdough", Some("2024-03-03T10:00:00+00:00".to_string())),
            ("RzPZvKSdN7g", "Watch later", Some("2024-03-02T10:00:00+00:00".to_string())),
            ("Y7dpJ0oseIA", "Watch later", Some("2024-03-01T10:00:00+00:00".to_string())),
        ]
    );
    let german = takeout(&dir.path().join("de"));
    let db = dir.path().join("de.db");
    run_ok(&["takeout", german.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    let saved = Store::open(&db).unwrap().saved_videos().unwrap();
    assert_eq!(saved.iter().map(|s| s.playlist.as_str()).collect::<Vec<_>>(), ["Später ansehen"]);
}
