//! `authchain demo`: a small OIDC provider and an app that keeps BetterAuth's cookie contract,
//! started in-process on loopback ports, with known faults to inject. A teaching target: nothing
//! else in the engine uses it, and the real-chain tests keep using the Node fixtures.

mod app;
mod idp;
pub mod server;

use crate::redact::Secret;
use crate::scenario::{
    Chain, Consent, Driver, IdpKind, IdpSpec, MatrixMode, Preset, Scenario, SelectorOverrides,
    default_auth_base, join_path, native_probe, plain_probe,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use url::Url;

/// A failure the demo chain can be told to have; each gives the finding a real chain would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    GuardBearer,
    EmailMissing,
    StateLost,
    CookiePrefix,
    ClockSkew,
    RedirectLoop,
    WrongCookieName,
}

impl Fault {
    pub const ALL: &'static [Fault] = &[
        Fault::GuardBearer,
        Fault::EmailMissing,
        Fault::StateLost,
        Fault::CookiePrefix,
        Fault::ClockSkew,
        Fault::RedirectLoop,
        Fault::WrongCookieName,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::GuardBearer => "guard-bearer",
            Fault::EmailMissing => "email-missing",
            Fault::StateLost => "state-lost",
            Fault::CookiePrefix => "cookie-prefix",
            Fault::ClockSkew => "clock-skew",
            Fault::RedirectLoop => "redirect-loop",
            Fault::WrongCookieName => "wrong-cookie-name",
        }
    }

    pub fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.iter().copied().find(|f| f.name() == s)
    }

    /// What the fault does, and the finding it gives.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Fault::GuardBearer => (
                "the guard re-validates the session cookie as Authorization: Bearer (the founding incident)",
                "guard-validates-differently",
            ),
            Fault::EmailMissing => ("the IdP sends no email claim", "missing-email-claim"),
            Fault::StateLost => (
                "the state cookie's Path keeps it from the callback",
                "state-cookie-lost",
            ),
            Fault::CookiePrefix => (
                "the session cookie is named __Secure- but not Secure",
                "cookie-prefix-violation",
            ),
            Fault::ClockSkew => ("the app's clock runs an hour ahead", "clock-skew"),
            Fault::RedirectLoop => (
                "the landing page and the welcome page send the browser to each other",
                "redirect-loop",
            ),
            Fault::WrongCookieName => (
                "the guard looks for the session under another cookie name",
                "guard-misses-cookie",
            ),
        }
    }
}

/// The demo user's name and password.
pub const USER: &str = "demo";
pub const PASSWORD: &str = "demo-password";
/// The provider id the demo app knows its IdP by.
pub const PROVIDER: &str = "demo";
const CLIENT_ID: &str = "authchain-demo";
pub const CLIENT_SECRET: &str = "demo-client-secret";

/// State shared by the demo IdP and app (they are one process).
struct Shared {
    fault: Option<Fault>,
    issuer: String,
    app: String,
    /// The app's cookie-signing secret.
    secret: Vec<u8>,
    key: aws_lc_rs::rsa::KeyPair,
    /// Authorization requests waiting for a login, by request id.
    pending: HashMap<String, HashMap<String, String>>,
    /// Issued codes: the claims they stand for and the client's redirect URI.
    codes: HashMap<String, (serde_json::Value, String)>,
    /// Login states the app started, with their callback URL.
    states: HashMap<String, String>,
    /// Sessions by token: the user's claims.
    sessions: HashMap<String, serde_json::Value>,
}

type State = Arc<Mutex<Shared>>;

/// A random token of `n` URL-safe characters.
fn random(n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| CHARS[*b as usize % CHARS.len()] as char)
        .collect()
}

/// The running demo chain; its servers stop when it is dropped.
pub struct Demo {
    pub app: Url,
    pub idp: Url,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub async fn start(fault: Option<Fault>) -> Result<Demo, String> {
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|_| "cannot make the demo IdP's signing key".to_string())?;
    let mut secret = vec![0u8; 32];
    aws_lc_rs::rand::fill(&mut secret).map_err(|_| "no randomness".to_string())?;
    let state: State = Arc::new(Mutex::new(Shared {
        fault,
        issuer: String::new(),
        app: String::new(),
        secret,
        key,
        pending: HashMap::new(),
        codes: HashMap::new(),
        states: HashMap::new(),
        sessions: HashMap::new(),
    }));
    let s = state.clone();
    let (idp_port, idp_task) = server::serve(Arc::new(move |req| idp::handle(&s, req)))
        .await
        .map_err(|e| format!("cannot start the demo IdP: {e}"))?;
    let s = state.clone();
    let (app_port, app_task) = server::serve(Arc::new(move |req| app::handle(&s, req)))
        .await
        .map_err(|e| format!("cannot start the demo app: {e}"))?;
    // Different host names keep the two servers' cookies apart, as in production.
    let idp = format!("http://127.0.0.1:{idp_port}");
    let app = format!("http://localhost:{app_port}");
    {
        let mut shared = state.lock().expect("the demo state");
        shared.issuer = idp.clone();
        shared.app = app.clone();
    }
    Ok(Demo {
        app: Url::parse(&app).map_err(|e| e.to_string())?,
        idp: Url::parse(&idp).map_err(|e| e.to_string())?,
        tasks: vec![idp_task, app_task],
    })
}

impl Demo {
    /// The scenario a newcomer would write for this chain: the better-auth preset, the form
    /// IdP, the preset's session endpoint as the native probe and the app's guarded endpoint.
    pub fn scenario(&self, driver: Driver) -> Scenario {
        let preset = Preset::BetterAuth;
        let auth_base = default_auth_base(&self.app, Some(preset));
        let password = Secret::new(PASSWORD);
        let guarded = join_path(&self.app, "auth/session");
        Scenario {
            // One name whatever the fault: the same test identities in CI reports.
            name: "demo".into(),
            chain: Chain {
                app: self.app.clone(),
                preset: Some(preset),
                auth_base: auth_base.clone(),
                provider: Some(PROVIDER.into()),
                callback_url: self.app.clone(),
                page: crate::scenario::origin_of(&self.app),
                driver,
                start: Vec::new(),
                start_page: None,
                timeout: crate::scenario::DEFAULT_TIMEOUT,
                max_hops: crate::scenario::DEFAULT_MAX_HOPS,
                matrix: MatrixMode::Auto,
                resolve: Vec::new(),
                sign_out: None,
                refresh: None,
            },
            idp: IdpSpec {
                kind: IdpKind::Form,
                username: Some(USER.into()),
                password: Some(password.clone()),
                consent: Consent::Accept,
                selectors: SelectorOverrides::default(),
                issuer: None,
                client: None,
            },
            probes: vec![
                native_probe(
                    Some(preset),
                    join_path(
                        &auth_base,
                        preset
                            .contract()
                            .native_path
                            .expect("the demo's preset has a session endpoint"),
                    ),
                ),
                plain_probe(
                    "guarded".into(),
                    crate::trace::Method::Get,
                    guarded,
                    Some("native".into()),
                ),
            ],
            secrets: vec![password],
            checks: Vec::new(),
            access: Default::default(),
        }
    }
}
