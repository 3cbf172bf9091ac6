//! The field's failure modes (docs/findings.md, "Failure modes"), each reproduced on the
//! unmodified packages by configuration, host names or timing, and named by the top finding's
//! id and cause key, with no other cause of its family beside it.

use crate::harness::{Chain, Opts, browser_lock, browser_preflight, cause_keys};
use serde_json::Value;

/// The causes of a lost cookie: one mode's key must come without the others.
pub const COOKIE_TRANSPORT: &[&str] = &[
    "host-mismatch",
    "secure-over-http",
    "samesite-cross-site",
    "cookie-domain",
    "cookie-path",
    "third-party-blocked",
    "too-large",
    "state-expired",
    "state-not-returned",
];

/// The causes of a refused start.
pub const START: &[&str] = &[
    "untrusted-origin",
    "untrusted-host",
    "missing-csrf",
    "start-not-served",
    "idp-unreachable",
];

/// The top finding is `id` with the one cause `key`, and no finding names another cause of
/// the family.
pub fn named(out: &crate::harness::Output, report: &Value, id: &str, key: &str, family: &[&str]) {
    let f = &report["findings"][0];
    assert_eq!(f["id"], id, "{}", out.stdout);
    assert_eq!(cause_keys(f).first().map(String::as_str), Some(key), "{f}");
    for other in report["findings"].as_array().unwrap() {
        for k in cause_keys(other) {
            assert!(
                k == key || !family.contains(&k.as_str()),
                "{k} beside {key}: {}",
                out.stdout
            );
        }
    }
}

/// Asserts that the top finding's `field` says `words`.
fn top_says(run: &crate::harness::Run, field: &str, words: &str) {
    crate::harness::assert_says(&run.report["findings"][0], field, words);
}

