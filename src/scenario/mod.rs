//! The scenario model: what chain to drive, how to log in and what to check. Loaded from TOML
//! (with variables, `${env:…}` and `${secret:…}`) or built from `authchain login` flags.

pub mod access;
mod error;
mod load;
pub mod start;

pub use error::{ScenarioError, line_col, nearest, render as render_error};
pub use load::{LoadError, Lookup, from_toml, load_file, validate_file};
pub use start::StartStep;

pub use crate::preset::Preset;
use crate::redact::Secret;
use crate::trace::{Expect, Method};
use std::time::Duration;
use url::Url;

/// The default per-request and per-step timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on hops in one run.
pub const DEFAULT_MAX_HOPS: u32 = 30;

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub chain: Chain,
    pub idp: IdpSpec,
    pub probes: Vec<ProbeSpec>,
    /// Every `${secret:…}` value, so that no output shows it.
    pub secrets: Vec<Secret>,
    /// The opt-in checks after the login (`[checks]`, `--check NAME`).
    pub checks: Vec<CheckName>,
    /// Other users, the authorization matrix and the per-user resources (`[[users]]`, `[authz]`,
    /// `[isolation]`).
    pub access: access::AccessSpec,
}

/// An opt-in check after the login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckName {
    /// Sign out, then replay the session's saved cookies: the app must refuse them.
    Logout,
    /// The session, refresh and CSRF cookies against a hardening profile.
    CookiePolicy,
    /// A fresh login's callback sent twice: the second must make no session.
    CallbackReplay,
    /// Fresh logins' callbacks with a forged state, none, and another login's: each refused.
    State,
    /// The session cookie's life, the server session's and the IdP token's, side by side.
    Ttl,
    /// After the app's sign-out, a second login must meet the IdP's form (warning).
    IdpLogout,
    /// The refresh cookie used twice: the second use must fail and end the token family.
    RefreshRotation,
    /// The scenario's authorization matrix: each request with each credential, allow or deny.
    Authz,
    /// Each user's resources requested with the other user's session: each must be refused.
    Isolation,
}

impl CheckName {
    pub const ALL: &'static [CheckName] = &[
        CheckName::Logout,
        CheckName::CookiePolicy,
        CheckName::CallbackReplay,
        CheckName::State,
        CheckName::Ttl,
        CheckName::IdpLogout,
        CheckName::RefreshRotation,
        CheckName::Authz,
        CheckName::Isolation,
    ];
    pub const NAMES: &'static [&'static str] = &[
        "logout",
        "cookie-policy",
        "callback-replay",
        "state",
        "ttl",
        "idp-logout",
        "refresh-rotation",
        "authz",
        "isolation",
    ];

    pub fn parse(s: &str) -> Option<CheckName> {
        CheckName::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Logout => "logout",
            CheckName::CookiePolicy => "cookie-policy",
            CheckName::CallbackReplay => "callback-replay",
            CheckName::State => "state",
            CheckName::Ttl => "ttl",
            CheckName::IdpLogout => "idp-logout",
            CheckName::RefreshRotation => "refresh-rotation",
            CheckName::Authz => "authz",
            CheckName::Isolation => "isolation",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Chain {
    /// The app origin (the auth library's base URL).
    pub app: Url,
    pub preset: Option<Preset>,
    /// Where the auth handler is mounted (default `<app>/api/auth`).
    pub auth_base: Url,
    pub provider: Option<String>,
    pub callback_url: Url,
    /// Where the web app's pages run (its origin): the requests a page makes (the start's
    /// `fetch`, the probes, the matrix) go from here. Defaults to the callback URL's origin.
    pub page: Url,
    pub driver: Driver,
    /// An explicit start, for apps without a preset: its requests in order, the last one starting
    /// the login. Empty when the preset's start is used.
    pub start: Vec<StartStep>,
    /// A page whose sign-in link or form starts the login, as a person presses it.
    pub start_page: Option<StartPage>,
    pub timeout: Duration,
    pub max_hops: u32,
    pub matrix: MatrixMode,
    /// Host names mapped to addresses, bypassing DNS (`--resolve app.test:127.0.0.1`).
    pub resolve: Vec<(String, std::net::IpAddr)>,
    /// The request that signs a user out, where the preset's does not fit (`--check logout`).
    pub sign_out: Option<(Method, Url)>,
    /// The request that trades the refresh cookie for a new session (`--check refresh-rotation`).
    pub refresh: Option<(Method, Url)>,
}

/// A redactor that knows the scenario's secrets.
pub fn secrets_of(scenario: &Scenario, reveal: bool) -> crate::redact::Redactor {
    let mut r = crate::redact::Redactor::new(reveal);
    for s in &scenario.secrets {
        r.add_secret(s);
    }
    r
}

/// Parses `HOST:PORT:ADDR` as curl takes it, or `HOST:ADDR` (an IPv6 address may be in
/// brackets). The port is checked and not kept: the mapping holds for the host on every port.
pub fn parse_resolve(s: &str) -> Option<(String, std::net::IpAddr)> {
    let (host, rest) = s.split_once(':')?;
    let ip = |a: &str| {
        a.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .ok()
    };
    let addr = ip(rest).or_else(|| {
        let (port, addr) = rest.split_once(':')?;
        port.parse::<u16>().ok()?;
        ip(addr)
    })?;
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), addr))
}

