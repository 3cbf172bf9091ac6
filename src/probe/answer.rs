//! An answer's digest: what two answers must share to count as alike, taken from the raw answer
//! before anything is redacted, and keeping nothing secret or volatile. Guards answer in their
//! own words and carry request ids, timestamps and echoes of the token they saw; the digest
//! keeps the structure (status, media type, a JSON body's skeleton, short enumerated values,
//! the `WWW-Authenticate` challenge, whether a cookie is cleared) and blanks the rest.

use crate::trace::AnswerDigest;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use serde_json::Value;

/// A run this long that also occurs in a credential sent is an echo of it.
const ECHO: usize = 6;
/// A credential shorter than this (`dark`, `en-US`) is no credential worth looking for.
const MIN_CREDENTIAL: usize = 12;
/// The longest string kept as an enumerated value.
const MAX_ENUM: usize = 80;
/// How much of a non-JSON body's text the digest keeps.
const MAX_TEXT: usize = 400;

/// The digest of one answer. `sent` holds every credential the compared requests carried
/// (cookie values, tokens, garbage), so that an echo of any of them is blanked alike whichever
/// request carried it.
pub fn digest(status: u16, headers: &HeaderMap, body: &[u8], sent: &[String]) -> AnswerDigest {
    let sent = credentials(sent);
    let header = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let content_type = header(CONTENT_TYPE).first().map(|t| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    let clears_cookie = header(SET_COOKIE)
        .iter()
        .any(|raw| cookie::Cookie::parse(raw.as_str()).is_ok_and(|c| crate::web::is_clearing(&c)));
    let www_authenticate = header(WWW_AUTHENTICATE).first().map(|raw| challenge(raw));
    let mut enums = Vec::new();
    let mut identity = None;
    let skeleton = if (300..400).contains(&status) {
        // Where a redirect sends the browser, without its query (a `next=` echoes the request).
        let to = header(LOCATION).first().map(|l| {
            let path = l.split(['?', '#']).next().unwrap_or_default();
            blank(path, &sent)
        });
        format!("redirect {}", to.unwrap_or_default())
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(json) => {
                identity = identity_of(&json);
                let mut path = Vec::new();
                walk(&json, &mut path, &sent, &mut enums);
                skeleton(&json)
            }
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let plain = if content_type.as_deref().is_some_and(|t| t.contains("html"))
                    || text.trim_start().starts_with('<')
                {
                    strip_tags(&text)
                } else {
                    text.into_owned()
                };
                let blanked = blank(&plain, &sent);
                blanked.chars().take(MAX_TEXT).collect()
            }
        }
    };
    AnswerDigest {
        status,
        content_type,
        skeleton,
        enums,
        www_authenticate,
        clears_cookie,
        identity,
    }
}

/// The keys of a person's name in a user object, lowercased without `_` or `-`.
const PERSON_NAMES: &[&str] = &[
    "name",
    "username",
    "preferredusername",
    "displayname",
    "fullname",
    "givenname",
    "familyname",
    "nickname",
    "login",
    "firstname",
    "lastname",
    "surname",
];

/// The keys of an email in a user object, lowercased without `_` or `-`: a name that holds an
/// email (Auth0's `name`, Keycloak's `preferred_username`) is no email claim.
const EMAILS: &[&str] = &["email", "mail", "upn", "emailaddress"];

/// What a session answer's `user` object says of who is signed in: whether it holds an email
/// (`user@host` under `email`, `mail`, `upn` or `email_address`) and a name (a
/// non-empty string under a key of a person's name: `name`, `username`, `preferred_username`,
/// `displayName`, `given_name`, `nickname`, `login`; not `tenantName` or `filename`).
fn identity_of(json: &Value) -> Option<crate::trace::Identity> {
    let user = json.get("user")?.as_object()?;
    let is_email = |s: &str| {
        let s = s.trim();
        !s.contains(char::is_whitespace)
            && s.split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
    };
    let normalized = |k: &str| -> String {
        k.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    Some(crate::trace::Identity {
        email: user.iter().any(|(k, v)| {
            EMAILS.contains(&normalized(k).as_str()) && v.as_str().is_some_and(is_email)
        }),
        name: user.iter().any(|(k, v)| {
            PERSON_NAMES.contains(&normalized(k).as_str())
                && v.as_str().is_some_and(|s| !s.trim().is_empty())
        }),
    })
}

/// Every form a credential takes on the wire: as sent, percent-decoded, and its dotted parts.
fn credentials(sent: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for s in sent {
        let decoded = crate::redact::percent_decode(s);
        let parts: Vec<String> = decoded.split('.').map(str::to_string).collect();
        out.push(s.clone());
        out.push(decoded);
        out.extend(parts);
    }
    out.retain(|c| c.len() >= MIN_CREDENTIAL);
    out.sort();
    out.dedup();
    out
}

/// A challenge as its scheme and error code (`bearer error=invalid_token`): the description
/// after them is the server's prose and may echo the token.
fn challenge(raw: &str) -> String {
    let raw = raw.trim();
    let (scheme, params) = raw.split_once(' ').unwrap_or((raw, ""));
    let error = params.split(',').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("error")).then(|| v.trim().trim_matches('"').to_string())
    });
    match error {
        Some(e) => format!("{} error={e}", scheme.to_ascii_lowercase()),
        None => scheme.to_ascii_lowercase(),
    }
}

