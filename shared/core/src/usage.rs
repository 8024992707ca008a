//! The error that is the person's command line's fault rather than the data's, raised
//! wherever the mistake is found (a tool's command, a library reading an option's file);
//! the tools exit 2 on it (vrd-cli's `exit`).

#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
