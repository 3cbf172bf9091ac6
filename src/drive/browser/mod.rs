//! The browser driver: the same chain in headless Chromium through WebDriver (fantoccini). The
//! performance log becomes the same hops as the HTTP driver's, Chromium's cookie jar (every
//! origin, through CDP) becomes the jar the probes replay with, and the page runs its own probes.

pub mod cdp;
mod page;
pub mod perflog;
pub mod process;

use super::Drive;
use super::record::Record;
use crate::redact::Redactor;
use crate::scenario::start::Captured;
use crate::scenario::{Body, Consent, IdpKind, RequestSpec, Scenario, StartStep, join_path};
use crate::trace::{
    ChainInfo, Ended, ErrorStep, HopNo, Method, Page, PageKind, RunError, RunErrorKind, Step,
};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// Where the browser comes from, and whether to keep failure artifacts.
#[derive(Clone, Debug, Default)]
pub struct BrowserOptions {
    /// The Chromium to start and drive over its DevTools pipe (default: `chromium` from PATH).
    pub chromium: Option<PathBuf>,
    /// Drive the browser through this chromedriver (WebDriver) instead.
    pub chromedriver: Option<PathBuf>,
    /// A running WebDriver server to use instead.
    pub webdriver: Option<String>,
    /// The run's browsers, shared by its scenarios; without it a scenario starts its own.
    pub pool: Option<Arc<cdp::Pool>>,
    /// Keep a screenshot and the page's HTML on a failure.
    pub artifacts: bool,
}

/// What the page showed when the run failed. Text is raw: it reaches a file only through the
/// redactor's scrub.
#[derive(Clone, Debug)]
pub enum Artifact {
    Image { name: &'static str, png: Vec<u8> },
    Text { name: &'static str, text: String },
}

/// The page's own answer to a probe.
#[derive(Clone, Debug)]
pub struct PageAnswer {
    pub status: u16,
    pub body: String,
    pub error: Option<String>,
}

pub struct BrowserDrive {
    pub drive: Drive,
    /// The page's answers, by probe name.
    pub page_answers: Vec<(String, PageAnswer)>,
    /// What the page showed on a failure, for the caller to write out (scrubbed).
    pub artifacts: Vec<Artifact>,
}

/// The selectors an IdP adapter finds its fields with (`>>>` enters a shadow root).
struct Selectors {
    /// An IdP's "access denied" or error stage.
    denied: &'static str,
    password: &'static str,
    username: &'static str,
    submit: &'static str,
    consent: &'static str,
}

const FORM: Selectors = Selectors {
    denied: "",
    password: "input[type=password]",
    username: "input[autocomplete=username], input[name=username], input[name=login], input[name=email]",
    submit: "[type=submit], button:not([type])",
    consent: "form[method=post] [type=submit], form[method=POST] [type=submit], form[method=post] button:not([type]), form[method=POST] button:not([type])",
};

/// Authentik's flow executor: fields sit inside the stage elements' shadow roots (scoped to the
/// stage, not the hidden light-DOM form Authentik adds for password managers).
const AUTHENTIK: Selectors = Selectors {
    denied: "ak-flow-executor >>> ak-stage-access-denied, ak-flow-executor >>> ak-stage-flow-error",
    password: "ak-flow-executor >>> ak-stage-identification >>> input[name=password], ak-flow-executor >>> ak-stage-password >>> input[name=password]",
    username: "ak-flow-executor >>> ak-stage-identification >>> input[name=uidField]",
    submit: "ak-flow-executor >>> ak-stage-identification >>> button[type=submit], ak-flow-executor >>> ak-stage-password >>> button[type=submit]",
    consent: "ak-flow-executor >>> ak-stage-consent >>> button",
};

/// `POST /session/{id}/se/log`: chromedriver's log endpoint.
#[derive(Debug)]
struct ReadLog;

impl WebDriverCompatibleCommand for ReadLog {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }
    fn method_and_body(&self, _: &Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "performance"}).to_string()),
        )
    }
}

/// `POST /session/{id}/goog/cdp/execute`: a DevTools command through chromedriver.
#[derive(Debug)]
struct Cdp(&'static str);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }
    fn method_and_body(&self, _: &Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"cmd": self.0, "params": {}}).to_string()),
        )
    }
}

/// The page a scenario drives: over Chromium's DevTools pipe (a context of the run's browser),
/// or through a WebDriver session (a browser of its own).
enum Tab {
    Cdp(cdp::Tab),
    WebDriver(Client),
}

impl Tab {
    async fn goto(&self, url: &Url, limit: Duration) -> Result<(), cdp::LoadError> {
        match self {
            Tab::Cdp(t) => t.goto(url.as_str(), limit).await,
            Tab::WebDriver(c) => c.goto(url.as_str()).await.map_err(|e| {
                if e.is_timeout() {
                    cdp::LoadError::Timeout
                } else {
                    cdp::LoadError::Failed(e.to_string())
                }
            }),
        }
    }

    async fn execute(
        &self,
        script: &str,
        args: Vec<Value>,
        limit: Duration,
    ) -> Result<Value, String> {
        match self {
            Tab::Cdp(t) => t.execute(script, args, limit).await,
            Tab::WebDriver(c) => c.execute(script, args).await.map_err(|e| e.to_string()),
        }
    }

    async fn current_url(&self) -> Option<Url> {
        match self {
            Tab::Cdp(t) => t.current_url().await,
            Tab::WebDriver(c) => c.current_url().await.ok(),
        }
    }

