//! The recorded chain: every hop, cookie and probe of one run, as plain data that can be saved
//! as JSON and diagnosed again offline. Secret values are held only as [`Sensitive`] facts.

use crate::redact::Sensitive;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The version of the JSON report's shape; raised on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// A hop's number in the chain, counted from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HopNo(pub u32);

impl fmt::Display for HopNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hop {}", self.0)
    }
}

/// An HTTP method; one outside the common set is kept as given (uppercase).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other(String),
}

impl Method {
    pub fn parse(s: &str) -> Method {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other(m) => m,
        }
    }

    /// The safe methods of RFC 9110 (GET, HEAD, OPTIONS): the only ones a check sends from the
    /// scenario's tables without `unsafe = true`.
    pub fn is_safe_by_rfc(&self) -> bool {
        self.is_safe() || *self == Method::Options
    }

    /// GET and HEAD: no body, and no `Origin` needed.
    pub fn is_safe(&self) -> bool {
        matches!(self, Method::Get | Method::Head)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for Method {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Method {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Method::parse(&String::deserialize(d)?))
    }
}

/// Why a request was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// the request that starts the login at the app
    Start,
    /// a redirect or a URL handed over by the previous answer
    Follow,
    /// the submission of the IdP's login form
    IdpLogin,
    /// the submission of the IdP's consent form
    IdpConsent,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Start => "start",
            Step::Follow => "follow",
            Step::IdpLogin => "idp-login",
            Step::IdpConsent => "idp-consent",
        })
    }
}

/// What the jar did with a `Set-Cookie`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CookieAction {
    Set,
    Cleared,
    Refused,
}

impl CookieAction {
    pub fn word(self) -> &'static str {
        match self {
            CookieAction::Set => "set",
            CookieAction::Cleared => "cleared",
            CookieAction::Refused => "refused",
        }
    }
}

/// Why a browser refused a `Set-Cookie` or withheld a cookie from a request, in Chromium's words
/// (its cookie blocked reasons); a name this tool has no variant for is kept as given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CookieReason {
    InvalidPrefix,
    SecureOnly,
    SameSiteNoneInsecure,
    NameValuePairExceedsMaxSize,
    InvalidDomain,
    SchemeNotSupported,
    Expired,
    SyntaxError,
    SameSiteStrict,
    SameSiteLax,
    SameSiteUnspecifiedTreatedAsLax,
    /// The SameSite reasons where the site is told by its scheme too (Chromium's schemeful
    /// same-site).
    SchemefulSameSiteStrict,
    SchemefulSameSiteLax,
    SchemefulSameSiteUnspecifiedTreatedAsLax,
    /// Withheld: the request's host is not covered by the cookie's Domain (or is not its host).
    DomainMismatch,
    /// Withheld: the request's path is not under the cookie's Path.
    NotOnPath,
    /// Refused: plain http may not overwrite a Secure cookie.
    OverwriteSecure,
    /// Refused or withheld: third-party cookies are blocked (a cross-site request that is no
    /// top-level navigation).
    UserPreferences,
    Other(String),
}

impl CookieReason {
    const NAMED: &'static [CookieReason] = &[
        CookieReason::InvalidPrefix,
        CookieReason::SecureOnly,
        CookieReason::SameSiteNoneInsecure,
        CookieReason::NameValuePairExceedsMaxSize,
        CookieReason::InvalidDomain,
        CookieReason::SchemeNotSupported,
        CookieReason::Expired,
        CookieReason::SyntaxError,
        CookieReason::SameSiteStrict,
        CookieReason::SameSiteLax,
        CookieReason::SameSiteUnspecifiedTreatedAsLax,
        CookieReason::SchemefulSameSiteStrict,
        CookieReason::SchemefulSameSiteLax,
        CookieReason::SchemefulSameSiteUnspecifiedTreatedAsLax,
        CookieReason::DomainMismatch,
        CookieReason::NotOnPath,
        CookieReason::OverwriteSecure,
        CookieReason::UserPreferences,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            CookieReason::InvalidPrefix => "InvalidPrefix",
            CookieReason::SecureOnly => "SecureOnly",
            CookieReason::SameSiteNoneInsecure => "SameSiteNoneInsecure",
            CookieReason::NameValuePairExceedsMaxSize => "NameValuePairExceedsMaxSize",
            CookieReason::InvalidDomain => "InvalidDomain",
            CookieReason::SchemeNotSupported => "SchemeNotSupported",
            CookieReason::Expired => "Expired",
            CookieReason::SyntaxError => "SyntaxError",
            CookieReason::SameSiteStrict => "SameSiteStrict",
            CookieReason::SameSiteLax => "SameSiteLax",
            CookieReason::SameSiteUnspecifiedTreatedAsLax => "SameSiteUnspecifiedTreatedAsLax",
            CookieReason::SchemefulSameSiteStrict => "SchemefulSameSiteStrict",
            CookieReason::SchemefulSameSiteLax => "SchemefulSameSiteLax",
            CookieReason::SchemefulSameSiteUnspecifiedTreatedAsLax => {
                "SchemefulSameSiteUnspecifiedTreatedAsLax"
            }
            CookieReason::DomainMismatch => "DomainMismatch",
            CookieReason::NotOnPath => "NotOnPath",
            CookieReason::OverwriteSecure => "OverwriteSecure",
            CookieReason::UserPreferences => "UserPreferences",
            CookieReason::Other(name) => name,
        }
    }

    pub fn parse(s: &str) -> CookieReason {
        CookieReason::NAMED
            .iter()
            .find(|r| r.as_str() == s)
            .cloned()
            .unwrap_or_else(|| CookieReason::Other(s.to_string()))
    }
}

/// One or more reasons for the same cookie, written as Chromium lists them: `A,B`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieReasons(pub Vec<CookieReason>);

