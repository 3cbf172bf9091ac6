//! Bad input and broken peers: clear errors, the right exit code, a partial report, no hang.

use crate::harness::{
    Chain, Misbehaving, Opts, authchain, free_port, read_json, read_json_if_any, response,
};
use std::path::Path;

fn scenario_file(dir: &Path, text: &str) -> String {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn scenario_error_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "name = \"x\"\n[chain]\naap = \"http://localhost:1\"\n",
    );
    let json = dir.path().join("r.json");
    let out = authchain(
        &["run", &file, "--report-json", json.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(&format!("{file}:3:1")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("did you mean `app`?"), "{}", out.stderr);
    assert!(
        out.stderr.contains("aap = \"http://localhost:1\""),
        "the line is shown: {}",
        out.stderr
    );
    assert!(!json.exists(), "no report on exit 2");
    assert!(out.stdout.is_empty());
}

#[test]
fn unset_environment_variable_is_a_scenario_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "[chain]\napp = \"${env:AUTHCHAIN_TEST_SURELY_UNSET}\"\npreset = \"better-auth\"\nprovider = \"p\"\n",
    );
    let out = authchain(&["run", &file], &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(&format!("{file}:2:8")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("AUTHCHAIN_TEST_SURELY_UNSET is not set"),
        "{}",
        out.stderr
    );
}

