//! Why the state cookie did not come back: the life of the state, PKCE or transaction cookie
//! between the start that set it and the callback that needed it, read from the trace.

use crate::preset::{CookieRole, Preset, cookie_role};
use crate::trace::{CauseKey, CookieAction, CookieReason, Hop, SetCookie, Trace};

/// A state cookie lost on the way to the callback, and why.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Loss {
    /// The causes the chain shows, the likeliest first; `StateNotReturned` alone when it shows
    /// none.
    pub keys: Vec<CauseKey>,
    /// What the chain shows, one sentence per lost cookie.
    pub facts: Vec<String>,
}

/// Whether a cookie holds the login's state: by the preset's names, else by its words.
pub(crate) fn is_state(t: &Trace, name: &str) -> bool {
    let preset = t.chain.preset.as_deref().and_then(Preset::parse);
    matches!(
        cookie_role(preset, name),
        CookieRole::State | CookieRole::Pkce
    )
}

/// The last word on each state cookie the app (not the IdP) set before the callback, and the
/// callback; `None` without a callback.
fn set_before(t: &Trace) -> Option<(&Hop, Vec<(&Hop, &SetCookie)>)> {
    let cb = t.chain.callback_hop.and_then(|n| t.hop(n))?;
    let hosts = super::app_hosts(t);
    let mut last: Vec<(&Hop, &SetCookie)> = Vec::new();
    for h in t
        .hops
        .iter()
        .filter(|h| h.n < cb.n && hosts.contains(&crate::web::host_port(&h.url)))
    {
        for c in h.set_cookies.iter().filter(|c| is_state(t, &c.name)) {
            last.retain(|(_, l)| l.name != c.name);
            last.push((h, c));
        }
    }
    // What was cleared on purpose is no cookie the callback lacked.
    last.retain(|(_, c)| c.action != CookieAction::Cleared);
    Some((cb, last))
}

/// Whether the state cookie the app set at the start came back to the callback: `None` when
/// the app set none the chain knows (it keeps its state elsewhere, or its names are unknown).
pub(crate) fn fate(t: &Trace) -> Option<bool> {
    let (cb, last) = set_before(t)?;
    (!last.is_empty()).then(|| last.iter().any(|(_, c)| sent(cb, &c.name)))
}

/// The state cookies set before the callback that it did not carry, with why; `None` when one
/// came back, or none was seen set.
pub(crate) fn loss(t: &Trace) -> Option<Loss> {
    let (cb, last) = set_before(t)?;
    if last.is_empty() || last.iter().any(|(_, c)| sent(cb, &c.name)) {
        return None;
    }
    let mut keys = Vec::new();
    let mut facts = Vec::new();
    for (h, c) in &last {
        let (key, fact) = why(h, c, cb);
        if let Some(k) = key
            && !keys.contains(&k)
        {
            keys.push(k);
        }
        facts.push(fact);
    }
    keys.sort_by_key(|k| PRIORITY.iter().position(|p| p == k));
    if keys.is_empty() {
        keys.push(CauseKey::StateNotReturned);
    }
    Some(Loss { keys, facts })
}

/// The order causes rank in when the chain shows several: what made the cookie impossible
/// before what kept it from one request.
const PRIORITY: &[CauseKey] = &[
    CauseKey::SecureAttributeMissing,
    CauseKey::SecureOverHttp,
    CauseKey::TooLarge,
    CauseKey::CookieDomain,
    CauseKey::HostMismatch,
    // A SameSite cookie withheld from a cross-site fetch would be withheld as third-party too:
    // its SameSite is the first thing to change.
    CauseKey::SameSiteCrossSite,
    CauseKey::ThirdPartyBlocked,
    CauseKey::CookiePath,
    CauseKey::StateExpired,
];

fn sent(hop: &Hop, name: &str) -> bool {
    hop.cookie_sent.iter().any(|c| c.name == name)
}

