//! `vrd-label tui`: one candidate at a time on the terminal, a key per judgment.
//!
//! The screen is drawn on `/dev/tty` and keys are read from it, so stdin can carry the
//! candidates (`vrd-rank … | vrd-label tui --from -`) and stdout stays empty. Every label
//! is committed to the store the moment its key is pressed: killing the program loses
//! nothing already given.

use anyhow::{Context, Result};
use clap::Args;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::{Attribute, Print, SetAttribute};
use crossterm::terminal::{self, ClearType};
use crossterm::{cursor, queue};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use vrd_aw::client::Client;
use vrd_aw::hosts::Hosts;
use vrd_core::records::{Head, Label, LabelKind, Score};
use vrd_core::time::Timestamp;
use vrd_store::Store;

#[derive(Args)]
pub struct TuiArgs {
    /// Candidates from a JSONL file or `-` for stdin (the feed vrd-rank prints, or video
    /// records), in the order given, instead of the store's unlabelled videos.
    #[arg(long)]
    from: Option<PathBuf>,
    /// The ActivityWatch server whose current activity is shown with each candidate.
    #[command(flatten)]
    aw: vrd_cli::AwArgs,
    /// Do not ask ActivityWatch.
    #[arg(long)]
    no_aw: bool,
    /// The source recorded with each label.
    #[arg(long, default_value = "tui")]
    source: String,
    /// Active learning: offer first the candidates the model is least sure about (a feed
    /// from `vrd-rank --model` carries its probabilities), so each label teaches it most.
    #[arg(long, requires = "from")]
    uncertain_first: bool,
}

/// What is shown of a candidate.
#[derive(Debug, Clone)]
struct Candidate {
    video_id: String,
    title: String,
    channel: Option<String>,
    duration_s: Option<f64>,
    published_at: Option<Timestamp>,
    url: String,
    /// How sure the model is: the distance of its nearest probability to 0.5 (a feed
    /// from vrd-rank --model); `None` without scores.
    certainty: Option<f64>,
}

pub fn run(db: &Path, args: TuiArgs) -> Result<()> {
    let mut store = Store::open(db)?;
    let mut candidates = match &args.from {
        Some(path) => read_candidates(path)?,
        None => store_candidates(&store)?,
    };
    if args.uncertain_first {
        uncertain_first(&mut candidates);
    }
    if candidates.is_empty() {
        eprintln!("vrd-label: nothing to label: no unlabelled candidates");
        return Ok(());
    }
    // The ActivityWatch options (a key file readable by others is refused) before the screen.
    let options = args.aw.options();
    let aw = if args.no_aw { None } else { Some(options.client()?) };
    let hosts = options.hosts.clone();
    let tty = File::options().read(true).write(true).open("/dev/tty").context("vrd-label tui needs a terminal")?;
    let mut screen = Screen::enter(tty)?;
    let mut session = Session { candidates, index: 0, answers: HashMap::new(), counts: HashMap::new(), message: None };
    let mut context = context_line(aw.as_ref(), &hosts, &options.server);
    loop {
        screen.draw(&session, &context)?;
        let Event::Key(key) = event::read()? else { continue };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        let before = session.index;
        match action(key) {
            Action::Label(kind) => session.label(&mut store, kind, &args.source)?,
            Action::Next => session.move_by(1),
            Action::Previous => session.move_by(-1),
            Action::Undo => session.undo(&mut store, &args.source)?,
            Action::Open => session.open(),
            Action::Quit => break,
            Action::None => {}
        }
        if session.index != before {
            context = context_line(aw.as_ref(), &hosts, &options.server);
        }
    }
    drop(screen);
    let summary: Vec<String> =
        LabelKind::ALL.iter().map(|k| format!("{} {}", session.counts.get(k).copied().unwrap_or(0), k)).collect();
    eprintln!("vrd-label: {}: {}", db.display(), summary.join(", "));
    Ok(())
}

enum Action {
    Label(LabelKind),
    Next,
    Previous,
    Undo,
    Open,
    Quit,
    None,
}

fn action(key: KeyEvent) -> Action {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Action::Quit;
    }
    match key.code {
        KeyCode::Char('i') => Action::Label(LabelKind::Interest),
        KeyCode::Char('u') => Action::Label(LabelKind::Uninterest),
        KeyCode::Char('r') => Action::Label(LabelKind::RightTime),
        KeyCode::Char('n') => Action::Label(LabelKind::NotNow),
        KeyCode::Char('s') => Action::Label(LabelKind::Skip),
        KeyCode::Char('z') | KeyCode::Backspace => Action::Undo,
        KeyCode::Char('o') => Action::Open,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Right | KeyCode::Enter | KeyCode::Char(' ') | KeyCode::Char('j') => Action::Next,
        KeyCode::Left | KeyCode::Char('k') => Action::Previous,
        _ => Action::None,
    }
}

