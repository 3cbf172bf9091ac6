//! `-v` and `-vv`: the details of a run, for a person reading stderr. `-v` shows each request's
//! and answer's headers (values fingerprinted, but for headers that never carry a credential),
//! the JWTs they carry decoded (header, claim names, times) and the IdP's metadata in excerpt;
//! `-vv` adds timings and the browser's waits. The library prints nothing: details go to the
//! [`Tap`] the binary gives, through the run's redactor ([`crate::redact::Redactor::detail`]),
//! and never into stdout or a report.

use crate::redact::{Redactor, fingerprint};
use std::sync::Arc;
use url::Url;

/// What takes a detail's text: the binary's stderr.
type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// Where details go, and from which level on (0: nowhere).
#[derive(Clone, Default)]
pub struct Tap {
    level: u8,
    sink: Option<Sink>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tap(level {})", self.level)
    }
}

impl Tap {
    /// Details up to `level` (1: `-v`, 2: `-vv`) go to `sink`, one scrubbed text at a time.
    pub fn new(level: u8, sink: impl Fn(&str) + Send + Sync + 'static) -> Tap {
        Tap {
            level,
            sink: Some(Arc::new(sink)),
        }
    }

    pub fn level(&self) -> u8 {
        if self.sink.is_some() { self.level } else { 0 }
    }

    /// Gives an already scrubbed text to the sink.
    pub(crate) fn give(&self, text: &str) {
        if let Some(sink) = &self.sink {
            sink(text);
        }
    }
}

/// Headers whose values carry no credential: shown as they are. Every other value is
/// fingerprinted (cookies pair by pair, with their attributes), and URLs are shown as the
/// report shows them.
const PLAIN: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "access-control-max-age",
    "age",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-security-policy",
    "content-type",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "date",
    "expires",
    "host",
    "keep-alive",
    "last-modified",
    "origin",
    "permissions-policy",
    "pragma",
    "referrer-policy",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-user",
    "server",
    "strict-transport-security",
    "transfer-encoding",
    "upgrade-insecure-requests",
    "user-agent",
    "vary",
    "via",
    "x-content-type-options",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-frame-options",
    "x-powered-by",
    "x-xss-protection",
];

/// The attributes of a `Set-Cookie` (RFC 6265bis, and Chromium's `Partitioned` and
/// `Priority`).
const COOKIE_ATTRIBUTES: &[&str] = &[
    "expires",
    "max-age",
    "domain",
    "path",
    "secure",
    "httponly",
    "samesite",
    "partitioned",
    "priority",
];

/// The `Authorization` schemes (the IANA registry's, and `DPoP`): shown before the
/// fingerprint of what follows.
const AUTH_SCHEMES: &[&str] = &[
    "basic",
    "bearer",
    "digest",
    "dpop",
    "hoba",
    "mutual",
    "negotiate",
    "ntlm",
    "privatetoken",
    "scram-sha-1",
    "scram-sha-256",
    "token",
    "vapid",
    "aws4-hmac-sha256",
];

/// Headers whose value is a URL.
const URLS: &[&str] = &["location", "referer", "content-location"];

/// A header as `-v` shows it: `name: value`, the value safe to show.
pub fn header_line(r: &mut Redactor, name: &str, value: &str, base: &Url) -> String {
    let lower = name.to_ascii_lowercase();
    let shown = if PLAIN.contains(&lower.as_str()) || lower.starts_with("sec-ch-") {
        value.to_string()
    } else if URLS.contains(&lower.as_str()) {
        match base.join(value) {
            Ok(u) => r.url(&u),
            Err(_) => fingerprint(value),
        }
    } else if lower == "cookie" {
        value
            .split(';')
            .map(|pair| match pair.trim().split_once('=') {
                Some((n, v)) => format!("{n}={}", fingerprint(v)),
                None => fingerprint(pair.trim()),
            })
            .collect::<Vec<_>>()
            .join("; ")
    } else if lower == "set-cookie" {
        let mut parts = value.split(';');
        let first = parts.next().unwrap_or_default();
        let first = match first.split_once('=') {
            Some((n, v)) => format!("{}={}", n.trim(), fingerprint(v.trim())),
            None => fingerprint(first.trim()),
        };
        // The attributes the cookie rules know, as they are; anything else may carry a value
        // put there by mistake (`s=x; token=…`).
        let attribute = |a: &str| {
            let (n, v) = a.split_once('=').unwrap_or((a, ""));
            if COOKIE_ATTRIBUTES.contains(&n.trim().to_ascii_lowercase().as_str()) {
                a.to_string()
            } else if v.is_empty() {
                fingerprint(n)
            } else {
                format!("{}={}", n.trim(), fingerprint(v))
            }
        };
        std::iter::once(first)
            .chain(parts.map(|a| attribute(a.trim())))
            .collect::<Vec<_>>()
            .join("; ")
    } else if let Some((scheme, rest)) = value.split_once(' ')
        && lower.ends_with("authorization")
        && AUTH_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
    {
        // The scheme says how the guard was asked (`Bearer`, `Basic`); the rest is a secret.
        format!("{scheme} {}", fingerprint(rest))
    } else {
        fingerprint(value)
    };
    format!("{name}: {shown}")
}

