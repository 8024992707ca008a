//! `vrd-ingest youtube` against a loopback server replaying real Data API v3 responses
//! (fixtures/youtube-api): batching, pagination, category names, retries, the quota stop
//! and its resume, a channel's uploads, and the OAuth loopback flow for ratings.

use crate::common;

use common::{ingest, json_lines, repo, Reply, Request, Server, BIN};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const KEY: &str = "AIzaTEST-secret-key-123";

fn fixture(name: &str) -> Value {
    let path = repo().join("fixtures/youtube-api").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(repo().join("fixtures/youtube-api").join(name)).unwrap()
}

/// Every video the real responses hold, the richest copy of each (with contentDetails).
fn known_videos() -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    for f in [
        "modeldata__videos__video_api_response.json",
        "apidata__videos__videos_info_multi.json",
        "apidata__videos__videos_info_single.json",
        "apidata__videos__videos_chart_paged_1.json",
        "apidata__videos__videos_chart_paged_2.json",
    ] {
        for item in fixture(f)["items"].as_array().unwrap() {
            if !all.iter().any(|v| v["id"] == item["id"]) {
                all.push(item.clone());
            }
        }
    }
    all
}

/// `videos.list` by id as the API does it: the known ones, in request order.
fn videos_by_id(req: &Request) -> Reply {
    let known = known_videos();
    let ids: Vec<&str> = req.param("id").unwrap_or("").split(',').collect();
    assert!(ids.len() <= 50, "at most 50 ids a call, got {}", ids.len());
    let items: Vec<&Value> = ids.iter().filter_map(|id| known.iter().find(|v| v["id"] == *id)).collect();
    Reply::json(200, json!({"kind": "youtube#videoListResponse", "items": items}).to_string())
}

