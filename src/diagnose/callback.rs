//! Rules on error codes that hops carry (`error=` on a URL or a `Location`): the callback's own
//! codes from the auth library and the IdP's codes passed through it.

use super::finding;
use crate::preset::{CookieRole, ErrorKind, Preset, cookie_role};
use crate::trace::{Evidence, Finding, FindingId, Hop, Severity, Trace};

pub fn rules(t: &Trace) -> Vec<Finding> {
    // The first hop with a code is where it arose; later hops only carry it along.
    let Some(hop) = t.hops.iter().find(|h| h.error_code.is_some()) else {
        return Vec::new();
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
        Some(ErrorKind::MissingEmail) => vec![finding(
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
        )],
        Some(ErrorKind::StateLost) => vec![finding(
            FindingId::StateCookieLost,
            Severity::Error,
            format!("The state cookie did not come back to the callback ({code})"),
            state_evidence(t, evidence),
            format!(
                "{at} the auth library compares the `state` on the callback URL with the state it \
                 stored in a cookie at the start. The cookie was not sent back: it was refused when \
                 set (a `__Secure-` prefix or the Secure attribute over plain http, a Domain that \
                 does not match), it is not sent on the cross-site return from the IdP (SameSite), \
                 the start and the callback are on different hosts, or it expired ({}).",
                crate::preset::words(t.chain.preset.as_deref()).state_cookie_life
            ),
            "Serve the app over https when cookies are Secure (or turn secure cookies off for \
             plain-http testing), start and finish the login on the same host, and keep the state \
             cookie SameSite=Lax.",
        )],
        Some(ErrorKind::Other) | None => {
            let (causes, fix) = match known {
                Some(k) => (k.causes, k.fix),
                None => oauth(&code),
            };
            let causes = format!("the chain reported `{code}`: {causes}");
            vec![finding(
                FindingId::CallbackError,
                Severity::Error,
                format!("The login failed with error={code}"),
                evidence,
                format!("{at} {causes}"),
                fix,
            )]
        }
    }
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
    let preset = t.chain.preset.as_deref().and_then(Preset::parse);
    let is_state = |name: &str| cookie_role(preset, name) == CookieRole::State;
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
    use crate::trace::{HopNo, Step};

    fn trace_with(code: &str) -> Trace {
        let hop = Hop {
            n: HopNo(9),
            step: Step::Follow,
            method: crate::trace::Method::Get,
            url: "http://localhost:3000/api/auth/callback/x".into(),
            status: 302,
            location: Some(format!("http://localhost:3000/api/auth/error?error={code}")),
            set_cookies: vec![],
            cookie_sent: vec![],
            cookie_blocked: vec![],
            origin_sent: None,
            content_type: None,
            date: None,
            error_code: Some(code.into()),
            error_description: None,
            page: None,
            body_excerpt: None,
            received_at_ms: 0,
            duration_ms: 0.0,
        };
        let mut t = Trace::default();
        t.hops.push(hop);
        t.chain.callback_hop = Some(HopNo(9));
        t.chain.preset = Some("better-auth".into());
        t
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