impl CookieReasons {
    pub fn one(reason: CookieReason) -> Self {
        CookieReasons(vec![reason])
    }

    /// The first reason given, the one that decides.
    pub fn first(&self) -> Option<&CookieReason> {
        self.0.first()
    }

    pub fn parse(s: &str) -> Self {
        CookieReasons(
            s.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(CookieReason::parse)
                .collect(),
        )
    }
}

impl fmt::Display for CookieReasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(CookieReason::as_str).collect();
        f.pad(&names.join(","))
    }
}

impl PartialEq<&str> for CookieReasons {
    fn eq(&self, other: &&str) -> bool {
        let mut names = other.split(',');
        self.0.iter().all(|r| names.next() == Some(r.as_str())) && names.next().is_none()
    }
}

impl Serialize for CookieReasons {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for CookieReasons {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(CookieReasons::parse(&String::deserialize(d)?))
    }
}

/// A cookie's SameSite attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

impl From<cookie::SameSite> for SameSite {
    fn from(s: cookie::SameSite) -> Self {
        match s {
            cookie::SameSite::Strict => SameSite::Strict,
            cookie::SameSite::Lax => SameSite::Lax,
            cookie::SameSite::None => SameSite::None,
        }
    }
}

/// One `Set-Cookie` header as received, parsed, and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetCookie {
    pub name: String,
    pub value: Sensitive,
    /// The header with its value replaced by the fingerprint.
    pub raw: String,
    pub domain: Option<String>,
    pub path: Option<String>,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<SameSite>,
    pub max_age: Option<i64>,
    pub expires: Option<String>,
    pub action: CookieAction,
    /// Why the jar refused it (`InvalidDomain`, `InvalidPrefix`, …).
    pub refusal: Option<CookieReasons>,
}

/// One cookie of a `Cookie` request header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentCookie {
    pub name: String,
    pub value: Sensitive,
}

/// A cookie the browser withheld from a request, with its reason (e.g. `SameSiteLax`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockedCookie {
    pub name: String,
    pub reason: CookieReasons,
}

/// What an answered page offered, as far as the login needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageKind {
    LoginForm,
    ConsentForm,
    Other,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub kind: PageKind,
    /// A visible error text on the page (e.g. "Invalid username or password.").
    pub message: Option<String>,
}

/// One request and its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    pub n: HopNo,
    pub step: Step,
    pub method: Method,
    pub url: String,
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<SetCookie>,
    pub cookie_sent: Vec<SentCookie>,
    /// Cookies of the request's site it went without, and why (Domain, Path, Secure, SameSite).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookie_blocked: Vec<BlockedCookie>,
    pub origin_sent: Option<String>,
    pub content_type: Option<String>,
    /// The server's `Date` header, as sent.
    pub date: Option<String>,
    /// `error=` on the URL, the `Location` or in a JSON body, verbatim.
    pub error_code: Option<String>,
    pub error_description: Option<String>,
    pub page: Option<Page>,
    /// For an error answer (4xx/5xx): the start of its body as text, secrets replaced.
    pub body_excerpt: Option<String>,
    /// When the answer came, in Unix milliseconds by the local clock.
    pub received_at_ms: u64,
    pub duration_ms: f64,
}

#[cfg(test)]
impl SetCookie {
    /// A host-only `name=v; Path=/; HttpOnly` cookie, set and kept, for the tests of the rules.
    pub fn plain(name: &str) -> SetCookie {
        SetCookie {
            name: name.into(),
            value: crate::redact::Redactor::new(false).sensitive("v"),
            raw: format!("{name}=v"),
            domain: None,
            path: Some("/".into()),
            secure: false,
            http_only: true,
            same_site: None,
            max_age: None,
            expires: None,
            action: CookieAction::Set,
            refusal: None,
        }
    }
}

#[cfg(test)]
impl Hop {
    /// A GET hop that recorded nothing but its URL and status, for the tests of the rules.
    pub fn plain(n: u32, url: &str, status: u16) -> Hop {
        Hop {
            n: HopNo(n),
            step: Step::Follow,
            method: Method::Get,
            url: url.into(),
            status,
            location: None,
            set_cookies: vec![],
            cookie_sent: vec![],
            cookie_blocked: vec![],
            origin_sent: None,
            content_type: None,
            date: None,
            error_code: None,
            error_description: None,
            page: None,
            body_excerpt: None,
            received_at_ms: 0,
            duration_ms: 0.0,
        }
    }
}

/// The page's own answer to a probe (browser driver): `fetch` with credentials from the app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageProbe {
    pub status: u16,
    pub body_shape: BodyShape,
    pub body_excerpt: String,
    pub passed: bool,
    /// Why the page's request failed outright (CORS, network), if it did.
    pub error: Option<String>,
}

/// How a probe's answer is judged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Expect {
    /// The status wanted; without it any 2xx.
    pub status: Option<u16>,
    /// A dot path in the JSON body that must be present and not null.
    pub json_present: Option<String>,
}

/// The broad shape of a body, enough to compare two answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyShape {
    Empty,
    JsonNull,
    JsonObject,
    JsonOther,
    Html,
    Text,
}

/// One session probe and its result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub name: String,
    pub method: Method,
    pub url: String,
    /// The native session endpoint of the auth library: the reference others are compared to.
    pub native: bool,
    pub compare_to: Option<String>,
    pub expect: Expect,
    pub status: u16,
    pub body_shape: BodyShape,
    /// The top-level keys of a JSON object body.
    pub json_keys: Vec<String>,
    /// The first bytes of the body with secret values replaced.
    pub body_excerpt: String,
    pub cookie_sent: Vec<SentCookie>,
    /// Cookies of the probe's site the request went without, and why (Domain, Path, Secure,
    /// SameSite on a cross-site request).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookie_blocked: Vec<BlockedCookie>,
    pub passed: bool,
    /// Why it failed, in words.
    pub reason: Option<String>,
    /// When the session ends, as a session answer says it (under the preset's field), as sent.
    pub session_expires_at: Option<String>,
    pub date: Option<String>,
    pub received_at_ms: u64,
    pub duration_ms: f64,
    /// The same probe asked by the page itself (browser driver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageProbe>,
    /// What the answer is made of, for comparing it with others (absent in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerDigest>,
}

