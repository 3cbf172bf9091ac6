//! HAR files in (`authchain diagnose FILE.har`): a login recorded by a browser — exported from
//! Chromium's DevTools, or written by Playwright's `recordHar` — read into the same trace a live
//! run records, and diagnosed by the same rules.
//!
//! The chain's hops are the entries a login is made of (documents, and the fetches sent to the
//! app); the callback is found as a live run finds it; the session probes are the last answers
//! of the native endpoint and of each `--probe` URL the file holds. Offline nothing is replayed:
//! no matrix, no checks. What the file lacks is said in `recorded.unknown`, never guessed: a HAR
//! records no cookie the browser refused, a sanitized DevTools export holds no cookie at all,
//! and a body may be left out. Every value read goes through the run's redactor: a password in a
//! posted form or JSON body is a secret, cookies, tokens, codes and state are fingerprinted.

use crate::drive::http::{Answer, error_params, parse_cookie_header};
use crate::drive::record::set_cookie_lines;
use crate::redact::{Redactor, Secret};
use crate::scenario::{Preset, ProbeSpec, Scenario};
use crate::trace::{Ended, Hop, HopNo, Method, Probe, Recorded, Step, Trace};
use serde::{Deserialize, Serialize};
use url::Url;

/// A HAR 1.2 file: what `--har` writes, and what `diagnose` reads (fields a writer leaves out
/// read as empty).
#[derive(Debug, Serialize, Deserialize)]
pub struct Har {
    pub log: Log,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Log {
    #[serde(default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<Creator>,
    #[serde(default)]
    pub pages: Vec<serde_json::Value>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Creator {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    #[serde(rename = "startedDateTime", default)]
    pub started: String,
    /// The whole exchange, in milliseconds (`-1` or absent when unknown).
    #[serde(default)]
    pub time: Option<f64>,
    pub request: Request,
    pub response: Response,
    #[serde(default)]
    pub cache: serde_json::Value,
    #[serde(default)]
    pub timings: Timings,
    /// Chromium's resource type (`document`, `fetch`, `xhr`, `script`, …), when written.
    #[serde(
        rename = "_resourceType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Timings {
    #[serde(default)]
    pub send: f64,
    #[serde(default)]
    pub wait: f64,
    #[serde(default)]
    pub receive: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub method: String,
    pub url: String,
    #[serde(rename = "httpVersion", default)]
    pub http_version: String,
    #[serde(default)]
    pub cookies: Vec<HarCookie>,
    #[serde(default)]
    pub headers: Vec<NameValue>,
    #[serde(rename = "queryString", default)]
    pub query_string: Vec<NameValue>,
    #[serde(rename = "postData", default, skip_serializing_if = "Option::is_none")]
    pub post_data: Option<PostData>,
    #[serde(rename = "headersSize", default = "unknown_size")]
    pub headers_size: i64,
    #[serde(rename = "bodySize", default = "unknown_size")]
    pub body_size: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PostData {
    #[serde(rename = "mimeType", default)]
    pub mime_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default)]
    pub params: Vec<NameValue>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    pub status: i64,
    #[serde(rename = "statusText", default)]
    pub status_text: String,
    #[serde(rename = "httpVersion", default)]
    pub http_version: String,
    #[serde(default)]
    pub cookies: Vec<HarCookie>,
    #[serde(default)]
    pub headers: Vec<NameValue>,
    #[serde(default)]
    pub content: Content,
    #[serde(rename = "redirectURL", default)]
    pub redirect_url: String,
    #[serde(rename = "headersSize", default = "unknown_size")]
    pub headers_size: i64,
    #[serde(rename = "bodySize", default = "unknown_size")]
    pub body_size: i64,
}

fn unknown_size() -> i64 {
    -1
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Content {
    #[serde(default = "unknown_size")]
    pub size: i64,
    #[serde(rename = "mimeType", default)]
    pub mime_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

impl Default for Content {
    fn default() -> Self {
        Content {
            size: -1,
            mime_type: String::new(),
            text: None,
            encoding: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct HarCookie {
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(rename = "httpOnly", default, skip_serializing_if = "Option::is_none")]
    pub http_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Whether a JSON document is a HAR (an object with `log.entries`).
pub fn is_har(doc: &serde_json::Value) -> bool {
    doc["log"]["entries"].is_array()
}

use crate::redact::is_secret_field as secret_field;

/// The secrets of a HAR, known to the redactor before anything is read: passwords and secrets
/// posted in forms or JSON (never shown, not even with `--reveal`), and every cookie value and
/// `Authorization` header as a token.
pub fn learn_secrets(har: &Har, r: &mut Redactor) {
    for e in &har.log.entries {
        if let Some(post) = &e.request.post_data {
            for p in &post.params {
                if secret_field(&p.name) {
                    r.add_secret(&Secret::new(&p.value));
                }
            }
            if let Some(text) = &post.text {
                for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
                    if secret_field(&k) {
                        r.add_secret(&Secret::new(v.as_ref()));
                    }
                }
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
                    json_secrets(&json, r);
                }
                for (k, v) in multipart_fields(&post.mime_type, text) {
                    if secret_field(&k) {
                        r.add_secret(&Secret::new(&v));
                    }
                }
            }
        }
        for c in e.request.cookies.iter().chain(&e.response.cookies) {
            r.sensitive(&c.value);
        }
        for h in &e.request.headers {
            if h.name.eq_ignore_ascii_case("authorization") {
                r.learn_credential(&h.value);
            }
        }
        for q in &e.request.query_string {
            if secret_field(&q.name) {
                r.add_secret(&Secret::new(&q.value));
            }
        }
    }
}

/// The fields of a `multipart/form-data` body (the boundary from its MIME type, else from the
/// body's first line): each part's `name` and its value.
fn multipart_fields(mime: &str, text: &str) -> Vec<(String, String)> {
    let from_mime = header_params(mime)
        .into_iter()
        .find(|(k, _)| k == "boundary")
        .map(|(_, v)| v);
    let boundary = match from_mime {
        Some(b) if !b.is_empty() => b,
        _ => match text
            .lines()
            .next()
            .and_then(|l| l.trim_end().strip_prefix("--"))
        {
            Some(b) if !b.is_empty() && !b.contains(char::is_whitespace) => b.to_string(),
            _ => return Vec::new(),
        },
    };
    // A delimiter begins a line (RFC 2046): a value that holds `--boundary` mid-line is a value.
    let delimiter = format!("\n--{boundary}");
    format!("\n{text}")
        .split(delimiter.as_str())
        .skip(1)
        .filter_map(|part| {
            // A delimiter line may end in spaces or tabs (RFC 2046's transport padding).
            let part = part.trim_start_matches([' ', '\t']);
            let part = part
                .strip_prefix("\r\n")
                .or_else(|| part.strip_prefix('\n'))?;
            // The head ends at the first blank line, whichever line ending it has.
            let ends = [("\r\n\r\n", 4), ("\n\n", 2)];
            let (at, len) = ends
                .iter()
                .filter_map(|(end, len)| part.find(end).map(|at| (at, *len)))
                .min()?;
            let (head, body) = (&part[..at], &part[at + len..]);
            let params = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then(|| header_params(v))
            })?;
            // `name*` (RFC 5987: `UTF-8''percent-encoded`) is preferred to `name`.
            let extended = params
                .iter()
                .find(|(k, _)| k == "name*")
                .and_then(|(_, v)| {
                    let mut pieces = v.splitn(3, '\'');
                    let (_, _, encoded) = (pieces.next()?, pieces.next()?, pieces.next()?);
                    Some(crate::redact::percent_decode(&encoded.replace('&', "%26")))
                });
            let name = extended.or_else(|| {
                params
                    .into_iter()
                    .find(|(k, _)| k == "name")
                    .map(|(_, v)| v)
            })?;
            // The line break before the next delimiter is the delimiter's.
            let value = body.strip_suffix('\r').unwrap_or(body);
            Some((name, value.to_string()))
        })
        .collect()
}

/// The parameters of a header value after its first `;` (`form-data; name="a;b"`), keys trimmed
/// and lower-cased, quoted values unquoted (`\"` unescaped); a `;` inside quotes is the value's.
fn header_params(value: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
        .into_iter()
        .skip(1)
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim();
            let v = match v.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                Some(q) => {
                    let mut out = String::with_capacity(q.len());
                    let mut chars = q.chars();
                    while let Some(c) = chars.next() {
                        out.push(match c {
                            '\\' => chars.next().unwrap_or('\\'),
                            c => c,
                        });
                    }
                    out
                }
                None => v.to_string(),
            };
            Some((k.trim().to_ascii_lowercase(), v))
        })
        .collect()
}

