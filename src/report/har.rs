//! HAR 1.2 (HTTP Archive) of a run's hops and probes, to open in a browser's network panel or
//! any HAR viewer. Values are as the report keeps them: fingerprints unless `--reveal`.

use super::Report;
use crate::trace::{Hop, Probe};
use serde_json::{Value, json};

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

/// `when` is the start in Unix milliseconds and the duration.
fn entry(
    method: &str,
    url: &str,
    status: u16,
    when: (u64, f64),
    request: Value,
    response: Value,
    comment: String,
) -> Value {
    let (started_ms, ms) = when;
    json!({
        "startedDateTime": iso(started_ms),
        "time": ms,
        "request": {
            "method": method, "url": url, "httpVersion": "HTTP/1.1",
            "cookies": request["cookies"], "headers": request["headers"],
            "queryString": [], "headersSize": -1, "bodySize": -1,
        },
        "response": {
            "status": status, "statusText": "", "httpVersion": "HTTP/1.1",
            "cookies": response["cookies"], "headers": response["headers"],
            "content": {"size": -1, "mimeType": response["mime"]},
            "redirectURL": response["location"], "headersSize": -1, "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": ms, "receive": 0},
        "comment": comment,
    })
}

fn hop_entry(h: &Hop) -> Value {
    let cookies: Vec<Value> = h
        .cookie_sent
        .iter()
        .map(|c| json!({"name": c.name, "value": c.value.shown()}))
        .collect();
    let mut req_headers = Vec::new();
    if !cookies.is_empty() {
        let header: Vec<String> = h
            .cookie_sent
            .iter()
            .map(|c| format!("{}={}", c.name, c.value.shown()))
            .collect();
        req_headers.push(json!({"name": "Cookie", "value": header.join("; ")}));
    }
    if let Some(o) = &h.origin_sent {
        req_headers.push(json!({"name": "Origin", "value": o}));
    }
    let mut resp_headers: Vec<Value> = h
        .set_cookies
        .iter()
        .map(|c| json!({"name": "Set-Cookie", "value": c.raw}))
        .collect();
    for (name, value) in [
        ("Location", &h.location),
        ("Content-Type", &h.content_type),
        ("Date", &h.date),
    ] {
        if let Some(v) = value {
            resp_headers.push(json!({"name": name, "value": v}));
        }
    }
    let set: Vec<Value> = h
        .set_cookies
        .iter()
        .map(|c| {
            let mut cookie = json!({"name": c.name, "value": c.value.shown(), "httpOnly": c.http_only, "secure": c.secure,
                   "comment": format!("{}{}", c.action.word(), c.refusal.as_ref().map(|r| format!(": {r}")).unwrap_or_default())});
            // HAR wants ISO 8601 dates and leaves absent fields out.
            let expires = c.expires.as_deref().and_then(|e| {
                time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc2822).ok()?
                    .format(&time::format_description::well_known::Rfc3339).ok()
            });
            for (key, value) in [("path", c.path.clone()), ("domain", c.domain.clone()), ("expires", expires)] {
                if let Some(v) = value {
                    cookie[key] = json!(v);
                }
            }
            cookie
        })
        .collect();
    let started = (h.received_at_ms as f64 - h.duration_ms).max(0.0) as u64;
    entry(
        h.method.as_str(),
        &h.url,
        h.status,
        (started, h.duration_ms),
        json!({"cookies": cookies, "headers": req_headers}),
        json!({"cookies": set, "headers": resp_headers, "mime": h.content_type.clone().unwrap_or_default(),
               "location": h.location.clone().unwrap_or_default()}),
        format!("{} ({})", h.n, h.step),
    )
}

fn probe_entry(p: &Probe) -> Value {
    let cookies: Vec<Value> = p
        .cookie_sent
        .iter()
        .map(|c| json!({"name": c.name, "value": c.value.shown()}))
        .collect();
    let started = (p.received_at_ms as f64 - p.duration_ms).max(0.0) as u64;
    entry(
        p.method.as_str(),
        &p.url,
        p.status,
        (started, p.duration_ms),
        json!({"cookies": cookies, "headers": []}),
        json!({"cookies": [], "headers": [], "mime": "", "location": ""}),
        format!(
            "probe {}: {}",
            p.name,
            if p.passed { "pass" } else { "fail" }
        ),
    )
}

pub fn render(reports: &[Report]) -> String {
    let entries: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r.trace
                .hops
                .iter()
                .map(hop_entry)
                .chain(r.trace.probes.iter().map(probe_entry))
        })
        .collect();
    let har = json!({"log": {
        "version": "1.2",
        "creator": {"name": "authchain", "version": env!("CARGO_PKG_VERSION")},
        "pages": [],
        "entries": entries,
    }});
    serde_json::to_string_pretty(&har).expect("a HAR serialises")
}
