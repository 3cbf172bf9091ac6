//! The token and IdP-metadata commands against the real IdP: `oidc check` on the oidc-provider
//! variants and the Authentik stand-in, and on a discovery document that gets everything wrong;
//! `jwt decode` and `jwt verify` on ID tokens the IdP really issued to the app. No output shows
//! a token whole or its signature, at any verbosity.

use crate::harness::{Chain, Misbehaving, Opts, Server, authchain, read_json, response};

fn idp(script: &str, env: &[(&str, &str)]) -> Server {
    let mut all: Vec<(&str, String)> = vec![("APP_ORIGIN", "http://localhost:3000".into())];
    all.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    Server::start("idp", script, &all)
}

/// `oidc check ISSUER` with a JSON report: the exit code, the finding ids, the report.
fn oidc_check(issuer: &str) -> (crate::harness::Output, Vec<String>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("oidc.json");
    let out = authchain(
        &[
            "oidc",
            "check",
            issuer,
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    let report = read_json(&json);
    let ids = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect();
    (out, ids, report)
}

#[test]
fn oidc_check_on_the_real_idp_variants() {
    // (IdP env, issuer suffix as the app is configured, exit, finding ids)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, i32, &'a [&'a str]);
    let cases: &[Case] = &[
        (&[], "", 0, &[]),
        (&[], "/", 1, &["oidc-issuer-mismatch"]),
        (&[("ISSUER_SLASH", "1")], "/", 0, &[]),
        (&[("ISSUER_SLASH", "1")], "", 1, &["oidc-issuer-mismatch"]),
        (
            &[("ID_TOKEN_ALG", "HS256")],
            "",
            1,
            &["oidc-alg-without-key"],
        ),
        (&[("KEYS", "rotated")], "", 0, &[]),
    ];
    for (env, suffix, code, ids) in cases {
        let server = idp("idp.mjs", env);
        let issuer = format!("http://127.0.0.1:{}{suffix}", server.port);
        let (out, got, report) = oidc_check(&issuer);
        assert_eq!(out.code, *code, "{env:?} {suffix:?}: {}", out.all());
        assert_eq!(got, *ids, "{env:?} {suffix:?}: {}", out.stdout);
        assert_eq!(report["exit_code"], *code);
        if ids.contains(&"oidc-issuer-mismatch") {
            assert!(
                out.stdout.contains("by the trailing slash"),
                "{}",
                out.stdout
            );
        }
        if env.contains(&("KEYS", "rotated")) {
            assert!(
                out.stdout.contains("kid=fixture-rs256-next")
                    && out.stdout.contains("kid=fixture-rs256-prev"),
                "{}",
                out.stdout
            );
        }
    }
}

#[test]
fn oidc_check_on_the_authentik_stand_in() {
    for (alg, code, ids) in [
        ("RS256", 0, &[][..]),
        ("HS256", 1, &["oidc-alg-without-key"][..]),
    ] {
        let server = idp("authentik.mjs", &[("SIGNING_ALG", alg)]);
        let issuer = format!("http://127.0.0.1:{}/application/o/authchain/", server.port);
        let (out, got, _) = oidc_check(&issuer);
        assert_eq!(out.code, code, "{alg}: {}", out.all());
        assert_eq!(got, ids, "{alg}: {}", out.stdout);
        // Without its trailing slash, the issuer is another.
        let (out, got, _) = oidc_check(issuer.trim_end_matches('/'));
        assert_eq!(out.code, 1, "{alg}: {}", out.all());
        assert_eq!(got[0], "oidc-issuer-mismatch", "{alg}: {}", out.stdout);
    }
}

/// A discovery document that gets everything wrong: endpoints on a closed port and on https, no
/// S256, no email scope, a kid twice, no logout, no query response mode.
fn everything_wrong(_: &str, path: &str, port: u16) -> Option<Vec<u8>> {
    let me = format!("http://127.0.0.1:{port}");
    let json = [("content-type", "application/json")];
    Some(match path {
        "/.well-known/openid-configuration" => response(
            "200 OK",
            &json,
            &serde_json::json!({
                "issuer": me,
                "authorization_endpoint": format!("{me}/authorize"),
                "token_endpoint": "http://127.0.0.1:9/token",
                "userinfo_endpoint": format!("https://127.0.0.1:{port}/userinfo"),
                "jwks_uri": format!("{me}/jwks"),
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["plain"],
                "scopes_supported": ["openid", "profile"],
                "response_modes_supported": ["form_post"],
            })
            .to_string(),
        ),
        "/jwks" => response(
            "200 OK",
            &json,
            r#"{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","n":"AQAB","e":"AQAB"},{"kty":"RSA","kid":"k1","alg":"RS256","n":"AQAB","e":"AQAB"}]}"#,
        ),
        _ => response("200 OK", &[], "ok"),
    })
}

#[test]
fn oidc_check_names_everything_wrong() {
    let server = Misbehaving::start(everything_wrong);
    let issuer = format!("http://127.0.0.1:{}", server.port);
    let (out, mut ids, report) = oidc_check(&issuer);
    assert_eq!(out.code, 1, "{}", out.all());
    ids.sort();
    let mut want = vec![
        "oidc-endpoint-unreachable",
        "oidc-mixed-scheme",
        "oidc-endpoint-unreachable",
        "oidc-jwks-invalid",
        "oidc-no-pkce-s256",
        "oidc-scope-missing",
        "oidc-no-end-session",
        "oidc-no-query-response-mode",
    ];
    want.sort();
    assert_eq!(ids, want, "{}", out.stdout);
    let titles: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["title"].as_str())
        .collect();
    for words in [
        "token_endpoint does not answer",
        "kid `k1` twice",
        "scope email",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(words)),
            "`{words}` in {titles:#?}"
        );
    }
    // The warning alone would not fail the check.
    let warning = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "oidc-no-end-session")
        .unwrap();
    assert_eq!(warning["severity"], "warning");
}

