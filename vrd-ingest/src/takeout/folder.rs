//! A Takeout as the person has it: the folder Google's archive unpacks to, or the archive
//! itself (`.zip`). Its folder and file names are in the account's language (`YouTube und
//! YouTube Music/Verlauf/Wiedergabeverlauf.html`), so the YouTube files are told apart by
//! what they hold: an activity list with watches or searches (every language's URLs are
//! the same), a CSV of channel ids (the subscriptions), a CSV of video ids named as the
//! liked or disliked list.

use crate::subscriptions;
use crate::takeout;
use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
use std::path::Path;
use vrd_core::reach::SavedVideo;
use vrd_core::records::{Label, LabelKind, Search, Subscription, WatchEvent};
use vrd_core::time::Tz;

/// One of the Takeout's files: its path (inside the folder or archive) and its text.
pub struct TakeoutFile {
    pub name: String,
    pub text: String,
}

/// What a Takeout held for vrd, and which files it came from.
#[derive(Default)]
pub struct Found {
    pub watches: Vec<WatchEvent>,
    pub searches: Vec<Search>,
    pub subscriptions: Vec<Subscription>,
    /// The liked (interest) and disliked (uninterest) lists as labels.
    pub labels: Vec<Label>,
    /// Per part, the files it was read from, and what each said.
    pub watch_files: Vec<String>,
    pub search_files: Vec<String>,
    pub subscription_files: Vec<String>,
    pub liked_files: Vec<String>,
    pub disliked_files: Vec<String>,
    /// The videos on the person's other playlists (Watch later, their own), and the files.
    pub saved: Vec<SavedVideo>,
    pub saved_files: Vec<String>,
    /// Other YouTube files (the list of playlists, comments, channel data), not used.
    pub other_files: usize,
}

/// The labels' `source` for Takeout's lists.
pub const LIKED: &str = "takeout-liked";
pub const DISLIKED: &str = "takeout-disliked";

/// Whether `path` is a whole Takeout (a folder or a `.zip`) rather than one of its files.
pub fn is_takeout(path: &Path) -> bool {
    path.is_dir() || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// Reads every YouTube file of the Takeout at `path` and sorts out what each holds.
pub fn read(path: &Path, tz: Option<&Tz>) -> Result<Found> {
    let files = match path.is_dir() {
        true => folder_files(path)?,
        false => zip_files(path)?,
    };
    if files.is_empty() {
        bail!("{}: no YouTube files (Takeout's \"YouTube and YouTube Music\" folder, in any language)", path.display());
    }
    let mut found = Found::default();
    for file in &files {
        sort_out(file, tz, &mut found)?;
    }
    found.check_one_person(path, &files)?;
    found.watches.sort_by_key(|e| e.watched_at);
    found.searches.sort_by_key(|s| s.searched_at);
    Ok(found)
}

/// The YouTube product's files: under a folder whose name says YouTube, JSON, HTML or CSV.
fn wanted(name: &str) -> bool {
    let lower = name.to_lowercase();
    let youtube = lower.contains("youtube");
    youtube && [".json", ".html", ".csv"].iter().any(|e| lower.ends_with(e))
}

fn folder_files(root: &Path) -> Result<Vec<TakeoutFile>> {
    let root = root.canonicalize().with_context(|| format!("cannot open {}", root.display()))?;
    let mut files = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(dir) = todo.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("cannot list {}", dir.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                todo.push(path);
            } else if wanted(&path.to_string_lossy()) {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {} (is it a UTF-8 text file?)", path.display()))?;
                files.push(TakeoutFile { name: path.display().to_string(), text });
            }
        }
    }
    Ok(files)
}

fn zip_files(path: &Path) -> Result<Vec<TakeoutFile>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| anyhow!("{}: not a Takeout archive (.zip): {e}", path.display()))?;
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| anyhow!("{}: entry {i}: {e}", path.display()))?;
        let name = format!("{}:{}", path.display(), entry.name());
        if entry.is_dir() || !wanted(entry.name()) {
            continue;
        }
        let mut text = String::new();
        entry.read_to_string(&mut text).with_context(|| format!("cannot read {name} (is it a UTF-8 text file?)"))?;
        files.push(TakeoutFile { name, text });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Adds what `file` holds to `found`: an activity list's watches and searches (one file
