//! Rules on cookies: prefix and Secure/SameSite rules the server broke, cookies the browser (or
//! the HTTP driver acting as one) refused, the session cookie not sent to a probe, cookies never
//! sent back, and a session cookie that outlives (or dies before) the server's session.

use super::finding;
use crate::preset::{self, CookieRole, Preset};
use crate::trace::{
    CauseKey, CookieAction, CookieReason, CookieReasons, Evidence, Finding, FindingId, Hop,
    SameSite, SetCookie, Severity, Trace,
};
use crate::web::{self, is_secure_origin};
use url::Url;

pub fn rules(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    attributes(t, &mut out);
    blocked(t, &mut out);
    too_large(t, &mut out);
    not_sent(t, &mut out);
    duplicates(t, &mut out);
    never_returned(t, &mut out);
    lifetime(t, &mut out);
    // The cause of a finding whose id says it.
    let words = crate::preset::words(t.chain.preset.as_deref());
    for f in out.iter_mut().filter(|f| f.causes.is_empty()) {
        let key = match f.id {
            FindingId::CookieTooLarge => Some(CauseKey::TooLarge),
            FindingId::CookieSecureOverHttp => Some(CauseKey::SecureOverHttp),
            FindingId::CookiePrefixViolation | FindingId::CookieSamesiteNoneInsecure => {
                Some(CauseKey::SecureAttributeMissing)
            }
            _ => None,
        };
        f.causes = key
            .map(|k| super::cause(k, words, ""))
            .into_iter()
            .collect();
    }
    out
}

pub(super) fn set_cookies(t: &Trace) -> impl Iterator<Item = (&Hop, &SetCookie)> {
    t.hops
        .iter()
        .flat_map(|h| h.set_cookies.iter().map(move |c| (h, c)))
}

/// A `Set-Cookie` of a hop as evidence.
pub(super) fn line(h: &Hop, c: &SetCookie) -> Evidence {
    let index = h
        .set_cookies
        .iter()
        .position(|x| std::ptr::eq(x, c))
        .unwrap_or_default();
    Evidence::SetCookie { hop: h.n, index }
}

/// The state and session cookies matter most: losing them breaks the login.
fn is_key_cookie(t: &Trace, name: &str) -> bool {
    let preset = t.chain.preset.as_deref().and_then(Preset::parse);
    matches!(
        preset::cookie_role(preset, name),
        CookieRole::State | CookieRole::Session | CookieRole::Cache
    )
}

fn attributes(t: &Trace, out: &mut Vec<Finding>) {
    let mut prefix = Vec::new();
    let mut insecure_http = Vec::new();
    let mut samesite = Vec::new();
    for (h, c) in set_cookies(t).filter(|(_, c)| c.action != CookieAction::Cleared) {
        let name = c.name.as_str();
        let secure_origin = Url::parse(&h.url).is_ok_and(|u| is_secure_origin(&u));
        if web::breaks_prefix(name, c.secure, c.domain.as_deref(), c.path.as_deref()) {
            prefix.push(line(h, c));
        }
        if c.secure && !secure_origin {
            insecure_http.push(line(h, c));
        }
        if c.same_site == Some(SameSite::None) && !c.secure {
            samesite.push(line(h, c));
        }
    }
    if !prefix.is_empty() {
        out.push(finding(
            FindingId::CookiePrefixViolation,
            Severity::Error,
            "A cookie breaks the rules of its name's prefix, so browsers refuse it",
            prefix,
            "A `__Secure-` cookie must carry the Secure attribute; a `__Host-` cookie must carry Secure \
             and Path=/ and no Domain. Browsers drop any cookie that breaks these rules, silently.",
            "Set Secure (and for `__Host-`, Path=/ without Domain) on the cookie, or drop the prefix.",
        ));
    }
    if !insecure_http.is_empty() {
        out.push(finding(
            FindingId::CookieSecureOverHttp,
            Severity::Error,
            "A Secure cookie is set over plain http from a non-loopback host, so browsers refuse it",
            insecure_http,
            "Browsers accept a Secure cookie (and any `__Secure-`/`__Host-` cookie) only from a secure \
             origin: https, or localhost/127.0.0.1. Over plain http on any other host name it is \
             dropped, and whatever needs it later (the state check at the callback, the session) fails.",
            format!(
                "Serve the app over https, or turn secure cookies off where it really runs on plain \
                 http ({}).",
                crate::preset::words(t.chain.preset.as_deref()).secure_cookies
            ),
        ));
    }
    if !samesite.is_empty() {
        out.push(finding(
            FindingId::CookieSamesiteNoneInsecure,
            Severity::Error,
            "A SameSite=None cookie lacks Secure, so browsers refuse it",
            samesite,
            "Browsers require Secure on every SameSite=None cookie and drop it otherwise.",
            "Add Secure (and serve over https), or use SameSite=Lax.",
        ));
    }
}