#[cfg(test)]
impl Probe {
    /// A GET probe that passed with a JSON object and recorded nothing else, for the tests of
    /// the rules.
    pub fn plain(name: &str, url: &str, status: u16) -> Probe {
        Probe {
            name: name.into(),
            method: Method::Get,
            url: url.into(),
            native: false,
            compare_to: None,
            expect: Expect::default(),
            status,
            body_shape: BodyShape::JsonObject,
            json_keys: vec![],
            body_excerpt: String::new(),
            cookie_sent: vec![],
            cookie_blocked: vec![],
            passed: true,
            reason: None,
            session_expires_at: None,
            date: None,
            received_at_ms: 0,
            duration_ms: 0.0,
            page: None,
            answer: None,
        }
    }
}

/// The digest of an answer, taken before redaction: what two answers must share to be alike
/// (docs/findings.md). It keeps nothing secret or volatile: a JSON body is reduced to its
/// skeleton and short enumerated values, any other body to its text with volatile words and
/// echoes of the credentials sent blanked, a redirect to where it goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerDigest {
    pub status: u16,
    /// The media type, lowercased, without parameters.
    pub content_type: Option<String>,
    /// A JSON body's keys and value kinds (`{error:string,user:null}`); another body's text,
    /// blanked; `redirect /path` for a redirect.
    pub skeleton: String,
    /// `path=value` for a JSON body's booleans and short strings (codes, messages), blanked.
    pub enums: Vec<String>,
    /// The challenge's scheme and error code (`bearer error=invalid_token`).
    pub www_authenticate: Option<String>,
    /// Whether the answer clears a cookie.
    pub clears_cookie: bool,
    /// What the answer's `user` object says of who is signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

/// Whether a session answer's user has the claims that say who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub email: bool,
    pub name: bool,
}

/// How a matrix request carried (or did not carry) the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Variant {
    /// the cookies the probe sent, as recorded
    RecordedCookie { name: String },
    /// no cookie at all
    NoCookie,
    /// a garbage value under the session cookie's name
    Garbage { name: String },
    /// the cookie's value as `Authorization: Bearer`, signature included
    BearerSigned,
    /// the token alone (before the signature's dot) as `Authorization: Bearer`
    BearerRaw,
    /// the session cookie's value under another name
    CookieName { name: String },
    /// a session in chunks, whole as one cookie under its own name
    OneChunk { name: String },
}

impl Variant {
    pub fn describe(&self) -> String {
        match self {
            Variant::RecordedCookie { name } => format!("recorded cookie {name}"),
            Variant::NoCookie => "no cookie".into(),
            Variant::Garbage { name } => format!("garbage value as {name}"),
            Variant::BearerSigned => "Bearer, signed token".into(),
            Variant::BearerRaw => "Bearer, raw token".into(),
            Variant::CookieName { name } => format!("value as cookie {name}"),
            Variant::OneChunk { name } => format!("whole value as one cookie {name}"),
        }
    }
}

/// One replay of a probe's request in the differential matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixRow {
    /// The probe replayed (a compared probe or its reference).
    pub probe: String,
    pub variant: Variant,
    pub status: u16,
    pub body_shape: BodyShape,
    pub body_excerpt: String,
    /// Whether the answer meets the probe's expectation.
    pub passed: bool,
    /// What the answer is made of (absent in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerDigest>,
}

/// The step a run stopped in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorStep {
    /// setting up the HTTP client
    Setup,
    /// a request of the chain, by why it was made
    Chain(Step),
    /// the IdP's pages (no form found, not a page)
    Idp,
    /// the browser itself (chromedriver, Chromium, a script)
    Browser,
    /// a session probe, by name
    Probe(String),
    /// the differential matrix of a probe, by name
    Matrix(String),
    /// an opt-in check, by name
    Check(String),
}

impl fmt::Display for ErrorStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorStep::Setup => f.write_str("setup"),
            ErrorStep::Chain(step) => step.fmt(f),
            ErrorStep::Idp => f.write_str("idp"),
            ErrorStep::Browser => f.write_str("browser"),
            ErrorStep::Probe(name) => write!(f, "probe {name}"),
            ErrorStep::Matrix(name) => write!(f, "matrix {name}"),
            ErrorStep::Check(name) => write!(f, "check {name}"),
        }
    }
}

impl ErrorStep {
    pub fn parse(s: &str) -> Option<ErrorStep> {
        Some(match s {
            "setup" => ErrorStep::Setup,
            "idp" => ErrorStep::Idp,
            "browser" => ErrorStep::Browser,
            "start" => ErrorStep::Chain(Step::Start),
            "follow" => ErrorStep::Chain(Step::Follow),
            "idp-login" => ErrorStep::Chain(Step::IdpLogin),
            "idp-consent" => ErrorStep::Chain(Step::IdpConsent),
            _ => {
                if let Some(name) = s.strip_prefix("probe ") {
                    ErrorStep::Probe(name.to_string())
                } else if let Some(name) = s.strip_prefix("check ") {
                    ErrorStep::Check(name.to_string())
                } else {
                    ErrorStep::Matrix(s.strip_prefix("matrix ")?.to_string())
                }
            }
        })
    }
}

