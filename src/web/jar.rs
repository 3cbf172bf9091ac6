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
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let (domain, host_only) = match cookie
            .domain()
            .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
        {
            None => (host.clone(), true),
            // RFC 6265 §5.3 step 5: a public suffix is no Domain, unless it is the host (an IP
            // address has no parent to share with either).
            Some(d) if is_public_suffix(&d) || is_ip(&d) => {
                if d == host {
                    (host.clone(), true)
                } else {
                    return Err(CookieReason::InvalidDomain);
                }
            }
            Some(d) if domain_matches(&host, &d) => (d, false),
            Some(_) => return Err(CookieReason::InvalidDomain),
        };
        let path = cookie
            .path()
            .filter(|p| p.starts_with('/'))
            .map(str::to_string)
            .unwrap_or_else(|| default_path(url));
        let now = OffsetDateTime::now_utc();
        // Max-Age wins over Expires; one too large to add lasts as long as time does.
        let expires = match cookie.max_age() {
            Some(age) => Some(now.checked_add(age).unwrap_or(if age.is_negative() {
                OffsetDateTime::UNIX_EPOCH
            } else {
                time::PrimitiveDateTime::MAX.assume_utc()
            })),
            None => cookie.expires_datetime(),
        };
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

/// Whether a Domain is a public suffix (`com`, `co.uk`, `vercel.app`; an unknown top-level
/// name like `test` too, by the list's default rule).
fn is_public_suffix(domain: &str) -> bool {
    psl::suffix_str(domain).is_some_and(|s| s == domain)
}

fn is_ip(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok()
}

/// RFC 6265 §5.1.3: the host is the domain, or ends with `.domain` and is no IP address.
fn domain_matches(host: &str, domain: &str) -> bool {
    host == domain
        || (host.ends_with(domain)
            && host[..host.len() - domain.len()].ends_with('.')
            && !is_ip(host))
}

/// RFC 6265 §5.1.4.
fn path_matches(request: &str, cookie: &str) -> bool {
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
        // A Max-Age past any date lasts; one far in the past deletes.
        offer(
            &mut jar,
            "far=1; Max-Age=9223372036854775807",
            "https://app.test/",
        )
        .unwrap();
        assert_eq!(
            offer(
                &mut jar,
                "far=; Max-Age=-9223372036854775808",
                "https://app.test/"
            ),
            Ok(Kept::Cleared)
        );
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
