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

/// The claims that tie a token to one login or session: `jwt decode` shows them as fingerprints.
pub const SESSION_CLAIMS: &[&str] = &["nonce", "sid", "jti", "at_hash", "c_hash", "s_hash"];

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
        // A signed token's payload is a JSON object, or it is no JWT.
        Some(segment(parts[1])?)
    } else {
        None
    };
    Some(Decoded { header, claims })
}

impl Decoded {
    /// A claim that is a whole number of seconds.
    /// (NumericDate: seconds, which RFC 7519 lets carry a fraction.)
    pub fn time(&self, name: &str) -> Option<i64> {
        let v = self.claims.as_ref()?.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
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

/// A time claim as `jwt decode` and `jwt verify` show it: RFC 3339 and against the clock.
pub fn when(t: i64, now: i64) -> String {
    let at = crate::report::har::iso(u64::try_from(t).unwrap_or(0).saturating_mul(1000));
    format!("{at} ({})", relative(t, now))
}

/// The verdict of one check of `jwt verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Not asked for (no `--iss`), or not possible (no key to check a signature with).
    Skip,
}

/// One check of `jwt verify`: what, its verdict, and why in words.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Check {
    pub check: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

/// What verifies a token: a JWKS's keys (as JSON, each read on its own so that one key of a
/// type this tool does not know spoils nothing), or a shared secret for HS256/384/512.
pub enum Keys {
    Jwks(Vec<Value>),
    Secret(Vec<u8>),
}

/// What the token must say.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub iss: Option<String>,
    pub aud: Option<String>,
    pub nonce: Option<String>,
    /// The algorithms allowed; empty: those of the key that verifies it.
    pub algs: Vec<String>,
    /// The clock skew allowed, in seconds.
    pub leeway: i64,
    pub now: i64,
}

/// Whether a JWK of a JWKS can verify a token signed with `alg`: its `kty` of the algorithm's
/// family (never a symmetric `oct`, which anyone who reads the JWKS could sign with), not a key
/// for encryption, and its own `alg`, where it names one, the same.
pub fn key_fits(key: &Value, alg: &str) -> bool {
    let family = match alg {
        // The fully specified name (RFC 9864) of EdDSA over Ed25519.
        "Ed25519" => Some(jsonwebtoken::AlgorithmFamily::Ed),
        _ => alg
            .parse::<jsonwebtoken::Algorithm>()
            .ok()
            .map(|a| a.family()),
    };
    text(key, "kty") != Some("oct")
        && text(key, "use") != Some("enc")
        && family.is_some()
        && text(key, "kty").and_then(kty_family) == family
        && text(key, "alg").is_none_or(|x| x == alg)
}

/// The family a JWK's `kty` belongs to.
fn kty_family(kty: &str) -> Option<jsonwebtoken::AlgorithmFamily> {
    use jsonwebtoken::AlgorithmFamily as F;
    match kty {
        "RSA" => Some(F::Rsa),
        "EC" => Some(F::Ec),
        "OKP" => Some(F::Ed),
        "oct" => Some(F::Hmac),
        _ => None,
    }
}

fn text<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k)?.as_str()
}

/// A key as a line: `RSA RS256 kid=k1`.
pub fn key_line(key: &Value) -> String {
    format!(
        "{} {} {}",
        text(key, "kty").unwrap_or("(no kty)"),
        text(key, "alg").unwrap_or("(no alg)"),
        text(key, "kid").map_or("(no kid)".to_string(), |k| format!("kid={k}"))
    )
}