#[test]
fn unset_password_env_is_a_usage_error() {
    let out = authchain(
        &[
            "login",
            "--app",
            "http://localhost:1",
            "--provider",
            "p",
            "--user",
            "u",
            "--password-env",
            "AUTHCHAIN_TEST_UNSET_PW",
        ],
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("AUTHCHAIN_TEST_UNSET_PW is not set"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_flag_value_is_a_usage_error() {
    let out = authchain(&["login", "--app", "not a url", "--provider", "p"], &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--app"), "{}", out.stderr);
    let out = authchain(
        &[
            "login",
            "--app",
            "http://a",
            "--provider",
            "p",
            "--timeout",
            "soon",
        ],
        &[],
    );
    assert_eq!(out.code, 2);
}

#[test]
fn a_token_typed_where_it_does_not_belong_is_not_echoed() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVlLTEyMw";
    let out = authchain(&["login", "--app", "http://a", "--provider", "p", jwt], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("unexpected argument"), "{}", out.stderr);
    assert!(!out.stderr.contains(jwt), "{}", out.stderr);
    assert!(out.stderr.contains("‹sha256:"), "{}", out.stderr);
}

#[test]
fn idp_port_closed_exits_3_with_a_partial_report() {
    let mut chain = Chain::start(Opts::default());
    chain.idp.stop();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let mut args = chain.login_args("alice");
    args.extend(["--report-json".into(), json.display().to_string()]);
    let out = authchain(&args, &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.ends_with("result: error (exit 3)\n"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
    assert!(
        out.stderr.contains("hop 2"),
        "the error names the hop: {}",
        out.stderr
    );
    let report = read_json(&json);
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["error"]["hop"], 2);
    assert_eq!(report["error"]["step"], "follow");
    assert_eq!(report["error"]["kind"], "connect");
    assert_eq!(
        report["hops"].as_array().unwrap().len(),
        1,
        "the start hop is kept"
    );
}

#[test]
fn unreachable_app_exits_3() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let app = format!("http://localhost:{port}");
    let out = authchain(
        &[
            "login",
            "--app",
            &app,
            "--provider",
            "p",
            "--user",
            "u",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("step start at hop 1"), "{}", out.stderr);
    assert_eq!(read_json(&json)["error"]["step"], "start");
}

/// A scenario whose explicit start is `GET /start` on the misbehaving server, reached as
/// `localhost`, which sends the browser on to `127.0.0.1` (another host: "the IdP").
fn misbehaving_scenario(dir: &Path, server: &Misbehaving, timeout: &str) -> String {
    scenario_file(
        dir,
        &format!(
            "[chain]\napp = \"http://localhost:{p}\"\nstart = {{ request = \"GET http://localhost:{p}/start\" }}\ntimeout = \"{timeout}\"\n[idp]\nusername = \"u\"\npassword = \"pw-not-shown\"\n",
            p = server.port
        ),
    )
}

/// `/start` sends the browser to `/idp` on the other host name; `idp` answers there.
fn to_idp(path: &str, port: u16, idp: fn() -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    if path == "/start" {
        let location = format!("http://127.0.0.1:{port}/idp");
        return Some(response("302 Found", &[("location", &location)], ""));
    }
    idp()
}

fn run_misbehaving(
    answer: fn(&str, &str, u16) -> Option<Vec<u8>>,
    timeout: &str,
) -> (crate::harness::Output, serde_json::Value) {
    let server = Misbehaving::start(answer);
    let dir = tempfile::tempdir().unwrap();
    let file = misbehaving_scenario(dir.path(), &server, timeout);
    let json = dir.path().join("r.json");
    let out = authchain(
        &["run", &file, "--report-json", json.to_str().unwrap()],
        &[],
    );
    (out, read_json_if_any(&json))
}

#[test]
fn a_json_idp_page_is_no_login_form() {
    let (out, report) = run_misbehaving(
        |_, p, port| {
            to_idp(p, port, || {
                Some(response(
                    "200 OK",
                    &[("content-type", "application/json")],
                    "{\"ok\":true}",
                ))
            })
        },
        "5s",
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("is not HTML"), "{}", out.stderr);
    assert!(out.stderr.contains("no login form found"), "{}", out.stderr);
    assert_eq!(report["error"]["step"], "idp");
}

#[test]
fn an_oversized_body_is_refused() {
    let (out, report) = run_misbehaving(
        |_, p, port| {
            to_idp(p, port, || {
                Some(response(
                    "200 OK",
                    &[("content-type", "text/html")],
                    &"x".repeat(50 * 1024 * 1024),
                ))
            })
        },
        "10s",
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("larger than 4 MiB"), "{}", out.stderr);
    assert_eq!(report["error"]["kind"], "body-too-large");
    assert_eq!(
        report["hops"].as_array().map(Vec::len),
        Some(1),
        "the start is kept"
    );
}

#[test]
fn a_silent_server_times_out() {
    let (out, report) = run_misbehaving(|_, p, port| to_idp(p, port, || None), "1s");
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("no answer within 1s"), "{}", out.stderr);
    assert_eq!(report["error"]["hop"], 2);
    assert_eq!(report["error"]["kind"], "timeout");
}

#[test]
fn tls_to_a_plain_port_fails_cleanly() {
    let server = Misbehaving::start(|_, _, _| Some(response("200 OK", &[], "plain")));
    let app = format!("https://localhost:{}", server.port);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = authchain(
        &[
            "login",
            "--app",
            &app,
            "--provider",
            "p",
            "--timeout",
            "3s",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("step start at hop 1"), "{}", out.stderr);
    assert_eq!(read_json(&json)["error"]["kind"], "tls");
}

#[test]
fn a_host_that_does_not_resolve_is_a_dns_fault() {
    // `.invalid` never resolves (RFC 2606).
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = authchain(
        &[
            "login",
            "--app",
            "http://authchain-test.invalid:3000",
            "--provider",
            "p",
            "--timeout",
            "5s",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("did not resolve"), "{}", out.stderr);
    assert_eq!(read_json(&json)["error"]["kind"], "dns");
}

#[test]
fn a_redirect_loop_is_a_finding() {
    let (out, report) = run_misbehaving(
        |_, p, _| {
            let next = match p {
                "/start" | "/b" => "/a",
                _ => "/b",
            };
            Some(response("302 Found", &[("location", next)], ""))
        },
        "5s",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("redirect-loop: "), "{}", out.stdout);
    assert_eq!(report["findings"][0]["id"], "redirect-loop");
}

#[test]
fn the_hop_cap_is_a_finding() {
    let (out, report) = run_misbehaving(
        |_, p, _| {
            let n: u32 = p.trim_start_matches("/n/").parse().unwrap_or(0);
            let next = format!("/n/{}", n + 1);
            Some(response("302 Found", &[("location", &next)], ""))
        },
        "5s",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("redirect-loop: The chain hit the hop cap (30)"),
        "{}",
        out.stdout
    );
    assert_eq!(report["hops"].as_array().unwrap().len(), 30);
}

/// Runs authchain with `args`, waits until `server` has seen `requests` requests, sends it
/// SIGINT, and gives its output.
fn interrupt_after(
    args: &[&str],
    env: &[(&str, &str)],
    server: &Misbehaving,
    requests: usize,
) -> (crate::harness::Output, Option<i32>) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_authchain"))
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    server.wait_for_requests(requests);
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let output = crate::harness::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (output, out.status.code())
}

#[test]
fn ctrl_c_exits_130() {
    let server = Misbehaving::start(|_, p, port| to_idp(p, port, || None));
    let dir = tempfile::tempdir().unwrap();
    let file = misbehaving_scenario(dir.path(), &server, "60s");
    let json = dir.path().join("r.json");
    // Stuck on the silent server's second answer.
    let (out, code) = interrupt_after(
        &["run", &file, "--report-json", json.to_str().unwrap()],
        &[],
        &server,
        2,
    );
    assert_eq!(code, Some(130));
    assert!(out.stderr.contains("interrupted"));
    // The partial report: the hop recorded before the stop, and the stop itself.
    assert!(
        out.stdout.ends_with("result: interrupted (exit 130)\n"),
        "{}",
        out.stdout
    );
    let report = read_json(&json);
    assert_eq!(report["error"]["kind"], "interrupted", "{report}");
    assert_eq!(report["error"]["step"], "follow", "{report}");
    assert_eq!(report["verdict"], "interrupted");
    assert_eq!(report["exit_code"], 130);
    assert_eq!(report["hops"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["error"]["hop"], 2);
    assert!(!out.stdout.contains("pw-not-shown"));
}

/// `run a b` stopped during `b`: `a`'s report as it ended, `b`'s as far as it got.
#[test]
fn an_interrupted_run_of_several_scenarios_keeps_the_finished_ones() {
    let done = Misbehaving::start(|_, _, _| Some(response("404 Not Found", &[], "no")));
    let stuck = Misbehaving::start(|_, p, port| to_idp(p, port, || None));
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let first = misbehaving_scenario(&a, &done, "5s");
    let second = misbehaving_scenario(&b, &stuck, "60s");
    let json = dir.path().join("r.json");
    let (out, code) = interrupt_after(
        &[
            "run",
            &first,
            &second,
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
        &stuck,
        2,
    );
    assert_eq!(code, Some(130), "{}", out.all());
    let report = read_json(&json);
    assert_eq!(report["exit_code"], 130, "{report}");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2, "{report}");
    assert_ne!(runs[0]["verdict"], "interrupted", "{report}");
    assert_eq!(runs[1]["error"]["kind"], "interrupted", "{report}");
    // `a`'s report streamed when it finished, and is not printed again after the stop.
    let headers = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("authchain: "))
        .count();
    assert_eq!(headers, 2, "{}", out.stdout);
    assert!(
        out.stdout.ends_with("result: interrupted (exit 130)\n"),
        "{}",
        out.stdout
    );
}

/// `probe` stopped while its native probe waits: the report says where it stood.
#[test]
fn an_interrupted_probe_names_its_probes() {
    let server = Misbehaving::start(|_, _, _| None);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let native = format!("http://localhost:{}/api/auth/get-session", server.port);
    let (out, code) = interrupt_after(
        &[
            "probe",
            "--cookie-env",
            "C",
            "--native",
            &native,
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[("C", "better-auth.session_token=abc123")],
        &server,
        1,
    );
    assert_eq!(code, Some(130), "{}", out.all());
    let report = read_json(&json);
    assert_eq!(report["error"]["kind"], "interrupted", "{report}");
    assert!(
        report["error"]["step"]
            .as_str()
            .is_some_and(|s| s.starts_with("probe ")),
        "{report}"
    );
    assert!(!out.all().contains("abc123"));
}

const LOGIN_PAGE: &str = r#"<form method="post" action="/login"><input name="username"><input type="password" name="password"><button>Sign in</button></form>"#;

fn login_then(after: fn() -> Option<Vec<u8>>, path: &str, port: u16) -> Option<Vec<u8>> {
    match path {
        "/idp" => Some(response(
            "200 OK",
            &[("content-type", "text/html")],
            LOGIN_PAGE,
        )),
        "/login" => after(),
        _ => to_idp(path, port, || None),
    }
}

#[test]
fn the_same_login_form_again_is_refused_credentials() {
    let (out, report) = run_misbehaving(
        |_, p, port| {
            login_then(
                || {
                    Some(response(
                        "200 OK",
                        &[("content-type", "text/html")],
                        &format!("<p class=\"error\">Wrong.</p>{LOGIN_PAGE}"),
                    ))
                },
                p,
                port,
            )
        },
        "5s",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(report["findings"][0]["id"], "idp-login-rejected");
}

#[test]
fn a_second_password_form_is_a_manual_step_not_refused_credentials() {
    let (out, report) = run_misbehaving(
        |_, p, port| {
            login_then(
                || {
                    let page = r#"<p class="alert">You need to change your password.</p><form method="post" action="/change"><input type="password" name="password-new"><input type="password" name="password-confirm"><button>Save</button></form>"#;
                    Some(response("200 OK", &[("content-type", "text/html")], page))
                },
                p,
                port,
            )
        },
        "5s",
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("asks for a new password"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("You need to change your password."),
        "{}",
        out.stderr
    );
    assert_eq!(report["error"]["step"], "idp-login");
    assert_eq!(report["error"]["kind"], "idp-needs-interaction");
}

#[test]
fn a_preset_that_names_a_provider_needs_one() {
    for preset in ["better-auth", "authjs"] {
        let out = authchain(&["login", "--app", "http://a", "--preset", preset], &[]);
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr
                .contains(&format!("--provider is required with the {preset} preset")),
            "{}",
            out.stderr
        );
    }
    // express-openid-connect names no provider, and has no session endpoint of its own.
    let out = authchain(
        &[
            "login",
            "--app",
            "http://a",
            "--preset",
            "express-openid-connect",
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("--native is required: express-openid-connect has no session endpoint"),
        "{}",
        out.stderr
    );
}

/// A redirect whose Location is no URL: the run ends with a finding that names the hop.
#[test]
fn a_malformed_location_is_a_finding_naming_the_hop() {
    let (out, report) = run_misbehaving(
        |_, p, port| {
            to_idp(p, port, || {
                Some(response(
                    "302 Found",
                    &[("location", "http://[::1/broken")],
                    "",
                ))
            })
        },
        "5s",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(report["ended"]["kind"], "bad-redirect", "{report}");
    assert_eq!(report["findings"][0]["id"], "malformed-redirect");
    assert_eq!(
        report["findings"][0]["title"],
        "The redirect at hop 2 (302) has a Location that is not a URL"
    );
}

/// No credential crosses hosts: a start request posted with an Authorization header and answered
/// with a host-only cookie and a 307 to another host goes on there, as a POST, without either
/// (RFC 6265bis, the Fetch standard); a header of its own goes on.
#[test]
fn no_credential_crosses_hosts_on_a_redirect() {
    let server = Misbehaving::start(|_, path, port| match path {
        "/start" => {
            let location = format!("http://127.0.0.1:{port}/idp");
            Some(response(
                "307 Temporary Redirect",
                &[
                    ("location", &location),
                    ("set-cookie", "sid=s3cr3t-cookie-value; Path=/"),
                ],
                "",
            ))
        }
        "/idp" => Some(response(
            "200 OK",
            &[("content-type", "application/json")],
            r#"{"t":"x"}"#,
        )),
        _ => Some(response("404 Not Found", &[], "")),
    });
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        &format!(
            "[chain]\napp = \"http://localhost:{p}\"\ntimeout = \"5s\"\n[[chain.start]]\nrequest = \"POST http://localhost:{p}/start\"\nform = {{ a = \"1\" }}\nheaders = {{ Authorization = \"Bearer s3cr3t-bearer-token\", X-Mine = \"kept\" }}\ncapture = {{ t = \"json:t\" }}\n[[chain.start]]\nrequest = \"GET http://localhost:{p}/go\"\n[idp]\nusername = \"u\"\npassword = \"pw-not-shown\"\n",
            p = server.port
        ),
    );
    let out = authchain(&["run", &file], &[]);
    let heads = server.heads();
    let at_idp = heads
        .iter()
        .find(|h| h.starts_with("post /idp"))
        .unwrap_or_else(|| {
            panic!(
                "the 307 was followed with its method: {heads:?}\n{}",
                out.all()
            )
        });
    assert!(!at_idp.contains("authorization:"), "{at_idp}");
    assert!(!at_idp.contains("s3cr3t-cookie-value"), "{at_idp}");
    assert!(at_idp.contains("x-mine: kept"), "{at_idp}");
    assert!(!out.all().contains("s3cr3t-bearer-token"), "{}", out.all());
}

/// An `--out` that cannot be written to (a path under a file) is an output fault: exit 3, and
/// the JSON report written elsewhere says `error.kind = "output"`; a report file on a full disk
/// (`/dev/full`) is exit 3 too, named on stderr.
#[test]
fn an_output_that_cannot_be_written_is_an_output_fault() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let json = dir.path().join("r.json");
    let out = authchain(
        &[
            "demo",
            "--out",
            file.join("sub").to_str().unwrap(),
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    let report = read_json(&json);
    assert_eq!(report["error"]["kind"], "output", "{report}");
    assert_eq!(report["exit_code"], 3);
    if Path::new("/dev/full").exists() {
        let out = authchain(&["demo", "--report-json", "/dev/full"], &[]);
        assert_eq!(out.code, 3, "{}", out.all());
        assert!(
            out.stderr.contains("cannot write /dev/full"),
            "{}",
            out.stderr
        );
    }
}
