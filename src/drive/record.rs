//! The recorded chain as a driver builds it: the hops so far and the cookie jar, with the
//! browser's rules applied when a cookie is offered and when one is sent. No I/O: the HTTP
//! driver adds to it as it goes, the browser driver fills it from its log and its own jar.

use crate::redact::Redactor;
use crate::trace::{
    BlockedCookie, CookieAction, CookieReason, CookieReasons, Hop, HopNo, SameSite, SetCookie,
};
use crate::web;
use crate::web::jar::{Jar, Kept, Stored};
use cookie::Cookie as RawCookie;
use reqwest::header::{HeaderMap, SET_COOKIE};
use url::Url;

#[derive(Clone, Default)]
pub struct Record {
    pub hops: Vec<Hop>,
    jar: Jar,
}

impl Record {
    pub fn next_hop(&self) -> HopNo {
        HopNo(self.hops.len() as u32 + 1)
    }

    /// Puts a cookie in the jar for each URL's host, as if that host had set it with `Path=/`.
    pub fn preload(&mut self, name: &str, value: &str, urls: &[&Url]) {
        for url in urls {
            let host = url.host_str().unwrap_or_default();
            self.jar.load(Stored::from_browser(
                name, value, host, "/", false, false, None, None,
            ));
        }
    }

    /// Puts a cookie from the browser's jar (CDP `Network.getAllCookies`) into this jar, with
    /// every attribute that decides where it goes: Domain, Path, Secure, HttpOnly, SameSite and
    /// its expiry.
    pub fn load_browser_cookie(&mut self, c: &serde_json::Value) {
        let (Some(name), Some(value), Some(domain)) = (
            c["name"].as_str(),
            c["value"].as_str(),
            c["domain"].as_str(),
        ) else {
            return;
        };
        let same_site = match c["sameSite"].as_str() {
            Some("Strict") => Some(cookie::SameSite::Strict),
            Some("Lax") => Some(cookie::SameSite::Lax),
            Some("None") => Some(cookie::SameSite::None),
            _ => None,
        };
        // CDP gives seconds since the epoch, and -1 (or `session: true`) for a session cookie.
        let expires = c["expires"]
            .as_f64()
            .filter(|e| *e > 0.0 && c["session"] != true)
            .and_then(|e| time::OffsetDateTime::from_unix_timestamp(e as i64).ok());
        self.jar.load(Stored::from_browser(
            name,
            value,
            domain,
            c["path"].as_str().unwrap_or("/"),
            c["secure"].as_bool().unwrap_or(false),
            c["httpOnly"].as_bool().unwrap_or(false),
            same_site,
            expires,
        ));
    }

    /// The cookies the jar holds for `url` (Domain, Path, Secure; SameSite aside), in the order
    /// they would go.
    pub fn values_for(&self, url: &Url) -> Vec<(String, String)> {
        self.jar
            .send(url, None)
            .sent
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect()
    }

    /// The cookies a browser would send with a request to `url` (name and value, longer paths
    /// first, then the older first, as RFC 6265 orders them), and those of its site it withholds
    /// and why (Domain, Path, Secure, SameSite).
    pub fn cookies_for(
        &self,
        url: &Url,
        ctx: web::RequestContext,
    ) -> (Vec<(String, String)>, Vec<BlockedCookie>) {
        let sending = self.jar.send(url, Some(ctx));
        let pairs = sending
            .sent
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect();
        (pairs, sending.withheld)
    }

    /// Offers every `Set-Cookie` of an answer from `url` to the jar, as a browser would for a
    /// request made in `ctx`, and records what became of each.
    pub fn store_cookies(
        &mut self,
        url: &Url,
        headers: &HeaderMap,
        ctx: web::RequestContext,
        r: &mut Redactor,
    ) -> Vec<SetCookie> {
        headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|raw| self.offer(raw, url, ctx, r))
            .collect()
    }

    fn offer(
        &mut self,
        raw: &str,
        url: &Url,
        ctx: web::RequestContext,
        r: &mut Redactor,
    ) -> SetCookie {
        let Ok(cookie) = RawCookie::parse(raw.to_string()) else {
            return unparsable_set_cookie(raw, r);
        };
        let refusal = web::set_cookie_refusal(&cookie, url)
            .or_else(|| web::third_party_blocks(ctx).then_some(CookieReason::UserPreferences));
        let (action, refusal) = match refusal {
            Some(reason) => (CookieAction::Refused, Some(CookieReasons::one(reason))),
            None => match self.jar.offer(&cookie, url) {
                Ok(Kept::Cleared) => (CookieAction::Cleared, None),
                Ok(Kept::Set) => (CookieAction::Set, None),
                Err(reason) => (CookieAction::Refused, Some(CookieReasons::one(reason))),
            },
        };
        set_cookie_record(&cookie, raw, action, refusal, r)
    }
}

/// `Set-Cookie` lines as a browser reported them (its log, a HAR): each set, cleared, or refused
/// where `blocked` names its line with the browser's reasons.
pub fn set_cookie_lines<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    blocked: &[(String, CookieReasons)],
    r: &mut Redactor,
) -> Vec<SetCookie> {
    lines
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let Ok(cookie) = RawCookie::parse(line.to_string()) else {
                return unparsable_set_cookie(line, r);
            };
            let refusal = blocked
                .iter()
                .find(|(l, _)| l == line)
                .map(|(_, why)| why.clone());
            let action = match (&refusal, web::is_clearing(&cookie)) {
                (Some(_), _) => CookieAction::Refused,
                (None, true) => CookieAction::Cleared,
                (None, false) => CookieAction::Set,
            };
            set_cookie_record(&cookie, line, action, refusal, r)
        })
        .collect()
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
        max_age: cookie
            .max_age()
            .filter(|d| !web::jar::max_age_unreadable(*d))
            .map(|d| d.whole_seconds()),
        expires: cookie.expires_datetime().and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        }),
        action,
        refusal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A form posted to another site (a top-level navigation, not a safe method).
    const CROSS_SITE_POST: web::RequestContext = web::RequestContext {
        cross_site: true,
        safe_method: false,
        navigation: true,
    };

    #[test]
    fn the_browsers_cookies_keep_what_decides_where_they_go() {
        let mut record = Record::default();
        for (name, same_site) in [("none", "None"), ("lax", "Lax"), ("unset", "")] {
            record.load_browser_cookie(&serde_json::json!({
                "name": name, "value": "v", "domain": "api.example.com", "path": "/",
                "secure": true, "httpOnly": true, "sameSite": same_site,
                "expires": -1, "session": true,
            }));
        }
        record.load_browser_cookie(&serde_json::json!({
            "name": "gone", "value": "v", "domain": ".example.com", "path": "/",
            "secure": false, "httpOnly": false, "expires": 1.0, "session": false,
        }));
        let url = Url::parse("https://api.example.com/me").unwrap();
        let (sent, withheld) = record.cookies_for(&url, CROSS_SITE_POST);
        // SameSite=None goes with a form posted from another site, and an unset SameSite (a
        // navigation); Lax stays behind; an expired one is gone.
        let names: Vec<&str> = sent.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["none", "unset"]);
        let withheld: Vec<String> = withheld
            .iter()
            .map(|b| format!("{} {}", b.name, b.reason))
            .collect();
        assert_eq!(withheld, ["lax SameSiteLax"]);
    }
}
