//! Diagnose: rules over the recorded trace that name the broken link. Pure: no I/O. Each file
//! holds one family of rules; each rule is `&Trace -> Vec<Finding>`.

mod browser;
mod callback;
mod checks;
mod clock;
mod cookies;
mod flow;
pub mod guard;

pub use checks::cookie_policy;
pub use cookies::ttl_run;
mod idp;
pub use idp::issuer_difference;
mod session;
mod state;

use crate::trace::{Cause, CauseKey, Finding, Trace};

/// Every rule, in the order their findings rank when severities tie: the earlier a link of the
/// chain, the likelier it is the root cause of what follows.
const RULES: &[fn(&Trace) -> Vec<Finding>] = &[
    flow::rules,
    callback::rules,
    cookies::rules,
    guard::rules,
    session::rules,
    browser::rules,
    clock::rules,
    checks::rules,
];

/// All findings for a trace, the most likely root cause first.
pub fn diagnose(trace: &Trace) -> Vec<Finding> {
    // The login at the IdP alone (--idp-check) comes first: a fault there is the IdP's.
    let mut findings: Vec<Finding> = idp_check(trace);
    findings.extend(RULES.iter().flat_map(|rule| rule(trace)));
    // A stable sort keeps the rule order within a severity.
    findings.sort_by_key(|f| f.severity);
    findings
}

