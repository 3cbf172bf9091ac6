//! BetterAuth (1.6 and 1.7): `/sign-in/social` (and 1.6's `/sign-in/oauth2`) answering the IdP's
//! URL as JSON, `/get-session` answering 200 `null` without a session, signed
//! `<prefix>.session_token` cookies, and the callback's error codes.

use super::{Contract, CookieRole, ErrorCode, ErrorKind, Need, SignOut, Start, Words};
use crate::trace::CauseKey;

pub const CONTRACT: Contract = Contract {
    name: "better-auth",
    aliases: &["better_auth"],
    library: "BetterAuth",
    auth_base: "api/auth",
    starts: &[
        Start {
            path: "sign-in/social",
            provider_field: Some("provider"),
            callback_field: "callbackURL",
            form: false,
            csrf: None,
            headers: &[],
            link: false,
        },
        // BetterAuth 1.6's generic provider; 1.7 answers 404 here.
        Start {
            path: "sign-in/oauth2",
            provider_field: Some("providerId"),
            callback_field: "callbackURL",
            form: false,
            csrf: None,
            headers: &[],
            link: false,
        },
    ],
    unknown_start_status: 404,
    unknown_start_words: &["provider_not_found", "provider not found"],
    callback_paths: &["callback", "oauth2/callback"],
    error_path: "error",
    cookie_prefix: "better-auth",
    native_path: Some("get-session"),
    native_status: 200,
    native_present: Some("session"),
    session_expiry: Some("session.expiresAt"),
    cookies: &[
        ("session_token", CookieRole::Session),
        ("session_data", CookieRole::Cache),
        ("account_data", CookieRole::Cache),
        ("dont_remember", CookieRole::Other),
        ("state", CookieRole::State),
        ("oauth_state", CookieRole::State),
    ],
    errors: ERRORS,
    // BetterAuth 1.7 checks ID tokens against the JWKS only.
    verifies_hs_id_tokens: false,
    sign_out: SignOut {
        path: "sign-out",
        post: true,
        form: false,
        csrf: None,
        callback_field: None,
    },
    claims: &[
        (
            "sub",
            Need::Required,
            "BetterAuth keys the account by the subject.",
        ),
        (
            "email",
            Need::Required,
            "BetterAuth makes no user without an email: the sign-in fails with email_not_found (1.7) or email_is_missing (1.6).",
        ),
        (
            "email_verified",
            Need::Linking,
            "BetterAuth links a login to an existing user of the same email only when the IdP says the email is verified (or the provider is trusted): else account_not_linked.",
        ),
        (
            "name",
            Need::Used,
            "BetterAuth takes the user's name from it.",
        ),
    ],
    code_causes: &[
        ("INVALID_ORIGIN", CauseKey::UntrustedOrigin),
        ("MISSING_OR_NULL_ORIGIN", CauseKey::UntrustedOrigin),
        ("INVALID_CALLBACK_URL", CauseKey::UntrustedOrigin),
        ("INVALID_CALLBACKURL", CauseKey::UntrustedOrigin),
        ("invalid_code", CauseKey::CodeExchangeFailed),
        (
            "oauth_code_verification_failed",
            CauseKey::CodeExchangeFailed,
        ),
        ("account_not_linked", CauseKey::AccountNotLinked),
    ],
    tell: super::Tell::NullSession,
    words: Words {
        secure_cookies: "BetterAuth: advanced.useSecureCookies, the baseURL's scheme, NODE_ENV",
        cookie_name_settings: "cookie prefix, useSecureCookies, baseURL, NODE_ENV",
        prefix_follows: "the `__Secure-` prefix follows useSecureCookies, an https baseURL, or \
                         NODE_ENV=production",
        base_url: "baseURL",
        validate_session: "pass the request's Cookie header to `auth.api.getSession({ headers })` \
                           on the same instance",
        bearer_on: "turn on the bearer plugin if the guard must use Bearer",
        bearer_note: "BetterAuth reads Bearer tokens only with its bearer plugin",
        bearer_client: "BetterAuth's bearer plugin exposes the token for that",
        secret: "BETTER_AUTH_SECRET",
        session_lifetime: "BetterAuth: session.expiresIn sets both",
        state_cookie_life: "5 minutes in BetterAuth",
        start_refused: "A 404 means the endpoint or the provider id is unknown to the app \
                        (BetterAuth 1.6 serves generic providers at /sign-in/oauth2, 1.7 at \
                        /sign-in/social); a 403 MISSING_OR_NULL_ORIGIN or INVALID_ORIGIN means the \
                        Origin is not in trustedOrigins",
        trusted_origins: "trustedOrigins",
        state_lost_as: "`state_mismatch` (`state_not_found`, `please_restart_the_process` before \
                        1.6.12)",
        state_cookie_settings: "advanced.cookies.state.attributes (and advanced.defaultCookieAttributes)",
        cookie_domain: "advanced.crossSubDomainCookies { enabled, domain }",
        account_linking: "account.accountLinking { enabled, trustedProviders }; the IdP's \
                          email_verified claim",
        redirect_uri_from: "baseURL: BetterAuth builds the redirect_uri from it, not from the \
                            request",
        claims_source: "genericOAuth reads the userinfo endpoint (or the provider's \
                        getUserInfo); mapProfileToUser maps the claims",
    },
};

