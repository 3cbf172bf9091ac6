//! The binary: parse the command line, call the library, write the reports, and map the outcome
//! to an exit code (see `authchain::exit`).

mod cli;
mod emit;

use authchain::exit;
use authchain::redact::{Redactor, Scrubbed, Secret};
use authchain::report::{self, Report, terminal};
use authchain::scenario::{self, Scenario};
use clap::Parser;
use cli::{Cli, Color, Command, OutputArgs};
use colored::Colorize;
use futures_util::StreamExt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

struct Colors;

impl terminal::Theme for Colors {
    fn paint(&self, text: &str, style: terminal::Style) -> String {
        use terminal::Style::*;
        match style {
            Good => text.green().to_string(),
            Bad => text.red().bold().to_string(),
            Warn => text.yellow().to_string(),
            Dim => text.dimmed().to_string(),
            Bold => text.bold().to_string(),
        }
    }
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                // Help and version: the program's own text.
                let _ = e.print();
                std::process::exit(exit::PASS);
            }
            // A usage error echoes what was typed, which may be a token: it goes out scrubbed.
            err(&typed_secrets().scrub(e.render().to_string().trim_end()));
            std::process::exit(exit::USAGE);
        }
    };
    let colour = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    };
    colored::control::set_override(colour);
    let theme: &dyn terminal::Theme = if colour { &Colors } else { &terminal::Plain };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            err(&Redactor::new(false).scrub(&format!("error: cannot start the async runtime: {e}")));
            std::process::exit(exit::NO_ANSWER);
        }
    };
    let progress = authchain::progress::Progress::default();
    let output = cli.command.output().cloned();
    if let Some(o) = &output
        && o.report_json.as_deref().is_some_and(emit::is_stdout)
        && o.events.as_deref().is_some_and(emit::is_stdout)
    {
        std::process::exit(usage(
            "--report-json - and --events - would both write to stdout; send one to a file",
        ));
    }
    // What the report of an interrupted run is scrubbed with: the run's own options.
    let interrupted_opts = {
        let base = authchain::RunOptions {
            reveal: cli.reveal,
            ..authchain::RunOptions::default()
        };
        let base = authchain::RunOptions {
            net: cli
                .command
                .net()
                .and_then(|(n, c)| n.net(c).ok())
                .unwrap_or_default(),
            ..base
        };
        match cli.command.browser() {
            Some(b) => b.options(&base, false),
            None => base,
        }
    };
    // Progress on stderr only where a person watches: a terminal, outside CI, without -v
    // (whose details go to stderr).
    let watched = output.is_some()
        && cli.verbose == 0
        && std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none();
    let code = runtime.block_on(async {
        let stopped = tokio::select! {
            code = dispatch(cli, theme, &progress) => {
                spinner::stop();
                return code;
            }
            _ = spinner::run(&progress, watched) => unreachable!("the spinner never ends"),
            _ = tokio::signal::ctrl_c() => "interrupted",
            _ = terminated() => "terminated",
        };
        spinner::stop();
        // The runs' futures are dropped (their browsers shut down): what they had recorded is
        // reported, and the exit is 130 whatever it says.
        err(&Redactor::new(false).scrub(stopped));
        let outcomes = authchain::interrupted(&progress, &interrupted_opts);
        if let Some(output) = &output
            && !outcomes.is_empty()
        {
            // The reports printed before the interruption are not printed again; every
            // report still goes into the files asked for.
            let mut emitter = emit::Emitter::new(output, theme, outcomes.len());
            for (path, o, shown) in outcomes {
                emitter.take(path, o, shown);
            }
            emitter.finish();
        }
        exit::INTERRUPTED
    });
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

