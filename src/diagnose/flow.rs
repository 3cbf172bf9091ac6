//! Rules on how the drive ended: loops, the hop cap, refused credentials, a refused start, and
//! IdP error pages.

use super::finding;
use crate::trace::{CauseKey, Ended, Evidence, Finding, FindingId, Severity, Trace};

/// A hop and the start of its body, and its status: the evidence of an error answer.
fn answer_evidence(t: &Trace, hop: crate::trace::HopNo) -> (Vec<Evidence>, u16) {
    let h = t.hop(hop);
    let mut evidence: Vec<Evidence> = h.map(|h| Evidence::Hop { hop: h.n }).into_iter().collect();
    if let Some(body) = h.and_then(|h| h.body_excerpt.clone()) {
        evidence.push(Evidence::note(format!("body: {body}")));
    }
    // A page message (an Authentik stage's error, say) says what the body may not.
    if let Some(message) = h
        .and_then(|h| h.page.as_ref())
        .and_then(|p| p.message.clone())
    {
        evidence.push(Evidence::note(format!("the page says: \"{message}\"")));
    }
    (evidence, h.map_or(0, |h| h.status))
}

/// The IdP's refusal of the app's authorization request itself, before any login: where it was
/// sent back to, against where the login runs.
struct Refused {
    at: crate::trace::HopNo,
    redirect_uri: String,
    origin: String,
    keys: Vec<CauseKey>,
}

/// The authorization request the IdP refused at `hop`, when no login came between them: its
/// redirect_uri against the origin the login started on.
fn refused_authorization(t: &Trace, hop: crate::trace::HopNo) -> Option<Refused> {
    let until: Vec<&crate::trace::Hop> = t.hops.iter().filter(|h| h.n <= hop).collect();
    let authorize = until.iter().find(|h| {
        url::Url::parse(&h.url).is_ok_and(|u| crate::web::param(&u, "redirect_uri").is_some())
    })?;
    if until
        .iter()
        .any(|h| h.n > authorize.n && h.step != crate::trace::Step::Follow)
    {
        return None;
    }
    let redirect_uri = crate::web::param(&url::Url::parse(&authorize.url).ok()?, "redirect_uri")?;
    let back = url::Url::parse(&redirect_uri).ok()?;
    // The IdP's own OAuth error code (RFC 6749), where its page or URL gives one.
    let refused = t.hop(hop)?;
    let said = |codes: &[&str]| {
        codes.iter().any(|c| {
            refused.error_code.as_deref() == Some(*c)
                || refused.body_excerpt.as_deref().is_some_and(|b| {
                    b.split(|ch: char| !ch.is_alphanumeric() && ch != '_')
                        .any(|w| w == *c)
                })
        })
    };
    let about_redirect = said(&["invalid_redirect_uri", "redirect_uri_mismatch"]);
    let about_client = !about_redirect && said(&["invalid_client", "unauthorized_client"]);
    // Another request parameter the IdP names: not the redirect_uri's business.
    if !about_redirect
        && !about_client
        && said(&[
            "invalid_scope",
            "invalid_request",
            "unsupported_response_type",
        ])
    {
        return None;
    }
    // Where the app's auth handler is: the redirect_uri should be on its origin.
    let own = [t.chain.auth_base.as_deref(), Some(t.chain.app.as_str())]
        .into_iter()
        .flatten()
        .find_map(|u| url::Url::parse(u).ok())?;
    let origin = own.origin().ascii_serialization();
    let keys = if about_client {
        vec![CauseKey::ClientNotRegistered]
    } else if back.origin().ascii_serialization() != origin {
        vec![CauseKey::RedirectUriOrigin]
    } else if about_redirect {
        vec![CauseKey::RedirectUriPath]
    } else {
        vec![CauseKey::RedirectUriPath, CauseKey::ClientNotRegistered]
    };
    Some(Refused {
        at: authorize.n,
        redirect_uri,
        origin,
        keys,
    })
}

