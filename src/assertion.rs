//! `authchain assertion`: the client-assertion contract of a headless login endpoint, as a test.
//! It signs a correct `private_key_jwt` (RFC 7523) with the client's key and sends it with the
//! right credentials, then one assertion per failure class (unparsable, signed by another key
//! under the same kid, iss/sub not the client, expired, not yet valid, issued in the future, for
//! another audience, an unknown kid) and the right assertion with a wrong password. Each answer
//! must be the contract's: 200 for the right one, else 401 `{"code", "error"}` with the class's
//! code and a short message (at most 80 characters) that echoes nothing sent or expected — no
//! audience, issuer, kid, time, part of the assertion, claim name or password.

use crate::drive::http::{HttpClient, Request};
use crate::redact::{Redactor, Secret};
use crate::scenario::Body;
use crate::trace::{CheckResult, ErrorStep, FindingId, Method, Severity, Step};
use aws_lc_rs::signature;
use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// The longest `error` message the contract allows.
pub const MAX_MESSAGE: usize = 80;
/// The longest life of an assertion this tool signs, in seconds.
pub const LIFETIME: i64 = 60;
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A private key that signs assertions.
pub enum Key {
    Rsa(signature::RsaKeyPair),
    Ec(signature::EcdsaKeyPair),
    Ed(signature::Ed25519KeyPair),
}

impl Key {
    /// The JWS algorithm this key signs with.
    pub fn alg(&self) -> &'static str {
        match self {
            Key::Rsa(_) => "RS256",
            Key::Ec(_) => "ES256",
            Key::Ed(_) => "EdDSA",
        }
    }

    /// Reads a private key: PEM (PKCS#8, or PKCS#1 for RSA) or a JWK with its private part.
    pub fn load(text: &str) -> Result<Key, String> {
        let text = text.trim();
        if text.starts_with('{') {
            let jwk: Value =
                serde_json::from_str(text).map_err(|e| format!("not a JWK (JSON): {e}"))?;
            return Key::from_jwk(&jwk);
        }
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("");
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| "neither a PEM key nor a JWK".to_string())?;
        if text.contains("BEGIN RSA PRIVATE KEY") {
            return signature::RsaKeyPair::from_der(&der)
                .map(Key::Rsa)
                .map_err(|e| format!("not an RSA key: {e}"));
        }
        if let Ok(k) = signature::RsaKeyPair::from_pkcs8(&der) {
            return Ok(Key::Rsa(k));
        }
        if let Ok(k) =
            signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
        {
            return Ok(Key::Ec(k));
        }
        signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map(Key::Ed)
            .map_err(|_| "a PEM key that is not RSA, P-256 or Ed25519 (PKCS#8)".to_string())
    }

    fn from_jwk(jwk: &Value) -> Result<Key, String> {
        let part = |k: &str| -> Result<Vec<u8>, String> {
            let v = jwk
                .get(k)
                .and_then(Value::as_str)
                .ok_or(format!("the JWK has no `{k}` (a private key is needed)"))?;
            B64.decode(v.trim_end_matches('='))
                .map_err(|_| format!("the JWK's `{k}` is not base64url"))
        };
        match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let parts = ["n", "e", "d", "p", "q", "dp", "dq", "qi"]
                    .iter()
                    .map(|k| part(k))
                    .collect::<Result<Vec<_>, _>>()?;
                signature::RsaKeyPair::from_der(&pkcs1(&parts))
                    .map(Key::Rsa)
                    .map_err(|e| format!("the RSA JWK is not a valid key: {e}"))
            }
            Some("EC") => {
                let mut point = vec![4u8];
                point.extend(part("x")?);
                point.extend(part("y")?);
                signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &part("d")?,
                    &point,
                )
                .map(Key::Ec)
                .map_err(|e| format!("the EC JWK is not a valid P-256 key: {e}"))
            }
            Some("OKP") => {
                signature::Ed25519KeyPair::from_seed_and_public_key(&part("d")?, &part("x")?)
                    .map(Key::Ed)
                    .map_err(|e| format!("the OKP JWK is not a valid Ed25519 key: {e}"))
            }
            other => Err(format!(
                "a JWK of kty {other:?}: RSA, EC (P-256) and OKP (Ed25519) sign assertions"
            )),
        }
    }

    /// A new key of the same type: what signs the assertion that must fail its signature.
    fn another(&self) -> Result<Key, String> {
        let fail = |_| "cannot make a key".to_string();
        Ok(match self {
            Key::Rsa(_) => Key::Rsa(
                signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(fail)?,
            ),
            Key::Ec(_) => Key::Ec(
                signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(fail)?,
            ),
            Key::Ed(_) => Key::Ed(signature::Ed25519KeyPair::generate().map_err(fail)?),
        })
    }

    /// A compact JWS of `header` and `claims`.
    fn sign(&self, header: &Value, claims: &Value) -> Result<String, String> {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sig = match self {
            Key::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .map_err(|_| "the RSA key cannot sign".to_string())?;
                sig
            }
            Key::Ec(k) => k
                .sign(&rng, input.as_bytes())
                .map_err(|_| "the EC key cannot sign".to_string())?
                .as_ref()
                .to_vec(),
            Key::Ed(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
        };
        Ok(format!("{input}.{}", B64.encode(sig)))
    }
}

