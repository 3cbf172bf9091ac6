//! `authchain login --preset authjs` through an Express app on the unmodified `@auth/express`
//! (Auth.js mounted at `/auth`), JWT and database sessions, over HTTP and in the browser.

use crate::harness::{Chain, Opts, browser_lock, browser_preflight, finding_ids};

fn chain(app_env: &'static [(&'static str, &'static str)]) -> Chain {
    Chain::start(Opts {
        library: "authjs",
        app_env,
        ..Opts::default()
    })
}

/// A whole login: the CSRF token, the sign-in form, the IdP, the callback, and both the native
/// session endpoint and the app's own guard accept the session. No address of the chain is
/// fingerprinted (Auth.js keeps the callback URL in a cookie).
fn logs_in(strategy: &'static [(&'static str, &'static str)], driver: &str, value_parts: usize) {
    let chain = chain(strategy);
    let run = chain.login(
        "alice",
        &["--probe", &chain.guarded(), "--driver", driver],
        &[],
    );
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(finding_ids(report), Vec::<String>::new(), "{}", out.stdout);
    assert_eq!(report["chain"]["start_endpoint"], "/signin/fixture");
    let hops = report["hops"].as_array().unwrap();
    let cb = report["chain"]["callback_hop"]
        .as_u64()
        .expect("a callback") as usize;
    assert!(
        hops[cb - 1]["url"]
            .as_str()
            .unwrap()
            .contains("/auth/callback/fixture")
    );
    let session = hops[cb - 1]["set_cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "authjs.session-token")
        .expect("the callback sets the session cookie");
    // A JWE (5 parts) or a database session's id (a UUID).
    assert_eq!(
        session["value"]["shape"],
        if value_parts == 5 { "jwe" } else { "uuid" },
        "{session}"
    );
    for p in report["probes"].as_array().unwrap() {
        assert_eq!(p["passed"], true, "{p}");
    }
    let app = chain.app();
    assert!(
        out.stdout.contains(&format!("app {app}/")),
        "the app's origin is shown as it is: {}",
        out.stdout
    );
    let callback_url: Vec<&serde_json::Value> = hops
        .iter()
        .flat_map(|h| h["set_cookies"].as_array().unwrap())
        .filter(|c| c["name"] == "authjs.callback-url")
        .collect();
    assert!(!callback_url.is_empty());
    for c in callback_url {
        // The cookie holds the app's own address: shown as it is.
        assert!(!c["raw"].as_str().unwrap().contains('‹'), "{c}");
        assert!(
            c["value"]["value"]
                .as_str()
                .is_some_and(|v| v.starts_with("http%3A%2F%2Flocalhost")),
            "{c}"
        );
    }
}

#[test]
fn jwt_sessions_over_http() {
    logs_in(&[], "http", 5);
}

#[test]
fn database_sessions_over_http() {
    logs_in(&[("SESSION_STRATEGY", "database")], "http", 1);
}

#[test]
fn jwt_sessions_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    logs_in(&[], "browser", 5);
}

#[test]
fn database_sessions_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    logs_in(&[("SESSION_STRATEGY", "database")], "browser", 1);
}