/// Why the app refused the start, likeliest first: the library's own code where it names one
/// (an `error=` it sends the browser back with, a JSON `code`), else the answer's status and
/// what the request carried.
fn start_causes(t: &Trace, h: &crate::trace::Hop, code: Option<&str>) -> Vec<CauseKey> {
    use CauseKey::*;
    let preset = t.chain.preset.as_deref();
    let json_code = h
        .body_excerpt
        .as_deref()
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .and_then(|j| {
            ["code", "error"]
                .iter()
                .find_map(|k| j.get(k)?.as_str().map(str::to_string))
        });
    if let Some(k) = code
        .or(json_code.as_deref())
        .and_then(|c| crate::preset::code_cause(preset, c))
    {
        return vec![k];
    }
    let url = url::Url::parse(&h.url).ok();
    // A page on another origin than the auth handler's: its Origin is what a check would refuse.
    let cross_origin = h
        .origin_sent
        .as_deref()
        .zip(url.as_ref())
        .is_some_and(|(o, u)| u.origin().ascii_serialization() != o);
    // A step that does not need the IdP (a CSRF token's fetch) failing: the app's own setup.
    let before_idp = preset
        .and_then(crate::preset::Preset::parse)
        .is_some_and(|p| {
            p.contract().starts.iter().any(|s| {
                s.csrf
                    .as_ref()
                    .zip(url.as_ref())
                    .is_some_and(|(c, u)| u.path().ends_with(&format!("/{}", c.path)))
            })
        });
    // Host trust is a cause only where the library has it (its code names it).
    let trusts_hosts = preset
        .and_then(crate::preset::Preset::parse)
        .is_some_and(|p| {
            p.contract()
                .code_causes
                .iter()
                .any(|(_, k)| *k == UntrustedHost)
        });
    let mut keys = match h.status {
        404 | 405 => vec![StartNotServed],
        401 | 403 if cross_origin => vec![UntrustedOrigin, MissingCsrf],
        401 | 403 => vec![MissingCsrf, UntrustedOrigin],
        // The app, or the proxy in front of it, is down or timed out.
        502..=504 => vec![AppFailed, IdpUnreachable],
        500.. if before_idp => vec![UntrustedHost, AppFailed],
        500.. => vec![IdpUnreachable, UntrustedHost, AppFailed],
        _ => Vec::new(),
    };
    if !trusts_hosts {
        keys.retain(|k| *k != UntrustedHost);
    }
    // The IdP's discovery names another issuer than the app's: the library refuses it, with a
    // server error or its error page.
    if (h.status >= 500 || code.is_some()) && super::idp::causes(t).0.contains(&IssuerMismatch) {
        keys.retain(|k| *k != IdpUnreachable);
        keys.insert(0, IssuerMismatch);
    }
    keys
}

/// The account's state when the IdP's words name one: a refusal that no password fixes.
fn account_state(message: &str) -> Option<&'static str> {
    let m = message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if has(&["locked", "lockout", "locked out", "too many"]) {
        Some("the account is locked")
    } else if has(&[
        "disabled",
        "deactivated",
        "suspended",
        "inactive",
        "blocked",
    ]) {
        Some("the account is disabled")
    } else if has(&[
        "password has expired",
        "password expired",
        "account has expired",
        "account expired",
    ]) {
        Some("the password or the account has expired")
    } else {
        None
    }
}

