//! `authchain login` through the real chain: both BetterAuth lines, the email-less user, every
//! guard mode, refused credentials.

use crate::harness::{Chain, Opts, authchain, finding_ids, read_json};

fn login(chain: &Chain, user: &str, extra: &[&str]) -> (crate::harness::Output, serde_json::Value) {
    let run = chain.login(user, extra, &[]);
    (run.out, run.report)
}

fn happy_path(line: &'static str, start: &str, callback: &str) {
    let chain = Chain::start(Opts {
        line,
        ..Opts::default()
    });
    let (out, report) = login(&chain, "alice", &["--probe", &chain.guarded()]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.ends_with("result: pass (exit 0)\n"),
        "{}",
        out.stdout
    );
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["chain"]["start_endpoint"], start);

    let hops = report["hops"].as_array().unwrap();
    assert!(
        hops.len() >= 9,
        "expected the whole chain, got {} hops",
        hops.len()
    );
    for (i, h) in hops.iter().enumerate() {
        assert_eq!(h["n"], i + 1);
        // Every hop is in the terminal report too.
        let line = format!(
            "{:>3}  {:<4} {}",
            i + 1,
            h["method"].as_str().unwrap(),
            h["status"]
        );
        assert!(
            out.stdout.contains(&line),
            "hop {} missing from stdout: {line}",
            i + 1
        );
    }
    let cb = report["chain"]["callback_hop"]
        .as_u64()
        .expect("a callback hop") as usize;
    let cb_hop = &hops[cb - 1];
    assert!(
        cb_hop["url"].as_str().unwrap().contains(callback),
        "{}",
        cb_hop["url"]
    );
    let session = cb_hop["set_cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "better-auth.session_token")
        .expect("the callback sets the session cookie");
    assert_eq!(session["action"], "set");
    assert_eq!(session["http_only"], true);
    assert_eq!(session["value"]["shape"], "signed");
    assert!(
        session["value"].get("value").is_none(),
        "values are never in the report without --reveal"
    );
    // The state cookie is set at the start and cleared at the callback.
    assert!(
        cb_hop["set_cookies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "better-auth.state" && c["action"] == "cleared")
    );
    assert!(
        cb_hop["cookie_sent"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "better-auth.state")
    );

    let probes = report["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 2);
    assert!(probes.iter().all(|p| p["passed"] == true), "{probes:?}");
    assert_eq!(probes[0]["native"], true);
    assert!(report["findings"].as_array().unwrap().is_empty());
}

#[test]
fn happy_path_better_auth_17() {
    happy_path("1.7", "/sign-in/social", "/api/auth/callback/fixture");
}

#[test]
fn happy_path_better_auth_16() {
    // 1.6 serves generic providers at /sign-in/social too; its callback stays the plugin's own.
    happy_path(
        "1.6",
        "/sign-in/social",
        "/api/auth/oauth2/callback/fixture",
    );
}

#[test]
fn an_unknown_provider_tries_both_start_endpoints() {
    let chain = Chain::start(Opts::default());
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let app = chain.app();
    let out = authchain(
        &[
            "login",
            "--app",
            &app,
            "--provider",
            "nosuch",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("start-rejected: The app refused to start the login (404)"),
        "{}",
        out.stdout
    );
    let report = read_json(&json);
    let urls: Vec<&str> = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 2);
    assert!(
        urls[0].ends_with("/api/auth/sign-in/social")
            && urls[1].ends_with("/api/auth/sign-in/oauth2"),
        "{urls:?}"
    );
    assert_eq!(report["chain"]["start_endpoint"], "/sign-in/oauth2");
}

fn email_missing(line: &'static str, code: &str) {
    let chain = Chain::start(Opts {
        line,
        ..Opts::default()
    });
    let (out, report) = login(&chain, "nomail", &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(&format!("error={code}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("missing-email-claim: "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("result: fail (exit 1)\n"));
    let cb = report["chain"]["callback_hop"].as_u64().unwrap() as usize;
    assert_eq!(report["hops"][cb - 1]["error_code"], code);
    assert_eq!(finding_ids(&report)[0], "missing-email-claim");
}

#[test]
fn email_missing_17() {
    email_missing("1.7", "email_not_found");
}

#[test]
fn email_missing_16() {
    email_missing("1.6", "email_is_missing");
}

fn guard(guard: &'static str, secure: bool, want_status: u16) {
    let chain = Chain::start(Opts {
        guard,
        secure,
        ..Opts::default()
    });
    let (out, report) = login(&chain, "alice", &["--probe", &chain.guarded()]);
    let probes = report["probes"].as_array().unwrap();
    assert_eq!(
        probes[0]["passed"], true,
        "the native probe passes in every guard mode"
    );
    assert_eq!(probes[1]["status"], want_status, "{}", out.stdout);
    let want_code = if want_status == 200 { 0 } else { 1 };
    assert_eq!(out.code, want_code, "{}", out.all());
    if secure {
        let names: Vec<&str> = report["hops"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| h["set_cookies"].as_array().unwrap())
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert!(
            names.contains(&"__Secure-better-auth.session_token"),
            "{names:?}"
        );
    }
}

#[test]
fn guard_cookie_passes() {
    guard("cookie", false, 200);
}

#[test]
fn guard_bearer_only_fails() {
    guard("bearer-only", false, 401);
}

#[test]
fn guard_wrong_name_fails() {
    guard("wrong-name", true, 401);
}

#[test]
fn guard_other_secret_fails() {
    guard("other-secret", false, 401);
}

#[test]
fn guard_authorization_only_fails() {
    guard("authorization-only", false, 401);
}

#[test]
fn guard_bearer_plugin_passes() {
    guard("bearer-plugin", false, 200);
}

#[test]
fn wrong_password_is_idp_login_rejected() {
    let chain = Chain::start(Opts::default());
    let run = chain.login(
        "alice",
        &[],
        &[(crate::harness::PASSWORD_VAR, "not-the-password")],
    );
    let out = &run.out;
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("idp-login-rejected: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Invalid username or password."),
        "{}",
        out.stdout
    );
    assert_eq!(finding_ids(&run.report), ["idp-login-rejected"]);
    assert!(!out.all().contains("not-the-password") && !run.json_text.contains("not-the-password"));
}

#[test]
fn consent_denied_is_access_denied() {
    let chain = Chain::start(Opts::default());
    let (out, report) = login(&chain, "alice", &["--consent", "deny"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("error=access_denied"), "{}", out.stdout);
    assert_eq!(finding_ids(&report)[0], "callback-error");
}

/// The app's own sign-up policy refuses the user at the callback. BetterAuth 1.7 answers 403 JSON
/// with no error code: the login failed at the callback, in the app's words, whatever the probes
/// say. 1.6 turns the message into an error code on a redirect.
fn callback_refuses_user(line: &'static str, driver: &str, title: &str) {
    let chain = Chain::start(Opts {
        line,
        app_env: &[("USER_HOOK", "forbid")],
        ..Opts::default()
    });
    let (out, report) = login(
        &chain,
        "alice",
        &["--probe", &chain.guarded(), "--driver", driver],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        finding_ids(&report),
        ["callback-error"],
        "one finding, no probe failure after it: {}",
        out.stdout
    );
    assert_eq!(report["findings"][0]["title"], title, "{}", out.stdout);
    assert!(out.stdout.contains(&format!("callback-error: {title}")));
    assert!(!out.stdout.contains("no-session-after-login"));
    assert!(!out.stdout.contains("idp-error-page"));
    if title.contains("403") {
        // The app's policy first; the state cookie, seen to come back, is no cause.
        let keys: Vec<&str> = report["findings"][0]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["app-refuses-user", "code-exchange-failed"]);
        let cb = report["chain"]["callback_hop"].as_u64().unwrap() as usize;
        assert_eq!(report["hops"][cb - 1]["status"], 403);
    }
}

#[test]
fn callback_refuses_user_17() {
    callback_refuses_user(
        "1.7",
        "http",
        "The app's callback answered 403: \"Only company accounts may sign in\"",
    );
}

#[test]
fn callback_refuses_user_16() {
    callback_refuses_user(
        "1.6",
        "http",
        "The login failed with error=Only_company_accounts_may_sign_in",
    );
}

#[test]
fn callback_refuses_user_in_the_browser() {
    crate::harness::browser_preflight();
    let _one = crate::harness::browser_lock();
    callback_refuses_user(
        "1.7",
        "browser",
        "The app's callback answered 403: \"Only company accounts may sign in\"",
    );
}

/// The callback goes through and sends the browser to a page the app does not have.
#[test]
fn a_missing_page_after_the_callback_is_a_failed_login() {
    let chain = Chain::start(Opts::default());
    let (out, report) = crate::harness::run_scenario(&format!(
        r#"name = "lands nowhere"
[chain]
app = "{app}"
preset = "better-auth"
provider = "fixture"
callback_url = "{app}/no-such-page"
timeout = "30s"
[idp]
kind = "form"
username = "alice"
password = "${{secret:{var}}}"
[[probe]]
name = "native"
request = "GET {app}/api/auth/get-session"
expect = {{ status = 200, json_present = "session" }}
"#,
        app = chain.app(),
        var = crate::harness::PASSWORD_VAR
    ));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = &report;
    assert_eq!(finding_ids(report), ["callback-error"], "{}", out.stdout);
    assert_eq!(
        report["findings"][0]["title"],
        "The app answered 404 after the callback: \"Not Found\""
    );
    assert!(
        report["findings"][0]["causes"]
            .as_array()
            .is_none_or(|c| c.is_empty())
    );
}