/// A PKCS#1 RSAPrivateKey (RFC 8017 A.1.2) of the JWK's parts: version 0, n, e, d, p, q, dp,
/// dq, qi.
fn pkcs1(parts: &[Vec<u8>]) -> Vec<u8> {
    fn len(n: usize) -> Vec<u8> {
        match n {
            0..0x80 => vec![n as u8],
            0x80..0x100 => vec![0x81, n as u8],
            _ => vec![0x82, (n >> 8) as u8, n as u8],
        }
    }
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend(len(body.len()));
        out.extend_from_slice(body);
        out
    }
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        let mut body = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
            body.push(0);
        }
        body.extend(trimmed);
        tlv(0x02, &body)
    }
    let mut seq = integer(&[0]);
    for p in parts {
        seq.extend(integer(p));
    }
    tlv(0x30, &seq)
}

/// What `authchain assertion` needs.
pub struct Options {
    pub endpoint: Url,
    pub client_id: String,
    pub key: Key,
    pub kid: Option<String>,
    /// The audience of the correct assertion (default: the endpoint).
    pub audience: String,
    pub user: String,
    pub password: Secret,
    /// Send the body form-encoded rather than as JSON.
    pub form: bool,
}

/// One case sent, what the contract expects of its answer, and what came.
#[derive(Clone, Debug, Serialize)]
pub struct Case {
    /// The case's stable name (the JUnit test case is `client assertion: <name>`).
    pub case: &'static str,
    pub expected_status: u16,
    pub expected_code: Option<&'static str>,
    pub status: Option<u16>,
    pub code: Option<String>,
    /// The answer's `error` message, scrubbed.
    pub error: Option<String>,
    pub passed: bool,
    /// What is wrong with the answer, in words.
    pub problems: Vec<String>,
}

/// The report of `authchain assertion`.
#[derive(Clone, Debug, Serialize)]
pub struct AssertionReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub endpoint: String,
    pub alg: &'static str,
    pub cases: Vec<Case>,
    #[serde(flatten)]
    pub result: CheckResult,
}

