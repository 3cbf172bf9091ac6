//! The recorded chain as a driver builds it: the hops so far and the cookie jar, with the
//! browser's rules applied when a cookie is offered and when one is sent. No I/O: the HTTP
//! driver adds to it as it goes, the browser driver fills it from its log and its own jar.

use crate::redact::Redactor;
use crate::trace::{
    BlockedCookie, CookieAction, CookieReason, CookieReasons, Hop, HopNo, SameSite, SetCookie,
};
use crate::web;
use cookie_store::{CookieError, CookieStore, RawCookie};
use reqwest::header::{HeaderMap, SET_COOKIE};
use url::Url;

#[derive(Default)]
pub struct Record {
    pub hops: Vec<Hop>,
    jar: CookieStore,
}

impl Record {
    pub fn jar(&self) -> &CookieStore {
        &self.jar
    }

    pub fn next_hop(&self) -> HopNo {
        HopNo(self.hops.len() as u32 + 1)
    }

    /// Puts a cookie in the jar for each URL's host, as if that host had set it with `Path=/`.
    pub fn preload(&mut self, name: &str, value: &str, urls: &[&Url]) {
        for url in urls {
            let cookie = RawCookie::build((name.to_string(), value.to_string()))
                .path("/")
                .build();
            let _ = self.jar.insert_raw(&cookie, url);
        }
    }

    /// Stores a `Set-Cookie` line as if `url` had sent it (no record is made).
    pub fn insert_raw(&mut self, raw: &str, url: &Url) {
        if let Ok(cookie) = RawCookie::parse(raw.to_string()) {
            let _ = self.jar.insert_raw(&cookie, url);
        }
    }

    /// Puts a cookie from the browser's jar (CDP `Network.getAllCookies`) into this jar.
    pub fn load_browser_cookie(&mut self, c: &serde_json::Value) {
        let (Some(name), Some(value), Some(domain)) = (
            c["name"].as_str(),
            c["value"].as_str(),
            c["domain"].as_str(),
        ) else {
            return;
        };
        let path = c["path"].as_str().unwrap_or("/");
        let secure = c["secure"].as_bool().unwrap_or(false);
        let mut raw = format!("{name}={value}; Path={path}");
        if domain.starts_with('.') {
            raw.push_str(&format!("; Domain={domain}"));
        }
        if secure {
            raw.push_str("; Secure");
        }
        let host = domain.trim_start_matches('.');
        let scheme = if secure { "https" } else { "http" };
        if let Ok(url) = Url::parse(&format!("{scheme}://{host}{path}")) {
            self.insert_raw(&raw, &url);
        }
    }

    /// The cookies a browser would send with a request to `url` (name and value, longer paths
    /// first, as RFC 6265 orders them, then by name), and those its SameSite withholds.
    pub fn cookies_for(
        &self,
        url: &Url,
        ctx: web::RequestContext,
    ) -> (Vec<(String, String)>, Vec<BlockedCookie>) {
        // Browsers count http://*.localhost as secure, as they do localhost.
        let mut lookup = url.clone();
        if lookup.scheme() == "http" && lookup.host_str().is_some_and(|h| h.ends_with(".localhost"))
        {
            let _ = lookup.set_scheme("https");
        }
        let mut blocked = Vec::new();
        let mut cookies = self.jar.matches(&lookup);
        cookies.retain(|c| match web::same_site_withholds(c.same_site(), ctx) {
            Some(reason) => {
                blocked.push(BlockedCookie {
                    name: c.name().to_string(),
                    reason: CookieReasons::one(reason),
                });
                false
            }
            None => true,
        });
        cookies.sort_by_key(|c| (std::cmp::Reverse(c.path.len()), c.name().to_string()));
        let pairs = cookies
            .iter()
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect();
        (pairs, blocked)
    }

    /// Offers every `Set-Cookie` of an answer from `url` to the jar, as a browser would, and
    /// records what became of each.
    pub fn store_cookies(
        &mut self,
        url: &Url,
        headers: &HeaderMap,
        r: &mut Redactor,
    ) -> Vec<SetCookie> {
        headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|raw| self.offer(raw, url, r))
            .collect()
    }

    fn offer(&mut self, raw: &str, url: &Url, r: &mut Redactor) -> SetCookie {
        let Ok(cookie) = RawCookie::parse(raw.to_string()) else {
            return unparsable_set_cookie(raw, r);
        };
        let (action, refusal) = match web::set_cookie_refusal(&cookie, url) {
            Some(reason) => (CookieAction::Refused, Some(CookieReasons::one(reason))),
            None => match self.jar.insert_raw(&cookie, url) {
                Ok(_) if web::is_clearing(&cookie) => (CookieAction::Cleared, None),
                Ok(_) => (CookieAction::Set, None),
                Err(CookieError::Expired) => (CookieAction::Cleared, None),
                Err(e) => (
                    CookieAction::Refused,
                    Some(CookieReasons::one(web::store_refusal(&e))),
                ),
            },
        };
        set_cookie_record(&cookie, raw, action, refusal, r)
    }
}

/// A `Set-Cookie` that does not parse: refused as a syntax error. Whatever follows the first `=`
/// up to the first `;` is taken as its value, and kept only as a fingerprint.
pub fn unparsable_set_cookie(raw: &str, r: &mut Redactor) -> SetCookie {
    let (name, rest) = raw.split_once('=').unwrap_or(("", raw));
    let (value, attributes) = rest.split_once(';').unwrap_or((rest, ""));
    let value = r.sensitive(value.trim());
    let shown = if attributes.is_empty() {
        format!("{}={}", name.trim(), value.shown())
    } else {
        format!("{}={};{}", name.trim(), value.shown(), r.scrub(attributes))
    };
    SetCookie {
        name: name.trim().to_string(),
        value,
        raw: shown,
        domain: None,
        path: None,
        secure: false,
        http_only: false,
        same_site: None,
        max_age: None,
        expires: None,
        action: CookieAction::Refused,
        refusal: Some(CookieReasons::one(CookieReason::SyntaxError)),
    }
}

/// The record of one `Set-Cookie`: its attributes, its value as a fingerprint, what became of it.
pub fn set_cookie_record(
    cookie: &RawCookie,
    raw: &str,
    action: CookieAction,
    refusal: Option<CookieReasons>,
    r: &mut Redactor,
) -> SetCookie {
    let value = r.sensitive(cookie.value());
    let shown_raw = if cookie.value().is_empty() {
        raw.to_string()
    } else {
        raw.replacen(cookie.value(), value.shown(), 1)
    };
    SetCookie {
        name: cookie.name().to_string(),
        value,
        raw: shown_raw,
        domain: cookie.domain().map(str::to_string),
        path: cookie.path().map(str::to_string),
        secure: cookie.secure().unwrap_or(false),
        http_only: cookie.http_only().unwrap_or(false),
        same_site: cookie.same_site().map(SameSite::from),
        max_age: cookie.max_age().map(|d| d.whole_seconds()),
        expires: cookie.expires_datetime().and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        }),
        action,
        refusal,
    }
}
