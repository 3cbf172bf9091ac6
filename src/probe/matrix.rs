//! The differential matrix: when the native session endpoint accepts the session and a compared
//! probe does not, replay both requests with the session carried in every other way (no cookie,
//! a garbage value, Bearer signed and raw, other cookie names) and record how each answers. Only
//! the probe's own method is sent, to the configured endpoints: safe against production.

use super::{failure, summarize};
use crate::drive::http::{HttpClient, Request};
use crate::drive::record::Record;
use crate::redact::{Redactor, percent_decode};
use crate::scenario::{MatrixMode, Preset, ProbeSpec};
use crate::trace::{ErrorStep, MatrixRow, Probe, RunError, Step, Variant};
use url::Url;

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

/// The session cookie the jar holds for one of the URLs (the preset's one guess, the longest
/// value when no name tells).
pub fn session_cookie(
    preset: Option<Preset>,
    record: &Record,
    urls: &[&Url],
) -> Option<(String, String)> {
    urls.iter().find_map(|url| {
        // The jar's order is no order: by name, so the same cookies give the same guess.
        let mut cookies: Vec<(String, String)> = record
            .jar()
            .get_request_values(url)
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        cookies.sort();
        crate::preset::pick_session(preset, &cookies, |c| &c.0, |c| c.1.len() as i64).cloned()
    })
}

pub fn variants(preset: Option<Preset>, name: &str, value: &str) -> Vec<Variant> {
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
        crate::preset::other_session_names(preset, name)
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
    preset: Option<Preset>,
    client: &HttpClient,
    record: &Record,
    r: &mut Redactor,
) -> (Vec<MatrixRow>, Option<RunError>) {
    let mut rows = Vec::new();
    for (compared, reference) in wanted(specs, probes, mode) {
        let Some((name, value)) = session_cookie(preset, record, &[&reference.url, &compared.url])
        else {
            continue;
        };
        let decoded = percent_decode(&value);
        let raw = decoded.split('.').next().unwrap_or_default().to_string();
        r.sensitive(&raw);
        for spec in [compared, reference] {
            let others: Vec<(String, String)> = record
                .jar()
                .get_request_values(&spec.url)
                .filter(|(n, _)| *n != name)
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            // Every credential any variant carries: an echo of one is blanked in every answer.
            let mut sent = vec![value.clone(), garbage()];
            sent.extend(others.iter().map(|(_, v)| v.clone()));
            let others: Vec<String> = others.iter().map(|(n, v)| format!("{n}={v}")).collect();
            for variant in variants(preset, &name, &value) {
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
                match client.exchange(&req, None, r).await {
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
                            answer: Some(super::answer::digest(
                                answer.status,
                                &answer.headers,
                                &answer.body,
                                &sent,
                            )),
                        });
                    }
                    Err(message) => {
                        let error = RunError {
                            step: ErrorStep::Matrix(spec.name.clone()),
                            hop: None,
                            message,
                            kind: None,
                        };
                        return (rows, Some(error));
                    }
                }
            }
        }
    }
    (rows, None)
}
