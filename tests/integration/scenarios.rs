//! Every runnable example in scenarios/ runs against the real chain; every production template
//! in scenarios/templates/ validates.

use crate::harness::{Chain, Opts, PASSWORD, authchain, read_json};
use std::path::{Path, PathBuf};

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    files
}

#[test]
fn every_example_scenario_runs() {
    let chain = Chain::start(Opts::default());
    let app = chain.app();
    let env = [
        ("AUTHCHAIN_APP", app.as_str()),
        ("AUTHCHAIN_PROVIDER", "fixture"),
        ("AUTHCHAIN_USER", "alice"),
        ("AUTHCHAIN_PASSWORD", PASSWORD),
    ];
    let files = toml_files("scenarios");
    for file in &files {
        let out = authchain(&["run", file.to_str().unwrap()], &env);
        assert_eq!(out.code, 0, "{}:\n{}", file.display(), out.all());
        assert!(!out.all().contains(PASSWORD));
    }
    // All at once, two at a time: one report with every run.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("all.json");
    let mut args: Vec<String> = vec!["run".into(), "-j".into(), "2".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--report-json".into(), json.display().to_string()]);
    let out = authchain(&args, &env);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains(&format!("{n} of {n} scenarios passed", n = files.len()))
    );
    let report = read_json(&json);
    assert_eq!(report["runs"].as_array().unwrap().len(), files.len());
}

#[test]
fn a_failing_scenario_among_passing_ones_fails_the_run() {
    let chain = Chain::start(Opts {
        guard: "bearer-only",
        ..Opts::default()
    });
    let env = [
        ("AUTHCHAIN_APP", chain.app()),
        ("AUTHCHAIN_PROVIDER", "fixture".into()),
        ("AUTHCHAIN_USER", "alice".into()),
        ("AUTHCHAIN_PASSWORD", PASSWORD.into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let files = toml_files("scenarios");
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let mut args: Vec<String> = vec!["run".into(), "--junit".into(), junit.display().to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let out = authchain(&args, &env);
    assert_eq!(out.code, 1, "{}", out.all());
    let xml = std::fs::read_to_string(&junit).expect("a JUnit report");
    assert!(
        xml.contains("<failure message=\"guard-validates-differently: "),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "<testsuites name=\"authchain\" tests=\"{}\"",
            2 + 3
        )),
        "{xml}"
    );
    assert!(!xml.contains(PASSWORD));
    assert!(
        out.stdout
            .contains("guard-validates-differently: `guarded` finds the session cookie"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("result: fail (exit 1)\n"));
}

#[test]
fn every_template_validates() {
    for file in toml_files("scenarios/templates") {
        let out = authchain(&["validate", file.to_str().unwrap()], &[]);
        assert_eq!(out.code, 0, "{}:\n{}", file.display(), out.all());
        assert!(out.stdout.starts_with("ok: "));
    }
}