fn json_secrets(v: &serde_json::Value, r: &mut Redactor) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match v.as_str() {
                    Some(s) if secret_field(k) => r.add_secret(&Secret::new(s)),
                    _ => json_secrets(v, r),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| json_secrets(v, r)),
        _ => {}
    }
}

fn header<'a>(headers: &'a [NameValue], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn headers_all<'a>(headers: &'a [NameValue], name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.split('\n'))
}

/// What a static resource looks like: never a hop of a login.
fn is_static(e: &Entry, url: &Url) -> bool {
    const TYPES: &[&str] = &[
        "image/",
        "font/",
        "text/css",
        "javascript",
        "application/wasm",
        "video/",
        "audio/",
    ];
    const EXTENSIONS: &[&str] = &[
        ".js", ".mjs", ".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".woff",
        ".woff2", ".ttf", ".map",
    ];
    let mime = e.response.content.mime_type.to_ascii_lowercase();
    TYPES.iter().any(|t| mime.contains(t)) || EXTENSIONS.iter().any(|x| url.path().ends_with(x))
}

/// An entry's response body as bytes, when the file holds it.
fn body(e: &Entry) -> Option<Vec<u8>> {
    let text = e.response.content.text.as_ref()?;
    if e.response.content.encoding.as_deref() == Some("base64") {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(text).ok()
    } else {
        Some(text.clone().into_bytes())
    }
}

