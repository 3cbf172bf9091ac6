//! Scenario errors that point into the file: file:line:col, the line, a caret, and a suggestion.
//! The file's secrets are masked in the lines an error shows, found by a lenient scan that works
//! on files that do not parse.

use crate::redact::{Redactor, Scrubbed, Secret};
use miette::{Diagnostic, NamedSource, SourceSpan};
use std::ops::Range;

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
pub struct ScenarioError {
    /// `file:line:col`
    pub location: String,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("here")]
    pub span: SourceSpan,
    #[help]
    pub help: Option<String>,
    /// The secrets the file holds or names, scrubbed from the rendered error.
    secrets: Vec<Secret>,
}

impl ScenarioError {
    pub fn new(file: &str, src: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let start = span.start.min(src.len());
        let (line, col) = line_col(src, start);
        let len = span.end.saturating_sub(start).max(1).min(src.len() - start);
        ScenarioError {
            location: format!("{file}:{line}:{col}"),
            message: message.into(),
            src: NamedSource::new(file, mask_secrets(src).0),
            secrets: referenced_secrets(src),
            span: (start, len).into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The text of a scenario error: `error: file:line:col: message`, then the line with a caret.
/// Every secret the file names or holds is scrubbed from it.
pub fn render(e: &ScenarioError) -> Scrubbed {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    let mut shown = String::new();
    let _ = handler.render_report(&mut shown, e);
    let mut r = Redactor::new(false);
    for secret in &e.secrets {
        r.add_secret(secret);
    }
    r.scrub(&format!("error: {}: {}\n{shown}", e.location, e.message))
}

/// Keys whose string values are secrets wherever they stand in a scenario file.
fn is_secret_key(key: &str) -> bool {
    let key = key
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "cookie",
        "assertion",
    ]
    .iter()
    .any(|k| key.contains(k))
}

/// Every `key = "value"` (or `'value'`) of the text, leniently: the key and the value's span
/// inside its quotes.
fn assignments(src: &str) -> Vec<(&str, Range<usize>)> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    for (eq, _) in src.match_indices('=') {
        let key_end = src[..eq].trim_end().len();
        let key_start = src[..key_end]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "_-.\"'".contains(c)))
            .map_or(0, |i| i + src[i..].chars().next().map_or(1, char::len_utf8));
        let key = &src[key_start..key_end];
        let after =
            eq + 1 + (src[eq + 1..].len() - src[eq + 1..].trim_start_matches([' ', '\t']).len());
        let Some(&quote) = bytes.get(after).filter(|b| **b == b'"' || **b == b'\'') else {
            continue;
        };
        let start = after + 1;
        let mut end = start;
        while end < bytes.len() && bytes[end] != quote && bytes[end] != b'\n' {
            end += if quote == b'"' && bytes[end] == b'\\' {
                2
            } else {
                1
            };
        }
        if !key.is_empty() {
            out.push((key, start..end.min(bytes.len())));
        }
    }
    out
}

/// The file with the values of secret keys (and of the variables they name) blanked out byte
/// for byte, so that spans still point where they did; and those values.
pub fn mask_secrets(src: &str) -> (String, Vec<String>) {
    let found = assignments(src);
    let mut secret_vars: Vec<&str> = Vec::new();
    for (key, span) in &found {
        if is_secret_key(key) {
            let value = &src[span.clone()];
            let mut rest = value;
            while let Some(i) = rest.find("${") {
                let tail = &rest[i + 2..];
                let Some(end) = tail.find('}') else { break };
                let name = &tail[..end];
                if !name.contains(':') {
                    secret_vars.push(name);
                }
                rest = &tail[end..];
            }
        }
    }
    let mut masked = src.as_bytes().to_vec();
    let mut values = Vec::new();
    for (key, span) in &found {
        let key = key.trim_matches(|c| c == '"' || c == '\'');
        let value = &src[span.clone()];
        let plain_reference =
            value.starts_with("${") && value.ends_with('}') && !value[2..].contains("${");
        if (is_secret_key(key) || secret_vars.contains(&key))
            && !plain_reference
            && !value.is_empty()
        {
            values.push(value.to_string());
            for b in &mut masked[span.clone()] {
                *b = b'*';
            }
        }
    }
    // Only whole UTF-8 characters were blanked, each byte to one `*`.
    (String::from_utf8(masked).unwrap_or_default(), values)
}

/// The secrets a scenario file holds or names: its secret keys' literal values, and the values
/// of the `${secret:NAME}` variables it references.
pub fn referenced_secrets(src: &str) -> Vec<Secret> {
    let mut secrets: Vec<Secret> = mask_secrets(src).1.into_iter().map(Secret::new).collect();
    let mut rest = src;
    while let Some(i) = rest.find("${secret:") {
        let tail = &rest[i + 9..];
        let Some(end) = tail.find('}') else { break };
        if let Ok(value) = std::env::var(&tail[..end]) {
            secrets.push(Secret::new(value));
        }
        rest = &tail[end..];
    }
    secrets
}

/// One-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The known word nearest to `word`, if it is near enough to be a likely typo.
pub fn nearest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (edit_distance(word, k), k))
        .filter(|(d, k)| *d <= (k.len().max(word.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_words_only() {
        assert_eq!(nearest("aap", ["app", "preset"]), Some("app"));
        assert_eq!(
            nearest("calback_url", ["callback_url", "app"]),
            Some("callback_url")
        );
        assert_eq!(nearest("zzzzzz", ["app", "preset"]), None);
    }

    #[test]
    fn secrets_are_masked_in_place() {
        let src = "[vars]\npw = \"hunter2!\"\nuser = \"alice\"\n[idp]\npassword = \"${pw}\"\n\
                   client_secret = 's3cr3t'\nother = { token = \"tok-en\" }\nsecret_ref = \"${secret:X}\"\n";
        let (masked, values) = mask_secrets(src);
        assert_eq!(masked.len(), src.len());
        for gone in ["hunter2!", "s3cr3t", "tok-en"] {
            assert!(!masked.contains(gone), "{masked}");
            assert!(values.iter().any(|v| v == gone), "{values:?}");
        }
        for kept in ["alice", "${pw}", "${secret:X}"] {
            assert!(masked.contains(kept), "{masked}");
        }
        // A file that does not parse is scanned all the same.
        let (masked, _) = mask_secrets("password = \"p@ss\nnext = [");
        assert!(!masked.contains("p@ss"), "{masked}");
    }

    #[test]
    fn positions() {
        assert_eq!(line_col("a\nbc\n", 3), (2, 2));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
