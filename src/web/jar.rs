//! A cookie jar that stores and sends cookies as Chromium does (RFC 6265 §5.3 and §5.4): a
//! Domain that is a public suffix is refused unless it is the host itself (then the cookie is
//! host-only), a host-only cookie and a Domain cookie of the same name are two cookies, cookies
//! go out longer Path first and then oldest first, and every cookie of the request's site that
//! does not go says why, in Chromium's words (`DomainMismatch`, `NotOnPath`, `SecureOnly`,
//! `UserPreferences` for blocked third-party cookies, the SameSite reasons). No I/O.

use super::{RequestContext, is_secure_origin, same_site_withholds, third_party_blocks};
use crate::trace::{BlockedCookie, CookieReason, CookieReasons};
use cookie::Cookie as RawCookie;
use cookie::SameSite;
use time::OffsetDateTime;
use url::Url;

/// One cookie in the jar.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub name: String,
    pub value: String,
    /// Lower case, without a leading dot: the host for a host-only cookie.
    pub domain: String,
    pub host_only: bool,
    pub path: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<SameSite>,
    /// When it expires; none for a cookie that lasts as long as the browser session.
    pub expires: Option<OffsetDateTime>,
    /// The order of creation; a cookie that replaces another keeps the older one's.
    created: u64,
}

impl Stored {
    /// A cookie as a browser reports it from its own jar.
    #[allow(clippy::too_many_arguments)]
    pub fn from_browser(
        name: &str,
        value: &str,
        domain: &str,
        path: &str,
        secure: bool,
        http_only: bool,
        same_site: Option<SameSite>,
        expires: Option<OffsetDateTime>,
    ) -> Stored {
        Stored {
            name: name.to_string(),
            value: value.to_string(),
            domain: domain.trim_start_matches('.').to_ascii_lowercase(),
            host_only: !domain.starts_with('.'),
            path: if path.starts_with('/') {
                path.to_string()
            } else {
                "/".into()
            },
            secure,
            http_only,
            same_site,
            expires,
            created: 0,
        }
    }

    fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }

    fn same_key(&self, other: &Stored) -> bool {
        self.name == other.name
            && self.domain == other.domain
            && self.host_only == other.host_only
            && self.path == other.path
    }

    /// Whether it would go to `host` by its Domain alone.
    fn domain_matches(&self, host: &str) -> bool {
        if self.host_only {
            host == self.domain
        } else {
            domain_matches(host, &self.domain)
        }
    }
}

/// What became of a cookie the jar accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    Set,
    /// It expires at once: it deletes its namesake, if any.
    Cleared,
}

/// The cookies a request carries, in the order they go, and those of its site that stay behind.
#[derive(Debug, Default)]
pub struct Sending<'a> {
    pub sent: Vec<&'a Stored>,
    pub withheld: Vec<BlockedCookie>,
}

#[derive(Clone, Debug, Default)]
pub struct Jar {
    cookies: Vec<Stored>,
    clock: u64,
}

impl Jar {
    pub fn iter(&self) -> impl Iterator<Item = &Stored> {
        self.cookies.iter()
    }

