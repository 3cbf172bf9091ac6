//! The differential matrix: when the native session endpoint accepts the session and a compared
//! probe does not, replay both requests with the session carried in every other way (no cookie,
//! a garbage value, Bearer signed and raw, other cookie names) and record how each answers. Only
//! the probe's own method is sent, to the configured endpoints: safe against production.

use super::{failure, summarize};
use crate::drive::http::{HttpClient, Request};
use crate::drive::record::Record;
use crate::preset::SessionCookie;
use crate::redact::{Redactor, percent_decode};
use crate::scenario::{MatrixMode, Preset, ProbeSpec};
use crate::trace::{ErrorStep, MatrixRow, Probe, RunError, Variant};
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
/// value when no name tells), its chunks joined.
pub fn session_cookie(
    preset: Option<Preset>,
    record: &Record,
    urls: &[&Url],
) -> Option<SessionCookie> {
    urls.iter().find_map(|url| {
        // By name, so the same cookies give the same guess whatever order they were set in.
        let mut cookies = record.values_for(url);
        cookies.sort();
        crate::preset::session_of(preset, &cookies)
    })
}

pub fn variants(preset: Option<Preset>, session: &SessionCookie) -> Vec<Variant> {
    let (name, value) = (session.name.as_str(), session.value.as_str());
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
    // A session in chunks, whole under its own name, as a guard that reads one cookie wants it.
    if !session.chunks.is_empty() {
        v.push(Variant::OneChunk {
            name: name.to_string(),
        });
    }
    // The token before its signature: only a signed value has one.
    if crate::redact::Shape::of(value) == crate::redact::Shape::Signed {
        v.push(Variant::BearerRaw);
    }
    v.extend(
        crate::preset::other_session_names(preset, name)
            .into_iter()
            .map(|name| Variant::CookieName { name }),
    );
    v
}

/// The Cookie header of a variant: the cookies the probe sent, in the order they went, with the
/// session cookie (all its chunks) as the variant carries it, in its place (last when the probe
/// did not send it). The recorded cookie goes as it went, in chunks if it was.
fn variant_cookies(
    pairs: &[(String, String)],
    session: &SessionCookie,
    variant: &Variant,
) -> Vec<String> {
    let value = &session.value;
    let carried: Vec<String> = match variant {
        Variant::NoCookie => return Vec::new(),
        // Chunks go as they went, each in its place.
        Variant::RecordedCookie { .. }
            if !session.chunks.is_empty() && pairs.iter().any(|(n, _)| session.holds(n)) =>
        {
            return pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        }
        Variant::RecordedCookie { name }
        | Variant::CookieName { name }
        | Variant::OneChunk { name } => vec![format!("{name}={value}")],
        Variant::Garbage { name } => vec![format!("{name}={}", garbage(value))],
        Variant::BearerSigned | Variant::BearerRaw => Vec::new(),
    };
    let mut out = Vec::new();
    let mut placed = false;
    for (n, v) in pairs {
        if !session.holds(n) {
            out.push(format!("{n}={v}"));
        } else if !std::mem::replace(&mut placed, true) {
            out.extend(carried.iter().cloned());
        }
    }
    if !placed {
        out.extend(carried);
    }
    out
}

/// A value of the session value's shape that no server will accept: a 5-part JWE (an
/// encrypted session) or a UUID (a database session's id) where the session is one, else a signed token's
/// shape. A guard that checks the shape before it decrypts or looks up answers it as it answers
/// a real but bad session.
fn garbage(value: &str) -> String {
    match crate::redact::Shape::of(value) {
        crate::redact::Shape::Jwe => format!(
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0..{}.{}.{}",
            "A".repeat(22),
            "B".repeat(64),
            "C".repeat(43)
        ),
        crate::redact::Shape::Uuid => "00000000-0000-4000-8000-000000000000".into(),
        crate::redact::Shape::Jwt => format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.{}",
            "e30".repeat(8),
            "s".repeat(43)
        ),
        _ => format!("{}.{}%3D", "x".repeat(32), "y".repeat(43)),
    }
}