impl Serialize for ErrorStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ErrorStep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ErrorStep::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error step `{s}`")))
    }
}

/// Where the run stopped for want of a usable answer (exit 3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunError {
    pub step: ErrorStep,
    pub hop: Option<HopNo>,
    pub message: String,
    /// What kind of stop this is, where a script may act on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RunErrorKind>,
}

impl RunError {
    /// `step <step> at hop <n>: <message>`, as every report says where a run stopped.
    pub fn describe(&self) -> String {
        let at = self.hop.map(|h| format!(" at {h}")).unwrap_or_default();
        format!("step {}{at}: {}", self.step, self.message)
    }
}

/// Kinds of a run's stop (`error.kind` in the JSON report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunErrorKind {
    /// The IdP asks for something a smoke test cannot give: a one-time code, a second factor,
    /// a "stay signed in" choice, a required action such as a password change.
    IdpNeedsInteraction,
    /// No connection: refused, reset, or broken off in the middle of an answer.
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed: a certificate not trusted or expired, a plain-http port.
    Tls,
    /// No answer, or no end of one, within the timeout.
    Timeout,
    /// An answer's body over the size cap (`MAX_BODY`).
    BodyTooLarge,
    /// The browser could not be started or driven: chromedriver or Chromium missing, crashed,
    /// or not answering.
    Browser,
    /// An output could not be written: `--out` is no directory that can be written to.
    Output,
    /// Ctrl-C or SIGTERM stopped the run; the report holds what it had recorded.
    Interrupted,
}

/// What the run learnt about the chain's endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChainInfo {
    pub app: String,
    pub auth_base: Option<String>,
    pub preset: Option<String>,
    pub provider: Option<String>,
    pub driver: String,
    /// The start endpoint that answered (under a preset, the one of its starts that knew the
    /// provider).
    pub start_endpoint: Option<String>,
    /// The hop that carried the app's OAuth callback.
    pub callback_hop: Option<HopNo>,
    /// The URL the chain ended on.
    pub final_url: Option<String>,
    /// The session cookie as one: its name and, when the library split it, its chunks' names in
    /// order (a logical view next to the hops' own records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_cookie: Option<SessionCookieView>,
    /// `--insecure`: no TLS certificate was verified in this run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

/// The session cookie the jar ends with, as one cookie.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCookieView {
    pub name: String,
    pub chunks: Vec<String>,
}

/// How the drive ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Ended {
    /// The chain came back to the app with a page (with or without an error code).
    Landed { hop: HopNo },
    /// The IdP showed its login form again after the credentials were submitted.
    LoginRejected { hop: HopNo },
    /// A redirect came back to a URL already visited in the same chain.
    Loop { first: HopNo, again: HopNo },
    /// The hop cap was reached.
    HopCap { cap: u32 },
    /// The app's start request answered without a URL to follow.
    StartRefused { hop: HopNo },
    /// The IdP answered an error page where the login should go on.
    IdpError { hop: HopNo },
    /// A redirect whose `Location` is no URL: nothing to follow.
    BadRedirect { hop: HopNo },
    /// No login: the probes ran on an existing session (`authchain probe`).
    ProbeOnly,
    /// The run stopped on an error before the chain ended (see `error`).
    #[default]
    NotEnded,
}

/// Everything one run recorded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub scenario: String,
    pub chain: ChainInfo,
    pub hops: Vec<Hop>,
    pub probes: Vec<Probe>,
    /// The differential matrix (filled when probes disagree, or on demand).
    pub matrix: Vec<MatrixRow>,
    pub ended: Ended,
    pub error: Option<RunError>,
    /// Files the run wrote for a failure (a screenshot, the page's HTML).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    /// The IdP's metadata, fetched after a failed login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<IdpMeta>,
    /// The opt-in checks after the login, as they ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckRun>,
    /// `--idp-check`: the report of the login at the IdP alone, run before the chain (as
    /// `idp-login --report-json` writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_check: Option<serde_json::Value>,
    /// The scenario's probes that did not run (the login did not end at the app, the run
    /// stopped, or a recording holds no answer of theirs), by name, in the scenario's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes_not_run: Vec<String>,
    /// A chain read from a recording (`diagnose FILE.har`) rather than driven: what it was
    /// read from, and what the recording lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Recorded>,
    /// `run --retries`: the attempts before this one, which gave no usable answer (exit 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<Retry>,
    /// Seconds since the Unix epoch when the run started, by the local clock.
    pub started_at: u64,
    pub duration_ms: f64,
}

/// The recording a chain was read from. Offline there are no replays (no matrix, no checks),
/// and what the recording does not hold is said, never guessed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// `har`.
    pub format: String,
    /// The tool that wrote it, as it names itself (`WebInspector 537.36`, `Playwright 1.65.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// How many entries the file holds, and how many of them are the chain's hops.
    pub entries: usize,
    pub chain_entries: usize,
    /// What the recording lacks that a live run would have seen, one sentence each.
    #[serde(default)]
    pub unknown: Vec<String>,
}

/// An attempt of a run that gave no usable answer and was tried again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    /// The attempt, from 1.
    pub attempt: u32,
    pub exit_code: i32,
    /// Why it stopped (its `error`: step and message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the next attempt waited.
    pub delay_ms: u64,
}

impl Trace {
    pub fn hop(&self, n: HopNo) -> Option<&Hop> {
        self.hops.iter().find(|h| h.n == n)
    }
}

/// An opt-in check as it ran: its name, its verdict, and what it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckRun {
    pub check: crate::scenario::CheckName,
    pub status: CheckStatus,
    /// What it found, in words.
    pub detail: String,
    /// What it sent and got, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    /// `logout`: the endpoints that still accepted the session after the sign-out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<String>,
    /// `logout`: the session lives in the cookie itself (an encrypted JWT).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stateless: bool,
    /// `authz`, `isolation`: the requests against the credentials, cell by cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<CheckMatrix>,
}

