//! The only way a recorded value reaches an output. Cookie values, tokens, codes and state become
//! fingerprints (`‹sha256:1a2b3c4d 81B›`); passwords and client secrets become `‹redacted 8B›`,
//! never hashed and never revealed; anything token-shaped (a JWT, a long opaque value) becomes one
//! fingerprint as a whole. Every output text passes through [`Redactor::scrub`] last, which alone
//! makes the [`Scrubbed`] text that every sink takes.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use url::Url;

/// A password or client secret. It has no `Display`; its `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The raw value, for the one place that sends it (a form field, a header).
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn placeholder(&self) -> String {
        placeholder(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.placeholder())
    }
}

fn placeholder(value: &str) -> String {
    format!("‹redacted {}B›", value.len())
}

/// Text fit for an output: only [`Redactor::scrub`] makes it, and every sink (stdout, stderr,
/// report files, artifacts) takes only this type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scrubbed(String);

impl Scrubbed {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Scrubbed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `‹sha256:1a2b3c4d 81B›`: equal values get equal fingerprints.
pub fn fingerprint(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("‹sha256:{hex} {}B›", raw.len())
}

/// What a rule may know of a secret value without seeing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// `value.signature`, a signed cookie (possibly percent-encoded).
    Signed,
    /// three base64url parts separated by dots.
    Jwt,
    /// five base64url parts separated by dots (an encrypted JWT, as some libraries keep their
    /// session).
    Jwe,
    /// a UUID (a database session's id).
    Uuid,
    /// anything else.
    Opaque,
    /// the empty value (a cookie being cleared).
    Empty,
}

impl Shape {
    pub fn of(raw: &str) -> Shape {
        let decoded = percent_decode(raw);
        let parts: Vec<&str> = decoded.split('.').collect();
        if decoded.is_empty() {
            Shape::Empty
        } else if parts.len() == 3 && parts.iter().all(|p| is_base64url(p)) && !parts[0].is_empty()
        {
            Shape::Jwt
        } else if parts.len() == 5 && parts.iter().all(|p| is_base64url(p)) && !parts[0].is_empty()
        {
            Shape::Jwe
        } else if is_uuid(&decoded) {
            Shape::Uuid
        } else if parts.len() == 2 && !parts[0].is_empty() && parts[1].len() >= 16 {
            Shape::Signed
        } else {
            Shape::Opaque
        }
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The non-secret facts of a JWT: its header's algorithm and key id, and its times.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtFacts {
    pub alg: Option<String>,
    pub kid: Option<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

impl JwtFacts {
    /// Reads a compact JWT leniently (any `alg`, no verification): facts only.
    pub fn read(token: &str) -> Option<JwtFacts> {
        let d = crate::jwt::decode(token)?;
        let text = |k: &str| d.header_text(k).map(str::to_string);
        Some(JwtFacts {
            alg: text("alg"),
            kid: text("kid"),
            iat: d.time("iat"),
            nbf: d.time("nbf"),
            exp: d.time("exp"),
        })
    }
}

/// A recorded secret value: its fingerprint and facts, and the value itself only under `--reveal`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sensitive {
    pub fingerprint: String,
    pub len: usize,
    pub shape: Shape,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Sensitive {
    /// The text an output shows: the value when revealed, else the fingerprint.
    pub fn shown(&self) -> &str {
        self.value.as_deref().unwrap_or(&self.fingerprint)
    }
}

/// Fields (query parameters, form fields, JSON keys) whose values are secrets of the password
/// class.
const SECRET_PARAMS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passcode",
    "client_secret",
    "secret",
    "otp",
    "totp",
    "private_key",
];

/// Whether a field's value is a secret of the password class: its name (any case) is one of
/// [`SECRET_PARAMS`], or ends in one after `_` or `-` (`new_password`, `user-pass`).
pub fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|f| {
        name == *f
            || name
                .strip_suffix(f)
                .is_some_and(|head| head.ends_with('_') || head.ends_with('-'))
    })
}
/// Query parameters whose values are fingerprinted.
const SENSITIVE_PARAMS: &[&str] = &[
    "code",
    "state",
    "id_token",
    "access_token",
    "refresh_token",
    "token",
    "session_state",
    "nonce",
    "code_verifier",
    "assertion",
    "samlresponse",
    "samlrequest",
    "relaystate",
    "logout_token",
    "id_token_hint",
];