#[test]
fn oidc_check_without_discovery_is_exit_3() {
    let port = crate::harness::free_port();
    let (out, ids, report) = oidc_check(&format!("http://127.0.0.1:{port}"));
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(ids.is_empty());
    assert_eq!(report["error"]["kind"], "connect", "{report}");
    // A server that is no IdP: 404 at the well-known path.
    let server = Misbehaving::start(|_, _, _| Some(response("404 Not Found", &[], "no")));
    let (out, _, _) = oidc_check(&format!("http://127.0.0.1:{}", server.port));
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("answered 404"), "{}", out.stderr);
}

/// An ID token the IdP issued to the app in a real login, and the chain.
fn issued_id_token() -> (Chain, String) {
    let chain = Chain::start(Opts::default());
    let run = chain.login("alice", &[], &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    let tokens = chain.issued_id_tokens();
    assert_eq!(tokens.len(), 1, "one login, one ID token");
    (chain, tokens[0].clone())
}

/// `jwt verify` of the token in `ID_TOKEN` against `jwks`, with `extra` flags.
fn verify_against(jwks: &str, extra: &[&str], env: &[(&str, &str)]) -> crate::harness::Output {
    let mut args = vec!["jwt", "verify", "--token-env", "ID_TOKEN", "--jwks", jwks];
    args.extend(extra);
    authchain(&args, env)
}

/// Runs `authchain` with the token on standard input.
fn with_stdin(args: &[&str], token: &str) -> crate::harness::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_authchain"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    crate::harness::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn assert_token_hidden(out: &crate::harness::Output, token: &str) {
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !out.all().contains(signature),
        "the signature was printed:\n{}",
        out.all()
    );
}

