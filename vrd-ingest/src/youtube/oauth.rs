//! OAuth 2.0 for installed apps with a loopback redirect (Google's flow for desktop tools):
//! vrd listens on 127.0.0.1, the person grants read access in their browser, the browser
//! is sent back to vrd with a code, which vrd trades for tokens (PKCE protects the trade).
//! The refresh token is kept in a 0600 file so later runs (cron) need no browser.

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vrd_core::secrets::{read_private_file, write_private_file};

pub const SCOPE: &str = "https://www.googleapis.com/auth/youtube.readonly";

/// Google's downloaded `client_secret_….json`: `{"installed": {…}}`.
#[derive(Deserialize)]
pub struct ClientSecret {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default = "default_auth_uri")]
    pub auth_uri: String,
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
}

fn default_auth_uri() -> String {
    "https://accounts.google.com/o/oauth2/auth".into()
}

fn default_token_uri() -> String {
    "https://oauth2.googleapis.com/token".into()
}

#[derive(Serialize, Deserialize)]
struct StoredToken {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    /// Unix seconds.
    expires_at: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

pub fn load_client(path: &Path) -> Result<ClientSecret> {
    let text = read_private_file(path)?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("{}: not JSON: {e}", path.display()))?;
    let inner = value.get("installed").or_else(|| value.get("web")).unwrap_or(&value);
    serde_json::from_value(inner.clone())
        .map_err(|e| anyhow!("{}: not an OAuth client secret file: {e}", path.display()))
}

/// A valid access token: the stored one, a refreshed one, or a new grant through the
/// browser (`open_browser` tries `xdg-open`; the address is printed either way).
pub fn access_token(client: &ClientSecret, token_file: &Path, open_browser: bool, wait: Duration) -> Result<String> {
    let now = unix_now();
    if token_file.exists() {
        let stored: StoredToken = serde_json::from_str(&read_private_file(token_file)?)
            .map_err(|e| anyhow!("{}: not a vrd token file: {e}", token_file.display()))?;
        if stored.expires_at > now + 60 {
            return Ok(stored.access_token);
        }
        if let Some(refresh) = stored.refresh_token {
            let fresh = exchange(client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])?;
            save(token_file, &fresh, Some(refresh))?;
            return Ok(fresh.access_token);
        }
    }
    let fresh = authorize(client, open_browser, wait)?;
    save(token_file, &fresh, None)?;
    Ok(fresh.access_token)
}

fn save(token_file: &Path, fresh: &TokenResponse, old_refresh: Option<String>) -> Result<()> {
    let stored = StoredToken {
        access_token: fresh.access_token.clone(),
        refresh_token: fresh.refresh_token.clone().or(old_refresh),
        expires_at: unix_now() + fresh.expires_in.unwrap_or(3600),
    };
    write_private_file(token_file, &serde_json::to_string_pretty(&stored)?)
}

fn authorize(client: &ClientSecret, open_browser: bool, wait: Duration) -> Result<TokenResponse> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on the loopback interface")?;
    let redirect = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let verifier = random_token(48)?;
    let challenge = base64_url(&Sha256::digest(verifier.as_bytes()));
    let state = random_token(16)?;
    let url = url::Url::parse_with_params(
        &client.auth_uri,
        &[
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", &redirect),
            ("response_type", "code"),
            ("scope", SCOPE),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", &state),
            ("access_type", "offline"),
            ("prompt", "consent"),
        ],
    )
    .map_err(|e| anyhow!("bad auth_uri {:?} in the client secret file: {e}", client.auth_uri))?;
    eprintln!("vrd-ingest: to let vrd read your YouTube likes, open this address in a browser:\n{url}");
    if open_browser {
        let _ = std::process::Command::new("xdg-open").arg(url.as_str()).spawn();
    }
    let code = wait_for_code(&listener, &state, wait)?;
    exchange(
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect),
            ("code_verifier", &verifier),
        ],
    )
}

/// Serves the browser's return to the loopback address; other requests (a favicon) are
/// answered and ignored.
fn wait_for_code(listener: &TcpListener, state: &str, wait: Duration) -> Result<String> {
    let deadline = std::time::Instant::now() + wait;
    listener.set_nonblocking(true)?;
    loop {
        let (mut stream, _) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() > deadline {
                    bail!("no answer from the browser within {} s", wait.as_secs());
                }
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut first = String::new();
        BufReader::new((&stream).take(8192)).read_line(&mut first)?;
        let target = first.split_whitespace().nth(1).unwrap_or("/");
        let params: Vec<(String, String)> = url::Url::parse(&format!("http://localhost{target}"))
            .map(|u| u.query_pairs().into_owned().collect())
            .unwrap_or_default();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (status, page, outcome) = match (get("code"), get("error")) {
            (_, Some(err)) => {
                ("403 Forbidden", "vrd: access was not granted.", Some(Err(anyhow!("access not granted: {err}"))))
            }
            (Some(_), _) if get("state").as_deref() != Some(state) => {
                ("400 Bad Request", "vrd: this answer is not for this request.", None)
            }
            (Some(code), _) => ("200 OK", "vrd: access granted; you can close this tab.", Some(Ok(code))),
            (None, None) => ("404 Not Found", "", None),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
}

fn exchange(client: &ClientSecret, params: &[(&str, &str)]) -> Result<TokenResponse> {
    let mut form: Vec<(&str, &str)> = vec![("client_id", client.client_id.as_str())];
    if let Some(secret) = &client.client_secret {
        form.push(("client_secret", secret));
    }
    form.extend_from_slice(params);
    let agent = vrd_aw::http::agent(ureq::AgentBuilder::new().timeout(Duration::from_secs(60)))?;
    match agent.post(&client.token_uri).send_form(&form) {
        Ok(resp) => resp.into_json().map_err(|e| anyhow!("token endpoint: unreadable answer: {e}")),
        Err(ureq::Error::Status(code, resp)) => {
            // Google's `{"error": "invalid_grant", "error_description": …}`; never echo the form.
            let body: serde_json::Value = resp.into_json().unwrap_or_default();
            let what = body.get("error").and_then(|e| e.as_str()).unwrap_or("unknown error");
            bail!("token endpoint: HTTP {code} {what} (delete the token file to sign in again)")
        }
        Err(ureq::Error::Transport(t)) => bail!("token endpoint unreachable: {}", t.kind()),
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `bytes` random bytes from the kernel, URL-safe base64.
fn random_token(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(base64_url(&buf))
}

/// Unpadded URL-safe base64 (RFC 4648 §5), as PKCE wants.
fn base64_url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_example() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(base64_url(&Sha256::digest(verifier.as_bytes())), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(base64_url(b"f"), "Zg");
        assert_eq!(base64_url(b"fo"), "Zm8");
        assert_eq!(base64_url(b"foo"), "Zm9v");
    }
}