/// The findings of `--idp-check`, each titled as the IdP's.
fn idp_check(trace: &Trace) -> Vec<Finding> {
    let Some(check) = &trace.idp_check else {
        return Vec::new();
    };
    // Each read on its own: one that does not read back spoils no other.
    let mut findings: Vec<Finding> = check["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| serde_json::from_value(f.clone()).ok())
        .collect();
    for f in &mut findings {
        f.title = format!("IdP check: {}", f.title);
    }
    if let Some(message) = check["error"]["message"].as_str() {
        findings.push(Finding::plain(
            crate::trace::FindingId::IdpErrorPage,
            crate::trace::Severity::Error,
            format!("IdP check: the login at the IdP alone stopped: {message}"),
            "authchain logged in at the IdP as the app's client, with no app, before the chain: it could not finish, so the chain's failure may be the IdP's.",
            "Run `authchain idp-login` with the same client for the details.",
        ));
    }
    findings
}

/// The hosts (with ports) of the app and its auth base, and those the chain's authorization
/// requests send the IdP's answer back to (`redirect_uri`).
pub(crate) fn app_hosts(t: &Trace) -> Vec<String> {
    let mut hosts: Vec<String> = [Some(t.chain.app.as_str()), t.chain.auth_base.as_deref()]
        .into_iter()
        .flatten()
        .map(crate::web::host_port)
        .collect();
    for origin in crate::web::redirect_origins(t.hops.iter().map(|h| &h.url)) {
        let host = crate::web::host_port(&origin.ascii_serialization());
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// Builds a finding; its evidence refers into the trace (the report renders it as lines).
pub(crate) fn finding(
    id: crate::trace::FindingId,
    severity: crate::trace::Severity,
    title: impl Into<String>,
    evidence: Vec<crate::trace::Evidence>,
    explanation: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        id,
        severity,
        title: title.into(),
        evidence_lines: Vec::new(),
        evidence,
        explanation: explanation.into(),
        fix: fix.into(),
        causes: Vec::new(),
    }
}

/// The text of each cause, in the library's words where a preset names them; `cookie` is the
/// session cookie a guard cause speaks of.
pub(crate) fn cause(key: CauseKey, words: &crate::preset::Words, cookie: &str) -> Cause {
    let text = match key {
        CauseKey::BearerRevalidation => format!(
            "it re-validates the token as `Authorization: Bearer`, which the auth library ignores \
             ({}): the native endpoint here does not accept Bearer either",
            words.bearer_note
        ),
        CauseKey::OtherSecretOrInstance => format!(
            "it validates with another secret or instance: a second auth instance built with another {}, \
             or another deployment's session store or database",
            words.secret
        ),
        CauseKey::CookieNotReachingGuard => format!(
            "the cookie `{cookie}` never reaches the code that checks it: a proxy or gateway drops \
             the Cookie header, or the guard reads another header"
        ),
        CauseKey::OtherCookieName => format!(
            "it looks for the session under another cookie name than `{cookie}` (another prefix, \
             secure cookies set differently: {})",
            words.prefix_follows
        ),
        CauseKey::WantsAuthorizationHeader => "it reads only the Authorization header (it \
             challenges with `WWW-Authenticate: Bearer` whatever the cookie says), while the \
             browser sends the session as a cookie"
            .to_string(),
        CauseKey::ReadsOneChunk => {
            "it reads one chunk of a session split over several cookies".to_string()
        }
        CauseKey::RefusesUser => "it knows the user and refuses them: a role, a permission, a \
             tenant or an account state the guard checks"
            .to_string(),

        CauseKey::StateNotReturned => {
            "the state, PKCE or nonce cookie set at the start did not come back with the \
             callback (refused when set, SameSite on the return from the IdP, another host \
             for the callback than for the start, expired)"
                .to_string()
        }
        CauseKey::AppRefusesUser => {
            "the app's own policy refuses this user after the IdP let them in (a sign-up hook, \
             an allowed-domain list, sign-up turned off)"
                .to_string()
        }
        CauseKey::CodeExchangeFailed => {
            "the app could not exchange the code at the IdP's token endpoint or validate the ID \
             token (the client secret, the app's route to the IdP, the issuer, the signing \
             algorithm, the clocks)"
                .to_string()
        }
        CauseKey::CallbackNotServed => {
            "nothing at the app serves the callback path: the redirect_uri registered at the IdP \
             and the app's route (its base path, a proxy's routing) differ"
                .to_string()
        }
        CauseKey::AppFailed => {
            "the app's own code failed while finishing the login (its database, a hook, a crash)"
                .to_string()
        }
        CauseKey::ClaimsOnlyInUserinfo => format!(
            "the IdP puts email and name only in its userinfo answer (a code-flow ID token \
             carries little more than `sub`), and the auth library built the user from the ID \
             token ({})",
            words.claims_source
        ),
        CauseKey::ScopeNotGranted => "the authorization request did not ask for the `email` \
             and `profile` scopes, or the IdP did not grant them to this client"
            .to_string(),
        CauseKey::NoEmailAtIdp => "the IdP has no email for this user, or maps no email claim \
             for this client (a property or scope mapping)"
            .to_string(),
        CauseKey::UntrustedOrigin => format!(
            "the app checks where a sign-in comes from: the request's Origin (the page's), or the \
             callback URL it names, is not one the app trusts ({})",
            words.trusted_origins
        ),
        CauseKey::UntrustedHost => format!(
            "the app does not trust the host it was reached by and refuses every action of its \
             auth handler, before any request to the IdP ({})",
            words.trusted_origins
        ),
        CauseKey::MissingCsrf => "the sign-in request lacks its CSRF token (a form field or \
             header fetched first) or the cookie it must match: the start skipped that step, or \
             the cookie was refused or not sent"
            .to_string(),
        CauseKey::StartNotServed => "nothing at the app serves the start's path, or it does \
             not know the provider id: the auth base path, the route, or the provider's \
             configuration differ"
            .to_string(),
        CauseKey::IdpUnreachable => "the app could not reach the IdP while starting the login \
             (its discovery document or metadata, at the issuer it is configured with)"
            .to_string(),
        CauseKey::RedirectUriOrigin => format!(
            "the app built its redirect_uri on another scheme, host or port than the origin the \
             login runs on, and the IdP has no such URI registered for the client ({})",
            words.redirect_uri_from
        ),
        CauseKey::RedirectUriPath => "the redirect_uri is on the right origin, and its path (or \
             a trailing slash) differs from the one registered for the client at the IdP (an \
             upgrade that moved the callback route, a base path)"
            .to_string(),
        CauseKey::ClientNotRegistered => "the IdP does not know the client id, or does not let \
             it use this flow"
            .to_string(),
        CauseKey::IssuerMismatch => "the issuer the app is configured with is not, character \
             for character, the one the IdP's discovery document names (a trailing slash, \
             http against https, an internal host name): the library refuses the discovery \
             document, or the ID token's `iss`"
            .to_string(),
        CauseKey::IdTokenAlg => "the IdP signs ID tokens with an algorithm the app does not \
             verify: a symmetric HS256 (signed with the client secret) where the library checks \
             only the JWKS's public keys, or a JWKS with no key for it"
            .to_string(),
        CauseKey::StateOverwritten => "the state cookie came back, holding another start's \
             state: a second start of the login (a double click, another tab, a retried request) \
             set it again after the authorization request the IdP answered"
            .to_string(),
        CauseKey::CallbackReplayed => "the callback was requested a second time after the \
             first had made the session (a back button, a reload, a prefetch, a double \
             navigation): its code and state are one-time, so the second fails"
            .to_string(),
        CauseKey::ClockSkew => "a server's clock is far from the others' (the IdP's, by its \
             `Date` header): the ID token it signs arrives expired, or not yet valid, past the \
             library's leeway"
            .to_string(),
        CauseKey::AccountNotLinked => format!(
            "a user with this email exists already, signed up another way, and the library does \
             not link the IdP's account to it: the IdP says the email is not verified \
             (`email_verified: false`), or the provider is not trusted for linking ({})",
            words.account_linking
        ),
        CauseKey::HostMismatch => format!(
            "the login started on another host than the one the IdP sends it back to: a cookie \
             set for one host only is not sent to another (`127.0.0.1` and `localhost`, `www` \
             and the apex are different hosts); the callback's host follows the app's {}",
            words.base_url
        ),
        CauseKey::SecureOverHttp => format!(
            "the cookie is Secure (the attribute, a `__Secure-` or `__Host-` prefix, or \
             SameSite=None, which needs Secure) and the origin is plain http, so the browser \
             refuses it ({})",
            words.secure_cookies
        ),
        CauseKey::SecureAttributeMissing => "the cookie lacks the Secure attribute that its \
             `__Secure-`/`__Host-` prefix or its SameSite=None demands (a `__Host-` cookie also \
             Path=/ and no Domain), so the browser refuses it on any scheme"
            .to_string(),
        CauseKey::SameSiteCrossSite => format!(
            "the cookie's SameSite keeps it from a cross-site request: the IdP's `form_post` \
             callback is a cross-site POST, and a page on another site fetches cross-site; \
             set in {}",
            words.state_cookie_settings
        ),
        CauseKey::CookieDomain => format!(
            "the cookie's Domain does not cover the host that needs it (missing, so host-only, \
             or not a suffix of the host, which a browser refuses); set by {}",
            words.cookie_domain
        ),
        CauseKey::CookiePath => format!(
            "the cookie's Path does not cover the path of the request that needs it; set in {}",
            words.state_cookie_settings
        ),
        CauseKey::ThirdPartyBlocked => "the browser blocks third-party cookies: the cookie was \
             set or needed by a request to another site than the page's that is no top-level \
             navigation"
            .to_string(),
        CauseKey::TooLarge => {
            "the cookie is over the browser's 4096-byte limit and was refused".to_string()
        }
        CauseKey::StateExpired => format!(
            "the state cookie expired before the callback came (it lives {})",
            words.state_cookie_life
        ),
    };
    Cause { key, text }
}

/// A cause's text as a sentence of an explanation: capitalised, with its full stop.
pub(crate) fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The evidence of a finding as the report shows it, for the rules' own tests.
#[cfg(test)]
pub(crate) fn evidence_text(t: &Trace, f: &Finding) -> Vec<String> {
    crate::report::evidence::lines(t, &f.evidence)
}
