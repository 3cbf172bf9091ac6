//! Probe: ask the session endpoints whether the login produced a session, with the jar's
//! cookies, and judge each answer against its expectation; then, where a probe disagrees with
//! its reference, the differential matrix ([`matrix`]).

pub mod answer;
pub mod matrix;

use crate::drive::http::{Answer, HttpClient, Request};
use crate::drive::record::Record;
use crate::redact::Redactor;
use crate::scenario::{Preset, ProbeSpec};
use crate::trace::{BodyShape, ErrorStep, Expect, Probe, RunError, Step};
use serde_json::Value;

/// How much of a probe's body the report keeps.
const EXCERPT: usize = 300;

/// How many requests of the probes, or of the matrix, are in flight at once (a browser opens
/// six connections to a host).
pub const IN_FLIGHT: usize = 6;

/// Sends `requests` (each with the jar's cookies when given one), at most [`IN_FLIGHT`] at
/// once when every one is safe (GET, HEAD, OPTIONS), else one after another; the answers in
/// the requests' order. Each request works with a copy of the redactor, and what the copies
/// learn is merged back.
pub async fn exchange_all(
    client: &HttpClient,
    requests: Vec<Request>,
    jar: Option<&Record>,
    r: &mut Redactor,
) -> Vec<Result<crate::drive::http::Answer, crate::drive::http::Fault>> {
    use futures_util::StreamExt as _;
    let bound = if requests.iter().all(|q| q.method.is_safe_by_rfc()) {
        IN_FLIGHT
    } else {
        1
    };
    let base = r.clone();
    let done: Vec<_> = futures_util::stream::iter(requests)
        .map(|req| {
            let mut mine = base.clone();
            async move {
                let got = client.exchange(&req, jar, &mut mine).await;
                (got, mine)
            }
        })
        .buffered(bound)
        .collect()
        .await;
    done.into_iter()
        .map(|(got, mine)| {
            r.merge(mine);
            got
        })
        .collect()
}

/// Runs every probe, as the app's page would `fetch` it (with the cookies a browser would send
/// there), several at once (see [`exchange_all`]); the probes in order up to the first with no
/// usable answer.
pub async fn run(
    specs: &[ProbeSpec],
    app: &url::Url,
    preset: Option<Preset>,
    client: &HttpClient,
    record: &Record,
    r: &mut Redactor,
) -> (Vec<Probe>, Option<RunError>) {
    let mut probes = Vec::new();
    let requests = specs.iter().map(|spec| request(spec, app)).collect();
    let answers = exchange_all(client, requests, Some(record), r).await;
    for (spec, got) in specs.iter().zip(answers) {
        // The credentials the request carries, so the digest blanks any echo of them.
        let sent: Vec<String> = record
            .values_for(&spec.url)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        match got {
            Ok(answer) => probes.push(judge(spec, preset, &answer, &sent, r)),
            Err(fault) => {
                return (
                    probes,
                    Some(RunError {
                        step: ErrorStep::Probe(spec.name.clone()),
                        hop: None,
                        message: fault.message,
                        kind: fault.kind,
                    }),
                );
            }
        }
    }
    (probes, None)
}

/// A probe's request as the web app's page would send it: a `fetch` (no navigation) from the
/// page's origin, with the `Sec-Fetch-Site` a browser sends, cross-site when the probe's URL is
/// on another site. The matrix replays it alike.
pub fn request(spec: &ProbeSpec, page: &url::Url) -> Request {
    fetch(page, &spec.method, spec.url.clone(), None, Vec::new())
}

/// A request as the web app's page at `page` would `fetch` it: `Sec-Fetch-Site` as a browser
/// sends it, cross-site when `url` is on another site, then the extra `headers`.
pub fn fetch(
    page: &url::Url,
    method: &crate::trace::Method,
    url: url::Url,
    body: Option<crate::scenario::Body>,
    headers: Vec<(String, String)>,
) -> Request {
    Request {
        method: method.clone(),
        body,
        step: Step::Follow,
        headers: std::iter::once((
            "sec-fetch-site".to_string(),
            crate::web::fetch_site(page, &url).to_string(),
        ))
        .chain(headers)
        .collect(),
        cross_site: crate::web::site(&url) != crate::web::site(page),
        navigation: false,
        url,
    }
}

/// An answer's body as the report keeps it: its shape, its top-level keys, and an excerpt with
/// token-like values fingerprinted.
pub struct Summary {
    pub json: Option<Value>,
    pub shape: BodyShape,
    pub keys: Vec<String>,
    pub excerpt: String,
}

pub fn summarize(answer: &Answer, r: &mut Redactor) -> Summary {
    summarize_body(&answer.body, answer.content_type().as_deref(), r)
}

