//! Auth libraries' contracts as data: how a login starts, where the callback lands, what the
//! session cookie is called, which endpoint answers for the session, what each cookie is for,
//! what the library's error codes mean, and the setting names a fix mentions. One module per
//! library; no other module names a library. Rules that find no preset on a trace speak of
//! "the auth library" in general words.

mod authjs;
mod better_auth;
mod eoc;

use crate::trace::Expect;
use serde_json::Value;

/// An auth library authchain knows the contract of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    BetterAuth,
    AuthJs,
    Eoc,
}

impl Preset {
    pub const ALL: &'static [Preset] = &[Preset::BetterAuth, Preset::AuthJs, Preset::Eoc];
    /// The names scenarios and the command line use, in the order of [`Preset::ALL`].
    pub const NAMES: &'static [&'static str] = &["better-auth", "authjs", "express-openid-connect"];

    pub fn parse(s: &str) -> Option<Preset> {
        Preset::ALL
            .iter()
            .copied()
            .find(|p| p.contract().name == s || p.contract().aliases.contains(&s))
    }

    pub fn name(self) -> &'static str {
        self.contract().name
    }

    pub fn contract(self) -> &'static Contract {
        match self {
            Preset::BetterAuth => &better_auth::CONTRACT,
            Preset::AuthJs => &authjs::CONTRACT,
            Preset::Eoc => &eoc::CONTRACT,
        }
    }
}

/// The request that signs a user out: a path under the auth base, its method, and the CSRF
/// token it must carry (fetched first, sent in the form).
#[derive(Debug)]
pub struct SignOut {
    pub path: &'static str,
    pub post: bool,
    /// A form body rather than JSON (a POST).
    pub form: bool,
    pub csrf: Option<Csrf>,
    /// The form's field for where to land after the sign-out.
    pub callback_field: Option<&'static str>,
}

/// What a library needs of a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// No user without it.
    Required,
    /// Needed true to link the login to an existing user of the same email.
    Linking,
    /// Taken into the user when present.
    Used,
    /// Not read.
    Ignored,
}

impl Contract {
    pub fn claim_need(&self, claim: &str) -> Need {
        self.claims
            .iter()
            .find(|(c, _, _)| *c == claim)
            .map_or(Need::Ignored, |(_, n, _)| *n)
    }

    pub fn claim_why(&self, claim: &str) -> &'static str {
        self.claims
            .iter()
            .find(|(c, _, _)| *c == claim)
            .map_or("", |(_, _, why)| why)
    }
}

/// The libraries whose contract meets `keep`, named in prose ("A, B and C"), for explanations
/// that speak of libraries without a preset to go by.
pub fn libraries(keep: impl Fn(&Contract) -> bool) -> String {
    let names: Vec<&str> = Preset::ALL
        .iter()
        .map(|p| p.contract())
        .filter(|c| keep(c))
        .map(|c| c.library)
        .collect();
    match names.as_slice() {
        [] => "none of the known libraries".into(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// One auth library's contract.
#[derive(Debug)]
pub struct Contract {
    /// The preset's name (`better-auth`).
    pub name: &'static str,
    /// Other spellings a scenario may use.
    pub aliases: &'static [&'static str],
    /// The library's name in prose.
    pub library: &'static str,
    /// Where the handler is mounted by default, relative to the app's origin.
    pub auth_base: &'static str,
    /// The start requests, tried in order until one knows the provider.
    pub starts: &'static [Start],
    /// Answers to a start that mean "not this endpoint or provider, try the next": the status,
    /// or one of these words in the body of an error answer (lowercase).
    pub unknown_start_status: u16,
    pub unknown_start_words: &'static [&'static str],
    /// The callback paths under the auth base (the provider id follows), newest line first.
    pub callback_paths: &'static [&'static str],
    /// The page errors land on, under the auth base (`?error=<code>`).
    pub error_path: &'static str,
    /// The default prefix of the library's cookie names (`<prefix>.<name>`).
    pub cookie_prefix: &'static str,
    /// The native session endpoint, relative to the auth base (none when the library has no
    /// endpoint of its own: the scenario names one), and what a session answer holds.
    pub native_path: Option<&'static str>,
    pub native_status: u16,
    /// A dot path that a session answer holds, present and not null.
    pub native_present: Option<&'static str>,
    /// Where a session answer says when the session ends (a dot path).
    pub session_expiry: Option<&'static str>,
    /// Cookie names by their role, matched on the name without prefix and without the
    /// library's configurable cookie prefix (what follows the last `.` of the default name).
    pub cookies: &'static [(&'static str, CookieRole)],
    /// The library's callback error codes.
    pub errors: &'static [ErrorCode],
    /// Codes of the library's own that name one cause: a refused start's (an `error=` on the URL
    /// it sends the browser back to, or a JSON `code`) and a failed callback's.
    pub code_causes: &'static [(&'static str, crate::trace::CauseKey)],
    /// Whether the library verifies an HS256 ID token with the client secret (OIDC Core 10.1),
    /// or checks ID tokens only against the JWKS's public keys.
    pub verifies_hs_id_tokens: bool,
    /// How the library signs a user out, under the auth base.
    pub sign_out: SignOut,
    /// What the library needs of the IdP's claims, with why in its words; a claim not named
    /// is one it ignores.
    pub claims: &'static [(&'static str, Need, &'static str)],
    /// How the library's settings are named in explanations and fixes.
    pub words: Words,
    /// What the library answers without a session that no other library does (`authchain
    /// init` tells the library at a URL by it).
    pub tell: Tell,
}

