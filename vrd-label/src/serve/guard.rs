//! Who may talk to the page. The server answers for the person, so a request is served only
//! when it is addressed to this server (its Host names the address it listens on: a DNS
//! rebinding page's requests carry the attacker's name), and a request that changes
//! something must also come from the page itself: its Origin, when the browser sends one,
//! is the server's own, and it carries the per-run token the page was rendered with (a
//! page elsewhere cannot read it).

use std::net::SocketAddr;

/// The names this server answers to: `host:port` of the listen address, and for a
/// loopback address `localhost:port` and `127.0.0.1:port` too.
#[derive(Debug, Clone)]
pub struct Guard {
    hosts: Vec<String>,
    token: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Host missing or not this server's (421 Misdirected Request).
    Host,
    /// Origin not this server's, or the token missing or wrong (403).
    Forbidden,
}

impl Guard {
    pub fn new(listen: SocketAddr, token: String) -> Guard {
        let port = listen.port();
        let mut hosts = vec![match listen {
            SocketAddr::V4(a) => format!("{}:{port}", a.ip()),
            SocketAddr::V6(a) => format!("[{}]:{port}", a.ip()),
        }];
        if listen.ip().is_loopback() {
            hosts.extend([format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")]);
        }
        Guard { hosts, token }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Any request: addressed to this server by name.
    pub fn check_host(&self, host: Option<&str>) -> Result<(), Refusal> {
        match host {
            Some(h) if self.hosts.iter().any(|ours| ours.eq_ignore_ascii_case(h.trim())) => Ok(()),
            _ => Err(Refusal::Host),
        }
    }

    /// A request that changes the store: from our own page, with this run's token.
    pub fn check_write(&self, origin: Option<&str>, token: Option<&str>) -> Result<(), Refusal> {
        if let Some(origin) = origin {
            let ours = origin
                .trim()
                .strip_prefix("http://")
                .is_some_and(|host| self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)));
            if !ours {
                return Err(Refusal::Forbidden);
            }
        }
        match token {
            Some(t) if constant_time_eq(t.trim().as_bytes(), self.token.as_bytes()) => Ok(()),
            _ => Err(Refusal::Forbidden),
        }
    }
}

/// A fresh random token (128 bits from the OS), as hex.
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Equal bytes, compared without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new("127.0.0.1:8765".parse().unwrap(), "secret".into())
    }

    #[test]
    fn only_our_own_names_are_served() {
        let g = guard();
        for ok in ["127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765", "[::1]:8765"] {
            assert_eq!(g.check_host(Some(ok)), Ok(()), "{ok}");
        }
        for bad in [None, Some("evil.example"), Some("evil.example:8765"), Some("localhost:9999"), Some("localhost")] {
            assert_eq!(g.check_host(bad), Err(Refusal::Host), "{bad:?}");
        }
        let remote = Guard::new("192.168.1.5:8000".parse().unwrap(), "t".into());
        assert_eq!(remote.check_host(Some("192.168.1.5:8000")), Ok(()));
        assert_eq!(remote.check_host(Some("localhost:8000")), Err(Refusal::Host), "not loopback: no localhost");
    }

    #[test]
    fn writes_need_our_origin_and_the_token() {
        let g = guard();
        assert_eq!(g.check_write(Some("http://localhost:8765"), Some("secret")), Ok(()));
        assert_eq!(g.check_write(None, Some("secret")), Ok(()), "no Origin (not a browser): the token decides");
        assert_eq!(g.check_write(Some("http://evil.example"), Some("secret")), Err(Refusal::Forbidden));
        assert_eq!(g.check_write(Some("null"), Some("secret")), Err(Refusal::Forbidden));
        assert_eq!(g.check_write(Some("http://localhost:8765"), None), Err(Refusal::Forbidden));
        assert_eq!(g.check_write(Some("http://localhost:8765"), Some("secreT")), Err(Refusal::Forbidden));
        assert_eq!(g.check_write(None, Some("secret2")), Err(Refusal::Forbidden));
    }

    #[test]
    fn tokens_are_fresh() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