const fn other(code: &'static str, causes: &'static str, fix: &'static str) -> ErrorCode {
    ErrorCode {
        code,
        kind: ErrorKind::Other,
        causes,
        fix,
    }
}

/// A code whose finding carries its own general explanation.
const fn named(code: &'static str, kind: ErrorKind) -> ErrorCode {
    ErrorCode {
        code,
        kind,
        causes: "",
        fix: "",
    }
}

const ERRORS: &[ErrorCode] = &[
    // 1.6's genericOAuth and 1.7.
    named("email_is_missing", ErrorKind::MissingEmail),
    named("email_not_found", ErrorKind::MissingEmail),
    named("state_mismatch", ErrorKind::StateLost),
    other(
        "state_not_found",
        "the callback URL had no `state` parameter: the IdP dropped it, or the callback was opened directly rather than by the IdP's redirect.",
        "Make sure the IdP returns `state` unchanged on the redirect to the callback.",
    ),
    other(
        "state_invalid",
        "the state stored for this login could not be read or was already used (a replayed callback, or a state record that expired).",
        "Start a fresh login; check that the app's verification storage keeps state records for the login's duration.",
    ),
    other("invalid_code", CODE_CAUSES, CODE_FIX),
    other("oauth_code_verification_failed", CODE_CAUSES, CODE_FIX),
    other(
        "no_code",
        "the callback had no `code`: the IdP answered with another response type, or put the code in a fragment the server never sees.",
        "Use response_type=code and the query response mode.",
    ),
    other(
        "unable_to_get_user_info",
        "the app got tokens but could not read the user: the ID token's signature did not verify (BetterAuth 1.7 checks it only against the IdP's JWKS, so an HS256 token — Authentik with no signing key selected — fails), the userinfo endpoint failed, or the discovery document points at endpoints the app cannot reach.",
        "Give the IdP's client an RS256/ES256 signing key, and check that the app can reach the IdP's JWKS and userinfo endpoints.",
    ),
    other("issuer_mismatch", ISSUER_CAUSES, ISSUER_FIX),
    other("issuer_missing", ISSUER_CAUSES, ISSUER_FIX),
    other(
        "nonce_binding_missing",
        "the ID token's nonce did not match the one the app sent.",
        "Make sure the IdP echoes the authorize request's nonce in the ID token.",
    ),
    other(
        "email_not_verified",
        "the IdP says the email is not verified (`email_verified` false — Authentik's default since 2025.10) and the app requires verified emails for this provider.",
        "Map `email_verified` to true at the IdP for trusted directories, or relax the app's requirement for this provider.",
    ),
    other(
        "email_does_not_match",
        "the email of the IdP's user differs from the email of the account being linked.",
        "Link the account that has the same email, or allow different emails when linking.",
    ),
    other(
        "account_not_linked",
        "a user with this email already exists, but not linked to this provider, and the app does not link accounts automatically for it.",
        "Add the provider to account linking's trustedProviders, or link the account from a signed-in session.",
    ),
    other("unable_to_link_account", LINK_CAUSES, LINK_FIX),
    other(
        "account_already_linked_to_different_user",
        LINK_CAUSES,
        LINK_FIX,
    ),
    other(
        "signup_disabled",
        "the user does not exist in the app and sign-up through this provider is disabled.",
        "Create the user first, or allow sign-up for this provider (disableImplicitSignUp / disableSignUp).",
    ),
    other("no_callback_url", CALLBACK_CAUSES, CALLBACK_FIX),
    other("invalid_callback_request", CALLBACK_CAUSES, CALLBACK_FIX),
    other(
        "oauth_provider_not_found",
        "the callback names a provider id the app does not have configured.",
        "Check the provider id in the callback path against the app's configuration.",
    ),
    other(
        "internal_server_error",
        "the server failed while handling the callback; its own log says why.",
        "Read the app's (or IdP's) server log for the time of this hop.",
    ),
];

const CODE_CAUSES: &str = "the app could not exchange the authorization code for tokens: the code was already used or expired, the redirect_uri of the token request differs from the authorize request, the client secret or the token endpoint's auth method (client_secret_post vs basic) is wrong, or the PKCE verifier does not match.";
const CODE_FIX: &str = "Compare the client id, secret and auth method with the IdP's client registration, and the redirect_uri in both requests.";
const ISSUER_CAUSES: &str = "the `iss` on the callback or in the ID token differs from the issuer in the discovery document (a trailing slash — Authentik's issuer ends in one —, http vs https behind a proxy, another host name).";
const ISSUER_FIX: &str =
    "Configure the discovery URL exactly as the IdP publishes its issuer, trailing slash included.";
const LINK_CAUSES: &str = "the provider account could not be linked: it already belongs to another user, or the link was refused.";
const LINK_FIX: &str = "Unlink the provider account from the other user first.";
const CALLBACK_CAUSES: &str =
    "the login was started without a usable callback URL, or the callback request was malformed.";
const CALLBACK_FIX: &str = "Pass an absolute callbackURL that is in trustedOrigins.";