/// An answer that tells one library from the others, asked without a session.
#[derive(Debug)]
pub enum Tell {
    /// The native session endpoint answers 200 `null`.
    NullSession,
    /// `<base>/<path>` answers a non-empty JSON object of providers, each value holding
    /// `field`; `bases` are where the handler is mounted, relative to the app, the default first.
    ProviderList {
        path: &'static str,
        field: &'static str,
        bases: &'static [&'static str],
    },
    /// The first start, followed as a link, redirects to the IdP (a URL with `client_id`) and
    /// sets a cookie of the library's with the `State` role.
    LoginRedirect,
}

/// A start request: a POST to its path under the auth base (`{provider}` stands for the
/// provider id), with a JSON body or a form, perhaps after a GET that hands out a CSRF token.
#[derive(Debug)]
pub struct Start {
    pub path: &'static str,
    /// The body's field for the provider id (none when the path names it).
    pub provider_field: Option<&'static str>,
    pub callback_field: &'static str,
    /// A form body rather than JSON.
    pub form: bool,
    /// The request that hands out the CSRF token the start must carry.
    pub csrf: Option<Csrf>,
    /// Headers the library's own client sends (to get the IdP's URL as JSON, say).
    pub headers: &'static [(&'static str, &'static str)],
    /// A link the browser follows (a GET navigation to the path, which redirects to the IdP)
    /// rather than a POST from the page.
    pub link: bool,
}

/// A CSRF token fetched before the start: `GET <auth base>/<path>`, whose JSON answer holds it
/// under `json_field`; the start carries it as `form_field` (with the cookie the GET set).
#[derive(Debug)]
pub struct Csrf {
    pub path: &'static str,
    pub json_field: &'static str,
    pub form_field: &'static str,
}

impl Start {
    /// The path under the auth base, for this provider.
    pub fn path_for(&self, provider: &str) -> String {
        self.path.replace("{provider}", provider)
    }

    /// The body's fields, in order (a CSRF token is added to them once fetched).
    pub fn fields(&self, provider: &str, callback: &str) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        if let Some(p) = self.provider_field {
            fields.push((p.to_string(), provider.to_string()));
        }
        fields.push((self.callback_field.to_string(), callback.to_string()));
        fields
    }

    /// The body as JSON (for a JSON start).
    pub fn body(&self, provider: &str, callback: &str) -> Value {
        json_body(self.fields(provider, callback))
    }
}

/// Fields as a JSON object of strings.
pub fn json_body(fields: Vec<(String, String)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect(),
    )
}

/// What a cookie is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieRole {
    Session,
    State,
    Pkce,
    Csrf,
    /// A long-lived token traded for a new session (`refresh_token`, `__Host-refresh`).
    Refresh,
    /// A copy of the session kept to spare a lookup (a cookie cache).
    Cache,
    CallbackUrl,
    Other,
}

/// What an error code on the callback means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The IdP sent no email for the user.
    MissingEmail,
    /// The state cookie did not come back.
    StateLost,
    /// One code for every server-side failure (Auth.js's `Configuration`): the causes are ranked
    /// by the chain's evidence.
    ServerError,
    /// Anything else, with its causes and fix (the other kinds carry none: their findings
    /// explain themselves).
    Other,
}

