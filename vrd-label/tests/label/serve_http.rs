//! `vrd-label serve` over HTTP on a free loopback port, over a real store holding a feed:
//! the pages (escaped, the player, the answers, more like this), the Host check, the
//! per-run token and Origin check on answers, answers stored as vrd-label stores them with
//! their feed moment, undo, the JSON endpoint, a second server on the same store, and the
//! refusal of a non-loopback address without --allow-remote.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use vrd_core::records::{FeedItem, LabelKind, Video};
use vrd_core::tensors::{EmbeddingMeta, Embeddings};
use vrd_store::Store;

use crate::BIN;
const MOMENT: &str = "2026-11-20T21:30:00Z";
const EVIL_TITLE: &str = "<script>alert(1)</script> & \"quotes\"";

struct Served {
    child: Child,
    port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the server and waits for its "serving" line.
fn serve(db: &Path, extra: &[&str]) -> Served {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["serve", "--listen", &listen])
        .args(extra)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("serve says where it listens").unwrap();
    assert!(first.contains(&format!("serving http://{listen}/")), "{first}");
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    Served { child, port }
}

/// One raw HTTP/1.1 exchange, so that every header is exactly what the test says.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    http_bytes(port, method, path, headers, body.as_bytes())
}

/// [`http`] with any bytes as the body (not UTF-8, or far too long).
fn http_bytes(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request += &format!("Host: 127.0.0.1:{port}\r\n");
    }
    for (k, v) in headers {
        request += &format!("{k}: {v}\r\n");
    }
    request += "\r\n";
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    // A server that refuses early may close before it has read everything: the answer
    // still comes back.
    let _ = stream.write_all(&bytes);
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn video(id: &str, title: &str, channel: &str) -> Video {
    serde_json::from_value(serde_json::json!({
        "video_id": id, "title": title, "channel": channel,
        "published_at": "2026-11-18T10:00:00Z", "duration_s": 754.0, "description": "About <b>this</b>"
    }))
    .unwrap()
}

/// A store with three videos and one stored feed of them, and their embeddings.
fn store(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let db = dir.join("vrd.db");
    let videos = [
        video("vid1", "Rust async", "Rusty"),
        video("vid2", EVIL_TITLE, "Chan"),
        video("vid3", "Rust traits", "Rusty"),
    ];
    let mut store = Store::open(&db).unwrap();
    store.upsert_videos(&videos).unwrap();
    let feed: Vec<FeedItem> = videos
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut item =
                vrd_ranking::candidates::feed_item(i + 1, v, 0.9 - i as f64 / 10.0, Default::default(), vec![]);
            item.reasons = vec![format!("reason {i}")];
            item
        })
        .collect();
    store.save_feed(&vrd_core::time::parse_rfc3339(MOMENT).unwrap(), &feed, &[]).unwrap();
    let ids: Vec<String> = ["vid1", "vid2", "vid3"].map(String::from).to_vec();
    let meta = EmbeddingMeta { model_id: "m".into(), dim: 2, text_hashes: ids.clone(), ids };
    let emb = dir.join("emb.safetensors");
    Embeddings::from_parts(meta, vec![1.0, 0.0, 0.0, 1.0, 0.9, 0.1]).unwrap().write(&emb).unwrap();
    (db, emb)
}

fn token(page: &str) -> String {
    let start = page.find("name=\"vrd-token\" content=\"").expect("the page carries the token") + 26;
    page[start..start + 32].to_string()
}

