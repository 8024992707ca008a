//! `vrd-label tui` in a real terminal: tmux runs it, send-keys types, capture-pane reads
//! the screen; the store is checked after each step. One test also has a real
//! ActivityWatch server on loopback for the "now" line.

use crate::aw_server;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::{LabelKind, Video};
use vrd_store::Store;

use crate::BIN;

use crate::paths;
use paths::repo;

fn candidates() -> Vec<Video> {
    JsonlReader::open(Some(&repo().join("fixtures/candidates.jsonl"))).unwrap().read_all().unwrap()
}

/// A tmux server of its own (own socket), killed with the test.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        assert!(Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()), "tmux is needed");
        let socket = format!("vrd-label-test-{}-{}", std::process::id(), rand_suffix());
        let tmux = Tmux { socket };
        let status = Command::new("tmux")
            .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d", "-x", "110", "-y", "30"])
            .arg(command)
            .env_remove("TMUX")
            .status()
            .unwrap();
        assert!(status.success());
        tmux
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket, "capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text` (the program redraws after each key).
    /// The screen once it shows `text` and is drawn to its end (tmux may show a frame half
    /// written: its last line of keys is the sign of a whole one), or once the tool exited.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            let whole = screen.contains("[j/k] next/previous  [q] quit") || screen.contains("EXITED=");
            if screen.contains(text) && whole {
                return screen;
            }
            assert!(Instant::now() < deadline, "screen never showed {text:?}; it shows:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&self, keys: &str) {
        let status = Command::new("tmux").args(["-L", &self.socket, "send-keys", "-t", "0", keys]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000
}

fn kinds(db: &Path) -> Vec<(String, LabelKind)> {
    Store::open(db).unwrap().label_history().unwrap().into_iter().map(|l| (l.video_id, l.kind)).collect()
}

/// The program's exit: the pane's shell prints it, then waits to be read.
fn run_line(db: &Path, args: &str) -> String {
    format!("{BIN} --db {} tui {args}; echo EXITED=$?; sleep 60", db.display())
}

#[test]
fn labelling_the_stores_candidates_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let mut videos = candidates();
    Store::open(&db).unwrap().upsert_videos(&videos).unwrap();
    videos.sort_by_key(|v| std::cmp::Reverse(v.published_at));
    let (first, second) = (&videos[0], &videos[1]);

    let tmux = Tmux::start(&run_line(&db, "--no-aw"));
    let screen = tmux.wait_for("1/26");
    assert!(screen.contains(&first.title), "newest first:\n{screen}");
    assert!(screen.contains(&format!("https://www.youtube.com/watch?v={}", first.video_id)));
    assert!(screen.contains(first.channel.as_deref().unwrap()));
    assert!(screen.contains("[i] interest") && screen.contains("[q] quit"));

    // Interest, then right time: both questions answered, on to the next.
    tmux.keys("i");
    let screen = tmux.wait_for("saved: interest");
    assert!(screen.contains("this video: interest interest · moment -"), "{screen}");
    assert_eq!(kinds(&db), [(first.video_id.clone(), LabelKind::Interest)], "stored at the key press");
    tmux.keys("r");
    let screen = tmux.wait_for("2/26");
    assert!(screen.contains(&second.title) && screen.contains("interest 1 · uninterest 0 · right-time 1"), "{screen}");

    // Skip moves on; undo takes the skip back and returns to that video.
    tmux.keys("s");
    tmux.wait_for("3/26");
    tmux.keys("z");
    let screen = tmux.wait_for("undone: skip");
    assert!(screen.contains("2/26") && screen.contains(&second.title), "{screen}");
    assert_eq!(kinds(&db).len(), 2);

    tmux.keys("u");
    tmux.wait_for("saved: uninterest");
    tmux.keys("q");
    tmux.wait_for("EXITED=0");
    assert_eq!(
        kinds(&db),
        [
            (first.video_id.clone(), LabelKind::Interest),
            (first.video_id.clone(), LabelKind::RightTime),
            (second.video_id.clone(), LabelKind::Uninterest),
        ]
    );
    // Labelled videos are not offered again.
    drop(tmux);
    let tmux = Tmux::start(&run_line(&db, "--no-aw"));
    let screen = tmux.wait_for("1/24");
    assert!(!screen.contains(&first.title));
}