/// The same for a body that did not come through the HTTP driver (the page's own fetch).
pub fn summarize_body(body: &[u8], content_type: Option<&str>, r: &mut Redactor) -> Summary {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let shape = shape(body, content_type, json.as_ref());
    let keys = match &json {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let excerpt = match &json {
        Some(v) => excerpt(&redact_json(v, r).to_string()),
        None => excerpt(r.scrub(&String::from_utf8_lossy(body)).as_str()),
    };
    Summary {
        json,
        shape,
        keys,
        excerpt,
    }
}

pub(crate) fn judge(
    spec: &ProbeSpec,
    preset: Option<Preset>,
    answer: &Answer,
    sent: &[String],
    r: &mut Redactor,
) -> Probe {
    let Summary {
        json,
        shape: body_shape,
        keys: json_keys,
        excerpt: body_excerpt,
    } = summarize(answer, r);
    let reason = failure(&spec.expect, answer.status, json.as_ref());
    Probe {
        name: spec.name.clone(),
        method: spec.method.clone(),
        url: r.url(&spec.url),
        native: spec.native,
        compare_to: spec.compare_to.clone(),
        expect: spec.expect.clone(),
        status: answer.status,
        body_shape,
        json_keys,
        body_excerpt,
        cookie_sent: answer.cookie_sent.clone(),
        cookie_blocked: answer.cookie_blocked.clone(),
        passed: reason.is_none(),
        reason,
        session_expires_at: json
            .as_ref()
            .zip(preset.and_then(|p| p.contract().session_expiry))
            .and_then(|(j, path)| dot_path(j, path))
            .and_then(|v| v.as_str())
            .map(str::to_string),
        date: answer
            .headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        received_at_ms: answer.received_at_ms,
        duration_ms: answer.duration_ms,
        page: None,
        answer: Some(answer::digest(
            answer.status,
            &answer.headers,
            &answer.body,
            sent,
        )),
    }
}

pub fn shape(body: &[u8], content_type: Option<&str>, json: Option<&Value>) -> BodyShape {
    match json {
        _ if body.iter().all(u8::is_ascii_whitespace) => BodyShape::Empty,
        Some(Value::Null) => BodyShape::JsonNull,
        Some(Value::Object(_)) => BodyShape::JsonObject,
        Some(_) => BodyShape::JsonOther,
        None if content_type.is_some_and(|t| t.contains("html"))
            || body.trim_ascii_start().starts_with(b"<") =>
        {
            BodyShape::Html
        }
        None => BodyShape::Text,
    }
}

/// Why an answer misses its expectation, or `None` when it meets it. A 2xx with a JSON `null`
/// body never passes: auth libraries' session endpoints answer exactly that without a session.
pub fn failure(expect: &Expect, status: u16, json: Option<&Value>) -> Option<String> {
    match expect.status {
        Some(want) if want != status => {
            return Some(format!("expected status {want}, got {status}"));
        }
        None if !(200..300).contains(&status) => {
            return Some(format!("expected a 2xx status, got {status}"));
        }
        _ => {}
    }
    if (200..300).contains(&status) && json == Some(&Value::Null) {
        return Some("the body is JSON null: no session".into());
    }
    if let Some(path) = &expect.json_present {
        match json.and_then(|j| dot_path(j, path)) {
            Some(Value::Null) => return Some(format!("`{path}` is null")),
            None => return Some(format!("`{path}` is missing from the body")),
            Some(_) => {}
        }
    }
    None
}

/// `a.b.0.c` into a JSON value.
pub fn dot_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .try_fold(v, |v, key| match v {
            Value::Object(m) => m.get(key),
            Value::Array(a) => a.get(key.parse::<usize>().ok()?),
            _ => None,
        })
}

/// Keys whose string values are secrets in a session answer.
const SECRET_KEYS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "session_token",
    "secret",
    "password",
    "code",
    "state",
    "jwt",
    "cookie",
    "authorization",
];

/// A JSON body with token-like values replaced by fingerprints.
pub fn redact_json(v: &Value, r: &mut Redactor) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = k.to_ascii_lowercase();
                    // `token`, `access_token`, `sessionToken` (the key is lowercased).
                    let secret = SECRET_KEYS.iter().any(|s| key.ends_with(s));
                    let v = match v {
                        // `code` and `state` also name error codes (`INVALID_ORIGIN`).
                        Value::String(s)
                            if secret
                                && (key.ends_with("code") || key.ends_with("state"))
                                && is_enumerated(s) =>
                        {
                            Value::String(s.clone())
                        }
                        Value::String(s) if secret || looks_random(s) => {
                            Value::String(r.sensitive(s).shown().to_string())
                        }
                        other => redact_json(other, r),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| redact_json(v, r)).collect()),
        Value::String(s) if looks_random(s) => Value::String(r.sensitive(s).shown().to_string()),
        other => other.clone(),
    }
}

