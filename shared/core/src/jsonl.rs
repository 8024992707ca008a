//! JSON Lines in and out. Errors name the file, the line number and the field that was
//! wrong, so a user can fix one bad line in a large file.

use anyhow::{anyhow, Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::marker::PhantomData;
use std::path::Path;

/// Reads typed records from a file, or stdin for `None`/`-`. Blank lines are skipped.
pub struct JsonlReader<T> {
    name: String,
    input: Box<dyn BufRead>,
    line_no: usize,
    buf: String,
    _record: PhantomData<T>,
}

impl<T: DeserializeOwned> JsonlReader<T> {
    pub fn open(path: Option<&Path>) -> Result<Self> {
        let (name, input): (String, Box<dyn BufRead>) = match path {
            None => ("<stdin>".into(), Box::new(BufReader::new(io::stdin()))),
            Some(p) if p.as_os_str() == "-" => ("<stdin>".into(), Box::new(BufReader::new(io::stdin()))),
            Some(p) => {
                let f = File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
                (p.display().to_string(), Box::new(BufReader::with_capacity(1 << 16, f)))
            }
        };
        Ok(JsonlReader { name, input, line_no: 0, buf: String::new(), _record: PhantomData })
    }

    /// The file name as shown in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `file:line` of the record last returned, for messages about its content.
    pub fn location(&self) -> String {
        format!("{}:{}", self.name, self.line_no)
    }

    /// Reads every record, failing on the first bad line.
    pub fn read_all(self) -> Result<Vec<T>> {
        self.collect()
    }
}

impl<T: DeserializeOwned> Iterator for JsonlReader<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            self.buf.clear();
            self.line_no += 1;
            match self.input.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(anyhow!(e).context(format!("{}:{}: read error", self.name, self.line_no)))),
            }
            let line = self.buf.trim();
            if line.is_empty() {
                continue;
            }
            return Some(parse_line(line).map_err(|msg| anyhow!("{}:{}: {msg}", self.name, self.line_no)));
        }
    }
}

/// Parses one JSON line, describing a failure by the field it happened in.
pub fn parse_line<T: DeserializeOwned>(line: &str) -> std::result::Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let what = strip_position(&inner.to_string());
            // A line that is not JSON at all (cut short, a stray character) is that, wherever
            // the parser stood; a field is named only for a record that does not fit.
            let syntax =
                matches!(inner.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof);
            if syntax {
                Err(format!("invalid JSON: {what}"))
            } else if path == "." || path.is_empty() {
                Err(format!("invalid JSON record: {what}"))
            } else {
                Err(format!("field `{path}`: {what}"))
            }
        }
    }
}

/// serde_json appends " at line 1 column 17" to its messages; callers that report the
/// position themselves (with the file name, or the line an entry starts on) drop it.
pub fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Writes one record as a line.
pub fn write_record<W: Write, T: Serialize>(out: &mut W, record: &T) -> Result<()> {
    // The line is made whole first and written in one call: serde_json writes a record in
    // many small pieces, each a dispatch through the writer.
    let mut line = serde_json::to_vec(record)?;
    line.push(b'\n');
    // As io::Error, so a closed pipe stays recognisable as one (see vrd-cli's exit::run).
    out.write_all(&line)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::WatchEvent;

    fn reader_for(text: &str) -> (tempfile::NamedTempFile, JsonlReader<WatchEvent>) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let r = JsonlReader::open(Some(f.path())).unwrap();
        (f, r)
    }

    #[test]
    fn reads_records_and_skips_blank_lines() {
        let (_f, r) = reader_for(
            "{\"video_id\":\"a\",\"title\":\"A\",\"watched_at\":\"2024-01-01T00:00:00Z\",\"source\":\"t\"}\n\n\
             {\"video_id\":\"b\",\"title\":\"B\",\"watched_at\":\"2024-01-02T00:00:00Z\",\"source\":\"t\"}\n",
        );
        let all = r.read_all().unwrap();
        assert_eq!(all.iter().map(|e| e.video_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn error_names_file_line_and_field() {
        let (f, r) = reader_for(
            "{\"video_id\":\"a\",\"title\":\"A\",\"watched_at\":\"2024-01-01T00:00:00Z\",\"source\":\"t\"}\n\
             {\"video_id\":\"b\",\"title\":\"B\",\"watched_at\":\"last tuesday\",\"source\":\"t\"}\n",
        );
        let err = r.read_all().unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:2: field `watched_at`", f.path().display())), "{err}");
    }

    #[test]
    fn error_for_missing_field_and_broken_json() {
        let (_f, r) = reader_for("{\"video_id\":\"a\",\"watched_at\":\"2024-01-01T00:00:00Z\",\"source\":\"t\"}\n");
        let err = r.read_all().unwrap_err().to_string();
        assert!(err.contains(":1: ") && err.contains("missing field `title`"), "{err}");
        let (_f, r) = reader_for("{\"video_id\": \n");
        let err = r.read_all().unwrap_err().to_string();
        assert!(err.contains(":1: ") && err.contains("EOF"), "{err}");
    }
}