/// SIGTERM, as CI runners and process supervisors send it: stop the same way as on Ctrl-C (the
/// run's future is dropped, which shuts the browser down).
async fn terminated() {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

async fn dispatch(
    cli: Cli,
    theme: &dyn terminal::Theme,
    progress: &authchain::progress::Progress,
) -> i32 {
    // Details go to stderr as they come, each already scrubbed by the run's redactor.
    let tap = if cli.verbose > 0 {
        authchain::detail::Tap::new(cli.verbose, |text| eprintln!("{text}"))
    } else {
        authchain::detail::Tap::default()
    };
    let base = authchain::RunOptions {
        reveal: cli.reveal,
        tap: tap.clone(),
        progress: progress.clone(),
        ..authchain::RunOptions::default()
    };
    match cli.command {
        Command::Login(args) => match args.scenario() {
            Ok(s) => {
                if args.idp_check
                    && let Err(e) = authchain::idp_check_options(&s)
                {
                    return usage(&e);
                }
                let base = match with_net(&base, &args.net, &args.cert, [&s]) {
                    Ok(b) => authchain::RunOptions {
                        idp_check: args.idp_check,
                        ..b
                    },
                    Err(code) => return code,
                };
                run_all(
                    vec![(None, s)],
                    Schedule::ONE,
                    &args.output,
                    &args.browser,
                    &base,
                    theme,
                )
                .await
            }
            Err(e) => usage(&e),
        },
        Command::Run(args) => {
            let mut scenarios = Vec::new();
            for f in &args.files {
                match scenario::load_file(f) {
                    Ok(s) => scenarios.push((Some(f.clone()), s)),
                    Err(e) => return scenario_error(e),
                }
            }
            for (_, s) in &mut scenarios {
                for check in &args.checks.checks {
                    if !s.checks.contains(check) {
                        s.checks.push(*check);
                    }
                }
            }
            if args.idp_check {
                for (path, s) in &scenarios {
                    if let Err(e) = authchain::idp_check_options(s) {
                        let file = path
                            .as_ref()
                            .map_or(String::new(), |p| format!("{}: ", p.display()));
                        return usage(&format!("{file}{e}"));
                    }
                }
            }
            let base = match with_net(
                &base,
                &args.net,
                &args.cert,
                scenarios.iter().map(|(_, s)| s),
            ) {
                Ok(b) => authchain::RunOptions {
                    idp_check: args.idp_check,
                    ..b
                },
                Err(code) => return code,
            };
            let schedule = Schedule {
                jobs: args.jobs as usize,
                retries: args.retries,
                retry_delay: args.retry_delay,
            };
            run_all(
                scenarios,
                schedule,
                &args.output,
                &args.browser,
                &base,
                theme,
            )
            .await
        }
        Command::Probe(args) => match args.scenario() {
            Ok((scenario, name, value)) => {
                let base = match with_net(&base, &args.net, &args.cert, [&scenario]) {
                    Ok(b) => b,
                    Err(code) => return code,
                };
                let outcome = authchain::probe_session(&scenario, (&name, &value), &base).await;
                emit(vec![(None, outcome)], &args.output, theme)
            }
            Err(e) => usage(&e),
        },
        Command::Diagnose(args) => {
            let doc = match read_document(&args.file) {
                Ok(d) => d,
                Err(e) => return usage(&e),
            };
            let traces = if authchain::har::is_har(&doc) {
                match har_trace(&args, doc, cli.reveal, &tap) {
                    Ok(t) => vec![t],
                    Err(e) => return usage(&e),
                }
            } else {
                match reports_of(&args.file, doc, cli.reveal) {
                    Ok(reports) => reports
                        .into_iter()
                        .map(|r| {
                            let mut redactor = Redactor::new(false);
                            redactor.set_tap(tap.clone());
                            (r.trace, redactor)
                        })
                        .collect(),
                    Err(e) => return usage(&e),
                }
            };
            let outcomes = traces
                .into_iter()
                .map(|(trace, mut redactor)| {
                    let report = Report::new(trace);
                    authchain::detail::of_report(&report, &mut redactor);
                    let outcome = authchain::Outcome {
                        report,
                        redactor,
                        artifacts: Vec::new(),
                    };
                    (None, outcome)
                })
                .collect();
            emit(outcomes, &args.output, theme)
        }
        Command::Demo(args) => {
            if args.list {
                for f in authchain::demo::Fault::ALL {
                    let (what, finding) = f.describe();
                    out(&Redactor::new(false)
                        .scrub(&format!("{:<18} {what} → {finding}\n", f.name())));
                }
                return exit::PASS;
            }
            let demo = match authchain::demo::start(args.fault).await {
                Ok(d) => d,
                Err(e) => {
                    err(&Redactor::new(false).scrub(&format!("error: {e}")));
                    return exit::NO_ANSWER;
                }
            };
            let scenario = demo.scenario(args.driver);
            let code = run_all(
                vec![(None, scenario)],
                Schedule::ONE,
                &args.output,
                &args.browser,
                &base,
                theme,
            )
            .await;
            drop(demo);
            code
        }
        Command::Jwt { command } => jwt(command, &tap).await,
        Command::IdpLogin(args) => idp_login(&args, &tap, theme).await,
        Command::Assertion(args) => assertion(&args, &tap, theme).await,
        Command::Oidc {
            command: cli::OidcCommand::Check(args),
        } => oidc_check(args, &tap, theme).await,
        Command::Init(args) => init(&args, &tap).await,
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut command, "authchain", &mut text);
            std::io::stdout()
                .write_all(&text)
                .map_or(exit::NO_ANSWER, |_| exit::PASS)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            match clap_mangen::Man::new(command).render(&mut text) {
                Ok(()) => std::io::stdout()
                    .write_all(&text)
                    .map_or(exit::NO_ANSWER, |_| exit::PASS),
                Err(e) => {
                    err(&Redactor::new(false)
                        .scrub(&format!("error: cannot render the manual: {e}")));
                    exit::NO_ANSWER
                }
            }
        }
        Command::Validate { files } => {
            let mut code = exit::PASS;
            for f in &files {
                match scenario::validate_file(f) {
                    Ok(s) => {
                        let line = format!("ok: {} ({})\n", f.display(), s.name);
                        out(&scenario::secrets_of(&s, false).scrub(&line));
                    }
                    Err(e) => code = scenario_error(e),
                }
            }
            code
        }
    }
}