#[test]
fn labelling_exactly_the_feed_piped_in_with_the_activity_now() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let feed = dir.path().join("feed.jsonl");
    // vrd-rank's JSONL lines, three of them, in rank order.
    let picked: Vec<Video> = candidates().into_iter().rev().take(3).collect();
    let lines: Vec<String> = picked
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::json!({"rank": i + 1, "video_id": v.video_id, "score": 0.9 - i as f64 / 10.0, "scores": {},
                "title": v.title, "channel": v.channel, "url": format!("https://www.youtube.com/watch?v={}", v.video_id)})
            .to_string()
        })
        .collect();
    std::fs::write(&feed, lines.join("\n") + "\n").unwrap();

    let aw = aw_server::AwServer::start();
    let host = aw.hostname();
    let now = chrono::Utc::now();
    let start = (now - chrono::Duration::minutes(25)).to_rfc3339();
    aw.post_events(
        &format!("aw-watcher-window_{host}"),
        "currentwindow",
        serde_json::json!([{"timestamp": start, "duration": 1500.0, "data": {"app": "vim", "title": "vim — main.rs"}}]),
    );
    aw.post_events(
        &format!("aw-watcher-afk_{host}"),
        "afkstatus",
        serde_json::json!([{"timestamp": start, "duration": 1500.0, "data": {"status": "not-afk"}}]),
    );

    let command = format!(
        "cat {} | {BIN} --db {} tui --from - --aw-server {}; echo EXITED=$?; sleep 60",
        feed.display(),
        db.display(),
        aw.url
    );
    let tmux = Tmux::start(&command);
    let screen = tmux.wait_for("1/3");
    assert!(screen.contains(&picked[0].title), "the feed's order:\n{screen}");
    assert!(screen.contains("now: Work > Programming · vim — vim — main.rs · active 25 min"), "{screen}");
    tmux.keys("n");
    tmux.wait_for("saved: not-now");
    tmux.keys("u");
    tmux.wait_for("2/3");
    tmux.keys("j");
    tmux.wait_for("3/3");
    tmux.keys("s");
    tmux.wait_for("All 3 candidates seen.");
    tmux.keys("q");
    tmux.wait_for("EXITED=0");
    let got = kinds(&db);
    assert_eq!(
        got,
        [
            (picked[0].video_id.clone(), LabelKind::NotNow),
            (picked[0].video_id.clone(), LabelKind::Uninterest),
            (picked[2].video_id.clone(), LabelKind::Skip),
        ]
    );
    let labels = Store::open(&db).unwrap().label_history().unwrap();
    assert!(labels.iter().all(|l| l.source == "tui" && (l.labelled_at - now).num_seconds().abs() < 120));
}

#[test]
fn a_kill_keeps_every_label_already_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    Store::open(&db).unwrap().upsert_videos(&candidates()).unwrap();
    let tmux = Tmux::start(&run_line(&db, "--aw-server http://127.0.0.1:9"));
    let screen = tmux.wait_for("1/26");
    assert!(screen.contains("ActivityWatch not reachable at http://127.0.0.1:9"), "{screen}");
    for (i, key) in ["s", "s", "i"].iter().enumerate() {
        tmux.keys(key);
        if i < 2 {
            tmux.wait_for(&format!("{}/26", i + 2));
        } else {
            tmux.wait_for("saved: interest");
        }
    }
    // Anchored: the pane's shell has the same words later in its command line.
    let pid = Command::new("pgrep").args(["-f", &format!("^{BIN} --db {}", db.display())]).output().unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout).lines().next().expect("the tui runs").trim().to_string();
    assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());
    tmux.wait_for("EXITED=137");
    assert_eq!(kinds(&db).len(), 3);
}