/// The JWTs in a header's value (a cookie's, a bearer token, a whole value), each as a
/// one-line summary with where it was found.
pub fn jwts_in(name: &str, value: &str, now: i64) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let candidates: Vec<(String, &str)> = match lower.as_str() {
        "cookie" => value
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .map(|(n, v)| (format!("cookie {n}"), v))
            .collect(),
        "set-cookie" => value
            .split(';')
            .next()
            .and_then(|p| p.split_once('='))
            .map(|(n, v)| vec![(format!("set-cookie {}", n.trim()), v.trim())])
            .unwrap_or_default(),
        _ => vec![(name.to_string(), value.rsplit(' ').next().unwrap_or(value))],
    };
    candidates
        .into_iter()
        .filter_map(|(at, v)| {
            let v = crate::redact::percent_decode(v);
            crate::jwt::decode(&v).map(|d| format!("JWT in {at}: {}", d.summary(now)))
        })
        .collect()
}

/// The JWTs in a URL's query and fragment (an `id_token` a front channel carries).
pub fn jwts_in_url(url: &Url, now: i64) -> Vec<String> {
    let fragment = url.fragment().unwrap_or_default();
    url.query_pairs()
        .chain(url::form_urlencoded::parse(fragment.as_bytes()))
        .filter_map(|(k, v)| {
            crate::jwt::decode(&v).map(|d| format!("JWT in parameter {k}: {}", d.summary(now)))
        })
        .collect()
}

/// One exchange as `-v` shows it: the request line, its headers (`>`), the status, the
/// answer's headers (`<`), the JWTs they carry, and at `-vv` its time.
pub struct Exchange<'a> {
    pub label: &'a str,
    pub method: &'a str,
    pub url: &'a Url,
    pub sent: &'a [(String, String)],
    pub status: u16,
    pub received: &'a [(String, String)],
    pub ms: f64,
}

impl Exchange<'_> {
    pub fn emit(&self, run: &Redactor) {
        if run.verbosity() == 0 {
            return;
        }
        // Shown through a copy: what the details read (a `Referer`'s parameters) must not
        // change what the run's own outputs scrub.
        let r = &mut run.clone();
        let now = (crate::drive::http::now_ms() / 1000) as i64;
        let mut lines = vec![format!(
            "{} {} {} → {}{}",
            self.label,
            self.method,
            r.url(self.url),
            self.status,
            if r.verbosity() >= 2 {
                format!(" in {:.0} ms", self.ms)
            } else {
                String::new()
            }
        )];
        let mut jwts = jwts_in_url(self.url, now);
        for (arrow, headers) in [(">", self.sent), ("<", self.received)] {
            for (name, value) in headers {
                lines.push(format!(
                    "  {arrow} {}",
                    header_line(r, name, value, self.url)
                ));
                jwts.extend(jwts_in(name, value, now));
            }
        }
        lines.extend(jwts.into_iter().map(|j| format!("  {j}")));
        let text = lines.join("\n");
        r.detail(1, || text);
    }
}