async fn init(args: &cli::InitArgs, tap: &authchain::detail::Tap) -> i32 {
    let app = match args.app() {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        return usage(&format!(
            "--output {}: the file exists (--force overwrites it)",
            path.display()
        ));
    }
    let net = match args.net.net(None) {
        Ok(n) => n,
        Err(e) => return usage(&e),
    };
    let mut r = check_redactor(tap, &[]);
    authchain::add_net_secrets(&mut r, &net);
    let client = match authchain::drive::http::HttpClient::new(&app, args.timeout, &net) {
        Ok(c) => c,
        Err(e) => {
            err(&r.scrub(&format!("error: {e}")));
            return exit::NO_ANSWER;
        }
    };
    let found = authchain::init::detect(&app, args.preset, &client, &mut r).await;
    if found.evidence.is_empty() {
        err(&r.scrub(&format!(
            "error: init {app}: no endpoint answered (is the app up at this address?)"
        )));
        return exit::NO_ANSWER;
    }
    let text = r.scrub(&authchain::init::render(&app, &found));
    match &args.output {
        Some(path) => {
            if !write_file(path, &text) {
                return exit::NO_ANSWER;
            }
            let what = found
                .preset
                .map_or("no preset".to_string(), |p| format!("preset {}", p.name()));
            if std::io::stderr().is_terminal() {
                err(&r.scrub(&format!("wrote {} ({what})", path.display())));
            }
            exit::PASS
        }
        None => {
            out(&text);
            exit::PASS
        }
    }
}

/// The token of `jwt decode` and `jwt verify`: the argument, `--token-env`, or standard input.
fn read_token(args: &cli::TokenArgs) -> Result<String, String> {
    let token = if let Some(var) = &args.token_env {
        cli::env_flag("token-env", var)?
    } else {
        match args.token.as_deref() {
            Some(t) if t != "-" => t.to_string(),
            _ => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
                text
            }
        }
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(
            "no token: give it as an argument, on standard input, or with --token-env VAR".into(),
        );
    }
    Ok(token)
}

/// A redactor for a token command: the token, and each of its segments, are secrets that no
/// output shows.
fn token_redactor(token: &str, tap: &authchain::detail::Tap) -> Redactor {
    let whole = Secret::new(token);
    let signature = Secret::new(token.rsplit('.').next().unwrap_or(token));
    check_redactor(tap, &[&whole, &signature])
}