struct Session {
    candidates: Vec<Candidate>,
    /// Past the last candidate means done.
    index: usize,
    /// Per video, this session's answer to each question.
    answers: HashMap<String, (Option<LabelKind>, Option<LabelKind>)>,
    counts: HashMap<LabelKind, usize>,
    message: Option<String>,
}

impl Session {
    fn current(&self) -> Option<&Candidate> {
        self.candidates.get(self.index)
    }

    fn move_by(&mut self, step: isize) {
        self.index = self.index.saturating_add_signed(step).min(self.candidates.len());
        self.message = None;
    }

    /// Records a label at once; moves on when both questions are answered, or on skip.
    fn label(&mut self, store: &mut Store, kind: LabelKind, source: &str) -> Result<()> {
        let Some(c) = self.current() else { return Ok(()) };
        let video_id = c.video_id.clone();
        let label = Label {
            video_id: video_id.clone(),
            kind,
            labelled_at: chrono::Utc::now(),
            source: source.into(),
            feed_at: None,
        };
        store.add_labels(&[label], false)?;
        *self.counts.entry(kind).or_default() += 1;
        let answer = self.answers.entry(video_id).or_default();
        match kind.head() {
            Some(Head::Interest) => answer.0 = Some(kind),
            Some(Head::RightTime) => answer.1 = Some(kind),
            None => {}
        }
        let done = kind == LabelKind::Skip || (answer.0.is_some() && answer.1.is_some());
        self.message = Some(format!("saved: {kind}"));
        if done {
            self.index += 1;
        }
        Ok(())
    }

    fn undo(&mut self, store: &mut Store, source: &str) -> Result<()> {
        let Some(label) = store.undo_last_label(Some(source))? else {
            self.message = Some("nothing to undo".into());
            return Ok(());
        };
        if let Some(n) = self.counts.get_mut(&label.kind) {
            *n = n.saturating_sub(1);
        }
        if let Some(answer) = self.answers.get_mut(&label.video_id) {
            match label.kind.head() {
                Some(Head::Interest) if answer.0 == Some(label.kind) => answer.0 = None,
                Some(Head::RightTime) if answer.1 == Some(label.kind) => answer.1 = None,
                _ => {}
            }
        }
        if let Some(i) = self.candidates.iter().position(|c| c.video_id == label.video_id) {
            self.index = i;
        }
        self.message = Some(format!("undone: {} of {}", label.kind, label.video_id));
        Ok(())
    }

    fn open(&mut self) {
        let Some(c) = self.current() else { return };
        let opener = std::env::var("BROWSER").unwrap_or_else(|_| "xdg-open".into());
        let spawned = std::process::Command::new(&opener)
            .arg(&c.url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        self.message = Some(match spawned {
            Ok(_) => format!("opened {}", c.url),
            Err(e) => format!("cannot run {opener}: {e}"),
        });
    }
}

/// The alternate screen in raw mode on the terminal, restored when dropped (also on an
/// error or a panic unwinding through it).
struct Screen {
    tty: File,
}

impl Screen {
    fn enter(mut tty: File) -> Result<Screen> {
        terminal::enable_raw_mode()?;
        queue!(tty, terminal::EnterAlternateScreen, cursor::Hide)?;
        tty.flush()?;
        Ok(Screen { tty })
    }