    /// Every cookie of the browser (of the scenario's context), in the DevTools form.
    async fn cookies(&self) -> Result<Vec<Value>, String> {
        match self {
            Tab::Cdp(t) => t.cookies().await,
            Tab::WebDriver(c) => {
                let all = c
                    .issue_cmd(Cdp("Network.getAllCookies"))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(all["cookies"].as_array().cloned().unwrap_or_default())
            }
        }
    }

    /// The network events since the last read.
    async fn read_log(&self) -> Result<Vec<(String, Value)>, String> {
        match self {
            Tab::Cdp(t) => t.read_log(),
            Tab::WebDriver(c) => match c.issue_cmd(ReadLog).await.map_err(|e| e.to_string())? {
                Value::Array(entries) => Ok(perflog::events(&entries)),
                _ => Ok(Vec::new()),
            },
        }
    }

    async fn screenshot(&self) -> Result<Vec<u8>, String> {
        match self {
            Tab::Cdp(t) => t.screenshot().await,
            Tab::WebDriver(c) => c.screenshot().await.map_err(|e| e.to_string()),
        }
    }

    async fn source(&self) -> Result<String, String> {
        match self {
            Tab::Cdp(t) => t.source().await,
            Tab::WebDriver(c) => c.source().await.map_err(|e| e.to_string()),
        }
    }

    /// Why the browser is gone, when it is known to be.
    fn gone(&self) -> Option<String> {
        match self {
            Tab::Cdp(t) => t.gone(),
            Tab::WebDriver(_) => None,
        }
    }
}

/// Any WebDriver command, bounded: a wedged browser must not hang the run.
async fn bounded<T, E: std::fmt::Display>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, RunError> {
    match tokio::time::timeout(limit + Duration::from_secs(5), fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(error(ErrorStep::Browser, format!("{what}: {e}"))),
        Err(_) => Err(error(
            ErrorStep::Browser,
            format!(
                "{what}: the browser did not answer within {}s",
                limit.as_secs_f64() + 5.0
            ),
        )),
    }
}

/// Start request `i` of the scenario, its captures filled in.
fn start_spec(i: usize, step: &StartStep, got: &Captured) -> Result<RequestSpec, RunError> {
    step.request(got).map_err(|why| {
        error(
            ErrorStep::Chain(Step::Start),
            format!("start request {}: {why}", i + 1),
        )
    })
}

/// The page's `fetch` of a scenario's start request, as [`page::START`] takes it.
fn fetch_of(spec: &RequestSpec) -> Value {
    let (json, form) = match &spec.body {
        Some(Body::Json(j)) => (j.clone(), Value::Null),
        Some(Body::Form(f)) => (Value::Null, json!(f)),
        None => (Value::Null, Value::Null),
    };
    let headers: serde_json::Map<String, Value> = spec
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({"path": spec.url.path(), "method": spec.method, "url": spec.url.as_str(),
           "json": json, "form": form, "headers": headers, "csrf": null})
}

fn error(step: ErrorStep, message: impl Into<String>) -> RunError {
    RunError {
        kind: (step == ErrorStep::Browser).then_some(RunErrorKind::Browser),
        step,
        hop: None,
        message: message.into(),
    }
}

/// The kind of a page Chromium could not load, by its net error (`net::ERR_…`).
fn load_fault(net_error: &str) -> RunErrorKind {
    let e = net_error.to_ascii_uppercase();
    if e.contains("ERR_NAME_NOT_RESOLVED") || e.contains("ERR_NAME_RESOLUTION_FAILED") {
        RunErrorKind::Dns
    } else if e.contains("ERR_CERT_") || e.contains("ERR_SSL_") {
        RunErrorKind::Tls
    } else if e.contains("TIMED_OUT") {
        RunErrorKind::Timeout
    } else if e.contains("ERR_CONNECTION_") || e.contains("ERR_ADDRESS_UNREACHABLE") {
        RunErrorKind::Connect
    } else {
        RunErrorKind::Browser
    }
}

/// The browser's arguments: headless, quiet on a closed network, a fresh profile; the
/// operator's host names, proxy and `--insecure`.
fn chrome_args(profile: Option<&Path>, net: &crate::drive::http::Net) -> Vec<String> {
    let resolve = &net.resolve;
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-crash-reporter",
        "--disable-breakpad",
        "--window-size=1280,900",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(p) = profile {
        args.push(format!("--user-data-dir={}", p.display()));
    }
    if !resolve.is_empty() {
        let rules: Vec<String> = resolve
            .iter()
            .map(|(h, ip)| format!("MAP {h} {ip}"))
            .collect();
        args.push(format!("--host-resolver-rules={}", rules.join(",")));
    }
    if let Some(proxy) = &net.proxy {
        args.push(format!("--proxy-server={proxy}"));
    }
    if net.insecure {
        args.push("--ignore-certificate-errors".into());
    }
    args
}

/// What the browser driver cannot take from the network settings, if anything: Chromium trusts
/// its own certificate store, and sends no header of the command line's.
pub fn unsupported(net: &crate::drive::http::Net) -> Option<&'static str> {
    if net.cacert.is_some() {
        Some(
            "--cacert (Chromium trusts its own certificate store: add the CA there, or use --insecure)",
        )
    } else if net.identity.is_some() {
        Some("--cert/--key (Chromium takes client certificates from its own store)")
    } else if !net.headers.is_empty() {
        Some("-H/--header")
    } else {
        None
    }
}

