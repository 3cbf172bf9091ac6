//! Rules on how the drive ended: loops, the hop cap, refused credentials, a refused start, and
//! IdP error pages.

use super::finding;
use crate::trace::{Ended, Evidence, Finding, FindingId, Severity, Trace};

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
            vec![finding(
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
                         error page instead of to the IdP: {}",
                        k.causes
                    ),
                    None => format!(
                        "The request that starts the login did not answer with a URL to follow. \
                         {}; a 5xx often means the app could not fetch the IdP's discovery \
                         document.",
                        words.start_refused
                    ),
                },
                format!(
                    "Check the provider id, the auth base path, the app's {}, and that the app \
                     can reach the IdP.",
                    words.trusted_origins
                ),
            )]
        }
        Ended::IdpError { hop } => {
            let (evidence, status) = answer_evidence(t, *hop);
            let message = t
                .hop(*hop)
                .and_then(|h| h.page.as_ref())
                .and_then(|p| p.message.clone());
            vec![finding(
                FindingId::IdpErrorPage,
                Severity::Error,
                match (status, &message) {
                    (400.., _) | (_, None) => {
                        format!("The IdP answered {status} instead of going on with the login")
                    }
                    (_, Some(m)) => format!("The IdP stopped the login: \"{m}\""),
                },
                evidence,
                "The identity provider showed an error page or stopped the login. Common causes: a \
                 redirect_uri that is not registered for the client (`invalid_redirect_uri`), an \
                 unknown client_id, a scope the client may not ask for, a lost interaction cookie; \
                 after the login, a policy that denies this user the application (group, binding).",
                "Read the IdP's error in the body above, and compare the client's registration \
                 with the authorize request of the hop before.",
            )]
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
