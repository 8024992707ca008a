//! The per-fold picture of an evaluation: one panel per question, F1 and ROC-AUC of every
//! method across the folds, as a standalone SVG a browser opens.

use crate::evaluate::{Report, ReportedMethod};
use std::fmt::Write;

pub fn svg(report: &Report) -> String {
    let (panel_w, panel_h, margin) = (420.0, 220.0, 50.0);
    let width = 2.0 * (panel_w + margin) + margin;
    let height = 2.0 * (panel_h + margin) + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let folds = report.folds.len().max(1);
    for (col, head) in ["interest", "right_time"].iter().enumerate() {
        for (row, metric) in ["f1", "roc_auc"].iter().enumerate() {
            let x0 = margin + col as f64 * (panel_w + margin);
            let y0 = margin + row as f64 * (panel_h + margin);
            let _ = writeln!(
                s,
                r##"<rect x="{x0}" y="{y0}" width="{panel_w}" height="{panel_h}" fill="none" stroke="#999"/><text x="{x0}" y="{}" font-weight="bold">{} {}</text>"##,
                y0 - 8.0,
                head.replace('_', "-"),
                metric.replace('_', "-").to_uppercase()
            );
            for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                let y = y0 + panel_h * (1.0 - tick);
                let _ = writeln!(
                    s,
                    r##"<line x1="{x0}" x2="{}" y1="{y}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{tick}</text>"##,
                    x0 + panel_w,
                    x0 - 4.0,
                    y + 4.0
                );
            }
            let x_of = |fold: usize| x0 + panel_w * (fold as f64 + 0.5) / folds as f64;
            for fold in 0..folds {
                let _ = writeln!(
                    s,
                    r#"<text x="{}" y="{}" text-anchor="middle">fold {}</text>"#,
                    x_of(fold),
                    y0 + panel_h + 16.0,
                    fold + 1
                );
            }
            for method in ReportedMethod::ALL {
                let points: Vec<(f64, f64)> = report
                    .folds
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| {
                        let r = f.methods.get(method.name())?;
                        let scores = if *head == "interest" { &r.interest } else { &r.right_time };
                        let v = if *metric == "f1" { (scores.n > 0).then_some(scores.f1) } else { scores.roc_auc }?;
                        Some((x_of(i), y0 + panel_h * (1.0 - v)))
                    })
                    .collect();
                let path: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                let _ = writeln!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                    path.join(" "),
                    method.colour()
                );
                for (x, y) in points {
                    let _ = writeln!(s, r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{}"/>"#, method.colour());
                }
            }
        }
    }
    for (m, method) in ReportedMethod::ALL.into_iter().enumerate() {
        let x = margin + m as f64 * 170.0;
        let y = height - 20.0;
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{y}">{}</text>"#,
            y - 10.0,
            method.colour(),
            x + 16.0,
            method.name().replace('_', " ")
        );
    }
    s.push_str("</svg>\n");
    s
}
