//! The person's labels in the store: every label kept in the order given (so undo can
//! remove the last one), the latest per video and question winning when they are read for
//! training.

use crate::{store_time, Store};
use anyhow::{Context, Result};
use rusqlite::OptionalExtension;
use std::collections::HashSet;
use vrd_core::records::latest_per_question;
use vrd_core::records::{Label, LabelKind};

/// What adding a batch of labels did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LabelCounts {
    pub added: usize,
    /// Already in the store (the same label re-imported).
    pub present: usize,
}

impl std::fmt::Display for LabelCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} added, {} already present", self.added, self.present)
    }
}

impl Store {
    /// Adds labels in one transaction (all or none). With `once_per_source`, a label whose
    /// video already has that kind from that source counts as present: ratings re-read
    /// from YouTube every day are not new judgments.
    pub fn add_labels(&mut self, labels: &[Label], once_per_source: bool) -> Result<LabelCounts> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let mut counts = LabelCounts::default();
        {
            let mut seen =
                tx.prepare_cached("SELECT 1 FROM labels WHERE video_id = ?1 AND kind = ?2 AND source = ?3")?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO labels (video_id, kind, labelled_at, source, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for label in labels {
                let kind = label.kind.name();
                if once_per_source
                    && seen.query_row((&label.video_id, kind, &label.source), |_| Ok(())).optional()?.is_some()
                {
                    counts.present += 1;
                    continue;
                }
                let record = serde_json::to_string(label)?;
                let time = store_time(&label.labelled_at);
                match insert.execute((&label.video_id, kind, &time, &label.source, &record))? {
                    0 => counts.present += 1,
                    _ => counts.added += 1,
                }
            }
        }
        tx.commit().with_context(|| format!("{}: writing labels", self.path.display()))?;
        Ok(counts)
    }

    /// Removes the most recent label (of `source`, when given) and returns it.
    pub fn undo_last_label(&mut self, source: Option<&str>) -> Result<Option<Label>> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, record FROM labels WHERE ?1 IS NULL OR source = ?1 ORDER BY id DESC LIMIT 1",
                [source],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, record)) = last else { return Ok(None) };
        tx.execute("DELETE FROM labels WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(Some(serde_json::from_str(&record).with_context(|| format!("{}: corrupt label", self.path.display()))?))
    }

    /// Every label, in the order they were given.
    pub fn label_history(&self) -> Result<Vec<Label>> {
        self.records("SELECT record FROM labels ORDER BY id", &[])
    }

    /// What training learns from: per video and question (interest, right-time) the latest
    /// label wins; skips are left out. In time order.
    pub fn effective_labels(&self) -> Result<Vec<Label>> {
        Ok(latest_per_question(self.label_history()?))
    }

    /// Which of these ids the store knows (as a video or a watched one).
    pub fn known_video_ids<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Result<HashSet<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM videos WHERE video_id = ?1) OR EXISTS (SELECT 1 FROM watch_events WHERE video_id = ?1)",
        )?;
        let mut known = HashSet::new();
        for id in ids {
            if stmt.query_row([id], |r| r.get::<_, bool>(0))? {
                known.insert(id.to_string());
            }
        }
        Ok(known)
    }

    /// Ids of videos with any label (skips included).
    pub fn labelled_video_ids(&self) -> Result<HashSet<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT DISTINCT video_id FROM labels")?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }
}

/// Counts per kind.
pub fn count_by_kind(labels: &[Label]) -> Vec<(LabelKind, usize)> {
    LabelKind::ALL.iter().map(|k| (*k, labels.iter().filter(|l| l.kind == *k).count())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::time::parse_rfc3339;

    fn label(id: &str, kind: LabelKind, at: &str, source: &str) -> Label {
        Label {
            video_id: id.into(),
            kind,
            labelled_at: parse_rfc3339(at).unwrap(),
            source: source.into(),
            feed_at: None,
        }
    }

    #[test]
    fn history_kept_latest_wins_undo_removes_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let batch = [
            label("a", LabelKind::Interest, "2026-01-01T10:00:00Z", "cli"),
            label("a", LabelKind::RightTime, "2026-01-01T10:00:01Z", "cli"),
            label("a", LabelKind::Uninterest, "2026-01-02T10:00:00Z", "cli"),
            label("b", LabelKind::Skip, "2026-01-02T11:00:00Z", "tui"),
        ];
        assert_eq!(store.add_labels(&batch, false).unwrap(), LabelCounts { added: 4, present: 0 });
        assert_eq!(store.add_labels(&batch[..2], false).unwrap(), LabelCounts { added: 0, present: 2 });
        let kinds: Vec<_> = store.effective_labels().unwrap().iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [LabelKind::RightTime, LabelKind::Uninterest]);
        assert_eq!(store.label_history().unwrap().len(), 4);
        assert_eq!(store.undo_last_label(Some("cli")).unwrap().unwrap().kind, LabelKind::Uninterest);
        let kinds: Vec<_> = store.effective_labels().unwrap().iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [LabelKind::Interest, LabelKind::RightTime]);
        assert_eq!(store.labelled_video_ids().unwrap().len(), 2);
        let like = label("a", LabelKind::Uninterest, "2026-03-01T00:00:00Z", "youtube-dislike");
        assert_eq!(store.add_labels(std::slice::from_ref(&like), true).unwrap().added, 1);
        let again = label("a", LabelKind::Uninterest, "2026-03-02T00:00:00Z", "youtube-dislike");
        assert_eq!(store.add_labels(&[again], true).unwrap().present, 1);
    }
}
