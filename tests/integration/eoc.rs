//! `authchain login --preset express-openid-connect` through an Express app on the unmodified
//! `express-openid-connect`: the login over HTTP and in the browser, a chunked session, and a
//! failed callback that is the app's own 400.

use crate::harness::{Chain, Opts, browser_lock, browser_preflight, finding_ids};

fn chain(app_env: &'static [(&'static str, &'static str)]) -> Chain {
    Chain::start(Opts {
        library: "eoc",
        app_env,
        ..Opts::default()
    })
}

/// A whole login through `/login` and `/callback`; the route behind `requiresAuth()` answers the
/// session. A large session is chunked (`appSession.0`, `.1`): one session cookie, no finding.
fn logs_in(app_env: &'static [(&'static str, &'static str)], driver: &str, chunks: usize) {
    let chain = chain(app_env);
    let run = chain.login("alice", &["--driver", driver], &[]);
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(finding_ids(report), Vec::<String>::new(), "{}", out.stdout);
    assert_eq!(report["chain"]["start_endpoint"], "/login");
    let login = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["url"].as_str().is_some_and(|u| u.ends_with("/login")))
        .expect("the /login hop");
    assert_eq!(login["step"], "start", "{login}");
    assert_eq!(report["probes"][0]["passed"], true, "{}", out.stdout);
    let set = crate::harness::set_at_callback(report);
    let want: Vec<String> = match chunks {
        1 => vec!["appSession".into()],
        n => (0..n).map(|i| format!("appSession.{i}")).collect(),
    };
    assert_eq!(set, want, "{}", out.stdout);
    // One session cookie, in chunks or not.
    assert_eq!(report["chain"]["session_cookie"]["name"], "appSession");
    let chunk_names = if chunks == 1 { Vec::new() } else { want };
    assert_eq!(
        report["chain"]["session_cookie"]["chunks"],
        serde_json::json!(chunk_names)
    );
    assert!(!out.stdout.contains("BetterAuth"), "{}", out.stdout);
}

#[test]
fn login_over_http() {
    logs_in(&[], "http", 1);
}

#[test]
fn login_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    logs_in(&[], "browser", 1);
}

#[test]
fn a_chunked_session_is_one_session() {
    logs_in(&[("SESSION_PAD", "5000")], "http", 2);
}

/// The login starts on another host name than the app's baseURL: `auth_verification` stays on
/// the start's host, and the callback answers 400 with the library's message. That is the app's
/// failure (not the IdP's): the transaction cookie lost across hosts.
fn callback_400(driver: &str) {
    let chain = chain(&[]);
    let start = chain.frontend();
    let run = chain.login_from(&start, &start, "alice", &["--driver", driver]);
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 1, "{}", out.all());
    let ids = finding_ids(report);
    assert_eq!(ids[0], "state-cookie-lost", "{}", out.stdout);
    assert!(!ids.contains(&"idp-error-page".to_string()), "{ids:?}");
    let f = &report["findings"][0];
    let title = f["title"].as_str().unwrap();
    assert!(
        title.starts_with(
            "The state cookie did not come back to the callback (the callback answered 400: \"BadRequestError: \"auth_verification\" cookie not found"
        ),
        "{title}"
    );
    assert!(
        title.ends_with("): the login started on another host than the callback's"),
        "{title}"
    );
    assert_eq!(crate::harness::cause_keys(f), ["host-mismatch"], "{f}");
    assert!(!out.stdout.contains("BetterAuth"), "{}", out.stdout);
}

#[test]
fn a_callback_400_is_the_apps_over_http() {
    callback_400("http");
}

#[test]
fn a_callback_400_is_the_apps_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    callback_400("browser");
}