/// The classes, in the order they are sent: (name, expected status, expected code).
pub const CASES: &[(&str, u16, Option<&str>)] = &[
    ("correct", 200, None),
    ("unparsable", 401, Some("invalid_client_assertion_parse")),
    (
        "bad-signature",
        401,
        Some("invalid_client_assertion_signature"),
    ),
    (
        "iss-sub-mismatch",
        401,
        Some("invalid_client_assertion_iss_sub"),
    ),
    ("expired", 401, Some("invalid_client_assertion_expired")),
    (
        "not-yet-valid",
        401,
        Some("invalid_client_assertion_not_before"),
    ),
    (
        "iat-in-future",
        401,
        Some("invalid_client_assertion_iat_future"),
    ),
    (
        "wrong-audience",
        401,
        Some("invalid_client_assertion_audience"),
    ),
    (
        "unknown-kid",
        401,
        Some("invalid_client_assertion_jwks_load"),
    ),
    ("wrong-password", 401, Some("password_or_email_mismatch")),
];

/// The claim names an `error` message must not name (as whole words).
const CLAIM_NAMES: &[&str] = &[
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "kid", "alg",
];

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// What an answer must not echo, each with what it is.
type Sent = Vec<(&'static str, String)>;

/// The assertion of `case`, with what it sends or expects that an answer must not echo.
fn assertion_for(case: &str, opts: &Options, now: i64) -> Result<(String, Sent), String> {
    // What the endpoint expects, which no answer may echo whatever was sent.
    let mut sent: Sent = vec![
        ("the audience", opts.audience.clone()),
        ("the endpoint's URL", opts.endpoint.to_string()),
        ("the issuer", opts.client_id.clone()),
    ];
    if case == "unparsable" {
        let junk = format!("not-a-jwt.{}", B64.encode(format!("authchain-{now}")));
        sent.push(("the assertion", junk.clone()));
        return Ok((junk, sent));
    }
    let kid = match case {
        "unknown-kid" => Some("authchain-unknown-kid".to_string()),
        _ => opts.kid.clone(),
    };
    let mut header = json!({"alg": opts.key.alg(), "typ": "JWT"});
    if let Some(k) = &kid {
        header["kid"] = json!(k);
    }
    let who = match case {
        "iss-sub-mismatch" => "authchain-not-this-client",
        _ => opts.client_id.as_str(),
    };
    let aud = match case {
        "wrong-audience" => "https://authchain.invalid/not-this-endpoint",
        _ => opts.audience.as_str(),
    };
    let (iat, nbf, exp) = match case {
        "expired" => (now - 3 * LIFETIME, now - 3 * LIFETIME, now - 2 * LIFETIME),
        "not-yet-valid" => (now, now + 2 * LIFETIME, now + 3 * LIFETIME),
        "iat-in-future" => (now + 2 * LIFETIME, now, now + LIFETIME),
        _ => (now, now, now + LIFETIME),
    };
    let jti = B64.encode(format!("{case}-{now}"));
    let claims =
        json!({"iss": who, "sub": who, "aud": aud, "iat": iat, "nbf": nbf, "exp": exp, "jti": jti});
    let token = match case {
        "bad-signature" => opts.key.another()?.sign(&header, &claims)?,
        _ => opts.key.sign(&header, &claims)?,
    };
    sent.extend(
        token
            .split('.')
            .map(|p| ("part of the assertion", p.to_string())),
    );
    sent.push(("the assertion", token.clone()));
    sent.push(("the audience", aud.to_string()));
    sent.push(("the issuer", who.to_string()));
    sent.extend(kid.map(|k| ("the kid", k)));
    sent.extend([iat, nbf, exp].iter().map(|t| ("a time", t.to_string())));
    sent.push(("the jti", jti));
    Ok((token, sent))
}

/// Sends every case to the endpoint and checks each answer against the contract.
pub async fn run(opts: &Options, client: &HttpClient, r: &mut Redactor) -> AssertionReport {
    let mut report = AssertionReport {
        schema_version: crate::trace::SCHEMA_VERSION,
        command: "assertion",
        endpoint: opts.endpoint.to_string(),
        alg: opts.key.alg(),
        cases: Vec::new(),
        result: CheckResult::default(),
    };
    for (name, status, code) in CASES {
        let now = (crate::drive::http::now_ms() / 1000) as i64;
        let (assertion, mut sent) = match assertion_for(name, opts, now) {
            Ok(a) => a,
            Err(e) => {
                report
                    .result
                    .stop(ErrorStep::Setup, format!("case {name}: {e}"), None);
                return report;
            }
        };
        r.sensitive(&assertion);
        let password = if *name == "wrong-password" {
            format!("authchain-wrong-{}", B64.encode(now.to_be_bytes()))
        } else {
            opts.password.expose().to_string()
        };
        sent.push(("the password", password.clone()));
        sent.push(("the user's email", opts.user.clone()));
        sent.push(("the password", opts.password.expose().to_string()));
        let fields = vec![
            ("client_id".to_string(), opts.client_id.clone()),
            (
                "client_assertion_type".to_string(),
                ASSERTION_TYPE.to_string(),
            ),
            ("client_assertion".to_string(), assertion),
            ("email".to_string(), opts.user.clone()),
            ("password".to_string(), password),
        ];
        let body = if opts.form {
            Body::Form(fields)
        } else {
            Body::Json(Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ))
        };
        let req = Request {
            method: Method::Post,
            url: opts.endpoint.clone(),
            body: Some(body),
            step: Step::Start,
            headers: vec![("Origin".into(), String::new())],
            cross_site: false,
            navigation: false,
        };
        let answer = match client.exchange(&req, None, r).await {
            Ok(a) => a,
            Err(f) => {
                report.result.stop(
                    ErrorStep::Chain(Step::Start),
                    format!("case {name}: {}", f.message),
                    f.kind,
                );
                return report;
            }
        };
        report.cases.push(judge(
            name,
            *status,
            *code,
            answer.status,
            &answer.text(),
            &sent,
            r,
        ));
    }
    for case in &report.cases {
        if case.passed {
            continue;
        }
        let accepted =
            case.expected_status != 200 && case.status.is_some_and(|s| (200..300).contains(&s));
        let leaked: Vec<&String> = case
            .problems
            .iter()
            .filter(|p| p.starts_with("echoes"))
            .collect();
        let (id, title, why, fix) = if accepted {
            (
                FindingId::AssertionAcceptedWhenInvalid,
                format!(
                    "The endpoint accepted the {} assertion (answered {})",
                    case.case,
                    case.status.unwrap_or(0)
                ),
                "An assertion that fails a check of RFC 7523 must be refused: accepting it lets anyone who can guess or replay one log in as the client.",
                "Verify the assertion's signature, iss/sub, exp, nbf, iat and aud before the credentials.",
            )
        } else if !leaked.is_empty() {
            (
                FindingId::AssertionLeaksDetail,
                format!(
                    "The answer to the {} assertion {}",
                    case.case,
                    leaked
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                "A client-assertion error must tell the client only which class of check failed: an answer that echoes the expected audience, the issuer, a kid, a time or the assertion hands an attacker what to forge next, and puts secrets into client logs.",
                "Answer {\"code\", \"error\"} with a fixed short message per code; log the details on the server only.",
            )
        } else {
            (
                FindingId::AssertionCodeMismatch,
                format!("The {} assertion: {}", case.case, case.problems.join("; ")),
                "Each failure class of the client assertion has its own code in the contract, so that a client can tell its mistakes apart without seeing the server's details.",
                "Classify each assertion failure into its code (invalid_client_assertion_*) and answer 401 {\"code\", \"error\"}.",
            )
        };
        report.result.find(id, Severity::Error, title, why, fix);
    }
    report.result.close();
    report
}

/// Checks one answer against the contract.
fn judge(
    case: &'static str,
    expected_status: u16,
    expected_code: Option<&'static str>,
    status: u16,
    text: &str,
    sent: &Sent,
    r: &Redactor,
) -> Case {
    let mut problems = Vec::new();
    let json: Option<Value> = serde_json::from_str(text).ok();
    let code = json
        .as_ref()
        .and_then(|v| v.get("code"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let error = json
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if status != expected_status {
        problems.push(format!("answered {status}, not {expected_status}"));
    }
    if let Some(want) = expected_code {
        match (&code, &error) {
            (Some(got), _) if got != want => problems.push(format!("code {got}, not {want}")),
            (None, _) => problems.push(format!("no JSON `code` (expected {want})")),
            _ => {}
        }
        match &error {
            None => problems.push("no JSON `error` message".into()),
            Some(e) if e.chars().count() > MAX_MESSAGE => problems.push(format!(
                "an error message of {} characters (at most {MAX_MESSAGE})",
                e.chars().count()
            )),
            _ => {}
        }
    }
    // Nothing sent or expected comes back. Scanned: the `error` message and any field beyond
    // the contract's (not the `code`, whose names are the contract's own); a time only in the
    // message (a server may well say when it answered). A value is matched inside the text when
    // it is long enough to be no accident, else as a token of its own.
    let scanned = match &json {
        Some(Value::Object(o)) => o
            .iter()
            .filter(|(k, _)| k.as_str() != "code")
            .map(|(_, v)| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => text.to_string(),
    };
    let found = |v: &str, within: &str| {
        if v.len() >= 8 {
            within.contains(v)
        } else {
            within
                .split(|c: char| !(c.is_ascii_alphanumeric() || "_-.@".contains(c)))
                .any(|t| t == v)
        }
    };
    let message = error.clone().unwrap_or_default();
    // Only a refusal is held to it: the right login's answer may well name its user.
    let mut echoed: Vec<&str> = sent
        .iter()
        .filter(|(what, v)| {
            expected_code.is_some()
                && !v.is_empty()
                && found(
                    v,
                    if *what == "a time" {
                        &message
                    } else {
                        &scanned
                    },
                )
        })
        .map(|(what, _)| *what)
        .collect();
    if let Some(e) = &error {
        let words = words_of(e);
        if CLAIM_NAMES.iter().any(|c| words.iter().any(|w| w == c)) {
            echoed.push("a claim name");
        }
    }
    echoed.sort_unstable();
    echoed.dedup();
    if !echoed.is_empty() {
        problems.push(format!("echoes {}", echoed.join(", ")));
    }
    Case {
        case,
        expected_status,
        expected_code,
        status: Some(status),
        code,
        error: error.map(|e| r.scrub(&e).as_str().to_string()),
        passed: problems.is_empty(),
        problems,
    }
}

/// The report as text: one line per case (what was expected, what came), the findings, the
/// result line.
pub fn render(report: &AssertionReport, th: &dyn crate::report::terminal::Theme) -> String {
    use crate::report::terminal::Style;
    use std::fmt::Write;
    let mut o = format!(
        "{} assertion {} ({})\n\n",
        th.paint("authchain:", Style::Bold),
        report.endpoint,
        report.alg
    );
    let expected = |c: &Case| format!("{} {}", c.expected_status, c.expected_code.unwrap_or(""));
    let got = |c: &Case| {
        format!(
            "{} {}",
            c.status.map_or("—".to_string(), |s| s.to_string()),
            c.code.as_deref().unwrap_or("")
        )
    };
    let _ = writeln!(o, "  {:<17} {:<41} got", "case", "expected");
    for c in &report.cases {
        let (word, style) = if c.passed {
            ("pass", Style::Good)
        } else {
            ("FAIL", Style::Bad)
        };
        let _ = writeln!(
            o,
            "  {:<17} {:<41} {:<41} {}",
            c.case,
            expected(c),
            got(c),
            th.paint(word, style)
        );
        for p in &c.problems {
            let _ = writeln!(o, "  {:<17} {}", "", th.paint(p, Style::Dim));
        }
    }
    crate::report::terminal::check_tail(&mut o, &report.result, th);
    o
}

/// JUnit XML: one test case per class, named `client assertion: <case>`, and one for a stop.
pub fn junit(report: &AssertionReport) -> String {
    use crate::report::junit::{Case, document, suite};
    let mut cases: Vec<Case> = report
        .cases
        .iter()
        .map(|c| Case {
            name: format!("client assertion: {}", c.case),
            seconds: 0.0,
            outcome: (!c.passed).then(|| {
                (
                    "failure",
                    c.problems.first().cloned().unwrap_or_default(),
                    c.problems.join("\n"),
                )
            }),
        })
        .collect();
    if let Some(e) = &report.result.error {
        cases.push(Case {
            name: "client assertion".into(),
            seconds: 0.0,
            outcome: Some(("error", e.message.clone(), String::new())),
        });
    }
    document(
        vec![suite(
            &format!("assertion {}", report.endpoint),
            "authchain.assertion",
            0.0,
            cases,
        )],
        0.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_by_the_contract() {
        let sent: Sent = vec![
            ("the audience", "https://api.test/login".into()),
            ("the kid", "kid-123".into()),
            ("a time", "1700000000".into()),
        ];
        let r = Redactor::new(false);
        let code = "invalid_client_assertion_expired";
        // (status, body, passes, a problem's words)
        let cases: &[(u16, &str, bool, &str)] = &[
            (
                401,
                r#"{"code":"invalid_client_assertion_expired","error":"The assertion has expired."}"#,
                true,
                "",
            ),
            // "issued" and "expired" are no claim names; "exp" is.
            (
                401,
                r#"{"code":"invalid_client_assertion_expired","error":"It was issued too long ago."}"#,
                true,
                "",
            ),
            (
                401,
                r#"{"code":"invalid_client_assertion_expired","error":"exp is in the past"}"#,
                false,
                "a claim name",
            ),
            (
                401,
                r#"{"code":"invalid_client_assertion_expired","error":"Expired at 1700000000."}"#,
                false,
                "echoes a time",
            ),
            (
                401,
                r#"{"code":"invalid_client_assertion_expired","error":"Not for https://api.test/login"}"#,
                false,
                "the audience",
            ),
            (
                401,
                r#"{"code":"invalid_client_assertion","error":"Invalid."}"#,
                false,
                "code invalid_client_assertion, not",
            ),
            (
                401,
                &format!(r#"{{"code":"{code}","error":"{}"}}"#, "x".repeat(81)),
                false,
                "81 characters",
            ),
            (
                400,
                r#"{"code":"invalid_client_assertion_expired","error":"Expired."}"#,
                false,
                "answered 400",
            ),
            (401, "Unauthorized", false, "no JSON `code`"),
        ];
        for (status, body, passes, words) in cases {
            let c = judge("expired", 401, Some(code), *status, body, &sent, &r);
            assert_eq!(c.passed, *passes, "{body}: {:?}", c.problems);
            if !passes {
                assert!(
                    c.problems.iter().any(|p| p.contains(words)),
                    "{body}: {:?}",
                    c.problems
                );
            }
        }
    }

    #[test]
    fn keys_are_read_or_refused_by_name() {
        for (text, words) in [
            ("{\"kty\":\"RSA\",\"n\":\"AQAB\"}", "no `e`"),
            ("{\"kty\":\"oct\",\"k\":\"AQAB\"}", "kty Some(\"oct\")"),
            ("{not json", "not a JWK"),
            (
                "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----",
                "not RSA, P-256 or Ed25519",
            ),
            ("just words", "neither a PEM key nor a JWK"),
        ] {
            let e = Key::load(text).err().expect("refused");
            assert!(e.contains(words), "{text}: {e}");
        }
    }

    #[test]
    fn pkcs1_encodes_lengths() {
        // Short and long forms of DER lengths, and a high bit that needs a zero byte.
        assert_eq!(
            pkcs1(&[vec![0x80]]),
            vec![0x30, 0x07, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0x80]
        );
        let long = pkcs1(&[vec![0x7f; 200]]);
        assert_eq!(&long[..3], &[0x30, 0x81, 0xce]);
    }
}
