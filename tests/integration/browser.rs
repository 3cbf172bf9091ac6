//! The browser driver against the real chain, one browser at a time: both BetterAuth lines, the
//! email-less user, Chromium's own refusal of a `__Secure-` cookie over http, the guard verdicts,
//! artifacts on failure, and no browser left behind after a failure or an interruption.

use crate::harness::{
    Chain, Misbehaving, Opts, PASSWORD, Run, authchain, browser_lock, finding_ids,
    leftover_browsers, read_json,
};

fn browser_login(chain: &Chain, user: &str, extra: &[&str]) -> Run {
    let guarded = chain.guarded();
    let mut all = vec!["--driver", "browser", "--probe", guarded.as_str()];
    all.extend(extra);
    chain.login(user, &all, &[])
}

fn assert_no_leftovers() {
    let left = leftover_browsers();
    assert!(left.is_empty(), "processes left behind: {left:#?}");
}

fn happy(line: &'static str, callback: &str) {
    let _one = browser_lock();
    let chain = Chain::start(Opts {
        line,
        ..Opts::default()
    });
    let run = browser_login(&chain, "alice", &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    let r = &run.report;
    assert_eq!(r["chain"]["driver"], "browser");
    let hops = r["hops"].as_array().unwrap();
    assert!(hops.len() >= 10, "{} hops", hops.len());
    assert!(
        hops.iter()
            .any(|h| h["step"] == "start" && h["method"] == "POST")
    );
    assert!(hops.iter().any(|h| h["step"] == "idp-login"));
    assert!(hops.iter().any(|h| h["step"] == "idp-consent"));
    let cb = r["chain"]["callback_hop"].as_u64().expect("a callback hop") as usize;
    assert!(hops[cb - 1]["url"].as_str().unwrap().contains(callback));
    assert!(
        hops[cb - 1]["set_cookies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "better-auth.session_token" && c["action"] == "set")
    );
    for p in r["probes"].as_array().unwrap() {
        assert_eq!(p["passed"], true, "{p}");
        assert_eq!(p["page"]["passed"], true, "the page's own probe: {p}");
    }
    assert!(run.out.stdout.contains("from the page → 200  pass"));
    assert_no_leftovers();
}

#[test]
fn browser_login_better_auth_17() {
    happy("1.7", "/api/auth/callback/fixture");
}

#[test]
fn browser_login_better_auth_16() {
    happy("1.6", "/api/auth/oauth2/callback/fixture");
}

#[test]
fn browser_email_missing() {
    let _one = browser_lock();
    let chain = Chain::start(Opts::default());
    let run = browser_login(&chain, "nomail", &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert!(run.out.stdout.contains("error=email_not_found"));
    assert_eq!(finding_ids(&run.report)[0], "missing-email-claim");
}

#[test]
fn chromium_refuses_a_secure_prefixed_state_cookie_over_http() {
    let _one = browser_lock();
    let chain = Chain::start(Opts {
        secure: true,
        app_host: "app.test",
        ..Opts::default()
    });
    let run = browser_login(&chain, "alice", &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert!(
        run.out.stdout.contains("error=state_mismatch"),
        "{}",
        run.out.stdout
    );
    let ids = finding_ids(&run.report);
    assert_eq!(ids[0], "state-cookie-lost", "{ids:?}");
    assert!(
        ids.contains(&"cookie-blocked-by-browser".to_string()),
        "{ids:?}"
    );
    // Chromium's own reason, on the hop that set the cookie.
    let start = run.report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["step"] == "start")
        .unwrap();
    let state = start["set_cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "__Secure-better-auth.state")
        .unwrap();
    assert_eq!(state["action"], "refused");
    assert!(
        state["refusal"].as_str().unwrap().contains("InvalidPrefix"),
        "{state}"
    );
    assert!(
        run.out
            .stdout
            .contains("refused  __Secure-better-auth.state")
    );
}

fn guard_verdict(guard: &'static str, secure: bool, want: Option<&str>) {
    let _one = browser_lock();
    let chain = Chain::start(Opts {
        guard,
        secure,
        ..Opts::default()
    });
    let run = browser_login(&chain, "alice", &[]);
    let ids = finding_ids(&run.report);
    match want {
        Some(id) => {
            assert_eq!(run.out.code, 1, "{}", run.out.all());
            assert_eq!(ids[0], id, "{}", run.out.stdout);
        }
        None => {
            assert_eq!(run.out.code, 0, "{}", run.out.all());
            assert!(ids.is_empty(), "{ids:?}");
        }
    }
}

#[test]
fn browser_guard_verdicts_match_http_mode() {
    guard_verdict("cookie", false, None);
    guard_verdict("bearer-only", false, Some("guard-validates-differently"));
    guard_verdict("wrong-name", true, Some("guard-misses-cookie"));
    guard_verdict(
        "authorization-only",
        false,
        Some("guard-wants-other-transport"),
    );
}

#[test]
fn a_failure_saves_artifacts_and_leaves_no_browser() {
    let _one = browser_lock();
    let chain = Chain::start(Opts::default());
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("artifacts");
    let run = chain.login(
        "alice",
        &["--driver", "browser", "--out", out_dir.to_str().unwrap()],
        &[(crate::harness::PASSWORD_VAR, "wrong-password")],
    );
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert_eq!(finding_ids(&run.report)[0], "idp-login-rejected");
    let png = std::fs::read(out_dir.join("screenshot.png")).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let html = std::fs::read_to_string(out_dir.join("page.html")).expect("the page");
    assert!(html.contains("Invalid username or password."));
    assert!(!html.contains("wrong-password"));
    let artifacts = run.report["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 2, "named in the report");
    assert!(out_dir.join("report.json").exists());
    assert_no_leftovers();
}

fn interrupt(signal: &str, code: i32) {
    let _one = browser_lock();
    // The app never answers: the browser waits on its first page.
    let server = Misbehaving::start(|_, _, _| None);
    let app = format!("http://localhost:{}", server.port);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_authchain"))
        .args([
            "login",
            "--driver",
            "browser",
            "--app",
            &app,
            "--provider",
            "p",
            "--timeout",
            "60s",
        ])
        .args(["--report-json", json.to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    server.wait_for_requests(1);
    assert!(!leftover_browsers().is_empty(), "the browser runs");
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(code));
    assert_no_leftovers();
    let report = crate::harness::read_json(&json);
    assert_eq!(report["error"]["kind"], "interrupted", "{report}");
    assert_eq!(report["chain"]["driver"], "browser");
}

#[test]
fn ctrl_c_leaves_no_browser() {
    interrupt("-INT", 130);
}

#[test]
fn sigterm_leaves_no_browser() {
    interrupt("-TERM", 130);
}

#[test]
fn a_running_webdriver_server_can_be_used() {
    let _one = browser_lock();
    let chain = Chain::start(Opts::default());
    let port = crate::harness::free_port();
    let home = tempfile::tempdir().unwrap();
    let mut driver = std::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .env("HOME", home.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let webdriver = format!("http://127.0.0.1:{port}");
    let mut run = None;
    for _ in 0..200 {
        let r = browser_login(&chain, "alice", &["--webdriver", &webdriver]);
        if r.out.code == 0 || !r.out.stderr.contains("cannot start a browser session") {
            run = Some(r);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = driver.kill();
    let _ = driver.wait();
    let run = run.expect("chromedriver answered");
    assert_eq!(run.out.code, 0, "{}", run.out.all());
}

#[test]
fn a_missing_chromedriver_is_no_usable_answer() {
    let chain = Chain::start(Opts::default());
    let run = browser_login(
        &chain,
        "alice",
        &["--chromedriver", "/nonexistent/chromedriver"],
    );
    assert_eq!(run.out.code, 3, "{}", run.out.all());
    assert!(
        run.out
            .stderr
            .contains("cannot start /nonexistent/chromedriver"),
        "{}",
        run.out.stderr
    );
    assert_eq!(run.report["error"]["kind"], "browser", "{}", run.out.stdout);
}

#[test]
fn an_interrupted_run_ends_its_remote_session() {
    let _one = browser_lock();
    let port = crate::harness::free_port();
    let home = tempfile::tempdir().unwrap();
    let mut driver = std::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .env("HOME", home.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let browsers_of = |pid: u32| {
        let out = std::process::Command::new("ps")
            .args(["-o", "pid=", "--ppid", &pid.to_string()])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let server = Misbehaving::start(|_, _, _| None);
    let app = format!("http://localhost:{}", server.port);
    let webdriver = format!("http://127.0.0.1:{port}");
    // chromedriver may need a moment before it takes sessions: retry until the app is reached.
    let mut child = None;
    for _ in 0..100 {
        let c = std::process::Command::new(env!("CARGO_BIN_EXE_authchain"))
            .args([
                "login",
                "--driver",
                "browser",
                "--app",
                &app,
                "--provider",
                "p",
                "--timeout",
                "4s",
                "--webdriver",
                &webdriver,
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let mut c = c;
        while started.elapsed() < std::time::Duration::from_secs(3) {
            if browsers_of(driver.id()) > 0 && c.try_wait().unwrap().is_none() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if c.try_wait().unwrap().is_none() {
            child = Some(c);
            break;
        }
    }
    let child = child.expect("a run got a remote browser");
    server.wait_for_requests(1);
    assert!(browsers_of(driver.id()) > 0, "the remote browser runs");
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    // chromedriver ends the session once the page load it is waiting on gives up.
    let started = std::time::Instant::now();
    while browsers_of(driver.id()) > 0 && started.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let left = browsers_of(driver.id());
    let _ = driver.kill();
    let _ = driver.wait();
    assert_eq!(left, 0, "the remote session was ended");
}

/// The IdP's port closed: Chromium cannot load the authorize page; the stop is a connection
/// fault, the hops before it kept.
#[test]
fn an_unreachable_idp_in_the_browser_is_a_connect_fault() {
    let _one = browser_lock();
    let mut chain = Chain::start(Opts::default());
    chain.idp.stop();
    let run = browser_login(&chain, "alice", &[]);
    assert_eq!(run.out.code, 3, "{}", run.out.all());
    assert_eq!(run.report["error"]["kind"], "connect", "{}", run.out.all());
    assert!(
        run.report["hops"].as_array().is_some_and(|h| !h.is_empty()),
        "{}",
        run.out.stdout
    );
    assert_no_leftovers();
}

/// `run -j 2` over three browser scenarios: one Chromium for the run, a fresh context for each
/// scenario (none sees another's cookies), all pass, nothing left behind.
#[test]
fn a_run_shares_one_chromium_with_a_fresh_context_per_scenario() {
    let _one = browser_lock();
    let chain = Chain::start(Opts::default());
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/fixture-login.toml"),
    )
    .unwrap();
    let example = example.replacen("[chain]\n", "[chain]\ndriver = \"browser\"\n", 1);
    assert!(example.contains("driver = \"browser\""));
    let files: Vec<String> = (1..=3)
        .map(|i| {
            let f = dir.path().join(format!("login-{i}.toml"));
            std::fs::write(&f, &example).unwrap();
            f.display().to_string()
        })
        .collect();
    let json = dir.path().join("all.json");
    let mut args = vec![
        "run",
        "-vv",
        "-j",
        "2",
        "--report-json",
        json.to_str().unwrap(),
    ];
    args.extend(files.iter().map(String::as_str));
    let app = chain.app();
    let out = authchain(
        &args,
        &[
            ("AUTHCHAIN_APP", app.as_str()),
            ("AUTHCHAIN_PROVIDER", "fixture"),
            ("AUTHCHAIN_USER", "alice"),
            ("AUTHCHAIN_PASSWORD", PASSWORD),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("3 of 3 scenarios passed"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr.matches("browser: Chromium ready in").count(),
        1,
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr
            .matches("browser: a new context in the run's Chromium")
            .count(),
        2,
        "{}",
        out.stderr
    );
    let report = read_json(&json);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for run in runs {
        assert_eq!(run["chain"]["driver"], "browser");
        let first = &run["hops"][0];
        assert_eq!(
            first["cookie_sent"].as_array().map(Vec::len),
            Some(0),
            "each scenario starts with no cookie of another's: {first}"
        );
    }
    assert!(!out.all().contains(PASSWORD));
    assert_no_leftovers();
}
