//! `vrd-label serve`: the feed page on the person's own machine. The latest feed that
//! `vrd-rank --db` stored (or an earlier one), a video page with the player and the four
//! answers, each stored at once as `vrd-label` stores labels, and "more like this" from
//! the media embeddings. One person on loopback: a small synchronous server, pages
//! rendered here from compile-time-checked templates (every text escaped), a few lines of
//! plain JavaScript for the buttons and keys. See `guard` for who may talk to it.

mod ago;
mod guard;
mod live_info;
mod model_info;
mod pages;
mod plays;

use anyhow::{bail, Context, Result};
use guard::{Guard, Refusal};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use tiny_http::{Header, Method, Request, Response, Server};
use vrd_core::records::Label;
use vrd_core::tensors::Embeddings;
use vrd_store::Store;

/// The source of the labels given on the page (undo removes only these).
pub const SOURCE: &str = "page";

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Where to listen. Loopback by default: whoever can reach the page answers for you.
    #[arg(long, env = "VRD_LISTEN", default_value = "127.0.0.1:8765")]
    listen: SocketAddr,
    /// Listen on an address other machines can reach (a warning is printed).
    #[arg(long)]
    allow_remote: bool,
    /// The media embeddings (vrd-encode media) for "more like this" on the video page.
    #[arg(long)]
    embeddings: Option<PathBuf>,
    /// A model folder from `vrd-train fit --out` or `retrain --model`: the progress page
    /// says when it was trained, on what, how it does against the cold start, the last
    /// retrain, and what it would like answered next.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Where the video page's player comes from: YouTube's privacy-enhanced embed, or a
    /// mirror that serves the same `/embed/ID` and speaks its messages.
    #[arg(long, env = "VRD_PLAYER", default_value = "https://www.youtube-nocookie.com", value_parser = player_origin)]
    player: String,
}

/// An origin the player is embedded from: `http(s)://host[:port]`, nothing after it.
fn player_origin(text: &str) -> Result<String, String> {
    let trimmed = text.trim_end_matches('/');
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', '"', '\'', '<', '>', ' ']) => {
            Ok(trimmed.to_string())
        }
        _ => Err(format!("{text:?} is not an origin (https://host[:port])")),
    }
}

/// What every request reads: the store, the embeddings, who may write.
struct Site {
    db: PathBuf,
    embeddings: Option<Embeddings>,
    /// `--model`: the progress page says what it is (read per request: a retrain swaps it).
    model: Option<PathBuf>,
    /// `--player`: where the video page's player is embedded from.
    player: String,
    guard: Guard,
}

pub fn run(db: &std::path::Path, args: &ServeArgs) -> Result<()> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(vrd_core::usage::UsageError(format!(
            "--listen {}: not a loopback address; pass --allow-remote to serve other machines",
            args.listen
        ))
        .into());
    }
    if !db.is_file() {
        bail!("{}: no such store (vrd-ingest --db and vrd-rank --db make it)", db.display());
    }
    // Opened once here so that a bad store fails now, not at the first page.
    Store::open(db)?;
    let embeddings = args.embeddings.as_deref().map(Embeddings::read).transpose()?;
    let server = Server::http(args.listen).map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let listen = server.server_addr().to_ip().context("the server has an IP address")?;
    if let Some(model) = args.model.as_ref().filter(|m| !m.exists()) {
        // Not an error: the cron job trains the first model there, and the page shows it
        // from then on (it reads the folder on every request).
        eprintln!(
            "vrd-label: {}: no model there yet (the cron job, vrd-cron-feed, trains the first one)",
            model.display()
        );
    }
    let site = Site {
        db: db.to_path_buf(),
        embeddings,
        model: args.model.clone(),
        player: args.player.clone(),
        guard: Guard::new(listen, guard::new_token()?),
    };
    if !listen.ip().is_loopback() {
        eprintln!("vrd-label: WARNING: serving {listen} to other machines: anyone who can reach it sees your feed");
    }
    eprintln!("vrd-label: serving http://{listen}/ (loopback: {}); Ctrl-C stops", listen.ip().is_loopback());
    for request in server.incoming_requests() {
        if let Err(e) = site.answer(request) {
            eprintln!("vrd-label: {e:#}");
        }
    }
    Ok(())
}

