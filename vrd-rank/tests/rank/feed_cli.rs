//! The cold-start slice end to end with the built tools (ingest → encode → rank) on the
//! shipped fixtures, plus the pipe and failure behaviour of vrd-rank.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use vrd_core::tensors::{EmbeddingMeta, EmbeddingWriter};

use crate::BIN as RANK;

use crate::paths;
use paths::repo;

use crate::tools::{run, run_command, tool};

struct Pipeline {
    dir: tempfile::TempDir,
}

impl Pipeline {
    /// Runs ingest and encode on the fixtures, as `make demo` does.
    fn new() -> Pipeline {
        let dir = tempfile::tempdir().unwrap();
        let watch = dir.path().join("watch.jsonl");
        let takeout = repo().join("fixtures/takeout/watch-history.json");
        run("vrd-ingest", &["takeout", takeout.to_str().unwrap(), "-o", watch.to_str().unwrap()]);
        let emb = dir.path().join("emb.safetensors");
        run(
            "vrd-encode",
            &["media", watch.to_str().unwrap(), Self::candidates().to_str().unwrap(), "-o", emb.to_str().unwrap()],
        );
        Pipeline { dir }
    }

    fn candidates() -> PathBuf {
        repo().join("fixtures/candidates.jsonl")
    }

    fn rank_args(&self) -> Vec<String> {
        let p = |n: &str| self.dir.path().join(n).to_string_lossy().into_owned();
        vec![
            "--cold-start".into(),
            "--history".into(),
            p("watch.jsonl"),
            "--candidates".into(),
            Self::candidates().to_string_lossy().into_owned(),
            "--embeddings".into(),
            p("emb.safetensors"),
        ]
    }

    fn rank(&self, extra: &[&str]) -> Output {
        let mut args = self.rank_args();
        args.extend(extra.iter().map(|s| s.to_string()));
        Command::new(RANK).args(&args).stdin(Stdio::null()).output().unwrap()
    }
}