fn header_map(headers: &[NameValue]) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for h in headers {
        // HTTP/2 pseudo-headers (`:status`) and names the browser shows oddly are no headers.
        if let (Ok(k), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(h.name.as_bytes()),
            reqwest::header::HeaderValue::from_str(&h.value),
        ) {
            map.append(k, v);
        }
    }
    map
}

/// The entry's start as Unix milliseconds (none before 1970 or unreadable).
fn started_ms(e: &Entry) -> Option<u64> {
    time::OffsetDateTime::parse(&e.started, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
}

/// The entry's length in milliseconds (0 when unknown, `-1`, or not a number).
fn lasted_ms(e: &Entry) -> f64 {
    e.time.filter(|t| t.is_finite() && *t > 0.0).unwrap_or(0.0)
}

/// When the entry's answer came, in Unix milliseconds.
fn received_ms(e: &Entry) -> u64 {
    started_ms(e)
        .unwrap_or(0)
        .saturating_add(lasted_ms(e).min(u64::MAX as f64) as u64)
}

/// The preset whose endpoints the file's requests to the app name, when one does: a start or
/// the native endpoint, whole path segments at the path's end (`{provider}` standing for any
/// one segment).
pub fn detect_preset(har: &Har, app: &Url) -> Option<Preset> {
    let paths: Vec<String> = har
        .log
        .entries
        .iter()
        .filter_map(|e| Url::parse(&e.request.url).ok())
        .filter(|u| u.origin() == app.origin())
        .map(|u| u.path().to_string())
        .collect();
    Preset::ALL.iter().copied().find(|p| {
        let c = p.contract();
        paths.iter().any(|path| {
            c.starts.iter().any(|s| ends_with_segments(path, s.path))
                || c.native_path.is_some_and(|n| ends_with_segments(path, n))
        })
    })
}

/// Whether `path` ends with the segments of `pattern` (`{…}` matches any one segment).
fn ends_with_segments(path: &str, pattern: &str) -> bool {
    let want: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let have: Vec<&str> = path.trim_matches('/').split('/').collect();
    have.len() >= want.len()
        && have[have.len() - want.len()..]
            .iter()
            .zip(&want)
            .all(|(h, w)| (w.starts_with('{') && w.ends_with('}') && !h.is_empty()) || h == w)
}

/// The app's origin as the file shows it: where the first document or request of the file went.
pub fn detect_app(har: &Har) -> Option<Url> {
    har.log
        .entries
        .iter()
        .filter_map(|e| Url::parse(&e.request.url).ok().map(|u| (e, u)))
        .find(|(e, u)| matches!(u.scheme(), "http" | "https") && !is_static(e, u))
        .map(|(_, u)| crate::scenario::origin_of(&u))
}

/// Whether an entry is the request of a probe: its method, origin, path and query.
fn probe_of<'a>(scenario: &'a Scenario, e: &Entry, url: &Url) -> Option<&'a ProbeSpec> {
    scenario.probes.iter().find(|p| {
        p.method.as_str().eq_ignore_ascii_case(&e.request.method)
            && p.url.origin() == url.origin()
            && p.url.path() == url.path()
            && (p.url.query().is_none() || p.url.query() == url.query())
    })
}