/// Logs in through Chromium: in a fresh context of the run's browser, driven over its DevTools
/// pipe; or through WebDriver when a chromedriver or a WebDriver server is given. A browser
/// started for this scenario alone is shut down before this returns, and by its drop on any
/// other way out (a panic, an interruption); the run's browser goes with the run.
pub async fn login(
    scenario: &Scenario,
    opts: &BrowserOptions,
    net: &crate::drive::http::Net,
    progress: &crate::progress::RunProgress,
    r: &mut Redactor,
) -> Result<BrowserDrive, RunError> {
    if opts.webdriver.is_some() || opts.chromedriver.is_some() {
        return webdriver_login(scenario, opts, net, progress, r).await;
    }
    let c = &scenario.chain;
    let began = Instant::now();
    let args = chrome_args(None, net);
    // Chromium's first start on a loaded two-core machine can take most of a minute.
    let limit = c.timeout.max(Duration::from_secs(60));
    let chromium = opts.chromium.as_deref();
    let (browser, started) = match &opts.pool {
        Some(pool) => pool.browser(chromium, &args, limit).await,
        None => cdp::Browser::start(chromium, &args, limit)
            .await
            .map(|b| (Arc::new(b), true)),
    }
    .map_err(|m| error(ErrorStep::Browser, m))?;
    let ms = began.elapsed().as_millis();
    r.detail(2, || match started {
        true => format!("browser: Chromium ready in {ms} ms"),
        false => "browser: a new context in the run's Chromium".to_string(),
    });
    let tab = browser
        .tab(limit)
        .await
        .map_err(|m| error(ErrorStep::Browser, m))?;
    drop(browser);
    let mut session = Session::new(scenario, Tab::Cdp(tab), progress);
    let result = session.run(r, opts).await;
    if let Tab::Cdp(tab) = session.tab {
        tab.close().await;
    }
    result
}

/// Logs in through a WebDriver session: chromedriver, started here with its own Chromium, or a
/// running WebDriver server. Both are shut down before this returns, and by their drop on any
/// other way out.
async fn webdriver_login(
    scenario: &Scenario,
    opts: &BrowserOptions,
    net: &crate::drive::http::Net,
    progress: &crate::progress::RunProgress,
    r: &mut Redactor,
) -> Result<BrowserDrive, RunError> {
    let c = &scenario.chain;
    let temp = tempfile::Builder::new()
        .prefix(process::TEMP_PREFIX)
        .tempdir()
        .map_err(|e| error(ErrorStep::Browser, format!("cannot make a temp dir: {e}")))?;
    let began = Instant::now();
    let (driver_process, url, profile) = match &opts.webdriver {
        Some(url) => (None, url.clone(), None),
        None => {
            let d = process::Chromedriver::start(
                opts.chromedriver.as_deref(),
                temp.path(),
                c.timeout.max(Duration::from_secs(10)),
            )
            .await
            .map_err(|m| error(ErrorStep::Browser, m))?;
            let url = d.url.clone();
            let ms = began.elapsed().as_millis();
            r.detail(2, || format!("browser: chromedriver ready in {ms} ms"));
            (Some(d), url, Some(temp.path().join("profile")))
        }
    };
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": chrome_args(profile.as_deref(), net) }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({ "performance": "ALL" }));
    let ms = c.timeout.as_millis() as u64;
    caps.insert("timeouts".into(), json!({ "pageLoad": ms, "script": ms }));
    let builder = ClientBuilder::rustls().map_err(|e| {
        error(
            ErrorStep::Browser,
            format!("cannot set up TLS for WebDriver: {e}"),
        )
    })?;
    let url = url.as_str();
    // Chromium's first start on a loaded two-core machine can take most of a minute.
    let client = tokio::time::timeout(
        c.timeout.max(Duration::from_secs(60)),
        builder.clone().capabilities(caps).connect(url),
    )
    .await
    .map_err(|_| {
        error(
            ErrorStep::Browser,
            format!("the WebDriver server at {url} did not start a session in time"),
        )
    })?
    .map_err(|e| {
        error(
            ErrorStep::Browser,
            format!("cannot start a browser session at {url}: {e}"),
        )
    })?;
    let ms = began.elapsed().as_millis();
    r.detail(2, || format!("browser: session started at {ms} ms"));
    let mut session = Session::new(scenario, Tab::WebDriver(client.clone()), progress);
    // Ends a remote session even when this future is dropped (Ctrl-C) before `close` below.
    let mut guard = SessionGuard {
        webdriver: driver_process.is_none().then(|| url.to_string()),
        session: client
            .session_id()
            .await
            .ok()
            .flatten()
            .map(|id| id.to_string()),
    };
    let result = session.run(r, opts).await;
    let _ = bounded(c.timeout, "closing the browser", client.close()).await;
    guard.session = None;
    drop(driver_process);
    drop(temp);
    result
}

/// Deletes a remote WebDriver session that was not closed (the run was interrupted). A local
/// chromedriver is killed with its process group instead.
struct SessionGuard {
    webdriver: Option<String>,
    session: Option<String>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        let (Some(base), Some(id)) = (&self.webdriver, &self.session) else {
            return;
        };
        let Ok(url) = Url::parse(base) else { return };
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return;
        };
        if url.scheme() != "http" {
            return;
        }
        use std::io::Write;
        let Ok(addr) = std::net::ToSocketAddrs::to_socket_addrs(&(host, port)) else {
            return;
        };
        for addr in addr {
            if let Ok(mut stream) =
                std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let path = format!("{}/session/{id}", url.path().trim_end_matches('/'));
                let _ = write!(
                    stream,
                    "DELETE {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
                );
                let _ = std::io::Read::read(&mut stream, &mut [0u8; 512]);
                return;
            }
        }
    }
}