type Page = Response<std::io::Cursor<Vec<u8>>>;

impl Site {
    /// The model's fold plot, where the current version has one (`vrd-train fit --out`
    /// with folds writes it; the cron job's retrains train without folds).
    fn model_plot(&self) -> Option<PathBuf> {
        self.model.as_ref().map(|m| vrd_core::model_dir::ModelDir::new(m).fold_plot()).filter(|p| p.is_file())
    }

    fn answer(&self, mut request: Request) -> Result<()> {
        let response = self.route(&mut request).unwrap_or_else(|e| text(500, &format!("{e:#}")));
        request.respond(response).context("writing the response")
    }

    fn route(&self, request: &mut Request) -> Result<Page> {
        let header = |name: &str| {
            request
                .headers()
                .iter()
                .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                .map(|h| h.value.as_str().to_string())
        };
        let (host, origin, token) = (header("Host"), header("Origin"), header("X-Vrd-Token"));
        if let Err(r) = self.guard.check_host(host.as_deref()) {
            return Ok(refused(r));
        }
        let url = request.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let param = |name: &str| query.split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='));
        let store = Store::open(&self.db)?;
        match (request.method(), path) {
            (Method::Get, "/") => {
                let feed = param("feed").and_then(|f| f.parse().ok()).unwrap_or(0);
                let page = param("page").and_then(|p| p.parse().ok()).unwrap_or(0);
                html(pages::feed(&store, self.guard.token(), feed, page)?)
            }
            (Method::Get, p) if p.starts_with("/video/") => {
                let id = &p["/video/".len()..];
                let feed = param("feed").and_then(|f| f.parse().ok()).unwrap_or(0);
                match pages::video(&store, (self.guard.token(), &self.player), id, feed, self.embeddings.as_ref())? {
                    Some(page) => html(page),
                    None => Ok(text(404, &format!("no video {id:?} in the store"))),
                }
            }
            (Method::Get, "/progress") => {
                let plot = self.model_plot().is_some();
                // The embeddings for the cold start's side of the feeds' figures: --embeddings,
                // else the cache beside the store, read now (the cron job grows it).
                let beside = match &self.embeddings {
                    Some(_) => None,
                    None => Some(self.db.with_file_name("media.safetensors")).filter(|p| p.is_file()),
                };
                let read = beside.map(|p| Embeddings::read(&p)).transpose()?;
                let embeddings = self.embeddings.as_ref().or(read.as_ref());
                let live = live_info::read(&store, embeddings)?;
                html(pages::progress(&store, self.guard.token(), plot, self.model.as_deref(), live)?)
            }
            (Method::Get, "/model/folds.svg") => match &self.model_plot() {
                // Shown through <img>: an SVG there runs no script in the page.
                Some(path) => Ok(with_common_headers(Response::from_data(std::fs::read(path)?), "image/svg+xml")),
                None => {
                    Ok(text(404, "no model plot: start serve with --model DIR, a folder vrd-train fit made with folds"))
                }
            },
            (Method::Get, p) if p.starts_with("/api/like/") => {
                let id = &p["/api/like/".len()..];
                let Some(embeddings) = &self.embeddings else {
                    return Ok(text(404, "no embeddings: start serve with --embeddings FILE"));
                };
                let items = pages::more_like(&store, id, embeddings, 21)?;
                json(200, &serde_json::to_string(&items)?)
            }
            (Method::Post, "/api/label" | "/api/undo" | "/api/play") => {
                if let Err(r) = self.guard.check_write(origin.as_deref(), token.as_deref()) {
                    return Ok(refused(r));
                }
                match read_body(request) {
                    Ok(body) => write(path, &body, store),
                    Err(refusal) => Ok(refusal),
                }
            }
            _ => Ok(text(404, "not found")),
        }
    }
}

