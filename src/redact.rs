//! The only way a recorded value reaches an output. Cookie values, tokens, codes and state become
//! fingerprints (`‹sha256:1a2b3c4d 81B›`); passwords and client secrets become `‹redacted 8B›`,
//! never hashed and never revealed; every output text passes through [`Redactor::scrub`] last.

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
    /// `value.signature`, as BetterAuth signs its cookies (possibly percent-encoded).
    Signed,
    /// three base64url parts separated by dots.
    Jwt,
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
        } else if parts.len() == 2 && !parts[0].is_empty() && parts[1].len() >= 16 {
            Shape::Signed
        } else {
            Shape::Opaque
        }
    }
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
        let mut parts = token.split('.');
        let decode = |p: Option<&str>| -> Option<serde_json::Value> {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p?.trim_end_matches('='))
                .ok()?;
            serde_json::from_slice(&bytes).ok()
        };
        let header = decode(parts.next())?;
        let claims = decode(parts.next()).unwrap_or_default();
        let text =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let time = |k: &str| claims.get(k).and_then(|x| x.as_i64());
        Some(JwtFacts {
            alg: text(&header, "alg"),
            kid: text(&header, "kid"),
            iat: time("iat"),
            nbf: time("nbf"),
            exp: time("exp"),
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

/// Query parameters whose values are secrets of the password class.
const SECRET_PARAMS: &[&str] = &["password", "client_secret", "passwd", "pass"];
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
#[derive(Default, Debug)]
pub struct Redactor {
    reveal: bool,
    secrets: Vec<String>,
    sensitive: Vec<String>,
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

    /// A password-class secret: scrubbed from every output, even under `--reveal`.
    pub fn add_secret(&mut self, secret: &Secret) {
        let v = secret.expose();
        if !v.is_empty() && !self.secrets.iter().any(|s| s == v) {
            self.secrets.push(v.to_string());
        }
    }

    /// Record a sensitive value and return its safe form.
    pub fn sensitive(&mut self, raw: &str) -> Sensitive {
        // Short values (`true`, `1`, `en`) are no secrets, and scrubbing them from free text
        // would mangle it.
        if raw.len() >= MIN_SCRUBBED && !self.sensitive.iter().any(|s| s == raw) {
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
            if SECRET_PARAMS.contains(&key.as_str()) {
                self.add_secret(&Secret::new(value.clone()));
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

    /// The last pass over any output text: every known secret, in every encoding it may take, is
    /// replaced by its placeholder; sensitive values by their fingerprint unless revealed.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        let mut replace = |raw: &str, with: &str| {
            for form in encodings(raw) {
                if form.len() >= 4 && out.contains(&form) {
                    out = out.replace(&form, with);
                }
            }
        };
        // Longest first, so a value that contains another is replaced whole.
        let mut secrets: Vec<&String> = self.secrets.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for s in secrets {
            replace(s, &placeholder(s));
        }
        if !self.reveal {
            let mut values: Vec<&String> = self.sensitive.iter().collect();
            values.sort_by_key(|s| std::cmp::Reverse(s.len()));
            for v in values {
                replace(v, &fingerprint(v));
            }
        }
        out
    }
}

impl Redactor {
    /// The final scrub of a JSON document: only its strings are scrubbed, so it stays valid JSON
    /// whatever the secrets look like.
    pub fn scrub_json(&self, json: &str) -> String {
        fn walk(v: &mut serde_json::Value, r: &Redactor) {
            match v {
                serde_json::Value::String(s) => *s = r.scrub(s),
                serde_json::Value::Array(a) => a.iter_mut().for_each(|v| walk(v, r)),
                serde_json::Value::Object(m) => m.values_mut().for_each(|v| walk(v, r)),
                _ => {}
            }
        }
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(mut v) => {
                walk(&mut v, self);
                serde_json::to_string_pretty(&v).unwrap_or_default()
            }
            Err(_) => self.scrub(json),
        }
    }
}

/// The forms a value takes on the wire and in reports.
fn encodings(raw: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let json = serde_json::to_string(raw).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let mut forms = vec![
        raw.to_string(),
        percent_encode(raw),
        url::form_urlencoded::byte_serialize(raw.as_bytes()).collect(),
        json,
        b64.trim_end_matches('=').to_string(),
        b64url,
    ];
    forms.sort();
    forms.dedup();
    forms
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
    fn scrub_catches_every_encoding() {
        let mut r = Redactor::new(true);
        r.add_secret(&Secret::new("p@ss word+/="));
        for form in encodings("p@ss word+/=") {
            let out = r.scrub(&format!("x {form} y"));
            assert!(out.contains("‹redacted 12B›"), "{form} -> {out}");
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
        let out =
            r.scrub_json(r#"{"passed": true, "n": 1234, "s": "pw=1234 averylongcookievalue"}"#);
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(v["passed"], true);
        assert_eq!(v["n"], 1234);
        assert_eq!(
            v["s"],
            format!("pw=‹redacted 4B› {}", fingerprint("averylongcookievalue"))
        );
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
        assert_eq!(Shape::of(""), Shape::Empty);
    }
}