/// A check's table: one row per request, one column per credential (`authz`) or per pairing of
/// users (`isolation`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckMatrix {
    pub columns: Vec<String>,
    pub rows: Vec<CheckMatrixRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckMatrixRow {
    /// `METHOD URL` (`authz`) or `METHOD TEMPLATE` (`isolation`).
    pub request: String,
    /// One per column; `None` where the row asks nothing of the column.
    pub cells: Vec<Option<CheckCell>>,
}

/// What a cell of a check's table got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellGot {
    /// Let through: a 2xx that is not JSON `null` (nor a sign-in page in place of the answer).
    Allow,
    Deny,
    /// No answer came (a fault, or a user whose login failed).
    NoAnswer,
    /// `isolation`, the users' own requests in flight together: each got only its own.
    Apart,
    /// `isolation`, together: one got the other's data, or was refused only beside it.
    Leak,
}

impl CellGot {
    pub fn as_str(self) -> &'static str {
        match self {
            CellGot::Allow => "allow",
            CellGot::Deny => "deny",
            CellGot::NoAnswer => "no-answer",
            CellGot::Apart => "apart",
            CellGot::Leak => "leak",
        }
    }
}

impl From<crate::scenario::access::Verdict> for CellGot {
    fn from(v: crate::scenario::access::Verdict) -> Self {
        match v {
            crate::scenario::access::Verdict::Allow => CellGot::Allow,
            crate::scenario::access::Verdict::Deny => CellGot::Deny,
        }
    }
}

impl fmt::Display for CellGot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request of a check's table as it went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckCell {
    /// The answer's status; none when no answer came.
    pub status: Option<u16>,
    pub got: CellGot,
    /// What the scenario expects (`authz`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<crate::scenario::access::Verdict>,
    /// The cell is what it should be.
    pub ok: bool,
    /// What the cell shows beyond its verdict (whose data an answer carried, why it cannot tell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl CheckRun {
    /// A check that could not run, and why; the base the other verdicts are built on.
    pub fn not_run(check: crate::scenario::CheckName, why: &str) -> CheckRun {
        CheckRun {
            check,
            status: CheckStatus::NotRun,
            detail: why.to_string(),
            steps: Vec::new(),
            accepted: Vec::new(),
            stateless: false,
            matrix: None,
        }
    }
}

/// How an opt-in check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// It could not run on this chain (the login did not finish, no sign-out known): it says
    /// why, and passes nothing.
    NotRun,
}

impl CheckStatus {
    /// Failed when it found something, else passed when it had evidence to look at, else not
    /// run.
    pub fn of(found: bool, looked: bool) -> CheckStatus {
        match (found, looked) {
            (true, _) => CheckStatus::Failed,
            (false, true) => CheckStatus::Passed,
            (false, false) => CheckStatus::NotRun,
        }
    }
}

/// The IdP's metadata as authchain fetched it itself after a failed login: its discovery
/// document and the keys of its JWKS.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IdpMeta {
    pub discovery_url: String,
    /// The issuer the discovery document names, as written.
    pub issuer: Option<String>,
    /// The issuer the app is configured with (`--issuer`), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured_issuer: Option<String>,
    pub jwks_uri: Option<String>,
    /// `id_token_signing_alg_values_supported`.
    pub id_token_algs: Vec<String>,
    pub keys: Vec<JwkFacts>,
    /// The discovery answer's `Date` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Why the metadata could not be read, where it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a JWKS key says of itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkFacts {
    pub kid: Option<String>,
    pub kty: String,
    pub alg: Option<String>,
}

/// How bad a finding is: errors fail the run, warnings and notes do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// A finding's stable id: its string form is the catalog (docs/findings.md); an id is never
/// renamed or reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingId {
    RedirectLoop,
    IdpLoginRejected,
    StartRejected,
    IdpErrorPage,
    MissingEmailClaim,
    StateCookieLost,
    CallbackError,
    GuardValidatesDifferently,
    GuardMissesCookie,
    GuardWantsOtherTransport,
    GuardRejectsSession,
    GuardRefusesUser,
    NoSessionAfterLogin,
    ProbeFailed,
    CookiePrefixViolation,
    CookieSecureOverHttp,
    CookieSamesiteNoneInsecure,
    CookieBlockedByBrowser,
    CookieDuplicateName,
    CookieTooLarge,
    CookieNotSent,
    CookieNeverReturned,
    CookieLifetimeMismatch,
    ClockSkew,
    BrowserHttpDisagree,
    SessionWithoutIdentity,
    CallbackReplayed,
    MalformedRedirect,
    OidcIssuerMismatch,
    OidcAlgWithoutKey,
    OidcEndpointUnreachable,
    OidcMixedScheme,
    OidcNoPkceS256,
    OidcScopeMissing,
    OidcJwksInvalid,
    OidcNoEndSession,
    OidcNoQueryResponseMode,
    IdpTokenExchangeFailed,
    IdpIdTokenInvalid,
    IdpClaimMissing,
    AssertionCodeMismatch,
    AssertionLeaksDetail,
    AssertionAcceptedWhenInvalid,
    SessionSurvivesLogout,
    CookiePolicyWeak,
    CallbackReplayAccepted,
    StateNotEnforced,
    TtlMismatch,
    IdpSessionSurvivesLogout,
    RefreshReuseAccepted,
    AuthzMismatch,
    IsolationBreach,
}