/// The trace of the login the file holds, for `scenario`'s chain and probes (the app, the auth
/// base, the native endpoint and the `--probe`s, given with the file or found in it).
pub fn trace(har: &Har, scenario: &Scenario, r: &mut Redactor) -> Trace {
    learn_secrets(har, r);
    let c = &scenario.chain;
    let mut unknown = vec![
        "which cookies the browser refused, and why: a HAR records the Set-Cookie headers, not \
         the browser's verdict on them (a refused cookie shows only as one never sent back)"
            .to_string(),
    ];
    let app_origins = [&c.app, &c.auth_base, &c.page].map(|u| u.origin());
    let mut entries: Vec<(usize, &Entry, Url)> = har
        .log
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Url::parse(&e.request.url).ok().map(|u| (i, e, u)))
        .filter(|(_, _, u)| matches!(u.scheme(), "http" | "https"))
        .collect();
    // In the order the requests were sent (a file may list them as their answers came).
    entries.sort_by_key(|(i, e, _)| (started_ms(e).unwrap_or(0), *i));
    let cookies_recorded = entries.iter().any(|(_, e, _)| {
        header(&e.request.headers, "cookie").is_some()
            || header(&e.response.headers, "set-cookie").is_some()
            || !e.request.cookies.is_empty()
            || !e.response.cookies.is_empty()
    });
    if !cookies_recorded {
        unknown.push(
            "every cookie: the file holds no Cookie or Set-Cookie header (a sanitized export; \
             DevTools' \"Export HAR (with sensitive data)\" keeps them)"
                .to_string(),
        );
    }

    let mut hops: Vec<Hop> = Vec::new();
    let mut probe_entries: Vec<(&ProbeSpec, &Entry, Url)> = Vec::new();
    for (_, e, url) in &entries {
        if let Some(spec) = probe_of(scenario, e, url) {
            probe_entries.push((spec, e, url.clone()));
            continue;
        }
        let kind = e.resource_type.as_deref().map(str::to_ascii_lowercase);
        let at_app = app_origins.contains(&url.origin());
        let chain = match kind.as_deref() {
            Some("document") => true,
            Some("fetch" | "xhr") => at_app,
            Some(_) => false,
            None => {
                !is_static(e, url)
                    && (at_app
                        || (300..400).contains(&e.response.status)
                        || e.response.content.mime_type.contains("html"))
            }
        };
        if !chain || e.response.status <= 0 {
            continue;
        }
        hops.push(hop(e, url, HopNo(hops.len() as u32 + 1), r));
    }
    // The steps: the start is the first request to the auth handler (else the first of all),
    // a POST to a page elsewhere submits its form.
    let under_auth_base = |h: &Hop| {
        Url::parse(&h.url).is_ok_and(|u| {
            u.origin() == c.auth_base.origin() && u.path().starts_with(c.auth_base.path())
        })
    };
    let start = hops.iter().position(under_auth_base).unwrap_or(0);
    if let Some(h) = hops.get_mut(start) {
        h.step = Step::Start;
    }
    let mut submitted = 0;
    for h in hops.iter_mut().skip(start + 1) {
        let here = Url::parse(&h.url).is_ok_and(|u| app_origins.contains(&u.origin()));
        if h.method == Method::Post && !here {
            h.step = if submitted == 0 {
                Step::IdpLogin
            } else {
                Step::IdpConsent
            };
            submitted += 1;
        }
    }

    let mut chain = crate::trace::ChainInfo {
        app: c.app.to_string(),
        auth_base: Some(c.auth_base.to_string()),
        preset: c.preset.map(|p| p.name().to_string()),
        provider: c.provider.clone(),
        driver: "har".into(),
        ..Default::default()
    };
    chain.callback_hop = crate::drive::callback_hop(&hops, c);
    chain.final_url = hops.last().map(|h| h.url.clone());
    chain.start_endpoint = hops
        .iter()
        .find(|h| h.step == Step::Start)
        .and_then(|h| Url::parse(&h.url).ok())
        .filter(|u| u.origin() == c.auth_base.origin())
        .and_then(|u| {
            u.path()
                .strip_prefix(c.auth_base.path().trim_end_matches('/'))
                .map(str::to_string)
        });
    let ended = ended(&hops, c, &mut unknown);

    // Each probe as its last answer in the file.
    let mut probes: Vec<Probe> = Vec::new();
    for spec in &scenario.probes {
        let Some((_, e, url)) = probe_entries
            .iter()
            .rev()
            .find(|(s, _, _)| s.name == spec.name)
        else {
            unknown.push(format!(
                "probe `{}`: the file holds no {} {} (ask it in the browser before exporting, or \
                 run `authchain probe` with the session's cookie)",
                spec.name,
                spec.method,
                r.url(&spec.url)
            ));
            continue;
        };
        let Some(bytes) = body(e) else {
            unknown.push(format!(
                "probe `{}`: the file holds the answer's status ({}) but not its body",
                spec.name, e.response.status
            ));
            continue;
        };
        let answer = answer(e, url, bytes, r);
        // The credentials the request carried, so the digest blanks any echo of them.
        let sent: Vec<String> = header(&e.request.headers, "cookie")
            .map(|h| {
                h.split(';')
                    .filter_map(|p| p.split_once('=').map(|(_, v)| v.trim().to_string()))
                    .collect()
            })
            .unwrap_or_else(|| e.request.cookies.iter().map(|c| c.value.clone()).collect());
        probes.push(crate::probe::judge(spec, c.preset, &answer, &sent, r));
    }
    if !scenario.probes.is_empty() {
        unknown.push(
            "the differential matrix: offline nothing is replayed, so a guard that refuses a \
             session the native endpoint accepts cannot be told apart further (run `authchain \
             probe` with the session's cookie for the matrix)"
                .to_string(),
        );
    }
    let started_at = entries
        .first()
        .and_then(|(_, e, _)| started_ms(e))
        .map_or(0, |ms| ms / 1000);
    let duration_ms = hops.iter().map(|h| h.duration_ms).sum();
    Trace {
        scenario: scenario.name.clone(),
        chain,
        hops,
        probes,
        ended,
        recorded: Some(Recorded {
            format: "har".into(),
            creator: har
                .log
                .creator
                .as_ref()
                .map(|c| format!("{} {}", c.name, c.version).trim().to_string()),
            entries: har.log.entries.len(),
            chain_entries: 0,
            unknown,
        }),
        started_at,
        duration_ms,
        ..Trace::default()
    }
    .counted(scenario)
}