/// The app's home page has a "Log in" link: pressed, it starts the login.
#[test]
fn from_the_home_pages_link() {
    let chain = chain(&[]);
    let home = format!("{}/", chain.app());
    let run = chain.login("alice", &["--start-page", &home], &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert_eq!(finding_ids(&run.report), Vec::<String>::new());
    // A page behind the login sends the browser to the IdP by itself: the login is underway.
    let run = chain.login("alice", &["--start-page", &chain.guarded()], &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    // A page with nothing to press says so, and what to do.
    let nothing = format!("{}/nothing-here", chain.app());
    let run = chain.login("alice", &["--start-page", &nothing], &[]);
    assert_eq!(run.out.code, 3, "{}", run.out.all());
    assert!(
        run.out.stderr.contains("--start-selector") || run.out.stdout.contains("--start-selector"),
        "{}",
        run.out.all()
    );
}

/// A session too large for the server's request header limit: in chunks it goes out, and the
/// next request's Cookie header is refused with 431. That is named, with the sizes.
#[test]
fn a_session_past_the_header_limit_is_cookie_too_large() {
    let chain = chain(&[("SESSION_PAD", "12500")]);
    let run = chain.login("alice", &[], &[]);
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 1, "{}", out.all());
    let ids = finding_ids(report);
    // FAILURE-MODES 6.
    crate::field::named(
        out,
        report,
        "cookie-too-large",
        "too-large",
        crate::field::COOKIE_TRANSPORT,
    );
    assert!(!ids.contains(&"callback-error".to_string()), "{ids:?}");
    let f = &report["findings"][0];
    assert!(f["title"].as_str().unwrap().contains("431"), "{f}");
    assert!(f["evidence"].to_string().contains("appSession.0"), "{f}");
}

/// A scenario whose start is a sequence: `steps` are `[[chain.start]]` tables, `{app}` the app.
fn sequence(
    chain: &Chain,
    driver: &str,
    steps: &str,
) -> (crate::harness::Output, serde_json::Value) {
    let app = chain.app();
    crate::harness::run_scenario(&format!(
        r#"name = "sequence"
[chain]
app = "{app}"
preset = "express-openid-connect"
driver = "{driver}"
timeout = "30s"
{steps}
[idp]
username = "alice"
password = "${{secret:{var}}}"
[[probe]]
name = "me"
request = "GET {app}/api/me"
native = true
"#,
        steps = steps.replace("{app}", &app),
        var = crate::harness::PASSWORD_VAR
    ))
}

/// The sign-in page's hidden CSRF field and its cookie, captured and posted back.
const FORM_STEPS: &str = r#"[[chain.start]]
request = "GET {app}/accounts/login"
capture = { token = "form:csrfmiddlewaretoken", kept = "cookie:csrftoken" }
[[chain.start]]
request = "POST {app}/accounts/login"
form = { csrfmiddlewaretoken = "${capture.token}", echo = "${capture.kept}" }
"#;

fn a_captured_csrf_token_starts_the_login(driver: &str) {
    let chain = chain(&[]);
    let (out, report) = sequence(&chain, driver, FORM_STEPS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(finding_ids(&report), Vec::<String>::new(), "{}", out.stdout);
    let starts: Vec<&str> = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["step"] == "start")
        .map(|h| h["method"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["GET", "POST"], "{}", out.stdout);
    assert_eq!(report["chain"]["start_endpoint"], "/accounts/login");
    assert_eq!(report["probes"][0]["passed"], true, "{}", out.stdout);
}

#[test]
fn a_start_sequence_with_captures_over_http() {
    a_captured_csrf_token_starts_the_login("http");
    // The token from a JSON answer, sent in a header.
    let chain = chain(&[]);
    let (out, report) = sequence(
        &chain,
        "http",
        r#"[[chain.start]]
request = "GET {app}/accounts/csrf"
capture = { token = "json:csrfToken" }
[[chain.start]]
request = "POST {app}/accounts/login"
form = { next = "/" }
headers = { X-CSRFToken = "${capture.token}" }
"#,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(finding_ids(&report), Vec::<String>::new(), "{}", out.stdout);
}

#[test]
fn a_start_sequence_with_captures_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    a_captured_csrf_token_starts_the_login("browser");
}

/// A capture that is not in the answer stops the run, naming it; a post without the token is
/// the start refused.
#[test]
fn a_missing_capture_or_token_is_named() {
    let chain = chain(&[]);
    let (out, _) = sequence(
        &chain,
        "http",
        &FORM_STEPS.replace("form:csrfmiddlewaretoken", "form:csrf_token"),
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.all()
            .contains("start request 1 answered 200 without capture `token` (form:csrf_token)"),
        "{}",
        out.all()
    );
    let (out, report) = sequence(
        &chain,
        "http",
        r#"[[chain.start]]
request = "GET {app}/accounts/login"
[[chain.start]]
request = "POST {app}/accounts/login"
form = { csrfmiddlewaretoken = "guessed" }
"#,
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(finding_ids(&report), ["start-rejected"], "{}", out.stdout);
}