fn reason_text(reason: Option<&CookieReason>) -> &'static str {
    match reason {
        Some(CookieReason::InvalidPrefix) => {
            "its `__Secure-`/`__Host-` prefix needs Secure from a secure origin (https or localhost), and `__Host-` also Path=/ without Domain"
        }
        Some(CookieReason::SecureOnly) => {
            "it is Secure but was set over plain http from a non-loopback host"
        }
        Some(CookieReason::InvalidDomain) => {
            "its Domain attribute does not cover the host that set it, or is a public suffix \
             (`com`, `co.uk`, `vercel.app`) other than the host itself"
        }
        Some(CookieReason::OverwriteSecure) => {
            "plain http may not overwrite a Secure cookie of the same name"
        }
        Some(CookieReason::UserPreferences) => THIRD_PARTY,
        Some(CookieReason::SyntaxError) => "the Set-Cookie header could not be parsed",
        Some(CookieReason::SchemeNotSupported) => "it was set from a URL that is not http(s)",
        Some(CookieReason::SameSiteNoneInsecure) => "SameSite=None requires Secure",
        _ => "the browser's own rules refused it",
    }
}

/// Third-party cookie blocking, in words.
const THIRD_PARTY: &str = "the browser blocks third-party cookies: a request to another site \
     than the page's that is no top-level navigation (a `fetch` from the app's page to an auth \
     handler or API on another site) neither stores nor sends cookies, whatever their SameSite \
     (Chromium as the browser driver runs it, like Safari and Firefox; a browser that allows \
     third-party cookies would take a SameSite=None; Secure cookie); serve the auth handler and \
     the API on the app's site";

/// Why a cookie in the jar stayed behind on a request, in words.
pub(crate) fn withheld_text(reason: Option<&CookieReason>) -> &'static str {
    match reason {
        Some(CookieReason::DomainMismatch) => "its Domain does not cover the request's host",
        Some(CookieReason::NotOnPath) => "its Path does not cover the request's path",
        Some(CookieReason::SecureOnly) => "it is Secure and the request is plain http",
        Some(CookieReason::SameSiteStrict) => {
            "it is SameSite=Strict and the request comes from another site"
        }
        Some(CookieReason::SameSiteLax) => {
            "it is SameSite=Lax and the request is a cross-site fetch or POST"
        }
        Some(
            CookieReason::SameSiteUnspecifiedTreatedAsLax
            | CookieReason::SchemefulSameSiteUnspecifiedTreatedAsLax,
        ) => "it has no SameSite, which browsers take as Lax on a cross-site fetch or POST",
        Some(CookieReason::SchemefulSameSiteLax | CookieReason::SchemefulSameSiteStrict) => {
            "its SameSite keeps it from a request from another site (told by scheme and host)"
        }
        Some(CookieReason::UserPreferences) => THIRD_PARTY,
        _ => "the browser's own rules kept it back",
    }
}

/// A refused cookie too large for one cookie, or a request whose headers (its cookies) the
/// server refused as too large (431).
fn too_large(t: &Trace, out: &mut Vec<Finding>) {
    for (h, c) in set_cookies(t).filter(|(_, c)| is_oversized(c)) {
        out.push(finding(
            FindingId::CookieTooLarge,
            if is_key_cookie(t, &c.name) {
                Severity::Error
            } else {
                Severity::Warning
            },
            format!(
                "Cookie `{}` at {} is over 4096 bytes and was refused",
                c.name, h.n
            ),
            vec![line(h, c)],
            format!(
                "A browser keeps no cookie whose name and value pass 4096 bytes; `{}` holds {} \
                 bytes, so it never reached the jar and every later request goes without it.",
                c.name,
                c.name.len() + c.value.len
            ),
            "Keep the value small (fewer claims or tokens in it, or the session kept on the \
             server), or let the library split it into chunks.",
        ));
    }
    // The first request whose headers were refused: what it carried.
    let sent = |cookies: &[crate::trace::SentCookie]| -> (usize, Vec<String>) {
        let mut sizes: Vec<(usize, &str)> = cookies
            .iter()
            .map(|c| (c.name.len() + 1 + c.value.len, c.name.as_str()))
            .collect();
        let total =
            sizes.iter().map(|(n, _)| n).sum::<usize>() + 2 * cookies.len().saturating_sub(1);
        sizes.sort_by_key(|s| std::cmp::Reverse(s.0));
        let largest = sizes
            .iter()
            .take(4)
            .map(|(n, name)| format!("{name} ({n} B)"))
            .collect();
        (total, largest)
    };
    let refused = t
        .hops
        .iter()
        .find(|h| h.status == 431)
        .map(|h| (Evidence::Hop { hop: h.n }, &h.cookie_sent))
        .or_else(|| {
            t.probes.iter().find(|p| p.status == 431).map(|p| {
                (
                    Evidence::Probe {
                        probe: p.name.clone(),
                    },
                    &p.cookie_sent,
                )
            })
        });
    if let Some((at, cookies)) = refused.filter(|(_, cookies)| !cookies.is_empty()) {
        let (total, largest) = sent(cookies);
        let mut evidence = vec![at];
        evidence.push(Evidence::note(format!(
            "the Cookie header held {total} bytes in {} cookies; the largest: {}",
            cookies.len(),
            largest.join(", ")
        )));
        out.push(finding(
            FindingId::CookieTooLarge,
            Severity::Error,
            format!("The server refused a request's headers as too large (431): its Cookie header held {total} bytes"),
            evidence,
            "Servers cap a request's headers (Node.js at 16 KiB by default, nginx's \
             large_client_header_buffers at 8 KiB per line): a session kept in cookies, split \
             into chunks of 4 KiB, passes the cap once it grows (many claims, the tokens kept in \
             the session), and from then on every request with it is refused.",
            "Keep the session small: store it on the server (a database session) or keep fewer \
             claims and tokens in it; or raise the server's header limit \
             (`--max-http-header-size`, `large_client_header_buffers`) on every hop.",
        ));
    }
}

