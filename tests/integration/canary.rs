//! The canary: a value of each secret kind (password, client secret, cookie, token, code, state)
//! is planted where a careless chain puts it (echoed in bodies, in URLs inside JSON, HTML-escaped
//! in an error page, in a scenario file with a syntax error), and must appear in none of
//! authchain's outputs, in any encoding, whatever the command and however it ends.

use crate::harness::{Misbehaving, authchain, response};
use base64::Engine;
use std::path::Path;

const PASSWORD: &str = "Pw<&\"Canary'>7%+/=";
const CLIENT_SECRET: &str = "Canary-Client-Secret/77+";
const COOKIE: &str = "CanaryCookieTok0123456789abcdefQRS.Zm9vYmFyCanarySig0123456789ab%2B%2F%3D";
const CODE: &str = "CanaryCode-0123456789-abcdefghijklmnopqrstuv";
const STATE: &str = "CanaryState_9876543210_zyxwvutsrqponmlkjihg";
/// A JWT whose payload carries the state: a known value inside a token must not cut it.
const JWT: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsIm5vbmNlIjoiQ2FuYXJ5U3RhdGVfOTg3NjU0MzIxMF96eXh3dnV0c3JxcG9ubWxramloZyJ9.Q2FuYXJ5U2lnbmF0dXJlMDEyMzQ1Njc4OQ";

fn encodings(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let mut forms = vec![
        secret.to_string(),
        authchain::redact::percent_encode(secret),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        serde_json::to_string(secret)
            .unwrap()
            .trim_matches('"')
            .to_string(),
        authchain::redact::html_escape(secret),
        b64.trim_end_matches('=').to_string(),
        b64,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    ];
    let decoded = authchain::redact::percent_decode(secret);
    if decoded != secret {
        forms.extend(encodings(&decoded));
    }
    forms
}