#[test]
fn jwt_decode_and_verify_an_id_token_the_idp_issued() {
    let (chain, token) = issued_id_token();
    let issuer = format!("http://127.0.0.1:{}", chain.idp.port);
    let jwks = format!("{issuer}/jwks");

    // decode: from standard input, as text and as JSON.
    let out = with_stdin(&["jwt", "decode"], &token);
    assert_eq!(out.code, 0, "{}", out.all());
    for words in [
        "\"alg\": \"RS256\"",
        "\"kid\": \"fixture-rs256\"",
        "\"sub\": \"alice\"",
        "exp ",
        "not verified",
    ] {
        assert!(out.stdout.contains(words), "`{words}` in {}", out.stdout);
    }
    assert_token_hidden(&out, &token);
    let out = with_stdin(&["jwt", "decode", "-", "--json"], &token);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["header"]["alg"], "RS256");
    assert_eq!(v["claims"]["iss"], issuer.as_str());
    assert_eq!(v["expired"], false);
    assert!(v["times"]["exp"]["unix"].is_i64());

    // verify: every check passes against the IdP's own JWKS.
    let env = [("ID_TOKEN", token.as_str())];
    let verify = |extra: &[&str]| {
        let mut args = vec!["--json"];
        args.extend(extra);
        let out = verify_against(&jwks, &args, &env);
        let v: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|_| panic!("JSON: {}", out.all()));
        let failed: Vec<String> = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["verdict"] == "fail")
            .map(|c| {
                format!(
                    "{}: {}",
                    c["check"].as_str().unwrap(),
                    c["detail"].as_str().unwrap()
                )
            })
            .collect();
        assert_token_hidden(&out, &token);
        (out.code, failed)
    };
    let (code, failed) = verify(&["--iss", &issuer, "--aud", "authchain-test"]);
    assert_eq!((code, failed.len()), (0, 0), "{failed:?}");
    // Each expectation broken on its own is its own verdict.
    let slash = format!("{issuer}/");
    for (extra, check, words) in [
        (vec!["--iss", slash.as_str()], "iss", "trailing slash"),
        (
            vec!["--aud", "another-client"],
            "aud",
            "expected another-client",
        ),
        (vec!["--nonce", "not-this-login"], "nonce", "another login"),
        (vec!["--alg", "ES256"], "alg", "not among the allowed"),
    ] {
        let (code, failed) = verify(&extra);
        assert_eq!(code, 1, "{extra:?}");
        assert_eq!(failed.len(), 1, "{extra:?}: {failed:?}");
        assert!(
            failed[0].starts_with(check) && failed[0].contains(words),
            "{failed:?}"
        );
    }

    // The same JWKS from a file, as text output.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    let fetched = std::process::Command::new("node")
        .args([
            "-e",
            &format!("fetch('{jwks}').then(r=>r.text()).then(t=>process.stdout.write(t))"),
        ])
        .output()
        .unwrap();
    std::fs::write(&file, &fetched.stdout).unwrap();
    let out = verify_against(file.to_str().unwrap(), &[], &env);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("signature  pass"), "{}", out.stdout);

    // After a key rotation the token's kid is gone from the JWKS.
    let rotated = idp("idp.mjs", &[("KEYS", "rotated")]);
    let other = format!("http://127.0.0.1:{}/jwks", rotated.port);
    let out = verify_against(&other, &[], &env);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("no usable key with kid `fixture-rs256`")
            && out.stdout.contains("fixture-rs256-next"),
        "{}",
        out.stdout
    );
    // Another IdP's key under the same kid: the signature does not verify.
    let twin = idp("idp.mjs", &[]);
    let other = format!("http://127.0.0.1:{}/jwks", twin.port);
    let out = verify_against(&other, &[], &env);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("signature  FAIL"), "{}", out.stdout);

    // At every verbosity, the token stays hidden; -v shows the keys and the header.
    for v in ["-v", "-vv"] {
        let out = verify_against(&jwks, &[v], &env);
        assert_eq!(out.code, 0, "{}", out.all());
        assert!(
            out.stderr.contains("RSA RS256 kid=fixture-rs256"),
            "{}",
            out.stderr
        );
        assert_token_hidden(&out, &token);
        let out = with_stdin(&["jwt", "decode", v], &token);
        assert_token_hidden(&out, &token);
    }
}

#[test]
fn jwt_bad_input_is_named() {
    // (args, stdin, exit, words on stderr)
    let port = crate::harness::free_port();
    let dead = format!("http://127.0.0.1:{port}/jwks");
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLXNlZ21lbnQtMTIzNDU2";
    let cases: Vec<(Vec<&str>, &str, i32, &str)> = vec![
        (vec!["jwt", "decode"], "", 2, "no token"),
        (vec!["jwt", "decode"], "not-a-token", 2, "not a JWT"),
        (
            vec!["jwt", "decode", "--token-env", "UNSET_TOKEN_VAR"],
            "",
            2,
            "UNSET_TOKEN_VAR",
        ),
        (vec!["jwt", "verify", "--jwks", &dead], token, 3, "--jwks"),
        (
            vec!["jwt", "verify", "--jwks", "/nonexistent/jwks.json"],
            token,
            2,
            "cannot read it",
        ),
        (vec!["jwt", "verify"], token, 2, "--jwks"),
    ];
    for (args, stdin, code, words) in cases {
        let out = with_stdin(&args, stdin);
        assert_eq!(out.code, code, "{args:?}: {}", out.all());
        assert!(out.stderr.contains(words), "{args:?}: {}", out.stderr);
        assert!(
            !out.all().contains("c2lnbmF0dXJlLXNlZ21lbnQtMTIzNDU2"),
            "{args:?}"
        );
    }
    // An HS256 token with its secret from the environment.
    let out = authchain(
        &["jwt", "verify", "--token-env", "T", "--secret-env", "S"],
        &[("T", token), ("S", "wrong-secret-value")],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("signature  FAIL"), "{}", out.stdout);
    assert!(!out.all().contains("wrong-secret-value"));
}