    /// Offers a `Set-Cookie` from an answer of `url`: stored, or refused with Chromium's reason.
    pub fn offer(&mut self, cookie: &RawCookie, url: &Url) -> Result<Kept, CookieReason> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CookieReason::SchemeNotSupported);
        }
        let now = OffsetDateTime::now_utc();
        self.cookies.retain(|c| !c.expired(now));
        let (domain, host_only) = scope(url, cookie.domain())?;
        let path = cookie_path(url, cookie.path());
        let expires = expiry(cookie, now);
        let secure = cookie.secure().unwrap_or(false);
        // A page that is not secure may not overwrite a Secure cookie (Chromium's strict secure
        // cookies).
        if !secure
            && !is_secure_origin(url)
            && self.cookies.iter().any(|c| {
                c.secure
                    && c.name == cookie.name()
                    && (domain_matches(&c.domain, &domain) || domain_matches(&domain, &c.domain))
                    && path_matches(&path, &c.path)
            })
        {
            return Err(CookieReason::OverwriteSecure);
        }
        let mut new = Stored {
            name: cookie.name().to_string(),
            value: cookie.value().to_string(),
            domain,
            host_only,
            path,
            secure,
            http_only: cookie.http_only().unwrap_or(false),
            same_site: cookie.same_site(),
            expires,
            created: 0,
        };
        let old = self.cookies.iter().position(|c| c.same_key(&new));
        if new.expired(now) {
            if let Some(i) = old {
                self.cookies.remove(i);
            }
            return Ok(Kept::Cleared);
        }
        match old {
            Some(i) => {
                new.created = self.cookies[i].created;
                self.cookies[i] = new;
            }
            None => self.load(new),
        }
        Ok(Kept::Set)
    }

    /// Puts a cookie in as it is (from a browser's jar, or preloaded), replacing its namesake.
    pub fn load(&mut self, mut c: Stored) {
        self.clock += 1;
        c.created = self.clock;
        self.cookies.retain(|o| !o.same_key(&c));
        self.cookies.push(c);
    }

    /// The cookies a request to `url` carries, and those of its site withheld and why. Without a
    /// context, SameSite withholds nothing (what the jar holds for the URL).
    pub fn send(&self, url: &Url, ctx: Option<RequestContext>) -> Sending<'_> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let site = site_key(&host);
        let now = OffsetDateTime::now_utc();
        let mut out = Sending::default();
        for c in self.cookies.iter().filter(|c| !c.expired(now)) {
            let mut reasons = Vec::new();
            if !c.domain_matches(&host) {
                // Only the cookies of the request's site are told of, as Chromium does.
                if site_key(&c.domain) != site {
                    continue;
                }
                reasons.push(CookieReason::DomainMismatch);
            }
            if !path_matches(url.path(), &c.path) {
                reasons.push(CookieReason::NotOnPath);
            }
            if c.secure && !is_secure_origin(url) {
                reasons.push(CookieReason::SecureOnly);
            }
            if ctx.is_some_and(third_party_blocks) {
                reasons.push(CookieReason::UserPreferences);
            }
            if let Some(reason) = ctx.and_then(|ctx| same_site_withholds(c.same_site, ctx)) {
                reasons.push(reason);
            }
            if reasons.is_empty() {
                out.sent.push(c);
            } else {
                out.withheld.push(BlockedCookie {
                    name: c.name.clone(),
                    reason: CookieReasons(reasons),
                });
            }
        }
        out.sent
            .sort_by_key(|c| (std::cmp::Reverse(c.path.len()), c.created));
        out
    }
}

/// Where a cookie set by an answer of `url` goes: its domain (lower case, no leading dot) and
/// whether it is host-only, or Chromium's reason to refuse its Domain. A Domain that is a public
/// suffix or an IP address counts only when it is the host itself, and then makes the cookie
/// host-only (RFC 6265 §5.3 step 5).
pub fn scope(url: &Url, domain: Option<&str>) -> Result<(String, bool), CookieReason> {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let attribute = domain
        .map(|d| d.strip_prefix('.').unwrap_or(d).to_ascii_lowercase())
        .filter(|d| !d.is_empty());
    match attribute {
        None => Ok((host, true)),
        Some(d) if is_public_suffix(&d) || is_ip(&d) => {
            if d == host {
                Ok((host, true))
            } else {
                Err(CookieReason::InvalidDomain)
            }
        }
        Some(d) if domain_matches(&host, &d) => Ok((d, false)),
        Some(_) => Err(CookieReason::InvalidDomain),
    }
}

/// A cookie's Path: the attribute when it starts with `/`, else the directory of the URL's path
/// (RFC 6265 §5.2.4, §5.1.4).
pub fn cookie_path(url: &Url, path: Option<&str>) -> String {
    path.filter(|p| p.starts_with('/'))
        .map(str::to_string)
        .unwrap_or_else(|| default_path(url))
}

/// Chromium keeps no cookie longer than 400 days.
const MAX_LIFE: time::Duration = time::Duration::days(400);

