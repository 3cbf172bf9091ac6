//! A front end on another site than its auth handler (`http://127.0.0.1:<port>` against
//! `http://localhost:<port>`): the login starts with the page's `fetch` to another site, whose
//! answer may not store cookies while third-party cookies are blocked (as the Chromium the
//! browser driver runs blocks them, whatever their SameSite). Both drivers decide alike.

use crate::harness::{Chain, Opts, Output, browser_lock, browser_preflight, finding_ids};
use serde_json::Value;

/// A login from the front end, with the auth handler and the guarded endpoint on the app's site.
fn login(app_env: &'static [(&'static str, &'static str)], driver: &str) -> (Output, Value) {
    let chain = Chain::start(Opts {
        frontend: true,
        app_env,
        ..Opts::default()
    });
    let run = chain.login_from(
        &chain.frontend(),
        &format!("{}/api/auth", chain.app()),
        "alice",
        &["--probe", &chain.guarded(), "--driver", driver],
    );
    (run.out, run.report)
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

/// The login starts on another host name than the app's base URL (FAILURE-MODES: a state cookie
/// lost across hosts): the state cookie stays on the start's host, the IdP sends the browser back
/// to the base URL's host (the `redirect_uri`), and the callback finds no state. That host is the
/// app's: the error page there is the app's, not the IdP's.
fn state_lost_across_hosts(driver: &str) {
    let chain = Chain::start(Opts {
        frontend: true,
        ..Opts::default()
    });
    let start = chain.frontend();
    let run = chain.login_from(
        &start,
        &format!("{start}/api/auth"),
        "alice",
        &["--driver", driver],
    );
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 1, "{}", out.all());
    let ids = finding_ids(report);
    assert_eq!(ids[0], "state-cookie-lost", "{}", out.stdout);
    assert!(!ids.contains(&"idp-error-page".to_string()), "{ids:?}");
    let cb = report["chain"]["callback_hop"]
        .as_u64()
        .expect("the callback is found") as usize;
    let callback = &report["hops"][cb - 1];
    assert!(
        callback["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/api/auth/callback/fixture", chain.app())),
        "{callback}"
    );
    assert!(
        out.stdout.contains(&format!(
            "hop {cb}: the callback request carried no state cookie"
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn a_state_cookie_lost_across_hosts_over_http() {
    state_lost_across_hosts("http");
}

#[test]
fn a_state_cookie_lost_across_hosts_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    state_lost_across_hosts("browser");
}

/// A split deployment: the web app's pages on `web.test`, the auth library and the API on
/// `api.test` (express-openid-connect, whose login is a link, so the login itself goes through).
/// The page's requests to the API go from `web.test`: a third-party request that withholds the
/// `SameSite=Lax` session cookie, and the finding says so.
fn split_deployment(driver: &str) {
    let chain = Chain::start(Opts {
        library: "eoc",
        app_host: "api.test",
        ..Opts::default()
    });
    let port = chain.app.port;
    let page = format!("http://web.test:{port}/");
    let run = chain.login(
        "alice",
        &[
            "--page",
            &page,
            "--resolve",
            "web.test:127.0.0.1",
            "--driver",
            driver,
        ],
        &[],
    );
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 1, "{}", out.all());
    // FAILURE-MODES 4: the page's fetch is cross-site; its SameSite keeps the cookie back.
    crate::field::named(
        out,
        report,
        "cookie-not-sent",
        "samesite-cross-site",
        crate::field::COOKIE_TRANSPORT,
    );
    let native = &report["probes"][0];
    let withheld = native["cookie_blocked"]
        .as_array()
        .expect("withheld cookies");
    assert!(
        withheld
            .iter()
            .any(|b| b["name"] == "appSession" && b["reason"] == "UserPreferences,SameSiteLax"),
        "{native}"
    );
    assert!(
        out.stdout
            .contains("withheld: appSession (UserPreferences,SameSiteLax)"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_split_deployments_page_goes_without_the_apis_cookie_over_http() {
    split_deployment("http");
}

#[test]
fn a_split_deployments_page_goes_without_the_apis_cookie_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    split_deployment("browser");
}
