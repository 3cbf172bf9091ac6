//! The differential matrix: when the native session endpoint accepts the session and a compared
//! probe does not, replay both requests with the session carried in every other way (no cookie,
//! a garbage value, Bearer signed and raw, other cookie names) and record how each answers. Only
//! the probe's own method is sent, to the configured endpoints: safe against production.

use super::{failure, summarize};
use crate::drive::http::{HttpDriver, Request};
use crate::redact::{Redactor, percent_decode};
use crate::scenario::{MatrixMode, ProbeSpec};
use crate::trace::{MatrixRow, Probe, RunError, Step, Variant};
use url::Url;

/// The names BetterAuth gives its session cookie by default.
const LIBRARY_DEFAULT: &str = "better-auth.session_token";
const PREFIXES: &[&str] = &["__Secure-", "__Host-"];

/// The probes whose matrix is wanted: compared probes that fail where their reference passes,
/// or every compared probe when asked to.
pub fn wanted<'a>(
    specs: &'a [ProbeSpec],
    probes: &[Probe],
    mode: MatrixMode,
) -> Vec<(&'a ProbeSpec, &'a ProbeSpec)> {
    let result = |name: &str| probes.iter().find(|p| p.name == name);
    specs
        .iter()
        .filter(|s| !s.native)
        .filter_map(|s| {
            let reference = specs
                .iter()
                .find(|r| Some(&r.name) == s.compare_to.as_ref())?;
            let disagree = result(&reference.name)?.passed && !result(&s.name)?.passed;
            match mode {
                MatrixMode::Never => None,
                MatrixMode::Always => Some((s, reference)),
                MatrixMode::Auto => disagree.then_some((s, reference)),
            }
        })
        .collect()
}

/// The session cookie the jar holds for a URL: a `…session_token`, else a `…session`, else the
/// longest value.
pub fn session_cookie(driver: &HttpDriver, urls: &[&Url]) -> Option<(String, String)> {
    urls.iter().find_map(|url| {
        let cookies: Vec<(String, String)> = driver
            .jar()
            .get_request_values(url)
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        cookies
            .iter()
            .find(|(n, _)| n.ends_with("session_token"))
            .or_else(|| cookies.iter().find(|(n, _)| n.ends_with("session")))
            .or_else(|| cookies.iter().max_by_key(|(_, v)| v.len()))
            .cloned()
    })
}

/// The other names the same cookie could be looked for under.
pub fn other_names(name: &str) -> Vec<String> {
    let base = PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    let mut names = vec![base.to_string()];
    names.extend(PREFIXES.iter().map(|p| format!("{p}{base}")));
    if base != LIBRARY_DEFAULT {
        names.push(LIBRARY_DEFAULT.to_string());
        names.push(format!("__Secure-{LIBRARY_DEFAULT}"));
    }
    names.retain(|n| n != name);
    names.dedup();
    names
}

pub fn variants(name: &str, value: &str) -> Vec<Variant> {
    let mut v = vec![
        Variant::RecordedCookie {
            name: name.to_string(),
        },
        Variant::NoCookie,
        Variant::Garbage {
            name: name.to_string(),
        },
        Variant::BearerSigned,
    ];
    if percent_decode(value).contains('.') {
        v.push(Variant::BearerRaw);
    }
    v.extend(
        other_names(name)
            .into_iter()
            .map(|name| Variant::CookieName { name }),
    );
    v
}

/// A value of the same shape as a signed session token that no server will accept.
fn garbage() -> String {
    format!("{}.{}%3D", "x".repeat(32), "y".repeat(43))
}

/// Replays each wanted pair; stops at the first request with no usable answer.
pub async fn run(
    specs: &[ProbeSpec],
    probes: &[Probe],
    mode: MatrixMode,
    driver: &HttpDriver,
    r: &mut Redactor,
) -> (Vec<MatrixRow>, Option<RunError>) {
    let mut rows = Vec::new();
    for (compared, reference) in wanted(specs, probes, mode) {
        let Some((name, value)) = session_cookie(driver, &[&reference.url, &compared.url]) else {
            continue;
        };
        let decoded = percent_decode(&value);
        let raw = decoded.split('.').next().unwrap_or_default().to_string();
        r.sensitive(&raw);
        for spec in [compared, reference] {
            let others: Vec<String> = driver
                .jar()
                .get_request_values(&spec.url)
                .filter(|(n, _)| *n != name)
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            for variant in variants(&name, &value) {
                let mut cookies = others.clone();
                let mut headers = Vec::new();
                match &variant {
                    Variant::RecordedCookie { name } => cookies.push(format!("{name}={value}")),
                    Variant::NoCookie => cookies.clear(),
                    Variant::Garbage { name } => cookies.push(format!("{name}={}", garbage())),
                    Variant::BearerSigned => {
                        headers.push(("authorization".to_string(), format!("Bearer {decoded}")))
                    }
                    Variant::BearerRaw => {
                        headers.push(("authorization".to_string(), format!("Bearer {raw}")))
                    }
                    Variant::CookieName { name } => cookies.push(format!("{name}={value}")),
                }
                if !cookies.is_empty() {
                    headers.push(("cookie".to_string(), cookies.join("; ")));
                }
                let req = Request {
                    method: spec.method.clone(),
                    url: spec.url.clone(),
                    body: None,
                    step: Step::Follow,
                    headers,
                    cross_site: false,
                    navigation: false,
                };
                match driver.exchange(&req, false, r).await {
                    Ok(answer) => {
                        let summary = summarize(&answer, r);
                        rows.push(MatrixRow {
                            probe: spec.name.clone(),
                            variant,
                            status: answer.status,
                            body_shape: summary.shape,
                            body_excerpt: summary.excerpt,
                            passed: failure(&spec.expect, answer.status, summary.json.as_ref())
                                .is_none(),
                        });
                    }
                    Err(message) => {
                        let error = RunError {
                            step: format!("matrix {}", spec.name),
                            hop: None,
                            message,
                        };
                        return (rows, Some(error));
                    }
                }
            }
        }
    }
    (rows, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_and_without_prefixes() {
        assert_eq!(
            other_names("__Secure-better-auth.session_token"),
            [
                "better-auth.session_token",
                "__Host-better-auth.session_token"
            ]
        );
        assert_eq!(
            other_names("app.session_token"),
            [
                "__Secure-app.session_token",
                "__Host-app.session_token",
                "better-auth.session_token",
                "__Secure-better-auth.session_token"
            ]
        );
    }
}