/// What the page writes (its token and origin checked): an answer, the undo of the last
/// one, or a play.
fn write(path: &str, body: &str, mut store: Store) -> Result<Page> {
    match path {
        "/api/undo" => match store.undo_last_label(Some(SOURCE))? {
            Some(label) => json(200, &serde_json::to_string(&label)?),
            None => Ok(text(409, "no answer from this page to undo")),
        },
        "/api/play" => match plays::watch_of(&store, body) {
            Ok(Some(watch)) => {
                store.upsert_watch_events(std::slice::from_ref(&watch))?;
                json(200, &serde_json::to_string(&watch)?)
            }
            Ok(None) => Ok(text(422, "no such video in the store: plays are of its videos")),
            Err(e) => Ok(text(400, &format!("{e:#}"))),
        },
        _ => {
            let label = match answer_label(body) {
                Ok(label) => label,
                Err(e) => return Ok(text(400, &format!("{e:#}"))),
            };
            // As `vrd-label add` without --allow-unknown: an answer about a video the
            // store never held would train on nothing.
            if store.known_video_ids([label.video_id.as_str()])?.is_empty() {
                let why = format!("no video {:?} in the store: answers are about its videos", label.video_id);
                return Ok(text(422, &why));
            }
            store.add_labels(std::slice::from_ref(&label), false)?;
            json(200, &serde_json::to_string(&label)?)
        }
    }
}

/// The most an answer's body may hold: the page's answers are a few dozen bytes.
const MAX_BODY: usize = 16 * 1024;

/// A write request's body as text, or the refusal a client's error gets: 413 over
/// [`MAX_BODY`] (said by Content-Length or found while reading), 400 when not UTF-8.
fn read_body(request: &mut Request) -> Result<String, Page> {
    if request.body_length().is_some_and(|n| n > MAX_BODY) {
        return Err(text(413, &format!("an answer is at most {MAX_BODY} bytes")));
    }
    let mut bytes = Vec::new();
    if let Err(e) = request.as_reader().take(MAX_BODY as u64 + 1).read_to_end(&mut bytes) {
        return Err(text(400, &format!("cannot read the request body: {e}")));
    }
    if bytes.len() > MAX_BODY {
        return Err(text(413, &format!("an answer is at most {MAX_BODY} bytes")));
    }
    String::from_utf8(bytes)
        .map_err(|e| text(400, &format!("the body is not UTF-8 (byte {})", e.utf8_error().valid_up_to())))
}

/// A label from the page's JSON (`video_id`, `kind`, `feed`): given now, in that feed.
fn answer_label(body: &str) -> Result<Label> {
    #[derive(serde::Deserialize)]
    struct Answer {
        video_id: String,
        kind: String,
        #[serde(default)]
        feed: Option<String>,
    }
    let a: Answer = serde_json::from_str(body).context("not an answer")?;
    let kind = crate::cmd::parse_kind(&a.kind)?;
    if !vrd_core::records::is_video_id(&a.video_id) {
        bail!("{:?} is not a video id", a.video_id);
    }
    let feed_at = a.feed.filter(|f| !f.is_empty()).map(|f| vrd_core::time::parse_rfc3339(&f)).transpose()?;
    Ok(Label { video_id: a.video_id, kind, labelled_at: chrono::Utc::now(), source: SOURCE.into(), feed_at })
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn with_common_headers(response: Page, content_type: &str) -> Page {
    response
        .with_header(header("Content-Type", content_type))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header("Referrer-Policy", "no-referrer"))
        .with_header(header("X-Frame-Options", "DENY"))
}

fn html(body: String) -> Result<Page> {
    Ok(with_common_headers(Response::from_string(body), "text/html; charset=utf-8"))
}

fn json(status: u16, body: &str) -> Result<Page> {
    Ok(with_common_headers(Response::from_string(body).with_status_code(status), "application/json"))
}

fn text(status: u16, body: &str) -> Page {
    with_common_headers(Response::from_string(body).with_status_code(status), "text/plain; charset=utf-8")
}

fn refused(r: Refusal) -> Page {
    match r {
        Refusal::Host => text(421, "this server answers only to its own address"),
        Refusal::Forbidden => text(403, "not from this page (origin or token)"),
    }
}