/// When a cookie expires: Max-Age wins over Expires, and no cookie outlives 400 days. The
/// `cookie` crate reads an empty `Max-Age=` and one past `i64::MAX` seconds alike (see
/// [`max_age_unreadable`]): then Expires decides, or the 400 days.
fn expiry(cookie: &RawCookie, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let at = match cookie.max_age() {
        Some(age) if max_age_unreadable(age) => cookie.expires_datetime().or(Some(now + MAX_LIFE)),
        Some(age) if age <= time::Duration::ZERO => Some(OffsetDateTime::UNIX_EPOCH),
        Some(age) => Some(now + age.min(MAX_LIFE)),
        None => cookie.expires_datetime(),
    };
    at.map(|t| t.min(now + MAX_LIFE))
}

/// Whether a parsed Max-Age is the value the `cookie` crate gives `Max-Age=` with no number.
pub fn max_age_unreadable(age: time::Duration) -> bool {
    age.whole_seconds() == i64::MAX
}

/// Whether a Domain is a public suffix (`com`, `co.uk`, `vercel.app`; an unknown top-level
/// name like `test` too, by the list's default rule).
fn is_public_suffix(domain: &str) -> bool {
    psl::suffix_str(domain).is_some_and(|s| s == domain)
}

fn is_ip(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok()
}

/// RFC 6265 §5.1.3: the host is the domain, or ends with `.domain` and is no IP address.
pub fn domain_matches(host: &str, domain: &str) -> bool {
    host == domain
        || (host.ends_with(domain)
            && host[..host.len() - domain.len()].ends_with('.')
            && !is_ip(host))
}

/// RFC 6265 §5.1.4.
pub(crate) fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request[cookie.len()..].starts_with('/')))
}

/// RFC 6265 §5.1.4: the directory of the request's path.
fn default_path(url: &Url) -> String {
    let p = url.path();
    match p.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => p[..i].to_string(),
    }
}