/// An `idp-login` run against a test IdP, as the fixture's client.
struct IdpLogin<'a> {
    server: &'a Server,
    /// The Authentik stand-in rather than the form IdP.
    authentik: bool,
    user: &'a str,
    /// The issuer as the app is configured with it (default: the IdP's own).
    issuer: Option<String>,
    redirect: Option<&'a str>,
    secret: &'a str,
    password: &'a str,
}

impl<'a> IdpLogin<'a> {
    fn new(server: &'a Server, user: &'a str) -> Self {
        IdpLogin {
            server,
            authentik: false,
            user,
            issuer: None,
            redirect: None,
            secret: "fixture-client-secret",
            password: crate::harness::PASSWORD,
        }
    }

    /// Runs it with `extra` flags; no output and no report shows the secret or the password.
    fn run(&self, extra: &[&str]) -> (crate::harness::Output, serde_json::Value) {
        let (issuer, redirect) = if self.authentik {
            (
                format!(
                    "http://127.0.0.1:{}/application/o/authchain/",
                    self.server.port
                ),
                "http://localhost:3000/api/auth/callback/authentik",
            )
        } else {
            (
                format!("http://127.0.0.1:{}", self.server.port),
                "http://localhost:3000/api/auth/callback/fixture",
            )
        };
        let issuer = self.issuer.clone().unwrap_or(issuer);
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("idp.json");
        let mut args = vec![
            "idp-login",
            "--issuer",
            &issuer,
            "--client-id",
            "authchain-test",
            "--client-secret-env",
            "CLIENT_SECRET",
            "--redirect-uri",
            self.redirect.unwrap_or(redirect),
            "--user",
            self.user,
            "--password-env",
            "IDP_PASSWORD",
            "--report-json",
            json.to_str().unwrap(),
        ];
        if self.authentik {
            args.extend(["--idp", "authentik"]);
        }
        args.extend(extra);
        let out = authchain(
            &args,
            &[
                ("CLIENT_SECRET", self.secret),
                ("IDP_PASSWORD", self.password),
            ],
        );
        let report = read_json(&json);
        for secret in [self.secret, self.password] {
            assert!(!out.all().contains(secret), "{secret} shown: {}", out.all());
            assert!(
                !report.to_string().contains(secret),
                "{secret} in the report"
            );
        }
        (out, report)
    }
}

fn idp_login(
    server: &Server,
    user: &str,
    extra: &[&str],
    authentik: bool,
) -> (crate::harness::Output, serde_json::Value) {
    IdpLogin {
        authentik,
        ..IdpLogin::new(server, user)
    }
    .run(extra)
}

fn claim<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["claim"] == name)
        .unwrap_or_else(|| panic!("{name} in {report}"))
}

fn ids(report: &serde_json::Value) -> Vec<String> {
    crate::harness::finding_ids(report)
}

