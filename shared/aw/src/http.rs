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

/// Why a request failed, in a person's words and without the URL (the caller names what
/// it asked): "answered 404 Not Found", "connection refused", "timed out". ureq's own text
/// repeats the URL and buries the system's reason at its end.
pub fn failure_words(err: &ureq::Error) -> String {
    match err {
        ureq::Error::Status(code, resp) => format!("answered {code} {}", reason_phrase(*code, resp.status_text())),
        ureq::Error::Transport(t) => transport_words(t),
    }
}

/// The standard words of the statuses a fetch meets, whatever the server wrote beside the
/// code; the server's own for the rest.
fn reason_phrase(code: u16, said: &str) -> &str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => said,
    }
}

/// A request that got no answer, in words: the innermost cause (the system's "Connection
/// refused", the resolver's "failed to lookup address"), else what kind of failure it was.
pub fn transport_words(t: &ureq::Transport) -> String {
    use ureq::ErrorKind;
    let mut innermost: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(next) = innermost.and_then(|e| e.source()) {
        innermost = Some(next);
    }
    let io_kind = innermost.and_then(|e| e.downcast_ref::<std::io::Error>()).map(std::io::Error::kind);
    match (t.kind(), io_kind) {
        (_, Some(std::io::ErrorKind::ConnectionRefused)) => "connection refused".into(),
        (_, Some(std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)) => "timed out".into(),
        (ErrorKind::Dns, _) => "the host name does not resolve".into(),
        (ErrorKind::InvalidUrl | ErrorKind::UnknownScheme, _) => {
            format!("not a URL vrd can ask ({})", t.message().unwrap_or("invalid"))
        }
        (kind, _) => {
            let detail = innermost.map(|e| e.to_string()).or_else(|| t.message().map(str::to_string));
            let kind = kind.to_string().to_lowercase();
            match detail {
                Some(d) => format!("{kind}: {d}"),
                None => kind,
            }
        }
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