impl FindingId {
    pub const ALL: &'static [FindingId] = &[
        FindingId::RedirectLoop,
        FindingId::IdpLoginRejected,
        FindingId::StartRejected,
        FindingId::IdpErrorPage,
        FindingId::MissingEmailClaim,
        FindingId::StateCookieLost,
        FindingId::CallbackError,
        FindingId::GuardValidatesDifferently,
        FindingId::GuardMissesCookie,
        FindingId::GuardWantsOtherTransport,
        FindingId::GuardRejectsSession,
        FindingId::GuardRefusesUser,
        FindingId::NoSessionAfterLogin,
        FindingId::ProbeFailed,
        FindingId::CookiePrefixViolation,
        FindingId::CookieSecureOverHttp,
        FindingId::CookieSamesiteNoneInsecure,
        FindingId::CookieBlockedByBrowser,
        FindingId::CookieDuplicateName,
        FindingId::CookieTooLarge,
        FindingId::CookieNotSent,
        FindingId::CookieNeverReturned,
        FindingId::CookieLifetimeMismatch,
        FindingId::ClockSkew,
        FindingId::BrowserHttpDisagree,
        FindingId::SessionWithoutIdentity,
        FindingId::CallbackReplayed,
        FindingId::MalformedRedirect,
        FindingId::OidcIssuerMismatch,
        FindingId::OidcAlgWithoutKey,
        FindingId::OidcEndpointUnreachable,
        FindingId::OidcMixedScheme,
        FindingId::OidcNoPkceS256,
        FindingId::OidcScopeMissing,
        FindingId::OidcJwksInvalid,
        FindingId::OidcNoEndSession,
        FindingId::OidcNoQueryResponseMode,
        FindingId::IdpTokenExchangeFailed,
        FindingId::IdpIdTokenInvalid,
        FindingId::IdpClaimMissing,
        FindingId::AssertionCodeMismatch,
        FindingId::AssertionLeaksDetail,
        FindingId::AssertionAcceptedWhenInvalid,
        FindingId::SessionSurvivesLogout,
        FindingId::CookiePolicyWeak,
        FindingId::CallbackReplayAccepted,
        FindingId::StateNotEnforced,
        FindingId::TtlMismatch,
        FindingId::IdpSessionSurvivesLogout,
        FindingId::RefreshReuseAccepted,
        FindingId::AuthzMismatch,
        FindingId::IsolationBreach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingId::RedirectLoop => "redirect-loop",
            FindingId::IdpLoginRejected => "idp-login-rejected",
            FindingId::StartRejected => "start-rejected",
            FindingId::IdpErrorPage => "idp-error-page",
            FindingId::MissingEmailClaim => "missing-email-claim",
            FindingId::StateCookieLost => "state-cookie-lost",
            FindingId::CallbackError => "callback-error",
            FindingId::GuardValidatesDifferently => "guard-validates-differently",
            FindingId::GuardMissesCookie => "guard-misses-cookie",
            FindingId::GuardWantsOtherTransport => "guard-wants-other-transport",
            FindingId::GuardRejectsSession => "guard-rejects-session",
            FindingId::GuardRefusesUser => "guard-refuses-user",
            FindingId::NoSessionAfterLogin => "no-session-after-login",
            FindingId::ProbeFailed => "probe-failed",
            FindingId::CookiePrefixViolation => "cookie-prefix-violation",
            FindingId::CookieSecureOverHttp => "cookie-secure-over-http",
            FindingId::CookieSamesiteNoneInsecure => "cookie-samesite-none-insecure",
            FindingId::CookieBlockedByBrowser => "cookie-blocked-by-browser",
            FindingId::CookieDuplicateName => "cookie-duplicate-name",
            FindingId::CookieTooLarge => "cookie-too-large",
            FindingId::CookieNotSent => "cookie-not-sent",
            FindingId::CookieNeverReturned => "cookie-never-returned",
            FindingId::CookieLifetimeMismatch => "cookie-lifetime-mismatch",
            FindingId::ClockSkew => "clock-skew",
            FindingId::BrowserHttpDisagree => "browser-http-disagree",
            FindingId::SessionWithoutIdentity => "session-without-identity",
            FindingId::CallbackReplayed => "callback-replayed",
            FindingId::MalformedRedirect => "malformed-redirect",
            FindingId::OidcIssuerMismatch => "oidc-issuer-mismatch",
            FindingId::OidcAlgWithoutKey => "oidc-alg-without-key",
            FindingId::OidcEndpointUnreachable => "oidc-endpoint-unreachable",
            FindingId::OidcMixedScheme => "oidc-mixed-scheme",
            FindingId::OidcNoPkceS256 => "oidc-no-pkce-s256",
            FindingId::OidcScopeMissing => "oidc-scope-missing",
            FindingId::OidcJwksInvalid => "oidc-jwks-invalid",
            FindingId::OidcNoEndSession => "oidc-no-end-session",
            FindingId::OidcNoQueryResponseMode => "oidc-no-query-response-mode",
            FindingId::IdpTokenExchangeFailed => "idp-token-exchange-failed",
            FindingId::IdpIdTokenInvalid => "idp-id-token-invalid",
            FindingId::IdpClaimMissing => "idp-claim-missing",
            FindingId::AssertionCodeMismatch => "assertion-code-mismatch",
            FindingId::AssertionLeaksDetail => "assertion-leaks-detail",
            FindingId::AssertionAcceptedWhenInvalid => "assertion-accepted-when-invalid",
            FindingId::SessionSurvivesLogout => "session-survives-logout",
            FindingId::CookiePolicyWeak => "cookie-policy-weak",
            FindingId::CallbackReplayAccepted => "callback-replay-accepted",
            FindingId::StateNotEnforced => "state-not-enforced",
            FindingId::TtlMismatch => "ttl-mismatch",
            FindingId::IdpSessionSurvivesLogout => "idp-session-survives-logout",
            FindingId::RefreshReuseAccepted => "refresh-reuse-accepted",
            FindingId::AuthzMismatch => "authz-mismatch",
            FindingId::IsolationBreach => "isolation-breach",
        }
    }

    pub fn parse(s: &str) -> Option<FindingId> {
        FindingId::ALL.iter().copied().find(|id| id.as_str() == s)
    }

    /// A verdict of the guard rules on the differential matrix.
    pub fn is_guard(self) -> bool {
        self.as_str().starts_with("guard-")
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for FindingId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for FindingId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FindingId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FindingId::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding id `{s}`")))
    }
}

