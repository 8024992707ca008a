//! `make install` in a temporary prefix: the installed tools load nothing from the clone's
//! venv, find the default encoder beside themselves (in `lib/vrd`, never in `share/vrd`,
//! the person's own folder with the default prefix), run the README's pipeline as written
//! (bare names on the PATH, from another folder), and `make uninstall` removes exactly
//! what was installed. (The cron job, installed beside them, is run by the README's "Your
//! own feed" test in vrd-label.)

use std::path::{Path, PathBuf};
use std::process::Command;

const TOOLS: [&str; 5] = ["vrd-ingest", "vrd-encode", "vrd-train", "vrd-rank", "vrd-label"];

use crate::paths;
use paths::repo;

use crate::tools::run_command as run;

/// The site-packages folder of the build venv (the libraries and model the clone uses).
fn site_packages() -> PathBuf {
    let out = run(Command::new(repo().join("scripts/setup")).arg("--print-libtorch"));
    let torch = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    torch.parent().unwrap().to_path_buf()
}

/// The ```sh block under "## A pipeline" in the README, exactly as a reader copies it.
fn readme_pipeline() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme.split("## A pipeline").nth(1).expect("README has a section \"A pipeline\"");
    let block = section.split("```sh\n").nth(1).expect("the section holds a ```sh block");
    block.split("```").next().unwrap().to_string()
}

/// An environment that knows nothing of the clone: the prefix's bin and the system's on
/// the PATH, no model or library variables.
fn clean_env<'a>(command: &'a mut Command, prefix: &Path, home: &Path) -> &'a mut Command {
    command
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", prefix.join("bin").display()))
        .env("HOME", home)
        .env("LANG", "C.UTF-8")
}

#[test]
fn installed_tools_run_the_readme_pipeline_without_the_clone_and_uninstall_cleanly() {
    // scripts/install copies the built tools: fresh ones.
    for tool in TOOLS {
        crate::tools::tool(tool);
    }
    let root = tempfile::tempdir().unwrap();
    let prefix = root.path().join("prefix");
    // Something of the user's already in the prefix: install and uninstall leave it alone.
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::write(prefix.join("bin/other-tool"), "#!/bin/sh\n").unwrap();
    run(Command::new(repo().join("scripts/install")).arg(&prefix));

    // Every library from the venv now resolves inside the prefix.
    let venv = site_packages();
    for tool in TOOLS {
        let installed = prefix.join("bin").join(tool);
        let ldd = String::from_utf8(run(Command::new("ldd").arg(&installed)).stdout).unwrap();
        assert!(!ldd.contains(venv.to_str().unwrap()), "{tool} still loads from the venv:\n{ldd}");
        assert!(!ldd.contains("not found"), "{tool}:\n{ldd}");
        if tool != "vrd-ingest" && tool != "vrd-label" {
            let torch = prefix.join("lib/vrd/torch/lib/libtorch_cpu.so").canonicalize().unwrap();
            let loaded = ldd
                .lines()
                .find_map(|line| line.trim().strip_prefix("libtorch_cpu.so => "))
                .and_then(|rest| rest.split(" (").next())
                .map(|path| Path::new(path).canonicalize().unwrap());
            assert_eq!(loaded.as_ref(), Some(&torch), "{tool} loads another libtorch:\n{ldd}");
        }
    }
    let home = root.path().join("home");
    let version = run(clean_env(&mut Command::new("vrd-encode"), &prefix, &home).arg("--version"));
    let version = String::from_utf8(version.stdout).unwrap();
    let model = prefix.join("lib/vrd/encoder");
    assert!(
        version.contains(&format!("default model: {}", model.display())),
        "the installed vrd-encode does not use the installed model:\n{version}"
    );
    assert!(!prefix.join("share/vrd").exists(), "nothing installed where the person's data lives");
    assert!(prefix.join("bin/vrd-cron-feed").is_file(), "the cron job beside the tools");
    assert!(version.contains(&prefix.join("lib/vrd/torch/lib").display().to_string()), "{version}");

    // The README's pipeline, word for word, in a folder of the user's, with a Takeout
    // export where it says (~/Takeout/YouTube*/history/).
    let takeout = home.join("Takeout/YouTube and YouTube Music/history");
    std::fs::create_dir_all(&takeout).unwrap();
    std::fs::copy(repo().join("fixtures/takeout/watch-history.json"), takeout.join("watch-history.json")).unwrap();
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(repo().join("fixtures/candidates.jsonl"), work.join("candidates.jsonl")).unwrap();
    let script = format!("set -euo pipefail\n{}", readme_pipeline());
    let out = run(clean_env(&mut Command::new("bash"), &prefix, &home).arg("-c").arg(&script).current_dir(&work));
    let feed = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = feed.lines().collect();
    assert_eq!(rows.first(), Some(&"title\turl"), "{feed}");
    assert_eq!(rows.len(), 21, "the README's pipeline prints a header and 20 videos:\n{feed}");
    assert!(
        rows[1..]
            .iter()
            .all(|row| row.split('\t').nth(1).is_some_and(|url| url.starts_with("https://www.youtube.com/watch?v="))),
        "title and url per row (cut -f4,6):\n{feed}"
    );
    assert!(work.join("emb.safetensors").is_file() && work.join("watch.jsonl").is_file());

    // Reinstalling over it is clean, then uninstall removes what install wrote, and only that.
    run(Command::new(repo().join("scripts/install")).arg(&prefix));
    run(Command::new(repo().join("scripts/install")).arg("--uninstall").arg(&prefix));
    for tool in TOOLS.iter().chain(&["vrd-cron-feed"]) {
        assert!(!prefix.join("bin").join(tool).exists(), "{tool} left behind");
    }
    assert!(!prefix.join("lib/vrd").exists() && !prefix.join("share/vrd").exists(), "vrd folders left behind");
    assert!(prefix.join("bin/other-tool").is_file(), "uninstall removed a file it did not install");
    let again = Command::new(repo().join("scripts/install")).arg("--uninstall").arg(&prefix).output().unwrap();
    assert!(!again.status.success(), "a second uninstall says there is nothing installed");
}