impl Trace {
    /// The recording's count of the chain's entries, from its hops and probes; the probes it
    /// could not judge named as not run.
    fn counted(mut self, scenario: &Scenario) -> Trace {
        crate::not_run(scenario, &mut self);
        let n = self.hops.len() + self.probes.len();
        if let Some(rec) = &mut self.recorded {
            rec.chain_entries = n;
        }
        self
    }
}

/// How the recorded login ended: back at the app, at an IdP error, in a loop, or somewhere the
/// file stops (said as unknown).
fn ended(hops: &[Hop], c: &crate::scenario::Chain, unknown: &mut Vec<String>) -> Ended {
    for (i, h) in hops.iter().enumerate() {
        if (300..400).contains(&h.status)
            && let Some(first) = hops[..i]
                .iter()
                .find(|e| e.url == h.url && (300..400).contains(&e.status))
        {
            return Ended::Loop {
                first: first.n,
                again: h.n,
            };
        }
    }
    let Some(last) = hops.last() else {
        unknown.push("the login: the file holds no request of the chain".into());
        return Ended::NotEnded;
    };
    let at_app = Url::parse(&last.url).is_ok_and(|u| crate::drive::at_app_seen(&u, c, hops));
    if at_app {
        Ended::Landed { hop: last.n }
    } else if last.status >= 400 {
        Ended::IdpError { hop: last.n }
    } else {
        unknown.push(format!(
            "the end of the login: the file stops at hop {} ({}), away from the app",
            last.n.0, last.status
        ));
        Ended::NotEnded
    }
}

