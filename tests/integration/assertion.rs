//! `authchain assertion` against a headless login endpoint that keeps the client-assertion
//! contract (tests/fixtures/assertion.mjs, `jose`), its leaky variant, and endpoints that break
//! the contract the two other ways: one opaque code for every failure, and accepting anything.

use crate::harness::{Misbehaving, Server, authchain, read_json, response};
use std::path::Path;

const PATH: &str = "/api/v1/auth/headless/password/login";
const PASSWORD: &str = "correct-horse-battery";

/// The fixture endpoint, its client keys written to `dir`.
fn endpoint(dir: &Path, leak: bool) -> Server {
    let mut env = vec![("KEY_DIR", dir.display().to_string())];
    if leak {
        env.push(("LEAK", "1".into()));
    }
    Server::start("assertion", "assertion.mjs", &env)
}

/// `authchain assertion` on `url` with `key`, its JSON report and JUnit XML.
fn assertion(
    url: &str,
    key: &Path,
    extra: &[&str],
) -> (crate::harness::Output, serde_json::Value, String) {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("a.json");
    let junit = out_dir.path().join("a.xml");
    let mut args = vec![
        "assertion",
        "--endpoint",
        url,
        "--client-id",
        "smoke-client",
        "--key",
        key.to_str().unwrap(),
        "--user",
        "alice@example.test",
        "--password-env",
        "SMOKE_PASSWORD",
        "--report-json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = authchain(&args, &[("SMOKE_PASSWORD", PASSWORD)]);
    let report = if json.exists() {
        read_json(&json)
    } else {
        serde_json::Value::Null
    };
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(
        !out.all().contains(PASSWORD)
            && !xml.contains(PASSWORD)
            && !report.to_string().contains(PASSWORD)
    );
    (out, report, xml)
}

fn finding_ids(report: &serde_json::Value) -> Vec<String> {
    crate::harness::finding_ids(report)
}

#[test]
fn every_case_answers_by_the_contract_for_every_key_type() {
    let keys = tempfile::tempdir().unwrap();
    let server = endpoint(keys.path(), false);
    let url = format!("http://127.0.0.1:{}{PATH}", server.port);
    // (key file, extra flags): RS256, ES256 and EdDSA, from PEM and from JWK, JSON and form.
    let cases: &[(&str, &[&str])] = &[
        ("rs.pem", &["--kid", "rs"]),
        ("rs.jwk", &[]),
        ("es.pem", &["--kid", "es", "--alg", "ES256"]),
        ("es.jwk", &["--form"]),
        ("ed.pem", &["--kid", "ed"]),
        ("ed.jwk", &[]),
        ("rs.pem", &["--kid", "rs", "-vv"]),
    ];
    let jwt =
        regex::Regex::new(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}").unwrap();
    for (file, extra) in cases {
        let (out, report, xml) = assertion(&url, &keys.path().join(file), extra);
        assert_eq!(out.code, 0, "{file}: {}", out.all());
        let runs = report["cases"].as_array().unwrap();
        assert_eq!(runs.len(), 10, "{file}");
        assert!(
            runs.iter().all(|c| c["passed"] == true),
            "{file}: {}",
            out.stdout
        );
        for case in authchain::assertion::CASES {
            assert!(
                xml.contains(&format!("<testcase name=\"client assertion: {}\"", case.0)),
                "{file}: {} in {xml}",
                case.0
            );
        }
        assert!(!xml.contains("<failure"), "{file}: {xml}");
        assert!(
            !jwt.is_match(&out.all()) && !jwt.is_match(&xml),
            "{file}: an assertion shown"
        );
    }
}

#[test]
fn a_leaky_endpoint_is_named() {
    let keys = tempfile::tempdir().unwrap();
    let server = endpoint(keys.path(), true);
    let url = format!("http://127.0.0.1:{}{PATH}", server.port);
    let (out, report, xml) = assertion(&url, &keys.path().join("rs.jwk"), &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let ids = finding_ids(&report);
    // Every refused case echoes the expected audience; the right one answers 200 with nothing to leak.
    assert_eq!(ids.len(), 9, "{ids:?}");
    assert!(ids.iter().all(|i| i == "assertion-leaks-detail"), "{ids:?}");
    assert!(out.stdout.contains("echoes the audience"), "{}", out.stdout);
    assert_eq!(xml.matches("<failure").count(), 9, "{xml}");
}

#[test]
fn an_opaque_or_lax_endpoint_breaks_the_contract() {
    let keys = tempfile::tempdir().unwrap();
    let fixture = endpoint(keys.path(), false);
    drop(fixture);
    let key = keys.path().join("es.jwk");
    // The incident: one opaque code for every failure.
    let opaque = Misbehaving::start(|_, _, _| {
        Some(response(
            "401 Unauthorized",
            &[("content-type", "application/json")],
            r#"{"code":"invalid_client_assertion","error":"Invalid client assertion."}"#,
        ))
    });
    let (out, report, _) = assertion(
        &format!("http://127.0.0.1:{}{PATH}", opaque.port),
        &key,
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let ids = finding_ids(&report);
    assert_eq!(ids.len(), 10, "{ids:?}");
    assert!(
        ids.iter().all(|i| i == "assertion-code-mismatch"),
        "{ids:?}"
    );
    assert!(
        out.stdout
            .contains("code invalid_client_assertion, not invalid_client_assertion_expired"),
        "{}",
        out.stdout
    );
    // An endpoint that lets everything in.
    let lax = Misbehaving::start(|_, _, _| {
        Some(response(
            "200 OK",
            &[("content-type", "application/json")],
            r#"{"ok":true}"#,
        ))
    });
    let (out, report, _) = assertion(&format!("http://127.0.0.1:{}{PATH}", lax.port), &key, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let ids = finding_ids(&report);
    assert_eq!(ids.len(), 9, "{ids:?}");
    assert!(
        ids.iter().all(|i| i == "assertion-accepted-when-invalid"),
        "{ids:?}"
    );
}

#[test]
fn bad_input_to_assertion_is_named() {
    let keys = tempfile::tempdir().unwrap();
    let fixture = endpoint(keys.path(), false);
    drop(fixture);
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let dead = format!("http://127.0.0.1:{}{PATH}", crate::harness::free_port());
    // (key, extra, exit, words on stderr)
    let cases: Vec<(std::path::PathBuf, Vec<&str>, i32, &str)> = vec![
        (junk.clone(), vec![], 2, "junk.pem"),
        (dir.path().join("missing.pem"), vec![], 2, "cannot read it"),
        (
            keys.path().join("rs.pem"),
            vec!["--alg", "ES256"],
            2,
            "the key signs RS256",
        ),
        (keys.path().join("rs.pem"), vec![], 3, "could not connect"),
    ];
    for (key, extra, code, words) in cases {
        let (out, _, _) = assertion(&dead, &key, &extra);
        assert_eq!(out.code, code, "{key:?} {extra:?}: {}", out.all());
        assert!(out.stderr.contains(words), "{key:?}: {}", out.stderr);
    }
}