fn api_server(extra: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static) -> Server {
    Server::start(move |req| {
        if let Some(reply) = extra(req) {
            return reply;
        }
        if req.header("X-Goog-Api-Key") != Some(KEY) && req.header("Authorization").is_none() {
            return Reply::json(
                400,
                r#"{"error":{"code":400,"message":"API key not valid.","errors":[{"reason":"keyInvalid"}]}}"#,
            );
        }
        match req.path.as_str() {
            "/videos" => videos_by_id(req),
            "/videoCategories" => Reply::json(200, fixture_text("apidata__categories__video_category_by_region.json")),
            "/channels" => Reply::json(200, fixture_text("apidata__channels__info.json")),
            "/playlistItems" => match req.param("pageToken") {
                None => Reply::json(200, fixture_text("apidata__playlist_items__playlist_items_paged_1.json")),
                Some("CAoQAA") => {
                    Reply::json(200, fixture_text("apidata__playlist_items__playlist_items_paged_2.json"))
                }
                Some(other) => panic!("unknown page token {other}"),
            },
            other => Reply::json(404, format!(r#"{{"error":{{"code":404,"message":"no {other}"}}}}"#)),
        }
    })
}

fn key_file(dir: &Path) -> PathBuf {
    let path = dir.join("youtube.key");
    std::fs::write(&path, format!("{KEY}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn assert_key_never_shown(out: &std::process::Output) {
    for stream in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(KEY), "the API key leaked");
    }
}

#[test]
fn video_details_from_the_real_responses() {
    let server = api_server(|_| None);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let out = ingest(&[
        "youtube",
        "videos",
        "D-lhorsDlUQ",
        "https://www.youtube.com/watch?v=ovdbrdCIP7U",
        "NoSuchVide0",
        "--key-file",
        key.to_str().unwrap(),
        "--api-base",
        &server.base,
    ]);
    assert_key_never_shown(&out);
    let v = json_lines(&out);
    assert_eq!(v.len(), 2, "the unknown id is counted, not invented");
    assert_eq!(v[0]["video_id"], "D-lhorsDlUQ");
    assert_eq!(v[0]["title"], "What are Actions on Google (Assistant on Air)");
    assert_eq!(v[0]["channel"], "Google Developers");
    assert_eq!(v[0]["channel_id"], "UC_x5XG1OV2P6uZZ5FSM9Ttw");
    assert_eq!(v[0]["published_at"], "2019-03-21T20:37:49Z");
    assert_eq!(v[0]["duration_s"], 1267.0, "PT21M7S");
    assert_eq!(v[0]["short"], false);
    assert_eq!(v[0]["category"], "Science & Technology", "category 28, named by videoCategories");
    assert_eq!(v[0]["tags"].as_array().unwrap().len(), 20);
    assert_eq!(v[1]["category"], "Sports");
    assert!(v[1].get("duration_s").is_none(), "that response has no contentDetails");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 videos written, 1 not found"), "{stderr}");
    let reqs = server.requests();
    assert_eq!(reqs.iter().filter(|r| r.path == "/videos").count(), 1);
    assert!(reqs.iter().all(|r| !r.query.iter().any(|(_, v)| v.contains(KEY))), "the key travels in a header only");
}

#[test]
fn ids_from_a_pipe_go_fifty_a_call() {
    let server = api_server(|_| None);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    // 60 ids: 50 unknown ones as JSONL records, then the 10 known ones as plain lines.
    let known = known_videos();
    assert_eq!(known.len(), 10);
    let mut lines: Vec<String> =
        (0..50).map(|i| format!("{{\"video_id\":\"unknown{i:04}\",\"title\":\"x\"}}")).collect();
    lines.extend(known.iter().map(|v| v["id"].as_str().unwrap().to_string()));
    let mut child = Command::new(BIN)
        .args(["youtube", "videos", "--ids-from", "-", "--key-file", key.to_str().unwrap(), "--api-base", &server.base])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), lines.join("\n").as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let v = json_lines(&out);
    assert_eq!(v.len(), known.len());
    let calls: Vec<usize> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/videos")
        .map(|r| r.param("id").unwrap().split(',').count())
        .collect();
    assert_eq!(calls, [50, 10]);
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let failures = Arc::new(AtomicUsize::new(0));
    let f = failures.clone();
    let server = api_server(move |req| {
        (req.path == "/videos").then(|| match f.fetch_add(1, Ordering::SeqCst) {
            0 => Some(Reply::json(503, fixture_text("error-backend.json"))),
            1 => Some(Reply::json(403, fixture_text("error-rate-limit.json"))),
            _ => None,
        })?
    });
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let args = ["youtube", "videos", "D-lhorsDlUQ", "--key-file", key.to_str().unwrap(), "--backoff-ms", "1"];
    let out = ingest(&[&args[..], &["--api-base", &server.base]].concat());
    assert_eq!(json_lines(&out).len(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HTTP 503 backendError") && stderr.contains("rateLimitExceeded"), "{stderr}");

    // Retries run out: a clear error, exit 1.
    let down = Server::start(|_| Reply::json(503, fixture_text("error-backend.json")));
    let out = ingest(&[&args[..], &["--api-base", &down.base, "--retries", "2"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("gave up after 3 tries"), "{stderr}");
    assert_eq!(down.requests().len(), 3);
}

#[test]
fn a_spent_quota_stops_and_the_store_resumes() {
    let quota_spent = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let q = quota_spent.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = api_server(move |req| {
        if req.path != "/videos" {
            return None;
        }
        // The second videos call of the first run hits the quota.
        (c.fetch_add(1, Ordering::SeqCst) == 1 && q.load(Ordering::SeqCst))
            .then(|| Reply::json(403, fixture_text("error-quota-exceeded.json")))
    });
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let db = dir.path().join("vrd.db");
    let ids = dir.path().join("ids.txt");
    let known = known_videos();
    let mut lines: Vec<String> = known.iter().map(|v| v["id"].as_str().unwrap().to_string()).collect();
    lines.extend((0..50).map(|i| format!("unknown{i:04}")));
    std::fs::write(&ids, lines.join("\n")).unwrap();
    let run = || {
        ingest(&[
            "youtube",
            "videos",
            "--ids-from",
            ids.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--key-file",
            key.to_str().unwrap(),
            "--api-base",
            &server.base,
            "--retries",
            "0",
        ])
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("quota exhausted") && stderr.contains("the same command resumes"), "{stderr}");
    assert!(!stderr.contains("retrying"), "a spent quota is not retried: {stderr}");
    assert_eq!(count(&db, "videos"), known.len(), "the first batch of 50 was kept");

    quota_spent.store(false, Ordering::SeqCst);
    let before = server.requests().len();
    let out = run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let asked: Vec<String> = server.requests()[before..]
        .iter()
        .filter(|r| r.path == "/videos")
        .flat_map(|r| r.param("id").unwrap().split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    assert!(known.iter().all(|v| !asked.contains(&v["id"].as_str().unwrap().to_string())), "stored videos are skipped");
    // The first run's first batch held the known videos and the first unknown ones; those
    // unknown ones (not found, so not stored) are asked again with the rest.
    assert_eq!(asked.len(), 50, "{asked:?}");
    assert_eq!(count(&db, "videos"), known.len());
}

fn count(db: &Path, table: &str) -> usize {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0)).unwrap() as usize
}

#[test]
fn a_channels_uploads_every_page() {
    let server = api_server(|_| None);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let out = ingest(&[
        "youtube",
        "uploads",
        "UC_x5XG1OV2P6uZZ5FSM9Ttw",
        "--key-file",
        key.to_str().unwrap(),
        "--api-base",
        &server.base,
    ]);
    let v = json_lines(&out);
    assert_eq!(v.len(), 13, "10 + 3 playlist items over two pages");
    assert_eq!(v[0]["video_id"], "CvTApw9X8aA");
    assert_eq!(v[0]["channel"], "Google Developers");
    assert_eq!(v[0]["published_at"], "2019-11-21T22:17:43Z");
    let reqs = server.requests();
    let playlist: Vec<&Request> = reqs.iter().filter(|r| r.path == "/playlistItems").collect();
    assert_eq!(playlist.len(), 2);
    assert_eq!(playlist[0].param("playlistId"), Some("UU_x5XG1OV2P6uZZ5FSM9Ttw"), "uploads = UU + channel id");
    assert_eq!(playlist[1].param("pageToken"), Some("CAoQAA"));

    let out = ingest(&[
        "youtube",
        "uploads",
        "@googledevelopers",
        "--limit",
        "4",
        "--key-file",
        key.to_str().unwrap(),
        "--api-base",
        &server.base,
    ]);
    assert_eq!(json_lines(&out).len(), 4);
    assert!(server.requests().iter().any(|r| r.param("forHandle") == Some("@googledevelopers")));
}

#[test]
fn missing_or_public_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["youtube", "videos", "D-lhorsDlUQ", "--api-base", "http://127.0.0.1:9"])
        .env_remove("VRD_YOUTUBE_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no YouTube API key"));
    let key = key_file(dir.path());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = ingest(&["youtube", "videos", "D-lhorsDlUQ", "--key-file", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    assert_key_never_shown(&out);
    let out = ingest(&["youtube", "videos", "not an id!", "--key-file", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

/// The person's side of the OAuth flow: the browser opening the printed address, Google
/// sending it back to vrd's loopback port with a code.
fn play_browser(stderr: impl std::io::Read) -> String {
    let mut lines = BufReader::new(stderr).lines();
    let auth_url = lines.by_ref().map(|l| l.unwrap()).find(|l| l.starts_with("http")).expect("an address to open");
    let url = url::Url::parse(&auth_url).unwrap();
    let param = |k: &str| url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned()).unwrap();
    assert_eq!(param("code_challenge_method"), "S256");
    assert_eq!(param("scope"), "https://www.googleapis.com/auth/youtube.readonly");
    let redirect = param("redirect_uri");
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    // A stray request first (browsers ask for a favicon), then a forged state, then the real answer.
    let _ = ureq::get(&format!("{redirect}/favicon.ico")).call();
    let forged = ureq::get(&format!("{redirect}/?code=evil&state=forged")).call();
    assert!(matches!(forged, Err(ureq::Error::Status(400, _))));
    let ok = ureq::get(&format!("{redirect}/?code=c0de-1&state={}", param("state"))).call().unwrap();
    assert!(ok.into_string().unwrap().contains("access granted"));
    lines.map(|l| l.unwrap()).collect::<Vec<_>>().join("\n")
}

#[test]
fn ratings_through_the_oauth_loopback_flow() {
    let server = api_server(|req| match (req.path.as_str(), req.method.as_str()) {
        ("/token", "POST") => Some(match (req.form("grant_type").as_deref(), req.form("code").as_deref()) {
            (Some("authorization_code"), Some("c0de-1"))
                if req.form("code_verifier").is_some_and(|v| v.len() >= 43) =>
            {
                Reply::json(
                    200,
                    r#"{"access_token":"at-1","expires_in":1,"refresh_token":"rt-1","token_type":"Bearer"}"#,
                )
            }
            (Some("refresh_token"), _) if req.form("refresh_token").as_deref() == Some("rt-1") => {
                Reply::json(200, r#"{"access_token":"at-2","expires_in":3599,"token_type":"Bearer"}"#)
            }
            _ => Reply::json(400, r#"{"error":"invalid_grant"}"#),
        }),
        ("/videos", _) if req.param("myRating").is_some() => {
            let token = req.header("Authorization").unwrap_or("");
            assert!(token == "Bearer at-1" || token == "Bearer at-2", "{token}");
            Some(match (req.param("myRating"), req.param("pageToken")) {
                (Some("like"), None) => Reply::json(200, fixture_text("apidata__videos__videos_chart_paged_1.json")),
                (Some("like"), Some("CAUQAA")) => {
                    Reply::json(200, fixture_text("apidata__videos__videos_chart_paged_2.json"))
                }
                (Some("dislike"), None) => Reply::json(200, fixture_text("apidata__videos__videos_info_single.json")),
                _ => Reply::json(400, "{}"),
            })
        }
        _ => None,
    });
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client_secret.json");
    std::fs::write(
        &secret,
        json!({"installed": {"client_id": "cid.apps.googleusercontent.com", "client_secret": "GOCSPX-shh",
            "auth_uri": format!("{}/auth", server.base), "token_uri": format!("{}/token", server.base)}})
        .to_string(),
    )
    .unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let token_file = dir.path().join("tokens/youtube.json");
    let db = dir.path().join("vrd.db");
    let args: Vec<String> = [
        "youtube",
        "ratings",
        "--client-secret",
        secret.to_str().unwrap(),
        "--token-file",
        token_file.to_str().unwrap(),
        "--api-base",
        &server.base,
        "--auth-timeout",
        "60",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut child = Command::new(BIN).args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let rest = play_browser(child.stderr.take().unwrap());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{rest}");
    let labels: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(labels.len(), 9, "8 liked over two pages, 1 disliked");
    assert_eq!(labels.iter().filter(|l| l["kind"] == "interest").count(), 8);
    assert_eq!(labels[8]["kind"], "uninterest");
    assert_eq!(labels[8]["video_id"], "D-lhorsDlUQ");
    assert_eq!(labels[0]["source"], "youtube-like");
    assert!(!rest.contains("GOCSPX-shh") && !rest.contains("rt-1"), "secrets stay out of the logs");
    assert_eq!(std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777, 0o600);

    // Later runs refresh the expired token with no browser, and the store keeps one label
    // per rating however often it is re-read.
    for _ in 0..2 {
        let out = Command::new(BIN).args(&args).args(["--db", db.to_str().unwrap()]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("open this address"), "{stderr}");
    }
    assert_eq!((count(&db, "labels"), count(&db, "videos")), (9, 9));
    assert!(server.requests().iter().any(|r| r.form("grant_type").as_deref() == Some("refresh_token")));
}

#[test]
fn watches_named_by_url_only_get_their_titles_from_the_api() {
    let server = api_server(|_| None);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let db = dir.path().join("vrd.db");
    let known = known_videos();
    let id = known[0]["id"].as_str().unwrap();
    let title = known[0]["snippet"]["title"].as_str().unwrap();
    // A Takeout entry whose details were lost: its title is its URL, no channel.
    let history = dir.path().join("watch-history.json");
    let url = format!("https://www.youtube.com/watch?v\\u003d{id}");
    std::fs::write(
        &history,
        format!(r#"[{{"header":"YouTube","title":"Watched {url}","titleUrl":"{url}","time":"2024-03-01T10:00:00Z"}}]"#),
    )
    .unwrap();
    let out = ingest(&["takeout", history.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 watch events (1 with the title unknown"));
    let before = vrd_store::Store::open(&db).unwrap().watch_events().unwrap();
    assert!(before[0].title_unknown && before[0].title.is_empty());
    // `youtube videos --db` with no ids completes the store: the watch's video among them.
    let out = ingest(&[
        "youtube",
        "videos",
        "--db",
        db.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--api-base",
        &server.base,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = vrd_store::Store::open(&db).unwrap().watch_events().unwrap();
    assert_eq!((after[0].title.as_str(), after[0].title_unknown), (title, false));
    assert!(after[0].channel.is_some(), "the channel comes with the details");
    assert_eq!(after[0].watched_at, before[0].watched_at);
}

/// `youtube discover` against the real `search.list` answers (`../shared/data/youtube-api`),
/// the real category list and chart, and a channel-sections answer of vrd's own: a day's
/// budget stops the run, the next day resumes with what was not done; every unit is logged;
/// the channels found enter the plan as discovered (and leave it four weeks later, never
/// watched); without a key nothing is asked and nothing spent.
#[test]
fn discovery_within_a_daily_budget() {
    let search =
        std::fs::read_to_string(crate::paths::shared_data("youtube-api/apidata__search__search_by_keywords_p1.json"))
            .unwrap();
    let server = api_server(move |req| match req.path.as_str() {
        "/search" => Some(Reply::json(200, search.clone())),
        "/channelSections" => Some(Reply::json(200, fixture_text("channel-sections.json"))),
        "/videos" if req.param("chart") == Some("mostPopular") => {
            assert_eq!((req.param("regionCode"), req.param("videoCategoryId")), (Some("US"), Some("26")));
            Some(Reply::json(200, fixture_text("apidata__videos__videos_chart_paged_1.json")))
        }
        _ => None,
    });
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let db = dir.path().join("vrd.db");
    // A week of baking videos (their titles share words), watched from two channels; a
    // recent search; the videos' category known.
    let day1 = vrd_core::time::parse_rfc3339("2026-11-20T10:00:00Z").unwrap();
    let mut store = vrd_store::Store::open(&db).unwrap();
    let titles =
        ["Sourdough starter from scratch", "Feeding a sourdough starter", "Sourdough starter mistakes", "Focaccia"];
    let watches: Vec<vrd_core::records::WatchEvent> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::from_value(json!({"video_id": format!("bake{i:07}"), "title": t,
                "channel": if i % 2 == 0 { "Bakery" } else { "Crumb" },
                "channel_id": if i % 2 == 0 { "UCbakery000000000000000a" } else { "UCcrumb0000000000000000a" },
                "watched_at": (day1 - chrono::Duration::days(i as i64 + 1)).to_rfc3339(), "source": "takeout-json"}))
            .unwrap()
        })
        .collect();
    store.upsert_watch_events(&watches).unwrap();
    let details: Vec<vrd_core::records::Video> = watches
        .iter()
        .map(|w| vrd_core::records::Video {
            category: Some("Howto & Style".into()),
            ..vrd_core::records::Video::from(w)
        })
        .collect();
    store.upsert_videos(&details).unwrap();
    let search_query: vrd_core::records::Search = serde_json::from_value(
        json!({"query": "pan de masa madre", "searched_at": (day1 - chrono::Duration::hours(3)).to_rfc3339()}),
    )
    .unwrap();
    store.upsert_searches(&[search_query]).unwrap();
    drop(store);
    let discover = |at: &str, extra: &[&str]| {
        let args = [
            &["youtube", "discover", "--db", db.to_str().unwrap(), "--api-base", &server.base][..],
            &["--at", at, "--region", "US", "--searches-per-day", "1", "--units-per-day", "10"],
            extra,
        ]
        .concat();
        let out = ingest(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_key_never_shown(&out);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    // Without a key: nothing asked, nothing spent.
    let out = Command::new(BIN)
        .args(["youtube", "discover", "--db", db.to_str().unwrap(), "--api-base", &server.base])
        .env_remove("VRD_YOUTUBE_API_KEY")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no YouTube API key"));
    assert!(server.requests().is_empty());

    // Day one: the recent search (the day's one search), the categories, the featured
    // channels of the two watched, the popular videos of the category watched.
    let said = discover("2026-11-20T10:00:00Z", &["--key-file", key.to_str().unwrap()]);
    assert!(said.contains("the day's budget of 1 searches is spent"), "{said}");
    let asked: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(asked.iter().filter(|p| *p == "/search").count(), 1, "{asked:?}");
    let first_search = server.requests().into_iter().find(|r| r.path == "/search").unwrap();
    assert_eq!(first_search.param("q"), Some("pan de masa madre"));
    let store = vrd_store::Store::open(&db).unwrap();
    let (day, next) = (
        vrd_core::time::parse_rfc3339("2026-11-20T00:00:00Z").unwrap(),
        vrd_core::time::parse_rfc3339("2026-11-21T00:00:00Z").unwrap(),
    );
    assert_eq!(store.api_spent("search", &day, &next).unwrap(), 1);
    assert_eq!(
        store.api_spent("units", &day, &next).unwrap() as usize,
        asked.len() - 1,
        "every unit logged: {asked:?}"
    );
    let found = store.discovered_channels().unwrap();
    let by = |how: &str| found.iter().filter(|f| f.how == how).count();
    assert!(by("search") > 0 && by("featured") == 2 && by("popular") > 0, "{found:?}");
    assert!(found.iter().filter(|f| f.how == "search").all(|f| f.detail.as_deref() == Some("pan de masa madre")));
    assert!(found.iter().all(|f| !f.channel_id.starts_with("UCbakery") && !f.channel_id.starts_with("UCcrumb")));
    let candidates = store.videos().unwrap();
    assert!(candidates.iter().any(|v| v.source == "youtube-search-search"), "the found channels' uploads");
    drop(store);

    // Again the same day: the budget is spent, nothing more asked.
    let before = server.requests().len();
    discover("2026-11-20T16:00:00Z", &["--key-file", key.to_str().unwrap()]);
    assert_eq!(server.requests().len(), before);

    // The next day resumes with the interest the titles share, not the search done.
    let said = discover("2026-11-21T10:00:00Z", &["--key-file", key.to_str().unwrap()]);
    let searches: Vec<String> = server.requests()[before..]
        .iter()
        .filter(|r| r.path == "/search")
        .map(|r| r.param("q").unwrap().to_string())
        .collect();
    assert_eq!(searches, ["sourdough starter"], "{said}");

    // The plan follows the channels found, each saying how; four weeks on, never watched,
    // they are gone from it.
    let plan = |at: &str| -> Vec<serde_json::Value> {
        json_lines(&ingest(&["rss", "--db", db.to_str().unwrap(), "--plan", "--at", at]))
    };
    let now = plan("2026-11-21T12:00:00Z");
    let featured = now.iter().find(|c| c["channel_id"] == "UCfeatured0000000000000a").expect("a featured channel");
    assert_eq!(featured["reasons"][0]["why"], "discovered");
    assert_eq!(featured["reasons"][0]["how"], "featured");
    let later = plan("2026-12-25T12:00:00Z");
    assert!(
        later.iter().all(|c| c["reasons"].as_array().unwrap().iter().all(|r| r["why"] != "discovered")),
        "{later:?}"
    );
}
