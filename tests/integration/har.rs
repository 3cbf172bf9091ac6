//! HAR files in: a login recorded by real Chromium — with Playwright's recorder, and from the
//! DevTools protocol's events written as Chromium's DevTools exports them, with and without
//! sensitive data — diagnosed offline gives the live run's findings where the file holds their
//! evidence, at best `guard-rejects-session` where only a replay could tell more, and says what
//! the file lacks. Nothing secret in a HAR reaches the output. authchain's own `--har` reads back.

use crate::harness::{
    Chain, Opts, Output, PASSWORD, authchain, browser_lock, finding_ids, fixtures_dir, read_json,
};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The login of `user` recorded in headless Chromium, with the native and guarded endpoints
/// asked from the page at the end: the directory of the three HAR files.
fn record(chain: &Chain, user: &str) -> tempfile::TempDir {
    let _one = browser_lock();
    let dir = tempfile::tempdir().unwrap();
    let app = chain.app();
    let native = format!("{app}/api/auth/get-session");
    let out = Command::new("node")
        .current_dir(fixtures_dir())
        .args([
            "record-har.mjs",
            dir.path().to_str().unwrap(),
            &app,
            "fixture",
            user,
            PASSWORD,
            &native,
            &chain.guarded(),
        ])
        .output()
        .expect("node runs record-har.mjs (bash scripts/test.sh installs it)");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("RECORDED"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

const FILES: [&str; 2] = ["playwright.har", "devtools.har"];

fn diagnose(file: &Path, extra: &[&str]) -> (Output, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let mut args = vec![
        "diagnose",
        file.to_str().unwrap(),
        "--report-json",
        json.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = authchain(&args, &[]);
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    let report = if text.is_empty() {
        serde_json::Value::Null
    } else {
        read_json(&json)
    };
    (out, report, text)
}

/// What no output may show: the password, and the session cookie's value as the file holds it.
fn assert_nothing_secret(har: &Path, out: &Output, json: &str) {
    let text = std::fs::read_to_string(har).unwrap();
    assert!(text.contains(PASSWORD), "the recording holds the password");
    assert!(!out.all().contains(PASSWORD) && !json.contains(PASSWORD));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    for e in doc["log"]["entries"].as_array().unwrap() {
        for c in e["response"]["cookies"].as_array().into_iter().flatten() {
            let v = c["value"].as_str().unwrap_or_default();
            if v.len() >= 16 {
                assert!(
                    !out.all().contains(v) && !json.contains(v),
                    "the value of {} shows",
                    c["name"]
                );
            }
        }
    }
}

#[test]
fn a_recorded_login_that_passes_passes_offline() {
    let chain = Chain::start(Opts::default());
    let live = chain.login("alice", &["--probe", &chain.guarded()], &[]);
    assert_eq!(live.out.code, 0, "{}", live.out.all());
    let dir = record(&chain, "alice");
    for name in FILES {
        let har = dir.path().join(name);
        let (out, report, json) = diagnose(&har, &["--probe", &chain.guarded()]);
        assert_eq!(out.code, 0, "{name}: {}", out.all());
        assert_eq!(report["chain"]["driver"], "har");
        assert_eq!(report["chain"]["preset"], "better-auth", "{name}: detected");
        assert!(report["chain"]["callback_hop"].is_u64(), "{name}: {report}");
        let probes = report["probes"].as_array().unwrap();
        assert_eq!(probes.len(), 2, "{name}: {report}");
        assert!(
            probes.iter().all(|p| p["passed"] == true),
            "{name}: {report}"
        );
        assert!(finding_ids(&report).is_empty(), "{name}: {report}");
        let unknown = report["recorded"]["unknown"].as_array().unwrap();
        assert!(
            unknown
                .iter()
                .any(|u| u.as_str().unwrap().contains("refused")),
            "{name}: {unknown:?}"
        );
        assert!(out.stdout.contains("read from a HAR"), "{}", out.stdout);
        assert!(out.stdout.contains("unknown (not in the recording)"));
        assert_nothing_secret(&har, &out, &json);
    }
    // DevTools' default export keeps no cookie: said, and nothing is guessed of them.
    let (out, report, _) = diagnose(
        &dir.path().join("devtools-sanitized.har"),
        &["--probe", &chain.guarded()],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let unknown = report["recorded"]["unknown"].to_string();
    assert!(unknown.contains("every cookie"), "{unknown}");
    assert!(finding_ids(&report).is_empty(), "{report}");
}

#[test]
fn a_recorded_email_less_login_gives_the_live_finding() {
    let chain = Chain::start(Opts::default());
    let live = chain.login("nomail", &["--probe", &chain.guarded()], &[]);
    assert_eq!(live.out.code, 1, "{}", live.out.all());
    let want = finding_ids(&live.report)[0].clone();
    assert_eq!(want, "missing-email-claim");
    let dir = record(&chain, "nomail");
    for name in FILES {
        let (out, report, _) = diagnose(&dir.path().join(name), &["--probe", &chain.guarded()]);
        assert_eq!(out.code, 1, "{name}: {}", out.all());
        assert_eq!(finding_ids(&report)[0], want, "{name}: {report}");
        assert!(
            out.stdout.contains("error=email_not_found"),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn the_founding_incident_offline_is_at_best_guard_rejects_session() {
    let chain = Chain::start(Opts {
        guard: "bearer-only",
        ..Opts::default()
    });
    let live = chain.login("alice", &["--probe", &chain.guarded()], &[]);
    assert_eq!(finding_ids(&live.report)[0], "guard-validates-differently");
    let dir = record(&chain, "alice");
    for name in FILES {
        let har = dir.path().join(name);
        let (out, report, json) = diagnose(&har, &["--probe", &chain.guarded()]);
        assert_eq!(out.code, 1, "{name}: {}", out.all());
        let ids = finding_ids(&report);
        assert_eq!(ids[0], "guard-rejects-session", "{name}: {ids:?}");
        let causes = crate::harness::cause_keys(&report["findings"][0]);
        assert!(
            causes.contains(&"bearer-revalidation".to_string()),
            "{causes:?}"
        );
        assert!(report["matrix"].as_array().unwrap().is_empty());
        assert!(
            out.stdout.contains("authchain probe --cookie"),
            "{}",
            out.stdout
        );
        assert_nothing_secret(&har, &out, &json);
    }
    // Endpoints named by hand find the same.
    let (out, report, _) = diagnose(
        &dir.path().join("playwright.har"),
        &[
            "--preset",
            "better-auth",
            "--app",
            &chain.app(),
            "--probe",
            &chain.guarded(),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(finding_ids(&report)[0], "guard-rejects-session");
}

#[test]
fn authchains_own_har_reads_back_as_a_har() {
    let dir = tempfile::tempdir().unwrap();
    let har: PathBuf = dir.path().join("demo.har");
    let json = dir.path().join("demo.json");
    let live = authchain(
        &[
            "demo",
            "--fault",
            "guard-bearer",
            "--har",
            har.to_str().unwrap(),
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(live.code, 1);
    let text = std::fs::read_to_string(&har).unwrap();
    let typed: authchain::har::Har = serde_json::from_str(&text).expect("a HAR 1.2 file");
    let report = read_json(&json);
    let hops = report["hops"].as_array().unwrap().len();
    let probes = report["probes"].as_array().unwrap().len();
    assert_eq!(typed.log.version, "1.2");
    assert_eq!(typed.log.entries.len(), hops + probes);
    let guarded = report["probes"][1]["url"].as_str().unwrap().to_string();
    let (out, again, _) = diagnose(&har, &["--probe", &guarded]);
    assert!(out.code <= 1, "{}", out.all());
    assert_eq!(again["hops"].as_array().unwrap().len(), hops, "{again}");
    assert_eq!(
        again["chain"]["callback_hop"],
        report["chain"]["callback_hop"]
    );
    // The guarded probe's answer is in the file, its body is not: said, not judged.
    let unknown = again["recorded"]["unknown"].to_string();
    assert!(unknown.contains("not its body"), "{unknown}");
}

#[test]
fn what_is_not_a_har_or_a_report_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("x.har");
    std::fs::write(&bad, r#"{"log": {"entries": [{"request": {}}]}}"#).unwrap();
    let (out, _, _) = diagnose(&bad, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("not a HAR 1.2 file"), "{}", out.stderr);
    std::fs::write(&bad, r#"{"log": {"entries": []}}"#).unwrap();
    let (out, _, _) = diagnose(&bad, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("no http(s) request"), "{}", out.stderr);
}
