//! express-openid-connect (Auth0's Express library): `GET <app>/login` redirects to the IdP,
//! the callback is `<app>/callback` (a GET, or a `form_post` POST), the session is the encrypted
//! `appSession` cookie (chunked `appSession.0`, `.1`, … when large), the transaction cookie
//! `auth_verification` (with `_auth_verification`, its fallback without SameSite, for
//! `form_post`). It has no session endpoint of its own: the scenario names a route behind
//! `requiresAuth()`. A failed callback answers 400 with the error's message outside production.

use super::{Contract, CookieRole, Need, SignOut, Start, Words};

pub const CONTRACT: Contract = Contract {
    name: "express-openid-connect",
    aliases: &["eoc", "express-oidc"],
    library: "express-openid-connect",
    // Its routes are at the app's root.
    auth_base: "",
    starts: &[Start {
        path: "login",
        provider_field: None,
        callback_field: "returnTo",
        form: false,
        csrf: None,
        headers: &[],
        link: true,
    }],
    unknown_start_status: 404,
    unknown_start_words: &[],
    callback_paths: &["callback"],
    error_path: "",
    cookie_prefix: "",
    native_path: None,
    native_status: 200,
    native_present: None,
    session_expiry: None,
    cookies: &[
        ("appSession", CookieRole::Session),
        ("auth_verification", CookieRole::State),
        ("_auth_verification", CookieRole::State),
        ("skipSilentLogin", CookieRole::Other),
    ],
    errors: &[],
    verifies_hs_id_tokens: true,
    sign_out: SignOut {
        path: "logout",
        post: false,
        form: false,
        csrf: None,
        callback_field: None,
    },
    // express-openid-connect keeps the session in its encrypted appSession cookie by default.
    claims: &[
        (
            "sub",
            Need::Required,
            "express-openid-connect's session is the ID token's claims, the subject first.",
        ),
        (
            "email",
            Need::Used,
            "express-openid-connect passes it on in req.oidc.user.",
        ),
        (
            "name",
            Need::Used,
            "express-openid-connect passes it on in req.oidc.user.",
        ),
        (
            "groups",
            Need::Used,
            "express-openid-connect passes it on in req.oidc.user, for the app's own checks.",
        ),
    ],
    code_causes: &[],
    tell: super::Tell::LoginRedirect,
    words: Words {
        secure_cookies: "express-openid-connect: session.cookie.secure, an https baseURL",
        cookie_name_settings: "session.name (default appSession), session.cookie",
        prefix_follows: "express-openid-connect adds no prefix: the name is session.name",
        base_url: "baseURL",
        validate_session: "put the guarded route behind the same `auth()` middleware (the same \
                           secret and session.name) and read `req.oidc`",
        bearer_on: "read the session from its cookie: express-openid-connect has no Bearer \
                    transport for it (an API takes access tokens with its own middleware)",
        bearer_note: "express-openid-connect reads the session only from its cookie",
        bearer_client: "express-openid-connect hands the access token (`req.oidc.accessToken`) \
                        for an API instead",
        secret: "secret (the session's encryption key)",
        session_lifetime: "express-openid-connect: session.rollingDuration and \
                           session.absoluteDuration",
        state_cookie_life: "the browser session in express-openid-connect",
        start_refused: "express-openid-connect serves the login at routes.login (`/login` by \
                        default): a 404 means another route, or no `auth()` middleware in front",
        trusted_origins: "baseURL",
        state_lost_as: "a 400 `\"auth_verification\" cookie not found` (`Bad Request` in \
                        production)",
        state_cookie_settings: "transactionCookie { name, sameSite } (its other attributes follow \
                                session.cookie)",
        cookie_domain: "session.cookie.domain",
        account_linking: "the app's own user store (express-openid-connect keeps no users)",
        redirect_uri_from: "baseURL (and routes.callback): express-openid-connect builds the \
                            redirect_uri from it, not from the request",
        claims_source: "`req.oidc.user` holds the ID token's claims; `req.oidc.fetchUserInfo()` \
                        reads the userinfo endpoint",
    },
};

#[cfg(test)]
mod tests {
    use super::super::{CookieRole, Preset, cookie_role};

    #[test]
    fn chunks_are_the_session() {
        let eoc = Some(Preset::Eoc);
        for (name, role) in [
            ("appSession", CookieRole::Session),
            ("appSession.0", CookieRole::Session),
            ("appSession.1", CookieRole::Session),
            ("auth_verification", CookieRole::State),
            ("_auth_verification", CookieRole::State),
            ("skipSilentLogin", CookieRole::Other),
        ] {
            assert_eq!(cookie_role(eoc, name), role, "{name}");
        }
        assert_eq!(
            Preset::Eoc
                .contract()
                .cookie_name(CookieRole::Session)
                .as_deref(),
            Some("appSession")
        );
    }
}
