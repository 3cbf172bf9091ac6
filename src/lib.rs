//! authchain drives a real login chain (identity provider → the app's auth library → the app's
//! guarded API), records every hop and cookie, and names the link that broke.
//!
//! The pipeline: [`scenario`] → [`drive`] → [`probe`] → [`diagnose`] → [`report`]. The library
//! prints nothing; the binary decides what goes where and which exit code to use ([`exit`]).

pub mod assertion;
pub mod checks;
pub mod demo;
pub mod detail;
pub mod diagnose;
pub mod drive;
pub mod exit;
pub mod har;
pub mod idp_login;
pub mod init;
pub mod jwt;
pub mod oidc;
pub mod preset;
pub mod probe;
pub mod progress;
pub mod redact;
pub mod report;
pub mod scenario;
pub mod trace;
pub mod web;

#[cfg(test)]
mod properties;

use redact::Redactor;
use report::Report;
use scenario::Scenario;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use trace::{Ended, Trace};

/// A finished run: its report and the redactor that knows every secret it met, through which
/// every output text must pass.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub report: Report,
    pub redactor: Redactor,
    /// What the browser page showed on a failure, for the caller to write (text scrubbed).
    pub artifacts: Vec<drive::browser::Artifact>,
}

/// Runs one scenario end to end: log in, probe, diagnose.
/// How to run: what to reveal, and where the browser comes from.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub reveal: bool,
    /// Where `-v`/`-vv` details go.
    pub tap: detail::Tap,
    /// Where the run shows its hops as it goes, for the report of an interrupted run.
    pub progress: progress::Progress,
    /// The scenario's file, for the reports of an interrupted run.
    pub path: Option<std::path::PathBuf>,
    /// Log in at the IdP alone first (`idp-login`), to tell the IdP's faults from the app's.
    pub idp_check: bool,
    pub browser: drive::browser::BrowserOptions,
    /// The operator's network settings (CA, proxy, client certificate, headers, host names),
    /// for every scenario of the command.
    pub net: drive::http::Net,
}

/// Runs one scenario end to end: log in, probe, diagnose.
pub async fn run(scenario: &Scenario, opts: &RunOptions) -> Outcome {
    let r = redactor_for(scenario, opts);
    let started = Instant::now();
    let trace = new_trace(scenario, opts);
    let me = opts
        .progress
        .register(opts.path.clone(), scenario, trace.clone());
    let mut outcome = run_on(scenario, opts, &me, r, started, trace).await;
    not_run(scenario, &mut outcome.report.trace);
    me.done(&outcome);
    outcome
}

/// Names the scenario's probes the trace has no record of.
pub fn not_run(scenario: &Scenario, trace: &mut Trace) {
    trace.probes_not_run = scenario
        .probes
        .iter()
        .filter(|p| !trace.probes.iter().any(|q| q.name == p.name))
        .map(|p| p.name.clone())
        .collect();
}