/// The cause a browser's reason names.
pub(crate) fn key_of(reason: &CookieReason) -> Option<CauseKey> {
    use CookieReason as R;
    Some(match reason {
        R::InvalidPrefix | R::SecureOnly | R::OverwriteSecure => CauseKey::SecureOverHttp,
        R::SameSiteNoneInsecure => CauseKey::SecureAttributeMissing,
        R::InvalidDomain | R::DomainMismatch => CauseKey::CookieDomain,
        R::NameValuePairExceedsMaxSize => CauseKey::TooLarge,
        R::UserPreferences => CauseKey::ThirdPartyBlocked,
        R::SameSiteStrict
        | R::SameSiteLax
        | R::SameSiteUnspecifiedTreatedAsLax
        | R::SchemefulSameSiteStrict
        | R::SchemefulSameSiteLax
        | R::SchemefulSameSiteUnspecifiedTreatedAsLax => CauseKey::SameSiteCrossSite,
        R::NotOnPath => CauseKey::CookiePath,
        R::Expired => CauseKey::StateExpired,
        R::SyntaxError | R::SchemeNotSupported => return None,
        // Chromium's third-party phase-out says so in its own words.
        R::Other(name) if name.contains("ThirdParty") => CauseKey::ThirdPartyBlocked,
        R::Other(_) => return None,
    })
}

/// The likeliest of the causes some reasons name.
pub(crate) fn first_key<'a>(reasons: impl Iterator<Item = &'a CookieReason>) -> Option<CauseKey> {
    reasons
        .filter_map(key_of)
        .min_by_key(|k| PRIORITY.iter().position(|p| p == k))
}

/// The cause of a refused `Set-Cookie`: a prefix broken by a cookie that lacks Secure is the
/// attribute's fault on any scheme; otherwise the reason's.
pub(crate) fn refusal_key(c: &SetCookie) -> Option<CauseKey> {
    let reasons = &c.refusal.as_ref()?.0;
    if !c.secure && reasons.contains(&CookieReason::InvalidPrefix) {
        return Some(CauseKey::SecureAttributeMissing);
    }
    first_key(reasons.iter())
}

/// Why `c`, set at `h`, did not come with the callback `cb`.
fn why(h: &Hop, c: &SetCookie, cb: &Hop) -> (Option<CauseKey>, String) {
    let name = &c.name;
    if let Some(refusal) = &c.refusal {
        return (
            refusal_key(c),
            format!("`{name}` was refused when {} set it ({refusal})", h.n),
        );
    }
    let (set_host, cb_host) = (host(&h.url), host(&cb.url));
    if set_host != cb_host {
        match c.domain.as_deref() {
            None => {
                return (
                    Some(CauseKey::HostMismatch),
                    format!(
                        "`{name}` was set by {set_host} ({}) for that host only, and the \
                         callback went to {cb_host} ({})",
                        h.n, cb.n
                    ),
                );
            }
            Some(d) if !crate::web::jar::domain_matches(&cb_host, d.trim_start_matches('.')) => {
                return (
                    Some(CauseKey::CookieDomain),
                    format!(
                        "`{name}` was set for Domain={d} by {set_host} ({}), which does not \
                         cover the callback's host {cb_host} ({})",
                        h.n, cb.n
                    ),
                );
            }
            Some(_) => {}
        }
    }
    if let Some(b) = cb.cookie_blocked.iter().find(|b| &b.name == name) {
        return (
            first_key(b.reason.0.iter()),
            format!(
                "`{name}` was withheld from the callback ({}): {}",
                cb.n, b.reason
            ),
        );
    }
    // Its life: Max-Age, else Expires against the Date of the answer that set it (both by
    // the server's clock).
    let life = c
        .max_age
        .map(|a| (a, format!("Max-Age={a}")))
        .or_else(|| {
            let expires = super::clock::parse_http_date(c.expires.as_deref()?)?;
            let date = super::clock::parse_http_date(h.date.as_deref()?)?;
            Some((expires - date, format!("Expires {}", c.expires.as_deref()?)))
        })
        .filter(|(a, _)| *a > 0);
    if let Some((age, said)) = life {
        let elapsed = cb.received_at_ms.saturating_sub(h.received_at_ms) / 1000;
        if cb.received_at_ms > 0 && h.received_at_ms > 0 && elapsed as i64 >= age {
            return (
                Some(CauseKey::StateExpired),
                format!(
                    "`{name}` lived {} ({said}) and the callback came {} after {} set it",
                    super::cookies::human(age),
                    super::cookies::human(elapsed as i64),
                    h.n
                ),
            );
        }
    }
    (
        None,
        format!(
            "`{name}` was set by {} and the callback ({}) did not carry it",
            h.n, cb.n
        ),
    )
}

fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

/// The short words of a cause, for a title.
pub(crate) fn short(key: CauseKey) -> Option<&'static str> {
    Some(match key {
        CauseKey::HostMismatch => "the login started on another host than the callback's",
        CauseKey::SecureOverHttp => "it was refused as a Secure cookie over plain http",
        CauseKey::SecureAttributeMissing => "it was refused for lacking the Secure attribute",
        CauseKey::StateOverwritten => "it came back holding another start's state",
        CauseKey::SameSiteCrossSite => "SameSite kept it from the IdP's cross-site return",
        CauseKey::CookieDomain => "its Domain does not cover the callback's host",
        CauseKey::CookiePath => "its Path does not cover the callback's path",
        CauseKey::ThirdPartyBlocked => "it was refused as a third-party cookie",
        CauseKey::TooLarge => "it was refused for its size",
        CauseKey::StateExpired => "it expired before the callback",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{BlockedCookie, CookieReasons, HopNo, SentCookie};

    fn state(name: &str, domain: Option<&str>, max_age: Option<i64>) -> SetCookie {
        SetCookie {
            domain: domain.map(str::to_string),
            max_age,
            ..SetCookie::plain(name)
        }
    }

    /// A start on `start` that sets `c`, and a callback on `callback` `secs` later.
    fn trace(start: &str, c: SetCookie, callback: &str, secs: u64) -> Trace {
        let mut t = Trace::default();
        t.chain.app = "https://app.test".into();
        t.chain.preset = Some("better-auth".into());
        let mut s = Hop::plain(1, start, 302);
        s.received_at_ms = 1_000_000;
        s.set_cookies.push(c);
        let mut cb = Hop::plain(2, callback, 302);
        cb.received_at_ms = 1_000_000 + secs * 1000;
        t.hops = vec![s, cb];
        t.chain.callback_hop = Some(HopNo(2));
        t
    }

    const START: &str = "https://app.test/api/auth/sign-in/social";
    const CB: &str = "https://app.test/api/auth/callback/idp?code=c&state=s";

    #[test]
    fn each_loss_names_its_cause() {
        let refused = |reason: CookieReason| {
            let mut c = state("better-auth.state", None, Some(300));
            c.secure = true;
            c.action = CookieAction::Refused;
            c.refusal = Some(CookieReasons(vec![reason]));
            trace(START, c, CB, 2)
        };
        let withheld = |reason: CookieReason| {
            let mut t = trace(START, state("better-auth.state", None, Some(300)), CB, 2);
            t.hops[1].cookie_blocked.push(BlockedCookie {
                name: "better-auth.state".into(),
                reason: CookieReasons(vec![reason]),
            });
            t
        };
        let other_cb = "https://www.app.test/api/auth/callback/idp?code=c";
        let cases: Vec<(&str, Trace, Option<CauseKey>)> = vec![
            (
                "prefix over http",
                refused(CookieReason::InvalidPrefix),
                Some(CauseKey::SecureOverHttp),
            ),
            (
                "a prefix without Secure",
                {
                    let mut t = refused(CookieReason::InvalidPrefix);
                    t.hops[0].set_cookies[0].secure = false;
                    t
                },
                Some(CauseKey::SecureAttributeMissing),
            ),
            (
                "third party",
                refused(CookieReason::UserPreferences),
                Some(CauseKey::ThirdPartyBlocked),
            ),
            (
                "too large",
                refused(CookieReason::NameValuePairExceedsMaxSize),
                Some(CauseKey::TooLarge),
            ),
            (
                "bad domain",
                refused(CookieReason::InvalidDomain),
                Some(CauseKey::CookieDomain),
            ),
            (
                "host-only on another host",
                trace(START, state("better-auth.state", None, None), other_cb, 2),
                Some(CauseKey::HostMismatch),
            ),
            (
                "a Domain that does not cover",
                trace(
                    START,
                    state("better-auth.state", Some("api.app.test"), None),
                    other_cb,
                    2,
                ),
                Some(CauseKey::CookieDomain),
            ),
            (
                "a Domain that covers, withheld for SameSite",
                {
                    let mut t = trace(
                        START,
                        state("better-auth.state", Some("app.test"), None),
                        other_cb,
                        2,
                    );
                    t.hops[1].cookie_blocked.push(BlockedCookie {
                        name: "better-auth.state".into(),
                        reason: CookieReasons(vec![CookieReason::SameSiteLax]),
                    });
                    t
                },
                Some(CauseKey::SameSiteCrossSite),
            ),
            (
                "lax on a cross-site POST",
                withheld(CookieReason::SameSiteUnspecifiedTreatedAsLax),
                Some(CauseKey::SameSiteCrossSite),
            ),
            (
                "path",
                withheld(CookieReason::NotOnPath),
                Some(CauseKey::CookiePath),
            ),
            (
                "expired",
                trace(START, state("better-auth.state", None, Some(5)), CB, 7),
                Some(CauseKey::StateExpired),
            ),
            (
                "expired by its Expires",
                {
                    let mut c = state("better-auth.state", None, None);
                    c.expires = Some("Sun, 06 Nov 1994 08:49:42 GMT".into());
                    let mut t = trace(START, c, CB, 7);
                    t.hops[0].date = Some("Sun, 06 Nov 1994 08:49:37 GMT".into());
                    t
                },
                Some(CauseKey::StateExpired),
            ),
            (
                "not yet expired, no evidence",
                trace(START, state("better-auth.state", None, Some(300)), CB, 7),
                Some(CauseKey::StateNotReturned),
            ),
            (
                "came back",
                {
                    let mut t = trace(START, state("better-auth.state", None, Some(300)), CB, 2);
                    t.hops[1].cookie_sent.push(SentCookie {
                        name: "better-auth.state".into(),
                        value: crate::redact::Redactor::new(false).sensitive("v"),
                    });
                    t
                },
                None,
            ),
            // Another framework's names, no preset: told by the name's words.
            (
                "a hand-written app's state cookie, host-only on another host",
                {
                    let mut t = trace(
                        "https://www.shop.test/oidc/start",
                        state("oidc_state", None, None),
                        "https://shop.test/oidc/callback?code=c&state=s",
                        2,
                    );
                    t.chain.preset = None;
                    t.chain.app = "https://www.shop.test".into();
                    t.chain.auth_base = Some("https://shop.test".into());
                    t
                },
                Some(CauseKey::HostMismatch),
            ),
            (
                "a session id is no state cookie",
                {
                    let mut t = trace(START, state("JSESSIONID", None, None), CB, 2);
                    t.chain.preset = None;
                    t
                },
                None,
            ),
            (
                "an IdP's state cookie is not the app's",
                {
                    let mut t = trace(START, state("KC_STATE_CHECKER", None, None), CB, 2);
                    t.hops[0].url = "https://idp.test/realms/x/login".into();
                    t.chain.preset = None;
                    t
                },
                None,
            ),
            (
                "no state cookie",
                trace(START, state("better-auth.session_token", None, None), CB, 2),
                None,
            ),
        ];
        for (what, t, want) in cases {
            let got = loss(&t).map(|l| l.keys[0]);
            assert_eq!(got, want, "{what}");
            if let Some(l) = loss(&t) {
                assert_eq!(l.keys.len(), 1, "{what}: one cause, not a list");
            }
        }
    }
}
