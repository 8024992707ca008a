//! `vrd-train retrain` and `rollback` on a real SQLite store holding the simulated person
//! (fixtures/person): the first model (from the answers) is deployed; a retrain once the
//! watch history is in is judged against it on the latest slice and deployed, better; the
//! same night's
//! second run is skipped; a retrain on poisoned answers (every answer flipped) is refused
//! and the old model keeps ranking; rollback brings back the version before; a retrain
//! killed halfway leaves the current model intact. Every run leaves a record in the log.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use vrd_core::model_versions::{Outcome, Versions};
use vrd_core::records::WatchEvent;

use crate::BIN as TRAIN;

use crate::person_tools;
use person_tools::{person, read};

struct Home {
    _dir: tempfile::TempDir,
    db: PathBuf,
    model: PathBuf,
    cache: PathBuf,
}

impl Home {
    fn retrain(&self, extra: &[&str]) -> Command {
        let mut cmd = Command::new(TRAIN);
        cmd.args(["retrain", "--db", self.db.to_str().unwrap(), "--model", self.model.to_str().unwrap()])
            .args(["--embeddings", self.cache.to_str().unwrap(), "--window", "1h", "--timezone", "UTC"])
            .args(extra);
        cmd
    }

    fn run(&self, extra: &[&str]) -> String {
        let out = self.retrain(&[extra, &["--epochs", "3"]].concat()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "retrain {extra:?}: {stderr}");
        stderr
    }

    fn versions(&self) -> Versions {
        Versions::of(&self.model)
    }

    fn last(&self) -> vrd_core::model_versions::RetrainRecord {
        self.versions().log().unwrap().pop().expect("a record")
    }

    /// The next-watch card the model folder serves now.
    fn next_watch_card(&self) -> String {
        std::fs::read_to_string(self.model.join("pick.json")).unwrap()
    }
}

/// The person's store with their answers and the first `watches` of their watch history.
fn home(watches: usize) -> Home {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    person_tools::person_store(&db, watches);
    let cache = dir.path().join("media.safetensors");
    crate::tools::run("vrd-encode", &["media", &person("videos.jsonl"), "-o", cache.to_str().unwrap()]);
    let model = dir.path().join("model");
    Home { _dir: dir, db, model, cache }
}

/// Every answer given again a second later, the other way round.
fn poison(db: &Path) {
    vrd_store::Store::open(db).unwrap().add_labels(&person_tools::flipped_answers(), false).unwrap();
}