async fn run_on(
    scenario: &Scenario,
    opts: &RunOptions,
    me: &progress::RunProgress,
    mut r: Redactor,
    started: Instant,
    mut trace: Trace,
) -> Outcome {
    if opts.idp_check {
        match idp_check_options(scenario) {
            Ok(o) => {
                let o = idp_login::Options {
                    net: net_for(scenario, opts),
                    ..o
                };
                let report = idp_login::run(&o, &mut r).await;
                trace.idp_check = serde_json::to_value(&report).ok();
            }
            Err(message) => {
                trace.error = Some(trace::RunError {
                    step: trace::ErrorStep::Setup,
                    hop: None,
                    message,
                    kind: None,
                });
                return finish(trace, started, r);
            }
        }
    }
    // The checks' own logins and requests are not the chain's: they go without the progress
    // handle, so that an interrupted report keeps the chain's hops only.
    let (client, check_client) = match http_client(scenario, opts) {
        Ok(client) => (client.clone().with_progress(me.clone()), client),
        Err(e) => {
            trace.error = Some(e);
            return finish(trace, started, r);
        }
    };
    let mut artifacts = Vec::new();
    let (drive, page_answers) = match scenario.chain.driver {
        scenario::Driver::Http => (drive::login(scenario, &client, &mut r).await, Vec::new()),
        scenario::Driver::Browser => {
            let net = net_for(scenario, opts);
            match drive::browser::login(scenario, &opts.browser, &net, me, &mut r).await {
                Ok(b) => {
                    artifacts = b.artifacts;
                    (Ok(b.drive), b.page_answers)
                }
                Err(e) => (Err(e), Vec::new()),
            }
        }
    };
    match drive {
        Err(e) => trace.error = Some(e),
        Ok(d) => {
            trace.chain = trace::ChainInfo {
                insecure: trace.chain.insecure,
                ..d.chain
            };
            trace.ended = d.ended;
            trace.error = d.error;
            let landed_clean = matches!(trace.ended, Ended::Landed { .. })
                && trace.error.is_none()
                && !d.record.hops.iter().any(|h| h.error_code.is_some());
            // The hops first: the checks read the login's own (its callback) from the trace.
            trace.hops = d.record.hops.clone();
            if landed_clean {
                me.phase(probing(scenario), &trace.chain);
                probe_and_compare(scenario, &client, &d.record, &mut trace, &mut r).await;
                add_page_answers(scenario, &mut trace, page_answers, &mut r);
                run_checks(scenario, &check_client, me, &d.record, &mut trace, &mut r).await;
            } else {
                trace.checks = scenario
                    .checks
                    .iter()
                    .map(|c| {
                        trace::CheckRun::not_run(*c, "the login did not finish: nothing to check")
                    })
                    .collect();
            }
            // A failed login: the IdP's metadata is evidence.
            // (Not after the IdP refused the credentials: no metadata explains a password.)
            let failed = !landed_clean || d.record.hops.iter().any(|h| h.status >= 400);
            if failed && !matches!(trace.ended, Ended::LoginRejected { .. }) {
                let configured = scenario.idp.issuer.as_deref();
                let callback = trace
                    .chain
                    .callback_hop
                    .and_then(|n| d.record.hops.iter().find(|h| h.n == n));
                let urls = drive::metadata::discovery_urls(configured, &d.record.hops, callback);
                trace.idp = drive::metadata::fetch(&client, &urls, configured, &mut r).await;
            }
        }
    }
    let mut outcome = finish(trace, started, r);
    outcome.artifacts = artifacts;
    outcome
}

/// The opt-in checks after a login that finished (`--check`, `[checks]`): in the order asked,
/// but `logout` last, as it ends the session the others look at (`callback-replay` and `state`
/// make logins of their own).
async fn run_checks(
    scenario: &Scenario,
    client: &drive::http::HttpClient,
    me: &progress::RunProgress,
    record: &drive::record::Record,
    trace: &mut Trace,
    r: &mut Redactor,
) {
    let mut asked = scenario.checks.clone();
    asked.sort_by_key(|c| {
        matches!(
            c,
            scenario::CheckName::Logout | scenario::CheckName::IdpLogout
        )
    });
    let mut others = checks::access::Others::default();
    for check in &asked {
        me.phase(
            trace::ErrorStep::Check(check.as_str().to_string()),
            &trace.chain,
        );
        let run = match check {
            scenario::CheckName::RefreshRotation => {
                checks::refresh::refresh_rotation(scenario, client, trace, r).await
            }
            scenario::CheckName::Authz => {
                checks::access::authz(scenario, client, record, &mut others, r).await
            }
            scenario::CheckName::Isolation => {
                checks::access::isolation(scenario, client, record, &mut others, r).await
            }
            scenario::CheckName::Logout => checks::logout(scenario, client, record, trace, r).await,
            scenario::CheckName::CallbackReplay => {
                checks::callback_replay(scenario, client, trace, r).await
            }
            scenario::CheckName::State => checks::state(scenario, client, trace, r).await,
            scenario::CheckName::Ttl => diagnose::ttl_run(trace),
            scenario::CheckName::IdpLogout => checks::idp_logout(scenario, client, record, r).await,
            scenario::CheckName::CookiePolicy => {
                let weak = diagnose::cookie_policy(trace);
                trace::CheckRun {
                    status: trace::CheckStatus::of(!weak.is_empty(), true),
                    detail: format!("{} cookies below the profile", weak.len()),
                    ..trace::CheckRun::not_run(*check, "")
                }
            }
        };
        trace.checks.push(run);
    }
}