/// One entry as the HTTP driver would have got it.
fn answer(e: &Entry, url: &Url, body: Vec<u8>, r: &mut Redactor) -> Answer {
    let headers = header_map(&e.response.headers);
    let location = location(e, url);
    Answer {
        url: url.clone(),
        status: e.response.status.clamp(0, 999) as u16,
        headers,
        location,
        bad_location: None,
        body,
        cookie_sent: sent_cookies(e, r),
        cookie_blocked: Vec::new(),
        received_at_ms: received_ms(e),
        duration_ms: lasted_ms(e),
    }
}

fn location(e: &Entry, url: &Url) -> Option<Url> {
    header(&e.response.headers, "location")
        .or(Some(e.response.redirect_url.as_str()).filter(|l| !l.is_empty()))
        .and_then(|l| url.join(l).ok())
}

fn sent_cookies(e: &Entry, r: &mut Redactor) -> Vec<crate::trace::SentCookie> {
    match header(&e.request.headers, "cookie") {
        Some(h) => parse_cookie_header(h, r),
        None => e
            .request
            .cookies
            .iter()
            .map(|c| crate::trace::SentCookie {
                name: c.name.clone(),
                value: r.sensitive(&c.value),
            })
            .collect(),
    }
}

fn hop(e: &Entry, url: &Url, n: HopNo, r: &mut Redactor) -> Hop {
    let location = location(e, url);
    let mut set_cookies = set_cookie_lines(headers_all(&e.response.headers, "set-cookie"), &[], r);
    if set_cookies.is_empty() {
        // Without the headers (some writers keep only the parsed cookies): name and value.
        let lines: Vec<String> = e
            .response
            .cookies
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        set_cookies = set_cookie_lines(lines.iter().map(String::as_str), &[], r);
    }
    let (error_code, error_description) = error_params(url)
        .or_else(|| location.as_ref().and_then(error_params))
        .unwrap_or_default();
    let status = e.response.status.clamp(0, 999) as u16;
    let body_excerpt = (status >= 400)
        .then(|| body(e))
        .flatten()
        .map(|b| crate::probe::summarize_body(&b, Some(&e.response.content.mime_type), r).excerpt);
    Hop {
        n,
        step: Step::Follow,
        method: Method::parse(&e.request.method),
        url: r.url(url),
        status,
        location: location.as_ref().map(|l| r.url(l)),
        set_cookies,
        cookie_sent: sent_cookies(e, r),
        cookie_blocked: Vec::new(),
        origin_sent: header(&e.request.headers, "origin").map(str::to_string),
        content_type: header(&e.response.headers, "content-type").map(str::to_string),
        date: header(&e.response.headers, "date").map(str::to_string),
        error_code,
        error_description,
        page: None,
        body_excerpt,
        received_at_ms: received_ms(e),
        duration_ms: lasted_ms(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_forms_and_json_are_secrets() {
        let har: Har = serde_json::from_value(serde_json::json!({
            "log": { "entries": [
                { "startedDateTime": "2026-12-01T10:00:00.000Z", "time": 5,
                  "request": { "method": "POST", "url": "https://idp.test/login",
                    "postData": { "mimeType": "application/x-www-form-urlencoded",
                      "text": "login=alice&password=hunter2-correct" } },
                  "response": { "status": 303, "headers": [], "content": {} } },
                { "startedDateTime": "2026-12-01T10:00:01.000Z", "time": 5,
                  "request": { "method": "POST", "url": "https://idp.test/api/flow",
                    "postData": { "mimeType": "application/json",
                      "text": "{\"component\":\"ak-stage-password\",\"password\":\"s3cret-json-pass\"}" } },
                  "response": { "status": 200, "headers": [], "content": {} } },
                { "startedDateTime": "2026-12-01T10:00:02.000Z", "time": 5,
                  "request": { "method": "POST", "url": "https://idp.test/multi",
                    "postData": { "mimeType": "multipart/form-data; boundary=----WebKitFormBoundaryX1",
                      "text": "------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nmulti-part-pass\r\n------WebKitFormBoundaryX1--\r\n" } },
                  "response": { "status": 303, "headers": [], "content": {} } },
                { "startedDateTime": "2026-12-01T10:00:03.000Z", "time": 5,
                  "request": { "method": "POST", "url": "https://idp.test/multi",
                    "postData": { "mimeType": "multipart/form-data",
                      "text": "--b2\nContent-Disposition: form-data; name=\"client_secret\"\n\nno-boundary-secret\n--b2--\n" } },
                  "response": { "status": 303, "headers": [], "content": {} } }
            ] }
        }))
        .unwrap();
        let mut r = Redactor::new(true);
        learn_secrets(&har, &mut r);
        let out =
            r.scrub("hunter2-correct s3cret-json-pass multi-part-pass no-boundary-secret alice");
        for secret in [
            "hunter2-correct",
            "s3cret-json-pass",
            "multi-part-pass",
            "no-boundary-secret",
        ] {
            assert!(!out.as_str().contains(secret), "{out}");
        }
        assert!(out.as_str().contains("alice"), "{out}");
    }

    #[test]
    fn multipart_fields_as_browsers_and_hand_written_clients_send_them() {
        let part = |head: &str, value: &str| format!("--B  \r\n{head}\r\n\r\n{value}\r\n");
        let cases: &[(&str, &str)] = &[
            (
                "Content-Disposition: form-data; name=\"password\"",
                "password",
            ),
            ("content-disposition: form-data;name=password", "password"),
            (
                "Content-Disposition: form-data; NAME = \"password\"",
                "password",
            ),
            (
                "Content-Disposition: form-data; name=\"a;b\"; filename=\"x\"",
                "a;b",
            ),
            (
                "Content-Disposition: form-data; name=\"say \\\"hi\\\"\"",
                "say \"hi\"",
            ),
            (
                "Content-Disposition: form-data; name=\"ignored\"; name*=UTF-8''pass%77ord",
                "password",
            ),
            ("Content-Disposition: form-data; name*=UTF-8''a&b", "a&b"),
        ];
        for (head, name) in cases {
            let body = format!("{}--B--\r\n", part(head, "v\n\nw"));
            let got = multipart_fields("multipart/form-data; boundary=\"B\"", &body);
            assert_eq!(
                got,
                vec![(name.to_string(), "v\n\nw".to_string())],
                "{head}"
            );
        }
        // A head that ends in a bare blank line, before a body that holds a CRLF blank line.
        let got = multipart_fields(
            "multipart/form-data; boundary=B",
            "--B\nContent-Disposition: form-data; name=p\n\nx\r\n\r\ny\n--B--\n",
        );
        assert_eq!(got, vec![("p".to_string(), "x\r\n\r\ny".to_string())]);
        // The boundary inside a value, not at a line's start, is the value's.
        let got = multipart_fields(
            "multipart/form-data; boundary=B",
            "--B\r\nContent-Disposition: form-data; name=password\r\n\r\nab--Bcd\r\n--B--\r\n",
        );
        assert_eq!(got, vec![("password".to_string(), "ab--Bcd".to_string())]);
    }

    #[test]
    fn endpoints_match_whole_segments() {
        assert!(ends_with_segments(
            "/api/auth/sign-in/social",
            "sign-in/social"
        ));
        assert!(ends_with_segments(
            "/auth/signin/github",
            "signin/{provider}"
        ));
        assert!(!ends_with_segments("/api/mysession", "session"));
        assert!(ends_with_segments("/api/session", "session"));
        assert!(!ends_with_segments("/", "session"));
    }

    #[test]
    fn static_resources_are_no_hops() {
        let e = |mime: &str| -> Entry {
            serde_json::from_value(serde_json::json!({
                "request": { "method": "GET", "url": "https://app.test/x" },
                "response": { "status": 200, "content": { "mimeType": mime } }
            }))
            .unwrap()
        };
        let u = Url::parse("https://app.test/x").unwrap();
        assert!(is_static(&e("image/png"), &u));
        assert!(is_static(&e("application/javascript"), &u));
        assert!(!is_static(&e("text/html"), &u));
        assert!(is_static(
            &e("text/html"),
            &Url::parse("https://app.test/a.js").unwrap()
        ));
    }
}
