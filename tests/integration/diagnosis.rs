//! Diagnosis against the real chain: every guard mode gets its cause named, the founding
//! incident's report is pinned by a snapshot, a saved report diagnoses to the same findings, and
//! `authchain probe` diagnoses an existing session.

use crate::harness::{Chain, Opts, Output, Run, authchain, finding_ids as ids};
use std::path::Path;

fn login_guarded(chain: &Chain, extra: &[&str]) -> Run {
    let guarded = chain.guarded();
    let mut all = vec!["--probe", guarded.as_str()];
    all.extend(extra);
    chain.login("alice", &all, &[])
}

fn top_finding(guard: &'static str, secure: bool) -> (Output, serde_json::Value) {
    let chain = Chain::start(Opts {
        guard,
        secure,
        ..Opts::default()
    });
    let run = login_guarded(&chain, &[]);
    (run.out, run.report)
}

#[test]
fn correct_guard_has_no_finding() {
    let (out, report) = top_finding("cookie", false);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(ids(&report).is_empty());
    assert!(
        report["matrix"].as_array().unwrap().is_empty(),
        "no matrix when the probes agree"
    );
}

/// The keys of the top finding's ranked causes.
fn cause_keys(report: &serde_json::Value) -> Vec<String> {
    crate::harness::cause_keys(&report["findings"][0])
}

#[test]
fn bearer_only_guard_validates_differently_bearer_first() {
    let (out, report) = top_finding("bearer-only", false);
    assert_eq!(out.code, 1);
    assert_eq!(
        ids(&report),
        ["guard-validates-differently"],
        "{}",
        out.stdout
    );
    assert_eq!(
        cause_keys(&report),
        ["bearer-revalidation", "other-secret-or-instance"],
        "Bearer ranks first when the native endpoint ignores Bearer"
    );
    assert!(out.stdout.contains("guard-validates-differently: "));
}

#[test]
fn other_secret_guard_validates_differently() {
    let (out, report) = top_finding("other-secret", false);
    assert_eq!(out.code, 1);
    assert_eq!(
        ids(&report),
        ["guard-validates-differently"],
        "{}",
        out.stdout
    );
    assert!(cause_keys(&report).contains(&"other-secret-or-instance".to_string()));
}

#[test]
fn wrong_name_guard_misses_cookie_and_names_the_wanted_name() {
    let (out, report) = top_finding("wrong-name", true);
    assert_eq!(out.code, 1);
    assert_eq!(ids(&report)[0], "guard-misses-cookie", "{}", out.stdout);
    let title = report["findings"][0]["title"].as_str().unwrap();
    assert!(title.contains("`better-auth.session_token`"), "{title}");
    assert!(
        title.contains("`__Secure-better-auth.session_token`"),
        "{title}"
    );
}