async fn jwt(command: cli::JwtCommand, tap: &authchain::detail::Tap) -> i32 {
    let now = (authchain::drive::http::now_ms() / 1000) as i64;
    let args = match &command {
        cli::JwtCommand::Decode(a) => a,
        cli::JwtCommand::Verify(v) => &v.token,
    };
    let token = match read_token(args) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    let mut r = token_redactor(&token, tap);
    let Some(decoded) = authchain::jwt::decode(&token) else {
        return usage(
            "not a JWT: expected three (a JWS) or five (a JWE) base64url segments, the first a JSON header with an `alg`",
        );
    };
    // Claims that tie the token to one login or session are shown as fingerprints.
    for claim in authchain::jwt::SESSION_CLAIMS {
        if let Some(v) = decoded
            .claims
            .as_ref()
            .and_then(|c| c.get(*claim))
            .and_then(|v| v.as_str())
        {
            r.sensitive(v);
        }
    }
    let v = match command {
        cli::JwtCommand::Decode(a) => {
            out(&r.scrub(&authchain::jwt::render_decode(&decoded, now, a.json)));
            return exit::PASS;
        }
        cli::JwtCommand::Verify(v) => v,
    };
    let keys = if let Some(var) = &v.secret_env {
        match cli::env_flag("secret-env", var) {
            Ok(secret) => {
                r.add_secret(&authchain::redact::Secret::new(&secret));
                authchain::jwt::Keys::Secret(secret.into_bytes())
            }
            Err(e) => return usage(&e),
        }
    } else {
        let source = v.jwks.clone().unwrap_or_default();
        match jwks(&source, v.timeout, &mut r).await {
            Ok(keys) => authchain::jwt::Keys::Jwks(keys),
            Err((code, message)) => {
                err(&r.scrub(&format!("error: {message}")));
                return code;
            }
        }
    };
    r.detail(1, || {
        format!(
            "header: {}",
            serde_json::to_string(&decoded.header).unwrap_or_default()
        )
    });
    let expect = authchain::jwt::Expect {
        iss: v.iss.clone(),
        aud: v.aud.clone(),
        nonce: v.nonce.clone(),
        algs: v.algs.clone(),
        leeway: v.leeway.as_secs() as i64,
        now,
    };
    if let Some(nonce) = &v.nonce {
        r.sensitive(nonce);
    }
    match authchain::jwt::verify(&token, &keys, &expect) {
        Ok(checks) => {
            let (text, code) = authchain::jwt::render_verify(&checks, v.token.json);
            out(&r.scrub(&text));
            code
        }
        Err(e) => usage(&e),
    }
}

/// The keys of `--jwks`: a URL fetched (exit 3 when it gives none), or a file read (exit 2).
async fn jwks(
    source: &str,
    timeout: std::time::Duration,
    r: &mut Redactor,
) -> Result<Vec<serde_json::Value>, (i32, String)> {
    let url = url::Url::parse(source)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let (doc, code) = match url {
        Some(url) => {
            let client =
                authchain::drive::http::HttpClient::new(&url, timeout, &Default::default())
                    .map_err(|e| (exit::NO_ANSWER, e))?;
            let (_, doc) = client
                .get_json(&url, Vec::new(), r)
                .await
                .map_err(|f| (exit::NO_ANSWER, format!("--jwks: {}", f.message)))?;
            (doc, exit::NO_ANSWER)
        }
        None => {
            let text = std::fs::read_to_string(source)
                .map_err(|e| (exit::USAGE, format!("--jwks {source}: cannot read it: {e}")))?;
            (serde_json::from_str(&text).ok(), exit::USAGE)
        }
    };
    let keys = doc.as_ref().and_then(authchain::jwt::keys_of).ok_or((
        code,
        format!("--jwks {source}: no JWKS (a JSON object with `keys`) and no JWK there"),
    ))?;
    r.detail(1, || {
        let lines: Vec<String> = keys.iter().map(authchain::jwt::key_line).collect();
        format!("JWKS {source}: {}", lines.join("; "))
    });
    Ok(keys)
}