pub fn rules(t: &Trace) -> Vec<Finding> {
    let hop_lines = |from: u32, to: u32| -> Vec<Evidence> {
        t.hops
            .iter()
            .filter(|h| (from..=to).contains(&h.n.0))
            .map(|h| Evidence::Hop { hop: h.n })
            .collect()
    };
    match &t.ended {
        Ended::BadRedirect { hop } => {
            let status = t.hop(*hop).map_or(0, |h| h.status);
            vec![finding(
                FindingId::MalformedRedirect,
                Severity::Error,
                format!("The redirect at {hop} ({status}) has a Location that is not a URL"),
                vec![Evidence::Hop { hop: *hop }],
                "The server sent the browser on with a `Location` header that does not parse as \
                 a URL (a space, a bad port, an unclosed IPv6 bracket, a raw character that must \
                 be encoded), so there is nothing to follow: a browser stops there too.",
                "Build the redirect URL with the framework's URL helpers, which encode what the \
                 URL holds; check any value (a callback URL, a next parameter) pasted into it.",
            )]
        }
        Ended::Loop { first, again } => vec![finding(
            FindingId::RedirectLoop,
            Severity::Error,
            format!("Redirect loop: {again} sends the browser back to the URL of {first}"),
            hop_lines(first.0, again.0),
            "The chain came back to a request it had already made, so it would never end. Common \
             causes: the app sends an unauthenticated user to login and the login sends a \
             \"logged-in\" user back to the app, because the session cookie is not set or not sent \
             (see the cookies on these hops); a callback URL that points at a guarded page; a \
             proxy that rewrites the scheme or host.",
            "Check which hop should have set or sent the session cookie, and make the callback \
             URL a page that does not itself require a login.",
        )],
        Ended::HopCap { cap } => {
            let from = (t.hops.len() as u32).saturating_sub(5).max(1);
            vec![finding(
                FindingId::RedirectLoop,
                Severity::Error,
                format!("The chain hit the hop cap ({cap}) without ending"),
                hop_lines(from, t.hops.len() as u32),
                "No login needs this many hops: the redirects go round in a circle that changes \
                 its URLs on the way (a counter, a fresh state), or the chain is far longer than \
                 expected.",
                "Read the last hops for the repeating pattern; raise `max_hops` only if the chain \
                 really is that long.",
            )]
        }
        Ended::LoginRejected { hop } => {
            let h = t.hop(*hop);
            let page = h.and_then(|h| h.page.as_ref());
            let message = page.and_then(|p| p.message.clone());
            let mut evidence = Vec::new();
            if let Some(submit) = t
                .hops
                .iter()
                .rev()
                .find(|h| h.step == crate::trace::Step::IdpLogin)
            {
                evidence.push(Evidence::Hop { hop: submit.n });
            }
            if let Some(h) = h {
                let what = match page.map(|p| &p.kind) {
                    Some(crate::trace::PageKind::LoginForm) => "the login form again",
                    _ => "an answer that does not go on with the login",
                };
                evidence.push(Evidence::note(format!(
                    "{}: {what} ({}) at {}",
                    h.n, h.status, h.url
                )));
            }
            if let Some(m) = &message {
                evidence.push(Evidence::note(format!("the page says: \"{m}\"")));
            }
            let state = message.as_deref().and_then(account_state);
            vec![finding(
                FindingId::IdpLoginRejected,
                Severity::Error,
                match (state, &message) {
                    (Some(state), Some(m)) => {
                        format!("The IdP refused the login: {state} (\"{m}\")")
                    }
                    (None, Some(m)) => format!("The IdP refused the credentials: \"{m}\""),
                    _ => "The IdP refused the credentials (its answer to them does not go on \
                          with the login)"
                        .into(),
                },
                evidence,
                "The IdP answered the submitted credentials with something other than the next \
                 step of the login (the form again, a password field again, a 4xx, a text or JSON \
                 error, an error banner), as IdPs do for a wrong username or password, a locked \
                 or disabled account, an expired password, or a user that does not exist.",
                match state {
                    Some(_) => {
                        "Fix the account's state at the IdP (unlock, enable, reset the \
                                password), or use another test account."
                    }
                    None => {
                        "Check the username and the password variable the scenario reads, \
                             and the user's state at the IdP."
                    }
                },
            )]
        }
        Ended::StartRefused { hop } => {
            let (evidence, status) = answer_evidence(t, *hop);
            let words = crate::preset::words(t.chain.preset.as_deref());
            let code = t.hop(*hop).and_then(|h| h.error_code.clone());
            let known = code
                .as_deref()
                .and_then(|c| crate::preset::error_code(t.chain.preset.as_deref(), c));
            let keys = t
                .hop(*hop)
                .map(|h| start_causes(t, h, code.as_deref()))
                .unwrap_or_default();
            let mut evidence = evidence;
            evidence.extend(super::idp::causes(t).1);
            let causes: Vec<_> = keys.iter().map(|k| super::cause(*k, words, "")).collect();
            let likeliest = match causes.as_slice() {
                [] => String::new(),
                [one] => format!(" {}", super::sentence(&one.text)),
                [first, rest @ ..] => format!(
                    " Likeliest: {} Else: {}",
                    super::sentence(&first.text),
                    rest.iter()
                        .map(|c| super::sentence(&c.text))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            };
            let mut f = finding(
                FindingId::StartRejected,
                Severity::Error,
                match &code {
                    Some(code) => format!("The app refused to start the login: error={code}"),
                    None => format!("The app refused to start the login ({status})"),
                },
                evidence,
                match known {
                    Some(k) => format!(
                        "The request that starts the login sent the browser back to the app's \
                         error page instead of to the IdP: {}{likeliest}",
                        k.causes
                    ),
                    None => format!(
                        "The request that starts the login did not answer with a URL to follow. \
                         {}; a 5xx often means the app could not fetch the IdP's discovery \
                         document.{likeliest}",
                        words.start_refused
                    ),
                },
                format!(
                    "Check the provider id, the auth base path, the app's {}, and that the app \
                     can reach the IdP.",
                    words.trusted_origins
                ),
            );
            f.causes = causes;
            vec![f]
        }
        Ended::IdpError { hop } => {
            let (mut evidence, status) = answer_evidence(t, *hop);
            let message = t
                .hop(*hop)
                .and_then(|h| h.page.as_ref())
                .and_then(|p| p.message.clone());
            let refused = refused_authorization(t, *hop);
            let words = crate::preset::words(t.chain.preset.as_deref());
            let causes: Vec<_> = refused
                .as_ref()
                .map(|r| r.keys.iter().map(|k| super::cause(*k, words, "")).collect())
                .unwrap_or_default();
            if let Some(r) = &refused {
                evidence.push(Evidence::note(format!(
                    "{}: the authorization request's redirect_uri is {}; the login runs on {}",
                    r.at, r.redirect_uri, r.origin
                )));
            }
            let because = causes
                .iter()
                .map(|c| format!(" {}", super::sentence(&c.text)))
                .collect::<String>();
            let fix = match refused.as_ref().map(|r| r.keys[0]) {
                Some(CauseKey::RedirectUriOrigin) => format!(
                    "Make the app build its redirect_uri on the origin the login runs on ({}); \
                     register that exact URI for the client at the IdP.",
                    words.redirect_uri_from
                ),
                Some(_) => format!(
                    "Register the exact redirect_uri {} (scheme, host, port, path, trailing \
                     slash) for the client at the IdP, or move the app's callback route back to \
                     the registered one.",
                    refused.as_ref().map_or("", |r| r.redirect_uri.as_str())
                ),
                None => "Read the IdP's error in the body above, and compare the client's \
                         registration with the authorize request of the hop before."
                    .to_string(),
            };
            let mut f = finding(
                FindingId::IdpErrorPage,
                Severity::Error,
                match (status, &message) {
                    (400.., _) | (_, None) => {
                        format!("The IdP answered {status} instead of going on with the login")
                    }
                    (_, Some(m)) => format!("The IdP stopped the login: \"{m}\""),
                },
                evidence,
                format!(
                    "The identity provider showed an error page or stopped the login. Common \
                     causes: a redirect_uri that is not registered for the client \
                     (`invalid_redirect_uri`), an unknown client_id, a scope the client may not \
                     ask for, a lost interaction cookie; after the login, a policy that denies \
                     this user the application (group, binding).{because}"
                ),
                fix,
            );
            f.causes = causes;
            vec![f]
        }
        Ended::Landed { .. } | Ended::ProbeOnly | Ended::NotEnded => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::account_state;

    #[test]
    fn account_states_from_the_idps_words() {
        for (message, want) in [
            ("Invalid username or password.", None),
            ("Your account is locked.", Some("the account is locked")),
            (
                "Too many failed attempts, try later",
                Some("the account is locked"),
            ),
            ("Account disabled", Some("the account is disabled")),
            ("User is deactivated", Some("the account is disabled")),
            ("Your login session has expired", None),
            (
                "Your password has expired",
                Some("the password or the account has expired"),
            ),
        ] {
            assert_eq!(account_state(message), want, "{message}");
        }
    }
}

#[cfg(test)]
mod start_tests {
    use super::*;
    use crate::trace::{Hop, HopNo};

    #[test]
    fn a_refused_start_is_named_by_its_code_else_its_status() {
        let trace = |preset: Option<&str>, url: &str, status: u16, origin: Option<&str>, body| {
            let mut h = Hop::plain(1, url, status);
            h.origin_sent = origin.map(str::to_string);
            h.body_excerpt = Some(String::from(body));
            let mut t = Trace {
                ended: Ended::StartRefused { hop: HopNo(1) },
                ..Trace::default()
            };
            t.chain.preset = preset.map(str::to_string);
            t.hops.push(h);
            t
        };
        let app = "http://app.test/api/auth/sign-in/social";
        let cases: Vec<(Trace, Vec<CauseKey>)> = vec![
            (
                trace(
                    Some("better-auth"),
                    app,
                    403,
                    Some("http://app.test"),
                    r#"{"code":"INVALID_ORIGIN","message":"Invalid origin"}"#,
                ),
                vec![CauseKey::UntrustedOrigin],
            ),
            (
                trace(
                    None,
                    "http://app.test/login",
                    403,
                    Some("http://web.test"),
                    "Forbidden",
                ),
                vec![CauseKey::UntrustedOrigin, CauseKey::MissingCsrf],
            ),
            (
                trace(
                    None,
                    "http://app.test/login",
                    403,
                    Some("http://app.test"),
                    "Forbidden",
                ),
                vec![CauseKey::MissingCsrf, CauseKey::UntrustedOrigin],
            ),
            (
                trace(None, "http://app.test/login", 404, None, ""),
                vec![CauseKey::StartNotServed],
            ),
            (
                trace(
                    Some("authjs"),
                    "http://app.test/auth/csrf",
                    500,
                    None,
                    "Server error",
                ),
                vec![CauseKey::UntrustedHost, CauseKey::AppFailed],
            ),
            (
                trace(Some("better-auth"), app, 500, None, "Internal Server Error"),
                vec![CauseKey::IdpUnreachable, CauseKey::AppFailed],
            ),
            (
                trace(None, "http://app.test/login", 502, None, "Bad Gateway"),
                vec![CauseKey::AppFailed, CauseKey::IdpUnreachable],
            ),
        ];
        for (i, (t, want)) in cases.iter().enumerate() {
            let f = rules(t);
            assert_eq!(f[0].id, FindingId::StartRejected, "case {i}");
            let got: Vec<CauseKey> = f[0].causes.iter().map(|c| c.key).collect();
            assert_eq!(&got, want, "case {i}");
        }
    }

    #[test]
    fn a_refused_authorization_request_is_named_by_the_idps_code_and_its_redirect_uri() {
        let trace = |redirect: &str, body: &str| {
            let mut start = Hop::plain(1, "http://app.test/auth/signin/p", 302);
            start.step = crate::trace::Step::Start;
            let mut authorize = Hop::plain(
                2,
                &format!(
                    "http://idp.test/authorize?client_id=c&response_type=code&redirect_uri={}",
                    url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
                ),
                400,
            );
            authorize.step = crate::trace::Step::Follow;
            authorize.body_excerpt = Some(body.into());
            let mut t = Trace {
                ended: Ended::IdpError { hop: HopNo(2) },
                ..Trace::default()
            };
            t.chain.app = "http://app.test".into();
            t.chain.auth_base = Some("http://app.test/auth".into());
            t.hops = vec![start, authorize];
            t
        };
        let ours = "http://app.test/auth/callback/p";
        let cases: Vec<(Trace, Vec<CauseKey>)> = vec![
            (
                trace(
                    ours,
                    "Error invalid_redirect_uri redirect_uri did not match",
                ),
                vec![CauseKey::RedirectUriPath],
            ),
            (
                trace("https://app.test/auth/callback/p", "invalid_redirect_uri"),
                vec![CauseKey::RedirectUriOrigin],
            ),
            (
                trace("http://internal:8080/auth/callback/p", "Bad request"),
                vec![CauseKey::RedirectUriOrigin],
            ),
            (
                trace(ours, "Bad request"),
                vec![CauseKey::RedirectUriPath, CauseKey::ClientNotRegistered],
            ),
            (
                trace(ours, "error: invalid_client"),
                vec![CauseKey::ClientNotRegistered],
            ),
            (trace(ours, "error: invalid_scope"), vec![]),
        ];
        for (i, (t, want)) in cases.iter().enumerate() {
            let f = rules(t);
            assert_eq!(f[0].id, FindingId::IdpErrorPage, "case {i}");
            let got: Vec<CauseKey> = f[0].causes.iter().map(|c| c.key).collect();
            assert_eq!(&got, want, "case {i}");
        }
    }
}