/// Puts the page's own answers next to the HTTP probes they repeat.
fn add_page_answers(
    scenario: &Scenario,
    trace: &mut Trace,
    answers: Vec<(String, drive::browser::PageAnswer)>,
    r: &mut Redactor,
) {
    for (name, answer) in answers {
        let (Some(probe), Some(spec)) = (
            trace.probes.iter_mut().find(|p| p.name == name),
            scenario.probes.iter().find(|p| p.name == name),
        ) else {
            continue;
        };
        let summary = probe::summarize_body(answer.body.as_bytes(), None, r);
        probe.page = Some(trace::PageProbe {
            status: answer.status,
            body_shape: summary.shape,
            body_excerpt: summary.excerpt,
            passed: answer.error.is_none()
                && probe::failure(&spec.expect, answer.status, summary.json.as_ref()).is_none(),
            error: answer.error,
        });
    }
}

/// A redactor that knows the scenario's secrets, including passwords written into its URLs.
fn redactor_for(scenario: &Scenario, opts: &RunOptions) -> Redactor {
    let mut r = scenario::secrets_of(scenario, opts.reveal);
    r.set_tap(opts.tap.clone());
    // The WebDriver URL's password too: an interrupted run's report is scrubbed by this alone.
    if let Some(webdriver) = opts
        .browser
        .webdriver
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    {
        add_url_password(&mut r, &webdriver);
    }
    add_net_secrets(&mut r, &opts.net);
    let c = &scenario.chain;
    let starts: Vec<url::Url> = c.start.iter().filter_map(|s| s.fixed_url()).collect();
    let urls = [&c.app, &c.auth_base, &c.callback_url, &c.page]
        .into_iter()
        .chain(&starts)
        .chain(scenario.probes.iter().map(|p| &p.url));
    for url in urls {
        add_url_password(&mut r, url);
    }
    // The chain's own addresses are no secrets (an auth library may keep one in a cookie).
    for url in [&c.app, &c.auth_base, &c.callback_url, &c.page]
        .into_iter()
        .chain(&starts)
    {
        r.add_public(url);
    }

    r
}

/// The secrets of the network settings: a proxy's password, and `-H`'s values (a header given
/// on the command line is often a credential: its value, and a scheme's token, are
/// fingerprinted like any token).
pub fn add_net_secrets(r: &mut Redactor, net: &drive::http::Net) {
    if let Some(proxy) = net.proxy.as_deref().and_then(|p| url::Url::parse(p).ok()) {
        add_url_password(r, &proxy);
    }
    for (_, value) in &net.headers {
        r.learn_credential(value);
    }
}

fn add_url_password(r: &mut Redactor, url: &url::Url) {
    if let Some(password) = url.password() {
        r.add_secret(&redact::Secret::new(password));
        r.add_secret(&redact::Secret::new(redact::percent_decode(password)));
    }
}

/// The network of a scenario's run: the command's, with the scenario's host names added and
/// `-H`'s headers going to the app's origins (the app, its pages, its auth handler).
pub fn net_for(scenario: &Scenario, opts: &RunOptions) -> drive::http::Net {
    let c = &scenario.chain;
    let mut net = opts.net.clone();
    net.resolve.extend(c.resolve.iter().cloned());
    net.header_origins = [&c.app, &c.page, &c.auth_base]
        .iter()
        .map(|u| u.origin().ascii_serialization())
        .collect();
    net
}

