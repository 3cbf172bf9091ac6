//! A front end on another site than its auth handler (`http://127.0.0.1:<port>` against
//! `http://localhost:<port>`): the login starts with the page's `fetch` to another site, whose
//! answer may not store cookies while third-party cookies are blocked (as the Chromium the
//! browser driver runs blocks them, whatever their SameSite). Both drivers decide alike.

use crate::harness::{
    Chain, Opts, Output, authchain, browser_lock, browser_preflight, finding_ids,
};
use serde_json::Value;

/// A login from the front end, with the auth handler and the guarded endpoint on the app's site.
fn login(app_env: &'static [(&'static str, &'static str)], driver: &str) -> (Output, Value) {
    let chain = Chain::start(Opts {
        frontend: true,
        app_env,
        ..Opts::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let mut args = chain.login_args("alice");
    let app = args.iter().position(|a| a == "--app").unwrap() + 1;
    args[app] = chain.frontend();
    args.extend([
        "--auth-base".into(),
        format!("{}/api/auth", chain.app()),
        "--probe".into(),
        chain.guarded(),
        "--driver".into(),
        driver.into(),
        "--report-json".into(),
        json.display().to_string(),
    ]);
    let out = authchain(&args, &[]);
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
        .unwrap_or(Value::Null);
    (out, report)
}

/// The state cookie the start's answer sets is refused as a third-party cookie, so the callback
/// finds no state: BetterAuth's default `SameSite=Lax`, and `SameSite=None; Secure` alike.
fn state_refused(app_env: &'static [(&'static str, &'static str)], driver: &str) {
    let (out, report) = login(app_env, driver);
    assert_eq!(out.code, 1, "{}", out.all());
    let ids = finding_ids(&report);
    assert_eq!(ids[0], "state-cookie-lost", "{}", out.stdout);
    assert!(
        !ids.contains(&"browser-http-disagree".to_string()),
        "{ids:?}"
    );
    let start = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["set_cookies"].as_array().is_some_and(|c| !c.is_empty()))
        .expect("a hop sets cookies");
    assert!(
        start["url"]
            .as_str()
            .unwrap()
            .contains("/api/auth/sign-in/"),
        "{start}"
    );
    let state = start["set_cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "better-auth.state")
        .expect("the start sets the state cookie");
    assert_eq!(state["action"], "refused", "{state}");
    assert_eq!(state["refusal"], "UserPreferences", "{state}");
    assert!(
        out.stdout
            .contains("the browser blocks third-party cookies"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_cross_site_start_loses_a_lax_state_cookie_over_http() {
    state_refused(&[], "http");
}

#[test]
fn a_cross_site_start_loses_a_lax_state_cookie_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    state_refused(&[], "browser");
}

#[test]
fn a_cross_site_start_loses_a_samesite_none_state_cookie_over_http() {
    state_refused(&[("SAME_SITE", "none")], "http");
}

#[test]
fn a_cross_site_start_loses_a_samesite_none_state_cookie_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    state_refused(&[("SAME_SITE", "none")], "browser");
}