/// The shortest recorded value the final scrub looks for in free text.
const MIN_SCRUBBED: usize = 8;

/// Records which values are secret and turns them into their safe text.
#[derive(Clone, Default, Debug)]
pub struct Redactor {
    reveal: bool,
    secrets: Vec<String>,
    sensitive: Vec<String>,
    /// The chain's own addresses (its URLs and origins, as the scenario names them): a value
    /// equal to one is no secret, whatever carries it.
    public: Vec<String>,
    /// The host names of those addresses: another scheme or port on one of them is the chain's
    /// address too (an app behind a proxy that names itself `https://`).
    public_hosts: Vec<String>,
    /// Where `-v`/`-vv` details go (nowhere by default).
    tap: crate::detail::Tap,
    /// What [`Redactor::scrub`] looks for, worked out once for the values known now: emptied
    /// whenever a value is learnt.
    patterns: std::sync::OnceLock<std::sync::Arc<Patterns>>,
}

/// The forms of the known values, each with what replaces it, in the order the scrub applies
/// them.
#[derive(Debug, Default)]
struct Patterns {
    /// Each secret's forms and its placeholder, the longest secret first.
    secrets: Vec<(Vec<String>, String)>,
    /// Each sensitive value's forms and its fingerprint, the longest value first.
    sensitive: Vec<(Vec<String>, String)>,
}

impl Patterns {
    fn of(secrets: &[String], sensitive: &[String]) -> Patterns {
        // Longest first, so a value that contains another is replaced whole.
        let sorted = |values: &[String], with: fn(&str) -> String| {
            let mut values: Vec<&String> = values.iter().collect();
            values.sort_by_key(|s| std::cmp::Reverse(s.len()));
            values
                .into_iter()
                .map(|v| {
                    let forms = encodings(v).into_iter().filter(|f| f.len() >= 4).collect();
                    (forms, with(v))
                })
                .collect()
        };
        Patterns {
            secrets: sorted(secrets, placeholder),
            sensitive: sorted(sensitive, fingerprint),
        }
    }

    /// `out` with every form of `values` replaced, in order.
    fn apply(values: &[(Vec<String>, String)], out: &mut String) {
        for (forms, with) in values {
            for form in forms {
                if form.len() <= out.len() && out.contains(form.as_str()) {
                    *out = out.replace(form.as_str(), with);
                }
            }
        }
    }
}

impl Redactor {
    pub fn new(reveal: bool) -> Self {
        Redactor {
            reveal,
            ..Redactor::default()
        }
    }

    pub fn reveals(&self) -> bool {
        self.reveal
    }

    /// Sends the run's `-v`/`-vv` details to `tap`.
    pub fn set_tap(&mut self, tap: crate::detail::Tap) {
        self.tap = tap;
    }

    /// 0, or 1 for `-v`, 2 for `-vv`.
    pub fn verbosity(&self) -> u8 {
        self.tap.level()
    }

    /// A detail for `-v` (`level` 1) or `-vv` (2): made only when asked for, scrubbed, and
    /// given to the tap.
    pub fn detail(&self, level: u8, text: impl FnOnce() -> String) {
        if self.verbosity() >= level {
            self.tap.give(self.scrub(&text()).as_str());
        }
    }