struct Session<'a> {
    scenario: &'a Scenario,
    tab: Tab,
    /// Each page looked at: its URL and what it offered.
    inspections: Vec<(String, Page)>,
    /// The form submissions made, in order.
    actions: Vec<Step>,
    /// The URLs the start request was sent to.
    starts: Vec<String>,
    /// The error code the start answer sent the browser back with.
    start_error: Option<String>,
    /// Where the IdP sends the browser back (the `redirect_uri` of the start's URL): the app's.
    returns: Vec<url::Origin>,
    /// The performance log's events read so far: drained at every page looked at, so a
    /// browser that dies later leaves the hops before it.
    events: Vec<(String, Value)>,
    waits: Waits,
    /// Where the hops read so far are shown, for the report of an interrupted run.
    progress: crate::progress::RunProgress,
}

/// How often the drive waited on the browser, for `-vv`.
#[derive(Debug, Default)]
struct Waits {
    /// Pages looked at, and looks in all (a page not settled is looked at again).
    pages: u32,
    looks: u32,
    log_reads: u32,
}

/// How the page loop ended, before the hops are known.
enum Outcome {
    Landed,
    Rejected,
    /// The IdP denied access (Authentik's access-denied or flow-error stage).
    Denied,
    Stuck(String),
    StartRefused,
}

