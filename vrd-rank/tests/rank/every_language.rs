//! Titles in every language, through the tools and from a history alone: a person who
//! follows a Thai drama episode by episode, among Thai cooking, Chinese news and English
//! gaming, gets the next episode first, and the reason names the words it shares with the
//! last watch; and a multilingual encoder folder (multilingual E5's layout, BGE-M3's) works
//! as `VRD_MODEL`: its prompt and pooling, the cold start and the next-watch model.

use crate::encoder_folders;
use crate::tools::{run_command, tool};
use std::path::Path;
use std::process::Command;

const SERIES: &str = "ดวงใจเทวพรหม ตอนที่";
const CHANNEL: (&str, &str) = ("UCthaidrama00000000000", "ช่องละครไทย");

/// Other videos, each (title, channel id, channel name).
fn others() -> Vec<(String, &'static str, &'static str)> {
    let mut out = Vec::new();
    for (i, dish) in ["ต้มยำกุ้ง", "ผัดไทย", "แกงเขียวหวาน", "ส้มตำ", "ข้าวมันไก่", "มัสมั่น"].iter().enumerate()
    {
        for way in ["วิธีทำ", "สูตร", "เคล็ดลับ"] {
            out.push((format!("{way}{dish} แบบง่ายๆ {i}"), "UCthaicook000000000000", "ครัวคุณแม่"));
        }
    }
    for topic in ["台灣新聞直播", "國際新聞", "財經新聞", "政論節目", "氣象預報", "立法院直播"]
    {
        for day in 1..=3 {
            out.push((format!("{topic} 第{day}集"), "UCtaiwannews0000000000", "台灣新聞台"));
        }
    }
    for game in ["Minecraft", "Terraria", "Stardew Valley", "Hollow Knight", "Celeste", "Factorio"] {
        for what in ["speedrun", "let's play", "tips"] {
            out.push((format!("{game} {what}"), "UCgaming00000000000000", "Gaming Daily"));
        }
    }
    // The drama channel's other programmes, and another drama.
    for (k, title) in ["ข่าวบันเทิงวันนี้", "สัมภาษณ์นักแสดง", "เบื้องหลังกองถ่าย", "เพลิงพรางเทียน ตอนที่ 2"].iter().enumerate()
    {
        for n in 0..3 {
            out.push((format!("{title} {}", n + 3 * k), CHANNEL.0, CHANNEL.1));
        }
    }
    out
}

fn video(id: &str, title: &str, channel: (&str, &str), published: &str) -> serde_json::Value {
    serde_json::json!({"video_id": id, "title": title, "channel_id": channel.0, "channel": channel.1,
        "published_at": published, "source": "test"})
}

/// The history (40 days: a video of the others at noon, the episode at 20:00, now and then
/// another of the drama channel's or of the others at 21:00; and the 41st day's noon) and
/// the candidates (the next episode, the
/// drama channel's new videos, new videos of the other channels), written to `dir`.
fn write_person(dir: &Path) -> (String, String) {
    let others = others();
    let start = vrd_core::time::parse_rfc3339("2026-10-01T00:00:00Z").unwrap();
    let mut history = String::new();
    let mut watch = |id: String, title: &str, channel: (&str, &str), at: vrd_core::time::Timestamp| {
        let w = serde_json::json!({"video_id": id, "title": title, "channel_id": channel.0, "channel": channel.1,
            "watched_at": vrd_core::time::format_rfc3339(&at), "source": "takeout-json"});
        history.push_str(&format!("{w}\n"));
    };
    // Half the others are watched, the rest are new candidates.
    let (watched, fresh): (Vec<_>, Vec<_>) = others.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    for day in 0..41i64 {
        let noon = start + chrono::Duration::days(day) + chrono::Duration::hours(12);
        let (i, (title, cid, cname)) = watched[day as usize % watched.len()];
        watch(format!("other{i:03}"), title, (cid, cname), noon);
        if day == 40 {
            break;
        }
        let evening = noon + chrono::Duration::hours(8);
        watch(format!("ep{:03}", day + 1), &format!("{SERIES} {}", day + 1), CHANNEL, evening);
        if day % 4 == 0 {
            let (i, (title, cid, cname)) = watched[(day as usize * 7 + 3) % watched.len()];
            watch(format!("other{i:03}"), title, (cid, cname), evening + chrono::Duration::hours(1));
        }
    }
    let history_path = dir.join("history.jsonl");
    std::fs::write(&history_path, history).unwrap();
    let published = "2026-11-09T18:00:00Z";
    let mut candidates = vec![video("ep041", &format!("{SERIES} 41"), CHANNEL, published)];
    for (i, (title, cid, cname)) in fresh {
        candidates.push(video(&format!("other{i:03}"), title, (cid, cname), published));
    }
    let candidates_path = dir.join("candidates.jsonl");
    std::fs::write(&candidates_path, candidates.iter().map(|v| format!("{v}\n")).collect::<String>()).unwrap();
    (history_path.to_string_lossy().into_owned(), candidates_path.to_string_lossy().into_owned())
}