    /// Takes in what another redactor knows (a copy that worked beside this one, the runs that
    /// share an output): its secrets, sensitive values and public addresses.
    pub fn merge(&mut self, other: Redactor) {
        self.patterns = Default::default();
        for (mine, theirs) in [
            (&mut self.secrets, other.secrets),
            (&mut self.sensitive, other.sensitive),
            (&mut self.public, other.public),
            (&mut self.public_hosts, other.public_hosts),
        ] {
            for v in theirs {
                if !mine.contains(&v) {
                    mine.push(v);
                }
            }
        }
    }

    /// A credential header's value (`Authorization`, an API key): the whole value, and the
    /// token after its scheme (`Bearer abc` → `abc`), fingerprinted like any token.
    pub fn learn_credential(&mut self, value: &str) {
        self.sensitive(value);
        if let Some((_, token)) = value.trim().split_once(' ') {
            self.sensitive(token.trim());
        }
    }

    /// A password-class secret: scrubbed from every output, even under `--reveal`.
    pub fn add_secret(&mut self, secret: &Secret) {
        let v = secret.expose();
        if !v.is_empty() && !self.secrets.iter().any(|s| s == v) {
            self.patterns = Default::default();
            self.secrets.push(v.to_string());
        }
    }

    /// One of the chain's own addresses: the URL and its origin are shown as they are wherever a
    /// value equals them (a cookie that holds the callback URL, say).
    pub fn add_public(&mut self, url: &Url) {
        let mut url = url.clone();
        let _ = url.set_password(None);
        let _ = url.set_username("");
        // Only the address: a query or fragment may hold a secret.
        url.set_query(None);
        url.set_fragment(None);
        if let Some(host) = url.host_str().map(str::to_ascii_lowercase)
            && !self.public_hosts.contains(&host)
        {
            self.public_hosts.push(host);
        }
        for address in [url.as_str().to_string(), url.origin().ascii_serialization()] {
            let address = address.trim_end_matches('/').to_string();
            if !address.is_empty() && !self.public.contains(&address) {
                self.public.push(address);
            }
        }
    }

