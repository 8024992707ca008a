//! The page says why and what the model is: a model retrained from a real store (the
//! simulated person, fixtures/person) by the built vrd-train, a feed ranked by it with
//! vrd-rank --explain and saved in the store, and `vrd-label serve --model` in headless
//! Chromium: from the feed page, the "progress" link clicked with the mouse leads to the
//! model's section (when it was trained and on what, its held-out figures against the cold
//! start, the last retrain, the answers it asks for); every card carries the model's
//! reasons. Then a refused retrain (every answer flipped) shows on the page with its reason.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::BIN;

use crate::person_tools;
use person_tools::person;

struct Served(Child, u16);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(db: &Path, model: &Path) -> Served {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--model", model.to_str().unwrap()])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("serve says where it listens").unwrap();
        if line.contains("serving http://") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Served(child, port)
}

use crate::page;
use page::get;

/// Unescapes what askama escapes, to read sentences as a person does.
fn text(html: &str) -> String {
    html.replace("&#39;", "'").replace("&#34;", "\"").replace("&#38;", "&").replace("&#60;", "<").replace("&#62;", ">")
}

#[test]
fn the_page_shows_the_models_reasons_and_what_the_model_is() {
    let chromium = crate::page::chromium();
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let db = dir.path().join("vrd.db");
    person_tools::person_store(&db, usize::MAX);
    let (db_arg, model) = (d("vrd.db"), d("model"));
    crate::tools::run("vrd-encode", &["media", &person("videos.jsonl"), "-o", &d("media.safetensors")]);
    let retrain = [
        "retrain",
        "--db",
        &db_arg,
        "--model",
        &model,
        "--embeddings",
        &d("media.safetensors"),
        "--window",
        "1h",
        "--timezone",
        "UTC",
        "--epochs",
        "3",
    ];
    crate::tools::run("vrd-train", &retrain);
    let rank = [
        "--model",
        &model,
        "--db",
        &db_arg,
        "--embeddings",
        &d("media.safetensors"),
        "--events",
        &person("app-events.jsonl"),
        "--at",
        "2026-10-20T21:30:00Z",
        "-n",
        "12",
        "--explain",
        "--quiet",
        // The simulated person's catalogue spans the year before the moment.
        "--max-age-days",
        "1000",
    ];
    crate::tools::run("vrd-rank", &rank);
    let served = serve(&db, Path::new(&model));

    // Every card carries the model's reasons.
    let feed = text(&get(served.1, "/"));
    let cards = feed.matches("class=\"card\"").count();
    assert_eq!(cards, 12, "{feed}");
    assert_eq!(feed.matches("<ul class=\"reasons\">").count(), cards, "a reasons list on every card:\n{feed}");
    assert!(feed.contains("a channel you watch") || feed.contains("you often watch"), "the pick's reasons:\n{feed}");

    // In the browser: the progress link, clicked, shows the model's section.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/browser-click.py");
    let url = format!("http://127.0.0.1:{}/", served.1);
    let out = Command::new("python3")
        .arg(&script)
        .args([&url, "a[href=\"/progress\"]", "#model-retrain", "deployed", "--chromium", chromium])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deployed. The first model."));

    let page = text(&get(served.1, "/progress"));
    assert!(page.contains("on 60 watches and 900 answers."), "{page}");
    assert!(page.contains("against") && page.contains("for the cold start's taste profile: ×"), "{page}");
    assert!(page.contains("Answers, interest: ROC-AUC") && page.contains("Answers, right time: ROC-AUC"), "{page}");
    assert!(page.contains("id=\"model-asks\""), "{page}");
    let asks = page.split("id=\"model-asks\">").nth(1).unwrap();
    assert!(asks.starts_with("The model needs ") || asks.starts_with("The model is sure"), "{asks}");

    // A refused retrain shows with its reason, and the model shown is still the old one.
    vrd_store::Store::open(&db).unwrap().add_labels(&person_tools::flipped_answers(), false).unwrap();
    crate::tools::run("vrd-train", &[&retrain[..], &["--force"]].concat());
    let page = text(&get(served.1, "/progress"));
    let retrain = page.split("id=\"model-retrain\">").nth(1).unwrap().split("</p>").next().unwrap();
    assert!(
        retrain.contains("refused, the model before it kept") && retrain.contains("worse than the current model"),
        "{retrain}"
    );
    assert!(page.contains("on 60 watches and 900 answers."), "still the first model: {page}");

    // A feed ranked with ActivityWatch down (no --events: the store's timeline, which ends
    // weeks before now): the page says since when the activity is unknown, once above the
    // cards rather than on each, and so does the progress page.
    let down = [&rank[..6], &["--aw-server", "http://127.0.0.1:9", "-n", "12", "--explain", "--max-age-days", "1000"]]
        .concat();
    let out = crate::tools::run("vrd-rank", &down);
    let lines: Vec<serde_json::Value> = crate::tools::json_lines(&out.stdout);
    let note = lines[0]["reasons"].as_array().unwrap().last().unwrap().as_str().unwrap().to_string();
    assert!(note.starts_with("your activity since ") && note.ends_with("is unknown (ActivityWatch did not answer)"));
    let feed = text(&get(served.1, "/"));
    let banner = format!("<p class=\"note\">Y{}.</p>", &note[1..]);
    assert_eq!(feed.matches(&banner).count(), 1, "{banner} once:\n{feed}");
    assert_eq!(feed.matches("is unknown").count(), 1, "not on every card too:\n{feed}");
    assert!(text(&get(served.1, "/progress")).contains(&format!("The latest feed: {note}.")));
}
