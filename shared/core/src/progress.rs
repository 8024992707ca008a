//! Progress on stderr, the same look in every tool.

/// A progress bar on stderr (drawn only when stderr is a terminal, so logs stay clean).
pub fn bar(len: usize, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} {{per_sec}} eta {{eta}}"
        ))
        .expect("valid progress template")
        .progress_chars("=> "),
    );
    bar
}
