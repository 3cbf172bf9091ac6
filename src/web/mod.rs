//! The browser's rules as pure functions: which origins are secure, what a site is, which
//! `Set-Cookie` a browser refuses and why, and which cookies it sends or withholds on a request.
//! Both drivers and the diagnosis call these; nothing here does I/O.

pub mod jar;

use crate::trace::CookieReason;
use cookie::Cookie as RawCookie;
use cookie::SameSite;
use url::Url;

/// The cookie-name prefixes browsers give rules of their own.
pub const PREFIXES: &[&str] = &["__Secure-", "__Host-"];

/// A cookie's name without its `__Secure-`/`__Host-` prefix.
pub fn unprefixed(name: &str) -> &str {
    PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

/// Loopback and https origins are "secure" to browsers: Secure cookies may be set from them
/// (`*.localhost` counts as loopback).
pub fn is_secure_origin(url: &Url) -> bool {
    url.scheme() == "https"
        || match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// A URL's host with its port when it names one (`app.test:3000`), or nothing when it does not
/// parse: how evidence and rules tell the chain's hosts apart.
pub fn host_port(url: &str) -> String {
    Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_default()
}

/// The site of a URL for SameSite: its scheme and registrable domain, by the public suffix list
/// (private registries included, as browsers use it). A host with no registrable domain (an IP
/// address, `localhost`, a name under an unknown suffix) is its own site.
pub fn site(url: &Url) -> String {
    let host = match url.host() {
        Some(url::Host::Domain(d)) => psl::domain_str(d).unwrap_or(d).to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    format!("{}://{host}", url.scheme())
}

/// The `Sec-Fetch-Site` a browser sends with a request from a page at `page` to `url`.
pub fn fetch_site(page: &Url, url: &Url) -> &'static str {
    if page.origin() == url.origin() {
        "same-origin"
    } else if site(page) == site(url) {
        "same-site"
    } else {
        "cross-site"
    }
}

/// The origin the app's authorization request names as its `redirect_uri`: where the IdP sends
/// the browser back, the app's even when its host differs from the one the login started on (a
/// canonical URL, a proxy's host name). Only the first request that carries one counts: the
/// app's own, as it leaves for the IdP; an IdP that hands the login on to another names itself
/// in a later one.
pub fn redirect_origins(urls: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<url::Origin> {
    authorization_request(urls)
        .and_then(|url| param(&url, "redirect_uri"))
        .and_then(|v| Url::parse(&v).ok())
        .map(|to| to.origin())
        .into_iter()
        .collect()
}

/// The app's authorization request: the first URL with a `client_id`, a `response_type` or a
/// `request_uri` (PAR), and an absolute `redirect_uri` or a `request_uri`.
pub fn authorization_request(urls: impl IntoIterator<Item = impl AsRef<str>>) -> Option<Url> {
    urls.into_iter()
        .filter_map(|u| Url::parse(u.as_ref()).ok())
        .find(|url| {
            let absolute = param(url, "redirect_uri").is_some_and(|r| Url::parse(&r).is_ok());
            let by_reference = param(url, "request_uri").is_some();
            param(url, "client_id").is_some()
                && (param(url, "response_type").is_some() || by_reference)
                && (absolute || by_reference)
        })
}

/// A query parameter's value.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// How a request goes out, as far as SameSite cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestContext {
    /// Its initiator, or a redirect on the way, is on another site.
    pub cross_site: bool,
    /// A safe method (GET, HEAD).
    pub safe_method: bool,
    /// A top-level navigation (a redirect, a link, a form) rather than a page's `fetch`.
    pub navigation: bool,
}

/// Why a browser would withhold a cookie of this SameSite from the request, in Chromium's words.
/// On a top-level navigation, cookies without SameSite go as with `None` (Chromium's "Lax by
/// default" lets them through on the POSTs of a fresh login anyway, its two-minute allowance); on
/// a cross-site `fetch` they are withheld like `Lax` ones.
pub fn same_site_withholds(
    same_site: Option<SameSite>,
    req: RequestContext,
) -> Option<CookieReason> {
    if !req.cross_site {
        return None;
    }
    match same_site {
        Some(SameSite::Strict) => Some(CookieReason::SameSiteStrict),
        Some(SameSite::Lax) if !req.safe_method || !req.navigation => {
            Some(CookieReason::SameSiteLax)
        }
        None if !req.navigation => Some(CookieReason::SameSiteUnspecifiedTreatedAsLax),
        Some(SameSite::Lax) | Some(SameSite::None) | None => None,
    }
}

/// Whether third-party cookie blocking keeps cookies off the request: a request to another site
/// than the page's that is no top-level navigation (a page's `fetch` to another site) neither
/// stores nor sends cookies, whatever their SameSite. Chromium reports it as `UserPreferences`;
/// it is the Chromium the browser driver runs that blocks them, in a fresh profile (measured with
/// Chromium 156), and the HTTP driver does as it does.
pub fn third_party_blocks(req: RequestContext) -> bool {
    req.cross_site && !req.navigation
}

/// The rules browsers apply before a cookie reaches the jar, which a cookie store leaves out;
/// the reasons carry Chromium's names so both drivers speak alike.
pub fn set_cookie_refusal(cookie: &RawCookie, url: &Url) -> Option<CookieReason> {
    let secure = cookie.secure().unwrap_or(false);
    let name = cookie.name();
    if secure && !is_secure_origin(url) {
        return Some(if unprefixed(name) != name {
            CookieReason::InvalidPrefix
        } else {
            CookieReason::SecureOnly
        });
    }
    if name.starts_with("__Secure-") && !secure {
        return Some(CookieReason::InvalidPrefix);
    }
    if cookie.same_site() == Some(SameSite::None) && !secure {
        return Some(CookieReason::SameSiteNoneInsecure);
    }
    // Chromium's limit on a cookie's name and value together.
    if cookie.name().len() + cookie.value().len() > 4096 {
        return Some(CookieReason::NameValuePairExceedsMaxSize);
    }
    if name.starts_with("__Host-")
        && (!secure || cookie.domain().is_some() || cookie.path() != Some("/"))
    {
        return Some(CookieReason::InvalidPrefix);
    }
    None
}

/// Whether a cookie's name breaks its prefix's rules by its attributes alone (a server's fault
/// wherever it is served from).
pub fn breaks_prefix(name: &str, secure: bool, domain: Option<&str>, path: Option<&str>) -> bool {
    (name.starts_with("__Secure-") && !secure)
        || (name.starts_with("__Host-") && (!secure || domain.is_some() || path != Some("/")))
}

/// Whether a cookie deletes itself: `Max-Age<=0`, or an `Expires` in the past.
pub fn is_clearing(cookie: &RawCookie) -> bool {
    let max_age = cookie.max_age().map(|d| d.whole_seconds());
    max_age.is_some_and(|s| s <= 0)
        || (max_age.is_none()
            && cookie
                .expires_datetime()
                .is_some_and(|t| t <= time::OffsetDateTime::now_utc()))
}

/// The attributes of a stored cookie that decide where it goes.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// The URL whose answer set it.
    pub set_by: &'a Url,
    pub domain: Option<&'a str>,
    pub path: Option<&'a str>,
    pub secure: bool,
}

/// Why a cookie would not go with a request: the browser's reason, and in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsent {
    pub reason: CookieReason,
    pub why: String,
}

