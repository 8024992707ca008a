//! The HTTP agent every request of vrd's to a server goes through: ActivityWatch's REST API
//! here, the YouTube Data API, its OAuth token endpoint and channel feeds in vrd-ingest.
//!
//! TLS is the system's OpenSSL with its certificate store (native-tls), so `https://` works
//! behind a company's own root too, and a fresh build compiles no TLS stack of its own.

use anyhow::{Context, Result};
use std::sync::Arc;

/// `builder` (timeouts already set) with TLS for `https://` URLs.
pub fn agent(builder: ureq::AgentBuilder) -> Result<ureq::Agent> {
    let tls = native_tls::TlsConnector::new().context("cannot set up TLS (the system's OpenSSL)")?;
    Ok(builder.tls_connector(Arc::new(tls)).build())
}

/// The agent for a client that only ever asks `base` (a server's root): with TLS when
/// `base` is `https://`, else without, since loading the system's certificates costs about
/// 40 ms, a tenth of a feed asking a local ActivityWatch server.
pub fn agent_for(base: &str, builder: ureq::AgentBuilder) -> Result<ureq::Agent> {
    match base.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")) {
        true => agent(builder),
        false => Ok(builder.build()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A plain-HTTP request on loopback through the agent: the TLS set-up leaves `http://`
    /// as it was.
    #[test]
    fn plain_http_goes_through() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).unwrap();
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").unwrap();
        });
        let agent = agent(ureq::AgentBuilder::new()).unwrap();
        let body = agent.get(&format!("http://127.0.0.1:{port}/")).call().unwrap().into_string().unwrap();
        server.join().unwrap();
        assert_eq!(body, "ok");
    }

    /// A client of an `http://` server (no TLS set up) reaches it; one of an `https://`
    /// server speaks TLS.
    #[test]
    fn the_agent_for_a_server_sets_up_tls_only_for_https() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).unwrap();
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").unwrap();
            let (mut stream, _) = listener.accept().unwrap();
            let mut hello = [0u8; 5];
            stream.read_exact(&mut hello).unwrap();
            hello
        });
        let base = format!("http://127.0.0.1:{port}");
        let plain = agent_for(&base, ureq::AgentBuilder::new()).unwrap();
        assert_eq!(plain.get(&format!("{base}/")).call().unwrap().into_string().unwrap(), "ok");
        let base = format!("HTTPS://127.0.0.1:{port}");
        let err = agent_for(&base, ureq::AgentBuilder::new()).unwrap().get(&format!("{base}/")).call();
        assert!(matches!(err, Err(ureq::Error::Transport(_))), "{err:?}");
        let hello = server.join().unwrap();
        assert_eq!((hello[0], hello[1]), (0x16, 3), "a TLS handshake began: {hello:?}");
    }

    /// An `https://` URL is attempted with TLS (a handshake against a server that speaks
    /// none fails as a transport error), not refused for want of a TLS backend.
    #[test]
    fn https_is_attempted_with_tls() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 5];
            // A TLS ClientHello starts with the handshake record type 0x16, version 3.x.
            stream.read_exact(&mut buf).unwrap();
            buf
        });
        let err = agent(ureq::AgentBuilder::new()).unwrap().get(&format!("https://127.0.0.1:{port}/")).call();
        assert!(matches!(err, Err(ureq::Error::Transport(_))), "{err:?}");
        let hello = server.join().unwrap();
        assert_eq!((hello[0], hello[1]), (0x16, 3), "a TLS handshake began: {hello:?}");
    }
}