#[test]
fn idp_login_end_to_end() {
    let server = idp("idp.mjs", &[]);
    let (out, report) = idp_login(
        &server,
        "alice",
        &["--token-auth", "post", "--preset", "better-auth"],
        false,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(ids(&report).is_empty(), "{}", out.stdout);
    assert_eq!(report["token_status"], 200);
    let checks = report["id_token_checks"].as_array().unwrap();
    assert!(checks.iter().all(|c| c["verdict"] != "fail"), "{checks:?}");
    assert!(
        checks
            .iter()
            .any(|c| c["check"] == "nonce" && c["verdict"] == "pass")
    );
    // oidc-provider puts the scopes' claims in userinfo only (conformIdTokenClaims): the table
    // shows where each comes from.
    assert_eq!(claim(&report, "sub")["id_token"], "alice");
    assert_eq!(claim(&report, "email")["id_token"], serde_json::Value::Null);
    assert_eq!(claim(&report, "email")["userinfo"], "alice@example.test");
    assert_eq!(claim(&report, "email_verified")["userinfo"], true);
    for words in [
        "claims the app would get",
        "required",
        "for linking",
        "result: pass (exit 0)",
    ] {
        assert!(out.stdout.contains(words), "`{words}` in {}", out.stdout);
    }
    // At -v and -vv every exchange goes to stderr; no secret (checked by the helper) and no
    // token, whole, ever.
    let jwt =
        regex::Regex::new(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}").unwrap();
    for v in ["-v", "-vv"] {
        let (out, _) = idp_login(&server, "alice", &["--token-auth", "post", v], false);
        assert_eq!(out.code, 0, "{v}: {}", out.all());
        assert!(
            out.stderr.contains("POST http://127.0.0.1:") && out.stderr.contains("/token → 200"),
            "{v}: {}",
            out.stderr
        );
        assert!(!jwt.is_match(&out.all()), "{v}: a token in\n{}", out.all());
    }
}

#[test]
fn idp_login_names_what_the_idp_gets_wrong() {
    let server = idp("idp.mjs", &[]);
    // (user, extra flags, exit, first finding)
    let cases: &[(&str, &[&str], i32, &str)] = &[
        (
            "nomail",
            &["--token-auth", "post", "--preset", "better-auth"],
            1,
            "idp-claim-missing",
        ),
        (
            "nomail",
            &["--token-auth", "post", "--preset", "authjs"],
            0,
            "",
        ),
        (
            "unverified",
            &["--token-auth", "post", "--preset", "better-auth"],
            0,
            "idp-claim-missing",
        ),
    ];
    for (user, extra, code, first) in cases {
        let (out, report) = idp_login(&server, user, extra, false);
        assert_eq!(out.code, *code, "{user} {extra:?}: {}", out.all());
        assert_eq!(
            ids(&report).first().map(String::as_str).unwrap_or(""),
            *first,
            "{user} {extra:?}: {}",
            out.stdout
        );
    }
    // Only `openid` asked for: a verified token, and no email from anywhere.
    let (out, report) = idp_login(
        &server,
        "alice",
        &["--token-auth", "post", "--scope", "openid"],
        false,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(claim(&report, "email")["userinfo"], serde_json::Value::Null);
    // A wrong client secret, sent either way.
    for auth in ["basic", "post"] {
        let (out, report) = IdpLogin {
            secret: "not-the-client-secret",
            ..IdpLogin::new(&server, "alice")
        }
        .run(&["--token-auth", auth]);
        assert_eq!(out.code, 1, "{auth}: {}", out.all());
        assert_eq!(
            ids(&report)[0],
            "idp-token-exchange-failed",
            "{auth}: {}",
            out.stdout
        );
        assert_eq!(report["token_error"], "invalid_client", "{auth}");
    }
    // The app configured with the issuer and a trailing slash: its ID tokens fail there, so here.
    let (out, report) = IdpLogin {
        issuer: Some(format!("http://127.0.0.1:{}/", server.port)),
        ..IdpLogin::new(&server, "alice")
    }
    .run(&["--token-auth", "post"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(ids(&report)[0], "oidc-issuer-mismatch", "{}", out.stdout);
    assert!(out.stdout.contains("iss        FAIL"), "{}", out.stdout);
    // An unregistered redirect URI and the wrong password: the login's own findings.
    let (out, report) = IdpLogin {
        redirect: Some("http://localhost:3000/not-registered"),
        ..IdpLogin::new(&server, "alice")
    }
    .run(&["--token-auth", "post"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(ids(&report)[0], "idp-error-page", "{}", out.stdout);
    let (out, report) = IdpLogin {
        password: "not-the-password",
        ..IdpLogin::new(&server, "alice")
    }
    .run(&[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(ids(&report)[0], "idp-login-rejected", "{}", out.stdout);
}

#[test]
fn idp_login_on_hs256_and_the_authentik_stand_in() {
    // HS256: verified with the client secret, with a warning for JWKS-only libraries.
    let server = idp("idp.mjs", &[("ID_TOKEN_ALG", "HS256")]);
    let (out, report) = idp_login(&server, "alice", &["--token-auth", "post"], false);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(ids(&report), vec!["oidc-alg-without-key"], "{}", out.stdout);
    let checks = report["id_token_checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["check"] == "signature" && c["verdict"] == "pass"),
        "{checks:?}"
    );
    // The Authentik stand-in, through its flow executor.
    let server = idp("authentik.mjs", &[]);
    let (out, report) = idp_login(&server, "alice", &["--token-auth", "post"], true);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(report["token_status"], 200, "{}", out.stdout);
}

/// `login --idp-check` on the founding incident: the IdP check passes, so the guard's failure is
/// the app's; the JSON report carries the check.
#[test]
fn idp_check_tells_the_idp_from_the_app() {
    let chain = Chain::start(Opts {
        guard: "bearer-only",
        ..Opts::default()
    });
    let issuer = format!("http://127.0.0.1:{}", chain.idp.port);
    let guarded = chain.guarded();
    let flags = [
        "--probe",
        guarded.as_str(),
        "--idp-check",
        "--issuer",
        issuer.as_str(),
        "--client-id",
        "authchain-test",
        "--client-secret-env",
        "CLIENT_SECRET",
        "--token-auth",
        "post",
    ];
    let run = chain.login(
        "alice",
        &flags,
        &[("CLIENT_SECRET", "fixture-client-secret")],
    );
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert!(
        run.out.stdout.contains("IdP check pass"),
        "{}",
        run.out.stdout
    );
    assert_eq!(run.report["idp_check"]["exit_code"], 0, "{}", run.report);
    assert_eq!(run.report["idp_check"]["token_status"], 200);
    let ids = crate::harness::finding_ids(&run.report);
    assert_eq!(ids[0], "guard-validates-differently", "{ids:?}");
    assert!(!run.out.all().contains("fixture-client-secret"));
    assert!(!run.json_text.contains("fixture-client-secret"));

    // A user the IdP gives no email: the IdP check names it before the chain's own finding.
    let run = chain.login(
        "nomail",
        &flags,
        &[("CLIENT_SECRET", "fixture-client-secret")],
    );
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    assert!(
        run.out.stdout.contains("IdP check fail"),
        "{}",
        run.out.stdout
    );
    let first = &run.report["findings"][0];
    assert_eq!(first["id"], "idp-claim-missing", "{}", run.out.stdout);
    assert!(first["title"].as_str().unwrap().starts_with("IdP check: "));

    // Without a client, --idp-check is a usage error naming what is missing.
    let out = authchain(
        &[
            "login",
            "--app",
            &chain.app(),
            "--provider",
            "fixture",
            "--idp-check",
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("--idp-check needs the IdP's issuer"),
        "{}",
        out.stderr
    );
}

/// The same from a scenario file, the client secret from the environment.
#[test]
fn idp_check_from_a_scenario() {
    let chain = Chain::start(Opts::default());
    let text = format!(
        "[chain]\napp = \"{app}\"\npreset = \"better-auth\"\nprovider = \"fixture\"\n[idp]\nusername = \"alice\"\npassword = \"${{secret:{pw}}}\"\nissuer = \"http://127.0.0.1:{port}\"\nclient_id = \"authchain-test\"\nclient_secret = \"${{secret:CLIENT_SECRET}}\"\ntoken_auth = \"post\"\n",
        app = chain.app(),
        pw = crate::harness::PASSWORD_VAR,
        port = chain.idp.port,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let json = dir.path().join("r.json");
    let out = authchain(
        &[
            "run",
            file.to_str().unwrap(),
            "--idp-check",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[("CLIENT_SECRET", "fixture-client-secret")],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let report = read_json(&json);
    assert_eq!(report["idp_check"]["exit_code"], 0, "{report}");
    // The preset's callback URL is the redirect URI by default.
    let start = report["idp_check"]["hops"][0]["url"].as_str().unwrap();
    assert!(start.contains("callback%2Ffixture"), "{start}");
    // A client key without its client_id is named where it stands.
    std::fs::write(&file, "[chain]\napp = \"http://localhost:3000\"\npreset = \"better-auth\"\nprovider = \"p\"\n[idp]\nclient_secret = \"x\"\n").unwrap();
    let out = authchain(&["validate", file.to_str().unwrap()], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("give its client_id too"),
        "{}",
        out.stderr
    );
}