/// When the differential matrix runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixMode {
    /// when a compared probe fails where its reference passes
    Auto,
    /// for every compared probe
    Always,
    Never,
}

impl MatrixMode {
    pub const NAMES: &'static [&'static str] = &["auto", "always", "never"];

    pub fn parse(s: &str) -> Option<MatrixMode> {
        match s {
            "auto" => Some(MatrixMode::Auto),
            "always" => Some(MatrixMode::Always),
            "never" => Some(MatrixMode::Never),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    Http,
    Browser,
}

impl Driver {
    pub const NAMES: &'static [&'static str] = &["http", "browser"];

    pub fn parse(s: &str) -> Option<Driver> {
        match s {
            "http" => Some(Driver::Http),
            "browser" => Some(Driver::Browser),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Driver::Http => "http",
            Driver::Browser => "browser",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Json(serde_json::Value),
    Form(Vec<(String, String)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RequestSpec {
    pub method: Method,
    pub url: Url,
    pub body: Option<Body>,
    pub headers: Vec<(String, String)>,
}

/// A page with a sign-in button: its URL, and the CSS selector of the link or form (or a button
/// in it) to press; without one, the link or form whose words say "sign in" / "log in".
#[derive(Clone, Debug, PartialEq)]
pub struct StartPage {
    pub url: Url,
    pub selector: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdpKind {
    Form,
    Authentik,
}

impl IdpKind {
    pub const NAMES: &'static [&'static str] = &["form", "authentik"];

    pub fn parse(s: &str) -> Option<IdpKind> {
        match s {
            "form" => Some(IdpKind::Form),
            "authentik" => Some(IdpKind::Authentik),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    Accept,
    Deny,
}

impl Consent {
    pub const NAMES: &'static [&'static str] = &["accept", "deny"];

    pub fn parse(s: &str) -> Option<Consent> {
        match s {
            "accept" => Some(Consent::Accept),
            "deny" => Some(Consent::Deny),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct IdpSpec {
    pub kind: IdpKind,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub consent: Consent,
    /// Selectors that replace the adapter's own (browser driver; `>>>` enters a shadow root).
    pub selectors: SelectorOverrides,
    /// The issuer the app is configured with, as written (a trailing slash matters).
    pub issuer: Option<String>,
    /// The app's client at the IdP, for `--idp-check` (`[idp] client_id`, `client_secret`,
    /// `redirect_uri`, `token_auth`).
    pub client: Option<ClientSpec>,
}

/// The app's client at the IdP: what `idp-login` and `--idp-check` log in as.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// The redirect URI registered for the client (default: the preset's callback URL).
    pub redirect_uri: Option<Url>,
    pub token_auth: TokenAuth,
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenAuth {
    /// `client_secret_basic`: HTTP Basic with the client id and secret.
    Basic,
    /// `client_secret_post`: the client id and secret in the form.
    Post,
}

impl TokenAuth {
    pub const NAMES: &'static [&'static str] = &["basic", "post"];

    pub fn parse(s: &str) -> Option<TokenAuth> {
        match s {
            "basic" => Some(TokenAuth::Basic),
            "post" => Some(TokenAuth::Post),
            _ => None,
        }
    }
}

impl Scenario {
    /// The same scenario over HTTP: what the checks' own logins use, whatever the run's driver.
    pub fn over_http(&self) -> Scenario {
        Scenario {
            chain: Chain {
                driver: Driver::Http,
                ..self.chain.clone()
            },
            ..self.clone()
        }
    }

    /// The redirect URI the app's client uses: the scenario's, else the preset's callback URL
    /// (`<auth base>/callback/<provider>`).
    pub fn redirect_uri(&self) -> Option<Url> {
        let client = self.idp.client.as_ref()?;
        if let Some(u) = &client.redirect_uri {
            return Some(u.clone());
        }
        let contract = self.chain.preset?.contract();
        let path = contract.callback_paths.first()?;
        let path = match (&self.chain.provider, contract.needs_provider()) {
            (Some(p), true) => format!("{path}/{p}"),
            (None, true) => return None,
            (_, false) => path.to_string(),
        };
        Some(join_path(&self.chain.auth_base, &path))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectorOverrides {
    pub username: Option<String>,
    pub password: Option<String>,
    pub submit: Option<String>,
    pub consent: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProbeSpec {
    pub name: String,
    pub method: Method,
    pub url: Url,
    pub expect: Expect,
    /// The probe this one is compared to (the native one by default under a preset).
    pub compare_to: Option<String>,
    /// The auth library's own session endpoint.
    pub native: bool,
}

/// The auth base assumed when none is given: the preset's, else `<app>/api/auth`.
/// The origin of a URL, as a URL (`http://web.test:3000/`).
pub fn origin_of(url: &Url) -> Url {
    Url::parse(&url.origin().ascii_serialization()).unwrap_or_else(|_| url.clone())
}

pub fn default_auth_base(app: &Url, preset: Option<Preset>) -> Url {
    join_path(app, preset.map_or("api/auth", |p| p.contract().auth_base))
}

/// `base` with `path` appended to its path (unlike `Url::join`, keeps the base's last segment).
pub fn join_path(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url.set_query(None);
    url
}

/// The native session probe of a preset at `url` (its session endpoint answers 200 `null` when
/// there is no session, so the answer must show what a session holds); without a preset, a
/// 2xx whose body is not `null`.
pub fn native_probe(preset: Option<Preset>, url: Url) -> ProbeSpec {
    ProbeSpec {
        name: "native".into(),
        method: Method::Get,
        url,
        expect: preset.map_or_else(Expect::default, |p| p.contract().native_expect()),
        compare_to: None,
        native: true,
    }
}

/// A probe without an expectation of its own: a GET that passes on a 2xx whose body is not `null`.
pub fn plain_probe(
    name: String,
    method: Method,
    url: Url,
    compare_to: Option<String>,
) -> ProbeSpec {
    ProbeSpec {
        name,
        method,
        url,
        expect: Expect::default(),
        compare_to,
        native: false,
    }
}

/// Parses `"10s"`, `"500ms"`, `"2m"` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "sec" => n,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    if secs <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// Splits `"POST https://…"` into method and URL text; a bare URL is a GET.
pub fn split_request(s: &str) -> (Method, &str) {
    let s = s.trim();
    match s.split_once(char::is_whitespace) {
        Some((m, rest)) if m.chars().all(|c| c.is_ascii_uppercase()) && !m.is_empty() => {
            (Method::parse(m), rest.trim())
        }
        _ => (Method::Get, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("ten"), None);
        assert_eq!(parse_duration("99999999999999999999999999"), None);
    }

    #[test]
    fn requests() {
        assert_eq!(
            split_request("POST http://a/b"),
            (Method::Post, "http://a/b")
        );
        assert_eq!(split_request("http://a/b"), (Method::Get, "http://a/b"));
    }

    #[test]
    fn join_keeps_base_path() {
        let app = Url::parse("http://h:1/base").unwrap();
        assert_eq!(
            join_path(&app, "api/auth").as_str(),
            "http://h:1/base/api/auth"
        );
        let app = Url::parse("http://h:1/").unwrap();
        assert_eq!(
            default_auth_base(&app, Some(Preset::BetterAuth)).as_str(),
            "http://h:1/api/auth"
        );
    }
}