#[test]
fn authorization_only_guard_wants_bearer() {
    let (out, report) = top_finding("authorization-only", false);
    assert_eq!(out.code, 1);
    assert_eq!(
        ids(&report)[0],
        "guard-wants-other-transport",
        "{}",
        out.stdout
    );
    assert!(
        report["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
}

#[test]
fn bearer_plugin_guard_passes() {
    let (out, report) = top_finding("bearer-plugin", false);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(ids(&report).is_empty());
}

#[test]
fn matrix_on_demand_without_a_finding() {
    let chain = Chain::start(Opts::default());
    let Run { out, report, .. } = login_guarded(&chain, &["--matrix", "always"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let rows = report["matrix"].as_array().unwrap();
    assert!(
        rows.len() >= 12,
        "both endpoints, every variant: {}",
        rows.len()
    );
    assert!(
        rows.iter()
            .all(|r| r["probe"] == "/auth/session" || r["probe"] == "native")
    );
    assert!(out.stdout.contains("\nmatrix\n"), "{}", out.stdout);
    assert!(ids(&report).is_empty());
}

#[test]
fn saved_report_diagnoses_to_the_same_findings() {
    let chain = Chain::start(Opts {
        guard: "bearer-only",
        ..Opts::default()
    });
    // Keep the run (and so its report file) alive while diagnosing it.
    let run = login_guarded(&chain, &[]);
    let offline = authchain(&["diagnose", run.json.to_str().unwrap()], &[]);
    assert_eq!(offline.code, run.out.code, "{}", offline.all());
    let findings = |s: &str| s[s.find("\nfindings\n").unwrap()..].to_string();
    assert_eq!(findings(&offline.stdout), findings(&run.out.stdout));
    assert_eq!(ids(&run.report), ["guard-validates-differently"]);
}

#[test]
fn diagnose_rejects_what_is_not_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.json");
    std::fs::write(&file, "{\"hops\": 3}").unwrap();
    let out = authchain(&["diagnose", file.to_str().unwrap()], &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("is not an authchain report"),
        "{}",
        out.stderr
    );
}

#[test]
fn probe_command_diagnoses_an_existing_session() {
    let chain = Chain::start(Opts {
        guard: "bearer-only",
        ..Opts::default()
    });
    login_guarded(&chain, &[]);
    let cookie = format!("better-auth.session_token={}", chain.issued_secrets()[1]);
    let native = format!("{}/api/auth/get-session", chain.app());
    let out = authchain(
        &[
            "probe",
            "--cookie-env",
            "AUTHCHAIN_TEST_COOKIE",
            "--native",
            &native,
            "--probe",
            &chain.guarded(),
        ],
        &[("AUTHCHAIN_TEST_COOKIE", &cookie)],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("guard-validates-differently: "),
        "{}",
        out.stdout
    );
    assert!(
        !out.all().contains(&chain.issued_secrets()[1]),
        "the cookie value is fingerprinted"
    );
    // A cookie that is no session at all: the native probe fails too.
    let out = authchain(
        &[
            "probe",
            "--cookie",
            "better-auth.session_token=nothing",
            "--native",
            &native,
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("probe-failed: Probe `native` failed: the body is JSON null"),
        "{}",
        out.stdout
    );
}

#[test]
fn secure_state_cookie_over_plain_http_is_state_cookie_lost() {
    let chain = Chain::start(Opts {
        secure: true,
        app_host: "app.test",
        ..Opts::default()
    });
    let Run { out, report, .. } = login_guarded(&chain, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("error=state_mismatch"),
        "{}",
        out.stdout
    );
    let ids = ids(&report);
    assert_eq!(ids[0], "state-cookie-lost", "{ids:?}");
    assert!(
        ids.contains(&"cookie-blocked-by-browser".to_string()),
        "{ids:?}"
    );
    let state = &report["hops"][0]["set_cookies"][0];
    assert_eq!(state["name"], "__Secure-better-auth.state");
    assert_eq!(state["refusal"], "InvalidPrefix");
    let evidence = report["findings"][0]["evidence"].as_array().unwrap();
    assert!(
        evidence.iter().any(|e| e
            .as_str()
            .unwrap()
            .contains("__Secure-better-auth.state refused (InvalidPrefix)")),
        "{evidence:?}"
    );
}

/// Replaces what changes from run to run: ports, fingerprints, times, ids.
fn normalise(text: &str) -> String {
    let rules = [
        (r"localhost:\d+", "localhost:APP"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:IDP"),
        (r"%3A\d{2,5}", "%3APORT"),
        (r"‹sha256:[0-9a-f]{8} \d+B›", "‹sha256:…›"),
        (r"\d+ ms\b", "N ms"),
        (r"\d{4}-\d\d-\d\dT[\d:.]*Z?", "TIME"),
        (r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", "DATE"),
        (r#""(id|userId)":"[A-Za-z0-9]+""#, r#""$1":"ID""#),
        (r"authchain/[0-9.]+", "authchain/VERSION"),
    ];
    let mut out = text.to_string();
    for (pattern, with) in rules {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

#[test]
fn founding_incident_report_snapshot() {
    // BetterAuth 1.6, secure cookies, a guard that re-validates the cookie as Bearer.
    let chain = Chain::start(Opts {
        line: "1.6",
        guard: "bearer-only",
        secure: true,
        ..Opts::default()
    });
    // Wide enough that no line is broken: the snapshot does not depend on the ports' digits.
    let guarded = chain.guarded();
    let run = chain.login(
        "alice",
        &["--probe", guarded.as_str()],
        &[("COLUMNS", "1000")],
    );
    let (out, json) = (&run.out, &run.json_text);
    assert_eq!(out.code, 1);
    // The same report read again, fitted to 100 columns (stdout piped, COLUMNS unset).
    let narrow = authchain(&["diagnose", run.json.to_str().unwrap()], &[]);
    assert_eq!(narrow.code, 1, "{}", narrow.all());
    let widest = narrow
        .stdout
        .lines()
        .map(|l| (l.chars().count(), l))
        .max()
        .unwrap();
    assert!(widest.0 <= 100, "a line wider than 100 columns: {widest:?}");
    assert!(narrow.stdout.contains("guard-validates-differently: "));
    for secret in chain
        .issued_secrets()
        .iter()
        .map(String::as_str)
        .chain([crate::harness::PASSWORD])
    {
        assert!(
            !out.all().contains(secret) && !json.contains(secret),
            "a secret leaked"
        );
    }
    let got = normalise(&out.stdout);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/integration/snapshots/founding-incident.txt");
    if std::env::var_os("AUTHCHAIN_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .expect("the snapshot exists (AUTHCHAIN_UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(
        got, want,
        "the founding incident's report changed; review and rerun with AUTHCHAIN_UPDATE_SNAPSHOTS=1"
    );
}