/// Whether a cookie was refused for its size.
fn is_oversized(c: &SetCookie) -> bool {
    c.refusal
        .as_ref()
        .and_then(CookieReasons::first)
        .is_some_and(|r| *r == CookieReason::NameValuePairExceedsMaxSize)
}

fn blocked(t: &Trace, out: &mut Vec<Finding>) {
    for (h, c) in
        set_cookies(t).filter(|(_, c)| c.action == CookieAction::Refused && !is_oversized(c))
    {
        let reason = c
            .refusal
            .as_ref()
            .map_or_else(|| "refused".to_string(), ToString::to_string);
        let mut f = finding(
            FindingId::CookieBlockedByBrowser,
            if is_key_cookie(t, &c.name) {
                Severity::Error
            } else {
                Severity::Warning
            },
            format!(
                "The browser refused cookie `{}` at {} ({reason})",
                c.name, h.n
            ),
            vec![line(h, c), Evidence::note(format!("refused: {reason}"))],
            format!(
                "The cookie never reached the cookie jar: {}. Every later request goes without it.",
                reason_text(c.refusal.as_ref().and_then(CookieReasons::first))
            ),
            "Fix the cookie's attributes at the server that set it (see the reason), or serve the app \
             over https.",
        );
        let words = crate::preset::words(t.chain.preset.as_deref());
        f.causes = super::state::refusal_key(c)
            .map(|k| super::cause(k, words, &c.name))
            .into_iter()
            .collect();
        out.push(f);
    }
}

/// Whether a cookie set by `hop` would go to `target`, and if not, why.
fn would_send(hop: &Hop, c: &SetCookie, target: &Url) -> Result<(), web::Unsent> {
    let Ok(set_by) = Url::parse(&hop.url) else {
        return Ok(());
    };
    web::would_send(
        web::Scope {
            set_by: &set_by,
            domain: c.domain.as_deref(),
            path: c.path.as_deref(),
            secure: c.secure,
        },
        target,
    )
}

/// The session cookie as last set by the app: the preset's one guess among the cookies the
/// app set, else the longest-lived cookie of the callback.
pub(super) fn session_set(t: &Trace) -> Option<(&Hop, &SetCookie)> {
    let preset = t.chain.preset.as_deref().and_then(Preset::parse);
    let hosts = super::app_hosts(t);
    let set: Vec<(&Hop, &SetCookie)> = set_cookies(t)
        .filter(|(h, c)| c.action == CookieAction::Set && hosts.contains(&web::host_port(&h.url)))
        .collect();
    let at_callback = |h: &Hop| Some(h.n) == t.chain.callback_hop;
    let weight = |(h, c): &(&Hop, &SetCookie)| {
        if at_callback(h) {
            c.max_age.unwrap_or(0).max(0)
        } else {
            -1
        }
    };
    preset::pick_session(preset, &set, |(_, c)| &c.name, weight)
        .copied()
        .filter(|(h, c)| {
            at_callback(h) || preset::cookie_role(preset, &c.name) == CookieRole::Session
        })
}

fn not_sent(t: &Trace, out: &mut Vec<Finding>) {
    let Some((hop, cookie)) = session_set(t) else {
        return;
    };
    for p in t.probes.iter().filter(|p| !p.passed) {
        if p.cookie_sent.iter().any(|c| c.name == cookie.name) {
            continue;
        }
        let Ok(target) = Url::parse(&p.url) else {
            continue;
        };
        let withheld = p.cookie_blocked.iter().find(|b| b.name == cookie.name);
        let words = crate::preset::words(t.chain.preset.as_deref());
        let (why, key) = match (would_send(hop, cookie, &target), withheld) {
            (Err(u), _) => (u.why, super::state::key_of(&u.reason)),
            (Ok(()), Some(b)) => (
                format!(
                    "the browser withholds it from this request ({}): {}",
                    b.reason,
                    withheld_text(b.reason.first())
                ),
                super::state::first_key(b.reason.0.iter()),
            ),
            (Ok(()), None) => ("it was cleared or replaced after it was set".into(), None),
        };
        let fix = match key {
            Some(CauseKey::ThirdPartyBlocked) => "Serve the API (and the auth handler) on the \
                 app's site, so that the page's requests to it are first-party; a SameSite=None \
                 cookie does not help where third-party cookies are blocked."
                .to_string(),
            Some(CauseKey::SameSiteCrossSite) => "Serve the API on the app's site, or set the \
                 cookie SameSite=None; Secure (which still fails where third-party cookies are \
                 blocked)."
                .to_string(),
            Some(CauseKey::SecureOverHttp) => format!(
                "Serve the API over https, or turn secure cookies off where it really runs on \
                 plain http ({}).",
                words.secure_cookies
            ),
            _ => format!(
                "Set the cookie's Domain (and Path) so that it covers every host and path that \
                 needs the session ({}), or serve the API under the app's host.",
                words.cookie_domain
            ),
        };
        let cause = key.map(|k| super::cause(k, words, &cookie.name));
        let because = cause
            .as_ref()
            .map(|c| format!(" {}", super::sentence(&c.text)))
            .unwrap_or_default();
        let mut f = finding(
            FindingId::CookieNotSent,
            Severity::Error,
            format!(
                "The session cookie `{}` was not sent to probe `{}`",
                cookie.name, p.name
            ),
            vec![
                line(hop, cookie),
                Evidence::note(format!(
                    "probe {}: {} {} sent no `{}`",
                    p.name, p.method, p.url, cookie.name
                )),
                Evidence::Probe {
                    probe: p.name.clone(),
                },
            ],
            format!(
                "The login set the session cookie, but the request to the probe went without it: \
                 {why}.{because}"
            ),
            fix,
        );
        f.causes = cause.into_iter().collect();
        out.push(f);
    }
}

