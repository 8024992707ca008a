//! `vrd-label stats`: how many labels of each kind (given, and in effect after the latest
//! per video and question wins), and how many were given each ISO week.

use anyhow::Result;
use chrono::Datelike;
use clap::ValueEnum;
use std::collections::BTreeMap;
use std::io::Write;
use vrd_core::records::{Label, LabelKind};
use vrd_core::time::Tz;
use vrd_store::count_by_kind;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Tsv,
}

/// Labels given per ISO week (year, week) in `tz`, per kind in [`LabelKind::ALL`] order.
pub fn weekly_by_kind(history: &[Label], tz: &Tz) -> BTreeMap<(i32, u32), [usize; 5]> {
    let mut weeks: BTreeMap<(i32, u32), [usize; 5]> = BTreeMap::new();
    for l in history {
        let week = l.labelled_at.with_timezone(tz).iso_week();
        let kind = LabelKind::ALL.iter().position(|k| *k == l.kind).expect("every kind is in ALL");
        weeks.entry((week.year(), week.week())).or_default()[kind] += 1;
    }
    weeks
}

pub fn write<W: Write>(out: &mut W, history: &[Label], effective: &[Label], tz: &Tz, format: Format) -> Result<()> {
    let given = count_by_kind(history);
    let in_effect = count_by_kind(effective);
    let weeks: BTreeMap<(i32, u32), usize> =
        weekly_by_kind(history, tz).into_iter().map(|(week, counts)| (week, counts.iter().sum())).collect();
    match format {
        Format::Tsv => {
            writeln!(out, "kind\tgiven\tin_effect")?;
            for ((kind, g), (_, e)) in given.iter().zip(&in_effect) {
                writeln!(out, "{kind}\t{g}\t{e}")?;
            }
            writeln!(out, "\nweek\tlabels")?;
            for ((y, w), n) in &weeks {
                writeln!(out, "{y}-W{w:02}\t{n}")?;
            }
        }
        Format::Table => {
            writeln!(out, "kind         given  in effect")?;
            for ((kind, g), (_, e)) in given.iter().zip(&in_effect) {
                writeln!(out, "{:<11} {g:>6} {e:>10}", kind.name())?;
            }
            writeln!(out, "{:<11} {:>6} {:>10}", "total", history.len(), effective.len())?;
            writeln!(out, "\nweek       labels")?;
            for ((y, w), n) in &weeks {
                writeln!(out, "{y}-W{w:02}  {n:>6}  {}", "#".repeat((*n).min(60)))?;
            }
        }
    }
    Ok(())
}