#[test]
fn the_page_serves_the_feed_and_stores_answers_only_from_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (db, emb) = store(dir.path());
    let served = serve(&db, &["--embeddings", emb.to_str().unwrap()]);
    let port = served.port;

    let (status, feed) = http(port, "GET", "/", &[], "");
    assert_eq!(status, 200, "{feed}");
    assert!(
        feed.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;quotes&#34;"),
        "titles are escaped:\n{feed}"
    );
    assert!(!feed.contains("<script>alert(1)"), "no title is markup");
    for id in ["vid1", "vid2", "vid3"] {
        assert!(feed.contains(&format!("href=\"/video/{id}?feed=0\"")), "{id} has a card");
    }
    assert!(feed.contains("12:34") && feed.contains("reason 1"), "duration and reasons on the cards");
    let token = token(&feed);

    // DNS rebinding: a page served under another name reaches us with its own Host.
    assert_eq!(http(port, "GET", "/", &[("Host", "evil.example:80")], "").0, 421);

    let (status, page) = http(port, "GET", "/video/vid2?feed=0", &[], "");
    assert_eq!(status, 200);
    assert!(page.contains("data-player=\"https://www.youtube-nocookie.com\""), "the privacy-enhanced player");
    assert!(page.contains("\"/embed/\" + encodeURIComponent(video.video) + \"?enablejsapi=1&origin=\""));
    assert!(page.contains(&format!("data-feed=\"{MOMENT}\"")));
    for button in [
        "data-kind=\"interest\"",
        "data-kind=\"uninterest\"",
        "data-kind=\"right-time\"",
        "data-kind=\"not-now\"",
        "data-undo",
    ] {
        assert!(page.contains(button), "{button}");
    }
    assert!(page.contains("About &#60;b&#62;this&#60;/b&#62;"), "descriptions escaped too");
    assert!(page.contains("More like this") && page.contains("/video/vid3?feed=0"));
    assert_eq!(http(port, "GET", "/video/..%2Fetc?feed=0", &[], "").0, 404);

    let answer = r#"{"video_id":"vid2","kind":"not-now","feed":"2026-11-20T21:30:00Z"}"#;
    let own = format!("http://127.0.0.1:{port}");
    assert_eq!(http(port, "POST", "/api/label", &[("Origin", &own)], answer).0, 403, "no token");
    assert_eq!(http(port, "POST", "/api/label", &[("X-Vrd-Token", "0".repeat(32).as_str())], answer).0, 403);
    let evil = [("Origin", "http://evil.example"), ("X-Vrd-Token", token.as_str())];
    assert_eq!(http(port, "POST", "/api/label", &evil, answer).0, 403, "another origin");
    assert!(Store::open(&db).unwrap().label_history().unwrap().is_empty(), "nothing stored by refused requests");

    let ours = [("Origin", own.as_str()), ("X-Vrd-Token", token.as_str()), ("Content-Type", "application/json")];
    let before = chrono::Utc::now();
    let (status, body) = http(port, "POST", "/api/label", &ours, answer);
    assert_eq!(status, 200, "{body}");
    let labels = Store::open(&db).unwrap().label_history().unwrap();
    assert_eq!(labels.len(), 1);
    let label = &labels[0];
    assert_eq!((label.video_id.as_str(), label.kind, label.source.as_str()), ("vid2", LabelKind::NotNow, "page"));
    assert_eq!(label.feed_at, Some(vrd_core::time::parse_rfc3339(MOMENT).unwrap()), "its feed moment kept");
    assert!(label.labelled_at >= before - chrono::Duration::seconds(1), "given now");
    assert_eq!(http(port, "POST", "/api/label", &ours, r#"{"video_id":"vid2","kind":"later"}"#).0, 400);
    assert_eq!(http(port, "POST", "/api/label", &ours, "not json").0, 400);
    // Bad bodies are the client's error, and nothing of them is stored.
    let not_utf8 = b"{\"video_id\":\"vid2\",\"kind\":\"not-now\",\"x\":\"\xff\xfe\"}";
    let (status, why) = http_bytes(port, "POST", "/api/label", &ours, not_utf8);
    assert_eq!((status, why.contains("not UTF-8")), (400, true), "{why}");
    let unknown = r#"{"video_id":"zzzzzzzzzzz","kind":"interest"}"#;
    let (status, why) = http(port, "POST", "/api/label", &ours, unknown);
    assert_eq!((status, why.contains("zzzzzzzzzzz")), (422, true), "an id the store never held: {why}");
    let huge = format!(r#"{{"video_id":"vid2","kind":"interest","feed":"{}"}}"#, "9".repeat(10 << 20));
    assert_eq!(http(port, "POST", "/api/label", &ours, &huge).0, 413, "10 MiB");
    assert_eq!(Store::open(&db).unwrap().label_history().unwrap().len(), 1, "only the one good answer stored");
    // With an answer, the progress page draws the weeks at the chart's own size in pixels.
    let (_, progress) = http(port, "GET", "/progress", &[], "");
    assert!(progress.contains("1 answers given") && progress.contains("<title>1 not-now</title>"), "{progress}");
    assert!(progress.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"590\" height=\"310\""));

    let (status, undone) = http(port, "POST", "/api/undo", &ours, "{}");
    assert_eq!(status, 200, "{undone}");
    assert!(undone.contains("not-now"));
    assert!(Store::open(&db).unwrap().label_history().unwrap().is_empty());
    assert_eq!(http(port, "POST", "/api/undo", &ours, "{}").0, 409, "nothing left to undo");

    let (status, like) = http(port, "GET", "/api/like/vid1", &[], "");
    assert_eq!(status, 200);
    let like: Vec<serde_json::Value> = serde_json::from_str(&like).unwrap();
    assert_eq!(like[0]["video_id"], "vid3", "nearest first, without vid1 itself");
    assert!(like.iter().all(|i| i["video_id"] != "vid1"));

    // Progress: the week's answers as a picture; no model plot without --model.
    let (status, progress) = http(port, "GET", "/progress", &[], "");
    assert_eq!(status, 200);
    assert!(progress.contains("No answers yet") && !progress.contains("<svg"), "no chart of nothing: {progress}");
    assert!(!progress.contains("/model/folds.svg"));
    assert_eq!(http(port, "GET", "/model/folds.svg", &[], "").0, 404);

    // A second server on the same store, at once (WAL).
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("folds.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>fold 1</text></svg>")
        .unwrap();
    let second = serve(&db, &["--model", model.to_str().unwrap()]);
    assert_eq!(http(second.port, "GET", "/", &[], "").0, 200);
    assert_eq!(http(port, "GET", "/", &[], "").0, 200);
    let (_, progress) = http(second.port, "GET", "/progress", &[], "");
    assert!(progress.contains("<img src=\"/model/folds.svg\""), "the model's fold metrics, as a picture");
    let (status, plot) = http(second.port, "GET", "/model/folds.svg", &[], "");
    assert_eq!((status, plot.contains("fold 1")), (200, true));
}

#[test]
fn other_machines_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = store(dir.path());
    let out = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", &format!("0.0.0.0:{}", free_port())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
    let out = Command::new(BIN).arg("--db").arg(dir.path().join("none.db")).args(["serve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such store"));
}