/// Logs in through `chain` with `extra` flags: the login fails (exit 1), and the top finding is
/// `id` with the cause `key` and no other of its `family`.
fn fails_with(
    chain: &Chain,
    extra: &[&str],
    id: &str,
    key: &str,
    family: &[&str],
) -> crate::harness::Run {
    let run = chain.login("alice", extra, &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    named(&run.out, &run.report, id, key, family);
    run
}

/// Mode 1: the login starts on `127.0.0.1`, the app's base URL (and so the redirect_uri) is on
/// `localhost`; the state cookie stays on the start's host.
#[test]
fn mode_01_state_cookie_lost_across_hosts() {
    let chain = Chain::start(Opts {
        frontend: true,
        ..Opts::default()
    });
    let start = chain.frontend();
    let run = chain.login_from(&start, &format!("{start}/api/auth"), "alice", &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    named(
        &run.out,
        &run.report,
        "state-cookie-lost",
        "host-mismatch",
        COOKIE_TRANSPORT,
    );
    top_says(&run, "explanation", "`state_mismatch`");
    top_says(&run, "fix", "baseURL");
}

/// Mode 2: secure cookies (an https baseURL's) on a plain-http host that is not loopback: the
/// `__Secure-` state cookie is refused.
fn secure_cookies_over_http(driver: &str) {
    let chain = Chain::start(Opts {
        secure: true,
        app_host: "app.test",
        ..Opts::default()
    });
    let run = fails_with(
        &chain,
        &["--driver", driver],
        "state-cookie-lost",
        "secure-over-http",
        COOKIE_TRANSPORT,
    );
    top_says(&run, "fix", "useSecureCookies");
}

#[test]
fn mode_02_secure_cookies_over_http() {
    secure_cookies_over_http("http");
}

#[test]
fn mode_02_secure_cookies_over_http_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    secure_cookies_over_http("browser");
}

/// Mode 3: the IdP returns with `response_mode=form_post`, a POST from its own site; Auth.js's
/// PKCE cookie is `SameSite=Lax` and stays behind (Auth.js: InvalidCheck, shown as
/// `Configuration`).
fn form_post_callback(driver: &str) {
    let chain = Chain::start(Opts {
        library: "authjs",
        app_env: &[("RESPONSE_MODE", "form_post")],
        ..Opts::default()
    });
    let run = fails_with(
        &chain,
        &["--driver", driver],
        "state-cookie-lost",
        "samesite-cross-site",
        COOKIE_TRANSPORT,
    );
    let report = &run.report;
    let cb = report["chain"]["callback_hop"].as_u64().unwrap() as usize;
    assert_eq!(
        report["hops"][cb - 1]["method"],
        "POST",
        "{}",
        run.out.stdout
    );
    let f = &report["findings"][0];
    crate::harness::assert_says(f, "explanation", "`InvalidCheck`");
}

#[test]
fn mode_03_form_post_callback() {
    form_post_callback("http");
}

#[test]
fn mode_03_form_post_callback_in_the_browser() {
    browser_preflight();
    let _one = browser_lock();
    form_post_callback("browser");
}

/// Mode 5: the session is set host-only by the auth handler's host, `api.app.test`; the app's
/// guard on `app.app.test` never gets it.
#[test]
fn mode_05_cross_subdomain_session() {
    let chain = Chain::start(Opts {
        app_host: "api.app.test",
        ..Opts::default()
    });
    let guard = chain.guarded().replace("api.app.test", "app.app.test");
    let run = fails_with(
        &chain,
        &["--probe", &guard, "--resolve", "app.app.test:127.0.0.1"],
        "cookie-not-sent",
        "cookie-domain",
        COOKIE_TRANSPORT,
    );
    top_says(&run, "explanation", "crossSubDomainCookies");
}

/// Mode 12: the state cookie lives one second (BetterAuth's
/// `advanced.cookies.state.attributes.maxAge`) and the user takes longer at the IdP.
#[test]
fn mode_12_state_cookie_expired() {
    let chain = Chain::start(Opts {
        app_env: &[("STATE_MAX_AGE", "1")],
        idp_env: &[("LOGIN_DELAY_MS", "2500")],
        ..Opts::default()
    });
    let run = fails_with(
        &chain,
        &[],
        "state-cookie-lost",
        "state-expired",
        COOKIE_TRANSPORT,
    );
    top_says(&run, "explanation", "Max-Age=1");
    top_says(&run, "fix", "advanced.cookies.state.attributes");
}

/// The identity claims: one mode's key must come without the others.
const IDENTITY: &[&str] = &[
    "claims-only-in-userinfo",
    "scope-not-granted",
    "no-email-at-idp",
];

/// Mode 19: the IdP has no email for the user; Auth.js logs them in anyway.
#[test]
fn mode_19_no_email_claim() {
    let chain = Chain::start(Opts {
        library: "authjs",
        ..Opts::default()
    });
    let run = chain.login("nomail", &[], &[]);
    // A warning: the login works.
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    let f = &run.report["findings"][0];
    assert_eq!(f["id"], "missing-email-claim", "{}", run.out.stdout);
    assert_eq!(f["severity"], "warning");
    assert_eq!(cause_keys(f)[0], "no-email-at-idp", "{f}");
    assert!(
        !cause_keys(f).contains(&"scope-not-granted".to_string()),
        "{f}"
    );
}

/// Mode 20: Auth.js reads the ID token (`type: "oidc"`), and the IdP puts email and name only in
/// its userinfo answer: the session's user is `{}`.
#[test]
fn mode_20_claims_only_in_userinfo() {
    let chain = Chain::start(Opts {
        library: "authjs",
        app_env: &[("ID_TOKEN", "true")],
        ..Opts::default()
    });
    let run = fails_with(
        &chain,
        &[],
        "session-without-identity",
        "claims-only-in-userinfo",
        IDENTITY,
    );
    top_says(&run, "fix", "idToken: false");
}

/// Mode 9: BetterAuth refuses a sign-in whose callback URL is on an origin it does not trust
/// (`trustedOrigins`), with a 403 and its own code.
#[test]
fn mode_09_untrusted_origin() {
    let chain = Chain::start(Opts::default());
    let run = fails_with(
        &chain,
        &["--callback-url", "http://elsewhere.test/"],
        "start-rejected",
        "untrusted-origin",
        START,
    );
    top_says(&run, "explanation", "trustedOrigins");
}

/// The causes of a refused authorization request.
const URLS: &[&str] = &[
    "redirect-uri-origin",
    "redirect-uri-path",
    "untrusted-origin",
    "untrusted-host",
];

/// Mode 7: a proxy in front of the app says `X-Forwarded-Proto: https`, which the app trusts
/// (Express's `trust proxy`), so Auth.js builds an `https://` redirect_uri for a login that runs
/// on `http://`; the IdP has no such URI registered and shows its error page.
#[test]
fn mode_07_redirect_uri_built_behind_a_proxy() {
    let chain = Chain::start(Opts {
        library: "authjs",
        app_env: &[("TRUST_PROXY", "true")],
        proxy_env: &[("FORWARDED_PROTO", "https")],
        ..Opts::default()
    });
    let run = fails_with(&chain, &[], "idp-error-page", "redirect-uri-origin", URLS);
    top_says(&run, "evidence", "redirect_uri is https://");
    top_says(&run, "fix", "trust proxy");
}

/// Mode 8: the IdP still has BetterAuth 1.6's callback path registered; 1.7 sends its own.
#[test]
fn mode_08_registered_redirect_uri_drifted() {
    let chain = Chain::start(Opts {
        idp_env: &[("REDIRECT_PATHS", "/api/auth/oauth2/callback/fixture")],
        ..Opts::default()
    });
    let run = fails_with(&chain, &[], "idp-error-page", "redirect-uri-path", URLS);
    let sent = format!("{}/api/auth/callback/fixture", chain.app());
    top_says(&run, "fix", &sent);
}

/// The causes the IdP's metadata shows.
const METADATA: &[&str] = &["issuer-mismatch", "id-token-alg", "idp-unreachable"];

/// Auth.js against the Authentik stand-in, configured with the issuer `issuer_path` (under the
/// stand-in's origin), its ID tokens signed `alg`.
fn authjs_at_authentik(issuer_path: &'static str, alg: &'static str) -> Chain {
    let idp_env: &'static [(&'static str, &'static str)] = if alg == "HS256" {
        &[("SIGNING_ALG", "HS256")]
    } else {
        &[]
    };
    Chain::start(Opts {
        library: "authjs",
        idp: "authentik",
        idp_env,
        app_env: if issuer_path.ends_with('/') {
            &[("ISSUER_PATH", "/application/o/authchain/")]
        } else {
            &[("ISSUER_PATH", "/application/o/authchain")]
        },
        ..Opts::default()
    })
}