/// The same name set host-only by a host and with a Domain that covers that host: two cookies,
/// both sent to it, and the server reads whichever its parser takes first (often the stale
/// one). Cookies are told apart as the jar keeps them (a Domain that is the host's own public
/// suffix or address makes a host-only cookie), and the last word on each is a set, not a
/// deletion.
fn duplicates(t: &Trace, out: &mut Vec<Finding>) {
    struct Kept<'a> {
        hop: &'a Hop,
        cookie: &'a SetCookie,
        domain: String,
        host_only: bool,
        path: String,
    }
    let mut latest: Vec<Kept> = Vec::new();
    for (h, c) in set_cookies(t).filter(|(_, c)| c.action != CookieAction::Refused) {
        let Ok(url) = Url::parse(&h.url) else {
            continue;
        };
        let Ok((domain, host_only)) = web::jar::scope(&url, c.domain.as_deref()) else {
            continue;
        };
        let path = web::jar::cookie_path(&url, c.path.as_deref());
        latest.retain(|k| {
            !(k.cookie.name == c.name
                && k.domain == domain
                && k.host_only == host_only
                && k.path == path)
        });
        latest.push(Kept {
            hop: h,
            cookie: c,
            domain,
            host_only,
            path,
        });
    }
    latest.retain(|k| k.cookie.action == CookieAction::Set);
    let mut told: Vec<&str> = Vec::new();
    for k in latest.iter().filter(|k| k.host_only) {
        let Some(parent) = latest.iter().find(|p| {
            p.cookie.name == k.cookie.name
                && !p.host_only
                && web::jar::domain_matches(&k.domain, &p.domain)
        }) else {
            continue;
        };
        if told.contains(&k.cookie.name.as_str()) {
            continue;
        }
        told.push(&k.cookie.name);
        let (h1, host_only, host) = (k.hop, k.cookie, &k.domain);
        let (h2, parent, domain) = (parent.hop, parent.cookie, &parent.domain);
        let name = &host_only.name;
        let mut evidence = vec![line(h1, host_only), line(h2, parent)];
        let twice =
            |sent: &[crate::trace::SentCookie]| sent.iter().filter(|c| &c.name == name).count() > 1;
        if let Some(h) = t.hops.iter().find(|h| twice(&h.cookie_sent)) {
            evidence.push(Evidence::note(format!("{}: sent `{name}` twice", h.n)));
        } else if let Some(p) = t.probes.iter().find(|p| twice(&p.cookie_sent)) {
            evidence.push(Evidence::note(format!(
                "probe {}: sent `{name}` twice",
                p.name
            )));
        }
        let key = is_key_cookie(t, name);
        out.push(finding(
            FindingId::CookieDuplicateName,
            if key {
                Severity::Error
            } else {
                Severity::Warning
            },
            format!("Cookie `{name}` is set twice: host-only for {host} and for Domain={domain}"),
            evidence,
            format!(
                "A host-only cookie and a Domain cookie of the same name are two cookies to a \
                 browser, and both go to {host}: the longer Path first, then the older one. The \
                 server reads one of them by its parser's rule, often the first, and that may be \
                 the stale one (typical after moving a cookie to a parent Domain, with the old \
                 host-only cookie still in users' browsers).{}",
                if key {
                    " For the session or state cookie, the login then works or fails by the order."
                } else {
                    ""
                }
            ),
            "Set the cookie one way only; when moving it to a parent Domain, also clear the old \
             host-only cookie (the same name, no Domain, Max-Age=0).",
        ));
    }
}