/// The HTTP client for a scenario's chain (the login over HTTP, the probes, the matrix).
fn http_client(
    scenario: &Scenario,
    opts: &RunOptions,
) -> Result<drive::http::HttpClient, trace::RunError> {
    let c = &scenario.chain;
    drive::http::HttpClient::new(&c.page, c.timeout, &net_for(scenario, opts)).map_err(|message| {
        trace::RunError {
            step: trace::ErrorStep::Setup,
            hop: None,
            message,
            kind: None,
        }
    })
}

/// Runs the probes and, where they disagree, the differential matrix.
async fn probe_and_compare(
    scenario: &Scenario,
    client: &drive::http::HttpClient,
    record: &drive::record::Record,
    trace: &mut Trace,
    r: &mut Redactor,
) {
    let c = &scenario.chain;
    // The session cookie as one, where the first probe (the native one) would send it.
    let urls: Vec<&url::Url> = scenario.probes.iter().map(|p| &p.url).collect();
    trace.chain.session_cookie =
        probe::matrix::session_cookie(c.preset, record, &urls).map(|s| trace::SessionCookieView {
            name: s.name,
            chunks: s.chunks,
        });
    let (probes, error) = probe::run(&scenario.probes, &c.page, c.preset, client, record, r).await;
    trace.probes = probes;
    trace.error = error;
    if trace.error.is_none() {
        let (rows, error) = probe::matrix::run(
            &scenario.probes,
            &trace.probes,
            &c.page,
            scenario.chain.matrix,
            scenario.chain.preset,
            client,
            record,
            r,
        )
        .await;
        trace.matrix = rows;
        trace.error = error;
    }
}

fn new_trace(scenario: &Scenario, opts: &RunOptions) -> Trace {
    Trace {
        scenario: scenario.name.clone(),
        chain: trace::ChainInfo {
            insecure: opts.net.insecure,
            ..Default::default()
        },
        started_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        ..Trace::default()
    }
}

fn finish(mut trace: Trace, started: Instant, mut redactor: Redactor) -> Outcome {
    trace.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let report = Report::new(trace);
    detail::of_report(&report, &mut redactor);
    Outcome {
        report,
        redactor,
        artifacts: Vec::new(),
    }
}

/// Probes an existing session, with no login: the session cookie is put in the jar for every
/// probe's URL, then the probes and the matrix run as after a login.
pub async fn probe_session(
    scenario: &Scenario,
    cookie: (&str, &redact::Secret),
    opts: &RunOptions,
) -> Outcome {
    let mut r = redactor_for(scenario, opts);
    let started = Instant::now();
    let mut trace = new_trace(scenario, opts);
    trace.ended = Ended::ProbeOnly;
    trace.chain = trace::ChainInfo {
        auth_base: None,
        provider: None,
        driver: "http".into(),
        insecure: opts.net.insecure,
        ..chain_info(scenario)
    };
    let me = opts
        .progress
        .register(opts.path.clone(), scenario, trace.clone());
    me.phase(probing(scenario), &trace.chain);
    r.sensitive(cookie.1.expose());
    match http_client(scenario, opts) {
        Ok(client) => {
            let mut record = drive::record::Record::default();
            let urls: Vec<&url::Url> = scenario.probes.iter().map(|p| &p.url).collect();
            record.preload(cookie.0, cookie.1.expose(), &urls);
            probe_and_compare(scenario, &client, &record, &mut trace, &mut r).await;
        }
        Err(e) => trace.error = Some(e),
    }
    let mut outcome = finish(trace, started, r);
    not_run(scenario, &mut outcome.report.trace);
    me.done(&outcome);
    outcome
}

