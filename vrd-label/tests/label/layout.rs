//! The docs true to the code: the crate drawing in docs/GUIDE.md is the workspace's real
//! dependency graph (`cargo metadata`), each folder under `shared/` is the crate named
//! after it, and every relative link in the docs leads to a file that exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::paths::repo;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Each workspace crate, its manifest folder relative to the checkout, and the workspace
/// crates it depends on (normal dependencies: a test-only edge is no layering).
fn workspace() -> (Graph, BTreeMap<String, String>) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let names: BTreeSet<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
    let (mut graph, mut folders) = (Graph::new(), BTreeMap::new());
    for p in packages {
        let name = p["name"].as_str().unwrap().to_string();
        let deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_string())
            .filter(|d| names.contains(d))
            .collect();
        let manifest = Path::new(p["manifest_path"].as_str().unwrap());
        let folder = manifest.parent().unwrap().strip_prefix(repo()).unwrap().to_string_lossy().into_owned();
        folders.insert(name.clone(), folder);
        graph.insert(name, deps);
    }
    (graph, folders)
}

/// The drawing under "## The crates": one line a crate, `name  →  dep, dep` (or `(none)`).
fn drawn() -> Graph {
    let guide = std::fs::read_to_string(repo().join("docs/GUIDE.md")).unwrap();
    let section = guide.split("## The crates").nth(1).expect("docs/GUIDE.md has a section \"The crates\"");
    let block = section.split("```text\n").nth(1).unwrap().split("```").next().unwrap();
    block
        .lines()
        .map(|line| {
            let (name, deps) = line.split_once('→').unwrap_or_else(|| panic!("not `crate → deps`: {line}"));
            let deps = deps.trim();
            let deps = if deps == "(none)" { BTreeSet::new() } else { deps.split(", ").map(String::from).collect() };
            (name.trim().to_string(), deps)
        })
        .collect()
}

#[test]
fn the_guides_crate_drawing_is_the_workspaces_dependency_graph() {
    let (graph, _) = workspace();
    let drawing = drawn();
    assert_eq!(drawing.keys().collect::<Vec<_>>(), graph.keys().collect::<Vec<_>>(), "the crates drawn");
    for (name, deps) in &graph {
        assert_eq!(&drawing[name], deps, "{name}'s dependencies, drawn and real");
    }
}

#[test]
fn each_folder_is_the_crate_named_after_it() {
    let (_, folders) = workspace();
    for (name, folder) in folders {
        let expected = match name.strip_prefix("vrd-") {
            Some(_) if !folder.starts_with("shared/") => name.clone(),
            Some(short) => format!("shared/{short}"),
            None => panic!("{name}: every crate is named vrd-…"),
        };
        assert_eq!(folder, expected, "the crate {name}");
    }
}

/// Markdown links `[text](target)` in `text` whose target is a path in this checkout (not a
/// URL, not an anchor of the same page).
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split('#').next().unwrap().to_string())
        .filter(|target| !target.is_empty() && !target.contains("://"))
        .collect()
}

#[test]
fn every_link_in_the_docs_leads_to_a_file() {
    let repo = repo();
    let mut docs = vec!["README.md".to_string(), "BENCHMARKS.md".to_string()];
    for dir in ["docs", "vrd-ingest", "vrd-encode", "vrd-train", "vrd-rank", "vrd-label"] {
        for entry in std::fs::read_dir(repo.join(dir)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") {
                docs.push(format!("{dir}/{name}"));
            }
        }
    }
    assert!(docs.len() >= 9, "the README, BENCHMARKS, the guide, the models' page and each tool's README: {docs:?}");
    for doc in docs {
        let path = repo.join(&doc);
        let text = std::fs::read_to_string(&path).unwrap();
        for target in relative_links(&text) {
            let file = path.parent().unwrap().join(&target);
            assert!(file.exists(), "{doc} links to {target}, which is not there");
        }
    }
}