/// What `-v` adds after a run (or a report read again): the IdP's metadata in excerpt, the
/// JWTs the cookies carried (from the facts the report keeps); `-vv` adds each hop's time.
pub fn of_report(report: &crate::report::Report, r: &mut Redactor) {
    if r.verbosity() == 0 {
        return;
    }
    let trace = &report.trace;
    if let Some(idp) = &trace.idp {
        let keys: Vec<String> = idp
            .keys
            .iter()
            .map(|k| {
                format!(
                    "{} {} {}",
                    k.kty,
                    k.alg.as_deref().unwrap_or("(no alg)"),
                    k.kid
                        .as_deref()
                        .map_or("(no kid)".to_string(), |k| format!("kid={k}"))
                )
            })
            .collect();
        let text = format!(
            "IdP metadata {}
  issuer: {}
  jwks_uri: {}
  id_token_signing_alg_values_supported: {}
  keys: {}{}",
            idp.discovery_url,
            idp.issuer.as_deref().unwrap_or("(none)"),
            idp.jwks_uri.as_deref().unwrap_or("(none)"),
            idp.id_token_algs.join(", "),
            if keys.is_empty() {
                "(none)".to_string()
            } else {
                keys.join("; ")
            },
            idp.error
                .as_deref()
                .map_or(String::new(), |e| format!("\n  error: {e}")),
        );
        r.detail(1, || text);
    }
    let now = (crate::drive::http::now_ms() / 1000) as i64;
    for hop in &trace.hops {
        for c in &hop.set_cookies {
            if let Some(j) = &c.value.jwt {
                let times: Vec<String> = [("iat", j.iat), ("nbf", j.nbf), ("exp", j.exp)]
                    .iter()
                    .filter_map(|(k, t)| t.map(|t| format!("{k} {}", crate::jwt::relative(t, now))))
                    .collect();
                let text = format!(
                    "hop {}: cookie {} is a JWT: alg={} kid={}; {}",
                    hop.n.0,
                    c.name,
                    j.alg.as_deref().unwrap_or("(none)"),
                    j.kid.as_deref().unwrap_or("(none)"),
                    times.join("; ")
                );
                r.detail(1, || text);
            }
        }
    }
    if r.verbosity() >= 2 {
        let mut lines = vec![format!("timings ({:.0} ms in all)", trace.duration_ms)];
        for hop in &trace.hops {
            lines.push(format!(
                "  hop {:>2} {:>6.0} ms  {} {}",
                hop.n.0,
                hop.duration_ms,
                hop.method.as_str(),
                hop.url
            ));
        }
        for p in &trace.probes {
            lines.push(format!("  probe {} {:.0} ms", p.name, p.duration_ms));
        }
        let text = lines.join("\n");
        r.detail(2, || text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_shown_only_where_they_carry_no_credential() {
        let base = Url::parse("http://app.test/a").unwrap();
        let fp = fingerprint;
        let cases: &[(&str, &str, String)] = &[
            (
                "Content-Type",
                "text/html",
                "Content-Type: text/html".into(),
            ),
            (
                "sec-ch-ua",
                "\"Chromium\"",
                "sec-ch-ua: \"Chromium\"".into(),
            ),
            (
                "Location",
                "/b?code=abc123",
                format!("Location: http://app.test/b?code={}", fp("abc123")),
            ),
            (
                "cookie",
                "a=1; b=2",
                format!("cookie: a={}; b={}", fp("1"), fp("2")),
            ),
            (
                "set-cookie",
                "s=tok; Path=/; HttpOnly",
                format!("set-cookie: s={}; Path=/; HttpOnly", fp("tok")),
            ),
            (
                "Authorization",
                "Bearer tok.en",
                format!("Authorization: Bearer {}", fp("tok.en")),
            ),
            ("X-Api-Key", "k-123", format!("X-Api-Key: {}", fp("k-123"))),
            ("x-csrf-token", "t", format!("x-csrf-token: {}", fp("t"))),
            (
                "set-cookie",
                "s=x; token=abc; Secure; odd",
                format!(
                    "set-cookie: s={}; token={}; Secure; {}",
                    fp("x"),
                    fp("abc"),
                    fp("odd")
                ),
            ),
            (
                "set-cookie",
                "bare; Path=/",
                format!("set-cookie: {}; Path=/", fp("bare")),
            ),
            (
                "X-Authorization",
                "tok x",
                format!("X-Authorization: {}", fp("tok x")),
            ),
        ];
        for (name, value, want) in cases {
            let mut r = Redactor::new(false);
            assert_eq!(&header_line(&mut r, name, value, &base), want, "{name}");
        }
    }

    #[test]
    fn jwts_are_found_where_they_travel() {
        use base64::Engine;
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!("{}.{}.sig", b(r#"{"alg":"ES256"}"#), b(r#"{"exp":100}"#));
        assert_eq!(
            jwts_in("cookie", &format!("a=1; s={jwt}"), 40),
            vec!["JWT in cookie s: alg=ES256; claims: exp; exp in 1m 0s".to_string()]
        );
        assert_eq!(
            jwts_in("authorization", &format!("Bearer {jwt}"), 100).len(),
            1
        );
        assert!(jwts_in("cookie", "a=1", 0).is_empty());
        let url = Url::parse(&format!("http://app.test/cb#id_token={jwt}&state=x")).unwrap();
        assert_eq!(jwts_in_url(&url, 100).len(), 1);
    }
}