/// Mode 15: the app is configured with Authentik's issuer without its trailing slash; Auth.js
/// refuses the discovery document, which names it with one.
#[test]
fn mode_15_issuer_without_its_trailing_slash() {
    let chain = authjs_at_authentik("/application/o/authchain", "RS256");
    let issuer = format!(
        "http://127.0.0.1:{}/application/o/authchain",
        chain.idp.port
    );
    let run = fails_with(
        &chain,
        &["--issuer", &issuer],
        "start-rejected",
        "issuer-mismatch",
        METADATA,
    );
    let f = &run.report["findings"][0];
    crate::harness::assert_says(f, "evidence", "the IdP's has `/` more at character");
    assert_eq!(
        run.report["idp"]["issuer"],
        format!("{issuer}/"),
        "{}",
        run.out.stdout
    );
}

/// Mode 17: the IdP signs ID tokens HS256 (an Authentik provider without a signing key);
/// BetterAuth 1.7 verifies them only against the JWKS, which has no key.
#[test]
fn mode_17_hs256_id_token() {
    let chain = Chain::start(Opts {
        idp: "authentik",
        idp_env: &[("SIGNING_ALG", "HS256")],
        ..Opts::default()
    });
    let run = fails_with(&chain, &[], "callback-error", "id-token-alg", METADATA);
    assert_eq!(
        run.report["idp"]["id_token_algs"],
        serde_json::json!(["HS256"])
    );
    crate::harness::assert_says(
        &run.report["findings"][0],
        "evidence",
        "signs ID tokens with HS256",
    );
}

