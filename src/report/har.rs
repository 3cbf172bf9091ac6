//! HAR 1.2 (HTTP Archive) of a run's hops and probes, to open in a browser's network panel or
//! any HAR viewer, written from the same typed model `diagnose FILE.har` reads
//! ([`crate::har`]). Values are as the report keeps them: fingerprints unless `--reveal`.

use super::Report;
use crate::har::{Content, Creator, Entry, Har, HarCookie, Log, NameValue, Request, Response};
use crate::trace::{Hop, Probe, SentCookie};

/// A time in Unix milliseconds as RFC 3339 (empty when out of range).
pub fn iso(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn nv(name: &str, value: &str) -> NameValue {
    NameValue {
        name: name.into(),
        value: value.into(),
    }
}

/// An entry of `method url → status`, started at Unix milliseconds `started` and lasting `ms`.
fn entry(
    (method, url, status): (&str, &str, u16),
    (started, ms): (u64, f64),
    request: (Vec<HarCookie>, Vec<NameValue>),
    response: Response,
    comment: String,
) -> Entry {
    Entry {
        started: iso(started),
        time: Some(ms),
        request: Request {
            method: method.into(),
            url: url.into(),
            http_version: "HTTP/1.1".into(),
            cookies: request.0,
            headers: request.1,
            query_string: Vec::new(),
            post_data: None,
            headers_size: -1,
            body_size: -1,
        },
        response: Response {
            status: i64::from(status),
            ..response
        },
        cache: serde_json::json!({}),
        timings: crate::har::Timings {
            send: 0.0,
            wait: ms,
            receive: 0.0,
        },
        resource_type: None,
        comment: Some(comment),
    }
}

fn response(
    cookies: Vec<HarCookie>,
    headers: Vec<NameValue>,
    mime: &str,
    text: Option<String>,
    location: &str,
) -> Response {
    Response {
        status: 0,
        status_text: String::new(),
        http_version: "HTTP/1.1".into(),
        cookies,
        headers,
        content: Content {
            mime_type: mime.into(),
            text,
            ..Content::default()
        },
        redirect_url: location.into(),
        headers_size: -1,
        body_size: -1,
    }
}

/// The cookies a request carried, as HAR cookies and as its `Cookie` header.
fn sent(cookies: &[SentCookie]) -> (Vec<HarCookie>, Option<NameValue>) {
    let list = cookies
        .iter()
        .map(|c| HarCookie {
            name: c.name.clone(),
            value: c.value.shown().to_string(),
            ..HarCookie::default()
        })
        .collect();
    let header = (!cookies.is_empty()).then(|| {
        let pairs: Vec<String> = cookies
            .iter()
            .map(|c| format!("{}={}", c.name, c.value.shown()))
            .collect();
        nv("Cookie", &pairs.join("; "))
    });
    (list, header)
}

fn hop_entry(h: &Hop) -> Entry {
    let (cookies, cookie_header) = sent(&h.cookie_sent);
    let mut req_headers: Vec<NameValue> = cookie_header.into_iter().collect();
    if let Some(o) = &h.origin_sent {
        req_headers.push(nv("Origin", o));
    }
    let mut resp_headers: Vec<NameValue> = h
        .set_cookies
        .iter()
        .map(|c| nv("Set-Cookie", &c.raw))
        .collect();
    for (name, value) in [
        ("Location", &h.location),
        ("Content-Type", &h.content_type),
        ("Date", &h.date),
    ] {
        if let Some(v) = value {
            resp_headers.push(nv(name, v));
        }
    }
    let set: Vec<HarCookie> = h
        .set_cookies
        .iter()
        .map(|c| HarCookie {
            name: c.name.clone(),
            value: c.value.shown().to_string(),
            path: c.path.clone(),
            domain: c.domain.clone(),
            // HAR wants ISO 8601 dates.
            expires: c.expires.as_deref().and_then(|e| {
                time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc2822)
                    .ok()?
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
            http_only: Some(c.http_only),
            secure: Some(c.secure),
            comment: Some(format!(
                "{}{}",
                c.action.word(),
                c.refusal
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )),
        })
        .collect();
    let started = (h.received_at_ms as f64 - h.duration_ms).max(0.0) as u64;
    entry(
        (h.method.as_str(), &h.url, h.status),
        (started, h.duration_ms),
        (cookies, req_headers),
        response(
            set,
            resp_headers,
            h.content_type.as_deref().unwrap_or_default(),
            None,
            h.location.as_deref().unwrap_or_default(),
        ),
        format!("{} ({})", h.n, h.step),
    )
}

fn probe_entry(p: &Probe) -> Entry {
    let (cookies, cookie_header) = sent(&p.cookie_sent);
    let started = (p.received_at_ms as f64 - p.duration_ms).max(0.0) as u64;
    entry(
        (p.method.as_str(), &p.url, p.status),
        (started, p.duration_ms),
        (cookies, cookie_header.into_iter().collect()),
        response(Vec::new(), Vec::new(), "", None, ""),
        format!(
            "probe {}: {}",
            p.name,
            if p.passed { "pass" } else { "fail" }
        ),
    )
}

pub fn render(reports: &[Report]) -> String {
    let entries: Vec<Entry> = reports
        .iter()
        .flat_map(|r| {
            r.trace
                .hops
                .iter()
                .map(hop_entry)
                .chain(r.trace.probes.iter().map(probe_entry))
        })
        .collect();
    let har = Har {
        log: Log {
            version: "1.2".into(),
            creator: Some(Creator {
                name: "authchain".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            }),
            pages: Vec::new(),
            entries,
        },
    };
    serde_json::to_string_pretty(&har).expect("a HAR serialises")
}