#[derive(Debug)]
pub struct ErrorCode {
    pub code: &'static str,
    pub kind: ErrorKind,
    pub causes: &'static str,
    pub fix: &'static str,
}

/// The library's own words for what a fix changes. Each is a phrase that slots into a general
/// sentence; [`GENERIC`] holds the words for a chain without a preset.
#[derive(Debug)]
pub struct Words {
    /// What turns secure cookies (and so the `__Secure-` prefix) on: `"(X: …)"`.
    pub secure_cookies: &'static str,
    /// The settings that decide the session cookie's name.
    pub cookie_name_settings: &'static str,
    /// Why the `__Secure-` prefix differs between two instances.
    pub prefix_follows: &'static str,
    /// The setting that names the app's public URL.
    pub base_url: &'static str,
    /// How a guard should read the session.
    pub validate_session: &'static str,
    /// What to turn on when a guard must read Bearer tokens.
    pub bearer_on: &'static str,
    /// Whether the library reads Bearer tokens.
    pub bearer_note: &'static str,
    /// How the client can send a Bearer token.
    pub bearer_client: &'static str,
    /// The secret's setting (what follows "another").
    pub secret: &'static str,
    /// What sets the session cookie's lifetime.
    pub session_lifetime: &'static str,
    /// How long the state cookie lives.
    pub state_cookie_life: &'static str,
    /// What a refused start most often means.
    pub start_refused: &'static str,
    /// The setting listing trusted origins.
    pub trusted_origins: &'static str,
    /// How the library reports a state (PKCE, transaction) cookie that did not come back.
    pub state_lost_as: &'static str,
    /// Where the state cookie's attributes (SameSite, Path, Domain, life) are set.
    pub state_cookie_settings: &'static str,
    /// What shares a cookie between sub-domains (its Domain).
    pub cookie_domain: &'static str,
    /// Where the library takes the user's claims from: the ID token or the userinfo answer.
    pub claims_source: &'static str,
    /// What the library builds its redirect_uri from (behind a proxy: which headers it trusts).
    pub redirect_uri_from: &'static str,
    /// What lets the library link an IdP's account to an existing user of the same email.
    pub account_linking: &'static str,
}

/// Words for a chain whose auth library is not known.
pub const GENERIC: Words = Words {
    secure_cookies: "the auth library's secure-cookie setting, the base URL's scheme, whether it \
                     runs as production",
    cookie_name_settings: "cookie name or prefix, secure cookies, base URL, production mode",
    prefix_follows: "the `__Secure-` prefix follows the secure-cookie setting, an https base URL, or \
                     a production mode",
    base_url: "base URL",
    validate_session: "pass the request's Cookie header to the auth library's own session check on \
                       the same instance",
    bearer_on: "let the auth library accept Bearer tokens if the guard must use Bearer",
    bearer_note: "many auth libraries read the session only from their cookie",
    bearer_client: "the auth library must hand the client the token for that",
    secret: "signing or encryption secret",
    session_lifetime: "one setting should set both",
    state_cookie_life: "a few minutes",
    start_refused: "a 404 means the endpoint or the provider id is unknown to the app; a 403 often \
                    means the Origin is not trusted",
    trusted_origins: "the list of trusted origins",
    state_lost_as: "a state or session error at the callback",
    state_cookie_settings: "the auth library's options for its state cookie",
    cookie_domain: "the cookie's Domain option",
    claims_source: "the auth library's choice between the ID token's claims and the userinfo \
                    answer",
    account_linking: "the auth library's account-linking settings",
    redirect_uri_from: "the app's public base URL, or the request's scheme and host; behind a \
                        proxy, only the X-Forwarded-Proto and X-Forwarded-Host of a trusted proxy \
                        (`app.set('trust proxy', …)` in Express)",
};

/// The words of the preset a trace names, or the general ones.
pub fn words(preset: Option<&str>) -> &'static Words {
    preset
        .and_then(Preset::parse)
        .map_or(&GENERIC, |p| &p.contract().words)
}

/// The cause a library's code names: the chain's preset's codes first; failing that, another
/// preset's, since each code names one cause whatever the library (codes are distinct enough
/// not to collide: `INVALID_ORIGIN`, `MissingCSRF`, `account_not_linked`).
pub fn code_cause(preset: Option<&str>, code: &str) -> Option<crate::trace::CauseKey> {
    let find = |p: Preset| {
        p.contract()
            .code_causes
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, k)| *k)
    };
    let own = preset.and_then(Preset::parse);
    own.and_then(find)
        .or_else(|| Preset::ALL.iter().copied().find_map(find))
}

