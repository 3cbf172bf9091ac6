//! Auth.js (@auth/core, as @auth/express and next-auth v5 mount it; next-auth v4 shares its
//! cookie names with another prefix): a CSRF token from `GET <base>/csrf` (a double-submit
//! cookie), then a form `POST <base>/signin/<provider>` that answers the IdP's URL as JSON when
//! asked the way its own client asks (`X-Auth-Return-Redirect: 1`); the callback at
//! `<base>/callback/<provider>`; `GET <base>/session` answering 200 `null` without a session;
//! `authjs.session-token` (chunked `.0`, `.1`, … when large), an encrypted JWT or a database
//! session's id; errors on `<base>/signin?error=` and `<base>/error?error=`.

use super::{Contract, CookieRole, Csrf, ErrorCode, ErrorKind, Need, SignOut, Start, Words};
use crate::trace::CauseKey;

pub const CONTRACT: Contract = Contract {
    name: "authjs",
    aliases: &["auth.js", "next-auth", "nextauth"],
    library: "Auth.js",
    auth_base: "api/auth",
    starts: &[Start {
        path: "signin/{provider}",
        provider_field: None,
        callback_field: "callbackUrl",
        form: true,
        csrf: Some(Csrf {
            path: "csrf",
            json_field: "csrfToken",
            form_field: "csrfToken",
        }),
        headers: &[("x-auth-return-redirect", "1")],
        link: false,
    }],
    unknown_start_status: 404,
    unknown_start_words: &[],
    callback_paths: &["callback"],
    error_path: "error",
    cookie_prefix: "authjs",
    native_path: Some("session"),
    native_status: 200,
    native_present: Some("user"),
    session_expiry: Some("expires"),
    // Matched on the name's last part: `authjs.` (next-auth v4: `next-auth.`), with or without
    // `__Secure-`/`__Host-`, and without a chunk's `.N`.
    cookies: &[
        ("session-token", CookieRole::Session),
        ("csrf-token", CookieRole::Csrf),
        ("callback-url", CookieRole::CallbackUrl),
        ("code_verifier", CookieRole::Pkce),
        ("state", CookieRole::State),
        ("nonce", CookieRole::State),
    ],
    errors: ERRORS,
    verifies_hs_id_tokens: true,
    sign_out: SignOut {
        path: "signout",
        post: true,
        form: true,
        csrf: Some(Csrf {
            path: "csrf",
            json_field: "csrfToken",
            form_field: "csrfToken",
        }),
        callback_field: Some("callbackUrl"),
    },
    // Auth.js's default session strategy without a database adapter is an encrypted JWT.
    claims: &[
        (
            "sub",
            Need::Required,
            "Auth.js keys the account by the subject (the profile's id).",
        ),
        (
            "email",
            Need::Used,
            "Auth.js lets a user without email in; an adapter with users needs one to link accounts.",
        ),
        ("name", Need::Used, "Auth.js takes the user's name from it."),
    ],
    code_causes: &[
        ("MissingCSRF", CauseKey::MissingCsrf),
        ("UntrustedHost", CauseKey::UntrustedHost),
        ("OAuthAccountNotLinked", CauseKey::AccountNotLinked),
    ],
    // @auth/express apps mount the handler at `/auth`.
    tell: super::Tell::ProviderList {
        path: "providers",
        field: "signinUrl",
        bases: &["api/auth", "auth"],
    },
    words: Words {
        secure_cookies: "Auth.js: useSecureCookies, or an https request URL (AUTH_URL, \
                         X-Forwarded-Proto behind a trusted proxy)",
        cookie_name_settings: "cookies option, useSecureCookies, the request's scheme",
        prefix_follows: "Auth.js prefixes `__Secure-` (`__Host-` for the CSRF cookie) when the \
                         request URL is https or useSecureCookies is on, and the cookie name is \
                         the salt of the session's encryption key",
        base_url: "AUTH_URL (or the trusted request host)",
        validate_session: "call Auth.js's own `getSession(req, config)` (or `auth()`) with the \
                           same config and secret, passing the request's Cookie header",
        bearer_on: "read the session from the cookie: Auth.js has no Bearer transport",
        bearer_note: "Auth.js reads the session only from its cookie",
        bearer_client: "Auth.js hands out no session token for a header",
        secret: "AUTH_SECRET (the cookie's name is its salt)",
        session_lifetime: "Auth.js: session.maxAge sets both",
        state_cookie_life: "15 minutes in Auth.js",
        start_refused: "Auth.js answers a 500 on every action when it does not trust the host \
                        (UntrustedHost: set trustHost or AUTH_TRUST_HOST, or AUTH_URL), and sends \
                        a start without its CSRF token and cookie to `signin?error=MissingCSRF`; \
                        a 404 or 400 means the provider id or the base path is wrong",
        trusted_origins: "trustHost and AUTH_URL",
        state_lost_as: "`InvalidCheck` in its log (the PKCE, state or nonce cookie missing), \
                        shown to the user as `error=Configuration`",
        state_cookie_settings: "cookies.pkceCodeVerifier.options, cookies.state.options, \
                                cookies.nonce.options",
        cookie_domain: "the `domain` of each entry of the cookies option",
        account_linking: "the provider's allowDangerousEmailAccountLinking",
        redirect_uri_from: "the request's scheme and host (AUTH_URL for next-auth; @auth/express \
                            reads Express's `req.protocol` and host, which follow \
                            X-Forwarded-Proto and -Host only with `app.set('trust proxy', …)`)",
        claims_source: "an `oidc` provider reads the ID token's claims; `idToken: false` reads \
                        the userinfo endpoint instead, and `profile()` maps the claims",
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

const ERRORS: &[ErrorCode] = &[
    other(
        "MissingCSRF",
        "the sign-in POST did not carry the CSRF token of `<base>/csrf` together with its \
         double-submit cookie: the start skipped the CSRF step, or the cookie was refused (the \
         `__Host-authjs.csrf-token` of an https request URL over plain http) or not sent.",
        "Fetch `<base>/csrf` first and post its `csrfToken` with the cookie it sets; serve the app \
         over https when its request URL is https.",
    ),
    ErrorCode {
        code: "Configuration",
        kind: ErrorKind::ServerError,
        causes: "Auth.js shows every server-side failure as `Configuration` and writes the cause \
                 only to its log: `InvalidCheck` (the PKCE, state or nonce cookie did not come \
                 back to the callback), `CallbackRouteError` (the code exchange or the ID token \
                 failed: client secret, token endpoint auth method, issuer, signing algorithm), \
                 or a provider that cannot be reached.",
        fix: "Read the app's log for the Auth.js error name at this time.",
    },
    other(
        "OAuthCallbackError",
        "the IdP answered the callback with an error (the user denied consent, a policy refused \
         the user), or Auth.js could not read the IdP's answer.",
        "Read the IdP's error on the callback request, and the app's log.",
    ),
    other(
        "OAuthAccountNotLinked",
        "an account with this e-mail exists, linked to another provider; Auth.js does not link \
         accounts by e-mail unless told to.",
        "Sign in with the provider the account was made with, or set \
         allowDangerousEmailAccountLinking on the provider.",
    ),
    other(
        "AccessDenied",
        "the app's signIn callback refused the user.",
        "Check the app's signIn callback for this user.",
    ),
    other(
        "OAuthSignin",
        "Auth.js could not build the authorization request (the provider's metadata).",
        "Check the provider's issuer and that the app reaches its discovery document.",
    ),
    other(
        "Verification",
        "an e-mail sign-in token expired or was already used.",
        "Request a new sign-in link.",
    ),
];

#[cfg(test)]
mod tests {
    use super::super::{CookieRole, Preset, cookie_role, other_session_names};

    #[test]
    fn cookie_names_of_every_line() {
        let a = Some(Preset::AuthJs);
        for (name, role) in [
            ("authjs.session-token", CookieRole::Session),
            ("__Secure-authjs.session-token", CookieRole::Session),
            ("authjs.session-token.0", CookieRole::Session),
            ("__Secure-authjs.session-token.12", CookieRole::Session),
            // next-auth v4.
            ("next-auth.session-token", CookieRole::Session),
            ("__Secure-next-auth.session-token", CookieRole::Session),
            ("__Host-next-auth.csrf-token", CookieRole::Csrf),
            ("next-auth.callback-url", CookieRole::CallbackUrl),
            ("next-auth.pkce.code_verifier", CookieRole::Pkce),
            ("next-auth.state", CookieRole::State),
            ("__Host-authjs.csrf-token", CookieRole::Csrf),
            ("authjs.callback-url", CookieRole::CallbackUrl),
            ("authjs.pkce.code_verifier", CookieRole::Pkce),
            ("authjs.state", CookieRole::State),
            ("authjs.nonce", CookieRole::State),
        ] {
            assert_eq!(cookie_role(a, name), role, "{name}");
        }
        // The other prefix is another name, and so another key.
        assert_eq!(
            other_session_names(a, "authjs.session-token"),
            [
                "__Secure-authjs.session-token",
                "__Host-authjs.session-token"
            ]
        );
    }
}