impl<'a> Session<'a> {
    fn new(
        scenario: &'a Scenario,
        tab: Tab,
        progress: &crate::progress::RunProgress,
    ) -> Session<'a> {
        Session {
            scenario,
            tab,
            inspections: Vec::new(),
            actions: Vec::new(),
            starts: Vec::new(),
            start_error: None,
            returns: Vec::new(),
            events: Vec::new(),
            waits: Waits::default(),
            progress: progress.clone(),
        }
    }

    fn selectors(&self) -> &'static Selectors {
        match self.scenario.idp.kind {
            IdpKind::Form => &FORM,
            IdpKind::Authentik => &AUTHENTIK,
        }
    }

    /// The adapter's selectors, with the scenario's overrides.
    fn selector_arg(&self) -> Value {
        let s = self.selectors();
        let o = &self.scenario.idp.selectors;
        let pick = |over: &Option<String>, own: &'static str| {
            over.clone().unwrap_or_else(|| own.to_string())
        };
        json!({
            "denied": s.denied,
            "password": pick(&o.password, s.password),
            "username": pick(&o.username, s.username),
            "submit": pick(&o.submit, s.submit),
            "consent": pick(&o.consent, s.consent),
        })
    }

    async fn script(&self, body: &str, args: Vec<Value>) -> Result<Value, RunError> {
        let script = format!("{}\n{body}", page::HELPERS);
        let limit = self.scenario.chain.timeout;
        bounded(
            limit,
            "a script in the page failed",
            self.tab.execute(&script, args, limit),
        )
        .await
    }

    /// Chromium's cookies, every one, into `record`'s jar; none when they cannot be read.
    async fn load_cookies(&self, record: &mut Record) {
        let limit = self.scenario.chain.timeout;
        if let Ok(all) = bounded(limit, "cookies", self.tab.cookies()).await {
            for cookie in &all {
                record.load_browser_cookie(cookie);
            }
        }
    }

    /// The cookies the browser would send to `url` now.
    async fn cookies_for(&self, url: &Url) -> Vec<(String, String)> {
        let mut jar = Record::default();
        self.load_cookies(&mut jar).await;
        jar.values_for(url)
    }

    /// Opens `url`; a page that does not finish loading within the timeout (a server that
    /// stops in the middle of its answer) is a `timeout` fault.
    async fn goto(&self, url: &Url) -> Result<(), RunError> {
        let limit = self.scenario.chain.timeout;
        let what = format!("cannot open {url}");
        let loaded = bounded(limit, &what, async {
            Ok::<_, String>(self.tab.goto(url, limit).await)
        })
        .await?;
        match loaded {
            Ok(()) => Ok(()),
            Err(cdp::LoadError::Failed(e)) => Err(RunError {
                kind: Some(load_fault(&e)),
                step: ErrorStep::Browser,
                hop: None,
                message: format!("{what}: {e}"),
            }),
            Err(cdp::LoadError::Timeout) => Err(RunError {
                kind: Some(RunErrorKind::Timeout),
                step: ErrorStep::Browser,
                hop: None,
                message: format!(
                    "{what}: the page did not load within {}s",
                    limit.as_secs_f64()
                ),
            }),
        }
    }

    async fn run(
        &mut self,
        r: &mut Redactor,
        opts: &BrowserOptions,
    ) -> Result<BrowserDrive, RunError> {
        let c = &self.scenario.chain;
        let mut chain = ChainInfo {
            app: c.app.to_string(),
            auth_base: Some(c.auth_base.to_string()),
            preset: c.preset.map(|p| p.name().to_string()),
            provider: c.provider.clone(),
            driver: "browser".into(),
            ..ChainInfo::default()
        };
        let mut outcome = self.drive(&mut chain, r).await;
        // The log holds every request so far; read the rest before the page probes add their
        // own. If it cannot be read (the browser died), the drive's own outcome stands, with the
        // hops read before.
        if let Err(e) = self.drain_log().await
            && outcome.is_ok()
        {
            outcome = Err(e);
        }
        let events = &self.events;
        let w = &self.waits;
        let text = format!(
            "browser: {} pages looked at in {} looks (a page not settled is looked at again); the performance log read {} times, {} entries",
            w.pages,
            w.looks,
            w.log_reads,
            events.len()
        );
        r.detail(2, || text);
        let (mut hops, failure) = perflog::hops(events, 1, &self.starts, &self.actions, r);
        for (url, page) in &self.inspections {
            let shown = Url::parse(url).map(|u| r.url(&u)).unwrap_or_default();
            if let Some(h) = hops.iter_mut().rev().find(|h| h.url == shown) {
                h.page = Some(page.clone());
            }
        }
        let last = HopNo(hops.len() as u32);
        // A page where the IdP sent the browser back (the `redirect_uri`'s origin, which the
        // log shows now) is the app's, whatever host it is on: the login came back there.
        let returns = crate::web::redirect_origins(hops.iter().map(|h| &h.url));
        let came_back = hops
            .last()
            .and_then(|h| Url::parse(&h.url).ok())
            .is_some_and(|u| returns.contains(&u.origin()));
        let outcome = match outcome {
            Ok(Outcome::Denied | Outcome::Stuck(_)) if came_back => Ok(Outcome::Landed),
            other => other,
        };
        let mut run_error = None;
        let ended = match outcome {
            Ok(Outcome::Landed) => Ended::Landed { hop: last },
            Ok(Outcome::Rejected) => Ended::LoginRejected { hop: last },
            Ok(Outcome::Denied) => Ended::IdpError { hop: last },
            Ok(Outcome::StartRefused) => {
                if let (Some(code), Some(h)) = (self.start_error.clone(), hops.last_mut()) {
                    h.error_code.get_or_insert(code);
                }
                Ended::StartRefused { hop: last }
            }
            Ok(Outcome::Stuck(message)) => match hops.last() {
                Some(h)
                    if h.status >= 400
                        && !Url::parse(&h.url).is_ok_and(|u| super::at_app(&u, c)) =>
                {
                    Ended::IdpError { hop: last }
                }
                _ => {
                    run_error = Some(RunError {
                        step: ErrorStep::Idp,
                        hop: Some(last),
                        message,
                        kind: None,
                    });
                    Ended::NotEnded
                }
            },
            Err(e) => {
                run_error = Some(e);
                Ended::NotEnded
            }
        };
        let ended = match (&failure, ended) {
            (Some(f), _) if f.error.contains("TOO_MANY_REDIRECTS") => {
                run_error = None;
                Ended::HopCap { cap: 20 }
            }
            (Some(f), Ended::NotEnded) => {
                run_error = Some(RunError {
                    step: ErrorStep::Browser,
                    hop: Some(HopNo(last.0 + 1)),
                    message: format!("the browser could not load {}: {}", f.url, f.error),
                    kind: Some(load_fault(&f.error)),
                });
                Ended::NotEnded
            }
            (_, ended) => ended,
        };
        let mut record = Record::default();
        record.hops = hops;
        chain.final_url = record.hops.last().map(|h| h.url.clone());
        chain.callback_hop = super::callback_hop(&record.hops, c);
        self.load_cookies(&mut record).await;
        let clean = matches!(ended, Ended::Landed { .. })
            && run_error.is_none()
            && !record.hops.iter().any(|h| h.error_code.is_some());
        let mut page_answers = Vec::new();
        if clean {
            // The page's own requests go from where the web app runs.
            let page = &self.scenario.chain.page;
            let here = tokio::time::timeout(Duration::from_secs(5), self.tab.current_url())
                .await
                .ok()
                .flatten();
            if here.is_some_and(|u| u.origin() != page.origin()) {
                let _ = self.goto(page).await;
            }
            page_answers = self.page_probes().await;
        }
        let failed = !clean
            || page_answers.iter().any(|(name, a)| {
                let spec = self.scenario.probes.iter().find(|p| &p.name == name);
                let json = serde_json::from_str(&a.body).ok();
                spec.is_none_or(|s| {
                    crate::probe::failure(&s.expect, a.status, json.as_ref()).is_some()
                })
            });
        let artifacts = if opts.artifacts && failed {
            self.artifacts().await
        } else {
            Vec::new()
        };
        Ok(BrowserDrive {
            drive: Drive {
                record,
                chain,
                ended,
                error: run_error,
            },
            page_answers,
            artifacts,
        })
    }

    /// Opens the app, starts the login, and passes the IdP's pages.
    async fn drive(
        &mut self,
        chain: &mut ChainInfo,
        r: &mut Redactor,
    ) -> Result<Outcome, RunError> {
        let c = &self.scenario.chain;
        // A page with a sign-in button: the browser presses it, scripted buttons too.
        if let Some(page) = &c.start_page {
            chain.start_endpoint = Some(page.url.path().to_string());
            self.goto(&page.url).await?;
            // Sent on to the IdP already (a page behind a login redirects there): underway.
            let here = tokio::time::timeout(Duration::from_secs(5), self.tab.current_url())
                .await
                .ok()
                .flatten();
            if here.is_some_and(|u| {
                !super::at_app(&u, c)
                    && u.origin() != page.url.origin()
                    && u.origin() != c.page.origin()
            }) {
                return self.pages().await;
            }
            let words: Vec<&str> = super::idp::form::SIGN_IN_WORDS.to_vec();
            let pressed = self
                .script(page::PRESS, vec![json!(page.selector), json!(words)])
                .await?;
            if let Some(why) = pressed["error"].as_str() {
                return Err(error(
                    ErrorStep::Chain(Step::Start),
                    format!("the start page {}: {why}", page.url),
                ));
            }
            match (pressed["method"].as_str(), pressed["url"].as_str()) {
                (Some("GET"), Some(url)) => self.starts.push(url.to_string()),
                (Some(_), Some(_)) => self.actions.push(Step::Start),
                _ => {}
            }
            self.settle("").await?;
        } else if let Some(refused) = self.start_in_page(chain, r).await? {
            return Ok(refused);
        }
        self.pages().await
    }

    /// Starts the login from the app's page: the scenario's start request or the preset's. A
    /// start the app refused is the outcome.
    async fn start_in_page(
        &mut self,
        chain: &mut ChainInfo,
        r: &mut Redactor,
    ) -> Result<Option<Outcome>, RunError> {
        let c = &self.scenario.chain;
        self.goto(&c.page).await?;
        let attempts: Vec<Value> = match (c.start.split_last(), c.preset) {
            (Some((last, before)), _) => {
                let mut got = Captured::new();
                for (i, step) in before.iter().enumerate() {
                    let spec = start_spec(i, step, &got)?;
                    chain.start_endpoint = Some(spec.url.path().to_string());
                    self.starts.push(spec.url.to_string());
                    let answer = self.script(page::START, vec![fetch_of(&spec)]).await?;
                    if let Some(e) = answer["error"].as_str() {
                        return Err(error(
                            ErrorStep::Chain(Step::Start),
                            format!("start request {}: the page could not send it: {e}", i + 1),
                        ));
                    }
                    let status = answer["status"].as_u64().unwrap_or(0) as u16;
                    if status >= 400 {
                        return Ok(Some(Outcome::StartRefused));
                    }
                    let headers: Vec<(String, String)> = answer["headers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|h| Some((h[0].as_str()?.into(), h[1].as_str()?.into())))
                        .collect();
                    let seen = super::capture::Seen {
                        headers: &headers,
                        body: answer["body"].as_str().unwrap_or_default(),
                        cookies: &self.cookies_for(&spec.url).await,
                    };
                    super::capture::take_all(i, step, &seen, status, None, &mut got, r)?;
                }
                let start = &start_spec(before.len(), last, &got)?;
                if start.method == Method::Get {
                    chain.start_endpoint = Some(start.url.path().to_string());
                    self.goto(&start.url).await?;
                    Vec::new()
                } else if !matches!(start.body, Some(Body::Json(_))) {
                    // A form start (Auth.js's `signin/<provider>`, say) is a navigation: its
                    // redirect must not become a cross-origin fetch.
                    chain.start_endpoint = Some(start.url.path().to_string());
                    self.actions.push(Step::Start);
                    let fields = match &start.body {
                        Some(Body::Form(f)) => json!(f),
                        _ => json!([]),
                    };
                    self.script(
                        page::FORM_POST,
                        vec![json!(start.url.as_str()), json!(start.method), fields],
                    )
                    .await?;
                    self.settle("").await?;
                    Vec::new()
                } else {
                    vec![fetch_of(start)]
                }
            }
            // A link start: the page follows it, as a person clicks "Sign in".
            (None, Some(preset)) if preset.contract().starts.first().is_some_and(|s| s.link) => {
                let start = &preset.contract().starts[0];
                let path = start.path_for(&c.provider.clone().unwrap_or_default());
                let url = join_path(&c.auth_base, &path);
                chain.start_endpoint = Some(format!("/{path}"));
                self.starts.push(url.to_string());
                self.goto(&url).await?;
                Vec::new()
            }
            (None, Some(preset)) => {
                let provider = c.provider.clone().unwrap_or_default();
                let callback = c.callback_url.to_string();
                preset
                    .contract()
                    .starts
                    .iter()
                    .map(|s| {
                        let path = s.path_for(&provider);
                        let (json, form) = if s.form {
                            (Value::Null, json!(s.fields(&provider, &callback)))
                        } else {
                            (s.body(&provider, &callback), Value::Null)
                        };
                        let headers: serde_json::Map<String, Value> = s
                            .headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), json!(v)))
                            .collect();
                        let csrf = s.csrf.as_ref().map(|x| {
                            json!({"url": join_path(&c.auth_base, x.path).as_str(),
                                   "json_field": x.json_field, "form_field": x.form_field})
                        });
                        json!({"path": format!("/{path}"), "method": "POST",
                               "url": join_path(&c.auth_base, &path).as_str(),
                               "json": json, "form": form, "headers": headers, "csrf": csrf})
                    })
                    .collect()
            }
            (None, None) => Vec::new(),
        };
        let contract = c
            .start
            .is_empty()
            .then(|| c.preset.map(|p| p.contract()))
            .flatten();
        for (i, attempt) in attempts.iter().enumerate() {
            let url = attempt["url"].as_str().unwrap_or_default();
            self.starts.push(url.to_string());
            let answer = self.script(page::START, vec![attempt.clone()]).await?;
            chain.start_endpoint = attempt["path"].as_str().map(str::to_string);
            if let Some(e) = answer["error"].as_str() {
                return Err(error(
                    ErrorStep::Chain(Step::Start),
                    format!("the page could not start the login: {e}"),
                ));
            }
            let url = Url::parse(url).unwrap_or_else(|_| c.app.clone());
            let body = answer["body"].as_str().unwrap_or_default();
            let start = super::login::StartAnswer {
                url: &url,
                status: answer["status"].as_u64().unwrap_or(0) as u16,
                location: answer["location"].as_str().and_then(|l| url.join(l).ok()),
                body,
            };
            let next = super::login::after_start(contract, i + 1 < attempts.len(), &start);
            self.start_error = super::login::start_error(&start);
            match next {
                super::login::StartNext::Follow(next) => {
                    self.returns = crate::web::redirect_origins([next.as_str()]);
                    self.goto(&next).await?;
                    break;
                }
                super::login::StartNext::TryNext => continue,
                super::login::StartNext::Refused => return Ok(Some(Outcome::StartRefused)),
            }
        }
        Ok(None)
    }

    /// Passes the IdP's pages until the login lands, is refused, or stops.
    async fn pages(&mut self) -> Result<Outcome, RunError> {
        let c = &self.scenario.chain;
        let mut machine = super::login::Login::default();
        for _ in 0..super::MAX_IDP_PAGES * 2 {
            let (seen, view) = self.inspect().await?;
            let url = seen["url"].as_str().unwrap_or_default().to_string();
            match machine.next(&view) {
                super::login::Next::Landed => return Ok(Outcome::Landed),
                super::login::Next::Rejected => return Ok(Outcome::Rejected),
                super::login::Next::IdpError => return Ok(Outcome::Denied),
                super::login::Next::Stuck(super::login::Stuck::Interaction(ask)) => {
                    return Err(RunError {
                        step: if machine.submitted_login {
                            ErrorStep::Chain(Step::IdpLogin)
                        } else {
                            ErrorStep::Idp
                        },
                        hop: None,
                        message: super::login::interaction_message(
                            ask,
                            &url,
                            view.message.as_deref(),
                        ),
                        kind: Some(crate::trace::RunErrorKind::IdpNeedsInteraction),
                    });
                }
                super::login::Next::Stuck(_) => {
                    let s = self.selector_arg();
                    return Ok(Outcome::Stuck(format!(
                        "no login form found on the IdP page {url} within {}s: nothing matches the password selector `{}` nor the consent selector `{}`",
                        c.timeout.as_secs_f64(),
                        s["password"].as_str().unwrap_or_default(),
                        s["consent"].as_str().unwrap_or_default()
                    )));
                }
                super::login::Next::Login => {
                    let idp = &self.scenario.idp;
                    let (Some(user), Some(password)) = (&idp.username, &idp.password) else {
                        return Err(error(
                            ErrorStep::Chain(Step::IdpLogin),
                            "the IdP asks for a login but the scenario gives no username or password",
                        ));
                    };
                    let failed = self
                        .script(
                            page::LOGIN,
                            vec![self.selector_arg(), json!(user), json!(password.expose())],
                        )
                        .await?;
                    if let Some(why) = failed.as_str() {
                        return Err(error(
                            ErrorStep::Chain(Step::IdpLogin),
                            format!("{why} on {url}"),
                        ));
                    }
                    self.actions.push(Step::IdpLogin);
                }
                super::login::Next::Consent => {
                    let deny = self.scenario.idp.consent == Consent::Deny;
                    let failed = self
                        .script(page::CONSENT, vec![self.selector_arg(), json!(deny)])
                        .await?;
                    if let Some(why) = failed.as_str() {
                        return Err(error(
                            ErrorStep::Chain(Step::IdpConsent),
                            format!("{why} on {url}"),
                        ));
                    }
                    self.actions.push(Step::IdpConsent);
                }
            }
            self.settle(seen["sig"].as_str().unwrap_or_default())
                .await?;
        }
        Ok(Outcome::Stuck(format!(
            "the IdP showed more than {} pages",
            super::MAX_IDP_PAGES
        )))
    }

    /// Reads the performance log's new events into [`Session::events`], and shows them to
    /// the run's progress.
    async fn drain_log(&mut self) -> Result<(), RunError> {
        let timeout = self.scenario.chain.timeout;
        self.waits.log_reads += 1;
        let new = bounded(
            timeout,
            "cannot read the performance log",
            self.tab.read_log(),
        )
        .await?;
        self.progress.browser(&new, &self.starts, &self.actions);
        self.events.extend(new);
        Ok(())
    }

    /// Looks at the page until it offers a login or consent form, or is back at the app, or
    /// shows an error, or asks for what no form filler gives, or is no HTML page, or the step's
    /// timeout passes (web components render after the load event). Gives what the script
    /// read and what the login machine sees.
    async fn inspect(&mut self) -> Result<(Value, super::login::Seen), RunError> {
        use super::login::{Offer, Seen};
        let c = &self.scenario.chain;
        let started = Instant::now();
        self.waits.pages += 1;
        loop {
            self.waits.looks += 1;
            let seen = self
                .script(page::INSPECT, vec![self.selector_arg()])
                .await?;
            let url = seen["url"].as_str().unwrap_or_default();
            let at_app = Url::parse(url)
                .is_ok_and(|u| super::at_app(&u, c) || self.returns.contains(&u.origin()));
            let kind = seen["kind"].as_str().unwrap_or("other");
            let content_type = seen["contentType"].as_str().unwrap_or_default();
            let parsed = seen["html"].as_str().and_then(|html| {
                Url::parse(url)
                    .ok()
                    .map(|base| super::idp::form::parse(html, &base))
            });
            let status = seen["status"].as_u64().map(|s| s as u16);
            let ask = parsed.as_ref().and_then(|p| p.ask);
            let alert = seen["alert"] == true || parsed.as_ref().is_some_and(|p| p.alert);
            let not_html = parsed.is_none();
            let message = match &parsed {
                // An error page (the app's where the login came back, say) says what it is in
                // its heading or its `<pre>` when it shows no error banner.
                Some(p) => seen["message"].as_str().map(str::to_string).or_else(|| {
                    status
                        .is_some_and(|s| s >= 400)
                        .then(|| p.page.message.clone())
                        .flatten()
                }),
                None => super::login::text_message(
                    Some(content_type),
                    seen["body"].as_str().unwrap_or_default(),
                ),
            };
            // An error answer renders no form later: it is read as it is.
            if at_app
                || kind != "other"
                || ask.is_some()
                || alert
                || not_html
                || status.is_some_and(|s| s >= 400)
                || started.elapsed() > c.timeout
            {
                // Best effort: a log that cannot be read now is read (or its loss named) at the
                // end.
                let _ = self.drain_log().await;
                let page = Page {
                    kind: match kind {
                        "login" => PageKind::LoginForm,
                        "consent" => PageKind::ConsentForm,
                        _ => PageKind::Other,
                    },
                    message: message.clone(),
                };
                // The IdP's pages, and the app's error answer where the login came back.
                if !at_app || status.is_some_and(|s| s >= 400) {
                    self.inspections.push((url.to_string(), page));
                }
                let offer = match kind {
                    _ if not_html => Offer::NotHtml(content_type.to_string()),
                    "login" => Offer::Login {
                        asks_password: seen["password"] == true,
                        action: seen["action"].as_str().unwrap_or_default().to_string(),
                    },
                    "consent" => Offer::Consent,
                    "denied" => Offer::Denied,
                    _ => Offer::Nothing,
                };
                let view = Seen {
                    at_app,
                    status,
                    offer,
                    ask,
                    message,
                    alert,
                };
                return Ok((seen, view));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits after a submission until a new document has loaded, or (in a single-page flow) the
    /// page offers something else than `before`.
    async fn settle(&self, before: &str) -> Result<(), RunError> {
        let started = Instant::now();
        loop {
            // A script can fail while the old document goes away: that is navigation too. Each
            // look is bounded, so a wedged browser ends in the timeout below, not in a hang.
            let look = Duration::from_secs(5);
            if let Some(why) = self.tab.gone() {
                return Err(error(ErrorStep::Browser, why));
            }
            let navigated =
                tokio::time::timeout(look, self.tab.execute(page::NAVIGATED, vec![], look)).await;
            if let Ok(Ok(Value::Bool(true))) = navigated {
                return Ok(());
            }
            let script = format!("{}\n{}", page::HELPERS, page::INSPECT);
            if let Ok(Ok(now)) = tokio::time::timeout(
                look,
                self.tab.execute(&script, vec![self.selector_arg()], look),
            )
            .await
                && now["sig"].as_str().is_some_and(|sig| sig != before)
                && (now["kind"] != "other" || now["message"].is_string())
            {
                return Ok(());
            }
            if started.elapsed() > self.scenario.chain.timeout {
                return Err(error(
                    ErrorStep::Browser,
                    format!(
                        "the page did not move on within {}s after the form was submitted",
                        self.scenario.chain.timeout.as_secs_f64()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Each probe as the web app itself would ask it: `fetch` with credentials from the page.
    async fn page_probes(&self) -> Vec<(String, PageAnswer)> {
        let mut out = Vec::new();
        for spec in &self.scenario.probes {
            let answer = match self
                .script(
                    page::PROBE,
                    vec![json!(spec.url.as_str()), json!(spec.method)],
                )
                .await
            {
                Ok(v) => PageAnswer {
                    status: v["status"].as_u64().unwrap_or(0) as u16,
                    body: v["body"].as_str().unwrap_or_default().to_string(),
                    error: v["error"].as_str().map(str::to_string),
                },
                Err(e) => PageAnswer {
                    status: 0,
                    body: String::new(),
                    error: Some(e.message),
                },
            };
            out.push((spec.name.clone(), answer));
        }
        out
    }

    /// A screenshot and the page's HTML.
    async fn artifacts(&self) -> Vec<Artifact> {
        let mut kept = Vec::new();
        let limit = self.scenario.chain.timeout;
        if let Ok(png) = bounded(limit, "screenshot", self.tab.screenshot()).await {
            kept.push(Artifact::Image {
                name: "screenshot.png",
                png,
            });
        }
        if let Ok(html) = bounded(limit, "page source", self.tab.source()).await {
            kept.push(Artifact::Text {
                name: "page.html",
                text: html,
            });
        }
        kept
    }
}

#[cfg(test)]
mod load_faults {
    use super::*;

    #[test]
    fn a_page_chromium_could_not_load_is_named_by_its_net_error() {
        for (error, kind) in [
            ("net::ERR_NAME_NOT_RESOLVED", RunErrorKind::Dns),
            ("net::ERR_CERT_AUTHORITY_INVALID", RunErrorKind::Tls),
            ("net::ERR_SSL_PROTOCOL_ERROR", RunErrorKind::Tls),
            ("net::ERR_CONNECTION_REFUSED", RunErrorKind::Connect),
            ("net::ERR_CONNECTION_TIMED_OUT", RunErrorKind::Timeout),
            ("net::ERR_ABORTED", RunErrorKind::Browser),
        ] {
            assert_eq!(load_fault(error), kind, "{error}");
        }
    }
}
