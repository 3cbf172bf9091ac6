//! Rules on error codes that hops carry (`error=` on a URL or a `Location`): the callback's own
//! codes from the auth library and the IdP's codes passed through it.

use super::finding;
use crate::preset::ErrorKind;
use crate::trace::{CauseKey, Ended, Evidence, Finding, FindingId, Hop, Severity, Trace};

pub fn rules(t: &Trace) -> Vec<Finding> {
    // A refused start carries its code into `start-rejected`.
    if matches!(t.ended, Ended::StartRefused { .. }) {
        return Vec::new();
    }
    // A second hit on a callback that worked explains the error that follows it.
    if let Some(f) = replayed(t) {
        return vec![f];
    }
    // The first hop with a code is where it arose; later hops only carry it along.
    let Some(hop) = t.hops.iter().find(|h| h.error_code.is_some()) else {
        return failed_return(t).map(|h| failed(t, h)).into_iter().collect();
    };
    let code = hop.error_code.clone().unwrap_or_default();
    let mut evidence = vec![Evidence::Hop { hop: hop.n }];
    if let Some(d) = &hop.error_description {
        evidence.push(Evidence::note(format!("error_description: {d}")));
    }
    if let Some(cb) = t
        .chain
        .callback_hop
        .and_then(|n| t.hop(n))
        .filter(|cb| cb.n != hop.n)
    {
        evidence.push(Evidence::CallbackHop { hop: cb.n });
    }
    let at = place(t, hop);
    let known = crate::preset::error_code(t.chain.preset.as_deref(), &code);
    match known.map(|k| k.kind) {
        Some(ErrorKind::MissingEmail) => {
            // The email scope asked for: the IdP has none for the user; else the scope first.
            let asked =
                super::session::asked_scopes(t).is_none_or(|s| s.iter().any(|x| x == "email"));
            let keys = if asked {
                vec![CauseKey::NoEmailAtIdp]
            } else {
                vec![CauseKey::ScopeNotGranted, CauseKey::NoEmailAtIdp]
            };
            let words = crate::preset::words(t.chain.preset.as_deref());
            let mut f = finding(
                FindingId::MissingEmailClaim,
                Severity::Error,
                format!("The IdP sent no email for this user: the callback failed with {code}"),
                evidence,
                format!(
                    "{at} the auth library found no email in the ID token or the userinfo answer, and \
                 it needs one to create or find the user. Either the `email` scope was not asked \
                 for or not granted, the IdP does not map an email claim for this client (a \
                 property or scope mapping), or this user has no email address at the IdP."
                ),
                "Ask for the `email` scope, map the email claim for this client at the IdP, and give \
             the user an email address; or map a fallback email in the provider's getUserInfo.",
            );
            f.causes = keys.iter().map(|k| super::cause(*k, words, "")).collect();
            vec![f]
        }
        Some(ErrorKind::StateLost) => vec![lost_state(t, &at, &code, evidence)],
        Some(ErrorKind::ServerError) => {
            let k = known.expect("a known code");
            let message = hop.page.as_ref().and_then(|p| p.message.clone());
            // The code came back from the IdP: the failure is past the authorization.
            let code_back = code_came_back(t);
            let state = super::state::fate(t);
            if state == Some(false) {
                return vec![lost_state(t, &at, &format!("error={code}"), evidence)];
            }
            let keys = match (state, code_back) {
                (Some(false), _) => vec![
                    CauseKey::StateNotReturned,
                    CauseKey::CodeExchangeFailed,
                    CauseKey::AppFailed,
                ],
                (_, true) => vec![CauseKey::CodeExchangeFailed, CauseKey::AppFailed],
                _ => callback_causes(500, state, message.as_deref()),
            };
            if state.is_some() {
                evidence = state_evidence(t, evidence);
            }
            let keys = if code_back {
                with_metadata(t, keys, &mut evidence)
            } else {
                keys
            };
            let mut f = finding(
                FindingId::CallbackError,
                Severity::Error,
                format!("The login failed with error={code}"),
                evidence,
                format!("{at} the chain reported `{code}`: {}", k.causes),
                k.fix,
            );
            let words = crate::preset::words(t.chain.preset.as_deref());
            f.causes = keys.iter().map(|k| super::cause(*k, words, "")).collect();
            vec![f]
        }
        Some(ErrorKind::Other) | None => {
            let (causes, fix) = match known {
                Some(k) => (k.causes, k.fix),
                None => oauth(&code),
            };
            let causes = format!("the chain reported `{code}`: {causes}");
            let mut evidence = evidence;
            let own = crate::preset::code_cause(t.chain.preset.as_deref(), &code);
            // The token's checks are suspects only where a code came back and the library's own
            // code names nothing else.
            let keys = match own {
                Some(k) => vec![k],
                None if code_came_back(t) => with_metadata(t, Vec::new(), &mut evidence),
                None => Vec::new(),
            };
            let words = crate::preset::words(t.chain.preset.as_deref());
            let named: Vec<_> = keys.iter().map(|k| super::cause(*k, words, "")).collect();
            let because: String = named
                .first()
                .map(|c| format!(" {}", super::sentence(&c.text)))
                .unwrap_or_default();
            let mut f = finding(
                FindingId::CallbackError,
                Severity::Error,
                format!("The login failed with error={code}"),
                evidence,
                format!("{at} {causes}{because}"),
                fix,
            );
            f.causes = named;
            vec![f]
        }
    }
}