async fn idp_login(
    args: &cli::IdpLoginArgs,
    tap: &authchain::detail::Tap,
    theme: &dyn terminal::Theme,
) -> i32 {
    let opts = match args.options() {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
    let secrets: Vec<&Secret> = std::iter::once(&opts.password)
        .chain(&opts.client_secret)
        .collect();
    let mut r = check_redactor(tap, &secrets);
    authchain::add_net_secrets(&mut r, &opts.net);
    let report = authchain::idp_login::run(&opts, &mut r).await;
    let text = insecure_marked(
        authchain::idp_login::render(&report, theme),
        &args.net.net,
        theme,
    );
    let what = format!("idp-login {}", args.issuer);
    finish_check(
        &what,
        args.net.report_json.as_deref(),
        &report,
        &report.result,
        &text,
        &r,
    )
}

async fn assertion(
    args: &cli::AssertionArgs,
    tap: &authchain::detail::Tap,
    theme: &dyn terminal::Theme,
) -> i32 {
    let opts = match args.options() {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
    let mut r = check_redactor(tap, &[&opts.password]);
    let client = match check_client(&opts.endpoint, &args.net, None, &mut r) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let report = authchain::assertion::run(&opts, &client, &mut r).await;
    let mut code = report.result.exit_code;
    if let Some(path) = &args.junit
        && !write_file(path, &r.scrub(&authchain::assertion::junit(&report)))
    {
        code = exit::combine([code, exit::NO_ANSWER]);
    }
    let text = insecure_marked(
        authchain::assertion::render(&report, theme),
        &args.net.net,
        theme,
    );
    let what = format!("assertion {}", args.endpoint);
    let written = finish_check(
        &what,
        args.net.report_json.as_deref(),
        &report,
        &report.result,
        &text,
        &r,
    );
    exit::combine([code, written])
}

async fn oidc_check(
    args: cli::OidcCheckArgs,
    tap: &authchain::detail::Tap,
    theme: &dyn terminal::Theme,
) -> i32 {
    let mut r = check_redactor(tap, &[]);
    let base = url::Url::parse(&args.issuer).expect("the issuer flag is checked as a URL");
    let client = match check_client(&base, &args.net, Some(&args.cert), &mut r) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let report =
        authchain::oidc::check(&args.issuer, args.client_id.as_deref(), &client, &mut r).await;
    let text = insecure_marked(
        authchain::oidc::render(&report, theme),
        &args.net.net,
        theme,
    );
    let what = format!("oidc check {}", args.issuer);
    finish_check(
        &what,
        args.net.report_json.as_deref(),
        &report,
        &report.result,
        &text,
        &r,
    )
}

fn usage(message: &str) -> i32 {
    err(&typed_secrets().scrub(&format!("error: {message}")));
    exit::USAGE
}

/// A redactor that knows the secrets typed on the command line, which a usage error may echo:
/// the values of `-H`/`--header` (often a credential) and the user and password of `--proxy`.
fn typed_secrets() -> Redactor {
    let mut r = Redactor::new(false);
    let args: Vec<String> = std::env::args().collect();
    let value_of = |i: usize, flags: &[&str]| -> Option<String> {
        let a = &args[i];
        flags.iter().find_map(|f| {
            if a == f {
                args.get(i + 1).cloned()
            } else if let Some(v) = a.strip_prefix(&format!("{f}=")) {
                Some(v.to_string())
            } else if f.len() == 2 {
                // A short flag with its value attached: `-HX-Key: v`.
                a.strip_prefix(f)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            } else {
                None
            }
        })
    };
    for i in 1..args.len() {
        if let Some(h) = value_of(i, &["-H", "--header"]) {
            r.learn_credential(&h);
            if let Some((_, v)) = h.split_once(':') {
                r.learn_credential(v.trim());
            }
        }
        if let Some(p) = value_of(i, &["--proxy"]) {
            let after_scheme = p.split_once("://").map_or(p.as_str(), |(_, rest)| rest);
            if let Some((userinfo, _)) = after_scheme.rsplit_once('@') {
                r.add_secret(&Secret::new(userinfo));
                if let Some((_, password)) = userinfo.split_once(':') {
                    r.add_secret(&Secret::new(password));
                    r.add_secret(&Secret::new(authchain::redact::percent_decode(password)));
                }
            }
        }
    }
    r
}

fn scenario_error(e: scenario::LoadError) -> i32 {
    match e {
        scenario::LoadError::Read { .. } => {
            err(&Redactor::new(false).scrub(&format!("error: {e}")));
        }
        scenario::LoadError::Invalid(diag) => err(&scenario::render_error(&diag)),
    }
    exit::USAGE
}

/// `base` with the network settings of the flags, or the exit code of a usage error: a file
/// that cannot be read, or a setting the browser driver cannot take on a browser scenario.
fn with_net<'s>(
    base: &authchain::RunOptions,
    net: &cli::NetArgs,
    cert: &cli::ClientCertArgs,
    scenarios: impl IntoIterator<Item = &'s Scenario>,
) -> Result<authchain::RunOptions, i32> {
    let net = net.net(Some(cert)).map_err(|e| usage(&e))?;
    if let Some(flag) = authchain::drive::browser::unsupported(&net)
        && scenarios
            .into_iter()
            .any(|s| s.chain.driver == scenario::Driver::Browser)
    {
        return Err(usage(&format!(
            "the browser driver cannot take {flag}; use the http driver"
        )));
    }
    Ok(authchain::RunOptions {
        net,
        ..base.clone()
    })
}

/// How a command runs its scenarios: how many at once, and how often a run that gave no
/// usable answer is tried again.
#[derive(Clone, Copy)]
struct Schedule {
    jobs: usize,
    retries: u32,
    retry_delay: std::time::Duration,
}

impl Schedule {
    const ONE: Schedule = Schedule {
        jobs: 1,
        retries: 0,
        retry_delay: std::time::Duration::ZERO,
    };
}

/// Runs the scenarios, `jobs` at once, and reports each as it finishes (in their order).
async fn run_all(
    scenarios: Vec<(Option<PathBuf>, Scenario)>,
    schedule: Schedule,
    output: &OutputArgs,
    browser: &cli::BrowserArgs,
    base: &authchain::RunOptions,
    theme: &dyn terminal::Theme,
) -> i32 {
    let mut emitter = emit::Emitter::new(output, theme, scenarios.len()).marking(&base.progress);
    // One Chromium for the run's browser scenarios, a fresh context each; it goes when this
    // returns or is dropped (an interruption).
    let pool = std::sync::Arc::new(authchain::drive::browser::cdp::Pool::default());
    let mut runs = futures_util::stream::iter(scenarios)
        .map(|(path, s)| {
            let mut opts = browser.options(base, output.out.is_some());
            opts.browser.pool = Some(pool.clone());
            opts.path = path.clone();
            async move {
                let outcome = run_retrying(&s, &opts, schedule).await;
                (path, outcome)
            }
        })
        .buffered(schedule.jobs.max(1));
    while let Some((path, outcome)) = runs.next().await {
        emitter.take(path, outcome, false);
    }
    emitter.finish()
}

/// One scenario, tried again after a backoff (doubling, at most 30 s) while it gives no usable
/// answer (exit 3) and retries are left; the attempts before the last are recorded in its
/// trace. A wrong answer (exit 1) is an answer, and never retried.
async fn run_retrying(
    s: &Scenario,
    opts: &authchain::RunOptions,
    schedule: Schedule,
) -> authchain::Outcome {
    const MAX_RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(30);
    let mut retries = Vec::new();
    let mut delay = schedule.retry_delay.min(MAX_RETRY_DELAY);
    let mut attempt = 1;
    loop {
        let mut outcome = authchain::run(s, opts).await;
        if outcome.report.exit_code != exit::NO_ANSWER || attempt > schedule.retries {
            outcome.report.trace.retries = retries;
            return outcome;
        }
        let error = outcome
            .report
            .trace
            .error
            .as_ref()
            .map(|e| outcome.redactor.scrub(&e.describe()).into_string());
        retries.push(authchain::trace::Retry {
            attempt,
            exit_code: outcome.report.exit_code,
            error,
            delay_ms: delay.as_millis() as u64,
        });
        opts.progress.retrying(opts.path.as_deref(), &s.name);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RETRY_DELAY);
        attempt += 1;
    }
}