#[test]
fn cold_start_feed_puts_the_recent_topic_first_and_skips_watched_videos() {
    let p = Pipeline::new();
    let out = p.rank(&["-n", "8"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let feed: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(feed.len(), 8);
    let ranks: Vec<u64> = feed.iter().map(|f| f["rank"].as_u64().unwrap()).collect();
    assert_eq!(ranks, (1..=8).collect::<Vec<_>>());
    let scores: Vec<f64> = feed.iter().map(|f| f["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // The history is mostly Rust in the last weeks: the top of the feed is programming.
    let titles: Vec<&str> = feed.iter().map(|f| f["title"].as_str().unwrap()).collect();
    assert!(titles[..5].iter().all(|t| t.contains("Rust")), "{titles:?}");
    // Unrelated uploads (makeup, gossip, pranks) are not in the top 8.
    for junk in ["makeup", "Celebrity", "Prank"] {
        assert!(!titles.iter().any(|t| t.contains(junk)), "{junk} in {titles:?}");
    }
    // Already-watched videos re-offered as candidates are left out.
    assert!(!titles.contains(&"Rust ownership and borrowing explained"));
    let url = feed[0]["url"].as_str().unwrap();
    assert_eq!(url, format!("https://www.youtube.com/watch?v={}", feed[0]["video_id"].as_str().unwrap()));
    assert!(feed[0]["scores"]["similarity"].is_number());
}

#[test]
fn searches_turn_the_cold_start_feed_by_their_share() {
    let p = Pipeline::new();
    let searches = p.dir.path().join("searches.jsonl");
    let fixture = repo().join("fixtures/takeout/search-history.json");
    let out = run("vrd-ingest", &["searches", fixture.to_str().unwrap(), "-o", searches.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("5 entries: 4 searches; skipped 1 other entries"));
    let lines = std::fs::read_to_string(&searches).unwrap();
    // Oldest first; the query read from the results URL in any account language.
    assert!(lines.lines().nth(1).unwrap().contains(r#""query":"telescopio para principiantes & astrofotografía""#));
    let titles = |extra: &[&str]| -> Vec<String> {
        let out = p.rank(&[&["-n", "5"][..], extra].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let feed: Vec<serde_json::Value> =
            String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        feed.iter().map(|f| f["title"].as_str().unwrap().to_string()).collect()
    };
    let plain = titles(&[]);
    let s = searches.to_str().unwrap();
    // The history is Rust; the searches are space. A quarter keeps the feed on Rust...
    assert!(titles(&["--searches", s])[..3].iter().all(|t| t.contains("Rust")));
    // ...most of the profile brings the space videos to the top...
    let turned = titles(&["--searches", s, "--search-weight", "0.8"]);
    assert!(turned[..2].iter().all(|t| t.contains("dark energy") || t.contains("Saturn")), "{turned:?}");
    // ...and none is the feed without searches.
    assert_eq!(titles(&["--searches", s, "--search-weight", "0"]), plain);
    assert_eq!(p.rank(&["--searches", s, "--search-weight", "1.5"]).status.code(), Some(2));
}

#[test]
fn tsv_and_table_formats_and_file_output() {
    let p = Pipeline::new();
    let out = p.rank(&["-n", "3", "--format", "tsv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], "rank\tscore\tvideo_id\ttitle\tchannel\turl");
    assert!(lines[1..].iter().all(|l| l.split('\t').count() == 6));

    let out = p.rank(&["-n", "3", "--format", "table"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("rank"));

    let dest = p.dir.path().join("feed.jsonl");
    let out = p.rank(&["-n", "3", "-o", dest.to_str().unwrap()]);
    assert!(out.status.success() && out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), String::from_utf8(p.rank(&["-n", "3"]).stdout).unwrap());
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    // A feed far larger than a pipe buffer, so vrd-rank is still writing when `head` exits.
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let ids: Vec<String> = (0..n).map(|i| format!("vid{i:07}")).collect();
    let meta =
        EmbeddingMeta { model_id: "synthetic".into(), dim: 4, ids: ids.clone(), text_hashes: vec!["h".into(); n] };
    let emb = dir.path().join("emb.safetensors");
    let mut w = EmbeddingWriter::create(&emb, &meta).unwrap();
    for i in 0..n {
        let x = i as f32 / n as f32;
        w.write_rows(&[i], &[1.0, x, 1.0 - x, 0.5]).unwrap();
    }
    w.finish().unwrap();
    let cands = dir.path().join("cands.jsonl");
    let body: String = ids
        .iter()
        .map(|id| format!("{{\"video_id\":\"{id}\",\"title\":\"A long enough title for {id}\",\"source\":\"t\"}}\n"))
        .collect();
    std::fs::write(&cands, body).unwrap();
    let hist = dir.path().join("hist.jsonl");
    std::fs::write(
        &hist,
        "{\"video_id\":\"vid0000000\",\"title\":\"t\",\"watched_at\":\"2024-01-01T00:00:00Z\",\"source\":\"t\"}\n",
    )
    .unwrap();
    let script = format!(
        "set -o pipefail; '{RANK}' --cold-start --history '{}' --candidates '{}' --embeddings '{}' -n {n} | head -1",
        hist.display(),
        cands.display(),
        emb.display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    assert!(out.stderr.is_empty(), "quiet on a closed pipe: {}", String::from_utf8_lossy(&out.stderr));
}

/// The cold start's `--explain`: every item says why, in words, from the history itself:
/// the recent watch it is most like (a title of the fixtures' history), its channel where
/// the person knows it.
#[test]
fn the_cold_start_explains_its_feed() {
    let p = Pipeline::new();
    let plain = p.rank(&["-n", "8"]);
    let out = p.rank(&["-n", "8", "--explain"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let feed: Vec<serde_json::Value> = crate::tools::json_lines(&out.stdout);
    let without: Vec<serde_json::Value> = crate::tools::json_lines(&plain.stdout);
    assert_eq!(
        feed.iter().map(|f| &f["video_id"]).collect::<Vec<_>>(),
        without.iter().map(|f| &f["video_id"]).collect::<Vec<_>>(),
        "the reasons change nothing of the order"
    );
    assert!(without.iter().all(|f| f.get("reasons").is_none()), "no reasons unless asked");
    let reasons = |f: &serde_json::Value| -> Vec<String> {
        f["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
    };
    assert!(feed.iter().all(|f| !reasons(f).is_empty()), "{feed:#?}");
    let history = std::fs::read_to_string(p.dir.path().join("watch.jsonl")).unwrap();
    let first = reasons(&feed[0]);
    let like = first.iter().find(|r| r.starts_with("like “")).unwrap_or_else(|| panic!("{first:?}"));
    let title = like.trim_start_matches("like “").split('”').next().unwrap();
    assert!(title.contains("Rust") && history.contains(&format!("\"title\":\"{title}\"")), "{like}");
    assert!(like.ends_with(" days ago"), "{like}");
    assert!(
        feed.iter().flat_map(reasons).any(|r| r.starts_with("Let's Get Rusty: ") || r.starts_with("Jon Gjengset: ")),
        "a channel the history knows: {feed:#?}"
    );
}

#[test]
fn failures_exit_with_the_right_code_and_leave_no_file() {
    let p = Pipeline::new();
    // Without --cold-start there is no model to rank with: a usage error.
    let mut args = p.rank_args();
    args.remove(0);
    let out = Command::new(RANK).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cold-start"));

    let out = p.rank(&["--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));

    // Candidates the embeddings do not cover, with a media model that did not make them:
    // refused, and neither the feed nor the cache is written.
    let extra = p.dir.path().join("more.jsonl");
    std::fs::write(&extra, "{\"video_id\":\"unseen00001\",\"title\":\"New\",\"source\":\"t\"}\n").unwrap();
    let mut args = p.rank_args();
    args[4] = extra.to_string_lossy().into_owned();
    let dest = p.dir.path().join("feed.jsonl");
    args.extend(["-o".to_string(), dest.to_string_lossy().into_owned()]);
    let cache = std::fs::read(p.dir.path().join("emb.safetensors")).unwrap();
    let tiny = repo().join("fixtures/tiny-xlmr");
    let out = Command::new(RANK).args(&args).args(["--media-model", tiny.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 videos have no embedding, and the media model tiny-xlmr"), "{stderr}");
    assert!(!dest.exists());
    assert_eq!(std::fs::read(p.dir.path().join("emb.safetensors")).unwrap(), cache);

    // A malformed candidate line.
    std::fs::write(&extra, "{\"video_id\":\"a\",\"title\":\"A\",\"source\":\"t\"}\n{\"video_id\":\"b\",\"title\":\"B\",\"published_at\":\"soon\",\"source\":\"t\"}\n").unwrap();
    let out = Command::new(RANK).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("more.jsonl:2: field `published_at`"), "{stderr}");
    assert!(out.stdout.is_empty() && !dest.exists());

    // The ActivityWatch key file, as in vrd-ingest aw and vrd-label: one others can read
    // is refused before anything else, the key never printed.
    let key = p.dir.path().join("aw-key");
    std::fs::write(&key, "secret-key-123").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let model_args = [
        "--model",
        "/nonexistent/model",
        "--candidates",
        "x.jsonl",
        "--embeddings",
        "e.safetensors",
        "--aw-api-key-file",
    ];
    let out = Command::new(RANK).args(model_args).arg(&key).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("chmod 600") && !stderr.contains("secret-key-123"), "{stderr}");

    // A misspelt model folder: said so, with where a model comes from.
    let out = Command::new(RANK)
        .args(["--model", "/nonexistent/modle", "--candidates", "x.jsonl", "--embeddings", "e.safetensors"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--model /nonexistent/modle: no such folder") && stderr.contains("vrd-cron-feed"),
        "{stderr}"
    );

    // A missing embeddings file.
    let mut args = p.rank_args();
    args[6] = "/nonexistent/emb.safetensors".into();
    let out = Command::new(RANK).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/emb.safetensors"));
}

#[test]
fn hand_written_candidates_need_no_source_field() {
    // The same candidates as lines without `source` (written by hand or by another tool),
    // which vrd-encode media accepts: vrd-rank gives the same feed.
    let p = Pipeline::new();
    let bare = p.dir.path().join("bare.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(Pipeline::candidates())
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("source");
            v.to_string()
        })
        .collect();
    assert!(lines.iter().all(|l| !l.contains("\"source\"")));
    std::fs::write(&bare, lines.join("\n") + "\n").unwrap();
    let mut args = p.rank_args();
    args[4] = bare.to_string_lossy().into_owned();
    let out = Command::new(RANK).args(&args).args(["-n", "8"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, p.rank(&["-n", "8"]).stdout);
}

#[test]
fn candidates_the_cache_lacks_are_encoded_and_kept_for_the_next_run() {
    let p = Pipeline::new();
    let full = p.rank(&["-n", "8"]);
    assert!(full.status.success());
    // A cache made before the last ten unwatched candidates arrived.
    let watch = p.dir.path().join("watch.jsonl");
    let watched: std::collections::HashSet<String> = std::fs::read_to_string(&watch)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["video_id"].as_str().unwrap().to_string())
        .collect();
    let lines: Vec<String> =
        std::fs::read_to_string(Pipeline::candidates()).unwrap().lines().map(String::from).collect();
    let unwatched: Vec<usize> =
        (0..lines.len()).filter(|&i| !watched.iter().any(|w| lines[i].contains(w.as_str()))).collect();
    let late: std::collections::HashSet<usize> = unwatched[unwatched.len() - 10..].iter().copied().collect();
    let early = p.dir.path().join("early.jsonl");
    let kept: Vec<&str> = (0..lines.len()).filter(|i| !late.contains(i)).map(|i| lines[i].as_str()).collect();
    std::fs::write(&early, kept.join("\n") + "\n").unwrap();
    let partial = p.dir.path().join("partial.safetensors");
    run("vrd-encode", &["media", watch.to_str().unwrap(), early.to_str().unwrap(), "-o", partial.to_str().unwrap()]);
    let rows = |path: &Path| vrd_core::tensors::Embeddings::read(path).unwrap().meta.rows();
    let before = rows(&partial);
    let mut args = p.rank_args();
    args[6] = partial.to_string_lossy().into_owned();
    args.extend(["-n".into(), "8".into()]);

    // --no-cache-update: the same feed, the file untouched.
    let bytes = std::fs::read(&partial).unwrap();
    let once = Command::new(RANK).args(&args).arg("--no-cache-update").output().unwrap();
    assert!(once.status.success(), "{}", String::from_utf8_lossy(&once.stderr));
    assert_eq!(std::fs::read(&partial).unwrap(), bytes);

    let out = Command::new(RANK).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let candidates: std::collections::HashSet<String> = std::fs::read_to_string(Pipeline::candidates())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["video_id"].as_str().unwrap().to_string())
        .collect();
    let cached = vrd_core::tensors::Embeddings::read(&partial).unwrap();
    let added = cached.meta.rows() - before;
    assert!(added == 10 && stderr.contains("encoded 10 videos that"), "{stderr}");
    assert!(candidates.iter().all(|id| cached.index().contains_key(id.as_str())), "every candidate is now cached");
    // The feed is the one a full vrd-encode run gives (same model, same text, same vectors).
    let ids = |o: &Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["video_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&out), ids(&full));
    assert_eq!(ids(&once), ids(&full));
    // The next run finds them all: nothing encoded, and vrd-encode --previous reuses the rows.
    let again = Command::new(RANK).args(&args).output().unwrap();
    assert!(!String::from_utf8_lossy(&again.stderr).contains("encoded"));
    let reencoded = p.dir.path().join("re.safetensors");
    let out = run(
        "vrd-encode",
        &[
            "media",
            watch.to_str().unwrap(),
            Pipeline::candidates().to_str().unwrap(),
            "-o",
            reencoded.to_str().unwrap(),
            "--previous",
            partial.to_str().unwrap(),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 encoded"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_store_alone_is_enough_for_a_cold_start_feed() {
    // What the cron job does: ingest into the store, rank from it, with no JSONL in between
    // and no embeddings yet (the cache is created).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let db = db.to_str().unwrap();
    let takeout = repo().join("fixtures/takeout/watch-history.json");
    run("vrd-ingest", &["takeout", takeout.to_str().unwrap(), "--db", db]);
    let feed = repo().join("fixtures/rss/channel-feed.xml");
    run("vrd-ingest", &["rss", feed.to_str().unwrap(), "--db", db]);
    let cache = dir.path().join("media.safetensors");
    // The fixtures' uploads are of a fixed month: ranked all the same, whenever this runs.
    let args = [
        "--cold-start",
        "--db",
        db,
        "--embeddings",
        cache.to_str().unwrap(),
        "-n",
        "5",
        "--keep-watched",
        "--max-age-days",
        "100000",
    ];
    let out = run_command(Command::new(RANK).args(args));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let store = vrd_store::Store::open(Path::new(db)).unwrap();
    let (videos, watched) = (store.videos().unwrap(), store.watch_events().unwrap());
    // The fixture's watch named by its URL only has no text to encode until its details come.
    assert_eq!(watched.iter().filter(|w| w.title_unknown).count(), 1);
    let known = watched.iter().filter(|w| !w.title_unknown).map(|w| w.video_id.as_str());
    let distinct: std::collections::HashSet<&str> = videos.iter().map(|v| v.video_id.as_str()).chain(known).collect();
    assert!(stderr.contains(&format!("encoded {} videos", distinct.len())), "{stderr}");
    assert_eq!(vrd_core::tensors::Embeddings::read(&cache).unwrap().meta.rows(), distinct.len());
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(videos.len() >= 2);
    assert_eq!(lines.len(), videos.len().min(5), "every stored video is a candidate");
    let ids: std::collections::HashSet<&str> = videos.iter().map(|v| v.video_id.as_str()).collect();
    assert!(lines.iter().all(|l| ids.contains(l["video_id"].as_str().unwrap())), "candidates are the store's videos");
    let (_, saved) = store.latest_feed().unwrap().expect("the feed is stored");
    assert_eq!(saved.len(), lines.len());
    // The next run encodes nothing.
    let again = run_command(Command::new(RANK).args(args));
    assert!(!String::from_utf8_lossy(&again.stderr).contains("encoded"));
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn tools_report_libtorch_and_run_without_ld_library_path() {
    // The model tools report the libtorch they run on.
    for name in ["vrd-encode", "vrd-train", "vrd-rank"] {
        let out = Command::new(tool(name)).arg("--version").env_remove("LD_LIBRARY_PATH").output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("libtorch: 2.11.0"), "{name}: {text}");
        assert!(text.contains("cuda available: "), "{name}: {text}");
    }
    // The data tools run no model: their version is just the version.
    for name in ["vrd-ingest", "vrd-label"] {
        let out = Command::new(tool(name)).arg("--version").env_remove("LD_LIBRARY_PATH").output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), format!("{name} 0.1.0"));
    }
    for name in ["vrd-train", "vrd-label"] {
        let out = Command::new(tool(name)).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name} has no commands yet");
    }
}

#[test]
fn more_like_this_needs_no_model_and_leaves_out_the_video_and_what_was_watched() {
    let p = Pipeline::new();
    let path = |n: &str| p.dir.path().join(n).to_string_lossy().into_owned();
    let candidates = Pipeline::candidates().to_string_lossy().into_owned();
    let (history, emb) = (path("watch.jsonl"), path("emb.safetensors"));
    let like = |id: &str, extra: &[&str]| {
        let args =
            [&["--like", id, "--candidates", &candidates, "--embeddings", &emb, "--history", &history][..], extra];
        Command::new(RANK).args(args.concat()).stdin(Stdio::null()).output().unwrap()
    };
    let out = like("lWaRokVH711", &["-n", "6"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let feed: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(feed.len(), 6);
    let ids: Vec<&str> = feed.iter().map(|f| f["video_id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&"lWaRokVH711"), "the video itself is not more like itself: {ids:?}");
    let watched: Vec<String> = std::fs::read_to_string(&history)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["video_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.iter().all(|id| !watched.iter().any(|w| w == id)), "watched videos left out: {ids:?}");
    // The first is the unwatched candidate nearest the video by the embeddings file.
    let embeddings = vrd_core::tensors::Embeddings::read(Path::new(&emb)).unwrap();
    let index = embeddings.index();
    let target = embeddings.row(index["lWaRokVH711"]);
    let cosine = |id: &str| -> f64 { target.iter().zip(embeddings.row(index[id])).map(|(a, b)| (a * b) as f64).sum() };
    let videos: Vec<serde_json::Value> =
        std::fs::read_to_string(&candidates).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let nearest = videos
        .iter()
        .map(|v| v["video_id"].as_str().unwrap())
        .filter(|id| *id != "lWaRokVH711" && !watched.iter().any(|w| w == id))
        .max_by(|a, b| cosine(a).total_cmp(&cosine(b)))
        .unwrap();
    assert_eq!(ids[0], nearest);
    assert!((feed[0]["scores"]["similarity"].as_f64().unwrap() - cosine(nearest)).abs() < 1e-5);
    // A Rust release video brings Rust first.
    assert!(feed[0]["title"].as_str().unwrap().contains("Rust"), "{feed:?}");

    let out = like("NoSuchVideo", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"NoSuchVideo\" has no embedding"));
    let out = like("lWaRokVH711", &["--cold-start"]);
    assert_eq!(out.status.code(), Some(2), "--like and --cold-start are two feeds");
}

/// A feed from the store: uploads older than `--max-age-days` before the moment leave it,
/// saved videos stay whatever their age; each item says first where it came from; and
/// `--mode explore` keeps every fourth place for a newly discovered channel's video.
#[test]
fn the_stores_feed_ages_keeps_saved_videos_and_says_where_each_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let db = db.to_str().unwrap();
    run("vrd-ingest", &["takeout", repo().join("fixtures/takeout/watch-history.json").to_str().unwrap(), "--db", db]);
    let candidates: Vec<vrd_core::records::Video> =
        crate::tools::json_lines(&std::fs::read(Pipeline::candidates()).unwrap());
    let mut store = vrd_store::Store::open(Path::new(db)).unwrap();
    store.upsert_videos(&candidates).unwrap();
    let at = vrd_core::time::parse_rfc3339("2026-11-25T12:00:00Z").unwrap();
    // The fixture's uploads span a week (Nov 14–21): the limit is a week before the 25th.
    let oldest = at - chrono::Duration::days(7);
    let old: Vec<&vrd_core::records::Video> =
        candidates.iter().filter(|v| v.published_at.is_some_and(|p| p < oldest)).collect();
    assert!(old.len() >= 2, "the fixture has uploads older than a week");
    // One old upload saved for later; one channel, never watched, found by a search.
    store
        .upsert_saved_videos(&[vrd_core::reach::SavedVideo {
            video_id: old[0].video_id.clone(),
            playlist: "Watch later".into(),
            saved_at: None,
        }])
        .unwrap();
    let watched: std::collections::HashSet<String> =
        store.watch_events().unwrap().into_iter().filter_map(|w| w.channel_id).collect();
    let new_channel = candidates
        .iter()
        .filter(|v| v.published_at.is_some_and(|p| p >= oldest))
        .find_map(|v| v.channel_id.clone().filter(|c| !watched.contains(c)))
        .expect("a recent upload of a channel never watched");
    store
        .upsert_discovered(&[vrd_core::reach::DiscoveredChannel {
            channel_id: new_channel.clone(),
            title: None,
            found_at: at - chrono::Duration::days(2),
            how: "search".into(),
            detail: Some("sourdough".into()),
        }])
        .unwrap();
    drop(store);
    let cache = dir.path().join("media.safetensors");
    let rank = |extra: &[&str]| -> Vec<serde_json::Value> {
        let args =
            [&["--cold-start", "--db", db, "--embeddings", cache.to_str().unwrap(), "--explain"][..], extra].concat();
        crate::tools::json_lines(&run_command(Command::new(RANK).args(args).env_remove("VRD_MAX_AGE_DAYS")).stdout)
    };
    let month = ["--at", "2026-11-25T12:00:00Z", "--max-age-days", "7"];
    let feed = rank(&[&month[..], &["-n", "20"]].concat());
    let by_id: std::collections::HashMap<&str, &vrd_core::records::Video> =
        candidates.iter().map(|v| (v.video_id.as_str(), v)).collect();
    for line in &feed {
        let id = line["video_id"].as_str().unwrap();
        let reasons: Vec<&str> = line["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        if id == old[0].video_id {
            assert_eq!(reasons[0], "saved for later", "{line}");
        } else {
            assert!(by_id[id].published_at.is_none_or(|p| p >= oldest), "{id} is too old: {line}");
        }
        if by_id[id].channel_id.as_deref() == Some(new_channel.as_str()) {
            assert_eq!(reasons[0], "new channel: found for your search “sourdough”");
        }
    }
    assert!(feed.iter().any(|l| l["video_id"] == old[0].video_id.as_str()), "the saved one stays");
    assert!(
        feed.iter().all(|l| old[1..].iter().all(|o| l["video_id"] != o.video_id.as_str())),
        "the other old ones left"
    );
    // Explore: the new channel's video at the fourth place (or higher, on its own merit).
    let explore = rank(&[&month[..], &["--mode", "explore", "-n", "6"]].concat());
    let place = explore
        .iter()
        .position(|l| by_id[l["video_id"].as_str().unwrap()].channel_id.as_deref() == Some(new_channel.as_str()));
    assert!(place.is_some_and(|p| p <= 3), "{explore:#?}");
}
