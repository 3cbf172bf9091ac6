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
        // The app's callback, landing and session.
        ("GET", _, "callback/x") => redirect(&format!("{app}/")),
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
        ("POST", _, "a1" | "a2" | "ok") => landing,
        _ => response("404 Not Found", &[], "not found"),
    })
}

/// How a run ended: its exit code, and its first finding or the step of its error.
fn outcome(port: u16, case: &str, driver: &str) -> (i32, String) {
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
        .or_else(|| report["error"]["step"].as_str().map(str::to_string))
        .unwrap_or_default();
    (out.code, what)
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
        "another password asked for after the login",
        3,
        "idp-login",
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
