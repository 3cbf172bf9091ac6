//! The binary: parse the command line, call the library, write the reports, and map the outcome
//! to an exit code (see `authchain::exit`).

mod cli;

use authchain::drive::browser::Artifact;
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
            err(&Redactor::new(false).scrub(e.render().to_string().trim_end()));
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
    // What the report of an interrupted run is scrubbed with: the run's own options.
    let interrupted_opts = {
        let base = authchain::RunOptions {
            reveal: cli.reveal,
            ..authchain::RunOptions::default()
        };
        match cli.command.browser() {
            Some(b) => b.options(&base, false),
            None => base,
        }
    };
    let code = runtime.block_on(async {
        let stopped = tokio::select! {
            code = dispatch(cli, theme, &progress) => return code,
            _ = tokio::signal::ctrl_c() => "interrupted",
            _ = terminated() => "terminated",
        };
        // The runs' futures are dropped (their browsers shut down): what they had recorded is
        // reported, and the exit is 130 whatever it says.
        err(&Redactor::new(false).scrub(stopped));
        let outcomes = authchain::interrupted(&progress, &interrupted_opts);
        if let Some(output) = &output
            && !outcomes.is_empty()
        {
            emit(outcomes, output, theme);
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
                let base = authchain::RunOptions {
                    idp_check: args.idp_check,
                    ..base.clone()
                };
                run_all(
                    vec![(None, s)],
                    1,
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
            let base = authchain::RunOptions {
                idp_check: args.idp_check,
                ..base.clone()
            };
            run_all(
                scenarios,
                args.jobs as usize,
                &args.output,
                &args.browser,
                &base,
                theme,
            )
            .await
        }
        Command::Probe(args) => match args.scenario() {
            Ok((scenario, name, value)) => {
                let outcome = authchain::probe_session(&scenario, (&name, &value), &base).await;
                emit(vec![(None, outcome)], &args.output, theme)
            }
            Err(e) => usage(&e),
        },
        Command::Diagnose { file } => match load_reports(&file, cli.reveal) {
            Ok(reports) => {
                let outcomes = reports
                    .into_iter()
                    .map(|r| {
                        let mut redactor = Redactor::new(false);
                        redactor.set_tap(tap.clone());
                        let report = Report::new(r.trace);
                        authchain::detail::of_report(&report, &mut redactor);
                        let outcome = authchain::Outcome {
                            report,
                            redactor,
                            artifacts: Vec::new(),
                        };
                        (None, outcome)
                    })
                    .collect();
                let none = OutputArgs {
                    report_json: None,
                    har: None,
                    junit: None,
                    out: None,
                };
                emit(outcomes, &none, theme)
            }
            Err(e) => usage(&e),
        },
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
                1,
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
            let client = authchain::drive::http::HttpClient::new(&url, timeout, &[])
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
    let report = authchain::idp_login::run(&opts, &mut r).await;
    let text = authchain::idp_login::render(&report, theme);
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
    let client = match check_client(&opts.endpoint, &args.net, &r) {
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
    let text = authchain::assertion::render(&report, theme);
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
    let client = match check_client(&base, &args.net, &r) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let report =
        authchain::oidc::check(&args.issuer, args.client_id.as_deref(), &client, &mut r).await;
    let text = authchain::oidc::render(&report, theme);
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
    err(&Redactor::new(false).scrub(&format!("error: {message}")));
    exit::USAGE
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

async fn run_all(
    scenarios: Vec<(Option<PathBuf>, Scenario)>,
    jobs: usize,
    output: &OutputArgs,
    browser: &cli::BrowserArgs,
    base: &authchain::RunOptions,
    theme: &dyn terminal::Theme,
) -> i32 {
    let outcomes: Vec<(Option<PathBuf>, authchain::Outcome)> =
        futures_util::stream::iter(scenarios)
            .map(|(path, s)| {
                let mut opts = browser.options(base, output.out.is_some());
                opts.path = path.clone();
                async move {
                    let outcome = authchain::run(&s, &opts).await;
                    (path, outcome)
                }
            })
            .buffered(jobs.max(1))
            .collect()
            .await;
    emit(outcomes, output, theme)
}

/// A saved JSON report: one run, or `{runs: […]}`. Values a report kept under `--reveal` are
/// dropped unless this run reveals too.
fn load_reports(path: &Path, reveal: bool) -> Result<Vec<Report>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a JSON report: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
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

/// Why the `--out` dir cannot take the run's files, if it cannot: it cannot be made, or a file
/// cannot be written in it (a read-only or full file system).
fn unwritable(dir: &Path) -> Option<String> {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return Some(format!("cannot create --out {}: {e}", dir.display()));
    }
    let check = dir.join(format!(".authchain-write-check-{}", std::process::id()));
    let written = std::fs::write(&check, b"check");
    let _ = std::fs::remove_file(&check);
    written
        .err()
        .map(|e| format!("cannot write in --out {}: {e}", dir.display()))
}

/// Where a run's artifacts go: the `--out` dir, one dir per scenario file when there are several.
fn artifact_dir(out: &Path, path: Option<&PathBuf>, many: bool) -> PathBuf {
    match (path, many) {
        (Some(p), true) => out.join(p.file_stem().unwrap_or_default()),
        _ => out.to_path_buf(),
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

/// Writes the reports of finished runs (stdout, JSON, artifacts) and gives the exit code.
fn emit(
    mut outcomes: Vec<(Option<PathBuf>, authchain::Outcome)>,
    output: &OutputArgs,
    theme: &dyn terminal::Theme,
) -> i32 {
    let many = outcomes.len() > 1;
    // An `--out` that cannot be written to: every report that can still be written says so.
    if let Some(why) = output.out.as_deref().and_then(unwritable) {
        for (_, o) in &mut outcomes {
            let report = &mut o.report;
            if report.trace.error.is_none() {
                report.trace.error = Some(authchain::trace::RunError {
                    step: authchain::trace::ErrorStep::Setup,
                    hop: None,
                    message: why.clone(),
                    kind: Some(authchain::trace::RunErrorKind::Output),
                });
            }
            report.verdict = exit::Verdict::Error;
            report.exit_code = exit::NO_ANSWER;
        }
    }
    let code = exit::combine(outcomes.iter().map(|(_, o)| o.report.exit_code));
    let mut write_failed = false;
    // The browser's artifacts first, so the reports name them.
    if let Some(out) = &output.out {
        for (path, o) in &mut outcomes {
            if o.artifacts.is_empty() {
                continue;
            }
            let dir = artifact_dir(out, path.as_ref(), many);
            if let Err(e) = std::fs::create_dir_all(&dir) {
                err(&Redactor::new(false)
                    .scrub(&format!("error: cannot create {}: {e}", dir.display())));
                write_failed = true;
                continue;
            }
            for artifact in std::mem::take(&mut o.artifacts) {
                let (name, written) = match artifact {
                    Artifact::Image { name, png } => (name, write_bytes(&dir.join(name), &png)),
                    Artifact::Text { name, text } => {
                        (name, write_file(&dir.join(name), &o.redactor.scrub(&text)))
                    }
                };
                if written {
                    o.report
                        .trace
                        .artifacts
                        .push(dir.join(name).display().to_string());
                }
            }
        }
    }
    let redactors: Vec<&Redactor> = outcomes.iter().map(|(_, o)| &o.redactor).collect();
    let all = Redactor::merged(&redactors);
    let reports: Vec<Report> = match outcomes.iter().map(|(_, o)| scrubbed_report(o)).collect() {
        Ok(r) => r,
        Err(e) => {
            err(&all.scrub(&format!("error: {e}")));
            out(&all.scrub(&terminal::result_line("error", exit::NO_ANSWER, theme)));
            return exit::NO_ANSWER;
        }
    };
    let mut stdout = String::new();
    for report in &reports {
        stdout.push_str(&terminal::body(report, theme));
        if many {
            stdout.push_str(&format!(
                "run result: {} (exit {})\n\n",
                report.verdict.word(),
                report.exit_code
            ));
        }
    }
    if many {
        let passed = reports.iter().filter(|r| r.exit_code == exit::PASS).count();
        stdout.push_str(&format!("{passed} of {} scenarios passed\n", reports.len()));
    }
    if let Some(path) = &output.report_json {
        let json = if many {
            report::json::many(&reports, code)
        } else {
            report::json::one(&reports[0])
        };
        write_failed |= !write_file(path, &scrub_json(&all, &json));
    }
    if let Some(path) = &output.har {
        let har = report::har::render(&reports);
        write_failed |= !write_file(path, &scrub_json(&all, &har));
    }
    if let Some(path) = &output.junit {
        let junit = report::junit::render(&reports);
        write_failed |= !write_file(path, &all.scrub(&junit));
    }
    if let Some(dir) = &output.out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            err(&Redactor::new(false)
                .scrub(&format!("error: cannot create {}: {e}", dir.display())));
            write_failed = true;
        } else {
            for (i, ((path, o), report)) in outcomes.iter().zip(&reports).enumerate() {
                let stem = path
                    .as_ref()
                    .and_then(|p| p.file_stem())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| {
                        if many {
                            format!("run-{}", i + 1)
                        } else {
                            "report".into()
                        }
                    });
                let file = dir.join(format!("{stem}.json"));
                write_failed |=
                    !write_file(&file, &scrub_json(&o.redactor, &report::json::one(report)));
            }
        }
    }
    for ((_, o), report) in outcomes.iter().zip(&reports) {
        if let Some(e) = &report.trace.error {
            let at = e.hop.map(|h| format!(" at {h}")).unwrap_or_default();
            err(&o.redactor.scrub(&format!(
                "error: {}: step {}{at}: {}",
                report.trace.scenario, e.step, e.message
            )));
        }
    }
    // A report that could not be written is no usable answer either; the last line says so.
    let code = if write_failed {
        exit::combine([code, exit::NO_ANSWER])
    } else {
        code
    };
    stdout.push_str(&terminal::result_line(exit::word(code), code, theme));
    out(&all.scrub(&stdout));
    code
}

/// The one way text reaches stdout.
fn out(text: &Scrubbed) {
    print!("{text}");
}

/// The one way text reaches stderr (a line).
fn err(text: &Scrubbed) {
    eprintln!("{text}");
}

/// The HTTP client of a check command, with its network flags; a client that cannot be built is
/// said on stderr, and the exit code given back.
fn check_client(
    base: &url::Url,
    net: &cli::CheckNet,
    r: &Redactor,
) -> Result<authchain::drive::http::HttpClient, i32> {
    authchain::drive::http::HttpClient::new(base, net.timeout, &net.resolve).map_err(|e| {
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
    out(&r.scrub(text));
    code
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
