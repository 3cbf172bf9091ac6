//! Reading JWTs leniently: the header and the claims of a compact JWS, the header of a JWE,
//! never a verification. What the redactor keeps of a token ([`crate::redact::JwtFacts`]) and
//! what `-v` shows of one read it here.

use base64::Engine;
use serde_json::{Map, Value};

/// A JWT's readable parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub header: Map<String, Value>,
    /// The claims of a signed token; `None` for an encrypted one (JWE), whose payload only its
    /// holder of the key can read.
    pub claims: Option<Map<String, Value>>,
}

/// The claims that are times (seconds since the Unix epoch).
pub const TIME_CLAIMS: &[&str] = &["exp", "nbf", "iat", "auth_time"];

fn segment(part: &str) -> Option<Map<String, Value>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Decodes a compact JWT: three segments (a JWS) or five (a JWE), its header a JSON object
/// with an `alg`. Anything else is no JWT.
pub fn decode(token: &str) -> Option<Decoded> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 && parts.len() != 5 {
        return None;
    }
    let header = segment(parts[0])?;
    header.get("alg")?.as_str()?;
    let claims = if parts.len() == 3 {
        Some(segment(parts[1]).unwrap_or_default())
    } else {
        None
    };
    Some(Decoded { header, claims })
}

impl Decoded {
    /// A claim that is a whole number of seconds.
    pub fn time(&self, name: &str) -> Option<i64> {
        self.claims.as_ref()?.get(name)?.as_i64()
    }

    pub fn header_text(&self, name: &str) -> Option<&str> {
        self.header.get(name)?.as_str()
    }

    /// One line of what is safe to show anywhere: the header's `alg`, `kid`, `typ` (and `enc`
    /// of a JWE), the claims' names, and the times against `now` (Unix seconds). No claim's
    /// value but the times.
    pub fn summary(&self, now: i64) -> String {
        let mut out: Vec<String> = ["alg", "enc", "kid", "typ"]
            .iter()
            .filter_map(|k| self.header_text(k).map(|v| format!("{k}={v}")))
            .collect();
        match &self.claims {
            None => out.push("encrypted (JWE): its claims are not readable".into()),
            Some(claims) => {
                let names: Vec<&str> = claims.keys().map(String::as_str).collect();
                out.push(format!("claims: {}", names.join(", ")));
                for name in TIME_CLAIMS {
                    if let Some(t) = self.time(name) {
                        out.push(format!("{name} {}", relative(t, now)));
                    }
                }
            }
        }
        out.join("; ")
    }
}

/// A time against `now`, in words: `in 5m 0s`, `3s ago`, `now`.
pub fn relative(t: i64, now: i64) -> String {
    let d = t.saturating_sub(now);
    let span = |s: i64| {
        let s = s.unsigned_abs();
        match s {
            0..60 => format!("{s}s"),
            60..3600 => format!("{}m {}s", s / 60, s % 60),
            3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
            _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
        }
    };
    match d {
        0 => "now".into(),
        d if d > 0 => format!("in {}", span(d)),
        d => format!("{} ago", span(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn reads_what_is_a_jwt_and_nothing_else() {
        let jws = format!(
            "{}.{}.c2ln",
            b(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#),
            b(r#"{"sub":"alice","exp":1100,"iat":1000,"email":"a@example.test"}"#)
        );
        // The claims come in the order of their names.
        let cases: &[(&str, Option<&str>)] = &[
            (
                &jws,
                Some(
                    "alg=RS256; kid=k1; typ=JWT; claims: email, exp, iat, sub; exp in 1m 40s; iat now",
                ),
            ),
            ("not.a.jwt", None),
            ("a.b", None),
            ("", None),
        ];
        for (token, want) in cases {
            let got = decode(token).map(|d| d.summary(1000));
            assert_eq!(got.as_deref(), *want, "{token}");
        }
        // A header without `alg` is no JWT; a JWE shows its header only.
        assert!(decode(&format!("{}.{}.x", b(r#"{"typ":"JWT"}"#), b("{}"))).is_none());
        let jwe = format!(
            "{}.k.iv.ct.tag",
            b(r#"{"alg":"dir","enc":"A256CBC-HS512"}"#)
        );
        let d = decode(&jwe).expect("a JWE");
        assert!(d.claims.is_none());
        assert!(d.summary(0).contains("enc=A256CBC-HS512"));
        assert!(d.summary(0).contains("encrypted (JWE)"));
    }

    #[test]
    fn times_in_words() {
        assert!(relative(i64::MIN, 1000).ends_with(" ago"));
        assert!(relative(i64::MAX, -1000).starts_with("in "));
        for (t, want) in [
            (1000, "now"),
            (1005, "in 5s"),
            (940, "1m 0s ago"),
            (1000 + 7260, "in 2h 1m"),
            (1000 - 90000, "1d 1h ago"),
        ] {
            assert_eq!(relative(t, 1000), want);
        }
    }
}