/// A JSON value's skeleton: keys (sorted) and the kinds of their values, recursively; an
/// array shows the distinct skeletons of its items.
fn skeleton(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(items) => {
            let mut kinds: Vec<String> = items.iter().map(skeleton).collect();
            kinds.sort();
            kinds.dedup();
            format!("[{}]", kinds.join("|"))
        }
        Value::Object(m) => {
            let mut keys: Vec<(&String, &Value)> = m.iter().collect();
            keys.sort_by_key(|(k, _)| *k);
            let inner: Vec<String> = keys
                .iter()
                .map(|(k, v)| format!("{k}:{}", skeleton(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
    }
}

/// The enumerated values of a JSON body as `path=value`: booleans, and strings that read as
/// codes or messages once their volatile words are blanked. Numbers and values that are
/// volatile throughout (ids, timestamps, echoed tokens) are left out.
fn walk(v: &Value, path: &mut Vec<String>, sent: &[String], out: &mut Vec<String>) {
    let at = |path: &[String]| path.join(".");
    match v {
        Value::Bool(b) => out.push(format!("{}={b}", at(path))),
        Value::String(s) => {
            let blanked = blank(s, sent);
            let words = blanked
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .count();
            if words > 0 && blanked.chars().count() <= MAX_ENUM {
                out.push(format!("{}={blanked}", at(path)));
            }
        }
        Value::Array(items) => {
            for item in items {
                path.push("[]".into());
                walk(item, path, sent, out);
                path.pop();
            }
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                path.push(k.clone());
                walk(&m[k], path, sent, out);
                path.pop();
            }
        }
        Value::Null | Value::Number(_) => {}
    }
}

/// Text with its volatile words blanked to `*`: a word that holds a digit (numbers, dates,
/// ids), one of 16 characters or more, and one that shares a run of [`ECHO`] characters with a
/// credential sent. Whitespace is collapsed.
pub fn blank(text: &str, sent: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let volatile = |w: &str| {
        w.len() >= 16
            || w.chars().any(|c| c.is_ascii_digit())
            || (w.len() >= ECHO && echoes(w, sent))
    };
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            if volatile(word) {
                if !out.ends_with('*') {
                    out.push('*');
                }
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    let mut space = false;
    for c in text.chars() {
        if c.is_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '=' | '%') {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            if c.is_whitespace() {
                space = true;
            } else {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Whether some run of [`ECHO`] characters of `word` occurs in a credential.
fn echoes(word: &str, sent: &[String]) -> bool {
    let chars: Vec<char> = word.chars().collect();
    chars.windows(ECHO).any(|w| {
        let run: String = w.iter().collect();
        sent.iter().any(|s| s.contains(&run))
    })
}

/// The text of an HTML page: tags, scripts and styles dropped.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'<' {
            let skip_to = ["script", "style"].iter().find_map(|tag| {
                lower[i + 1..]
                    .starts_with(tag)
                    .then(|| lower[i..].find(&format!("</{tag}")).map(|e| i + e))
                    .flatten()
            });
            let from = skip_to.unwrap_or(i);
            match lower[from..].find('>') {
                Some(e) => {
                    i = from + e + 1;
                    out.push(' ');
                }
                None => break,
            }
        } else {
            let next = html[i..].find('<').map_or(html.len(), |e| i + e);
            out.push_str(&html[i..next]);
            i = next;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn json(body: &str, sent: &[&str]) -> AnswerDigest {
        let sent: Vec<String> = sent.iter().map(|s| s.to_string()).collect();
        digest(
            401,
            &headers(&[("content-type", "application/json; charset=utf-8")]),
            body.as_bytes(),
            &sent,
        )
    }

    const TOKEN: &str = "Zk3JqX9vN2pL8mR4tW6yB1cD5fG7hK0s.c2lnbmF0dXJlLXZhbHVl%3D";
    const GARBAGE: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyyy%3D";

    #[test]
    fn who_a_session_answer_names() {
        let cases: &[(Value, Option<(bool, bool)>)] = &[
            (
                serde_json::json!({"user": {"email": "a@b.co", "name": "A"}}),
                Some((true, true)),
            ),
            (
                serde_json::json!({"user": {"mail": "a@b.co", "preferred_username": "a"}}),
                Some((true, true)),
            ),
            (
                serde_json::json!({"user": {"id": "1", "username": "alice"}}),
                Some((false, true)),
            ),
            (
                serde_json::json!({"user": {"id": "1", "email": null, "name": ""}}),
                Some((false, false)),
            ),
            (
                serde_json::json!({"user": {"email": "not an@email"}}),
                Some((false, false)),
            ),
            (
                serde_json::json!({"user": {"tenantName": "acme", "display_name": "A"}}),
                Some((false, true)),
            ),
            (
                serde_json::json!({"user": {"filename": "a.png"}}),
                Some((false, false)),
            ),
            (
                serde_json::json!({"user": {"name": "a@b.co", "email_address": "admin@localhost"}}),
                Some((true, true)),
            ),
            (
                serde_json::json!({"user": {"preferred_username": "a@b.co"}}),
                Some((false, true)),
            ),
            (serde_json::json!({"user": null}), None),
            (serde_json::json!({"id": "1"}), None),
        ];
        for (json, want) in cases {
            let got = identity_of(json).map(|i| (i.email, i.name));
            assert_eq!(got, *want, "{json}");
        }
    }

    #[test]
    fn alike_and_unlike_answers() {
        let sent = [TOKEN, GARBAGE];
        for (a, b, alike) in [
            // NestJS: one body for every failure.
            (
                r#"{"statusCode":401,"message":"Unauthorized"}"#,
                r#"{"statusCode":401,"message":"Unauthorized"}"#,
                true,
            ),
            // An echo of the token seen, real or garbage.
            (
                r#"{"error":"invalid_session","message":"session Zk3JqXxN is not valid"}"#,
                r#"{"error":"invalid_session","message":"session xxxxxxxx is not valid"}"#,
                true,
            ),
            // Spring Boot's error body: a timestamp, a path.
            (
                r#"{"timestamp":"2026-12-01T10:00:00.123+00:00","status":401,"error":"Unauthorized","path":"/api/me"}"#,
                r#"{"timestamp":"2026-12-01T10:00:01.456+00:00","status":401,"error":"Unauthorized","path":"/api/me"}"#,
                true,
            ),
            // A request id.
            (
                r#"{"error":"unauthorized","requestId":"7f9c2ba4-e88f-11e8-9f32-f2801f1b9fd1"}"#,
                r#"{"error":"unauthorized","requestId":"0a1b2c3d-e88f-11e8-9f32-f2801f1b9fd1"}"#,
                true,
            ),
            // DRF: distinct words per cause.
            (
                r#"{"detail":"Invalid token."}"#,
                r#"{"detail":"Authentication credentials were not provided."}"#,
                false,
            ),
            // A field present in one, null in the other.
            (r#"{"user":null}"#, r#"{"user":{"id":"u1"}}"#, false),
            (r#"{"ok":false}"#, r#"{"ok":true}"#, false),
        ] {
            assert_eq!(json(a, &sent) == json(b, &sent), alike, "{a} / {b}");
        }
    }

    #[test]
    fn text_bodies_blank_their_echoes() {
        let sent = vec![TOKEN.to_string(), GARBAGE.to_string()];
        let text = |body: &str| {
            digest(
                401,
                &headers(&[("content-type", "text/plain")]),
                body.as_bytes(),
                &sent,
            )
        };
        assert_eq!(
            text("Unauthorized: session Zk3JqX9vN2 rejected"),
            text("Unauthorized: session xxxxxxxxxx rejected")
        );
        assert_ne!(
            text("Unauthorized: no session"),
            text("Unauthorized: session xxxxxxxxxx rejected")
        );
        let html = digest(
            200,
            &headers(&[("content-type", "text/html")]),
            b"<html><head><style>p{}</style><script>var t='Zk3JqX9vN2pL';</script></head><body><p>Sign in</p></body></html>",
            &sent,
        );
        assert_eq!(html.skeleton.trim(), "Sign in");
    }

    #[test]
    fn challenges_cookies_and_redirects() {
        let d = digest(
            401,
            &headers(&[(
                "www-authenticate",
                r#"Bearer error="invalid_token", error_description="Jwt expired at 2026-12-01""#,
            )]),
            b"",
            &[],
        );
        assert_eq!(
            d.www_authenticate.as_deref(),
            Some("bearer error=invalid_token")
        );
        let d = digest(
            401,
            &headers(&[("set-cookie", "sid=; Max-Age=0; Path=/")]),
            b"",
            &[],
        );
        assert!(d.clears_cookie);
        let to = |l: &str| digest(302, &headers(&[("location", l)]), b"", &[]).skeleton;
        assert_eq!(to("/login?next=%2Fa"), to("/login?next=%2Fb"));
        assert_ne!(to("/login"), to("/home"));
    }
}