/// The shape of an error code, never of a random value: words of letters in one case joined by
/// `_`, `.` or spaces (`INVALID_ORIGIN`, `state_mismatch`), lowercase words joined by `-`
/// (`invalid-request`), or one word that reads as one (`UNAUTHORIZED`, `Configuration`: a vowel,
/// no four consonants in a row). A device code such as `WDJB-MJHT` or a letters-only state does
/// not pass, so it is fingerprinted like any other value of its key.
fn is_enumerated(s: &str) -> bool {
    if s.is_empty() || s.len() > 48 {
        return false;
    }
    let one_case = |w: &str| {
        w.len() >= 2
            && (w.chars().all(|c| c.is_ascii_lowercase())
                || w.chars().all(|c| c.is_ascii_uppercase()))
    };
    let words: Vec<&str> = s.split(['_', '.', ' ']).collect();
    if words.len() > 1 {
        return words.iter().all(|w| one_case(w));
    }
    let kebab: Vec<&str> = s.split('-').collect();
    if kebab.len() > 1 {
        return kebab
            .iter()
            .all(|w| w.len() >= 2 && w.chars().all(|c| c.is_ascii_lowercase()));
    }
    let mut letters = s.chars();
    let first_ok = letters.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest: String = letters.collect();
    let cased = one_case(s) || (first_ok && rest.chars().all(|c| c.is_ascii_lowercase()));
    let vowel = |c: char| "aeiouyAEIOUY".contains(c);
    let mut consonants = 0;
    let mut reads = s.chars().any(vowel);
    for c in s.chars() {
        consonants = if vowel(c) { 0 } else { consonants + 1 };
        reads &= consonants < 4;
    }
    s.len() <= 24 && cased && reads
}

/// A long string without spaces that is neither a URL nor a date: likely a token.
fn looks_random(s: &str) -> bool {
    s.len() >= 40 && !s.contains(char::is_whitespace) && !s.contains("://") && !s.contains('@')
}

fn excerpt(s: &str) -> String {
    if s.len() <= EXCERPT {
        s.to_string()
    } else {
        let mut end = EXCERPT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_is_no_session() {
        let e = Expect::default();
        assert!(failure(&e, 200, Some(&Value::Null)).is_some());
        assert!(failure(&e, 200, Some(&json!({"session": {}}))).is_none());
        assert!(failure(&e, 401, None).is_some());
    }

    #[test]
    fn json_present_paths() {
        let e = Expect {
            status: Some(200),
            json_present: Some("session.id".into()),
        };
        assert!(failure(&e, 200, Some(&json!({"session": {"id": "x"}}))).is_none());
        assert_eq!(
            failure(&e, 200, Some(&json!({"session": {"id": null}}))).unwrap(),
            "`session.id` is null"
        );
        assert!(
            failure(&e, 200, Some(&json!({})))
                .unwrap()
                .contains("missing")
        );
    }

    #[test]
    fn camel_case_token_keys_are_secret() {
        let mut r = Redactor::new(false);
        let v = redact_json(&json!({"sessionToken": "short-token-1"}), &mut r);
        assert!(!v.to_string().contains("short-token-1"));
    }

    #[test]
    fn error_codes_stay_readable() {
        let mut r = Redactor::new(false);
        let v = redact_json(
            &json!({"code": "INVALID_ORIGIN", "state": "state_mismatch", "message": "Invalid origin"}),
            &mut r,
        );
        assert_eq!(v["code"], "INVALID_ORIGIN");
        assert_eq!(v["state"], "state_mismatch");
        let v = redact_json(
            &json!({"code": "Zk3JqX9vN2pL8mR4tW6y", "password": "letters"}),
            &mut r,
        );
        assert!(v["code"].as_str().unwrap().starts_with("‹sha256:"));
        assert!(v["password"].as_str().unwrap().starts_with("‹sha256:"));
    }

    #[test]
    fn error_code_shapes() {
        for (s, code) in [
            ("INVALID_ORIGIN", true),
            ("state_mismatch", true),
            ("invalid-request", true),
            ("UNAUTHORIZED", true),
            ("Configuration", true),
            ("access denied", true),
            ("WDJB-MJHT", false),
            ("BCDFGHJK", false),
            ("xKqPzLmNvBtRwQ", false),
            ("qwrtzpsdfg", false),
            ("Abc_DEF", false),
            ("", false),
            ("abc123", false),
        ] {
            assert_eq!(is_enumerated(s), code, "{s}");
        }
    }

    #[test]
    fn tokens_in_bodies_are_fingerprinted() {
        let mut r = Redactor::new(false);
        let v = redact_json(
            &json!({"session": {"token": "abcdef0123456789abcdef0123456789", "userId": "u1"}}),
            &mut r,
        );
        let text = v.to_string();
        assert!(!text.contains("abcdef0123456789abcdef0123456789"), "{text}");
        assert!(text.contains("u1"));
    }
}