    /// Whether a value is one of the chain's own addresses, in any of its encodings.
    fn is_public(&self, raw: &str) -> bool {
        let decoded = percent_decode(raw);
        let value = decoded.trim_end_matches('/');
        if value.is_empty() {
            return false;
        }
        if self.public.iter().any(|p| p == value) {
            return true;
        }
        // The origin of one of the chain's hosts by another scheme or port: an address.
        Url::parse(value).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none()
                && u.path() == "/"
                && u.host_str()
                    .is_some_and(|h| self.public_hosts.iter().any(|p| p.eq_ignore_ascii_case(h)))
        })
    }

    /// Record a sensitive value and return its safe form.
    pub fn sensitive(&mut self, raw: &str) -> Sensitive {
        if self.is_public(raw) {
            return Sensitive {
                fingerprint: fingerprint(raw),
                len: raw.len(),
                shape: Shape::of(raw),
                jwt: None,
                value: Some(raw.to_string()),
            };
        }
        // Short values (`true`, `1`, `en`) are no secrets, and scrubbing them from free text
        // would mangle it.
        if raw.len() >= MIN_SCRUBBED && !self.sensitive.iter().any(|s| s == raw) {
            self.patterns = Default::default();
            self.sensitive.push(raw.to_string());
            let decoded = percent_decode(raw);
            if decoded != raw && decoded.len() >= MIN_SCRUBBED {
                self.sensitive.push(decoded);
            }
        }
        let shape = Shape::of(raw);
        Sensitive {
            fingerprint: fingerprint(raw),
            len: raw.len(),
            shape,
            jwt: (shape == Shape::Jwt)
                .then(|| JwtFacts::read(&percent_decode(raw)))
                .flatten(),
            value: self.reveal.then(|| raw.to_string()),
        }
    }

    /// A URL with secret query and fragment parameters and any user-info password replaced. The
    /// rest keeps its original encoding; the placeholders are shown as they are.
    pub fn url(&mut self, url: &Url) -> String {
        let mut base = url.clone();
        if base.password().is_some() {
            let _ = base.set_password(Some("redacted"));
        }
        base.set_query(None);
        base.set_fragment(None);
        let mut shown = base.to_string();
        if let Some(query) = url.query() {
            shown.push('?');
            shown.push_str(&self.params(query));
        }
        if let Some(fragment) = url.fragment() {
            shown.push('#');
            shown.push_str(&self.params(fragment));
        }
        shown
    }

    /// A `k=v&…` string (a query, a fragment or a form body) with secret values replaced.
    pub fn params(&mut self, raw: &str) -> String {
        let mut out = Vec::new();
        for piece in raw.split('&') {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            let key = percent_decode(k).to_ascii_lowercase();
            let value = percent_decode(v);
            if is_secret_field(&key) {
                self.add_secret(&Secret::new(value.clone()));
                // In a form body and most queries `+` is a space: the value may be either.
                if v.contains('+') {
                    self.add_secret(&Secret::new(percent_decode(&v.replace('+', "%20"))));
                }
                out.push(format!("{k}={}", placeholder(&value)));
            } else if SENSITIVE_PARAMS.contains(&key.as_str()) {
                let shown = self.sensitive(&value).shown().to_string();
                out.push(format!("{k}={shown}"));
            } else {
                out.push(piece.to_string());
            }
        }
        out.join("&")
    }

    /// The last pass over any output text, in this order: every known secret, in every encoding
    /// it may take, becomes its placeholder; then, unless revealed, every JWT becomes one
    /// fingerprint as a whole (before known values, so a value that happens to occur inside a
    /// token cannot cut it), every known sensitive value becomes its fingerprint, and last any
    /// other long opaque token becomes one.
    pub fn scrub(&self, text: &str) -> Scrubbed {
        let patterns = self
            .patterns
            .get_or_init(|| Patterns::of(&self.secrets, &self.sensitive).into());
        let mut out = text.to_string();
        Patterns::apply(&patterns.secrets, &mut out);
        if !self.reveal {
            out = fingerprint_tokens(&out, true);
            Patterns::apply(&patterns.sensitive, &mut out);
            out = fingerprint_tokens(&out, false);
        }
        Scrubbed(out)
    }

    /// The final scrub of a JSON document: only its strings are scrubbed, so it stays valid JSON
    /// whatever the secrets look like.
    pub fn scrub_json(&self, json: &serde_json::Value) -> serde_json::Value {
        /// Keys whose string values are enumerated words of the report itself.
        const VOCABULARY: &[&str] = &[
            "id",
            "kind",
            "step",
            "severity",
            "verdict",
            "action",
            "same_site",
            "body_shape",
            "shape",
            "method",
        ];
        match json {
            serde_json::Value::String(s) => serde_json::Value::String(self.scrub(s).0),
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(|v| self.scrub_json(v)).collect())
            }
            serde_json::Value::Object(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| match v {
                        // The report's own vocabulary (ids, kinds, steps), not data.
                        serde_json::Value::String(_) if VOCABULARY.contains(&k.as_str()) => {
                            (k.clone(), v.clone())
                        }
                        _ => (k.clone(), self.scrub_json(v)),
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A JSON document as output text: only its strings are scrubbed (a secret such as `1234`
    /// must not turn a number into invalid JSON), and its keys, which a report names itself.
    pub fn scrub_json_text(&self, json: &serde_json::Value) -> Scrubbed {
        Scrubbed(serde_json::to_string_pretty(&self.scrub_json(json)).unwrap_or_default())
    }

    /// One redactor that knows what all of these know (for an output that several runs share).
    pub fn merged(all: &[&Redactor]) -> Redactor {
        let mut r = Redactor::new(all.iter().all(|r| r.reveal) && !all.is_empty());
        for one in all {
            r.merge((*one).clone());
        }
        r
    }
}

/// The shortest run that counts as an opaque token on its own.
const MIN_OPAQUE: usize = 40;

/// Replaces token-shaped runs of `text` with their fingerprints: JWTs (three base64url parts
/// joined by dots, the first a JSON header) when `jwts`, else long opaque values (40 or more
/// characters of letters and digits mixed, with `-` `_` `.` and a trailing `=`/`%3D`).
fn fingerprint_tokens(text: &str, jwts: bool) -> String {
    let token_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(token_char) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        // A percent-escape's two hex digits (`%3D`, `%26`) are no part of the run after them.
        if rest[..start].ends_with('%')
            && tail.len() >= 2
            && tail.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit)
        {
            out.push_str(&tail[..2]);
            rest = &tail[2..];
            continue;
        }
        // A run of token characters, segments joined by single dots, with base64 padding.
        let mut end = 0;
        let bytes = tail.as_bytes();
        loop {
            let seg = tail[end..]
                .find(|c: char| !token_char(c))
                .unwrap_or(tail.len() - end);
            end += seg;
            if bytes.get(end) == Some(&b'.')
                && bytes.get(end + 1).is_some_and(|b| token_char(*b as char))
            {
                end += 1;
                continue;
            }
            break;
        }
        // Base64 padding belongs to the run only where it ends it: in `key=value` or
        // `key%3Dvalue` the sign joins two runs.
        let mut padded = end;
        loop {
            if tail[padded..].starts_with('=') {
                padded += 1;
            } else if tail[padded..].starts_with("%3D") {
                padded += 3;
            } else {
                break;
            }
        }
        if !tail[padded..].starts_with(token_char) {
            end = padded;
        }
        let run = &tail[..end];
        if is_token(run, jwts) {
            out.push_str(&fingerprint(run));
        } else {
            out.push_str(run);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn is_token(run: &str, jwts: bool) -> bool {
    if jwts {
        let parts: Vec<&str> = run.trim_end_matches('=').split('.').collect();
        return parts.len() == 3 && parts[0].starts_with("eyJ") && parts[1].len() >= 2;
    }
    let core = run.trim_end_matches('=').trim_end_matches("%3D");
    core.len() >= MIN_OPAQUE
        && core.chars().any(|c| c.is_ascii_digit())
        && core.chars().any(|c| c.is_ascii_alphabetic())
        && !is_dotted_name(core)
}

/// A host or file name (`auth-01.eu-west-1.example.com`, `report-2026.json`): dotted labels of
/// at most 63 characters, the last one letters only. A token's dotted tail is a base64 signature,
/// which is letters only with a chance too small to matter.
fn is_dotted_name(run: &str) -> bool {
    let labels: Vec<&str> = run.split('.').collect();
    let last = labels[labels.len() - 1];
    labels.len() > 1
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 63)
        && (2..=24).contains(&last.len())
        && last.chars().all(|c| c.is_ascii_alphabetic())
}

/// The forms a value takes on the wire and in reports.
pub(crate) fn encodings(raw: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let json = serde_json::to_string(raw).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let mut forms = vec![
        raw.to_string(),
        percent_encode(raw),
        url::form_urlencoded::byte_serialize(raw.as_bytes()).collect(),
        json,
        html_escape(raw),
        b64.trim_end_matches('=').to_string(),
        b64url,
    ];
    forms.sort();
    forms.dedup();
    forms
}

/// The text as HTML shows it in an attribute or an element.
pub fn html_escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn percent_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_short() {
        assert_eq!(fingerprint("abc"), fingerprint("abc"));
        assert!(fingerprint("abc").starts_with("‹sha256:"));
        assert!(fingerprint("abc").ends_with(" 3B›"));
    }

    #[test]
    fn a_value_learnt_after_a_scrub_is_scrubbed_too() {
        let mut r = Redactor::new(false);
        r.add_secret(&Secret::new("first-secret"));
        assert_eq!(r.scrub("first-secret").as_str(), "‹redacted 12B›");
        r.add_secret(&Secret::new("second-secret"));
        r.sensitive("a-sensitive-value");
        let mut other = Redactor::new(false);
        other.add_secret(&Secret::new("merged-secret"));
        r.merge(other);
        let out = r.scrub("second-secret a-sensitive-value merged-secret first-secret");
        for leaked in ["second", "sensitive", "merged", "first"] {
            assert!(!out.as_str().contains(leaked), "{out}");
        }
    }

    #[test]
    fn scrub_catches_every_encoding() {
        let mut r = Redactor::new(true);
        r.add_secret(&Secret::new("p@ss word+/="));
        for form in encodings("p@ss word+/=") {
            let out = r.scrub(&format!("x {form} y"));
            assert!(out.as_str().contains("‹redacted 12B›"), "{form} -> {out}");
        }
    }

    #[test]
    fn url_params_are_fingerprinted() {
        let mut r = Redactor::new(false);
        let url =
            Url::parse("http://a/cb?code=secretcode&state=xyz1&iss=http%3A%2F%2Fidp").unwrap();
        let shown = r.url(&url);
        assert!(!shown.contains("secretcode"), "{shown}");
        assert!(shown.contains("iss=http"), "{shown}");
        assert!(shown.contains(&fingerprint("secretcode")), "{shown}");
    }

    #[test]
    fn json_stays_json() {
        let mut r = Redactor::new(false);
        r.add_secret(&Secret::new("1234"));
        r.sensitive("true");
        r.sensitive("averylongcookievalue");
        let out = r.scrub_json_text(&serde_json::json!(
            {"passed": true, "n": 1234, "s": "pw=1234 averylongcookievalue"}
        ));
        let v: serde_json::Value = serde_json::from_str(out.as_str()).expect("valid JSON");
        assert_eq!(v["passed"], true);
        assert_eq!(v["n"], 1234);
        assert_eq!(
            v["s"],
            format!("pw=‹redacted 4B› {}", fingerprint("averylongcookievalue"))
        );
    }

    #[test]
    fn tokens_become_one_fingerprint_whole() {
        let jwt =
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm5vbmNlIjoiYWJjZGVmZ2gifQ.c2lnbmF0dXJlMTIz";
        let mut r = Redactor::new(false);
        // A known value that happens to occur inside the token must not cut it.
        r.sensitive("eyJzdWIiOiJhbGljZSIsIm5vbmNl");
        let opaque = "Zk3JqX9vN2pL8mR4tW6yB1cD5fG7hK0sA2eU4iO6";
        for (text, gone, kept) in [
            (format!("id_token_hint={jwt}&x=1"), jwt, "&x=1"),
            (
                format!("{{\"signOut\":\"http://idp/end?id_token_hint={jwt}\"}}"),
                jwt,
                "http://idp/end",
            ),
            (format!("token {opaque} seen"), opaque, "token "),
            (format!("signed {opaque}.{opaque}%3D end"), opaque, " end"),
            // URL-encoded inside another URL: the `%3D` is a separator, not padding.
            (
                format!("post_logout%3Fid_token_hint%3D{jwt}%26x%3D1"),
                jwt,
                "id_token_hint%3D",
            ),
            (format!("a%3D{opaque}"), opaque, "a%3D"),
        ] {
            let out = r.scrub(&text).into_string();
            assert!(!out.contains(gone), "{out}");
            assert!(out.contains(kept), "{out}");
            assert_eq!(out.matches("‹sha256:").count(), 1, "one fingerprint: {out}");
        }
        for plain in [
            "http://localhost:3000/api/auth/callback/fixture",
            "INVALID_ORIGIN state_mismatch default-authentication-flow",
            "‹sha256:1a2b3c4d 81B›",
            "2026-11-22T14:00:01.123Z 127.0.0.1:4000",
            "/interaction/Vq2H8kLm3Np9Rt5Wx7Yz1",
            "https://auth-prod-01.eu-west-1.internal.example.com/callback",
            "saved to run-2026-12-01T11-27-41-0123456789abcdef.json",
        ] {
            assert_eq!(r.scrub(plain).as_str(), plain);
        }
        let reveal = Redactor::new(true);
        assert_eq!(reveal.scrub(jwt).as_str(), jwt);
    }

    #[test]
    fn a_form_encoded_secret_with_spaces_is_known_in_every_form() {
        let mut r = Redactor::new(false);
        let fields = [("client_secret", "two words+and a plus")];
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        r.params(&body);
        for text in [
            "two words+and a plus",
            "two+words%2Band+a+plus",
            "two%20words%2Band%20a%20plus",
        ] {
            assert!(r.scrub(text).as_str().contains("‹redacted"), "{text}");
        }
    }

    #[test]
    fn html_escaped_secrets() {
        let mut r = Redactor::new(false);
        r.add_secret(&Secret::new("a<b>&\"c'"));
        let out = r.scrub("value=\"a&lt;b&gt;&amp;&quot;c&#39;\"");
        assert!(out.as_str().contains("‹redacted"), "{out}");
    }

    #[test]
    fn jwt_facts() {
        // {"alg":"RS256","kid":"k1"} . {"iat":100,"exp":200}
        let t = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpYXQiOjEwMCwiZXhwIjoyMDB9.c2ln";
        let f = JwtFacts::read(t).unwrap();
        assert_eq!(f.alg.as_deref(), Some("RS256"));
        assert_eq!((f.iat, f.exp, f.nbf), (Some(100), Some(200), None));
        let mut r = Redactor::new(false);
        assert_eq!(r.sensitive(t).jwt, Some(f));
    }

    #[test]
    fn shapes() {
        assert_eq!(Shape::of("abc.def%3D"), Shape::Opaque);
        assert_eq!(
            Shape::of(
                "0123456789abcdef0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"
            ),
            Shape::Signed
        );
        assert_eq!(Shape::of("eyJh.eyJi.c2ln"), Shape::Jwt);
        assert_eq!(Shape::of("eyJh..aXY.Y2lwaGVy.dGFn"), Shape::Jwe);
        assert_eq!(
            Shape::of("0f8b7c1e-3a2d-4b5c-9d6e-7f8091a2b3c4"),
            Shape::Uuid
        );
        assert_eq!(Shape::of("0f8b7c1e-3a2d-4b5c-9d6e"), Shape::Opaque);
        assert_eq!(Shape::of(""), Shape::Empty);
    }
}

#[cfg(test)]
mod public_addresses {
    use super::*;

    #[test]
    fn the_chains_own_addresses_stay_readable() {
        let mut r = Redactor::new(false);
        r.add_public(&Url::parse("http://user:pw@localhost:3000/").unwrap());
        r.add_public(&Url::parse("http://localhost:3000/auth").unwrap());
        // (a cookie's value, shown as)
        for (value, readable) in [
            ("http://localhost:3000/", true),
            ("http%3A%2F%2Flocalhost%3A3000", true),
            ("http://localhost:3000/auth", true),
            ("http://localhost:3000/elsewhere", false),
            ("http://evil.example:3000/", false),
            // The same host by another scheme or port: the origin an app behind a proxy names.
            ("https://localhost:3000", true),
            ("https://localhost:8443/", true),
            ("https://localhost:8443/reset/8f2a9c0e1b7d4f36", false),
            ("https://localhost:8443/?t=8f2a9c0e1b7d4f36", false),
            ("8f2a9c0e1b7d4f36a5e2c9b0d1f3e4a5", false),
        ] {
            let s = r.sensitive(value);
            assert_eq!(s.shown() == value, readable, "{value}");
        }
        // Not registered for the final scrub: the app's origin stays in free text.
        let text = "app http://localhost:3000/ · callback http://localhost:3000/auth";
        assert_eq!(r.scrub(text).as_str(), text);
        // The user-info of a URL is no address.
        assert!(!r.public.iter().any(|p| p.contains("pw")));
    }
}