/// Whether the IdP sent the browser back to the callback with a code: a failure after it is
/// past the authorization, at the token exchange or the ID token's checks.
fn code_came_back(t: &Trace) -> bool {
    t.chain
        .callback_hop
        .and_then(|n| t.hop(n))
        .and_then(|h| url::Url::parse(&h.url).ok())
        .is_some_and(|u| crate::web::param(&u, "code").is_some())
}

/// For a failure at the token exchange or the ID token's checks: `keys` with the causes the
/// IdP's metadata and the servers' clocks show put first, and their facts added to the evidence.
fn with_metadata(t: &Trace, keys: Vec<CauseKey>, evidence: &mut Vec<Evidence>) -> Vec<CauseKey> {
    let (mut out, facts) = super::idp::causes(t);
    evidence.extend(facts);
    // The IdP's clock far from the app's: its tokens arrive expired or not yet valid.
    if let Some(shown) = super::clock::idp_app_skew(t) {
        out.push(CauseKey::ClockSkew);
        evidence.push(shown);
    }
    for k in keys {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// `callback-replayed`: the callback requested again, with the same code and state, after its
/// first answer went on into the app (and set cookies); the error came after the second.
fn replayed(t: &Trace) -> Option<Finding> {
    let first = t.hop(t.chain.callback_hop?)?;
    // The first hit went on into the app: no error, and a cookie set (the session), not only
    // the state cleared.
    let made = first
        .set_cookies
        .iter()
        .any(|c| c.action == crate::trace::CookieAction::Set);
    if first.status >= 400 || first.error_code.is_some() || !made {
        return None;
    }
    let again = t
        .hops
        .iter()
        .find(|h| h.n > first.n && h.url == first.url && h.method == first.method)?;
    let failed = t
        .hops
        .iter()
        .filter(|h| h.n >= again.n)
        .find(|h| h.error_code.is_some() || h.status >= 400)?;
    let words = crate::preset::words(t.chain.preset.as_deref());
    let what = match &failed.error_code {
        Some(code) => format!("error={code}"),
        None => format!("a {}", failed.status),
    };
    let mut f = finding(
        FindingId::CallbackReplayed,
        Severity::Error,
        format!("The callback was requested twice: the second ended in {what}"),
        vec![
            Evidence::CallbackHop { hop: first.n },
            Evidence::note(format!(
                "{}: the callback answered {} and set {}",
                first.n,
                first.status,
                first
                    .set_cookies
                    .iter()
                    .map(|c| format!("{} ({})", c.name, c.action.word()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Evidence::Hop { hop: again.n },
            Evidence::Hop { hop: failed.n },
        ],
        format!(
            "The first request to the callback ({}) finished the login; the same URL, with the \
             same code and state, was then requested again ({}), and that one failed ({what}), \
             as it must: the code can be exchanged once and the state cookie is spent. What \
             the user sees is the second answer.",
            first.n, again.n
        ),
        "Find what requests the callback twice: a link prefetch or preview, a reload or back \
         button on the callback page, a redirect that leads back to it, or a client that \
         follows the redirect twice. Send the browser on from the callback with a redirect and \
         never link to the callback URL.",
    );
    f.causes = vec![super::cause(CauseKey::CallbackReplayed, words, "")];
    Some(f)
}

/// The app's error answer (4xx or 5xx, no error code) where the login came back: at the
/// callback, or on the redirects that lead on from it at the app. The login failed there,
/// whatever the probes say next. A page's own requests after it landed are not followed.
pub(crate) fn failed_return(t: &Trace) -> Option<&Hop> {
    if !matches!(t.ended, Ended::Landed { .. }) || t.hops.iter().any(|h| h.error_code.is_some()) {
        return None;
    }
    let hosts = super::app_hosts(t);
    let mut hop = t.hop(t.chain.callback_hop?)?;
    loop {
        if !hosts.contains(&crate::web::host_port(&hop.url)) {
            return None;
        }
        // A 431 is the request's headers refused for their size: `cookie-too-large` names it.
        if hop.status == 431 {
            return None;
        }
        if hop.status >= 400 {
            return Some(hop);
        }
        let to = hop.location.as_deref()?;
        hop = t.hops.iter().find(|h| h.n > hop.n && h.url == to)?;
    }
}

/// `callback-error` for the app's error answer at or after the callback: titled with its status
/// and its words, the causes ranked by the status and by the fate of the state cookie.
fn failed(t: &Trace, hop: &Hop) -> Finding {
    let status = hop.status;
    let message = hop
        .page
        .as_ref()
        .and_then(|p| p.message.clone())
        .or_else(|| hop.body_excerpt.clone().filter(|b| !b.trim().is_empty()))
        .map(|m| m.chars().take(160).collect::<String>());
    let at_callback = t.chain.callback_hop == Some(hop.n);
    let said = message
        .as_ref()
        .map(|m| format!(": \"{m}\""))
        .unwrap_or_default();
    let title = if at_callback {
        format!("The app's callback answered {status}{said}")
    } else {
        format!("The app answered {status} after the callback{said}")
    };
    let mut evidence = vec![Evidence::Hop { hop: hop.n }];
    if let Some(b) = hop.body_excerpt.as_ref().filter(|b| !b.trim().is_empty()) {
        evidence.push(Evidence::note(format!("body: {b}")));
    }
    let state = super::state::fate(t);
    // Nothing serving the callback's path explains itself, whatever the cookies did.
    if at_callback && state == Some(false) && !matches!(status, 404 | 405) {
        let said = match &message {
            Some(m) => format!("the callback answered {status}: \"{m}\""),
            None => format!("the callback answered {status}"),
        };
        return lost_state(t, &place(t, hop), &said, evidence);
    }
    if at_callback {
        if state.is_some() {
            evidence = state_evidence(t, evidence);
        }
        let keys = callback_causes(status, state, message.as_deref());
        let keys = if code_came_back(t) && !matches!(status, 404 | 405) {
            with_metadata(t, keys, &mut evidence)
        } else {
            keys
        };
        let mut f = finding(
            FindingId::CallbackError,
            Severity::Error,
            title,
            evidence,
            format!(
                "The IdP sent the browser back to the app, and the app's callback answered {status} \
                 with no error code instead of going on into the app: the login failed in the \
                 app, after the IdP had done its part. The page's words and the app's log for \
                 this time say which of the causes below it is."
            ),
            "Read the app's log for this request; compare the cookies the callback carried \
             with those set at the start, and the client's secret and the IdP's reachability \
             from the app with the IdP's configuration.",
        );
        f.causes = keys
            .iter()
            .map(|k| super::cause(*k, crate::preset::words(t.chain.preset.as_deref()), ""))
            .collect();
        f
    } else {
        finding(
            FindingId::CallbackError,
            Severity::Error,
            title,
            evidence,
            match status {
                404 | 410 => {
                    "The callback went through, then the app sent the browser to a page that \
                     does not exist: the URL the login returns to (the callback URL given at the \
                     start) is wrong for this deployment."
                }
                401 | 403 => {
                    "The callback went through, then the page the login returns to refused the \
                     browser: the session the callback made is not accepted there (see the \
                     probes and the session cookie's fate), or the page asks for more than this \
                     user has."
                }
                _ => {
                    "The callback went through, then the page the login returns to failed: the \
                     app's own code behind that page, not the login."
                }
            },
            "Read the app's log for this request, and check the URL the login returns to.",
        )
    }
}

/// The causes of a failed callback, likeliest first: by the state cookie's fate, the page's
/// OAuth words, then the status.
fn callback_causes(
    status: u16,
    state_returned: Option<bool>,
    message: Option<&str>,
) -> Vec<CauseKey> {
    use CauseKey::*;
    let m = message.unwrap_or_default().to_lowercase();
    // Whole words only: "statement timeout" names no state.
    let names_state = m
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| {
            [
                "state",
                "nonce",
                "verifier",
                "code_verifier",
                "pkce",
                "cookie",
                "checks",
            ]
            .contains(&w)
        });
    let mut keys: Vec<CauseKey> = match status {
        404 | 405 => vec![CallbackNotServed, AppFailed],
        401 | 403 => vec![AppRefusesUser, CodeExchangeFailed, StateNotReturned],
        400..500 => vec![StateNotReturned, CodeExchangeFailed, AppRefusesUser],
        _ => vec![CodeExchangeFailed, AppFailed, StateNotReturned],
    };
    // The state cookie that did not come back (or words that name it) leads, except where
    // nothing serves the path at all.
    if (state_returned == Some(false) || names_state) && !matches!(status, 404 | 405) {
        keys.retain(|k| *k != StateNotReturned);
        keys.insert(0, StateNotReturned);
    }
    // A state cookie seen to come back is no cause.
    if state_returned == Some(true) && !names_state {
        keys.retain(|k| *k != StateNotReturned);
    }
    keys
}

/// `state-cookie-lost`: the state cookie set at the start did not come back to the callback,
/// which failed (`what`: its code or its answer). The cause is the one the cookie's life shows,
/// named in the library's words; where it shows none, the ways it is lost, ranked.
fn lost_state(t: &Trace, at: &str, what: &str, evidence: Vec<Evidence>) -> Finding {
    let words = crate::preset::words(t.chain.preset.as_deref());
    let loss = super::state::loss(t);
    // Sent, yet refused: it holds another start's state.
    let came_back = super::state::fate(t) == Some(true);
    let keys = match &loss {
        Some(l) => l.keys.clone(),
        None if came_back => vec![CauseKey::StateOverwritten],
        None => vec![CauseKey::StateNotReturned],
    };
    let first = keys[0];
    let title = match super::state::short(first) {
        Some(why) if came_back => {
            format!("The state cookie did not match the callback ({what}): {why}")
        }
        Some(why) => format!("The state cookie did not come back to the callback ({what}): {why}"),
        None => format!("The state cookie did not come back to the callback ({what})"),
    };
    let shows = loss
        .as_ref()
        .map(|l| format!(" The chain shows it: {}.", l.facts.join("; ")))
        .unwrap_or_default();
    let how = if came_back {
        "the cookie came back with another state"
    } else {
        "the cookie did not come back"
    };
    let why = if first == CauseKey::StateNotReturned {
        format!(
            "The chain does not show why; the ways it is lost, likeliest first: refused when \
             set (Secure over plain http, a Domain that does not match, third-party blocking), \
             withheld from the IdP's cross-site return (SameSite), a start on another host than \
             the callback's, or expired ({}).",
            words.state_cookie_life
        )
    } else {
        keys.iter()
            .map(|k| super::sentence(&super::cause(*k, words, "").text))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let cb_host = t
        .chain
        .callback_hop
        .and_then(|n| t.hop(n))
        .map(|h| crate::web::host_port(&h.url))
        .unwrap_or_default();
    let fix = match first {
        CauseKey::HostMismatch => format!(
            "Start the login on the host the IdP sends it back to ({cb_host}, from the app's {}): \
             open the app there, and redirect every other host name to it before the login.",
            words.base_url
        ),
        CauseKey::SecureOverHttp => format!(
            "Serve the app over https, or turn secure cookies off for plain-http testing ({}).",
            words.secure_cookies
        ),
        CauseKey::SecureAttributeMissing => format!(
            "Set Secure on the state cookie, as its prefix or its SameSite=None demands ({}).",
            words.state_cookie_settings
        ),
        CauseKey::StateOverwritten => "Start the login once: disable the sign-in button once \
             pressed, and do not start a second login in another tab before the first returns."
            .to_string(),
        CauseKey::SameSiteCrossSite => format!(
            "Where the IdP returns with a POST (form_post), keep the state cookie \
             `SameSite=None; Secure` over https, or have the IdP return with a GET \
             (response_mode=query); the cookie's attributes are set in {}.",
            words.state_cookie_settings
        ),
        CauseKey::CookieDomain => format!(
            "Give the cookie a Domain that covers every host of the login ({}), or keep the \
             login on one host.",
            words.cookie_domain
        ),
        CauseKey::CookiePath => format!(
            "Set the state cookie's Path to `/`, or to a prefix of the callback's path ({}).",
            words.state_cookie_settings
        ),
        CauseKey::ThirdPartyBlocked => "Start the login with a top-level navigation to the auth \
             handler (a link or a form), or serve the page and the auth handler from one site."
            .to_string(),
        CauseKey::TooLarge => "Keep what the state cookie holds small: a long callback URL or \
             extra authorization parameters make it grow."
            .to_string(),
        CauseKey::StateExpired => format!(
            "Finish the login within the state cookie's life, or lengthen it ({}).",
            words.state_cookie_settings
        ),
        _ => "Serve the app over https when cookies are Secure (or turn secure cookies off for \
              plain-http testing), start and finish the login on the same host, and keep the \
              state cookie SameSite=Lax."
            .to_string(),
    };
    let mut f = finding(
        FindingId::StateCookieLost,
        Severity::Error,
        title,
        state_evidence(t, evidence),
        format!(
            "{at} the auth library compares the `state` on the callback URL with the state it \
             stored in a cookie at the start, and {how}: it reports that as {}.{shows} {why}",
            words.state_lost_as
        ),
        fix,
    );
    f.causes = keys.iter().map(|k| super::cause(*k, words, "")).collect();
    f
}

/// Where the code arose, in words.
fn place(t: &Trace, hop: &Hop) -> String {
    match t.chain.callback_hop {
        Some(cb) if cb == hop.n => format!("At the callback ({}),", hop.n),
        Some(cb) if cb < hop.n => format!("After the callback ({cb}),"),
        _ => format!("At {},", hop.n),
    }
}

/// The state cookie's life: where it was set, sent and cleared.
fn state_evidence(t: &Trace, mut evidence: Vec<Evidence>) -> Vec<Evidence> {
    let is_state = |name: &str| super::state::is_state(t, name);
    for h in &t.hops {
        for c in h.set_cookies.iter().filter(|c| is_state(&c.name)) {
            let why = c
                .refusal
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            evidence.push(Evidence::note(format!(
                "{}: {} {}{why}",
                h.n,
                c.name,
                c.action.word()
            )));
        }
        if t.chain.callback_hop == Some(h.n) {
            let sent: Vec<&str> = h
                .cookie_sent
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| is_state(n))
                .collect();
            evidence.push(Evidence::note(if sent.is_empty() {
                format!("{}: the callback request carried no state cookie", h.n)
            } else {
                format!("{}: the callback request carried {}", h.n, sent.join(", "))
            }));
        }
    }
    evidence
}

/// Causes and fixes of OAuth 2.0 / OIDC error codes, which IdPs send and auth libraries pass on.
fn oauth(code: &str) -> (&'static str, &'static str) {
    match code {
        "server_error" => (
            "the server failed while handling the callback; its own log says why.",
            "Read the app's (or IdP's) server log for the time of this hop.",
        ),
        "access_denied" => (
            "the IdP denied the authorization: the user refused consent, or an IdP policy (group, application binding, MFA) refused the user.",
            "Check the user's access to this application at the IdP; with consent = \"deny\" this is the expected answer.",
        ),
        "redirect_uri_mismatch" | "invalid_redirect_uri" => (
            "the redirect_uri of the authorize request is not registered for this client at the IdP.",
            "Register the app's exact callback URL (scheme, host, port, path) for the client.",
        ),
        "invalid_client" | "unauthorized_client" => (
            "the IdP does not know the client, or the client may not use this grant.",
            "Check the client id and the grant types allowed for it.",
        ),
        "invalid_scope" => (
            "a requested scope is unknown to the IdP or not allowed for the client.",
            "Ask only for scopes the client is allowed (openid email profile).",
        ),
        "login_required" | "consent_required" | "interaction_required" => (
            "a silent authorization (prompt=none) needs the user to log in or consent.",
            "Start the login without prompt=none.",
        ),
        "invalid_request" => (
            "the IdP found the authorize request malformed (a missing or duplicated parameter, a PKCE method it does not support).",
            "Read error_description for the parameter it names.",
        ),
        "temporarily_unavailable" => (
            "the IdP is overloaded or in maintenance.",
            "Retry later; check the IdP's health.",
        ),
        _ => (
            "the chain reported an error this tool has no specific knowledge of.",
            "Read error_description and the app's and IdP's logs for this hop.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::HopNo;

    fn trace_with(code: &str) -> Trace {
        let hop = Hop {
            location: Some(format!("http://localhost:3000/api/auth/error?error={code}")),
            error_code: Some(code.into()),
            ..Hop::plain(9, "http://localhost:3000/api/auth/callback/x", 302)
        };
        let mut t = Trace::default();
        t.chain.app = "http://localhost:3000".into();
        t.hops.push(hop);
        t.chain.callback_hop = Some(HopNo(9));
        t.chain.preset = Some("better-auth".into());
        t
    }

    /// A chain that left the app (hop 1), came back to the callback (hop 2) and landed (hop 3).
    fn returned(callback: u16, landing: u16) -> Trace {
        let mut t = Trace::default();
        for (n, url, status) in [
            (1, "http://idp/authorize", 302),
            (2, "http://app/oidc/return?code=x&state=y", callback),
            (3, "http://app/home", landing),
        ] {
            t.hops.push(Hop::plain(n, url, status));
        }
        if (300..400).contains(&callback) {
            t.hops[1].location = Some("http://app/home".into());
        }
        t.chain.app = "http://app/".into();
        t.chain.callback_hop = Some(HopNo(2));
        t.ended = Ended::Landed { hop: HopNo(3) };
        t
    }

    #[test]
    fn a_callback_hit_twice_is_callback_replayed() {
        // (the first hit set cookies, the second's answer, the finding)
        for (set, second, want) in [
            (true, 400, Some(FindingId::CallbackReplayed)),
            (true, 302, None),
            (false, 400, None),
        ] {
            let mut t = returned(302, 200);
            if set {
                t.hops[1]
                    .set_cookies
                    .push(crate::trace::SetCookie::plain("sid"));
            }
            let mut again = Hop::plain(3, "http://app/oidc/return?code=x&state=y", second);
            again.location = (second == 302).then(|| "http://app/home".into());
            t.hops.insert(2, again);
            t.hops[3].n = HopNo(4);
            t.ended = Ended::Landed { hop: HopNo(4) };
            let got = rules(&t).first().map(|f| f.id);
            assert_eq!(got, want, "{set} {second}");
        }
    }

    #[test]
    fn a_failed_return_is_a_callback_error() {
        // (callback status, landing status, the failing hop, title)
        for (callback, landing, hop, title) in [
            (302, 200, None, ""),
            (403, 403, Some(2), "The app's callback answered 403"),
            (500, 500, Some(2), "The app's callback answered 500"),
            (302, 404, Some(3), "The app answered 404 after the callback"),
        ] {
            let t = returned(callback, landing);
            assert_eq!(
                failed_return(&t).map(|h| h.n.0),
                hop,
                "{callback} {landing}"
            );
            let f = rules(&t);
            match hop {
                None => assert!(f.is_empty()),
                Some(_) => {
                    assert_eq!(f[0].id, FindingId::CallbackError);
                    assert_eq!(f[0].title, title);
                }
            }
        }
        // Words of the page go into the title.
        let mut t = returned(400, 400);
        t.hops[1].page = Some(crate::trace::Page {
            kind: crate::trace::PageKind::Other,
            message: Some("BadRequestError: checks.state argument is missing".into()),
        });
        let f = rules(&t);
        assert_eq!(
            f[0].title,
            "The app's callback answered 400: \"BadRequestError: checks.state argument is missing\""
        );
        assert_eq!(f[0].causes[0].key, CauseKey::StateNotReturned);
        // An error code, or a drive that did not come back, is judged elsewhere.
        let mut t = returned(500, 500);
        t.hops[1].error_code = Some("server_error".into());
        assert!(failed_return(&t).is_none());
        let mut t = returned(500, 500);
        t.ended = Ended::IdpError { hop: HopNo(3) };
        assert!(failed_return(&t).is_none());
        // No callback found, a page's own request after the landing, another origin's answer.
        let mut t = returned(500, 500);
        t.chain.callback_hop = None;
        assert!(failed_return(&t).is_none());
        let mut t = returned(302, 200);
        t.hops.push(Hop::plain(4, "http://app/api/me", 401));
        t.ended = Ended::Landed { hop: HopNo(4) };
        assert!(failed_return(&t).is_none());
        let mut t = returned(302, 502);
        t.hops[1].location = Some("http://cdn/home".into());
        t.hops[2].url = "http://cdn/home".into();
        assert!(failed_return(&t).is_none());
    }

    #[test]
    fn one_code_for_every_server_failure_is_ranked_by_evidence() {
        // Auth.js: the PKCE cookie set at the start, and the callback with a code.
        let trace = |pkce_sent: bool| {
            let mut t = trace_with("Configuration");
            t.chain.preset = Some("authjs".into());
            t.hops[0].url = "http://localhost:3000/auth/callback/fixture?code=c&iss=i".into();
            let mut start = Hop::plain(1, "http://localhost:3000/auth/signin/fixture", 200);
            start.set_cookies.push(crate::trace::SetCookie {
                max_age: Some(900),
                ..crate::trace::SetCookie::plain("authjs.pkce.code_verifier")
            });
            t.hops.insert(0, start);
            if pkce_sent {
                t.hops[1].cookie_sent.push(crate::trace::SentCookie {
                    name: "authjs.pkce.code_verifier".into(),
                    value: crate::redact::Redactor::new(false).sensitive("v"),
                });
            }
            t
        };
        let keys = |t: &Trace| -> Vec<CauseKey> {
            let f = rules(t);
            assert_eq!(f[0].id, FindingId::CallbackError);
            assert_eq!(f[0].title, "The login failed with error=Configuration");
            f[0].causes.iter().map(|c| c.key).collect()
        };
        // The PKCE cookie did not come back: the state cookie lost, InvalidCheck in Auth.js's
        // log.
        let lost = &rules(&trace(false))[0];
        assert_eq!(lost.id, FindingId::StateCookieLost);
        assert_eq!(
            lost.title,
            "The state cookie did not come back to the callback (error=Configuration)"
        );
        assert!(
            lost.explanation.contains("`InvalidCheck`"),
            "{}",
            lost.explanation
        );
        let lost_keys: Vec<CauseKey> = lost.causes.iter().map(|c| c.key).collect();
        assert_eq!(lost_keys, [CauseKey::StateNotReturned]);

        // It came back with a code: the exchange (or the ID token) failed.
        assert_eq!(
            keys(&trace(true)),
            [CauseKey::CodeExchangeFailed, CauseKey::AppFailed]
        );
        assert!(rules(&trace(true))[0].explanation.contains("InvalidCheck"));
    }

    #[test]
    fn causes_of_a_failed_callback() {
        use CauseKey::*;
        // (status, did the state cookie come back, the page's words, the causes)
        for (status, state, words, want) in [
            (
                403,
                None,
                None,
                vec![AppRefusesUser, CodeExchangeFailed, StateNotReturned],
            ),
            (
                403,
                Some(true),
                None,
                vec![AppRefusesUser, CodeExchangeFailed],
            ),
            (
                403,
                Some(false),
                None,
                vec![StateNotReturned, AppRefusesUser, CodeExchangeFailed],
            ),
            (
                400,
                None,
                None,
                vec![StateNotReturned, CodeExchangeFailed, AppRefusesUser],
            ),
            (
                400,
                Some(true),
                Some("invalid_grant"),
                vec![CodeExchangeFailed, AppRefusesUser],
            ),
            (
                400,
                Some(true),
                Some("auth_verification cookie not found"),
                vec![StateNotReturned, CodeExchangeFailed, AppRefusesUser],
            ),
            (
                500,
                None,
                None,
                vec![CodeExchangeFailed, AppFailed, StateNotReturned],
            ),
            (
                502,
                Some(false),
                None,
                vec![StateNotReturned, CodeExchangeFailed, AppFailed],
            ),
            (404, Some(false), None, vec![CallbackNotServed, AppFailed]),
            (
                500,
                None,
                Some("canceling statement due to statement timeout"),
                vec![CodeExchangeFailed, AppFailed, StateNotReturned],
            ),
        ] {
            assert_eq!(
                callback_causes(status, state, words),
                want,
                "{status} {state:?} {words:?}"
            );
        }
    }

    #[test]
    fn codes_map_to_findings() {
        for (code, id) in [
            ("email_is_missing", "missing-email-claim"),
            ("email_not_found", "missing-email-claim"),
            ("state_mismatch", "state-cookie-lost"),
            ("state_not_found", "callback-error"),
            ("invalid_code", "callback-error"),
            ("oauth_code_verification_failed", "callback-error"),
            ("unable_to_get_user_info", "callback-error"),
            ("account_not_linked", "callback-error"),
            ("access_denied", "callback-error"),
            ("something_new", "callback-error"),
        ] {
            let f = rules(&trace_with(code));
            assert_eq!(f.len(), 1, "{code}");
            assert_eq!(f[0].id, id, "{code}");
            assert!(
                f[0].title.contains(code),
                "the code is in the title: {}",
                f[0].title
            );
        }
    }

    #[test]
    fn known_causes_are_specific() {
        let f = rules(&trace_with("unable_to_get_user_info"));
        assert!(f[0].explanation.contains("HS256"), "{}", f[0].explanation);
        let f = rules(&trace_with("redirect_uri_mismatch"));
        assert!(f[0].explanation.contains("not registered"));
        let f = rules(&trace_with("something_new"));
        assert!(f[0].explanation.contains("no specific knowledge"));
        // A chain of another library: the shared failures keep their findings, one library's
        // causes are not told of another's chain.
        let mut t = trace_with("unable_to_get_user_info");
        t.chain.preset = None;
        let f = rules(&t);
        assert_eq!(f[0].id, FindingId::CallbackError);
        assert!(
            !f[0].explanation.contains("BetterAuth"),
            "{}",
            f[0].explanation
        );
        t.hops[0].error_code = Some("state_mismatch".into());
        assert_eq!(rules(&t)[0].id, FindingId::StateCookieLost);
    }
}
