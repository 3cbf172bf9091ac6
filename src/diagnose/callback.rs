//! Rules on error codes that hops carry (`error=` on a URL or a `Location`): the callback's own
//! codes from the auth library and the IdP's codes passed through it.

use super::{finding, hop_line};
use crate::trace::{Finding, Hop, Severity, Trace};

pub fn rules(t: &Trace) -> Vec<Finding> {
    // The first hop with a code is where it arose; later hops only carry it along.
    let Some(hop) = t.hops.iter().find(|h| h.error_code.is_some()) else {
        return Vec::new();
    };
    let code = hop.error_code.clone().unwrap_or_default();
    let mut evidence = vec![hop_line(hop)];
    if let Some(d) = &hop.error_description {
        evidence.push(format!("error_description: {d}"));
    }
    if let Some(cb) = t
        .chain
        .callback_hop
        .and_then(|n| t.hop(n))
        .filter(|cb| cb.n != hop.n)
    {
        evidence.push(format!("callback {}", hop_line(cb)));
    }
    let at = place(t, hop);
    match code.as_str() {
        "email_is_missing" | "email_not_found" => vec![finding(
            "missing-email-claim",
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
        "state_mismatch" => vec![finding(
            "state-cookie-lost",
            Severity::Error,
            "The state cookie did not come back to the callback (state_mismatch)",
            state_evidence(t, evidence),
            format!(
                "{at} the auth library compares the `state` on the callback URL with the state it \
                 stored in a cookie at the start. The cookie was not sent back: it was refused when \
                 set (a `__Secure-` prefix or the Secure attribute over plain http, a Domain that \
                 does not match), it is not sent on the cross-site return from the IdP (SameSite), \
                 the start and the callback are on different hosts, or it expired (5 minutes in \
                 BetterAuth)."
            ),
            "Serve the app over https when cookies are Secure (or turn secure cookies off for \
             plain-http testing), start and finish the login on the same host, and keep the state \
             cookie SameSite=Lax.",
        )],
        _ => {
            let (causes, fix) = known(&code);
            vec![finding(
                "callback-error",
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
fn state_evidence(t: &Trace, mut evidence: Vec<String>) -> Vec<String> {
    let is_state = |name: &str| name.ends_with("state") || name.contains(".state");
    for h in &t.hops {
        for c in h.set_cookies.iter().filter(|c| is_state(&c.name)) {
            let why = c
                .refusal
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            evidence.push(format!("{}: {} {}{why}", h.n, c.name, c.action.word()));
        }
        if t.chain.callback_hop == Some(h.n) {
            let sent: Vec<&str> = h
                .cookie_sent
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| is_state(n))
                .collect();
            evidence.push(if sent.is_empty() {
                format!("{}: the callback request carried no state cookie", h.n)
            } else {
                format!("{}: the callback request carried {}", h.n, sent.join(", "))
            });
        }
    }
    evidence
}

/// Known causes and fixes for the other codes of BetterAuth and of OAuth 2.0 / OIDC.
fn known(code: &str) -> (String, String) {
    let (causes, fix): (&str, &str) = match code {
        "state_not_found" => (
            "the callback URL had no `state` parameter: the IdP dropped it, or the callback was opened directly rather than by the IdP's redirect.",
            "Make sure the IdP returns `state` unchanged on the redirect to the callback.",
        ),
        "state_invalid" => (
            "the state stored for this login could not be read or was already used (a replayed callback, or a state record that expired).",
            "Start a fresh login; check that the app's verification storage keeps state records for the login's duration.",
        ),
        "invalid_code" | "oauth_code_verification_failed" => (
            "the app could not exchange the authorization code for tokens: the code was already used or expired, the redirect_uri of the token request differs from the authorize request, the client secret or the token endpoint's auth method (client_secret_post vs basic) is wrong, or the PKCE verifier does not match.",
            "Compare the client id, secret and auth method with the IdP's client registration, and the redirect_uri in both requests.",
        ),
        "no_code" => (
            "the callback had no `code`: the IdP answered with another response type, or put the code in a fragment the server never sees.",
            "Use response_type=code and the query response mode.",
        ),
        "unable_to_get_user_info" => (
            "the app got tokens but could not read the user: the ID token's signature did not verify (BetterAuth 1.7 checks it only against the IdP's JWKS, so an HS256 token — Authentik with no signing key selected — fails), the userinfo endpoint failed, or the discovery document points at endpoints the app cannot reach.",
            "Give the IdP's client an RS256/ES256 signing key, and check that the app can reach the IdP's JWKS and userinfo endpoints.",
        ),
        "issuer_mismatch" | "issuer_missing" => (
            "the `iss` on the callback or in the ID token differs from the issuer in the discovery document (a trailing slash — Authentik's issuer ends in one —, http vs https behind a proxy, another host name).",
            "Configure the discovery URL exactly as the IdP publishes its issuer, trailing slash included.",
        ),
        "nonce_binding_missing" => (
            "the ID token's nonce did not match the one the app sent.",
            "Make sure the IdP echoes the authorize request's nonce in the ID token.",
        ),
        "email_not_verified" => (
            "the IdP says the email is not verified (`email_verified` false — Authentik's default since 2025.10) and the app requires verified emails for this provider.",
            "Map `email_verified` to true at the IdP for trusted directories, or relax the app's requirement for this provider.",
        ),
        "email_does_not_match" => (
            "the email of the IdP's user differs from the email of the account being linked.",
            "Link the account that has the same email, or allow different emails when linking.",
        ),
        "account_not_linked" => (
            "a user with this email already exists, but not linked to this provider, and the app does not link accounts automatically for it.",
            "Add the provider to account linking's trustedProviders, or link the account from a signed-in session.",
        ),
        "unable_to_link_account" | "account_already_linked_to_different_user" => (
            "the provider account could not be linked: it already belongs to another user, or the link was refused.",
            "Unlink the provider account from the other user first.",
        ),
        "signup_disabled" => (
            "the user does not exist in the app and sign-up through this provider is disabled.",
            "Create the user first, or allow sign-up for this provider (disableImplicitSignUp / disableSignUp).",
        ),
        "no_callback_url" | "invalid_callback_request" => (
            "the login was started without a usable callback URL, or the callback request was malformed.",
            "Pass an absolute callbackURL that is in trustedOrigins.",
        ),
        "oauth_provider_not_found" => (
            "the callback names a provider id the app does not have configured.",
            "Check the provider id in the callback path against the app's configuration.",
        ),
        "internal_server_error" | "server_error" => (
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
    };
    (
        format!("the chain reported `{code}`: {causes}"),
        fix.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{HopNo, Step};

    fn trace_with(code: &str) -> Trace {
        let hop = Hop {
            n: HopNo(9),
            step: Step::Follow,
            method: "GET".into(),
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
    }
}