/// may hold both: "My Activity" exports mix them), subscriptions, or a liked or disliked
/// list.
fn sort_out(file: &TakeoutFile, tz: Option<&Tz>, found: &mut Found) -> Result<()> {
    let lower = file.name.to_lowercase();
    if lower.ends_with(".csv") {
        if subscriptions::is_subscriptions_csv(&file.text) {
            found.subscriptions.extend(subscriptions::parse(&file.text, &file.name)?);
            found.subscription_files.push(file.name.clone());
            return Ok(());
        }
        let stem = lower.rsplit('/').next().unwrap_or(&lower);
        let (kind, source, files) = match list_kind(stem, &file.text) {
            Some(List::Disliked) => (LabelKind::Uninterest, DISLIKED, &mut found.disliked_files),
            Some(List::Liked) => (LabelKind::Interest, LIKED, &mut found.liked_files),
            Some(List::Saved) => {
                let playlist = playlist_name(&file.name);
                let listed = vrd_core::label_files::listed_videos(&file.text, &file.name)?;
                found.saved.extend(listed.into_iter().map(|(video_id, saved_at)| SavedVideo {
                    video_id,
                    playlist: playlist.clone(),
                    saved_at,
                }));
                found.saved_files.push(file.name.clone());
                return Ok(());
            }
            None => {
                found.other_files += 1;
                return Ok(());
            }
        };
        let parsed = vrd_core::label_files::parse(&file.text, &file.name, Some(kind), source)?;
        files.push(file.name.clone());
        found.labels.extend(parsed.labels);
        return Ok(());
    }
    // Activity lists: anything else of JSON or HTML (playlists' JSON, comments) is not one.
    let watches = match takeout::parse_watch_history(&file.text, tz) {
        Ok(watches) => watches,
        // A history that does not read is an error, not something to skip quietly.
        Err(e) if HISTORY_NAMES.iter().any(|n| lower.contains(n)) => return Err(anyhow!("{}:{e}", file.name)),
        Err(_) => {
            found.other_files += 1;
            return Ok(());
        }
    };
    let searches = takeout::parse_search_history(&file.text, tz).map_err(|e| anyhow!("{}:{e}", file.name))?;
    if watches.events.is_empty() && searches.searches.is_empty() {
        if HISTORY_NAMES.iter().any(|n| lower.contains(n)) {
            bail!("{}: named as a history, but holds neither watches nor searches", file.name);
        }
        found.other_files += 1;
        return Ok(());
    }
    if !watches.events.is_empty() {
        eprintln!("vrd-ingest: {}: {}", file.name, watches.summary());
        found.watch_files.push(file.name.clone());
        found.watches.extend(watches.events);
    }
    if !searches.searches.is_empty() {
        found.search_files.push(file.name.clone());
        found.searches.extend(searches.searches);
    }
    Ok(())
}

/// Words the history folder's or files' names carry, by account language (lower case).
const HISTORY_NAMES: &[&str] =
    &["history", "verlauf", "historial", "historique", "cronologia", "histórico", "geçmiş", "履歴"];

/// Words the liked and disliked lists' names carry, by account language (lower case).
const DISLIKED_NAMES: &[&str] =
    &["disliked", "no me gusta", "mag ich nicht", "je n'aime pas", "não gostei", "non mi piace", "beğenmediğim"];
const LIKED_NAMES: &[&str] =
    &["liked", "me gusta", "mag ich", "gefällt", "j'aime", "gostei", "mi piace", "beğendiğim", "高く評価"];

/// What a CSV list of videos is.
enum List {
    /// The liked list: interest answers.
    Liked,
    /// The disliked list: uninterest answers.
    Disliked,
    /// Any other playlist (Watch later, the person's own): saved videos.
    Saved,
}

/// Whether a CSV of video ids is the liked list, the disliked one, or a playlist of saved
/// videos, by its file name or, in the older form, the playlist block's `LL` id.
fn list_kind(file_name: &str, text: &str) -> Option<List> {
    let has_video_column = text.lines().take(8).any(|l| l.to_lowercase().replace(['-', '_'], " ").contains("video id"));
    if !has_video_column {
        return None;
    }
    if DISLIKED_NAMES.iter().any(|n| file_name.contains(n)) {
        return Some(List::Disliked);
    }
    let liked_id = text.lines().nth(1).is_some_and(|l| l.starts_with("LL"));
    Some(match LIKED_NAMES.iter().any(|n| file_name.contains(n)) || liked_id {
        true => List::Liked,
        false => List::Saved,
    })
}

/// A playlist's name from its file's, as the account's language has it: "Watch later" of
/// "Watch later-videos.csv", "Später ansehen" of "Später ansehen-Videos.csv".
fn playlist_name(file: &str) -> String {
    let base = file.rsplit(['/', ':']).next().unwrap_or(file);
    let stem = base.strip_suffix(".csv").or_else(|| base.strip_suffix(".CSV")).unwrap_or(base);
    let lower = stem.to_lowercase();
    let cut = ["-videos", " videos", "-vidéos", "-vídeos"].iter().find_map(|s| lower.ends_with(s).then_some(s.len()));
    match cut {
        // The suffix is ASCII-cased apart from its accent, whose byte length is the same.
        Some(n) if stem.len() >= n => stem[..stem.len() - n].to_string(),
        _ => stem.to_string(),
    }
}

