//! What CI and an operator's terminal rely on: completions and the manual, a silent stderr on
//! a passing piped run, JSON on stdout, the event stream, retries on exit 3 only, GitHub
//! annotations and JUnit identities that do not change between a passing and a failing run.

use crate::harness::{Misbehaving, authchain, read_json, response};
use std::path::Path;

#[test]
fn completions_and_the_manual_come_from_the_command_line() {
    for shell in ["bash", "zsh", "fish"] {
        let out = authchain(&["completions", shell], &[]);
        assert_eq!(out.code, 0, "{shell}: {}", out.all());
        assert!(out.stdout.len() > 1000, "{shell}: {}", out.stdout.len());
        assert!(
            out.stdout.contains("idp-login"),
            "{shell}: names the commands"
        );
    }
    let man = authchain(&["man"], &[]);
    assert_eq!(man.code, 0, "{}", man.all());
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH authchain 1"));
    assert!(
        man.stdout.contains("completions"),
        "the manual names the commands"
    );
    let bad = authchain(&["completions", "tcsh"], &[]);
    assert_eq!(bad.code, 2, "{}", bad.all());
}

#[test]
fn a_passing_piped_run_writes_nothing_to_stderr() {
    let out = authchain(&["demo"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stderr, "", "no progress and no noise when piped");
}

#[test]
fn report_json_dash_puts_the_report_on_stdout_and_the_text_on_stderr() {
    let pass = authchain(&["demo", "--report-json", "-"], &[]);
    assert_eq!(pass.code, 0, "{}", pass.all());
    let report: serde_json::Value = serde_json::from_str(&pass.stdout).expect("stdout is JSON");
    assert_eq!(report["verdict"], "pass");
    assert_eq!(pass.stderr, "", "a passing run is silent on a piped stderr");

    let fail = authchain(
        &["demo", "--fault", "guard-bearer", "--report-json", "-"],
        &[],
    );
    assert_eq!(fail.code, 1);
    let report: serde_json::Value = serde_json::from_str(&fail.stdout).expect("stdout is JSON");
    assert_eq!(report["findings"][0]["id"], "guard-validates-differently");
    assert!(
        fail.stderr.contains("guard-validates-differently: "),
        "{}",
        fail.stderr
    );
    assert!(
        fail.stderr.ends_with("result: fail (exit 1)\n"),
        "{}",
        fail.stderr
    );

    let both = authchain(&["demo", "--report-json", "-", "--events", "-"], &[]);
    assert_eq!(both.code, 2, "{}", both.all());
}

#[test]
fn the_event_stream_is_json_lines_in_order() {
    let out = authchain(&["demo", "--fault", "guard-bearer", "--events", "-"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"hop"));
    assert_eq!(kinds.last(), Some(&"run-end"));
    for kind in ["probe", "matrix-row", "finding"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let rank = |k: &str| {
        ["hop", "probe", "matrix-row", "check", "finding", "run-end"]
            .iter()
            .position(|x| *x == k)
            .unwrap()
    };
    assert!(
        kinds.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{kinds:?}"
    );
    assert!(events.iter().all(|e| e["run"] == 1));
    let finding = events.iter().find(|e| e["event"] == "finding").unwrap();
    assert_eq!(finding["finding"]["id"], "guard-validates-differently");
    assert_eq!(events.last().unwrap()["exit_code"], 1);
    assert!(!out.stdout.contains(authchain::demo::PASSWORD));
    // The hops' secrets are fingerprints here as everywhere.
    assert!(out.stdout.contains("sha256:"));

    // To a file, with the human report on stdout.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let out = authchain(&["demo", "--events", file.to_str().unwrap()], &[]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.ends_with("result: pass (exit 0)\n"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
    assert!(text.lines().last().unwrap().contains("\"run-end\""));
}

fn scenario(dir: &Path, port: u16) -> String {
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        format!(
            "[chain]\napp = \"http://localhost:{port}\"\nstart = {{ request = \"GET http://localhost:{port}/start\" }}\ntimeout = \"2s\"\n[idp]\nusername = \"u\"\npassword = \"pw-not-shown\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn retries_happen_on_exit_3_only_and_are_recorded() {
    // A server that resets every connection: no usable answer.
    let dir = tempfile::tempdir().unwrap();
    let closed = crate::harness::free_port();
    let json = dir.path().join("r.json");
    let file = scenario(dir.path(), closed);
    let out = authchain(
        &[
            "run",
            &file,
            "--retries",
            "2",
            "--retry-delay",
            "20ms",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    let report = read_json(&json);
    let retries = report["retries"].as_array().expect("retries recorded");
    assert_eq!(retries.len(), 2, "{report}");
    assert_eq!(retries[0]["attempt"], 1);
    assert_eq!(retries[0]["exit_code"], 3);
    assert_eq!(retries[1]["delay_ms"], 40, "the delay doubles");
    assert!(
        out.stdout.contains("attempt 1 gave no usable answer"),
        "{}",
        out.stdout
    );

    // A wrong answer is an answer: tried once.
    let server =
        Misbehaving::start(|_, _, _| Some(response("500 Internal Server Error", &[], "boom")));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let file = scenario(dir.path(), server.port);
    let out = authchain(
        &[
            "run",
            &file,
            "--retries",
            "3",
            "--retry-delay",
            "10ms",
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(server.heads().len(), 1, "exit 1 is not retried");
    assert!(read_json(&json).get("retries").is_none());
}

#[test]
fn github_annotations_come_before_the_result_line() {
    let out = authchain(
        &["demo", "--fault", "guard-bearer"],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("::error title=authchain guard-validates-differently::"))
        .unwrap_or_else(|| panic!("no annotation in {}", out.stdout));
    assert!(at < lines.len() - 1);
    // Whole on one line, however long: the runner reads a command from its line alone.
    assert!(lines[at].contains("(fix: "), "{}", lines[at]);
    assert!(lines[at].chars().count() > 100);
    assert_eq!(lines.last(), Some(&"result: fail (exit 1)"));
    let plain = authchain(&["demo", "--fault", "guard-bearer"], &[]);
    assert!(
        !plain.stdout.contains("::error"),
        "none outside GitHub Actions"
    );
}

/// The test cases of a JUnit file as `suite/classname/name`.
fn junit_ids(xml: &str) -> Vec<String> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[at..at + tag[at..].find('"')?].to_string())
    };
    xml.split('<')
        .filter(|t| t.starts_with("testcase "))
        .map(|t| {
            format!(
                "{}/{}",
                attr(t, "classname").unwrap_or_default(),
                attr(t, "name").unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn junit_identities_are_the_same_in_a_passing_and_a_failing_run() {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass.xml");
    let fail = dir.path().join("fail.xml");
    assert_eq!(
        authchain(&["demo", "--junit", pass.to_str().unwrap()], &[]).code,
        0
    );
    assert_eq!(
        authchain(
            &[
                "demo",
                "--fault",
                "guard-bearer",
                "--junit",
                fail.to_str().unwrap()
            ],
            &[]
        )
        .code,
        1
    );
    let pass = std::fs::read_to_string(pass).unwrap();
    let fail = std::fs::read_to_string(fail).unwrap();
    assert!(!junit_ids(&pass).is_empty());
    assert_eq!(junit_ids(&pass), junit_ids(&fail));
    assert!(fail.contains("<failure"));
}

/// Under a terminal (a pty made by `script`) and outside CI, a progress line shows the run's
/// step while it waits; with `CI` set, none does.
#[test]
fn a_terminal_gets_a_progress_line_and_ci_does_not() {
    fn slow(_: &str, _: &str, _: u16) -> Option<Vec<u8>> {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        Some(response(
            "200 OK",
            &[("content-type", "application/json")],
            r#"{"session":{"id":"s"},"user":{"id":"u","email":"u@example.test","name":"U"}}"#,
        ))
    }
    let server = Misbehaving::start(slow);
    let command = format!(
        "{} probe --cookie sid=a-value --native http://127.0.0.1:{}/session",
        env!("CARGO_BIN_EXE_authchain"),
        server.port
    );
    let in_pty = |ci: bool| {
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-q", "-e", "-c", &command, "/dev/null"])
            .env_remove("CI")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        if ci {
            cmd.env("CI", "true");
        }
        let out = cmd.output().expect("script (util-linux) runs");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let watched = in_pty(false);
    assert!(
        watched.contains(" s): step probe native"),
        "a progress line: {watched}"
    );
    assert!(watched.contains("result: pass"), "{watched}");
    let ci = in_pty(true);
    assert!(!ci.contains(" s): "), "no progress line in CI: {ci}");
    assert!(ci.contains("result: pass"), "{ci}");
}