/// Checks `token` against `keys` and `expect`: the algorithm, the key (by `kid`), the
/// signature, `iss`, `aud`, `exp`, `nbf`, `iat` and `nonce`, each with its verdict. An error
/// for what is no signed JWT.
pub fn verify(token: &str, keys: &Keys, expect: &Expect) -> Result<Vec<Check>, String> {
    use std::str::FromStr;
    let token = token.trim();
    let d = decode(token).ok_or(
        "not a JWT: expected three base64url segments, the first a JSON header with an `alg`",
    )?;
    let Some(claims) = d.claims.clone() else {
        return Err(
            "an encrypted JWT (JWE): only its holder of the key can read and verify it".into(),
        );
    };
    let mut checks = Vec::new();
    let mut push = |check: &'static str, verdict: Verdict, detail: String| {
        checks.push(Check {
            check,
            verdict,
            detail,
        })
    };
    let alg_name = d.header_text("alg").unwrap_or_default().to_string();
    let alg = jsonwebtoken::Algorithm::from_str(&alg_name).ok();
    let kid = d.header_text("kid").map(str::to_string);

    // The keys that may verify it: by kid (else every key), signing keys of the token's
    // algorithm's family whose own `alg`, where they name one, is the token's. A symmetric key
    // published in a JWKS is never one: whoever reads it could sign.
    type Candidate = (jsonwebtoken::DecodingKey, String, Option<String>);
    let mut refused = String::new();
    let candidates: Vec<Candidate> = match (keys, alg) {
        (_, None) => Vec::new(),
        (Keys::Secret(secret), Some(a)) if a.family() == jsonwebtoken::AlgorithmFamily::Hmac => {
            vec![(
                jsonwebtoken::DecodingKey::from_secret(secret),
                "the shared secret".into(),
                None,
            )]
        }
        (Keys::Secret(_), Some(_)) => Vec::new(),
        (Keys::Jwks(all), Some(_)) => {
            let named: Vec<&Value> = all
                .iter()
                .filter(|k| kid.is_none() || text(k, "kid") == kid.as_deref())
                .collect();
            let fits = |k: &&&Value| key_fits(k, &alg_name);
            if let (Some(k), None) = (named.first(), named.iter().find(fits)) {
                refused = format!(
                    "the key {} cannot verify a {alg_name} token (its type, use or alg differ){}",
                    key_line(k),
                    if text(k, "kty") == Some("oct") {
                        ": a symmetric key in a JWKS is refused, as anyone who reads it could sign"
                    } else {
                        ""
                    }
                );
            }
            named
                .iter()
                .filter(fits)
                .filter_map(|k| {
                    serde_json::from_value::<jsonwebtoken::jwk::Jwk>((*k).clone())
                        .ok()
                        .and_then(|jwk| jsonwebtoken::DecodingKey::from_jwk(&jwk).ok())
                        .map(|dk| (dk, key_line(k), text(k, "alg").map(str::to_string)))
                })
                .collect()
        }
    };
    let kids: Vec<&str> = match keys {
        Keys::Jwks(all) => all.iter().filter_map(|k| text(k, "kid")).collect(),
        Keys::Secret(_) => Vec::new(),
    };
    // The signature, with each candidate until one verifies it.
    let verified = alg.and_then(|a| {
        candidates.iter().find(|(k, _, _)| {
            let mut v = jsonwebtoken::Validation::new(a);
            v.validate_exp = false;
            v.validate_nbf = false;
            v.validate_aud = false;
            v.required_spec_claims.clear();
            jsonwebtoken::decode::<Value>(token, k, &v).is_ok()
        })
    });
    let key = verified.or(candidates.first());
    match (key, keys, &kid) {
        (Some((_, line, _)), _, _) => push("key", Verdict::Pass, line.clone()),
        (None, _, _) if alg.is_none() => push(
            "key",
            Verdict::Skip,
            "no algorithm to pick a key for".into(),
        ),
        (None, Keys::Secret(_), _) => push(
            "key",
            Verdict::Fail,
            format!(
                "a shared secret verifies HS256/384/512 only; the token is {alg_name}: give --jwks"
            ),
        ),
        (None, Keys::Jwks(_), _) if !refused.is_empty() => {
            push("key", Verdict::Fail, refused.clone())
        }
        (None, Keys::Jwks(_), Some(kid)) => push(
            "key",
            Verdict::Fail,
            format!(
                "no usable key with kid `{kid}` in the JWKS (its kids: {}): a rotated key, or another IdP's token",
                kids.join(", ")
            ),
        ),
        (None, Keys::Jwks(_), None) => push(
            "key",
            Verdict::Fail,
            format!(
                "the token names no kid and the JWKS has no {alg_name} signing key (its kids: {})",
                kids.join(", ")
            ),
        ),
    }

    // The algorithm: never `none`; one the caller allows, else the key's own, else its family's.
    let allowed: Vec<String> = if !expect.algs.is_empty() {
        expect.algs.clone()
    } else {
        match (key, alg) {
            (Some((_, _, Some(key_alg))), _) => vec![key_alg.clone()],
            (Some(_), Some(a)) => a
                .family()
                .algorithms()
                .iter()
                .map(|a| format!("{a:?}"))
                .collect(),
            _ => Vec::new(),
        }
    };
    match alg {
        None => push(
            "alg",
            Verdict::Fail,
            format!("`{alg_name}` is no signing algorithm a verifier accepts"),
        ),
        Some(_) if allowed.is_empty() => push(
            "alg",
            Verdict::Skip,
            format!("{alg_name}: no key to say which algorithms are allowed"),
        ),
        Some(_) if allowed.contains(&alg_name) => {
            push("alg", Verdict::Pass, format!("{alg_name}, allowed"))
        }
        Some(_) => push(
            "alg",
            Verdict::Fail,
            format!(
                "{alg_name} is not among the allowed: {}",
                allowed.join(", ")
            ),
        ),
    }
    match (verified, key) {
        (Some((_, line, _)), _) => {
            push("signature", Verdict::Pass, format!("verified with {line}"))
        }
        (None, Some((_, line, _))) => push(
            "signature",
            Verdict::Fail,
            format!("does not verify with {line}"),
        ),
        _ => push(
            "signature",
            Verdict::Skip,
            "no key to verify it with".into(),
        ),
    }

    let claim = |k: &str| claims.get(k);
    match (&expect.iss, claim("iss").and_then(Value::as_str)) {
        (None, Some(iss)) => push("iss", Verdict::Skip, format!("{iss} (no --iss to compare)")),
        (None, None) => push("iss", Verdict::Skip, "absent".into()),
        (Some(want), Some(got)) if want == got => push("iss", Verdict::Pass, got.to_string()),
        (Some(want), Some(got)) => push(
            "iss",
            Verdict::Fail,
            format!(
                "{got}, expected {want}: {}, and issuers compare exactly",
                crate::diagnose::issuer_difference(want, got)
            ),
        ),
        (Some(want), got) => push(
            "iss",
            Verdict::Fail,
            format!("{}, expected {want}", got.unwrap_or("absent")),
        ),
    }
    let auds: Vec<&str> = match claim("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    match &expect.aud {
        None => push(
            "aud",
            Verdict::Skip,
            format!(
                "{} (no --aud to compare)",
                if auds.is_empty() {
                    "absent".into()
                } else {
                    auds.join(", ")
                }
            ),
        ),
        Some(want) if auds.contains(&want.as_str()) => push("aud", Verdict::Pass, auds.join(", ")),
        Some(want) => push(
            "aud",
            Verdict::Fail,
            format!(
                "{}, expected {want}",
                if auds.is_empty() {
                    "absent".into()
                } else {
                    auds.join(", ")
                }
            ),
        ),
    }
    let (now, leeway) = (expect.now, expect.leeway);
    let time = |k: &str| d.time(k);
    match time("exp") {
        None => push(
            "exp",
            Verdict::Fail,
            "absent: the token never expires".into(),
        ),
        Some(t) if now > t.saturating_add(leeway) => {
            push("exp", Verdict::Fail, format!("expired {}", when(t, now)))
        }
        Some(t) => push("exp", Verdict::Pass, when(t, now)),
    }
    match time("nbf") {
        None => push("nbf", Verdict::Skip, "absent".into()),
        Some(t) if now.saturating_add(leeway) < t => push(
            "nbf",
            Verdict::Fail,
            format!("not valid before {}: check the clocks", when(t, now)),
        ),
        Some(t) => push("nbf", Verdict::Pass, when(t, now)),
    }
    match time("iat") {
        None => push("iat", Verdict::Skip, "absent".into()),
        Some(t) if t > now.saturating_add(leeway) => push(
            "iat",
            Verdict::Fail,
            format!(
                "issued in the future, {}: the issuer's clock is ahead",
                when(t, now)
            ),
        ),
        Some(t) => push("iat", Verdict::Pass, when(t, now)),
    }
    match (&expect.nonce, claim("nonce").and_then(Value::as_str)) {
        (None, _) => push("nonce", Verdict::Skip, "no --nonce to compare".into()),
        (Some(want), Some(got)) if want == got => push("nonce", Verdict::Pass, "matches".into()),
        (Some(_), Some(_)) => push(
            "nonce",
            Verdict::Fail,
            "differs from the one expected: a token of another login".into(),
        ),
        (Some(_), None) => push("nonce", Verdict::Fail, "absent".into()),
    }
    // In reading order: the algorithm before the key it picked.
    if let Some(i) = checks.iter().position(|c| c.check == "alg") {
        let alg = checks.remove(i);
        checks.insert(0, alg);
    }
    Ok(checks)
}