/// What an error code means: under the trace's preset; failing that, under another preset only
/// when the code names a failure every library shares (a missing email, a lost state), since
/// another library's causes and fixes would mislead on a chain it does not run.
pub fn error_code(preset: Option<&str>, code: &str) -> Option<&'static ErrorCode> {
    let find = |p: Preset| p.contract().errors.iter().find(|e| e.code == code);
    let own = preset.and_then(Preset::parse);
    own.and_then(find).or_else(|| {
        Preset::ALL
            .iter()
            .copied()
            .filter(|p| Some(*p) != own)
            .filter_map(find)
            .find(|e| e.kind != ErrorKind::Other)
    })
}

/// How a cookie's role was told, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Told {
    /// By the words its name holds (`session`, `state`, `sid`).
    Words,
    /// By another preset's table.
    OtherPreset,
    /// By the chain's own preset's table.
    OwnPreset,
}

/// The role of a cookie by its name, and how it was told.
fn role_told(preset: Option<Preset>, name: &str) -> (CookieRole, Told) {
    let base = unchunked(crate::web::unprefixed(name));
    let tail = base.rsplit('.').next().unwrap_or(base);
    let known = |p: Preset| {
        p.contract()
            .cookies
            .iter()
            .find(|(n, _)| *n == tail || *n == base)
            .map(|(_, role)| *role)
    };
    if let Some(role) = preset.and_then(known) {
        return (role, Told::OwnPreset);
    }
    if let Some(role) = Preset::ALL
        .iter()
        .copied()
        .filter(|p| Some(*p) != preset)
        .find_map(known)
    {
        return (role, Told::OtherPreset);
    }
    let lower = base.to_ascii_lowercase();
    let role = if lower.contains("state") {
        CookieRole::State
    } else if lower.contains("verifier") || lower.contains("pkce") {
        CookieRole::Pkce
    } else if lower.contains("csrf") || lower.contains("xsrf") {
        CookieRole::Csrf
    } else if lower.contains("refresh") {
        CookieRole::Refresh
    } else if lower.contains("session") || tail.eq_ignore_ascii_case("sid") {
        CookieRole::Session
    } else {
        CookieRole::Other
    };
    (role, Told::Words)
}

/// A cookie's name without the chunk number a library splits a large value under
/// (`authjs.session-token.1`, `appSession.0`).
pub fn unchunked(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => name,
    }
}

/// The role of a cookie by its name: the preset's table, then another preset's, then the words
/// a name usually holds.
pub fn cookie_role(preset: Option<Preset>, name: &str) -> CookieRole {
    role_told(preset, name).0
}

/// The session cookie among `items`: of those whose role is the session, the one told most
/// surely (the chain's preset, another preset, the name's words), the later one on a tie;
/// when none is, the one `weight` ranks highest, the later one on a tie. The one guess at which
/// cookie is the session, for the matrix, the probes and the rules alike; callers hand items in
/// a stable order.
pub fn pick_session<T>(
    preset: Option<Preset>,
    items: &[T],
    name: impl Fn(&T) -> &str,
    weight: impl Fn(&T) -> i64,
) -> Option<&T> {
    let told = |i: &T| match role_told(preset, name(i)) {
        (CookieRole::Session, told) => Some(told),
        _ => None,
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(n, i)| told(i).map(|t| (t, n, i)))
        .max_by_key(|(t, n, _)| (*t, *n))
        .map(|(_, _, i)| i)
        .or_else(|| {
            items
                .iter()
                .enumerate()
                .max_by_key(|(n, i)| (weight(i), *n))
                .map(|(_, i)| i)
        })
}

/// The session cookie among the cookies a request carries, as one: a value a library split into
/// chunks (`<name>.0`, `<name>.1`, …) is put back together in their order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCookie {
    /// The cookie's name, without a chunk's number.
    pub name: String,
    /// The whole value.
    pub value: String,
    /// The chunks' names, in order (empty when the value is one cookie).
    pub chunks: Vec<String>,
}

impl SessionCookie {
    /// Whether a cookie of the request is (a chunk of) this session cookie.
    pub fn holds(&self, name: &str) -> bool {
        name == self.name || (!self.chunks.is_empty() && unchunked(name) == self.name)
    }
}