/// What a finding rests on, by reference into the trace; the report renders each as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Evidence {
    /// A hop: its request and answer.
    Hop { hop: HopNo },
    /// The hop that carried the callback.
    CallbackHop { hop: HopNo },
    /// The `index`-th `Set-Cookie` of a hop.
    SetCookie { hop: HopNo, index: usize },
    /// A probe: its request and answer.
    Probe { probe: String },
    /// A probe as the page asked it and as the HTTP replay did.
    PageProbe { probe: String },
    /// The differential matrix of a probe against its reference.
    Matrix { probe: String, reference: String },
    /// Anything else, in words.
    Note { text: String },
}

impl Evidence {
    pub fn note(text: impl Into<String>) -> Evidence {
        Evidence::Note { text: text.into() }
    }
}

/// A conclusion drawn from the trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: FindingId,
    pub severity: Severity,
    pub title: String,
    /// The evidence as text lines, rendered by the report from `evidence_items`.
    #[serde(rename = "evidence", default)]
    pub evidence_lines: Vec<String>,
    /// The evidence by reference into the trace.
    #[serde(rename = "evidence_items", default)]
    pub evidence: Vec<Evidence>,
    pub explanation: String,
    pub fix: String,
    /// The causes that fit the evidence, likeliest first (guard findings carry them).
    #[serde(default)]
    pub causes: Vec<Cause>,
}

impl Finding {
    /// A finding of a check that is not a chain run (`oidc check`, `idp-login`): its checks are
    /// the evidence, so it carries none and no causes.
    pub fn plain(
        id: FindingId,
        severity: Severity,
        title: String,
        why: &str,
        fix: &str,
    ) -> Finding {
        Finding {
            id,
            severity,
            title,
            evidence_lines: Vec::new(),
            evidence: Vec::new(),
            explanation: why.to_string(),
            fix: fix.to_string(),
            causes: Vec::new(),
        }
    }
}

/// What a check command (`oidc check`, `idp-login`) ended with: its findings, the stop that
/// ended it early, and its exit code (its JSON fields sit in the command's report).
#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckResult {
    pub findings: Vec<Finding>,
    pub error: Option<RunError>,
    pub exit_code: i32,
}

impl CheckResult {
    pub fn find(&mut self, id: FindingId, severity: Severity, title: String, why: &str, fix: &str) {
        self.findings
            .push(Finding::plain(id, severity, title, why, fix));
    }

    /// Stops the check with no usable answer (exit 3).
    pub fn stop(&mut self, step: ErrorStep, message: String, kind: Option<RunErrorKind>) {
        self.error = Some(RunError {
            step,
            hop: None,
            message,
            kind,
        });
        self.exit_code = crate::exit::NO_ANSWER;
    }

    /// The exit code of its findings (an error among them: 1), unless it stopped.
    pub fn close(&mut self) {
        if self.error.is_none() {
            self.exit_code = crate::exit::of_findings(&self.findings);
        }
    }
}

/// One cause of a finding: a stable key and its explanation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub key: CauseKey,
    pub text: String,
}

/// The stable keys of causes (docs/findings.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKey {
    /// The guard re-validates the token as `Authorization: Bearer`, which the library ignores.
    BearerRevalidation,
    /// The guard validates with another secret, instance, store or database.
    OtherSecretOrInstance,
    /// The cookie never reaches the guard: a proxy, its name, Domain or Path.
    CookieNotReachingGuard,
    /// The guard looks for the session under another cookie name.
    OtherCookieName,
    /// The guard reads only the Authorization header.
    WantsAuthorizationHeader,
    /// The guard reads one chunk of a session split over several cookies.
    ReadsOneChunk,
    /// The guard knows the user and refuses them (a role, a permission, a tenant).
    RefusesUser,
    /// The callback: the state, PKCE or nonce cookie set at the start did not come back.
    StateNotReturned,
    /// The callback: the app's own policy refuses the user (a sign-up hook, allowed domains).
    AppRefusesUser,
    /// The callback: the app could not exchange the code or validate the ID token.
    CodeExchangeFailed,
    /// The callback: nothing at the app serves the callback path.
    CallbackNotServed,
    /// The callback: the app's own code failed (a database, a hook, a crash).
    AppFailed,
    /// The session's user lacks the claims the IdP put only in its userinfo answer: the
    /// library read the ID token.
    ClaimsOnlyInUserinfo,
    /// The email or profile scope was not asked for (or not granted).
    ScopeNotGranted,
    /// The IdP has no email for this user, or no email mapping for this client.
    NoEmailAtIdp,
    /// The start: the request's Origin (or its callback URL) is not one the app trusts.
    UntrustedOrigin,
    /// The start: the app does not trust the host it was reached by, and refuses every action.
    UntrustedHost,
    /// The start: the request lacks the CSRF token (a field or header) or its cookie.
    MissingCsrf,
    /// The start: nothing at the app serves the start's path, or the provider id is unknown.
    StartNotServed,
    /// The start: the app could not reach the IdP (its discovery document, its metadata).
    IdpUnreachable,
    /// The IdP refused the authorization request: its redirect_uri is on another scheme, host
    /// or port than the origin the login runs on (built behind a proxy from the wrong headers).
    RedirectUriOrigin,
    /// The IdP refused the authorization request: its redirect_uri is on the right origin with
    /// another path (or trailing slash) than the one registered.
    RedirectUriPath,
    /// The IdP does not know the client id, or it may not use this flow.
    ClientNotRegistered,
    /// The issuer the app is configured with differs from the one the IdP's discovery names
    /// (a trailing slash, a scheme, a host).
    IssuerMismatch,
    /// The IdP signs ID tokens with an algorithm the app does not verify (HS256 where its JWKS
    /// has no key for it).
    IdTokenAlg,
    /// A cookie set by one host, needed by another: the login started on another host than
    /// the callback's (`127.0.0.1` and `localhost`, `www` and the apex).
    HostMismatch,
    /// A cookie refused as Secure (the attribute, a `__Secure-`/`__Host-` prefix, SameSite=None)
    /// on a plain-http origin.
    SecureOverHttp,
    /// A cookie refused for lacking the Secure attribute its prefix or its SameSite=None
    /// demands, whatever the scheme.
    SecureAttributeMissing,
    /// A cookie withheld by its SameSite from a cross-site request (a `form_post` callback, a
    /// page on another site).
    #[serde(rename = "samesite-cross-site")]
    SameSiteCrossSite,
    /// A cookie whose Domain is missing where a sub-domain needs it, or does not cover the host.
    CookieDomain,
    /// A cookie whose Path does not cover the request's path.
    CookiePath,
    /// A cookie refused or withheld as a third-party cookie.
    ThirdPartyBlocked,
    /// A cookie refused for its size.
    TooLarge,
    /// The state cookie expired between the start and the callback.
    StateExpired,
    /// The state cookie came back with another start's state: a second start (a double click,
    /// another tab) overwrote it.
    StateOverwritten,
    /// The callback was requested again after it had made a session: its code and state are
    /// one-time.
    CallbackReplayed,
    /// A server's clock is far from the others': its tokens arrive expired or not yet valid.
    ClockSkew,
    /// A user with this email exists, signed up another way, and the library does not link the
    /// IdP's account to it (its email not verified, the provider not trusted for linking).
    AccountNotLinked,
}

