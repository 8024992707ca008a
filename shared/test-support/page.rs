//! A page of a `vrd-label serve` on loopback, fetched as a browser would address it
//! (`#[path]`-included by the page's tests).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;

/// `GET path` from the server on `port`, asserted 200; the whole response.
pub fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// Debian's Chromium, which `scripts/setup-test-deps` installs (make test runs it): the
/// browser the page's tests drive.
pub fn chromium() -> &'static str {
    ["/usr/bin/chromium", "/usr/local/bin/chromium"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .expect("chromium is installed by scripts/setup-test-deps (make test runs it)")
}