/// The JSON document `diagnose` reads: a report or a HAR.
fn read_document(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a JSON report or HAR: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// A HAR's login as a trace, with the redactor that learnt its secrets.
fn har_trace(
    args: &cli::DiagnoseArgs,
    doc: serde_json::Value,
    reveal: bool,
    tap: &authchain::detail::Tap,
) -> Result<(authchain::trace::Trace, Redactor), String> {
    let har: authchain::har::Har = serde_json::from_value(doc)
        .map_err(|e| format!("{}: not a HAR 1.2 file: {e}", args.file.display()))?;
    let scenario = args.har_scenario(&har)?;
    let mut redactor = Redactor::new(reveal);
    redactor.set_tap(tap.clone());
    let trace = authchain::har::trace(&har, &scenario, &mut redactor);
    Ok((trace, redactor))
}

/// The runs of a saved JSON report: one run, or `{runs: […]}`. Values a report kept under
/// `--reveal` are dropped unless this run reveals too.
fn reports_of(path: &Path, value: serde_json::Value, reveal: bool) -> Result<Vec<Report>, String> {
    let mut value = value;
    if !reveal {
        forget_values(&mut value);
    }
    let runs = match value.get("runs") {
        Some(runs) => runs.as_array().cloned().unwrap_or_default(),
        None => vec![value],
    };
    if runs.is_empty() {
        return Err(format!("{}: the report holds no run", path.display()));
    }
    runs.into_iter()
        .enumerate()
        .map(|(i, run)| {
            serde_json::from_value::<Report>(run).map_err(|e| {
                format!(
                    "{}: run {} is not an authchain report: {e}",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}

/// Removes the revealed `value` of every secret value object (those with a `fingerprint`).
fn forget_values(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if m.contains_key("fingerprint") {
                m.remove("value");
            }
            m.values_mut().for_each(forget_values);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(forget_values),
        _ => {}
    }
}

/// A JSON text (made by a report format) with its strings scrubbed.
fn scrub_json(r: &Redactor, json: &str) -> Scrubbed {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    r.scrub_json_text(&value)
}

/// A report with every string scrubbed: what every report format is made from, so that no
/// format's own escaping can hide a secret.
fn scrubbed_report(o: &authchain::Outcome) -> Result<Report, String> {
    let value = serde_json::to_value(&o.report).map_err(|e| e.to_string())?;
    serde_json::from_value(o.redactor.scrub_json(&value))
        .map_err(|e| format!("the scrubbed report does not read back: {e}"))
}

/// Writes the reports of finished runs and gives the exit code.
fn emit(
    outcomes: Vec<(Option<PathBuf>, authchain::Outcome)>,
    output: &OutputArgs,
    theme: &dyn terminal::Theme,
) -> i32 {
    let mut emitter = emit::Emitter::new(output, theme, outcomes.len());
    for (path, o) in outcomes {
        emitter.take(path, o, false);
    }
    emitter.finish()
}

/// The width reports on stdout are fitted to.
fn width() -> usize {
    width_on(libc::STDOUT_FILENO)
}

/// The width a report written to `fd` (stdout or stderr) is fitted to: `COLUMNS` when set, else
/// the terminal's when `fd` is one, else 100.
fn width_on(fd: libc::c_int) -> usize {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return n;
    }
    // SAFETY: TIOCGWINSZ fills the winsize it is given, and nothing else; on a descriptor that is
    // no terminal it fails and the default stands.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 0 {
        return size.ws_col as usize;
    }
    report::wrap::DEFAULT_WIDTH
}

/// The one way text reaches stdout.
fn out(text: &Scrubbed) {
    spinner::aside(|| {
        // A closed pipe (`| head`) is no panic: what could not be written is lost.
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, "{text}").and_then(|()| stdout.flush());
    });
}

/// The one way text reaches stderr (a line).
fn err(text: &Scrubbed) {
    spinner::aside(|| eprintln!("{text}"));
}

/// The progress line on stderr: the current hop or step of each run under way.
mod spinner {
    use std::sync::OnceLock;
    use std::time::Duration;

    static BAR: OnceLock<indicatif::ProgressBar> = OnceLock::new();

    /// Shows what the runs are doing until the command ends; nothing when not `watched`.
    pub async fn run(progress: &authchain::progress::Progress, watched: bool) {
        if !watched {
            return std::future::pending().await;
        }
        let bar = BAR.get_or_init(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {wide_msg}") {
                bar.set_style(style);
            }
            bar
        });
        loop {
            let now = progress.now();
            // The progress of runs, as the report shows them: secrets replaced.
            let text = authchain::redact::Redactor::new(false).scrub(&now.join(" · "));
            bar.set_message(text.into_string());
            bar.tick();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clears the progress line for good.
    pub fn stop() {
        if let Some(bar) = BAR.get() {
            bar.finish_and_clear();
        }
    }

    /// Writes with the progress line out of the way.
    pub fn aside(write: impl FnOnce()) {
        match BAR.get() {
            Some(bar) if !bar.is_finished() => bar.suspend(write),
            _ => write(),
        }
    }
}

/// The HTTP client of a check command, with its network flags; a client that cannot be built is
/// said on stderr, and the exit code given back.
fn check_client(
    base: &url::Url,
    net: &cli::CheckNet,
    cert: Option<&cli::ClientCertArgs>,
    r: &mut Redactor,
) -> Result<authchain::drive::http::HttpClient, i32> {
    let settings = net.net.net(cert).map_err(|e| usage(&e))?;
    authchain::add_net_secrets(r, &settings);
    authchain::drive::http::HttpClient::new(base, net.timeout, &settings).map_err(|e| {
        err(&r.scrub(&format!("error: {e}")));
        exit::NO_ANSWER
    })
}

/// The redactor of a check command: its details to the tap, its secrets never shown.
fn check_redactor(tap: &authchain::detail::Tap, secrets: &[&Secret]) -> Redactor {
    let mut r = Redactor::new(false);
    r.set_tap(tap.clone());
    for s in secrets {
        r.add_secret(s);
    }
    r
}

/// The end of a check command: its JSON report where asked, its stop on stderr, its text on
/// stdout, all scrubbed; its exit code.
/// A check's human report, said under its header to have verified no certificate when
/// `--insecure` was given.
fn insecure_marked(text: String, net: &cli::NetArgs, theme: &dyn terminal::Theme) -> String {
    match net.insecure {
        true => report::terminal::with_insecure_line(&text, theme),
        false => text,
    }
}

fn finish_check(
    what: &str,
    path: Option<&Path>,
    report: &impl serde::Serialize,
    result: &authchain::trace::CheckResult,
    text: &str,
    r: &Redactor,
) -> i32 {
    let code = write_report(path, report, result.exit_code, r);
    if let Some(e) = &result.error {
        err(&r.scrub(&format!("error: {what}: {}", e.message)));
    }
    out(&fitted(r, text));
    code
}

/// A human report scrubbed, fitted to the width, and scrubbed again: fitting never cuts a
/// fingerprint, and the last pass sees every line as it is printed.
fn fitted(r: &Redactor, text: &str) -> Scrubbed {
    fitted_to(r, text, width())
}

/// [`fitted`] to `width` columns.
fn fitted_to(r: &Redactor, text: &str, width: usize) -> Scrubbed {
    r.scrub(&report::wrap::fit(r.scrub(text).as_str(), width))
}

/// Writes a command's JSON report where asked, scrubbed; a report that cannot be written makes
/// the exit code at least 3.
fn write_report(
    path: Option<&Path>,
    report: &impl serde::Serialize,
    code: i32,
    r: &Redactor,
) -> i32 {
    let Some(path) = path else { return code };
    let json = serde_json::to_string_pretty(report).unwrap_or_default();
    if write_file(path, &scrub_json(r, &json)) {
        code
    } else {
        exit::combine([code, exit::NO_ANSWER])
    }
}

/// The one way a report or artifact reaches a file.
fn write_file(path: &Path, text: &Scrubbed) -> bool {
    write_bytes(path, text.as_str().as_bytes())
}

fn write_bytes(path: &Path, bytes: &[u8]) -> bool {
    match std::fs::write(path, bytes) {
        Ok(()) => true,
        Err(e) => {
            err(&Redactor::new(false)
                .scrub(&format!("error: cannot write {}: {e}", path.display())));
            false
        }
    }
}