/// A host Auth.js does not trust (production, no trustHost): every action answers 500, the CSRF
/// step first.
#[test]
fn an_untrusted_host_refuses_the_start() {
    let chain = chain(&[("AUTH_TRUST", "none"), ("NODE_ENV", "production")]);
    let run = chain.login("alice", &[], &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert_eq!(
        finding_ids(&run.report)[0],
        "start-rejected",
        "{}",
        run.out.stdout
    );
    let f = &run.report["findings"][0];
    assert_eq!(f["title"], "The app refused to start the login (500)");
    crate::harness::assert_says(f, "explanation", "UntrustedHost");
    // FAILURE-MODES 10: a 500 from a step that needs no IdP.
    crate::field::named(
        &run.out,
        &run.report,
        "start-rejected",
        "untrusted-host",
        crate::field::START,
    );
}

/// A start that skips Auth.js's CSRF step: the sign-in POST is sent back to the app's sign-in
/// page with `error=MissingCSRF`, which is the start refused, named.
#[test]
fn a_start_without_the_csrf_step_is_refused_with_missing_csrf() {
    let chain = chain(&[]);
    let app = chain.app();
    let (out, report) = crate::harness::run_scenario(&format!(
        r#"name = "no csrf"
[chain]
app = "{app}"
preset = "authjs"
auth_base = "{app}/auth"
provider = "fixture"
start = {{ request = "POST {app}/auth/signin/fixture", form = {{ callbackUrl = "{app}/" }} }}
timeout = "30s"
[idp]
username = "alice"
password = "${{secret:{var}}}"
"#,
        var = crate::harness::PASSWORD_VAR
    ));
    assert_eq!(out.code, 1, "{}", out.all());
    let report = &report;
    assert_eq!(finding_ids(report), ["start-rejected"], "{}", out.stdout);
    // FAILURE-MODES 11.
    crate::field::named(
        &out,
        report,
        "start-rejected",
        "missing-csrf",
        crate::field::START,
    );
    let f = &report["findings"][0];
    assert_eq!(
        f["title"],
        "The app refused to start the login: error=MissingCSRF"
    );
    crate::harness::assert_says(f, "explanation", "CSRF token");
}

/// A session too large for one cookie: Auth.js writes it in chunks and reads them back; a guard
/// that reads the one cookie `authjs.session-token` gets nothing, and the matrix finds it takes
/// the session whole as one cookie.
#[test]
fn a_guard_that_reads_one_chunk_is_named() {
    let chain = chain(&[("SESSION_PAD", "5000")]);
    let zoo = format!("{}/zoo/nest/correct", chain.app());
    let run = chain.login(
        "alice",
        &["--probe", &chain.guarded(), "--probe", &zoo],
        &[],
    );
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 1, "{}", out.all());
    let set: Vec<String> = crate::harness::set_at_callback(report)
        .into_iter()
        .filter(|n| n.starts_with("authjs.session-token"))
        .collect();
    assert_eq!(set, ["authjs.session-token.0", "authjs.session-token.1"]);
    assert_eq!(
        report["chain"]["session_cookie"],
        serde_json::json!({"name": "authjs.session-token",
                           "chunks": ["authjs.session-token.0", "authjs.session-token.1"]})
    );
    let passed = |name: &str| {
        report["probes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["passed"].clone())
    };
    // The library's own endpoint and the app's guard on getSession join the chunks.
    assert_eq!(passed("native"), Some(serde_json::json!(true)));
    assert_eq!(passed("/api/me"), Some(serde_json::json!(true)));
    assert_eq!(
        finding_ids(report),
        ["guard-misses-cookie"],
        "{}",
        out.stdout
    );
    let f = &report["findings"][0];
    assert_eq!(f["causes"][0]["key"], "reads-one-chunk", "{f}");
    crate::harness::assert_says(
        f,
        "title",
        "reads the session as one cookie `authjs.session-token`",
    );
}

/// Auth.js's own sign-in page, pressed as a person presses it: its form for the provider carries
/// the CSRF token as a hidden field.
fn from_its_sign_in_page(driver: &str) {
    let chain = chain(&[]);
    let page = format!("{}/auth/signin", chain.app());
    let run = chain.login("alice", &["--start-page", &page, "--driver", driver], &[]);
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(finding_ids(report), Vec::<String>::new(), "{}", out.stdout);
    assert_eq!(report["chain"]["start_endpoint"], "/auth/signin");
    let posted = report["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["method"] == "POST" && h["step"] == "start")
        .expect("the sign-in form is posted");
    assert!(
        posted["url"]
            .as_str()
            .unwrap()
            .ends_with("/auth/signin/fixture"),
        "{posted}"
    );
}

#[test]
fn from_its_sign_in_page_over_http() {
    from_its_sign_in_page("http");
}

#[test]
fn from_its_sign_in_page_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    from_its_sign_in_page("browser");
}

/// Auth.js shows every server-side failure of the callback as `error=Configuration`; the chain's
/// evidence tells which. The PKCE cookie kept from the callback by its path is the state cookie
/// lost (Auth.js's InvalidCheck), named by its cause.
#[test]
fn a_pkce_cookie_kept_from_the_callback_is_invalid_check() {
    let chain = chain(&[("PKCE_COOKIE_PATH", "/elsewhere")]);
    let run = chain.login("alice", &[], &[]);
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 1, "{}", out.all());
    let f = &report["findings"][0];
    assert_eq!(f["id"], "state-cookie-lost", "{}", out.stdout);
    assert_eq!(
        f["title"],
        "The state cookie did not come back to the callback (error=Configuration): its Path \
         does not cover the callback's path"
    );
    assert_eq!(crate::harness::cause_keys(f), ["cookie-path"], "{f}");
    crate::harness::assert_says(f, "explanation", "`InvalidCheck`");
    crate::harness::assert_says(f, "fix", "cookies.pkceCodeVerifier.options");
}

/// A code that came back and could not be exchanged (a wrong client secret): the state was
/// fine, so the token exchange leads and the state is no cause.
#[test]
fn a_code_that_cannot_be_exchanged_is_the_token_exchange() {
    let chain = chain(&[("CLIENT_SECRET", "not-the-fixture-secret")]);
    let run = chain.login("alice", &[], &[]);
    let (out, report) = (&run.out, &run.report);
    assert_eq!(out.code, 1, "{}", out.all());
    let f = &report["findings"][0];
    assert_eq!(f["id"], "callback-error", "{}", out.stdout);
    assert_eq!(f["title"], "The login failed with error=Configuration");
    let keys = crate::harness::cause_keys(f);
    assert_eq!(keys[0], "code-exchange-failed", "{f}");
    assert!(
        !keys.contains(&"state-not-returned".to_string()),
        "{keys:?}"
    );
}