    fn draw(&mut self, s: &Session, context: &str) -> Result<()> {
        let width = terminal::size().map(|(w, _)| w as usize).unwrap_or(80).max(20);
        let fit = |text: &str| -> String { text.chars().take(width - 1).collect() };
        let mut lines: Vec<(bool, String)> = Vec::new();
        let labelled: usize = s.counts.values().sum();
        lines.push((
            false,
            format!(
                "vrd-label  {}/{}  |  {} labelled: {}",
                (s.index + 1).min(s.candidates.len()),
                s.candidates.len(),
                labelled,
                LabelKind::ALL
                    .iter()
                    .map(|k| format!("{} {}", k, s.counts.get(k).copied().unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(" · ")
            ),
        ));
        lines.push((false, String::new()));
        match s.current() {
            Some(c) => {
                lines.push((true, c.title.clone()));
                let mut facts = vec![c.channel.clone().unwrap_or_else(|| "(unknown channel)".into())];
                if let Some(d) = c.duration_s {
                    facts.push(format_duration(d));
                }
                if let Some(p) = c.published_at {
                    facts.push(format!("published {}", p.format("%Y-%m-%d")));
                }
                lines.push((false, facts.join(" · ")));
                lines.push((false, c.url.clone()));
                let (interest, time) = s.answers.get(&c.video_id).copied().unwrap_or_default();
                let shown = |a: Option<LabelKind>| a.map_or("-".to_string(), |k| k.to_string());
                lines.push((false, format!("this video: interest {} · moment {}", shown(interest), shown(time))));
            }
            None => {
                lines.push((true, format!("All {} candidates seen.", s.candidates.len())));
                lines.push((false, "[z] undo the last label, [k] back, [q] quit".into()));
            }
        }
        lines.push((false, String::new()));
        lines.push((false, format!("now: {context}")));
        lines.push((false, String::new()));
        lines.push((false, "[i] interest  [u] uninterest  [r] right time  [n] not now  [s] skip".into()));
        lines.push((false, "[z] undo  [o] open in browser  [j/k] next/previous  [q] quit".into()));
        lines.push((false, s.message.clone().unwrap_or_default()));
        queue!(self.tty, terminal::Clear(ClearType::All))?;
        for (row, (bold, text)) in lines.iter().enumerate() {
            queue!(self.tty, cursor::MoveTo(0, row as u16))?;
            if *bold {
                queue!(self.tty, SetAttribute(Attribute::Bold), Print(fit(text)), SetAttribute(Attribute::Reset))?;
            } else {
                queue!(self.tty, Print(fit(text)))?;
            }
        }
        self.tty.flush()?;
        Ok(())
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = queue!(self.tty, cursor::Show, terminal::LeaveAlternateScreen);
        let _ = self.tty.flush();
        let _ = terminal::disable_raw_mode();
    }
}

fn context_line(aw: Option<&Client>, hosts: &Hosts, server: &str) -> String {
    match aw {
        None => "(ActivityWatch not asked)".into(),
        Some(client) => vrd_aw::now::summary(client, hosts).unwrap_or_else(|e| {
            let e = e.to_string();
            if e.contains("cannot reach") {
                format!("ActivityWatch not reachable at {server}")
            } else {
                format!("ActivityWatch: {e}")
            }
        }),
    }
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

/// Least certain first (stable: equally certain ones keep the feed's order; candidates
/// without probabilities go last).
fn uncertain_first(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| match (a.certainty, b.certainty) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// The store's videos nobody has labelled yet, newest first.
fn store_candidates(store: &Store) -> Result<Vec<Candidate>> {
    let labelled = store.labelled_video_ids()?;
    let mut videos: Vec<_> = store.videos()?.into_iter().filter(|v| !labelled.contains(&v.video_id)).collect();
    videos.sort_by_key(|v| std::cmp::Reverse(v.published_at));
    Ok(videos
        .into_iter()
        .map(|v| Candidate {
            url: vrd_core::records::youtube_url(&v.video_id),
            video_id: v.video_id,
            title: v.title,
            channel: v.channel,
            duration_s: v.duration_s,
            published_at: v.published_at,
            certainty: None,
        })
        .collect())
}

/// What the screen reads of a candidate line: a feed line (`vrd_core::records::FeedItem`,
/// vrd-rank's JSONL, with its scores) or a video record (`Video`), whichever it is.
#[derive(serde::Deserialize)]
struct CandidateLine {
    video_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    duration_s: Option<f64>,
    #[serde(default)]
    published_at: Option<vrd_core::time::Timestamp>,
    #[serde(default)]
    scores: std::collections::BTreeMap<String, f64>,
}

/// Feed lines (`vrd-rank`'s JSONL) or video records, in order; errors name the line and
/// field (`vrd_core::jsonl`).
fn read_candidates(path: &Path) -> Result<Vec<Candidate>> {
    let lines: Vec<CandidateLine> = vrd_core::jsonl::JsonlReader::open(Some(path))?.read_all()?;
    Ok(lines
        .into_iter()
        .map(|line| Candidate {
            url: line.url.unwrap_or_else(|| vrd_core::records::youtube_url(&line.video_id)),
            title: line.title,
            channel: line.channel,
            duration_s: line.duration_s,
            published_at: line.published_at,
            // How far the less certain of the model's two probabilities is from a coin toss.
            certainty: [Score::Interest, Score::RightTime]
                .iter()
                .filter_map(|part| line.scores.get(part.key()))
                .map(|p| (p - 0.5).abs())
                .reduce(f64::min),
            video_id: line.video_id,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_certain_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed.jsonl");
        std::fs::write(
            &feed,
            [
                r#"{"video_id":"sure","title":"a","scores":{"interest":0.99,"right_time":0.95}}"#,
                r#"{"video_id":"plain","title":"b"}"#,
                r#"{"video_id":"torn","title":"c","scores":{"interest":0.9,"right_time":0.55}}"#,
                r#"{"video_id":"half","title":"d","scores":{"interest":0.3,"right_time":0.8}}"#,
            ]
            .join("\n"),
        )
        .unwrap();
        let mut c = read_candidates(&feed).unwrap();
        uncertain_first(&mut c);
        let order: Vec<&str> = c.iter().map(|c| c.video_id.as_str()).collect();
        assert_eq!(order, ["torn", "half", "sure", "plain"]);
    }

    #[test]
    fn durations_read_like_a_player() {
        assert_eq!(format_duration(45.0), "0:45");
        assert_eq!(format_duration(1267.0), "21:07");
        assert_eq!(format_duration(3725.0), "1:02:05");
    }
}