/// What a host's cookies are kept under: its registrable domain, or the host itself.
fn site_key(host: &str) -> &str {
    if is_ip(host) {
        return host;
    }
    psl::domain_str(host).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    fn offer(jar: &mut Jar, raw: &str, from: &str) -> Result<Kept, String> {
        jar.offer(&RawCookie::parse(raw).unwrap(), &url(from))
            .map_err(|r| r.as_str().to_string())
    }

    #[test]
    fn domains_as_chromium_takes_them() {
        // (Set-Cookie, from, stored as (domain, host-only) or refused with)
        for (raw, from, want) in [
            (
                "a=1",
                "https://app.example.com/",
                Ok(("app.example.com", true)),
            ),
            (
                "a=1; Domain=example.com",
                "https://app.example.com/",
                Ok(("example.com", false)),
            ),
            (
                "a=1; Domain=.Example.COM",
                "https://app.example.com/",
                Ok(("example.com", false)),
            ),
            (
                "a=1; Domain=other.com",
                "https://app.example.com/",
                Err("InvalidDomain"),
            ),
            (
                "a=1; Domain=ample.com",
                "https://example.com/",
                Err("InvalidDomain"),
            ),
            // A public suffix: refused, unless it is the host itself (then host-only).
            (
                "a=1; Domain=com",
                "https://example.com/",
                Err("InvalidDomain"),
            ),
            (
                "a=1; Domain=co.uk",
                "https://shop.co.uk/",
                Err("InvalidDomain"),
            ),
            (
                "a=1; Domain=vercel.app",
                "https://my.vercel.app/",
                Err("InvalidDomain"),
            ),
            (
                "a=1; Domain=vercel.app",
                "https://vercel.app/",
                Ok(("vercel.app", true)),
            ),
            (
                "a=1; Domain=localhost",
                "http://localhost:3000/",
                Ok(("localhost", true)),
            ),
            (
                "a=1; Domain=localhost",
                "http://app.localhost:3000/",
                Err("InvalidDomain"),
            ),
            // An IP address matches only itself.
            (
                "a=1; Domain=0.0.1",
                "http://127.0.0.1/",
                Err("InvalidDomain"),
            ),
            (
                "a=1; Domain=127.0.0.1",
                "http://127.0.0.1/",
                Ok(("127.0.0.1", true)),
            ),
        ] {
            let mut jar = Jar::default();
            let got = offer(&mut jar, raw, from).map(|_| {
                let c = jar.iter().next().unwrap();
                (c.domain.clone(), c.host_only)
            });
            let want = want
                .map(|(d, h)| (d.to_string(), h))
                .map_err(str::to_string);
            assert_eq!(got, want, "{raw} from {from}");
        }
    }

    #[test]
    fn paths_expiry_and_replacement() {
        let mut jar = Jar::default();
        offer(&mut jar, "a=1", "https://app.test/auth/callback/x").unwrap();
        assert_eq!(jar.iter().next().unwrap().path, "/auth/callback");
        offer(&mut jar, "b=1; Path=relative", "https://app.test/x").unwrap();
        assert_eq!(jar.iter().nth(1).unwrap().path, "/");
        // The same name, Domain and Path replaces, keeping its place in time.
        offer(&mut jar, "c=1; Path=/", "https://app.test/").unwrap();
        offer(&mut jar, "b=2; Path=/", "https://app.test/").unwrap();
        let sent: Vec<String> = jar
            .send(&url("https://app.test/"), None)
            .sent
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        assert_eq!(sent, ["b=2", "c=1"]);
        // Max-Age=0 deletes; an Expires in the past too.
        assert_eq!(
            offer(&mut jar, "b=; Max-Age=0", "https://app.test/"),
            Ok(Kept::Cleared)
        );
        assert_eq!(
            offer(
                &mut jar,
                "c=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "https://app.test/"
            ),
            Ok(Kept::Cleared)
        );
        assert!(jar.send(&url("https://app.test/"), None).sent.is_empty());
        // A Max-Age past any date, or an empty one, lasts at most 400 days; one far in the past
        // deletes.
        for raw in ["far=1; Max-Age=9223372036854775807", "far=1; Max-Age="] {
            offer(&mut jar, raw, "https://app.test/").unwrap();
            let far = jar.iter().find(|c| c.name == "far").unwrap();
            let left = far.expires.unwrap() - OffsetDateTime::now_utc();
            assert!(
                left <= MAX_LIFE && left > MAX_LIFE - time::Duration::hours(1),
                "{raw}"
            );
        }
        assert_eq!(
            offer(
                &mut jar,
                "far=; Max-Age=-9223372036854775808",
                "https://app.test/"
            ),
            Ok(Kept::Cleared)
        );
        // Max-Age wins over an Expires in the past.
        offer(
            &mut jar,
            "both=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "https://app.test/",
        )
        .unwrap();
        assert!(jar.iter().any(|c| c.name == "both"));
        // Plain http may not overwrite a Secure cookie.
        offer(&mut jar, "s=1; Secure", "https://app.test/").unwrap();
        assert_eq!(
            offer(&mut jar, "s=2", "http://app.test/"),
            Err("OverwriteSecure".into())
        );
    }

    #[test]
    fn sending_order_and_reasons() {
        let mut jar = Jar::default();
        for raw in [
            "top=1; Path=/",
            "deep=1; Path=/api/auth",
            "mid=1; Path=/api",
            "early=1; Path=/api",
            "secure=1; Path=/; Secure",
            "lax=1; Path=/; SameSite=Lax",
            "none=1; Path=/; SameSite=None; Secure",
            "other=1; Path=/admin",
        ] {
            offer(&mut jar, raw, "https://app.example.com/").unwrap();
        }
        offer(
            &mut jar,
            "parent=1; Domain=example.com",
            "https://app.example.com/",
        )
        .unwrap();
        offer(&mut jar, "sibling=1", "https://api.example.com/").unwrap();
        offer(&mut jar, "elsewhere=1", "https://other.org/").unwrap();
        // Longer Path first, then the earlier creation.
        let s = jar.send(&url("https://app.example.com/api/auth/session"), None);
        let names: Vec<&str> = s.sent.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "deep", "mid", "early", "top", "secure", "lax", "none", "parent"
            ]
        );
        let withheld: Vec<String> = s
            .withheld
            .iter()
            .map(|b| format!("{} {}", b.name, b.reason))
            .collect();
        // Another site's cookies are not told of.
        assert_eq!(withheld, ["other NotOnPath", "sibling DomainMismatch"]);
        // Plain http, from another site, by a page's fetch.
        let ctx = RequestContext {
            cross_site: true,
            safe_method: true,
            navigation: false,
        };
        let s = jar.send(&url("http://app.example.com/x"), Some(ctx));
        assert!(s.sent.is_empty());
        let reasons: Vec<String> = s
            .withheld
            .iter()
            .filter(|b| ["secure", "lax", "none", "top", "deep"].contains(&b.name.as_str()))
            .map(|b| format!("{} {}", b.name, b.reason))
            .collect();
        assert_eq!(
            reasons,
            [
                "top UserPreferences,SameSiteUnspecifiedTreatedAsLax",
                "deep NotOnPath,UserPreferences,SameSiteUnspecifiedTreatedAsLax",
                "secure SecureOnly,UserPreferences,SameSiteUnspecifiedTreatedAsLax",
                "lax UserPreferences,SameSiteLax",
                "none SecureOnly,UserPreferences",
            ]
        );
    }

    #[test]
    fn edges() {
        // Path matching: a whole segment, or a Path ending in a slash.
        for (request, cookie, want) in [
            ("/api", "/api", true),
            ("/api/x", "/api", true),
            ("/apix", "/api", false),
            ("/api", "/api/", false),
            ("/api/", "/api/", true),
            ("/api/x", "/api/", true),
            ("/", "/", true),
        ] {
            assert_eq!(
                path_matches(request, cookie),
                want,
                "{request} under {cookie}"
            );
        }
        // A host-only cookie and a Domain cookie of one name are two, both sent, the older first.
        let mut jar = Jar::default();
        offer(&mut jar, "sid=old; Path=/", "https://app.example.com/").unwrap();
        offer(
            &mut jar,
            "sid=new; Domain=example.com; Path=/",
            "https://app.example.com/",
        )
        .unwrap();
        let values: Vec<&str> = jar
            .send(&url("https://app.example.com/"), None)
            .sent
            .iter()
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(values, ["old", "new"]);
        // Overwriting a Secure cookie: from https, or where its Path does not reach, it may.
        offer(
            &mut jar,
            "s=1; Secure; Path=/admin",
            "https://app.example.com/",
        )
        .unwrap();
        assert!(offer(&mut jar, "s=2; Path=/", "http://app.example.com/").is_ok());
        assert_eq!(
            offer(&mut jar, "s=2; Path=/admin", "http://app.example.com/"),
            Err("OverwriteSecure".into())
        );
        assert!(offer(&mut jar, "s=3; Path=/admin", "https://app.example.com/").is_ok());
        // An IPv6 host is its own site and takes only itself as a Domain.
        let mut jar = Jar::default();
        offer(&mut jar, "a=1", "http://[::1]:3000/").unwrap();
        assert_eq!(
            offer(&mut jar, "b=1; Domain=::1", "http://[::1]:3000/"),
            Err("InvalidDomain".into())
        );
        assert_eq!(jar.send(&url("http://[::1]:3000/x"), None).sent.len(), 1);
    }

    #[test]
    fn a_browsers_cookie_keeps_its_attributes() {
        let mut jar = Jar::default();
        jar.load(Stored::from_browser(
            "sid",
            "v",
            ".example.com",
            "/",
            true,
            true,
            Some(SameSite::None),
            None,
        ));
        let ctx = RequestContext {
            cross_site: true,
            safe_method: false,
            navigation: true,
        };
        let s = jar.send(&url("https://api.example.com/me"), Some(ctx));
        assert_eq!(s.sent.len(), 1, "{:?}", s.withheld);
        assert!(s.sent[0].http_only && !s.sent[0].host_only);
    }
}
