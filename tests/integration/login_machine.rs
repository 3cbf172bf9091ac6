//! The login state machine's table, through both drivers: each case is a short chain of recorded
//! answers (start answers, IdP pages, consent pages, landings) served on loopback, driven once
//! over HTTP and once in Chromium; both must end alike, and as the table says.

use crate::harness::{Misbehaving, authchain, browser_lock, finding_ids, read_json, response};

fn html(status: &str, body: &str) -> Vec<u8> {
    response(
        status,
        &[("content-type", "text/html; charset=utf-8")],
        &format!("<!DOCTYPE html><html><body>{body}</body></html>"),
    )
}

fn redirect(to: &str) -> Vec<u8> {
    response("302 Found", &[("location", to)], "")
}

fn login_form(action: &str, extra: &str) -> String {
    format!(
        "{extra}<form method=post action={action}><input name=username autocomplete=username>\
         <input type=password name=password><button type=submit>Sign in</button></form>"
    )
}

/// Case `c<N>` lives under `/c<N>/`: the app is 127.0.0.1, the IdP localhost, on one port.
fn chain(method: &str, path: &str, port: u16) -> Option<Vec<u8>> {
    let app = format!("http://127.0.0.1:{port}");
    let idp = format!("http://localhost:{port}");
    let path = path.split('?').next().unwrap_or(path);
    if path == "/" {
        return Some(html("200 OK", "<h1>The app</h1>"));
    }
    let Some((case, rest)) = path.trim_start_matches('/').split_once('/') else {
        return Some(response("404 Not Found", &[], "not found"));
    };
    let first = format!("{idp}/{case}/p1");
    let landing = redirect(&format!("{app}/{case}/callback/x"));
    Some(match (method, case, rest) {
        // Start answers.
        ("POST", "c9", "api/auth/sign-in/social" | "api/auth/sign-in/oauth2") => response(
            "404 Not Found",
            &[("content-type", "application/json")],
            r#"{"message":"Not Found"}"#,
        ),
        ("POST", "c10", "api/auth/sign-in/social") => response(
            "200 OK",
            &[("content-type", "application/json")],
            &format!(r#"{{"authorizationUrl":"{first}","state":"s1"}}"#),
        ),
        ("POST", _, "api/auth/sign-in/social") => response(
            "200 OK",
            &[("content-type", "application/json"), ("location", &first)],
            &format!(r#"{{"url":"{first}","redirect":true}}"#),
        ),
        // The app's callback, landing and session (a form_post callback arrives as a POST).
        ("GET", _, "callback/x") | ("POST", "c16", "callback/x") => redirect(&format!("{app}/")),
        ("GET", _, "api/auth/get-session") => response(
            "200 OK",
            &[("content-type", "application/json")],
            r#"{"session":{"id":"s1"},"user":{"email":"a@example.com"}}"#,
        ),
        // The IdP's pages.
        ("GET", "c8", "p1") => html("400 Bad Request", "<h1>invalid_redirect_uri</h1>"),
        ("GET", "c2", "p1") => html(
            "200 OK",
            "<form method=post action=/c2/a1><input name=email><button type=submit>Next</button></form>",
        ),
        ("GET", "c2", "p2") => html(
            "200 OK",
            "<form method=post action=/c2/a2><input type=password name=password><button type=submit>Sign in</button></form>",
        ),
        ("GET", "c7", "p2") => html(
            "200 OK",
            "<form method=post action=/c7/ok><button type=submit>Allow</button></form>\
             <form method=post action=/c7/no><button type=submit>Deny</button></form>",
        ),
        // A meta refresh in front of the login form.
        ("GET", "c15", "p1") => html(
            "200 OK",
            "<meta http-equiv=refresh content=\"0; URL='/c15/p2'\"><p>Redirecting</p>",
        ),
        ("GET", "c15", "p2") => html("200 OK", &login_form("/c15/a1", "")),
        // A login form that only a script builds.
        ("GET", "c17", "p1") => html(
            "200 OK",
            &format!(
                "<div id=root>Loading</div><script>document.getElementById('root').innerHTML = \
                 '{}';</script>",
                login_form("/c17/a1", "")
            ),
        ),
        ("GET", _, "p1") => html("200 OK", &login_form(&format!("/{case}/a1"), "")),
        // What the IdP answers to a submission.
        ("POST", "c2", "a1") => redirect(&format!("{idp}/c2/p2")),
        ("POST", "c3", "a1") => html(
            "200 OK",
            &login_form("/c3/a1", "<p class=error>Invalid username or password</p>"),
        ),
        ("POST", "c4", "a1") => html("401 Unauthorized", &login_form("/c4/a1", "")),
        ("POST", "c5", "a1") => html(
            "200 OK",
            "<p class=error>Choose a new password</p><form method=post action=/c5/change>\
             <input type=password name=new><button type=submit>Save</button></form>",
        ),
        ("POST", "c6", "a1") => html("200 OK", "<h1>Permission denied</h1>"),
        ("POST", "c7", "a1") => redirect(&format!("{idp}/c7/p2")),
        // A wrong password as an error banner on a 200 page without the form.
        ("POST", "c11", "a1") => html(
            "200 OK",
            "<div class=banner role=alert>Wrong email or password</div><a href=/c11/p1>Try again</a>",
        ),
        // As a plain-text 401.
        ("POST", "c12", "a1") => response(
            "401 Unauthorized",
            &[("content-type", "text/plain")],
            "Invalid username or password",
        ),
        // As a JSON error.
        ("POST", "c13", "a1") => response(
            "400 Bad Request",
            &[("content-type", "application/json")],
            r#"{"error":"invalid_grant","error_description":"Account is locked"}"#,
        ),
        // A second factor after the password.
        ("POST", "c14", "a1") => html(
            "200 OK",
            "<h1>Two-step verification</h1><form method=post action=/c14/otp>\
             <input name=code inputmode=numeric maxlength=6 autocomplete=one-time-code>\
             <button type=submit>Verify</button></form>",
        ),
        // The code back to the app as an auto-submitting form_post page.
        ("POST", "c16", "a1") => html(
            "200 OK",
            &format!(
                "<form method=post action={app}/c16/callback/x><input type=hidden name=code \
                 value=abc><input type=hidden name=state value=s1></form>\
                 <script>document.forms[0].submit()</script>"
            ),
        ),
        // "Stay signed in?" after the password.
        ("POST", "c18", "a1") => html(
            "200 OK",
            "<h1>Stay signed in?</h1><form method=post action=/c18/kmsi>\
             <input type=hidden name=ctx value=1><button name=yes value=1>Yes</button>\
             <button name=no value=1>No</button></form>",
        ),
        ("POST", _, "a1" | "a2" | "ok") => landing,
        _ => response("404 Not Found", &[], "not found"),
    })
}

/// How a run ended: its exit code, and its first finding or the kind (else the step) of its
/// error; the error's message and the first finding's title.
fn run(port: u16, case: &str, driver: &str) -> (i32, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let app = format!("http://127.0.0.1:{port}");
    let out = authchain(
        &[
            "login",
            "--app",
            &app,
            "--auth-base",
            &format!("{app}/{case}/api/auth"),
            "--provider",
            "x",
            "--user",
            "alice",
            "--password-env",
            "AUTHCHAIN_TEST_PASSWORD",
            "--driver",
            driver,
            "--timeout",
            "3s",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    let report = read_json(&json);
    let what = finding_ids(&report)
        .into_iter()
        .next()
        .or_else(|| report["error"]["kind"].as_str().map(str::to_string))
        .or_else(|| report["error"]["step"].as_str().map(str::to_string))
        .unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    (
        out.code,
        what,
        text(&report["error"]["message"]),
        text(&report["findings"][0]["title"]),
    )
}

fn outcome(port: u16, case: &str, driver: &str) -> (i32, String) {
    let (code, what, ..) = run(port, case, driver);
    (code, what)
}

const CASES: &[(&str, &str, i32, &str)] = &[
    ("c1", "login form, landing", 0, ""),
    ("c2", "username first, then the password", 0, ""),
    (
        "c3",
        "the same form again with an error",
        1,
        "idp-login-rejected",
    ),
    (
        "c4",
        "the same form again with a 401",
        1,
        "idp-login-rejected",
    ),
    (
        "c5",
        "a new password asked for after the login",
        3,
        "idp-needs-interaction",
    ),
    ("c6", "a policy page after the login", 1, "idp-error-page"),
    ("c7", "login, consent, landing", 0, ""),
    (
        "c8",
        "an IdP error answer before any form",
        1,
        "idp-error-page",
    ),
    (
        "c9",
        "no start endpoint knows the provider",
        1,
        "start-rejected",
    ),
    ("c10", "a start answer with authorizationUrl", 0, ""),
    (
        "c11",
        "a wrong password as a banner without the form",
        1,
        "idp-login-rejected",
    ),
    (
        "c12",
        "a wrong password as a plain-text 401",
        1,
        "idp-login-rejected",
    ),
    (
        "c13",
        "a wrong password as a JSON error",
        1,
        "idp-login-rejected",
    ),
    (
        "c14",
        "a one-time code after the password",
        3,
        "idp-needs-interaction",
    ),
    ("c15", "a meta refresh before the login form", 0, ""),
    ("c16", "a form_post page back to the callback", 0, ""),
    (
        "c18",
        "stay signed in after the password",
        3,
        "idp-needs-interaction",
    ),
];

#[test]
fn both_drivers_follow_the_same_table() {
    let server = Misbehaving::start(chain);
    let _one = browser_lock();
    for (case, what, code, first) in CASES {
        let want = (*code, first.to_string());
        assert_eq!(
            outcome(server.port, case, "http"),
            want,
            "{case} over HTTP: {what}"
        );
        assert_eq!(
            outcome(server.port, case, "browser"),
            want,
            "{case} in the browser: {what}"
        );
    }
}

/// What the IdP asks for is named, and the JSON error's message and the account's state reach
/// the finding.
#[test]
fn the_idps_words_reach_the_report() {
    let server = Misbehaving::start(chain);
    let (_, _, message, _) = run(server.port, "c14", "http");
    assert!(message.contains("a one-time code"), "{message}");
    let (_, _, message, _) = run(server.port, "c18", "http");
    assert!(message.contains("whether to stay signed in"), "{message}");
    let (_, _, message, _) = run(server.port, "c5", "http");
    assert!(message.contains("a new password"), "{message}");
    let (_, what, _, title) = run(server.port, "c13", "http");
    assert_eq!(what, "idp-login-rejected");
    assert!(title.contains("the account is locked"), "{title}");
}

/// A login form that only a script builds: over HTTP the run stops and says to use the
/// browser, which logs in.
#[test]
fn a_scripted_form_needs_the_browser() {
    let server = Misbehaving::start(chain);
    let (code, what, message, _) = run(server.port, "c17", "http");
    assert_eq!((code, what.as_str()), (3, "idp"), "{message}");
    assert!(message.contains("--driver browser"), "{message}");
    let _one = browser_lock();
    assert_eq!(outcome(server.port, "c17", "browser"), (0, String::new()));
}