/// Whether a cookie would go with a request to `target`, and if not, why.
pub fn would_send(c: Scope, target: &Url) -> Result<(), Unsent> {
    let host = target.host_str().unwrap_or_default();
    let unsent = |reason, why| Err(Unsent { reason, why });
    match c.domain {
        Some(d) => {
            let d = d.trim_start_matches('.');
            if host != d && !host.ends_with(&format!(".{d}")) {
                return unsent(
                    CookieReason::DomainMismatch,
                    format!("its Domain={d} does not cover {host}"),
                );
            }
        }
        None if c.set_by.host_str() != Some(host) => {
            return unsent(
                CookieReason::DomainMismatch,
                format!(
                    "it has no Domain, so it goes back only to {}, not to {host}",
                    c.set_by.host_str().unwrap_or_default()
                ),
            );
        }
        None => {}
    }
    let path = c.path.map(str::to_string).unwrap_or_else(|| {
        let p = c.set_by.path();
        p[..p.rfind('/').unwrap_or(0).max(1)].to_string()
    });
    let tp = target.path();
    if !(tp == path || tp.starts_with(&format!("{}/", path.trim_end_matches('/'))) || path == "/") {
        return unsent(
            CookieReason::NotOnPath,
            format!("its Path={path} does not cover {tp}"),
        );
    }
    if c.secure && !is_secure_origin(target) {
        return unsent(
            CookieReason::SecureOnly,
            format!("it is Secure and {target} is plain http"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(raw: &str, url: &str) -> Option<String> {
        set_cookie_refusal(&RawCookie::parse(raw).unwrap(), &Url::parse(url).unwrap())
            .map(|r| r.as_str().to_string())
    }

    #[test]
    fn prefixes_and_secure() {
        for (raw, url, want) in [
            (
                "__Secure-a=1; Path=/",
                "https://a.test/",
                Some("InvalidPrefix"),
            ),
            (
                "__Secure-a=1; Secure",
                "http://app.test/",
                Some("InvalidPrefix"),
            ),
            ("__Secure-a=1; Secure", "http://localhost:3/", None),
            ("__Secure-a=1; Secure", "http://app.localhost:3/", None),
            (
                "__Host-a=1; Secure; Path=/; Domain=a.test",
                "https://a.test/",
                Some("InvalidPrefix"),
            ),
            ("__Host-a=1; Secure; Path=/", "https://a.test/", None),
            ("a=1; Secure", "http://app.test/", Some("SecureOnly")),
            (
                "a=1; SameSite=None",
                "https://a.test/",
                Some("SameSiteNoneInsecure"),
            ),
        ] {
            assert_eq!(refusal(raw, url).as_deref(), want, "{raw} from {url}");
        }
    }

    #[test]
    fn same_site_rules() {
        use SameSite::{Lax, None as Unrestricted, Strict};
        let ctx = |cross_site, safe_method, navigation| RequestContext {
            cross_site,
            safe_method,
            navigation,
        };
        for (same_site, req, want) in [
            (Some(Strict), ctx(false, true, true), None),
            (Some(Strict), ctx(true, true, true), Some("SameSiteStrict")),
            (Some(Lax), ctx(true, true, true), None),
            (Some(Lax), ctx(true, false, true), Some("SameSiteLax")),
            (None, ctx(true, false, true), None),
            (
                None,
                ctx(true, true, false),
                Some("SameSiteUnspecifiedTreatedAsLax"),
            ),
            (Some(Lax), ctx(true, true, false), Some("SameSiteLax")),
            (Some(Unrestricted), ctx(true, true, false), None),
        ] {
            assert_eq!(
                same_site_withholds(same_site, req)
                    .as_ref()
                    .map(CookieReason::as_str),
                want,
                "{same_site:?} {req:?}"
            );
        }
    }

    #[test]
    fn third_party_cookies() {
        for (cross_site, navigation, blocked) in [
            (false, false, false),
            (false, true, false),
            (true, true, false),
            (true, false, true),
        ] {
            let req = RequestContext {
                cross_site,
                safe_method: true,
                navigation,
            };
            assert_eq!(third_party_blocks(req), blocked, "{req:?}");
        }
    }

    #[test]
    fn the_apps_return_address_is_its_own_authorization_requests() {
        let hops = [
            "http://web.test/",
            // A start of the app's own that names where to go next: no authorization request.
            "http://web.test/login?redirect_uri=%2Fhome",
            "http://idp.test/authorize?client_id=a&response_type=code&redirect_uri=http%3A%2F%2Fapp.test%2Fcb",
            // The IdP hands the login on to another, naming itself.
            "http://github.test/login/oauth?redirect_uri=http%3A%2F%2Fidp.test%2Fbroker",
        ];
        let origins = redirect_origins(hops);
        assert_eq!(origins.len(), 1);
        assert_eq!(origins[0].ascii_serialization(), "http://app.test");
        assert!(redirect_origins(["http://app.test/?next=/x"]).is_empty());
        // Pushed authorization (PAR): by reference, no redirect_uri to read.
        let par = "http://idp.test/authorize?client_id=a&request_uri=urn%3Apar%3A1";
        assert!(authorization_request([par]).is_some());
        assert!(redirect_origins([par]).is_empty());
    }

    #[test]
    fn fetch_sites() {
        let u = |s: &str| Url::parse(s).unwrap();
        let page = u("https://web.example.com/");
        assert_eq!(
            fetch_site(&page, &u("https://web.example.com/api")),
            "same-origin"
        );
        assert_eq!(
            fetch_site(&page, &u("https://api.example.com/me")),
            "same-site"
        );
        assert_eq!(
            fetch_site(&page, &u("https://api.other.test/me")),
            "cross-site"
        );
        assert_eq!(
            fetch_site(&page, &u("http://web.example.com/")),
            "cross-site"
        );
    }

    #[test]
    fn sites() {
        let s = |u: &str| site(&Url::parse(u).unwrap());
        assert_eq!(
            s("https://app.example.com/x"),
            s("https://auth.example.com/")
        );
        assert_ne!(s("http://localhost:3000/"), s("http://127.0.0.1:4000/"));
        assert_ne!(s("http://example.com/"), s("https://example.com/"));
        assert_ne!(s("https://app.acme.co.uk/"), s("https://sso.other.co.uk/"));
        assert_ne!(s("https://a.vercel.app/"), s("https://b.vercel.app/"));
        assert_ne!(s("http://app.test/"), s("http://sso.test/"));
    }

    #[test]
    fn sending() {
        let set_by = Url::parse("https://api.example.com/auth/cb").unwrap();
        let scope = |domain, path, secure| Scope {
            set_by: &set_by,
            domain,
            path,
            secure,
        };
        let to = |u: &str| Url::parse(u).unwrap();
        assert!(
            would_send(
                scope(None, Some("/"), true),
                &to("https://api.example.com/x")
            )
            .is_ok()
        );
        assert!(
            would_send(
                scope(None, Some("/"), true),
                &to("https://app.example.com/x")
            )
            .unwrap_err()
            .why
            .contains("no Domain")
        );
        assert!(
            would_send(
                scope(Some(".example.com"), Some("/"), true),
                &to("https://app.example.com/")
            )
            .is_ok()
        );
        assert!(
            would_send(
                scope(None, Some("/auth"), false),
                &to("https://api.example.com/api")
            )
            .unwrap_err()
            .why
            .contains("Path=/auth")
        );
        assert!(
            would_send(
                scope(None, None, true),
                &to("http://api.example.com/auth/x")
            )
            .unwrap_err()
            .why
            .contains("Secure")
        );
    }
}
