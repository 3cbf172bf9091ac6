//! The Authentik adapters against the Authentik stand-in (tests/fixtures/authentik.mjs): its
//! flow-executor API over HTTP and its shadow-DOM flow UI in Chromium; and the stand-in checked
//! against Authentik's own API client and OpenAPI schema.

use crate::harness::{AUTHENTIK_SLUG, Chain, Opts, browser_lock, finding_ids, fixtures_dir};

fn authentik(line: &'static str, idp_env: &'static [(&'static str, &'static str)]) -> Chain {
    Chain::start(Opts {
        line,
        idp: "authentik",
        idp_env,
        ..Opts::default()
    })
}

fn passes(chain: &Chain, extra: &[&str]) {
    let guarded = chain.guarded();
    let mut all = vec!["--probe", guarded.as_str()];
    all.extend(extra);
    let run = chain.login("alice", &all, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    let hops = run.report["hops"].as_array().unwrap();
    assert!(hops.iter().any(|h| {
        h["url"]
            .as_str()
            .unwrap()
            .contains("/application/o/authorize/")
    }));
    assert!(hops.iter().any(|h| h["step"] == "idp-login"));
    assert!(
        hops.iter().any(|h| h["step"] == "idp-consent"),
        "the consent stage was passed"
    );
    let cb = run.report["chain"]["callback_hop"]
        .as_u64()
        .expect("a callback hop") as usize;
    assert!(
        hops[cb - 1]["url"]
            .as_str()
            .unwrap()
            .contains("/callback/authentik")
    );
}

#[test]
fn flow_executor_api_login_17() {
    passes(&authentik("1.7", &[]), &[]);
}

#[test]
fn flow_executor_api_login_16() {
    passes(&authentik("1.6", &[]), &[]);
}

#[test]
fn flow_executor_api_with_the_password_on_the_identification_stage() {
    passes(&authentik("1.7", &[("PASSWORD_STAGE", "same")]), &[]);
}

#[test]
fn flow_executor_api_wrong_password_is_rejected() {
    let chain = authentik("1.7", &[]);
    let run = chain.login("alice", &[], &[(crate::harness::PASSWORD_VAR, "wrong")]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert_eq!(finding_ids(&run.report), ["idp-login-rejected"]);
    assert!(
        run.out.stdout.contains("Invalid password"),
        "{}",
        run.out.stdout
    );
}

#[test]
fn an_hs256_id_token_fails_better_auth_17() {
    // Authentik without a signing key signs ID tokens with the client secret; BetterAuth 1.7
    // checks them only against the JWKS.
    let chain = authentik("1.7", &[("SIGNING_ALG", "HS256")]);
    let run = chain.login("alice", &[], &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert!(
        run.out.stdout.contains("error=unable_to_get_user_info"),
        "{}",
        run.out.stdout
    );
    assert_eq!(finding_ids(&run.report)[0], "callback-error");
    assert!(
        run.report["findings"][0]["explanation"]
            .as_str()
            .unwrap()
            .contains("HS256")
    );
}

#[test]
fn flow_ui_login_in_the_browser() {
    let _one = browser_lock();
    passes(&authentik("1.7", &[]), &["--driver", "browser"]);
}

#[test]
fn flow_ui_wrong_password_in_the_browser() {
    let _one = browser_lock();
    let chain = authentik("1.7", &[]);
    let run = chain.login(
        "alice",
        &["--driver", "browser"],
        &[(crate::harness::PASSWORD_VAR, "wrong")],
    );
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert_eq!(
        finding_ids(&run.report),
        ["idp-login-rejected"],
        "{}",
        run.out.stdout
    );
    assert!(
        run.out.stdout.contains("Invalid password"),
        "{}",
        run.out.stdout
    );
}

#[test]
fn the_stand_in_conforms_to_authentiks_client_and_schema() {
    let chain = authentik("1.7", &[]);
    let out = std::process::Command::new("node")
        .arg("authentik-conformance.mjs")
        .arg(format!("http://127.0.0.1:{}", chain.idp.port))
        .arg(chain.app())
        .current_dir(fixtures_dir())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("conformance: ok"), "{stdout}");
    let _ = AUTHENTIK_SLUG;
}

#[test]
fn a_policy_denial_after_the_login_is_an_idp_error() {
    // The stand-in's `denied` user logs in, then the application's policy refuses it.
    let chain = authentik("1.7", &[]);
    let run = chain.login("denied", &[], &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert_eq!(finding_ids(&run.report), ["idp-error-page"]);
    assert!(
        run.out
            .stdout
            .contains("idp-error-page: The IdP stopped the login: \"Permission denied\""),
        "{}",
        run.out.stdout
    );
}