/// The moment: the 41st evening, episode 40 watched the evening before.
const AT: &str = "2026-11-10T20:00:00Z";

/// Encodes, trains from the history alone and ranks with `model` as `VRD_MODEL` (the
/// packaged one where none); the feed's lines.
fn train_and_rank(dir: &Path, model: Option<&Path>) -> (Vec<serde_json::Value>, serde_json::Value) {
    let (history, candidates) = write_person(dir);
    let d = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let with_model = |cmd: &mut Command| {
        if let Some(m) = model {
            cmd.env("VRD_MODEL", m);
        }
    };
    let mut encode = Command::new(tool("vrd-encode"));
    encode.args(["media", &history, &candidates, "-o", &d("media.safetensors")]);
    with_model(&mut encode);
    run_command(&mut encode);
    let mut fit = Command::new(tool("vrd-train"));
    fit.args(["fit", "--history", &history, "--candidates", &candidates, "--media", &d("media.safetensors")]);
    fit.args(["--folds", "0", "--out", &d("model")]);
    with_model(&mut fit);
    run_command(&mut fit);
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d("model/pick.json")).unwrap()).unwrap();
    let mut rank = Command::new(tool("vrd-rank"));
    rank.args(["--model", &d("model"), "--history", &history, "--candidates", &candidates]);
    rank.args(["--embeddings", &d("media.safetensors"), "--at", AT, "-n", "10", "--explain"]);
    with_model(&mut rank);
    let feed = crate::tools::json_lines(&run_command(&mut rank).stdout);
    // The cold start ranks the same pool.
    let mut cold = Command::new(tool("vrd-rank"));
    cold.args(["--cold-start", "--history", &history, "--candidates", &candidates]);
    cold.args(["--embeddings", &d("media.safetensors"), "--at", AT, "-n", "10"]);
    with_model(&mut cold);
    let cold: Vec<serde_json::Value> = crate::tools::json_lines(&run_command(&mut cold).stdout);
    assert_eq!(cold.len(), 10);
    (feed, card)
}

fn reasons(line: &serde_json::Value) -> Vec<&str> {
    line["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect()
}

#[test]
fn the_next_episode_of_a_thai_series_comes_first_and_says_what_it_shares() {
    let dir = tempfile::tempdir().unwrap();
    let (feed, card) = train_and_rank(dir.path(), None);
    assert!(card["lexical"]["documents"].as_u64().unwrap() > 100, "the card keeps the view's frequencies");
    assert_eq!(feed[0]["video_id"], "ep041", "{feed:#?}");
    let said = reasons(&feed[0]);
    assert!(said.contains(&format!("shares “{SERIES}” with “{SERIES} 40”, watched yesterday").as_str()), "{said:?}");
    // The drama channel's other videos are not the series: nothing shared is named of them.
    for line in &feed[1..] {
        assert!(reasons(line).iter().all(|r| !r.contains(SERIES)), "{line}");
    }
}

#[test]
fn a_multilingual_e5_or_bge_m3_folder_is_the_encoder_of_every_tool() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = crate::paths::repo().join("fixtures/tiny-xlmr");
    for (folder, id_part) in [
        (encoder_folders::multilingual_e5(&tiny, dir.path()), "multilingual-e5-tiny|mean|norm|66|prompt=\"query: \""),
        (encoder_folders::bge_m3(&tiny, dir.path()), "bge-m3-tiny|cls|norm|64"),
    ] {
        let work = dir.path().join(format!("{}-work", folder.file_name().unwrap().to_string_lossy()));
        std::fs::create_dir(&work).unwrap();
        let (feed, card) = train_and_rank(&work, Some(&folder));
        assert_eq!(card["media_model"], id_part, "the embeddings and the model name the folder, pooling and prompt");
        assert_eq!(feed.len(), 10);
        // The lexical view does not depend on the encoder: the next episode still leads.
        assert_eq!(feed[0]["video_id"], "ep041", "{}: {feed:#?}", folder.display());
    }
    // Embeddings of one folder are refused by a model of another.
    let wrong = Command::new(tool("vrd-encode"))
        .args(["media", "--model", &tiny.to_string_lossy()])
        .arg(dir.path().join("multilingual-e5-tiny-work/history.jsonl"))
        .arg(dir.path().join("multilingual-e5-tiny-work/candidates.jsonl"))
        .args(["-o", &dir.path().join("other.safetensors").to_string_lossy()])
        .output()
        .unwrap();
    assert!(wrong.status.success());
    let work = dir.path().join("multilingual-e5-tiny-work");
    let out = Command::new(tool("vrd-rank"))
        .args([
            "--model",
            &work.join("model").to_string_lossy(),
            "--history",
            &work.join("history.jsonl").to_string_lossy(),
        ])
        .args(["--candidates", &work.join("candidates.jsonl").to_string_lossy()])
        .args(["--embeddings", &dir.path().join("other.safetensors").to_string_lossy(), "--at", AT])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("encode with that model"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