/// Replays each wanted pair, each request the way its probe went (the same cookies, in the
/// same cross-site context); stops at the first request with no usable answer. A pair whose
/// compared probe went without the session cookie is not replayed: the browser, not the
/// endpoint, kept the cookie back (`cookie-not-sent` says why).
#[allow(clippy::too_many_arguments)]
pub async fn run(
    specs: &[ProbeSpec],
    probes: &[Probe],
    app: &Url,
    mode: MatrixMode,
    preset: Option<Preset>,
    client: &HttpClient,
    record: &Record,
    r: &mut Redactor,
) -> (Vec<MatrixRow>, Option<RunError>) {
    // Every replay first, then all of them sent (several at once), then read in order.
    let mut planned: Vec<(&ProbeSpec, Variant, Request, Vec<String>)> = Vec::new();
    for (compared, reference) in wanted(specs, probes, mode) {
        let Some(session) = session_cookie(preset, record, &[&reference.url, &compared.url]) else {
            continue;
        };
        let value = session.value.clone();
        let withheld = |spec: &ProbeSpec| {
            probes.iter().any(|p| {
                p.name == spec.name
                    && p.cookie_blocked.iter().any(|b| session.holds(&b.name))
                    && !p.cookie_sent.iter().any(|c| session.holds(&c.name))
            })
        };
        if withheld(compared) || withheld(reference) {
            continue;
        }
        let decoded = percent_decode(&value);
        let raw = decoded.split('.').next().unwrap_or_default().to_string();
        r.sensitive(&raw);
        for spec in [compared, reference] {
            let probe = super::request(spec, app);
            let (pairs, _) = record.cookies_for(&spec.url, probe.context());
            // Every credential any variant carries: an echo of one is blanked in every answer.
            let mut sent = vec![value.clone(), garbage(&value)];
            sent.extend(pairs.iter().map(|(_, v)| v.clone()));
            for variant in variants(preset, &session) {
                let mut headers = probe.headers.clone();
                match &variant {
                    Variant::BearerSigned => {
                        headers.push(("authorization".to_string(), format!("Bearer {decoded}")))
                    }
                    Variant::BearerRaw => {
                        headers.push(("authorization".to_string(), format!("Bearer {raw}")))
                    }
                    _ => {}
                }
                let cookies = variant_cookies(&pairs, &session, &variant);
                if !cookies.is_empty() {
                    headers.push(("cookie".to_string(), cookies.join("; ")));
                }
                let req = Request {
                    headers,
                    ..probe.clone()
                };
                planned.push((spec, variant, req, sent.clone()));
            }
        }
    }
    let requests = planned.iter().map(|(_, _, req, _)| req.clone()).collect();
    let answers = super::exchange_all(client, requests, None, r).await;
    let mut rows = Vec::new();
    for ((spec, variant, _, sent), got) in planned.into_iter().zip(answers) {
        match got {
            Ok(answer) => {
                let summary = summarize(&answer, r);
                rows.push(MatrixRow {
                    probe: spec.name.clone(),
                    variant,
                    status: answer.status,
                    body_shape: summary.shape,
                    body_excerpt: summary.excerpt,
                    passed: failure(&spec.expect, answer.status, summary.json.as_ref()).is_none(),
                    answer: Some(super::answer::digest(
                        answer.status,
                        &answer.headers,
                        &answer.body,
                        &sent,
                    )),
                });
            }
            Err(fault) => {
                let error = RunError {
                    step: ErrorStep::Matrix(spec.name.clone()),
                    hop: None,
                    message: fault.message,
                    kind: fault.kind,
                };
                return (rows, Some(error));
            }
        }
    }
    (rows, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_keeps_the_probes_cookies_in_order() {
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        let one = SessionCookie {
            name: "sid".into(),
            value: "S".into(),
            chunks: vec![],
        };
        let sent = pairs(&[("deep", "1"), ("sid", "S"), ("sid", "old"), ("top", "2")]);
        let name = |n: &str| n.to_string();
        for (variant, want) in [
            (
                Variant::RecordedCookie { name: name("sid") },
                vec!["deep=1".to_string(), "sid=S".into(), "top=2".into()],
            ),
            (Variant::NoCookie, vec![]),
            (
                Variant::Garbage { name: name("sid") },
                vec![
                    "deep=1".to_string(),
                    format!("sid={}", garbage("S")),
                    "top=2".into(),
                ],
            ),
            (
                Variant::BearerSigned,
                vec!["deep=1".to_string(), "top=2".into()],
            ),
            (
                Variant::CookieName {
                    name: name("__Secure-sid"),
                },
                vec![
                    "deep=1".to_string(),
                    "__Secure-sid=S".into(),
                    "top=2".into(),
                ],
            ),
        ] {
            assert_eq!(variant_cookies(&sent, &one, &variant), want, "{variant:?}");
        }
        // A probe that did not send the session cookie gets it last.
        assert_eq!(
            variant_cookies(
                &sent[..1],
                &one,
                &Variant::RecordedCookie { name: name("sid") }
            ),
            ["deep=1", "sid=S"]
        );
        // A session in chunks: recorded as it went, whole under its name as one cookie.
        let chunked = SessionCookie {
            name: "appSession".into(),
            value: "AB".into(),
            chunks: vec!["appSession.0".into(), "appSession.1".into()],
        };
        let sent = pairs(&[("appSession.0", "A"), ("x", "1"), ("appSession.1", "B")]);
        assert_eq!(
            variant_cookies(
                &sent,
                &chunked,
                &Variant::RecordedCookie {
                    name: name("appSession")
                }
            ),
            ["appSession.0=A", "x=1", "appSession.1=B"]
        );
        assert_eq!(
            variant_cookies(
                &sent,
                &chunked,
                &Variant::OneChunk {
                    name: name("appSession")
                }
            ),
            ["appSession=AB", "x=1"]
        );
        assert!(variants(None, &chunked).contains(&Variant::OneChunk {
            name: name("appSession")
        }));
        assert!(
            !variants(None, &one)
                .iter()
                .any(|v| matches!(v, Variant::OneChunk { .. }))
        );
    }
}

#[cfg(test)]
mod garbage_shapes {
    use super::garbage;
    use crate::redact::Shape;

    #[test]
    fn garbage_has_the_sessions_shape() {
        for value in [
            "eyJh..aXY.Y2lwaGVy.dGFn",
            "0f8b7c1e-3a2d-4b5c-9d6e-7f8091a2b3c4",
            "eyJh.eyJi.c2ln",
            "0123456789abcdef0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D",
        ] {
            let g = garbage(value);
            assert_eq!(Shape::of(&g), Shape::of(value), "{value} -> {g}");
            assert_ne!(g, value);
        }
    }
}