/// The session cookie among `pairs` (name, value), by the preset's one guess
/// ([`pick_session`], the longest value when no name tells), chunks joined.
pub fn session_of(preset: Option<Preset>, pairs: &[(String, String)]) -> Option<SessionCookie> {
    let (picked, value) = pick_session(preset, pairs, |c| &c.0, |c| c.1.len() as i64).cloned()?;
    let base = unchunked(&picked);
    if base == picked {
        return Some(SessionCookie {
            name: picked,
            value,
            chunks: Vec::new(),
        });
    }
    let mut chunks: Vec<(u32, &String, &String)> = pairs
        .iter()
        .filter(|(n, _)| unchunked(n) == base && n.as_str() != base)
        .filter_map(|(n, v)| Some((n.rsplit_once('.')?.1.parse().ok()?, n, v)))
        .collect();
    // A stable sort keeps the order the cookies went in for a number given twice.
    chunks.sort_by_key(|(i, _, _)| *i);
    chunks.dedup_by_key(|(i, _, _)| *i);
    // Chunks joined only when numbered 0, 1, … without a gap; else the picked one alone.
    if chunks
        .iter()
        .enumerate()
        .any(|(k, (i, _, _))| *i != k as u32)
    {
        return Some(SessionCookie {
            name: picked,
            value,
            chunks: Vec::new(),
        });
    }
    Some(SessionCookie {
        name: base.to_string(),
        value: chunks.iter().map(|(_, _, v)| v.as_str()).collect(),
        chunks: chunks.iter().map(|(_, n, _)| n.to_string()).collect(),
    })
}

