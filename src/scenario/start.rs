//! A start written as a sequence of requests: each may capture values from its answer (a JSON
//! field, a form field, a cookie, a header) that later requests use as `${capture.NAME}`.

use super::{Body, RequestSpec};
use crate::trace::Method;
use std::collections::BTreeMap;
use url::Url;

/// Marks a capture's place in a loaded string until the run fills it. Private-use characters: a
/// scenario that holds them is refused at load.
pub(crate) const OPEN: char = '\u{E000}';
pub(crate) const CLOSE: char = '\u{E001}';

/// The place of capture `name` in a loaded string.
pub(crate) fn mark(name: &str) -> String {
    format!("{OPEN}{name}{CLOSE}")
}

/// One request of the start: the last one starts the login, the ones before prepare it.
#[derive(Clone, Debug, PartialEq)]
pub struct StartStep {
    pub method: Method,
    /// The URL, which may hold captures; see [`StartStep::request`].
    pub url: String,
    pub body: Option<Body>,
    pub headers: Vec<(String, String)>,
    pub capture: Vec<Capture>,
}

/// A value to take from a step's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub name: String,
    pub from: Source,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A field of a JSON answer, by a dotted path (`data.csrf`, `items.0.id`).
    Json(String),
    /// A form field of an HTML answer (`<input name=…>`), or a `<meta name=…>`'s content.
    Form(String),
    /// A cookie the browser would send back to the step's URL after the answer.
    Cookie(String),
    /// A header of the answer.
    Header(String),
}

impl Source {
    pub const KINDS: &'static [&'static str] = &["json", "form", "cookie", "header"];

    /// Parses `KIND:WHAT`.
    pub fn parse(s: &str) -> Option<Source> {
        let (kind, what) = s.split_once(':')?;
        let what = what.trim().to_string();
        if what.is_empty() {
            return None;
        }
        match kind.trim() {
            "json" => Some(Source::Json(what)),
            "form" => Some(Source::Form(what)),
            "cookie" => Some(Source::Cookie(what)),
            "header" => Some(Source::Header(what)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Json(p) => write!(f, "json:{p}"),
            Source::Form(p) => write!(f, "form:{p}"),
            Source::Cookie(p) => write!(f, "cookie:{p}"),
            Source::Header(p) => write!(f, "header:{p}"),
        }
    }
}

/// The values captured so far, by name.
pub type Captured = BTreeMap<String, String>;

/// `text` with its captures filled in.
pub fn fill(text: &str, got: &Captured) -> String {
    fill_with(text, got, str::to_string)
}

fn fill_with(text: &str, got: &Captured, shown: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + OPEN.len_utf8()..];
        let Some(end) = after.find(CLOSE) else {
            out.push_str(&rest[i..]);
            return out;
        };
        out.push_str(
            &got.get(&after[..end])
                .map_or_else(String::new, |v| shown(v)),
        );
        rest = &after[end + CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// Whether `text` holds a capture.
pub fn has_capture(text: &str) -> bool {
    text.contains(OPEN)
}

impl StartStep {
    /// The request with the captures filled in, or why its URL is not one.
    pub fn request(&self, got: &Captured) -> Result<RequestSpec, String> {
        // A URL that is a capture (the address the app answered with) stands as it is; a
        // capture inside one is encoded.
        let whole = self.url.starts_with(OPEN)
            && self.url.ends_with(CLOSE)
            && self.url.matches(OPEN).count() == 1;
        let url = if whole {
            fill(&self.url, got)
        } else {
            // Percent-encoded: a base64 token's `+`, `/` and `=`, an `&`, a `#`.
            fill_with(&self.url, got, crate::redact::percent_encode)
        };
        let url = match Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => return Err(format!("`{url}` is not an http(s) URL")),
        };
        let body = self.body.as_ref().map(|b| match b {
            Body::Json(j) => Body::Json(fill_json(j, got)),
            Body::Form(f) => Body::Form(f.iter().map(|(k, v)| (k.clone(), fill(v, got))).collect()),
        });
        Ok(RequestSpec {
            method: self.method.clone(),
            url,
            body,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), fill(v, got)))
                .collect(),
        })
    }

    /// The URL when it holds no capture: known before the run.
    pub fn fixed_url(&self) -> Option<Url> {
        (!has_capture(&self.url))
            .then(|| Url::parse(&self.url).ok())
            .flatten()
    }
}

fn fill_json(v: &serde_json::Value, got: &Captured) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::String(s) => J::String(fill(s, got)),
        J::Array(a) => J::Array(a.iter().map(|v| fill_json(v, got)).collect()),
        J::Object(o) => J::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), fill_json(v, got)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_where_from() {
        assert_eq!(Source::parse("json:a.b"), Some(Source::Json("a.b".into())));
        assert_eq!(
            Source::parse("cookie:XSRF-TOKEN"),
            Some(Source::Cookie("XSRF-TOKEN".into()))
        );
        assert_eq!(Source::parse("header:"), None);
        assert_eq!(Source::parse("body:x"), None);
        assert_eq!(Source::parse("csrf"), None);
    }

    #[test]
    fn fills_captures_everywhere() {
        let got: Captured = [("t".to_string(), "v&1".to_string())].into();
        let step = StartStep {
            method: Method::Post,
            url: format!("https://app.test/{}/go", mark("t")),
            body: Some(Body::Json(serde_json::json!({"a": [mark("t")], "b": 1}))),
            headers: vec![("X-T".into(), format!("x{}", mark("t")))],
            capture: Vec::new(),
        };
        let r = step.request(&got).unwrap();
        assert_eq!(r.url.as_str(), "https://app.test/v%261/go");
        assert_eq!(
            r.body,
            Some(Body::Json(serde_json::json!({"a": ["v&1"], "b": 1})))
        );
        assert_eq!(r.headers, vec![("X-T".to_string(), "xv&1".to_string())]);
        assert_eq!(step.fixed_url(), None);
        let whole = StartStep {
            url: mark("t"),
            ..step
        };
        assert!(
            whole
                .request(&got)
                .unwrap_err()
                .contains("not an http(s) URL")
        );
    }
}