/// The folder above a file's YouTube product folder ("…/alice/Takeout" of
/// "…/alice/Takeout/YouTube and YouTube Music/history/…", in any account language; else
/// the file's own folder). `name` is a path, or `archive.zip:inner/path`.
fn above_youtube(name: &str) -> &str {
    let mut at = 0usize;
    for part in name.split('/') {
        if part.to_lowercase().contains("youtube") {
            return &name[..at.saturating_sub(1)];
        }
        at += part.len() + 1;
    }
    &name[..name.rfind('/').unwrap_or(0)]
}

/// The Takeouts `names` belong to: the folders above their YouTube folders, those inside
/// another left out ("Takeout/My Activity/YouTube", in any language, lies in "Takeout").
fn takeouts<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut all: Vec<&str> = names.map(above_youtube).collect();
    all.sort_unstable();
    all.dedup();
    let inside = |r: &str, other: &str| r != other && r.starts_with(other) && r[other.len()..].starts_with('/');
    all.iter().copied().filter(|r| !all.iter().any(|other| inside(r, other))).collect()
}

impl Found {
    /// One person's Takeout holds one watch history, one search history, one list of
    /// subscriptions: the same part found in several Takeouts (a folder holding several
    /// people's) is refused rather than merged. (Parts spread over the folders of a
    /// multi-part archive unpacked apart are one Takeout's.)
    fn check_one_person<'a>(&'a self, path: &Path, files: &'a [TakeoutFile]) -> Result<()> {
        let roots = takeouts(files.iter().map(|f| f.name.as_str()));
        let takeout_of = |name: &'a str| -> &'a str {
            let above = above_youtube(name);
            roots.iter().copied().find(|r| above == *r || above.starts_with(&format!("{r}/"))).unwrap_or(above)
        };
        let parts = [
            ("watch history", &self.watch_files),
            ("search history", &self.search_files),
            ("subscriptions", &self.subscription_files),
            ("liked videos", &self.liked_files),
            ("disliked videos", &self.disliked_files),
        ];
        for (what, part_files) in parts {
            let mut holding: Vec<&str> = part_files.iter().map(|f| takeout_of(f)).collect();
            holding.sort_unstable();
            holding.dedup();
            if holding.len() > 1 {
                bail!(
                    "{}: holds {} Takeouts, each with a {what} ({}): one person's each? Point vrd-ingest takeout at \
                     one of them",
                    path.display(),
                    holding.len(),
                    holding.join(", ")
                );
            }
        }
        Ok(())
    }

    /// What was found and what was not, one line per part, for stderr.
    pub fn report(&self) -> Vec<String> {
        let line = |what: &str, files: &[String], count: String| match files.len() {
            0 => format!("{what}: not found"),
            _ => format!("{what}: {count} from {}", files.join(", ")),
        };
        let liked = self.labels.iter().filter(|l| l.source == LIKED).count();
        vec![
            line("watch history", &self.watch_files, format!("{} watches", self.watches.len())),
            line("search history", &self.search_files, format!("{} searches", self.searches.len())),
            line("subscriptions", &self.subscription_files, format!("{} channels", self.subscriptions.len())),
            line("liked videos", &self.liked_files, format!("{liked} videos")),
            line("disliked videos", &self.disliked_files, format!("{} videos", self.labels.len() - liked)),
            line("saved videos", &self.saved_files, format!("{} videos", self.saved.len())),
            format!("other YouTube files (playlists, comments, …), not used: {}", self.other_files),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
            && self.searches.is_empty()
            && self.subscriptions.is_empty()
            && self.labels.is_empty()
            && self.saved.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_belongs_to_the_takeout_above_its_youtube_folder() {
        let names = [
            "/x/alice/Takeout/YouTube and YouTube Music/history/watch-history.json",
            "/x/alice/Takeout/Mi actividad/YouTube/MiActividad.html",
            "/x/bob/Takeout/YouTube und YouTube Music/Verlauf/Wiedergabeverlauf.html",
            "a.zip:Takeout/YouTube and YouTube Music/subscriptions/subscriptions.csv",
        ];
        assert_eq!(above_youtube(names[1]), "/x/alice/Takeout/Mi actividad");
        assert_eq!(above_youtube("/x/watch-history.json"), "/x");
        assert_eq!(takeouts(names.iter().copied()), ["/x/alice/Takeout", "/x/bob/Takeout", "a.zip:Takeout"]);
    }
}