/// The login at the IdP alone that `--idp-check` runs: the scenario's issuer, client, redirect
/// URI and credentials; what is missing, named (a usage error).
pub fn idp_check_options(scenario: &Scenario) -> Result<idp_login::Options, String> {
    let idp = &scenario.idp;
    let issuer = idp
        .issuer
        .clone()
        .ok_or("--idp-check needs the IdP's issuer ([idp] issuer, or --issuer)")?;
    let client = idp
        .client
        .as_ref()
        .ok_or("--idp-check needs the app's client at the IdP ([idp] client_id, or --client-id)")?;
    let redirect_uri = scenario.redirect_uri().ok_or(
        "--idp-check needs the client's redirect URI ([idp] redirect_uri, or --redirect-uri)",
    )?;
    let username = idp
        .username
        .clone()
        .ok_or("--idp-check needs the user ([idp] username, or --user)")?;
    let password = idp
        .password
        .clone()
        .ok_or("--idp-check needs the password ([idp] password, or --password-env)")?;
    Ok(idp_login::Options {
        issuer,
        client_id: client.client_id.clone(),
        client_secret: client.client_secret.clone(),
        redirect_uri,
        username,
        password,
        scope: "openid email profile".into(),
        token_auth: client.token_auth,
        idp: idp.clone(),
        preset: scenario.chain.preset,
        timeout: scenario.chain.timeout,
        net: drive::http::Net::resolving(&scenario.chain.resolve),
    })
}

/// What a chain is, as the scenario says before a run learns more.
fn chain_info(scenario: &Scenario) -> trace::ChainInfo {
    let c = &scenario.chain;
    trace::ChainInfo {
        app: c.app.to_string(),
        auth_base: Some(c.auth_base.to_string()),
        preset: c.preset.map(|p| p.name().to_string()),
        provider: c.provider.clone(),
        driver: match c.driver {
            scenario::Driver::Http => "http",
            scenario::Driver::Browser => "browser",
        }
        .into(),
        ..trace::ChainInfo::default()
    }
}

/// The step of a run's probes, for the report of a run interrupted there.
fn probing(scenario: &Scenario) -> trace::ErrorStep {
    let names: Vec<&str> = scenario.probes.iter().map(|p| p.name.as_str()).collect();
    trace::ErrorStep::Probe(names.join(", "))
}

/// The reports of a command Ctrl-C or SIGTERM stopped, with the file each came from: the runs
/// that had finished as they ended; the runs under way with the hops they had recorded (the
/// browser's read from its log so far) and `error.kind = "interrupted"` where they stood. Called
/// once the runs' futures are dropped (their browsers shut down). Each comes with whether its
/// report was printed already.
pub fn interrupted(
    progress: &progress::Progress,
    opts: &RunOptions,
) -> Vec<(Option<std::path::PathBuf>, Outcome, bool)> {
    progress
        .take()
        .into_iter()
        .map(|entry| {
            if let Some(done) = entry.finished {
                return (entry.path, *done, entry.shown);
            }
            let mut r = redactor_for(&entry.scenario, opts);
            let mut trace = entry.trace;
            if trace.chain.app.is_empty() {
                trace.chain = chain_info(&entry.scenario);
            }
            if let Some(b) = &entry.browser {
                trace.hops =
                    drive::browser::perflog::hops(&b.events, 1, &b.starts, &b.actions, &mut r).0;
            }
            // Where it stood: its probes, or the request under way (the next hop, which a
            // redirect makes a follow).
            let last = trace.hops.last();
            let (step, hop) = match (entry.phase, last) {
                (Some(phase), _) => (phase, None),
                (None, None) => (trace::ErrorStep::Chain(trace::Step::Start), Some(1)),
                (None, Some(h)) => {
                    let step = if h.location.is_some() {
                        trace::Step::Follow
                    } else {
                        h.step
                    };
                    (trace::ErrorStep::Chain(step), Some(h.n.0 + 1))
                }
            };
            let recorded = match trace.hops.len() {
                1 => "1 hop recorded".to_string(),
                n => format!("{n} hops recorded"),
            };
            trace.error = Some(trace::RunError {
                step,
                hop: hop.map(trace::HopNo),
                message: format!("interrupted ({recorded})"),
                kind: Some(trace::RunErrorKind::Interrupted),
            });
            (entry.path, finish(trace, entry.started, r), false)
        })
        .collect()
}