fn never_returned(t: &Trace, out: &mut Vec<Finding>) {
    let app_hosts = super::app_hosts(t);
    for (i, h) in t.hops.iter().enumerate() {
        if !app_hosts.contains(&web::host_port(&h.url)) {
            continue;
        }
        for c in h
            .set_cookies
            .iter()
            .filter(|c| c.action == CookieAction::Set)
        {
            let later = &t.hops[i + 1..];
            let replaced = later
                .iter()
                .any(|l| l.set_cookies.iter().any(|x| x.name == c.name));
            // A later request the cookie goes with: its host, and a path its Path covers (a
            // refresh cookie scoped to `/api/auth` is not expected on `/`).
            let path = url::Url::parse(&h.url)
                .map(|u| web::jar::cookie_path(&u, c.path.as_deref()))
                .unwrap_or_else(|_| "/".into());
            let in_scope = |u: &str| {
                web::host_port(u) == web::host_port(&h.url)
                    && url::Url::parse(u).is_ok_and(|u| web::jar::path_matches(u.path(), &path))
            };
            let same_host =
                later.iter().any(|l| in_scope(&l.url)) || t.probes.iter().any(|p| in_scope(&p.url));
            let returned = later
                .iter()
                .any(|l| l.cookie_sent.iter().any(|s| s.name == c.name))
                || t.probes
                    .iter()
                    .any(|p| p.cookie_sent.iter().any(|s| s.name == c.name));
            if replaced || !same_host || returned {
                continue;
            }
            out.push(finding(
                FindingId::CookieNeverReturned,
                Severity::Warning,
                format!("Cookie `{}` set at {} never came back", c.name, h.n),
                vec![line(h, c)],
                "The cookie was accepted, but no later request to its host and under its Path \
                 carried it: a SameSite rule kept it off a cross-site request, it is Secure and \
                 the request was not, or it expired or was dropped on the way.",
                "Compare the cookie's Domain, Path and SameSite with the later requests to its host.",
            ));
        }
    }
}

/// The session cookie's life and the server session's, as the chain recorded them: the hop
/// and cookie that set it, the native probe, and when each ends (Unix seconds; the cookie's
/// `None` for a cookie that lives as long as the browser).
pub(super) struct Lifetimes<'a> {
    pub hop: &'a Hop,
    pub cookie: &'a SetCookie,
    pub native: &'a crate::trace::Probe,
    pub set_at: i64,
    pub cookie_end: Option<i64>,
    pub session_end: i64,
}

pub(super) fn lifetimes(t: &Trace) -> Option<Lifetimes<'_>> {
    let (hop, cookie) = session_set(t)?;
    let native = t.probes.iter().find(|p| p.native && p.passed)?;
    let session_end = native
        .session_expires_at
        .as_deref()
        .and_then(parse_rfc3339)?;
    let set_at = hop.received_at_ms as i64 / 1000;
    let cookie_end = match (cookie.max_age, &cookie.expires) {
        (Some(m), _) => Some(set_at.saturating_add(m)),
        (None, Some(e)) => Some(
            time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc2822)
                .ok()?
                .unix_timestamp(),
        ),
        (None, None) => None,
    };
    Some(Lifetimes {
        hop,
        cookie,
        native,
        set_at,
        cookie_end,
        session_end,
    })
}

impl Lifetimes<'_> {
    /// How much longer the cookie lives than the session (negative: shorter), when the two
    /// differ by more than an hour and a tenth of the session's life.
    pub fn mismatch(&self) -> Option<i64> {
        // A session cookie (no expiry) lives as long as the browser: nothing to compare.
        let diff = self.cookie_end?.saturating_sub(self.session_end);
        let span = self.session_end.saturating_sub(self.set_at).max(1);
        (diff.saturating_abs() > 3600.max(span / 10)).then_some(diff)
    }
}

fn lifetime(t: &Trace, out: &mut Vec<Finding>) {
    let Some(l) = lifetimes(t) else {
        return;
    };
    let Some(diff) = l.mismatch() else {
        return;
    };
    let (hop, cookie, native) = (l.hop, l.cookie, l.native);
    // Asked for (`--check ttl`), the mismatch is an error of its own id; one cookie, one finding.
    let ttl = t
        .checks
        .iter()
        .any(|c| c.check == crate::scenario::CheckName::Ttl);
    let (title, why) = if diff < 0 {
        (
            format!(
                "The session cookie `{}` expires {} before the session",
                cookie.name,
                human(diff.saturating_neg())
            ),
            "The browser drops the cookie while the server still holds a valid session: users are \
             logged out early, and \"remember me\" does not last.",
        )
    } else {
        (
            format!(
                "The session cookie `{}` outlives the session by {}",
                cookie.name,
                human(diff)
            ),
            "The browser keeps sending a cookie for a session the server has already ended: requests \
             fail as unauthenticated while the app looks logged in.",
        )
    };
    let (id, severity) = if ttl {
        (FindingId::TtlMismatch, Severity::Error)
    } else {
        (FindingId::CookieLifetimeMismatch, Severity::Warning)
    };
    out.push(finding(
        id,
        severity,
        title,
        vec![
            line(hop, cookie),
            Evidence::note(format!(
                "probe {}: the session ends at {}",
                native.name,
                native.session_expires_at.clone().unwrap_or_default()
            )),
        ],
        why,
        format!(
            "Give the cookie the session's lifetime ({}).",
            crate::preset::words(t.chain.preset.as_deref()).session_lifetime
        ),
    ));
}

pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

