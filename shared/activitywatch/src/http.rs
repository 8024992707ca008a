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
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    /// A loopback listener and its port.
    fn listen() -> (TcpListener, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    }

    /// Answers one plain-HTTP request with "ok".
    fn answer_ok(listener: TcpListener) -> JoinHandle<()> {
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).unwrap();
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").unwrap();
        })
    }

    /// Checks that `url` is attempted with TLS: a handshake against a server that speaks
    /// none fails as a transport error, and what reached the server began one (a TLS
    /// ClientHello starts with the handshake record type 0x16, version 3.x).
    fn attempts_tls(agent: ureq::Agent, listener: TcpListener, url: &str) {
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut hello = [0u8; 5];
            stream.read_exact(&mut hello).unwrap();
            hello
        });
        let err = agent.get(url).call();
        assert!(matches!(err, Err(ureq::Error::Transport(_))), "{err:?}");
        let hello = server.join().unwrap();
        assert_eq!((hello[0], hello[1]), (0x16, 3), "a TLS handshake began: {hello:?}");
    }

    /// A plain-HTTP request on loopback goes through the agent with TLS set up and through
    /// the agent for an `http://` server (none set up).
    #[test]
    fn plain_http_goes_through() {
        for plain_server in [false, true] {
            let (listener, port) = listen();
            let server = answer_ok(listener);
            let base = format!("http://127.0.0.1:{port}");
            let agent = match plain_server {
                false => agent(ureq::AgentBuilder::new()).unwrap(),
                true => agent_for(&base, ureq::AgentBuilder::new()).unwrap(),
            };
            let body = agent.get(&format!("{base}/")).call().unwrap().into_string().unwrap();
            server.join().unwrap();
            assert_eq!(body, "ok");
        }
    }

    /// An `https://` URL is attempted with TLS, not refused for want of a TLS backend: by
    /// the agent with TLS, and by the agent for an `https://` server (its scheme in any case).
    #[test]
    fn https_is_attempted_with_tls() {
        let (listener, port) = listen();
        let url = format!("https://127.0.0.1:{port}/");
        attempts_tls(agent(ureq::AgentBuilder::new()).unwrap(), listener, &url);
        let (listener, port) = listen();
        let base = format!("HTTPS://127.0.0.1:{port}");
        attempts_tls(agent_for(&base, ureq::AgentBuilder::new()).unwrap(), listener, &format!("{base}/"));
    }
}