/// In headless Chromium (Debian's, installed by scripts/setup-test-deps, which `make test`
/// runs): the video page's "not now" button clicked with the mouse stores the label.
#[test]
fn not_now_clicked_in_a_real_browser_is_stored() {
    let chromium = crate::page::chromium();
    let dir = tempfile::tempdir().unwrap();
    let (db, emb) = store(dir.path());
    let served = serve(&db, &["--embeddings", emb.to_str().unwrap()]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/browser-click.py");
    let url = format!("http://127.0.0.1:{}/video/vid2?feed=0", served.port);
    let out = Command::new("python3")
        .arg(&script)
        .args([&url, "button[data-kind=\"not-now\"]", "#status", "saved: not-now", "--chromium", chromium])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let labels = Store::open(&db).unwrap().label_history().unwrap();
    assert_eq!(labels.len(), 1, "{labels:?}");
    assert_eq!(
        (labels[0].video_id.as_str(), labels[0].kind, labels[0].source.as_str()),
        ("vid2", LabelKind::NotNow, "page")
    );
    assert_eq!(labels[0].feed_at, Some(vrd_core::time::parse_rfc3339(MOMENT).unwrap()));
}

/// A stand-in for YouTube's embed on another loopback origin (tests never reach YouTube),
/// speaking its messages: once the page asks it to talk, it plays from 0 s to 10 s, is
/// seeked to 70 s, plays to 90 s, and pauses. Played: 30 s (the seek is not played time).
fn serve_player() -> String {
    const PLAYER: &str = r#"<!doctype html><title>player</title><script>
let page = null;
window.addEventListener("message", e => {
  let m; try { m = JSON.parse(e.data); } catch { return; }
  if (m.event !== "listening" || page) return;
  page = e.source;
  const send = o => page.postMessage(JSON.stringify(Object.assign(o, { id: 1, channel: "widget" })), e.origin);
  send({ event: "onReady" });
  send({ event: "onStateChange", info: 1 });
  const times = [];
  for (let t = 0; t <= 10; t++) times.push(t);
  for (let t = 70; t <= 90; t++) times.push(t);
  let i = 0;
  const tick = setInterval(() => {
    if (i < times.length) { send({ event: "infoDelivery", info: { playerState: 1, currentTime: times[i++] } }); return; }
    clearInterval(tick);
    send({ event: "onStateChange", info: 2 });
  }, 40);
});
</script>"#;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let _ = BufReader::new(&stream).read_line(&mut line);
            let (status, body) = match line.starts_with("GET /embed/vid2?enablejsapi=1&origin=") {
                true => ("200 OK", PLAYER),
                false => ("404 Not Found", ""),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    origin
}

/// In headless Chromium: a video played on the video page is a watch (`source: page`), its
/// seconds played as the player reported them.
#[test]
fn a_play_on_the_video_page_is_a_watch() {
    let chromium = crate::page::chromium();
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = store(dir.path());
    let player = serve_player();
    let served = serve(&db, &["--player", &player]);
    let before = chrono::Utc::now();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/browser-click.py");
    let url = format!("http://127.0.0.1:{}/video/vid2?feed=0", served.port);
    let out = Command::new("python3")
        .arg(&script)
        .args([&url, "h1", "#played", "watched, 30 s played", "--chromium", chromium])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let watches = Store::open(&db).unwrap().watch_events().unwrap();
    assert_eq!(watches.len(), 1, "{watches:?}");
    let w = &watches[0];
    assert_eq!((w.video_id.as_str(), w.source.as_str(), w.watched_s), ("vid2", "page", Some(30.0)));
    assert_eq!(w.title, EVIL_TITLE, "named as the store names it");
    assert!(w.watched_at >= before - chrono::Duration::seconds(1) && w.watched_at <= chrono::Utc::now());

    // Not from the page (no token), not possible, not a stored video: refused.
    let body = format!(r#"{{"video_id":"vid2","started":"{}","seconds":5}}"#, chrono::Utc::now().to_rfc3339());
    assert_eq!(http(served.port, "POST", "/api/play", &[], &body).0, 403);
    let token = token(&http(served.port, "GET", "/", &[], "").1);
    let own = format!("http://127.0.0.1:{}", served.port);
    let ours = [("Origin", own.as_str()), ("X-Vrd-Token", token.as_str())];
    let now = chrono::Utc::now().to_rfc3339();
    let post = |body: String| http(served.port, "POST", "/api/play", &ours, &body);
    assert_eq!(
        post(format!(r#"{{"video_id":"vid2","started":"{now}","seconds":99999}}"#)).0,
        400,
        "more than possible"
    );
    assert_eq!(post(r#"{"video_id":"vid2","started":"2020-01-01T00:00:00Z","seconds":5}"#.into()).0, 400, "too old");
    assert_eq!(post(format!(r#"{{"video_id":"zzzzzzzzzzz","started":"{now}","seconds":5}}"#)).0, 422);
    assert_eq!(Store::open(&db).unwrap().watch_events().unwrap().len(), 1, "nothing stored by those");
}

/// The progress page's live section: the last watch seen live and from where; and when
/// the browser extension has sent no YouTube tab for days while ActivityWatch kept
/// recording, that it may have stopped.
#[test]
fn the_progress_page_says_when_the_browser_extension_went_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = store(dir.path());
    let served = serve(&db, &[]);
    let (_, page) = http(served.port, "GET", "/progress", &[], "");
    assert!(page.contains("No watch seen live yet"), "{page}");

    let now = chrono::Utc::now();
    let mut s = Store::open(&db).unwrap();
    let opened = now - chrono::Duration::days(5);
    s.upsert_youtube_tabs(&[vrd_core::records::YoutubeTab {
        bucket: "aw-watcher-web-chrome".into(),
        start: opened,
        duration_s: 120.0,
        video_id: "vid1".into(),
        title: "Rust async - YouTube".into(),
        audible: true,
    }])
    .unwrap();
    let watch: vrd_core::records::WatchEvent = serde_json::from_value(serde_json::json!({
        "video_id": "vid1", "title": "Rust async", "watched_at": opened.to_rfc3339(), "source": "aw-web", "watched_s": 120.0
    }))
    .unwrap();
    s.upsert_watch_events(&[watch]).unwrap();
    let app = |start: chrono::DateTime<chrono::Utc>| vrd_core::records::AppEvent {
        start,
        duration_s: 600.0,
        app: "Code".into(),
        title: "main.rs".into(),
        url: None,
        category: vec!["Work".into()],
        bucket: "aw-watcher-window_laptop".into(),
        host: Some("laptop".into()),
    };
    s.upsert_app_events(&[app(opened), app(now - chrono::Duration::hours(1))]).unwrap();
    drop(s);
    let (_, page) = http(served.port, "GET", "/progress", &[], "");
    let last = page.split("id=\"live-last\">").nth(1).unwrap().split("</p>").next().unwrap();
    assert!(last.contains("Rust async") && last.contains("5 days ago") && last.contains("web watcher"), "{last}");
    let quiet =
        page.split("id=\"live-quiet\"").nth(1).expect("the extension may have stopped").split("</p>").next().unwrap();
    assert!(quiet.contains("Nothing from the browser extension since") && quiet.contains("aw-watcher-web"), "{quiet}");

    // A tab from an hour ago: nothing to worry about.
    let mut s = Store::open(&db).unwrap();
    s.upsert_youtube_tabs(&[vrd_core::records::YoutubeTab {
        bucket: "aw-watcher-web-chrome".into(),
        start: now - chrono::Duration::minutes(70),
        duration_s: 60.0,
        video_id: "vid3".into(),
        title: "Rust traits - YouTube".into(),
        audible: true,
    }])
    .unwrap();
    drop(s);
    let (_, page) = http(served.port, "GET", "/progress", &[], "");
    assert!(!page.contains("id=\"live-quiet\""), "{page}");
}