impl CauseKey {
    pub fn as_str(self) -> &'static str {
        match self {
            CauseKey::BearerRevalidation => "bearer-revalidation",
            CauseKey::OtherSecretOrInstance => "other-secret-or-instance",
            CauseKey::CookieNotReachingGuard => "cookie-not-reaching-guard",
            CauseKey::OtherCookieName => "other-cookie-name",
            CauseKey::WantsAuthorizationHeader => "wants-authorization-header",
            CauseKey::ReadsOneChunk => "reads-one-chunk",
            CauseKey::RefusesUser => "refuses-user",
            CauseKey::StateNotReturned => "state-not-returned",
            CauseKey::AppRefusesUser => "app-refuses-user",
            CauseKey::CodeExchangeFailed => "code-exchange-failed",
            CauseKey::CallbackNotServed => "callback-not-served",
            CauseKey::AppFailed => "app-failed",
            CauseKey::ClaimsOnlyInUserinfo => "claims-only-in-userinfo",
            CauseKey::ScopeNotGranted => "scope-not-granted",
            CauseKey::NoEmailAtIdp => "no-email-at-idp",
            CauseKey::UntrustedOrigin => "untrusted-origin",
            CauseKey::UntrustedHost => "untrusted-host",
            CauseKey::MissingCsrf => "missing-csrf",
            CauseKey::StartNotServed => "start-not-served",
            CauseKey::IdpUnreachable => "idp-unreachable",
            CauseKey::RedirectUriOrigin => "redirect-uri-origin",
            CauseKey::RedirectUriPath => "redirect-uri-path",
            CauseKey::ClientNotRegistered => "client-not-registered",
            CauseKey::IssuerMismatch => "issuer-mismatch",
            CauseKey::IdTokenAlg => "id-token-alg",
            CauseKey::HostMismatch => "host-mismatch",
            CauseKey::SecureOverHttp => "secure-over-http",
            CauseKey::SecureAttributeMissing => "secure-attribute-missing",
            CauseKey::SameSiteCrossSite => "samesite-cross-site",
            CauseKey::CookieDomain => "cookie-domain",
            CauseKey::CookiePath => "cookie-path",
            CauseKey::ThirdPartyBlocked => "third-party-blocked",
            CauseKey::TooLarge => "too-large",
            CauseKey::StateExpired => "state-expired",
            CauseKey::StateOverwritten => "state-overwritten",
            CauseKey::CallbackReplayed => "callback-replayed",
            CauseKey::ClockSkew => "clock-skew",
            CauseKey::AccountNotLinked => "account-not-linked",
        }
    }
}

#[cfg(test)]
mod catalog {
    use super::{ErrorStep, FindingId, Step};

    #[test]
    fn error_steps_read_back() {
        for step in [
            ErrorStep::Setup,
            ErrorStep::Idp,
            ErrorStep::Browser,
            ErrorStep::Chain(Step::Start),
            ErrorStep::Chain(Step::Follow),
            ErrorStep::Chain(Step::IdpLogin),
            ErrorStep::Chain(Step::IdpConsent),
            ErrorStep::Probe("guarded".into()),
            ErrorStep::Matrix("/auth/session".into()),
            ErrorStep::Check("authz".into()),
        ] {
            assert_eq!(ErrorStep::parse(&step.to_string()), Some(step));
        }
    }

    #[test]
    fn every_id_is_in_the_catalog_and_parses_back() {
        let doc = include_str!("../../docs/findings.md");
        for id in FindingId::ALL {
            assert!(
                doc.contains(&format!("| `{id}` |")),
                "{id} is missing from docs/findings.md"
            );
            assert_eq!(FindingId::parse(id.as_str()), Some(*id));
        }
    }
}
