//! The fault matrix, in both drivers: each fault ends the run with its exit code, its
//! `error.kind` (or its finding) and the hops before it in the JSON report, and leaves no
//! chromedriver or Chromium behind. The browser's own faults (chromedriver or Chromium killed in
//! the middle of a login) are made by killing the real processes.

use crate::harness::{
    HOLD, Misbehaving, Output, Server, authchain, browser_lock, leftover_browsers, read_json,
    response,
};
use std::path::Path;
use std::process::{Command, Stdio};

/// A run's output and its JSON report (`Null` when none was written).
struct Ended {
    out: Output,
    report: serde_json::Value,
}

impl Ended {
    fn kind(&self) -> &str {
        self.report["error"]["kind"].as_str().unwrap_or_default()
    }

    fn hops(&self) -> usize {
        self.report["hops"].as_array().map_or(0, Vec::len)
    }
}

fn assert_no_leftovers(what: &str) {
    let left = leftover_browsers();
    assert!(left.is_empty(), "{what}: processes left behind: {left:#?}");
}

/// `authchain login` on `app` with the given driver, a JSON report and a short timeout.
fn login(driver: &str, app: &str, timeout: &str) -> Ended {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = authchain(
        &[
            "login",
            "--driver",
            driver,
            "--app",
            app,
            "--provider",
            "p",
            "--timeout",
            timeout,
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    let report = if json.exists() {
        read_json(&json)
    } else {
        serde_json::Value::Null
    };
    Ended { out, report }
}

/// Runs `fault` in each driver; the browser runs one at a time and must leave nothing behind.
fn in_both_drivers(what: &str, fault: impl Fn(&str) -> Ended, check: impl Fn(&str, &Ended)) {
    for driver in ["http", "browser"] {
        let _one = (driver == "browser").then(browser_lock);
        let ended = fault(driver);
        check(driver, &ended);
        if driver == "browser" {
            assert_no_leftovers(&format!("{what} in the browser"));
        }
    }
}

fn assert_fault(driver: &str, ended: &Ended, kind: &str) {
    assert_eq!(ended.out.code, 3, "{driver}: {}", ended.out.all());
    assert_eq!(ended.kind(), kind, "{driver}: {}", ended.out.all());
}

#[test]
fn a_certificate_from_an_unknown_ca_is_a_tls_fault() {
    let server = Server::start("tls", "tls.mjs", &[("CERT", "self-signed".into())]);
    let app = format!("https://localhost:{}", server.port);
    in_both_drivers(
        "a self-signed certificate",
        |driver| login(driver, &app, "10s"),
        |driver, ended| {
            assert_fault(driver, ended, "tls");
            let said = ended.out.stderr.to_lowercase();
            assert!(
                said.contains("not issued by a ca this machine trusts")
                    || said.contains("authority_invalid"),
                "{driver}: the reason is named: {}",
                ended.out.stderr
            );
        },
    );
}

#[test]
fn an_expired_certificate_is_a_tls_fault() {
    let server = Server::start("tls", "tls.mjs", &[("CERT", "expired".into())]);
    let app = format!("https://localhost:{}", server.port);
    in_both_drivers(
        "an expired certificate",
        |driver| login(driver, &app, "10s"),
        |driver, ended| assert_fault(driver, ended, "tls"),
    );
}

#[test]
fn a_refused_connection_is_a_connect_fault() {
    let port = crate::harness::free_port();
    let app = format!("http://localhost:{port}");
    in_both_drivers(
        "a refused connection",
        |driver| login(driver, &app, "10s"),
        |driver, ended| assert_fault(driver, ended, "connect"),
    );
}

#[test]
fn a_host_that_does_not_resolve_is_a_dns_fault_in_both_drivers() {
    in_both_drivers(
        "a DNS failure",
        |driver| login(driver, "http://authchain-test.invalid:3000", "10s"),
        |driver, ended| assert_fault(driver, ended, "dns"),
    );
}

/// The app answers its headers and the start of its body, then nothing more.
#[test]
fn a_body_that_stops_coming_is_a_timeout() {
    let server = Misbehaving::start(|_, _, _| {
        let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 100000\r\n\r\n";
        Some([&head[..], b"<html><body>half", HOLD].concat())
    });
    let app = format!("http://localhost:{}", server.port);
    in_both_drivers(
        "a stalled body",
        |driver| login(driver, &app, "3s"),
        |driver, ended| assert_fault(driver, ended, "timeout"),
    );
}

#[test]
fn a_redirect_loop_is_a_finding_in_both_drivers() {
    let server = Misbehaving::start(|_, p, _| {
        let next = if p == "/a" { "/b" } else { "/a" };
        Some(response("302 Found", &[("location", next)], ""))
    });
    let app = format!("http://localhost:{}", server.port);
    in_both_drivers(
        "a redirect loop",
        |driver| login(driver, &app, "10s"),
        |driver, ended| {
            assert_eq!(ended.out.code, 1, "{driver}: {}", ended.out.all());
            assert_eq!(
                ended.report["findings"][0]["id"],
                "redirect-loop",
                "{driver}: {}",
                ended.out.all()
            );
        },
    );
}

const LOGIN_PAGE: &str = r#"<form method="post" action="/login"><input name="username"><input type="password" name="password"><button>Sign in</button></form>"#;

/// The app's page, a start that sends the browser to the "IdP" on the other host name, its
/// login form, and a login that never answers: the browser is in the middle of a login.
fn login_that_hangs(_: &str, path: &str, port: u16) -> Option<Vec<u8>> {
    let html = [("content-type", "text/html")];
    match path {
        "/" => Some(response("200 OK", &html, "<p>the app</p>")),
        "/start" => {
            let location = format!("http://127.0.0.1:{port}/idp");
            Some(response("302 Found", &[("location", &location)], ""))
        }
        "/idp" => Some(response("200 OK", &html, LOGIN_PAGE)),
        "/login" => None,
        _ => Some(response("404 Not Found", &[], "")),
    }
}

/// The pids of the processes whose parent is `parent` and whose command line passes `keep`.
fn children(parent: u32, keep: impl Fn(&str) -> bool) -> Vec<u32> {
    let out = Command::new("ps")
        .args(["-o", "pid=,args=", "--ppid", &parent.to_string()])
        .output()
        .expect("ps runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (pid, args) = l.trim_start().split_once(' ')?;
            keep(args).then(|| pid.parse().ok()).flatten()
        })
        .collect()
}

/// Starts a browser login (with `args`) that hangs in the IdP's login, kills what `victim` picks
/// (given the run's pid), and returns how the run ended.
fn kill_mid_login(dir: &Path, args: &[&str], victim: impl Fn(u32) -> Vec<u32>) -> Ended {
    let server = Misbehaving::start(login_that_hangs);
    let file = dir.join("s.toml");
    std::fs::write(
        &file,
        format!(
            "[chain]\napp = \"http://localhost:{p}\"\nstart = {{ request = \"GET http://localhost:{p}/start\" }}\ntimeout = \"60s\"\ndriver = \"browser\"\n[idp]\nusername = \"u\"\npassword = \"pw-not-shown\"\n",
            p = server.port
        ),
    )
    .unwrap();
    let json = dir.join("r.json");
    let child = Command::new(env!("CARGO_BIN_EXE_authchain"))
        .args(["run", file.to_str().unwrap()])
        .args(["--report-json", json.to_str().unwrap()])
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !server.heads().iter().any(|h| h.starts_with("post /login")) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(90),
            "the browser never posted the login form: {:#?}",
            server.heads()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let victims = victim(child.id());
    assert!(!victims.is_empty(), "something to kill");
    for pid in victims {
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }
    let out = child.wait_with_output().unwrap();
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let report = if json.exists() {
        read_json(&json)
    } else {
        serde_json::Value::Null
    };
    Ended { out, report }
}

/// The browser fault's run: exit 3, `error.kind = "browser"`, the hops read before the fault
/// kept (the app's page, the start, the IdP's form), nothing left running.
fn assert_browser_died(what: &str, ended: &Ended) {
    assert_eq!(ended.out.code, 3, "{what}: {}", ended.out.all());
    assert_eq!(ended.kind(), "browser", "{what}: {}", ended.out.all());
    assert!(
        ended.hops() >= 2,
        "{what}: the hops before the fault are kept: {}",
        ended.out.stdout
    );
    assert!(
        !ended.out.all().contains("pw-not-shown"),
        "{what}: {}",
        ended.out.all()
    );
    assert_no_leftovers(what);
}

#[test]
fn chromedriver_dying_mid_run_is_a_browser_fault() {
    let _one = browser_lock();
    let dir = tempfile::tempdir().unwrap();
    let ended = kill_mid_login(dir.path(), &["--chromedriver", "chromedriver"], |run| {
        children(run, |args| args.contains("chromedriver"))
    });
    assert_browser_died("chromedriver killed", &ended);
}

#[test]
fn chromium_dying_mid_run_is_a_browser_fault() {
    let _one = browser_lock();
    let dir = tempfile::tempdir().unwrap();
    // Chromium's browser process: the run's child that is no helper (`--type=`).
    let ended = kill_mid_login(dir.path(), &[], |run| {
        children(run, |args| {
            args.contains("--remote-debugging-pipe") && !args.contains("--type=")
        })
    });
    assert_browser_died("Chromium killed", &ended);
}

/// `/start` sets a cookie with neither name nor value (which RFC 6265bis and Chromium ignore)
/// next to a good one, and sends the browser on: the run goes on, the bad one recorded as
/// refused.
fn malformed_cookie(_: &str, path: &str, _: u16) -> Option<Vec<u8>> {
    match path {
        "/start" => Some(response(
            "302 Found",
            &[
                ("location", "/next"),
                ("set-cookie", "=; Path=/"),
                ("set-cookie", "good=1; Path=/"),
            ],
            "",
        )),
        _ => Some(response(
            "200 OK",
            &[("content-type", "text/html")],
            "<p>no login here</p>",
        )),
    }
}

#[test]
fn a_malformed_set_cookie_is_recorded_as_refused_and_the_run_goes_on() {
    let server = Misbehaving::start(malformed_cookie);
    in_both_drivers(
        "a malformed Set-Cookie",
        |driver| {
            let (out, report) = crate::harness::run_scenario(&format!(
                "[chain]\napp = \"http://localhost:{p}\"\nstart = {{ request = \"GET http://localhost:{p}/start\" }}\ntimeout = \"5s\"\ndriver = \"{driver}\"\n[idp]\nusername = \"u\"\npassword = \"pw-not-shown\"\n",
                p = server.port
            ));
            Ended { out, report }
        },
        |driver, ended| {
            let hops = ended.report["hops"].as_array().expect("hops");
            let start = hops
                .iter()
                .find(|h| h["url"].as_str().is_some_and(|u| u.ends_with("/start")))
                .unwrap_or_else(|| panic!("{driver}: the start hop: {}", ended.out.stdout));
            let cookies = start["set_cookies"].as_array().unwrap();
            assert!(
                cookies
                    .iter()
                    .any(|c| c["name"] == "good" && c["action"] == "set"),
                "{driver}: {cookies:?}"
            );
            assert!(
                cookies
                    .iter()
                    .any(|c| c["action"] == "refused" && !c["refusal"].is_null()),
                "{driver}: the bad one refused: {cookies:?}"
            );
            assert!(
                hops.iter()
                    .any(|h| h["url"].as_str().is_some_and(|u| u.ends_with("/next"))),
                "{driver}: the run went on: {}",
                ended.out.stdout
            );
        },
    );
}