pub(crate) fn human(secs: i64) -> String {
    match secs {
        s if s >= 86_400 => format!("{:.1} days", s as f64 / 86_400.0),
        s if s >= 3600 => format!("{:.1} hours", s as f64 / 3600.0),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// `--check ttl`: the session cookie's life, the server session's and (with `--idp-check`) the
/// IdP's ID token's, side by side; failed when the cookie's and the session's differ (the
/// finding is `ttl-mismatch`, in place of `cookie-lifetime-mismatch`).
pub fn ttl_run(t: &Trace) -> crate::trace::CheckRun {
    use crate::scenario::CheckName;
    let Some(l) = lifetimes(t) else {
        return crate::trace::CheckRun::not_run(
            CheckName::Ttl,
            "no session cookie and server session expiry to compare (the native probe names no expiry)",
        );
    };
    let now = l.set_at;
    let mut steps = vec![match l.cookie_end {
        Some(end) => format!(
            "the session cookie `{}` ends {}",
            l.cookie.name,
            crate::jwt::when(end, now)
        ),
        None => format!(
            "the session cookie `{}` has no expiry: it lives as long as the browser",
            l.cookie.name
        ),
    }];
    steps.push(format!(
        "the server session ends {}",
        crate::jwt::when(l.session_end, now)
    ));
    if let Some(secs) = t
        .idp_check
        .as_ref()
        .and_then(|c| c["id_token_lifetime"].as_i64())
    {
        steps.push(format!("the IdP's ID token lives {}", human(secs)));
    }
    let mismatch = l.mismatch();
    crate::trace::CheckRun {
        status: crate::trace::CheckStatus::of(mismatch.is_some(), true),
        detail: match mismatch {
            Some(d) if d < 0 => format!("the cookie ends {} before the session", human(-d)),
            Some(d) => format!("the cookie outlives the session by {}", human(d)),
            None => "the cookie and the session end together".into(),
        },
        steps,
        ..crate::trace::CheckRun::not_run(CheckName::Ttl, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;

    /// A session cookie of `max_age` set at the callback, and a native probe whose session ends
    /// 7 days after it: the lifetime warning, or with `--check ttl` its error in its place.
    #[test]
    fn a_cookie_that_outlives_its_session_is_named_once() {
        use crate::scenario::CheckName;
        use crate::trace::{HopNo, Probe};
        let trace = |max_age: i64, ttl: bool| {
            let set_at = 1_700_000_000_i64;
            let mut h = Hop::plain(1, "http://app.test/api/auth/callback/x", 302);
            h.received_at_ms = set_at as u64 * 1000;
            h.set_cookies = vec![SetCookie {
                max_age: Some(max_age),
                ..SetCookie::plain("better-auth.session_token")
            }];
            let native = Probe {
                native: true,
                session_expires_at: Some("2023-11-21T22:13:20Z".into()),
                ..Probe::plain("native", "http://app.test/api/auth/get-session", 200)
            };
            Trace {
                chain: crate::trace::ChainInfo {
                    app: "http://app.test".into(),
                    preset: Some("better-auth".into()),
                    callback_hop: Some(HopNo(1)),
                    ..Default::default()
                },
                hops: vec![h],
                probes: vec![native],
                checks: ttl
                    .then(|| crate::trace::CheckRun::not_run(CheckName::Ttl, "asked"))
                    .into_iter()
                    .collect(),
                ..Trace::default()
            }
        };
        let ids = |t: &Trace| -> Vec<(&'static str, Severity)> {
            rules(t)
                .iter()
                .filter(|f| {
                    matches!(
                        f.id,
                        FindingId::CookieLifetimeMismatch | FindingId::TtlMismatch
                    )
                })
                .map(|f| (f.id.as_str(), f.severity))
                .collect()
        };
        // 7 days both: nothing; 30 days against 7: one finding, its id by the check.
        assert!(ids(&trace(7 * 86400, false)).is_empty());
        assert_eq!(
            ids(&trace(30 * 86400, false)),
            vec![("cookie-lifetime-mismatch", Severity::Warning)]
        );
        assert_eq!(
            ids(&trace(30 * 86400, true)),
            vec![("ttl-mismatch", Severity::Error)]
        );
        let run = super::ttl_run(&trace(30 * 86400, true));
        assert_eq!(run.status, crate::trace::CheckStatus::Failed);
        assert!(
            run.detail.contains("outlives the session by 23.0 days"),
            "{}",
            run.detail
        );
    }

    fn hop(url: &str, cookie: SetCookie) -> Hop {
        Hop {
            set_cookies: vec![cookie],
            ..Hop::plain(1, url, 200)
        }
    }

    fn cookie(name: &str, domain: Option<&str>, path: Option<&str>, secure: bool) -> SetCookie {
        SetCookie {
            domain: domain.map(Into::into),
            path: path.map(Into::into),
            secure,
            ..SetCookie::plain(name)
        }
    }

    /// A cookie set at the first hop, and the later requests (hops, then a probe): whether it is
    /// said never to come back.
    #[test]
    fn a_cookie_is_missed_only_where_its_path_goes() {
        // (the cookie's Path, the later hops, a probe, missed)
        type Case<'a> = (Option<&'a str>, &'a [&'a str], Option<&'a str>, bool);
        let cases: &[Case] = &[
            // Path=/ and a later request to the host without it: missed.
            (Some("/"), &["http://app.test/"], None, true),
            // Path=/api/auth: nothing later under it, so nothing to miss.
            (
                Some("/api/auth"),
                &["http://app.test/"],
                Some("http://app.test/api/me"),
                false,
            ),
            // ...but a later request under it without the cookie is a miss.
            (
                Some("/api/auth"),
                &["http://app.test/api/auth/refresh"],
                None,
                true,
            ),
            // `/api/authz` is not under `/api/auth`.
            (
                Some("/api/auth"),
                &["http://app.test/api/authz"],
                None,
                false,
            ),
            // No Path: the directory of the setting request (`/api/auth/callback`).
            (
                None,
                &[],
                Some("http://app.test/api/auth/get-session"),
                false,
            ),
            (None, &[], Some("http://app.test/api/auth/callback/y"), true),
            // A Path without its leading `/` is the default path, as the jar takes it.
            (
                Some("api"),
                &["http://app.test/api/auth/callback/y"],
                None,
                true,
            ),
            // Another host only: not its requests.
            (Some("/"), &["http://idp.test/"], None, false),
        ];
        for (path, later, probe, missed) in cases {
            let mut hops = vec![hop(
                "http://app.test/api/auth/callback/x",
                cookie("rt", None, *path, false),
            )];
            for (i, url) in later.iter().enumerate() {
                hops.push(Hop::plain(i as u32 + 2, url, 200));
            }
            let t = Trace {
                chain: crate::trace::ChainInfo {
                    app: "http://app.test".into(),
                    ..Default::default()
                },
                hops,
                probes: probe
                    .map(|u| crate::trace::Probe::plain("p", u, 200))
                    .into_iter()
                    .collect(),
                ..Trace::default()
            };
            let mut out = Vec::new();
            never_returned(&t, &mut out);
            assert_eq!(!out.is_empty(), *missed, "{path:?} {later:?} {probe:?}");
        }
    }

    #[test]
    fn sending_rules() {
        let h = hop(
            "https://app.example.com/api/auth/callback/x",
            cookie("s", None, Some("/"), true),
        );
        let c = &h.set_cookies[0];
        assert!(would_send(&h, c, &Url::parse("https://app.example.com/x").unwrap()).is_ok());
        assert!(
            would_send(&h, c, &Url::parse("https://api.example.com/x").unwrap())
                .unwrap_err()
                .why
                .contains("no Domain")
        );
        let h = hop(
            "https://app.example.com/",
            cookie("s", Some(".example.com"), Some("/api"), true),
        );
        let c = &h.set_cookies[0];
        assert!(
            would_send(
                &h,
                c,
                &Url::parse("https://api.example.com/api/session").unwrap()
            )
            .is_ok()
        );
        assert!(
            would_send(&h, c, &Url::parse("https://api.example.com/auth").unwrap())
                .unwrap_err()
                .why
                .contains("Path")
        );
        assert!(
            would_send(&h, c, &Url::parse("http://api.example.com/api").unwrap())
                .unwrap_err()
                .why
                .contains("Secure")
        );
    }

    #[test]
    fn the_same_name_host_only_and_on_a_parent_domain() {
        let sent = |n: u32, names: &[&str]| Hop {
            cookie_sent: names
                .iter()
                .map(|name| crate::trace::SentCookie {
                    name: name.to_string(),
                    value: Redactor::new(false).sensitive("v"),
                })
                .collect(),
            ..Hop::plain(n, "https://app.example.com/home", 200)
        };
        let cleared = |mut c: SetCookie| {
            c.action = CookieAction::Cleared;
            c
        };
        // (the cookies set, in order, and the finding's title, if any)
        for (set, want) in [
            (
                vec![
                    (
                        "https://app.example.com/",
                        cookie("sid", None, Some("/"), true),
                    ),
                    (
                        "https://app.example.com/",
                        cookie("sid", Some("example.com"), Some("/"), true),
                    ),
                ],
                Some(
                    "Cookie `sid` is set twice: host-only for app.example.com and for Domain=example.com",
                ),
            ),
            // The Domain is the host itself: still two cookies.
            (
                vec![
                    (
                        "https://app.example.com/",
                        cookie("sid", Some(".app.example.com"), Some("/"), true),
                    ),
                    (
                        "https://app.example.com/",
                        cookie("sid", None, Some("/"), true),
                    ),
                ],
                Some(
                    "Cookie `sid` is set twice: host-only for app.example.com and for Domain=app.example.com",
                ),
            ),
            // One of them cleared afterwards: no longer two.
            (
                vec![
                    (
                        "https://app.example.com/",
                        cookie("sid", None, Some("/"), true),
                    ),
                    (
                        "https://app.example.com/",
                        cookie("sid", Some("example.com"), Some("/"), true),
                    ),
                    (
                        "https://app.example.com/",
                        cleared(cookie("sid", None, Some("/"), true)),
                    ),
                ],
                None,
            ),
            // A Domain that is the host's own public suffix or address makes a host-only cookie:
            // the second replaces the first.
            (
                vec![
                    (
                        "http://localhost:3000/",
                        cookie("sid", None, Some("/"), false),
                    ),
                    (
                        "http://localhost:3000/",
                        cookie("sid", Some("localhost"), Some("/"), false),
                    ),
                ],
                None,
            ),
            (
                vec![
                    (
                        "http://127.0.0.1:3000/",
                        cookie("sid", None, Some("/"), false),
                    ),
                    (
                        "http://127.0.0.1:3000/",
                        cookie("sid", Some("127.0.0.1"), Some("/"), false),
                    ),
                ],
                None,
            ),
            // Another host's host-only cookie, a Domain that does not cover it, another name.
            (
                vec![
                    (
                        "https://api.example.com/",
                        cookie("sid", None, Some("/"), true),
                    ),
                    (
                        "https://app.example.com/",
                        cookie("sid", Some("app.example.com"), Some("/"), true),
                    ),
                ],
                None,
            ),
            (
                vec![
                    (
                        "https://app.example.com/",
                        cookie("a", None, Some("/"), true),
                    ),
                    (
                        "https://app.example.com/",
                        cookie("b", Some("example.com"), Some("/"), true),
                    ),
                ],
                None,
            ),
        ] {
            let mut t = Trace::default();
            for (i, (url, c)) in set.into_iter().enumerate() {
                let mut h = hop(url, c);
                h.n = crate::trace::HopNo(i as u32 + 1);
                t.hops.push(h);
            }
            t.hops.push(sent(t.hops.len() as u32 + 1, &["sid", "sid"]));
            let f: Vec<Finding> = rules(&t)
                .into_iter()
                .filter(|f| f.id == FindingId::CookieDuplicateName)
                .collect();
            assert_eq!(f.first().map(|f| f.title.as_str()), want);
            if want.is_some() {
                let lines = super::super::evidence_text(&t, &f[0]);
                assert!(
                    lines.iter().any(|l| l.ends_with("sent `sid` twice")),
                    "{lines:?}"
                );
                // `sid` reads as a session cookie by its name: an error.
                assert_eq!(f[0].severity, Severity::Error);
            }
        }
    }

    #[test]
    fn a_cookie_over_the_size_limit_is_too_large() {
        let mut c = cookie("authjs.session-token.0", None, Some("/"), false);
        c.action = CookieAction::Refused;
        c.refusal = Some(CookieReasons::one(
            CookieReason::NameValuePairExceedsMaxSize,
        ));
        let mut t = Trace::default();
        t.chain.preset = Some("authjs".into());
        t.hops.push(hop("http://localhost:3000/auth/callback/x", c));
        let ids: Vec<FindingId> = rules(&t).iter().map(|f| f.id).collect();
        assert_eq!(ids, [FindingId::CookieTooLarge]);
        assert_eq!(rules(&t)[0].severity, Severity::Error);
    }

    #[test]
    fn a_withheld_session_cookie_says_why() {
        let mut t = Trace::default();
        t.chain.app = "https://app.example.com/".into();
        t.chain.preset = Some("better-auth".into());
        let mut h = hop(
            "https://app.example.com/api/auth/callback/x",
            cookie("better-auth.session_token", None, Some("/"), true),
        );
        h.n = crate::trace::HopNo(1);
        t.hops.push(h);
        t.chain.callback_hop = Some(crate::trace::HopNo(1));
        t.probes.push(crate::trace::Probe {
            passed: false,
            cookie_blocked: vec![crate::trace::BlockedCookie {
                name: "better-auth.session_token".into(),
                reason: CookieReasons::one(CookieReason::SameSiteLax),
            }],
            ..crate::trace::Probe::plain("guarded", "https://app.example.com/auth/session", 401)
        });
        let f = rules(&t);
        let f = f.iter().find(|f| f.id == FindingId::CookieNotSent).unwrap();
        assert!(
            f.explanation
                .contains("withholds it from this request (SameSiteLax)"),
            "{}",
            f.explanation
        );
        let lines = super::super::evidence_text(&t, f);
        assert!(
            lines
                .iter()
                .any(|l| l == "probe guarded withheld: better-auth.session_token (SameSiteLax)"),
            "{lines:?}"
        );
        assert!(f.fix.contains("SameSite=None"), "{}", f.fix);
        // A page's fetch to another site, as the HTTP driver and Chromium record it.
        t.probes[0].cookie_blocked[0].reason = CookieReasons::parse("UserPreferences,SameSiteLax");
        let f = rules(&t);
        let f = f.iter().find(|f| f.id == FindingId::CookieNotSent).unwrap();
        assert!(
            f.explanation.contains("blocks third-party cookies"),
            "{}",
            f.explanation
        );
        assert!(f.fix.contains("on the app's site"), "{}", f.fix);
    }

    #[test]
    fn prefix_rules() {
        let mut t = Trace::default();
        t.hops.push(hop(
            "https://a.test/",
            cookie("__Secure-x", None, Some("/"), false),
        ));
        t.hops.push(hop(
            "https://a.test/",
            cookie("__Host-y", Some("a.test"), Some("/"), true),
        ));
        let f = rules(&t);
        let prefix = f
            .iter()
            .find(|f| f.id == "cookie-prefix-violation")
            .unwrap();
        assert_eq!(prefix.evidence.len(), 2);
    }
}