/// The controls: BetterAuth 1.7 behind an issuer with a trailing slash (the stand-in's), and
/// Auth.js with an HS256 ID token, log in with no finding.
#[test]
fn controls_trailing_slash_and_hs256_log_in() {
    let chain = Chain::start(Opts {
        idp: "authentik",
        ..Opts::default()
    });
    let run = chain.login("alice", &[], &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert_eq!(
        crate::harness::finding_ids(&run.report),
        Vec::<String>::new()
    );
    let chain = authjs_at_authentik("/application/o/authchain/", "HS256");
    let run = chain.login("alice", &[], &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert_eq!(
        crate::harness::finding_ids(&run.report),
        Vec::<String>::new()
    );
}

/// The causes of a callback that failed after a good start.
const LIFECYCLE: &[&str] = &[
    "state-expired",
    "callback-replayed",
    "code-exchange-failed",
    "state-not-returned",
];

/// Mode 13: the callback is requested twice (a proxy in front sends the browser to it again, as
/// a back button or a reload does); the second fails while the first made the session.
#[test]
fn mode_13_callback_hit_twice() {
    let chain = Chain::start(Opts {
        proxy_env: &[("REPLAY_PATH", "/api/auth/callback/")],
        ..Opts::default()
    });
    let run = fails_with(
        &chain,
        &[],
        "callback-replayed",
        "callback-replayed",
        LIFECYCLE,
    );
    top_says(&run, "evidence", "better-auth.session_token (set)");
}

/// Mode 14: a wrong client secret; the state was fine and a code came back, and BetterAuth
/// could not exchange it.
#[test]
fn mode_14_code_exchange_rejected() {
    let chain = Chain::start(Opts {
        app_env: &[("CLIENT_SECRET", "not-the-fixture-secret")],
        ..Opts::default()
    });
    fails_with(
        &chain,
        &[],
        "callback-error",
        "code-exchange-failed",
        LIFECYCLE,
    );
}

/// Mode 16: the app reaches the IdP through a proxy, by the proxy's name, while the IdP names
/// itself by its internal one: Auth.js refuses the discovery document.
#[test]
fn mode_16_issuer_by_another_host() {
    let chain = Chain::start(Opts {
        library: "authjs",
        idp_behind_proxy: true,
        ..Opts::default()
    });
    let proxy = chain.idp_proxy.as_ref().expect("the IdP's proxy").port;
    let issuer = format!("http://localhost:{proxy}");
    let run = fails_with(
        &chain,
        &["--issuer", &issuer],
        "start-rejected",
        "issuer-mismatch",
        METADATA,
    );
    top_says(&run, "evidence", "they differ from character 8");
}

/// Mode 18: the IdP's clock is ten minutes behind (a clock shim; its `Date` headers follow) and
/// its ID tokens live a minute: they arrive expired, past express-openid-connect's leeway.
#[test]
fn mode_18_clock_skew() {
    let chain = Chain::start(Opts {
        library: "eoc",
        idp_clock: "-10m",
        idp_env: &[("ID_TOKEN_TTL", "60")],
        ..Opts::default()
    });
    let run = fails_with(&chain, &[], "callback-error", "clock-skew", METADATA);
    top_says(&run, "evidence", "10 min behind the app's");
}

/// Mode 21: a user with this email signed up before, and the IdP says the email is not verified:
/// BetterAuth does not link the account.
#[test]
fn mode_21_account_not_linked() {
    let chain = Chain::start(Opts {
        app_env: &[("SEED_EMAIL", "unverified@example.test")],
        ..Opts::default()
    });
    let run = chain.login("unverified", &[], &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    let family: Vec<&str> = IDENTITY
        .iter()
        .copied()
        .chain(["account-not-linked"])
        .collect();
    named(
        &run.out,
        &run.report,
        "callback-error",
        "account-not-linked",
        &family,
    );
    top_says(&run, "explanation", "email_verified");
}