/// `jwt decode` as text or JSON: the header, the claims and the times against `now`; never
/// the signature.
pub fn render_decode(d: &Decoded, now: i64, json: bool) -> String {
    let times: Vec<(&str, i64)> = TIME_CLAIMS
        .iter()
        .filter_map(|k| d.time(k).map(|t| (*k, t)))
        .collect();
    let expired = d.time("exp").map(|t| t < now);
    if json {
        let times: serde_json::Map<String, Value> = times
            .iter()
            .map(|(k, t)| {
                let at =
                    crate::report::har::iso(u64::try_from(*t).unwrap_or(0).saturating_mul(1000));
                (
                    k.to_string(),
                    serde_json::json!({"unix": t, "at": at, "relative": relative(*t, now)}),
                )
            })
            .collect();
        let v = serde_json::json!({
            "header": d.header,
            "claims": d.claims,
            "encrypted": d.claims.is_none(),
            "times": times,
            "expired": expired,
        });
        return format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    let pretty =
        |v: &serde_json::Map<String, Value>| serde_json::to_string_pretty(v).unwrap_or_default();
    let mut o = format!("header\n{}\n", indent(&pretty(&d.header)));
    match &d.claims {
        Some(c) => o.push_str(&format!("claims\n{}\n", indent(&pretty(c)))),
        None => o.push_str("claims\n  (encrypted: a JWE, readable only with its key)\n"),
    }
    if !times.is_empty() {
        o.push_str("times\n");
        for (k, t) in &times {
            o.push_str(&format!("  {k:<9} {}\n", when(*t, now)));
        }
    }
    match expired {
        Some(true) => {
            o.push_str("expired (not verified: `authchain jwt verify` checks the signature)\n")
        }
        _ => o.push_str("not verified: `authchain jwt verify` checks the signature\n"),
    }
    o
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `jwt verify`'s verdicts as text or JSON, and its exit code (0: every check passes or is
/// skipped, 1: one fails).
pub fn render_verify(checks: &[Check], json: bool) -> (String, i32) {
    let failed = checks.iter().any(|c| c.verdict == Verdict::Fail);
    let code = if failed {
        crate::exit::FAIL
    } else {
        crate::exit::PASS
    };
    if json {
        let v = serde_json::json!({"checks": checks, "valid": !failed, "exit_code": code});
        return (
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default()),
            code,
        );
    }
    let mut o = String::new();
    crate::report::terminal::verdict_lines(
        &mut o,
        checks
            .iter()
            .map(|c| (c.check, c.verdict, c.detail.as_str())),
        "",
        &crate::report::terminal::Plain,
    );
    (o, code)
}

/// The keys of a JWKS document, or of one JWK. `None` for what is neither.
pub fn keys_of(doc: &Value) -> Option<Vec<Value>> {
    match doc {
        Value::Object(o) if o.get("keys").is_some_and(Value::is_array) => {
            o.get("keys").and_then(Value::as_array).cloned()
        }
        Value::Object(o) if o.contains_key("kty") => Some(vec![doc.clone()]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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

    /// An HS256 token with these claims, signed with `secret`.
    fn hs256(claims: Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn each_check_has_its_verdict() {
        let now = 1_000_000;
        let good = serde_json::json!({"iss": "https://idp.test/app/", "aud": "client", "exp": now + 600, "iat": now - 5, "nonce": "n1"});
        let with = |k: &str, v: Value| {
            let mut c = good.clone();
            c[k] = v;
            c
        };
        let expect = Expect {
            iss: Some("https://idp.test/app/".into()),
            aud: Some("client".into()),
            nonce: Some("n1".into()),
            algs: Vec::new(),
            leeway: 60,
            now,
        };
        let secret = Keys::Secret(b"s3cret-s3cret-s3cret".to_vec());
        // (claims, signing secret, what is expected, the check that fails, words in its detail)
        type Case<'a> = (Value, &'a [u8], Expect, Option<&'a str>, &'a str);
        let cases: Vec<Case> = vec![
            (
                good.clone(),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                None,
                "",
            ),
            (
                good.clone(),
                b"another-secret-entirely",
                expect.clone(),
                Some("signature"),
                "does not verify",
            ),
            (
                with("exp", (now - 120).into()),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                Some("exp"),
                "expired",
            ),
            (
                with("exp", (now - 30).into()),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                None,
                "",
            ),
            (
                with("nbf", (now + 600).into()),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                Some("nbf"),
                "not valid before",
            ),
            (
                with("iat", (now + 600).into()),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                Some("iat"),
                "future",
            ),
            (
                with("iss", "https://idp.test/app".into()),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                Some("iss"),
                "trailing slash",
            ),
            (
                with("aud", serde_json::json!(["other", "more"])),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                Some("aud"),
                "expected client",
            ),
            (
                with("aud", serde_json::json!(["other", "client"])),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                None,
                "",
            ),
            (
                with("nonce", "n2".into()),
                b"s3cret-s3cret-s3cret",
                expect.clone(),
                Some("nonce"),
                "another login",
            ),
            (
                good.clone(),
                b"s3cret-s3cret-s3cret",
                Expect {
                    algs: vec!["RS256".into()],
                    ..expect.clone()
                },
                Some("alg"),
                "not among the allowed",
            ),
        ];
        for (i, (claims, signer, expect, failing, words)) in cases.into_iter().enumerate() {
            let token = hs256(claims, signer);
            let checks = verify(&token, &secret, &expect).unwrap();
            let failed: Vec<&Check> = checks
                .iter()
                .filter(|c| c.verdict == Verdict::Fail)
                .collect();
            match failing {
                None => assert!(failed.is_empty(), "case {i}: {failed:?}"),
                Some(name) => {
                    assert_eq!(failed.len(), 1, "case {i}: {failed:?}");
                    assert_eq!(failed[0].check, name, "case {i}");
                    assert!(
                        failed[0].detail.contains(words),
                        "case {i}: {}",
                        failed[0].detail
                    );
                }
            }
            assert_eq!(checks[0].check, "alg", "case {i}: the algorithm first");
            // No check shows the nonce or the token.
            for c in &checks {
                assert!(
                    !c.detail.contains("n1") && !c.detail.contains(&token),
                    "case {i}: {c:?}"
                );
            }
        }
        // `none` is never accepted; an RS256 token is not checked with a shared secret.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(good.to_string())
        );
        let checks = verify(&none, &secret, &expect).unwrap();
        assert!(
            checks
                .iter()
                .any(|c| c.check == "alg" && c.verdict == Verdict::Fail)
        );
        assert!(
            checks
                .iter()
                .any(|c| c.check == "signature" && c.verdict == Verdict::Skip)
        );
        let rs = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k"}"#),
            URL_SAFE_NO_PAD.encode(good.to_string())
        );
        let checks = verify(&rs, &secret, &expect).unwrap();
        assert!(checks.iter().any(|c| c.check == "key"
            && c.verdict == Verdict::Fail
            && c.detail.contains("give --jwks")));
        // A JWKS without the token's kid names the kids it has.
        let jwks = Keys::Jwks(vec![
            serde_json::json!({"kty": "RSA", "kid": "other", "n": "AQAB", "e": "AQAB"}),
        ]);
        let checks = verify(&rs, &jwks, &expect).unwrap();
        let key = checks.iter().find(|c| c.check == "key").unwrap();
        assert!(
            key.verdict == Verdict::Fail
                && key.detail.contains("kid `k`")
                && key.detail.contains("other"),
            "{key:?}"
        );
        assert!(verify("a.b", &secret, &expect).is_err());
        // Alg confusion: an HS256 token naming an RSA key is not checked with it, and a
        // symmetric key published in a JWKS is never used.
        let hs = hs256(good.clone(), b"AQAB");
        let with_kid = |kid: &str| {
            let mut parts: Vec<String> = hs.split('.').map(str::to_string).collect();
            parts[0] = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#));
            parts.join(".")
        };
        let jwks = Keys::Jwks(vec![
            serde_json::json!({"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"}),
            serde_json::json!({"kty": "oct", "kid": "oct", "k": "QVFBQg"}),
            serde_json::json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}),
        ]);
        for (kid, words) in [
            ("rsa", "cannot verify a HS256 token"),
            ("oct", "symmetric key in a JWKS is refused"),
        ] {
            let checks = verify(&with_kid(kid), &jwks, &expect).unwrap();
            let key = checks.iter().find(|c| c.check == "key").unwrap();
            assert!(
                key.verdict == Verdict::Fail && key.detail.contains(words),
                "{kid}: {key:?}"
            );
            assert!(
                checks
                    .iter()
                    .any(|c| c.check == "signature" && c.verdict == Verdict::Skip)
            );
        }
        // A payload that is no JSON object is no JWT.
        let broken = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode("[1,2]")
        );
        assert!(verify(&broken, &secret, &expect).is_err());
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