fn rank_works(home: &Home) {
    let out = Command::new(crate::tools::tool("vrd-rank"))
        .args(["--model", home.model.to_str().unwrap(), "--db", home.db.to_str().unwrap()])
        .args(["--embeddings", home.cache.to_str().unwrap(), "--events", &person("app-events.jsonl")])
        .args(["--at", "2026-10-20T21:30:00Z", "-n", "3", "--no-cache-update", "--max-age-days", "1000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "vrd-rank with the model: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

#[test]
fn retrains_are_judged_deployed_refused_and_rolled_back() {
    // The answers first, no watch history yet: the first model answers from them alone.
    let home = home(0);
    // Where the model should be, a text encoder (as an install before this one put it in
    // the cron job's model folder): refused, said what it is, and left where it is.
    std::fs::create_dir_all(&home.model).unwrap();
    std::fs::write(home.model.join("config.json"), "{\"model_type\": \"bert\"}").unwrap();
    let out = home.retrain(&[]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("not a model folder (no model.json or pick.json)") && said.contains("text encoder"),
        "{said}"
    );
    assert!(home.model.join("config.json").is_file() && !home.model.is_symlink(), "left as it was");
    assert_eq!(home.last().outcome, Outcome::Failed, "the log says so too (the page reads it)");
    std::fs::remove_dir_all(&home.model).unwrap();
    let said = home.run(&[]);
    assert!(said.contains("deployed"), "{said}");
    let first = home.last();
    assert_eq!((first.outcome, first.previous.as_deref()), (Outcome::Deployed, None));
    let v1 = home.versions().current().expect("the model folder is a link to its version");
    assert_eq!(first.version.as_deref(), Some(v1.as_str()));
    assert!(std::fs::symlink_metadata(&home.model).unwrap().file_type().is_symlink());
    rank_works(&home);

    // The same night again: skipped, and said why.
    let said = home.run(&[]);
    assert!(said.contains("skipped") && said.contains("min ago"), "{said}");
    assert_eq!(home.last().outcome, Outcome::Skipped);

    // Six weeks of watches arrive: the new version learns the next watch from them; judged
    // against the current one (whose feed ranks by the taste profile) on the same latest
    // slice of the history, it is better by more than a standard error, and deployed.
    let history: Vec<WatchEvent> = read("watch-history.jsonl");
    vrd_store::Store::open(&home.db).unwrap().upsert_watch_events(&history).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let said = home.run(&["--min-interval", "1s"]);
    let second = home.last();
    assert_eq!(second.outcome, Outcome::Deployed, "{said}");
    assert_eq!(second.previous.as_deref(), Some(v1.as_str()));
    let figures = second.figures.expect("judged");
    let next_watch = |k: &str| figures["next_watch"][k].as_f64().unwrap();
    assert!(next_watch("new") > next_watch("current") + next_watch("standard_error"), "an improvement: {figures}");
    assert!(figures["interest"]["questions"].as_u64().unwrap() > 0, "the answers' models judged too: {figures}");
    let v2 = home.versions().current().unwrap();
    assert_ne!(v1, v2);
    let v2_card = home.next_watch_card();

    // Nothing new since: skipped even after the interval.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let said = home.run(&["--min-interval", "1s"]);
    assert!(said.contains("nothing new enough"), "{said}");

    // Every answer flipped: the new interest ranks what the person went on to watch below
    // what they never did; refused, and the old model keeps ranking.
    poison(&home.db);
    let said = home.run(&["--force"]);
    let refused = home.last();
    assert_eq!(refused.outcome, Outcome::Refused, "{said}");
    assert!(refused.reason.contains("worse than the current model"), "{}", refused.reason);
    let f = refused.figures.unwrap();
    assert!(f["interest"]["new"].as_f64().unwrap() < f["interest"]["current"].as_f64().unwrap(), "{f}");
    assert_eq!(home.versions().current().as_deref(), Some(v2.as_str()));
    assert_eq!(home.next_watch_card(), v2_card);
    assert!(!home.versions().path_of(refused.version.as_deref().unwrap()).exists(), "refused weights removed");
    rank_works(&home);

    // Rollback: the version before.
    let out = Command::new(TRAIN).args(["rollback", "--model", home.model.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(home.versions().current().as_deref(), Some(v1.as_str()));
    assert_eq!(home.last().outcome, Outcome::RolledBack);
    rank_works(&home);
    // And once more: v1 was the first, nothing before it.
    let out = Command::new(TRAIN).args(["rollback", "--model", home.model.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("first version"));
}

#[test]
fn a_retrain_killed_halfway_leaves_the_current_model() {
    let home = home(30);
    home.run(&[]);
    let current = home.versions().current().unwrap();
    let card = home.next_watch_card();
    // A long training, killed as soon as its new version's folder appears.
    let mut child =
        home.retrain(&["--force", "--epochs", "400"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = std::time::Instant::now();
    let partial = loop {
        let found = std::fs::read_dir(&home.versions().dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "partial"));
        if let Some(p) = found {
            break p;
        }
        assert!(started.elapsed().as_secs() < 120, "no new version started");
        assert!(child.try_wait().unwrap().is_none(), "the retrain ended before it could be killed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        home.versions().current().as_deref(),
        Some(current.as_str()),
        "the link still points at the current version"
    );
    assert_eq!(home.next_watch_card(), card);
    rank_works(&home);
    // The next run clears what the killed one left.
    home.run(&["--force"]);
    assert!(!partial.exists(), "{} removed", partial.display());
}

/// The current version's next-watch model is a fusion one (its deep part runs the encoder):
/// the feed ranks with it beside the answers' model, and a retrain judges it on the slice
/// with that deep part: with a deep part of zero exactly as its regression alone, with a
/// trained one otherwise.
#[test]
fn a_fusion_next_watch_model_is_ranked_with_and_judged_by_a_retrain() {
    use crate::next_watch_fusion_card::fusion_card;
    use vrd_next_watch::card::{NextWatchCard, NextWatchScorer};
    let home = home(60);
    let said = home.run(&[]);
    assert!(said.contains("deployed"), "{said}");
    let fast = NextWatchCard::read(&std::fs::canonicalize(&home.model).unwrap()).unwrap();
    let scratch = home._dir.path().join("scratch");
    let NextWatchScorer::Fusion { weights, taste, .. } = fusion_card(&fast, &scratch, 0.0).scorer else {
        unreachable!()
    };
    let regression = NextWatchCard { scorer: NextWatchScorer::Regression { weights, taste }, ..fast.clone() };
    // What a retrain finds of the current next-watch model, `card` (with its weights).
    let judge = |card: &dyn Fn(&Path) -> NextWatchCard| {
        let current = std::fs::canonicalize(&home.model).unwrap();
        card(&current).write(&current).unwrap();
        rank_works(&home);
        let said = home.run(&["--force"]);
        let figures = home.last().figures.unwrap_or_else(|| panic!("judged: {said}"));
        figures["next_watch"]["current"].as_f64().unwrap()
    };
    let alone = judge(&|_| regression.clone());
    let zero = judge(&|dir| fusion_card(&fast, dir, 0.0));
    let trained = judge(&|dir| fusion_card(&fast, dir, 1.0));
    assert!(alone > 0.0 && alone <= 1.0 && trained > 0.0 && trained <= 1.0);
    assert!((zero - alone).abs() < 1e-12, "a zero deep part is the regression: {zero} vs {alone}");
    assert!((trained - alone).abs() > 1e-6, "the deep part is read: {trained} vs {alone}");
}
