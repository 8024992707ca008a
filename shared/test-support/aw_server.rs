//! A real ActivityWatch server (aw-server from PyPI, installed into the project venv by
//! `scripts/setup --tests`) on a free loopback port, with its data in a temporary folder, for the
//! tests of every tool that talks to ActivityWatch. Included by path from their tests.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct AwServer {
    child: Child,
    pub url: String,
    _data: tempfile::TempDir,
}

impl AwServer {
    pub fn start() -> AwServer {
        let exe = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/aw-server");
        assert!(
            exe.is_file(),
            "aw-server is installed by `scripts/setup --tests` (make test and scripts/cargo test run it)"
        );
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let data = tempfile::tempdir().unwrap();
        let child = Command::new(exe)
            .args(["--testing", "--host", "127.0.0.1", "--port", &port.to_string()])
            .env("XDG_DATA_HOME", data.path())
            .env("XDG_CONFIG_HOME", data.path())
            .env("XDG_CACHE_HOME", data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let server = AwServer { child, url, _data: data };
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{}/api/0/info", server.url)).call().is_err() {
            assert!(Instant::now() < deadline, "aw-server did not come up");
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// Loads an export file through the server's own import endpoint.
    pub fn import(&self, export: &Path) {
        let body = std::fs::read_to_string(export).unwrap();
        ureq::post(&format!("{}/api/0/import", self.url))
            .set("Content-Type", "application/json")
            .send_string(&body)
            .unwrap();
    }
}

impl Drop for AwServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl AwServer {
    /// The host name the server reports, which its watchers' buckets are named after.
    pub fn hostname(&self) -> String {
        let info: serde_json::Value =
            ureq::get(&format!("{}/api/0/info", self.url)).call().unwrap().into_json().unwrap();
        info["hostname"].as_str().unwrap().to_string()
    }

    /// Creates a bucket and posts events to it, as a watcher would.
    pub fn post_events(&self, bucket: &str, kind: &str, events: serde_json::Value) {
        self.post_events_of(&self.hostname(), bucket, kind, events);
    }

    /// The same for a watcher that reports another host (the browser extension's `unknown`).
    pub fn post_events_of(&self, hostname: &str, bucket: &str, kind: &str, events: serde_json::Value) {
        let body = serde_json::json!({"client": "vrd-test", "type": kind, "hostname": hostname});
        let _ = ureq::post(&format!("{}/api/0/buckets/{bucket}", self.url)).send_json(body);
        ureq::post(&format!("{}/api/0/buckets/{bucket}/events", self.url)).send_json(events).unwrap();
    }

    /// Every bucket and its events, as the server exports them (`aw-buckets-export.json`).
    pub fn export(&self) -> String {
        ureq::get(&format!("{}/api/0/export", self.url)).call().unwrap().into_string().unwrap()
    }
}
