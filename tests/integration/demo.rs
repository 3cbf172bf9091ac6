//! `authchain demo`: the clean demo passes, every fault gives its finding, and the founding
//! incident's fault names the same root cause as the real chain's Bearer-only guard.

use crate::harness::{Chain, Opts, authchain, browser_lock, finding_ids, read_json};

fn demo(args: &[&str]) -> (crate::harness::Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("demo.json");
    let mut all = vec!["demo"];
    all.extend(args);
    all.extend(["--report-json", json.to_str().unwrap()]);
    let out = authchain(&all, &[]);
    let report = read_json(&json);
    (out, report)
}

#[test]
fn the_clean_demo_passes() {
    let (out, report) = demo(&[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.ends_with("result: pass (exit 0)\n"));
    assert!(report["hops"].as_array().unwrap().len() >= 5);
    assert!(
        !out.all().contains(authchain::demo::PASSWORD),
        "the demo password is redacted"
    );
}

#[test]
fn the_demo_writes_a_har() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("demo.har");
    let out = authchain(&["demo", "--har", har.to_str().unwrap()], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let text = std::fs::read_to_string(&har).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = v["log"]["entries"].as_array().unwrap();
    assert_eq!(v["log"]["version"], "1.2");
    assert!(entries.len() >= 7, "hops and probes: {}", entries.len());
    assert!(entries.iter().any(|e| {
        e["response"]["cookies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "better-auth.session_token")
    }));
    assert!(!text.contains(authchain::demo::PASSWORD));
}

#[test]
fn every_fault_gives_its_finding() {
    for fault in authchain::demo::Fault::ALL {
        let (_, want) = fault.describe();
        let (out, report) = demo(&["--fault", fault.name()]);
        assert_eq!(out.code, 1, "{}: {}", fault.name(), out.all());
        let ids = finding_ids(&report);
        assert_eq!(ids[0], want, "{}: the top finding: {ids:?}", fault.name());
        assert!(out.stdout.contains(&format!("{want}: ")));
    }
}

#[test]
fn list_names_every_fault() {
    let out = authchain(&["demo", "--list"], &[]);
    assert_eq!(out.code, 0);
    for fault in authchain::demo::Fault::ALL {
        assert!(out.stdout.contains(fault.name()));
    }
    let out = authchain(&["demo", "--fault", "nonsense"], &[]);
    assert_eq!(out.code, 2);
}

#[test]
fn the_demo_founding_incident_matches_the_real_chain() {
    let (_, demo) = demo(&["--fault", "guard-bearer"]);
    let chain = Chain::start(Opts {
        guard: "bearer-only",
        ..Opts::default()
    });
    let guarded = chain.guarded();
    let real = chain.login("alice", &["--probe", &guarded], &[]).report;
    assert_eq!(finding_ids(&demo)[0], finding_ids(&real)[0]);
    let causes = |r: &serde_json::Value| -> Vec<String> {
        r["findings"][0]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(causes(&demo), causes(&real));
    assert_eq!(causes(&real)[0], "bearer-revalidation");
}

#[test]
fn the_demo_runs_in_the_browser() {
    let _one = browser_lock();
    let (out, report) = demo(&["--driver", "browser"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(report["chain"]["driver"], "browser");
    let (out, report) = demo(&["--driver", "browser", "--fault", "guard-bearer"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(finding_ids(&report)[0], "guard-validates-differently");
}

/// `-v` and `-vv` on the demo, over HTTP and in the browser: details on stderr, never its
/// password or client secret.
#[test]
fn the_demo_details_show_no_secret() {
    for args in [
        &["-v"][..],
        &["-vv"],
        &["-vv", "--fault", "guard-bearer", "--driver", "browser"],
    ] {
        let _one = args.contains(&"browser").then(browser_lock);
        let (out, _) = demo(args);
        assert!(
            out.stderr.contains("  < set-cookie: "),
            "{args:?}: {}",
            out.stderr
        );
        for secret in [authchain::demo::PASSWORD, authchain::demo::CLIENT_SECRET] {
            assert!(!out.all().contains(secret), "{args:?}: {secret} shown");
        }
    }
}

#[test]
fn the_founding_incident_fits_100_columns_when_piped() {
    let (out, _) = demo(&["--fault", "guard-bearer"]);
    assert_eq!(out.code, 1, "{}", out.all());
    for line in out.stdout.lines() {
        assert!(line.chars().count() <= 100, "wider than 100: {line:?}");
    }
    // The header names the demo once, and each origin heads its hops once in a row.
    assert!(out.stdout.starts_with("authchain: demo\n"));
    assert!(out.stdout.contains("\n  http://localhost:"));
    assert!(
        out.stdout
            .contains("  POST 200  /api/auth/sign-in/social  ")
    );
    assert!(out.stdout.contains("guard-validates-differently: "));
}

#[test]
fn a_wide_terminal_gets_the_matrix_as_a_table() {
    let (out, _) = demo(&["--fault", "guard-bearer"]);
    assert!(
        !out.stdout.contains("the session carried as"),
        "stacked at 100"
    );
    let wide = authchain(&["demo", "--fault", "guard-bearer"], &[("COLUMNS", "200")]);
    let header = wide
        .stdout
        .lines()
        .find(|l| l.contains("the session carried as"))
        .expect("a table header at 200 columns");
    assert!(
        header.contains("guarded") && header.contains("native"),
        "{header}"
    );
    assert!(wide.stdout.lines().all(|l| l.chars().count() <= 200));
}
