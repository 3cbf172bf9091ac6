//! Chromium's performance log (DevTools network events, read through chromedriver) turned into
//! the same hops the HTTP driver records: redirects, raw `Set-Cookie` with Chromium's reasons for
//! the cookies it blocked, and the cookies sent or withheld on each request.

use crate::drive::http::error_params;
use crate::drive::record::set_cookie_lines;
use crate::redact::Redactor;
use crate::trace::{BlockedCookie, Hop, HopNo, SentCookie, Step};
use crate::trace::{CookieReasons, Method};
use serde_json::Value;
use std::collections::HashMap;
use url::Url;

/// The request types that are part of the login chain; images, scripts and the favicon are not.
const CHAIN_TYPES: &[&str] = &["Document", "Fetch", "XHR"];

#[derive(Debug, Default)]
struct Req {
    id: String,
    method: String,
    url: String,
    kind: String,
    wall_time: f64,
    sent_at: f64,
    /// The request's headers as the page asked for them (the extra info has what went).
    headers: Value,
    response: Option<(Value, f64)>,
    failed: Option<String>,
}

/// A request the browser could not complete (`net::ERR_…`).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadFailure {
    pub url: String,
    pub error: String,
}

/// The events of a log, each as `(method, params)`, in order.
pub fn events(entries: &[Value]) -> Vec<(String, Value)> {
    entries
        .iter()
        .filter_map(|e| {
            let message: Value = serde_json::from_str(e["message"].as_str()?).ok()?;
            let m = &message["message"];
            Some((m["method"].as_str()?.to_string(), m["params"].clone()))
        })
        .collect()
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// The hops of the chain, numbered from `first`, and the first request that failed to load.
/// `starts` are the URLs of the start request (fetched by the page); `steps` names the other
/// POSTs in order (the login and consent submissions, as forms or as fetches of a single-page
/// flow).
pub fn hops(
    events: &[(String, Value)],
    first: u32,
    starts: &[String],
    steps: &[Step],
    r: &mut Redactor,
) -> (Vec<Hop>, Option<LoadFailure>) {
    let mut reqs: Vec<Req> = Vec::new();
    let mut req_extra: HashMap<String, Vec<Value>> = HashMap::new();
    let mut resp_extra: HashMap<String, Vec<Value>> = HashMap::new();
    for (method, p) in events {
        let id = p["requestId"].as_str().unwrap_or_default().to_string();
        match method.as_str() {
            "Network.requestWillBeSent" => {
                // A redirect closes the previous request of the same id with its response.
                if let Some(redirect) = p.get("redirectResponse")
                    && let Some(q) = reqs.iter_mut().rev().find(|q| q.id == id)
                {
                    q.response = Some((redirect.clone(), p["timestamp"].as_f64().unwrap_or(0.0)));
                }
                reqs.push(Req {
                    id: id.clone(),
                    method: p["request"]["method"].as_str().unwrap_or("GET").to_string(),
                    url: p["request"]["url"].as_str().unwrap_or_default().to_string(),
                    kind: p["type"].as_str().unwrap_or_default().to_string(),
                    wall_time: p["wallTime"].as_f64().unwrap_or(0.0),
                    sent_at: p["timestamp"].as_f64().unwrap_or(0.0),
                    headers: p["request"]["headers"].clone(),
                    ..Req::default()
                });
            }
            "Network.responseReceived" => {
                if let Some(q) = reqs.iter_mut().rev().find(|q| q.id == id) {
                    q.response = Some((
                        p["response"].clone(),
                        p["timestamp"].as_f64().unwrap_or(0.0),
                    ));
                }
            }
            "Network.loadingFailed" => {
                if let Some(q) = reqs.iter_mut().rev().find(|q| q.id == id) {
                    q.failed = Some(p["errorText"].as_str().unwrap_or("failed").to_string());
                }
            }
            "Network.requestWillBeSentExtraInfo" => {
                req_extra.entry(id).or_default().push(p.clone())
            }
            "Network.responseReceivedExtraInfo" => {
                resp_extra.entry(id).or_default().push(p.clone())
            }
            _ => {}
        }
    }

    let mut out = Vec::new();
    let mut failure = None;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut posts = steps.iter();
    for q in &reqs {
        let k = {
            let n = seen.entry(q.id.clone()).or_insert(0);
            *n += 1;
            *n - 1
        };
        let Ok(url) = Url::parse(&q.url) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") || !CHAIN_TYPES.contains(&q.kind.as_str()) {
            continue;
        }
        let Some((response, received_at)) = &q.response else {
            if let Some(error) = &q.failed
                && failure.is_none()
            {
                failure = Some(LoadFailure {
                    url: r.url(&url),
                    error: error.clone(),
                });
            }
            continue;
        };
        let headers = &response["headers"];
        let status = response["status"].as_u64().unwrap_or(0) as u16;
        let location = header(headers, "location").and_then(|l| url.join(l).ok());
        let extra_resp = resp_extra.get(&q.id).and_then(|v| v.get(k));
        let extra_req = req_extra.get(&q.id).and_then(|v| v.get(k));
        let set_cookies = extra_resp.map(|x| set_cookies(x, r)).unwrap_or_default();
        let (cookie_sent, cookie_blocked) =
            extra_req.map(|x| sent_cookies(x, r)).unwrap_or_default();
        // A start the page fetched, or a link it followed (a GET navigation).
        let step = if starts.contains(&q.url) && (q.kind != "Document" || q.method == "GET") {
            Step::Start
        } else if q.method == "POST" {
            posts.next().copied().unwrap_or(Step::Follow)
        } else {
            Step::Follow
        };
        let (error_code, error_description) = error_params(&url)
            .or_else(|| location.as_ref().and_then(error_params))
            .unwrap_or_default();
        let elapsed = (received_at - q.sent_at).max(0.0);
        if r.verbosity() > 0 {
            // What went and came on the wire where Chromium says it, else what the page asked.
            let sent = extra_req.map_or(&q.headers, |x| &x["headers"]);
            let received = extra_resp.map_or(headers, |x| &x["headers"]);
            let step_name = step.to_string();
            crate::detail::Exchange {
                label: &step_name,
                method: &q.method,
                url: &url,
                sent: &header_pairs(sent),
                status,
                received: &header_pairs(received),
                ms: elapsed * 1000.0,
            }
            .emit(r);
        }
        out.push(Hop {
            n: HopNo(first + out.len() as u32),
            step,
            method: Method::parse(&q.method),
            url: r.url(&url),
            status,
            location: location.as_ref().map(|l| r.url(l)),
            set_cookies,
            cookie_sent,
            cookie_blocked,
            origin_sent: header(&q_headers(extra_req), "origin").map(str::to_string),
            content_type: header(headers, "content-type").map(str::to_string),
            date: header(headers, "date").map(str::to_string),
            error_code,
            error_description,
            page: None,
            body_excerpt: None,
            received_at_ms: ((q.wall_time + elapsed) * 1000.0) as u64,
            duration_ms: elapsed * 1000.0,
        });
    }
    (out, failure)
}