/// The other names a session cookie could be looked for under: with and without the browser's
/// prefixes, and the default names of the preset (of every preset, when the chain names none: a
/// guard may look for a library's default name whatever the app renamed it to).
pub fn other_session_names(preset: Option<Preset>, name: &str) -> Vec<String> {
    let base = crate::web::unprefixed(name);
    let mut names = vec![base.to_string()];
    names.extend(crate::web::PREFIXES.iter().map(|p| format!("{p}{base}")));
    let presets = preset.map_or(Preset::ALL.to_vec(), |p| vec![p]);
    for default in presets
        .iter()
        .filter_map(|p| p.contract().cookie_name(CookieRole::Session))
    {
        if default != base {
            names.push(default.clone());
            names.push(format!("__Secure-{default}"));
        }
    }
    names.retain(|n| n != name);
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

impl Contract {
    /// The default name of the library's cookie with this role (without a browser prefix).
    pub fn cookie_name(&self, role: CookieRole) -> Option<String> {
        let (name, _) = self.cookies.iter().find(|(_, r)| *r == role)?;
        Some(if self.cookie_prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.cookie_prefix)
        })
    }

    /// What the native session endpoint answers when there is a session.
    pub fn native_expect(&self) -> Expect {
        Expect {
            status: Some(self.native_status),
            json_present: self.native_present.map(str::to_string),
        }
    }

    /// Whether its start names a provider (in its path or its body).
    pub fn needs_provider(&self) -> bool {
        self.starts
            .iter()
            .any(|s| s.path.contains("{provider}") || s.provider_field.is_some())
    }

    /// Whether a start answer means "not this endpoint, try the next".
    pub fn unknown_start(&self, status: u16, body: &str) -> bool {
        if status == self.unknown_start_status {
            return true;
        }
        let text = body.to_ascii_lowercase();
        status >= 400 && self.unknown_start_words.iter().any(|w| text.contains(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_name() {
        let ba = Some(Preset::BetterAuth);
        for (name, preset, role) in [
            (
                "__Secure-better-auth.session_token",
                ba,
                CookieRole::Session,
            ),
            ("myapp.session_token", ba, CookieRole::Session),
            ("better-auth.state", ba, CookieRole::State),
            ("better-auth.session_data", ba, CookieRole::Cache),
            ("better-auth.session_data", None, CookieRole::Cache),
            ("connect.sid", None, CookieRole::Session),
            ("XSRF-TOKEN", None, CookieRole::Csrf),
            ("refresh_token", None, CookieRole::Refresh),
            ("__Host-refresh", None, CookieRole::Refresh),
            ("RefreshToken", None, CookieRole::Refresh),
            // A name that says nothing: the refresh check tells it by what the refresh rotates.
            ("jid", None, CookieRole::Other),
            ("theme", None, CookieRole::Other),
        ] {
            assert_eq!(cookie_role(preset, name), role, "{name}");
        }
    }

    #[test]
    fn session_is_picked_by_role_then_weight() {
        let items = [("a", 5), ("better-auth.session_token", 1), ("b", 9)];
        fn pick(items: &[(&'static str, i64)]) -> Option<&'static str> {
            pick_session(Some(Preset::BetterAuth), items, |i| i.0, |i| i.1).map(|i| i.0)
        }
        assert_eq!(pick(&items), Some("better-auth.session_token"));
        assert_eq!(pick(&[("a", 5), ("b", 9)]), Some("b"));
        assert_eq!(pick(&[]), None);
        // The preset's own table outranks a name that only sounds like a session, wherever
        // each stands.
        for items in [
            [("app_session", 1), ("x.session_token", 1)],
            [("x.session_token", 1), ("app_session", 1)],
        ] {
            assert_eq!(pick(&items), Some("x.session_token"));
        }
        // Equal rank: the later one; equal weight: the later one.
        assert_eq!(pick(&[("sid", 1), ("my_session", 1)]), Some("my_session"));
        assert_eq!(pick(&[("a", 3), ("b", 3)]), Some("b"));
        // No preset: another preset's table still outranks the name's words.
        let none = pick_session(
            None,
            &[("better-auth.session_token", 0), ("sid", 0)],
            |i| i.0,
            |i| i.1,
        );
        assert_eq!(none.map(|i| i.0), Some("better-auth.session_token"));
    }

    #[test]
    fn error_codes_speak_for_their_own_library_only() {
        let ba = Some("better-auth");
        let kind = |p, c| error_code(p, c).map(|e| e.kind);
        assert_eq!(kind(ba, "state_mismatch"), Some(ErrorKind::StateLost));
        assert_eq!(kind(ba, "issuer_mismatch"), Some(ErrorKind::Other));
        // A chain without a preset: the shared failures are told, another library's prose is not.
        assert_eq!(kind(None, "state_mismatch"), Some(ErrorKind::StateLost));
        assert_eq!(kind(None, "email_not_found"), Some(ErrorKind::MissingEmail));
        assert_eq!(kind(None, "issuer_mismatch"), None);
        assert_eq!(kind(ba, "no_such_code"), None);
    }

    #[test]
    fn other_names() {
        let ba = Some(Preset::BetterAuth);
        assert_eq!(
            other_session_names(ba, "__Secure-better-auth.session_token"),
            [
                "better-auth.session_token",
                "__Host-better-auth.session_token"
            ]
        );
        assert_eq!(
            other_session_names(ba, "app.session_token"),
            [
                "__Secure-app.session_token",
                "__Host-app.session_token",
                "better-auth.session_token",
                "__Secure-better-auth.session_token"
            ]
        );
        // No preset: every library's default name is worth a try.
        assert_eq!(
            other_session_names(None, "sid"),
            [
                "__Secure-sid",
                "__Host-sid",
                "better-auth.session_token",
                "__Secure-better-auth.session_token",
                "authjs.session-token",
                "__Secure-authjs.session-token",
                "appSession",
                "__Secure-appSession"
            ]
        );
    }

    #[test]
    fn chunks_join_into_one_session() {
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        let eoc = Some(Preset::Eoc);
        let s = session_of(
            eoc,
            &pairs(&[("appSession.1", "B"), ("x", "1"), ("appSession.0", "A")]),
        )
        .unwrap();
        assert_eq!((s.name.as_str(), s.value.as_str()), ("appSession", "AB"));
        assert_eq!(s.chunks, ["appSession.0", "appSession.1"]);
        assert!(s.holds("appSession.1") && !s.holds("x"));
        // A gap: no joining, the picked chunk alone.
        let s = session_of(eoc, &pairs(&[("appSession.0", "A"), ("appSession.2", "C")])).unwrap();
        assert!(s.chunks.is_empty());
        assert_eq!(s.name, "appSession.2");
        // One cookie, not chunked.
        let s = session_of(eoc, &pairs(&[("appSession", "V")])).unwrap();
        assert_eq!((s.name.as_str(), s.chunks.len()), ("appSession", 0));
        assert_eq!(unchunked("a.b.12"), "a.b");
        assert_eq!(unchunked("a.b"), "a.b");
        assert_eq!(unchunked("a."), "a.");
    }

    #[test]
    fn names_parse_back() {
        for (p, name) in Preset::ALL.iter().zip(Preset::NAMES) {
            assert_eq!(Preset::parse(name), Some(*p));
            assert_eq!(p.name(), *name);
        }
    }
}
