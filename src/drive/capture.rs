//! The answers of a scenario's start requests read for their captures: a JSON field, a form
//! field, a cookie, a header; both drivers hand what they saw here.

use crate::redact::Redactor;
use crate::scenario::StartStep;
use crate::scenario::start::{Captured, Source};
use crate::trace::{ErrorStep, HopNo, RunError, Step};

/// What a step's answer gives to its captures.
pub struct Seen<'a> {
    pub headers: &'a [(String, String)],
    pub body: &'a str,
    /// The cookies the browser would send back to the step's URL.
    pub cookies: &'a [(String, String)],
}

/// The value `from` names in the answer, if it is there.
pub fn take(from: &Source, seen: &Seen) -> Option<String> {
    match from {
        Source::Json(path) => {
            let mut v: serde_json::Value = serde_json::from_str(seen.body).ok()?;
            for part in path.trim_start_matches("$.").split('.') {
                v = match v {
                    serde_json::Value::Array(mut a) => {
                        let i: usize = part.parse().ok()?;
                        (i < a.len()).then(|| a.swap_remove(i))?
                    }
                    serde_json::Value::Object(mut o) => o.remove(part)?,
                    _ => return None,
                };
            }
            match v {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }
        Source::Form(field) => super::idp::form::named_value(seen.body, field),
        Source::Cookie(name) => seen
            .cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone()),
        Source::Header(name) => seen
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone()),
    }
}

/// Takes start request `i`'s captures from its answer; a capture that is not there stops the
/// run, naming it and where it was looked for. Every value is kept from output.
pub(crate) fn take_all(
    i: usize,
    step: &StartStep,
    seen: &Seen,
    status: u16,
    hop: Option<HopNo>,
    got: &mut Captured,
    r: &mut Redactor,
) -> Result<(), RunError> {
    for c in &step.capture {
        let Some(value) = take(&c.from, seen) else {
            return Err(RunError {
                step: ErrorStep::Chain(Step::Start),
                hop,
                message: format!(
                    "start request {} answered {status} without capture `{}` ({})",
                    i + 1,
                    c.name,
                    c.from
                ),
                kind: None,
            });
        };
        r.sensitive(&value);
        got.insert(c.name.clone(), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen<'a>(
        body: &'a str,
        headers: &'a [(String, String)],
        cookies: &'a [(String, String)],
    ) -> Seen<'a> {
        Seen {
            headers,
            body,
            cookies,
        }
    }

    #[test]
    fn takes_each_kind() {
        let headers = vec![("X-CSRF-Token".to_string(), "h1".to_string())];
        let cookies = vec![("csrftoken".to_string(), "c1".to_string())];
        let json = r#"{"data":{"csrf":"j1","n":3},"items":[{"id":"i0"},{"id":"i1"}],"o":{}}"#;
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("json:data.csrf", json, Some("j1")),
            ("json:$.data.csrf", json, Some("j1")),
            ("json:data.n", json, Some("3")),
            ("json:items.1.id", json, Some("i1")),
            ("json:items.9.id", json, None),
            ("json:o", json, None),
            ("json:missing", json, None),
            ("json:data", "<html></html>", None),
            (
                "form:csrfmiddlewaretoken",
                r#"<form method=post><input type=hidden name=csrfmiddlewaretoken value="f1"></form>"#,
                Some("f1"),
            ),
            (
                "form:csrf-token",
                r#"<html><head><meta name="csrf-token" content="m1"></head></html>"#,
                Some("m1"),
            ),
            ("form:nothing", "<form></form>", None),
            ("cookie:csrftoken", "", Some("c1")),
            ("cookie:other", "", None),
            ("header:x-csrf-token", "", Some("h1")),
            ("header:location", "", None),
        ];
        for (from, body, want) in cases {
            let got = take(
                &Source::parse(from).unwrap(),
                &seen(body, &headers, &cookies),
            );
            assert_eq!(got.as_deref(), *want, "{from}");
        }
    }
}