/// Every text a run left behind: stdout, stderr and every file in `dir`.
fn everything(out: &crate::harness::Output, dir: &Path) -> Vec<(String, String)> {
    let mut texts = vec![
        ("stdout".to_string(), out.stdout.clone()),
        ("stderr".to_string(), out.stderr.clone()),
    ];
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                texts.push((
                    path.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    texts
}

fn assert_no_canary(what: &str, texts: &[(String, String)]) {
    for secret in [PASSWORD, CLIENT_SECRET, COOKIE, CODE, STATE, JWT] {
        for form in encodings(secret) {
            for (name, text) in texts {
                assert!(
                    !text.contains(&form),
                    "{what}: `{form}` (a form of {secret}) leaked into {name}:\n{text}"
                );
            }
        }
    }
}

/// A chain that echoes its secrets everywhere: the app on 127.0.0.1, the IdP on localhost.
fn canary_chain(method: &str, path: &str, port: u16) -> Option<Vec<u8>> {
    let app = format!("http://127.0.0.1:{port}");
    let idp = format!("http://localhost:{port}");
    let escaped = authchain::redact::html_escape(PASSWORD);
    let b64 = base64::engine::general_purpose::STANDARD.encode(PASSWORD);
    let session = serde_json::json!({
        "session": {"token": COOKIE.split('.').next(), "idToken": JWT, "expiresAt": "2099-01-01T00:00:00Z"},
        "user": {"email": "alice@example.com", "name": "Alice"},
        "signOut": format!("{idp}/end?id_token_hint={JWT}&state={STATE}"),
    });
    let route = path.split('?').next().unwrap_or(path);
    // Under `/refuse` the IdP refuses the password.
    let (refuse, route) = match route.strip_prefix("/refuse") {
        Some(rest) => (true, rest),
        None => (false, route),
    };
    let under = if refuse { "/refuse" } else { "" };
    Some(match (method, route) {
        ("POST", "/api/auth/sign-in/social") => {
            let next = format!("{idp}{under}/authorize?client_id=c&state={STATE}");
            response(
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("location", &next),
                    (
                        "set-cookie",
                        &format!("better-auth.state={STATE}; Path=/; HttpOnly; SameSite=Lax"),
                    ),
                ],
                &serde_json::json!({"url": next, "redirect": true}).to_string(),
            )
        }
        ("GET", "/authorize") => response(
            "200 OK",
            &[("content-type", "text/html")],
            &format!(
                "<form method=post action={under}/login><input type=hidden name=client_secret value=\"{CLIENT_SECRET}\">\
                 <input name=username><input type=password name=password><button>Sign in</button></form>"
            ),
        ),
        // The wrong-password IdP: the form again, the password echoed, with a 401.
        ("POST", "/login") if refuse => response(
            "401 Unauthorized",
            &[("content-type", "text/html")],
            &format!(
                "<p class=error>Wrong password {escaped} ({b64}) for client {CLIENT_SECRET}</p>\
                 <form method=post action=/refuse/login><input name=username>\
                 <input type=password name=password value=\"{escaped}\"><button>Sign in</button></form>"
            ),
        ),
        ("POST", "/login") => response(
            "302 Found",
            &[(
                "location",
                &format!("{app}/api/auth/callback/canary?code={CODE}&state={STATE}"),
            )],
            "",
        ),
        ("GET", "/api/auth/callback/canary") => response(
            "302 Found",
            &[
                ("location", &format!("{app}/")),
                ("set-cookie", "better-auth.state=; Max-Age=0; Path=/"),
                (
                    "set-cookie",
                    &format!("better-auth.session_token={COOKIE}; Path=/; HttpOnly; SameSite=Lax"),
                ),
                ("set-cookie", &format!("broken{COOKIE}")),
            ],
            "",
        ),
        ("GET", "/") => response(
            "200 OK",
            &[("content-type", "text/html")],
            &format!("<a href=\"{idp}/end?id_token_hint={JWT}\">out</a>"),
        ),
        ("GET", "/api/auth/get-session") => response(
            "200 OK",
            &[("content-type", "application/json")],
            &session.to_string(),
        ),
        // A guard that echoes what it was given, as careless guards do.
        ("GET", "/guarded") => response(
            "401 Unauthorized",
            &[("content-type", "application/json")],
            &serde_json::json!({
                "error": "invalid_token",
                "seen": COOKIE,
                "bearer": JWT,
                "hint": format!("{idp}/end?id_token_hint={JWT}"),
                "state": STATE,
                "code": CODE,
            })
            .to_string(),
        ),
        _ => response("404 Not Found", &[], "not found"),
    })
}

fn outputs(dir: &Path) -> Vec<String> {
    let p = |f: &str| dir.join(f).display().to_string();
    vec![
        "--report-json".into(),
        p("report.json"),
        "--junit".into(),
        p("junit.xml"),
        "--har".into(),
        p("chain.har"),
        "--out".into(),
        p("out"),
    ]
}

fn login(port: u16, refuse: bool, dir: &Path, reveal: bool) -> crate::harness::Output {
    login_with(port, refuse, dir, reveal, &[])
}

fn login_with(
    port: u16,
    refuse: bool,
    dir: &Path,
    reveal: bool,
    extra: &[&str],
) -> crate::harness::Output {
    let app = format!("http://127.0.0.1:{port}");
    let guarded = format!("{app}/guarded");
    let base = format!("{app}{}/api/auth", if refuse { "/refuse" } else { "" });
    let mut args: Vec<String> = [
        "login",
        "--app",
        &app,
        "--auth-base",
        &base,
        "--provider",
        "canary",
        "--user",
        "alice",
        "--password-env",
        "CANARY_PASSWORD",
        "--probe",
        &guarded,
        "--timeout",
        "5s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(outputs(dir));
    if reveal {
        args.push("--reveal".into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    authchain(&args, &[("CANARY_PASSWORD", PASSWORD)])
}

#[test]
fn no_canary_leaks_from_a_chain_that_echoes_its_secrets() {
    let chain = Misbehaving::start(canary_chain);
    let dir = tempfile::tempdir().unwrap();
    let out = login(chain.port, false, dir.path(), false);
    assert_eq!(out.code, 1, "the guard refuses: {}", out.all());
    assert!(out.stdout.contains("‹sha256:"), "{}", out.stdout);
    assert_no_canary("login", &everything(&out, dir.path()));

    // The saved report, diagnosed again.
    let again = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json").display().to_string();
    let out = authchain(&["diagnose", &report], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_no_canary("diagnose", &everything(&out, again.path()));

    // The session cookie given to `probe`.
    let probe_dir = tempfile::tempdir().unwrap();
    let app = format!("http://127.0.0.1:{}", chain.port);
    let mut args: Vec<String> = [
        "probe",
        "--cookie-env",
        "CANARY_COOKIE",
        "--native",
        &format!("{app}/api/auth/get-session"),
        "--probe",
        &format!("{app}/guarded"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(outputs(probe_dir.path()));
    let cookie = format!("better-auth.session_token={COOKIE}");
    let out = authchain(&args, &[("CANARY_COOKIE", &cookie)]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_no_canary("probe", &everything(&out, probe_dir.path()));
}

#[test]
fn no_password_leaks_when_the_idp_refuses_it() {
    let chain = Misbehaving::start(canary_chain);
    let dir = tempfile::tempdir().unwrap();
    let out = login(chain.port, true, dir.path(), false);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("idp-login-rejected"), "{}", out.stdout);
    assert_no_canary("refused login", &everything(&out, dir.path()));
    // Not even --reveal shows a password.
    let dir = tempfile::tempdir().unwrap();
    let out = login(chain.port, true, dir.path(), true);
    let texts = everything(&out, dir.path());
    for form in encodings(PASSWORD) {
        for (name, text) in &texts {
            assert!(
                !text.contains(&form),
                "--reveal: `{form}` leaked into {name}"
            );
        }
    }
}

#[test]
fn no_canary_leaks_from_scenario_files() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Misbehaving::start(canary_chain);
    let app = format!("http://127.0.0.1:{}", chain.port);
    let cases = [
        // A syntax error on the line after the password and the client secret.
        format!(
            "[vars]\nclient_secret = \"{CLIENT_SECRET}\"\nkey = \"${{client_secret}}\"\n[chain]\napp = \"{app}\"\npreset = \"better-auth\"\nprovider = \"canary\"\n[idp]\nusername = \"alice\"\npassword = \"{}\"\nconsent = \n",
            PASSWORD.replace('\\', "\\\\").replace('"', "\\\"")
        ),
        // Secrets from the environment in places that echo bad values.
        format!(
            "[chain]\napp = \"{app}\"\npreset = \"${{secret:CANARY_STATE}}\"\nprovider = \"canary\"\n"
        ),
        format!(
            "[chain]\napp = \"{app}\"\npreset = \"better-auth\"\nprovider = \"canary\"\ntimeout = \"${{secret:CANARY_CODE}}\"\n"
        ),
        format!(
            "[chain]\napp = \"{app}\"\npreset = \"better-auth\"\nprovider = \"canary\"\nresolve = [\"${{secret:CANARY_CODE}}\"]\n"
        ),
        // A scenario that runs, with its password written in the file.
        format!(
            "[chain]\napp = \"{app}\"\npreset = \"better-auth\"\nprovider = \"canary\"\ntimeout = \"5s\"\n[idp]\nusername = \"alice\"\npassword = \"${{secret:CANARY_PASSWORD}}\"\n[[probe]]\nname = \"guarded\"\nrequest = \"GET {app}/guarded\"\n"
        ),
    ];
    let env = [
        ("CANARY_STATE", STATE),
        ("CANARY_CODE", CODE),
        ("CANARY_PASSWORD", PASSWORD),
    ];
    for (i, text) in cases.iter().enumerate() {
        let file = dir.path().join(format!("s{i}.toml"));
        std::fs::write(&file, text).unwrap();
        let file = file.display().to_string();
        for command in ["run", "validate"] {
            let out_dir = tempfile::tempdir().unwrap();
            let mut args = vec![command.to_string(), file.clone()];
            if command == "run" {
                args.extend(outputs(out_dir.path()));
            }
            let out = authchain(&args, &env);
            let runs = i == cases.len() - 1;
            if !runs {
                assert_eq!(out.code, 2, "{command} {i}: {}", out.all());
            } else if command == "run" {
                assert_eq!(out.code, 1, "{command} {i}: {}", out.all());
            }
            assert_no_canary(
                &format!("{command} s{i}.toml"),
                &everything(&out, out_dir.path()),
            );
        }
    }
}

/// Digits (timings, times) made equal: two runs against the same deterministic chain differ
/// in nothing else.
fn steady(text: &str) -> String {
    regex::Regex::new("[0-9]+")
        .unwrap()
        .replace_all(text, "N")
        .into_owned()
}

/// `-v` and `-vv` on every command: details on stderr, stdout and every report unchanged, and no
/// secret anywhere.
#[test]
fn details_at_every_verbosity_leak_nothing_and_change_no_output() {
    let chain = Misbehaving::start(canary_chain);
    let quiet_dir = tempfile::tempdir().unwrap();
    let quiet = login(chain.port, false, quiet_dir.path(), false);
    let app = format!("http://127.0.0.1:{}", chain.port);
    let scenario_dir = tempfile::tempdir().unwrap();
    let scenario = scenario_dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        format!(
            "[chain]\napp = \"{app}\"\npreset = \"better-auth\"\nprovider = \"canary\"\ntimeout = \"5s\"\n[idp]\nusername = \"alice\"\npassword = \"${{secret:CANARY_PASSWORD}}\"\n[[probe]]\nname = \"guarded\"\nrequest = \"GET {app}/guarded\"\n"
        ),
    )
    .unwrap();
    let scenario = scenario.display().to_string();
    for v in ["-v", "-vv"] {
        // login: the same stdout and reports as without details, which show every exchange.
        let dir = tempfile::tempdir().unwrap();
        let out = login_with(chain.port, false, dir.path(), false, &[v]);
        assert_eq!(out.code, quiet.code, "{v}: {}", out.all());
        assert_eq!(steady(&out.stdout), steady(&quiet.stdout), "{v}: stdout");
        for file in ["report.json", "junit.xml", "chain.har"] {
            let read = |d: &Path| steady(&std::fs::read_to_string(d.join(file)).unwrap());
            assert_eq!(read(dir.path()), read(quiet_dir.path()), "{v}: {file}");
        }
        for shown in [
            "POST http://127.0.0.1:",
            "  > cookie: better-auth.state=‹sha256:",
            "  < set-cookie: better-auth.session_token=‹sha256:",
        ] {
            assert!(
                out.stderr.contains(shown),
                "{v}: `{shown}` in\n{}",
                out.stderr
            );
        }
        assert_eq!(
            out.stderr.contains(" ms\n"),
            v == "-vv",
            "{v}: timings at -vv only"
        );
        assert_no_canary(&format!("login {v}"), &everything(&out, dir.path()));

        // A refused password, with --reveal too.
        for reveal in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let out = login_with(chain.port, true, dir.path(), reveal, &[v]);
            assert_eq!(out.code, 1, "{v}: {}", out.all());
            let texts = everything(&out, dir.path());
            for form in encodings(PASSWORD)
                .into_iter()
                .chain(encodings(CLIENT_SECRET))
            {
                for (name, text) in &texts {
                    assert!(
                        !text.contains(&form),
                        "{v} refused (reveal {reveal}): `{form}` in {name}"
                    );
                }
            }
        }

        // diagnose, probe and run.
        let report = quiet_dir.path().join("report.json").display().to_string();
        let out = authchain(&["diagnose", &report, v], &[]);
        assert_eq!(out.code, 1, "{v}: {}", out.all());
        assert_no_canary(
            &format!("diagnose {v}"),
            &everything(&out, tempfile::tempdir().unwrap().path()),
        );

        let probe_dir = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = vec![
            "probe".into(),
            v.into(),
            "--cookie-env".into(),
            "CANARY_COOKIE".into(),
            "--native".into(),
            format!("{app}/api/auth/get-session"),
            "--probe".into(),
            format!("{app}/guarded"),
        ];
        args.extend(outputs(probe_dir.path()));
        let cookie = format!("better-auth.session_token={COOKIE}");
        let out = authchain(&args, &[("CANARY_COOKIE", &cookie)]);
        assert_eq!(out.code, 1, "{v}: {}", out.all());
        assert!(
            out.stderr
                .contains("  > cookie: better-auth.session_token=‹sha256:"),
            "{v}: {}",
            out.stderr
        );
        assert_no_canary(&format!("probe {v}"), &everything(&out, probe_dir.path()));

        let run_dir = tempfile::tempdir().unwrap();
        let mut args = vec!["run".to_string(), scenario.clone(), v.to_string()];
        args.extend(outputs(run_dir.path()));
        let out = authchain(&args, &[("CANARY_PASSWORD", PASSWORD)]);
        assert_eq!(out.code, 1, "{v}: {}", out.all());
        assert_no_canary(&format!("run {v}"), &everything(&out, run_dir.path()));
    }
}

/// The same in the browser: the headers Chromium sent and got, at -vv.
#[test]
fn browser_details_leak_nothing() {
    let _one = crate::harness::browser_lock();
    let chain = Misbehaving::start(canary_chain);
    let dir = tempfile::tempdir().unwrap();
    let out = login_with(
        chain.port,
        false,
        dir.path(),
        false,
        &["-vv", "--driver", "browser"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    for shown in [
        "  < set-cookie: better-auth.session_token=‹sha256:",
        "browser: ",
        "timings (",
    ] {
        assert!(out.stderr.contains(shown), "`{shown}` in\n{}", out.stderr);
    }
    assert_no_canary("browser -vv", &everything(&out, dir.path()));
}