/// A DevTools header object as name and value pairs; a value of several lines (Set-Cookie)
/// as one pair per line.
fn header_pairs(headers: &Value) -> Vec<(String, String)> {
    let Some(map) = headers.as_object() else {
        return Vec::new();
    };
    map.iter()
        .flat_map(|(k, v)| {
            v.as_str()
                .unwrap_or_default()
                .lines()
                .map(|line| (k.clone(), line.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn q_headers(extra_req: Option<&Value>) -> Value {
    extra_req
        .map(|x| x["headers"].clone())
        .unwrap_or(Value::Null)
}

/// The raw `Set-Cookie` lines of a response, with Chromium's verdict on each.
fn set_cookies(extra: &Value, r: &mut Redactor) -> Vec<crate::trace::SetCookie> {
    let Some(lines) = header(&extra["headers"], "set-cookie") else {
        return Vec::new();
    };
    let blocked: Vec<(String, CookieReasons)> = extra["blockedCookies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let reasons: Vec<&str> = b["blockedReasons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            (
                b["cookieLine"].as_str().unwrap_or_default().to_string(),
                CookieReasons::parse(&reasons.join(",")),
            )
        })
        .collect();
    set_cookie_lines(lines.split('\n'), &blocked, r)
}

/// The cookies Chromium sent with a request, and those it withheld with its reasons.
fn sent_cookies(extra: &Value, r: &mut Redactor) -> (Vec<SentCookie>, Vec<BlockedCookie>) {
    let mut sent = Vec::new();
    let mut withheld = Vec::new();
    for a in extra["associatedCookies"].as_array().into_iter().flatten() {
        let name = a["cookie"]["name"].as_str().unwrap_or_default().to_string();
        let reasons: Vec<&str> = a["blockedReasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if reasons.is_empty() {
            let value = r.sensitive(a["cookie"]["value"].as_str().unwrap_or_default());
            sent.push(SentCookie { name, value });
        } else {
            withheld.push(BlockedCookie {
                name,
                reason: CookieReasons::parse(&reasons.join(",")),
            });
        }
    }
    (sent, withheld)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{CookieAction, CookieReason};
    use serde_json::json;

    fn entry(method: &str, params: Value) -> Value {
        json!({"message": json!({"message": {"method": method, "params": params}}).to_string()})
    }

    #[test]
    fn redirects_cookies_and_reasons() {
        let log = vec![
            entry(
                "Network.requestWillBeSent",
                json!({"requestId": "1", "type": "Document", "timestamp": 1.0, "wallTime": 1000.0,
                "request": {"url": "http://app.test/start", "method": "GET"}}),
            ),
            entry(
                "Network.requestWillBeSentExtraInfo",
                json!({"requestId": "1", "associatedCookies": [], "headers": {}}),
            ),
            entry(
                "Network.responseReceivedExtraInfo",
                json!({"requestId": "1", "statusCode": 302,
                "headers": {"Set-Cookie": "__Secure-s=abc; Path=/; Secure\nok=1; Path=/"},
                "blockedCookies": [{"blockedReasons": ["InvalidPrefix"], "cookieLine": "__Secure-s=abc; Path=/; Secure"}]}),
            ),
            entry(
                "Network.requestWillBeSent",
                json!({"requestId": "1", "type": "Document", "timestamp": 1.1, "wallTime": 1000.1,
                "request": {"url": "http://idp.test/auth?state=xyz1", "method": "GET"},
                "redirectResponse": {"status": 302, "headers": {"Location": "http://idp.test/auth?state=xyz1"}}}),
            ),
            entry(
                "Network.requestWillBeSentExtraInfo",
                json!({"requestId": "1", "headers": {},
                "associatedCookies": [{"blockedReasons": [], "cookie": {"name": "ok", "value": "1111"}},
                                      {"blockedReasons": ["SameSiteLax"], "cookie": {"name": "x", "value": "2"}}]}),
            ),
            entry(
                "Network.responseReceived",
                json!({"requestId": "1", "type": "Document", "timestamp": 1.2,
                "response": {"status": 200, "headers": {"content-type": "text/html"}}}),
            ),
            entry(
                "Network.requestWillBeSent",
                json!({"requestId": "9", "type": "Image", "timestamp": 1.3, "wallTime": 1000.3,
                "request": {"url": "http://idp.test/favicon.ico", "method": "GET"}}),
            ),
            entry(
                "Network.requestWillBeSent",
                json!({"requestId": "5", "type": "Other", "timestamp": 1.3, "wallTime": 1000.3,
                "request": {"url": "chrome://newtab", "method": "GET"}}),
            ),
        ];
        let mut r = Redactor::new(false);
        let (hops, failure) = hops(&events(&log), 1, &[], &[], &mut r);
        assert!(failure.is_none());
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[0].status, 302);
        assert_eq!(hops[0].set_cookies[0].action, CookieAction::Refused);
        assert_eq!(
            hops[0].set_cookies[0].refusal,
            Some(CookieReasons::one(CookieReason::InvalidPrefix))
        );
        assert_eq!(hops[0].set_cookies[1].action, CookieAction::Set);
        assert_eq!(hops[1].n, HopNo(2));
        assert_eq!(hops[1].cookie_sent[0].name, "ok");
        assert_eq!(hops[1].cookie_blocked[0].reason, "SameSiteLax");
        assert!(
            !hops[1].url.contains("xyz1"),
            "state is fingerprinted: {}",
            hops[1].url
        );
        assert!((hops[1].duration_ms - 100.0).abs() < 1.0);
    }

    #[test]
    fn failed_loads_are_reported() {
        let log = vec![
            entry(
                "Network.requestWillBeSent",
                json!({"requestId": "1", "type": "Document", "timestamp": 1.0, "wallTime": 1.0,
                "request": {"url": "http://127.0.0.1:9/", "method": "GET"}}),
            ),
            entry(
                "Network.loadingFailed",
                json!({"requestId": "1", "errorText": "net::ERR_CONNECTION_REFUSED"}),
            ),
        ];
        let (hops, failure) = hops(&events(&log), 1, &[], &[], &mut Redactor::new(false));
        assert!(hops.is_empty());
        assert_eq!(failure.unwrap().error, "net::ERR_CONNECTION_REFUSED");
    }
}
