//! `authchain init URL`: each auth library told by what its endpoints answer without a session,
//! the scenario it writes valid, and run as written (with its variables set) against the chain.

use crate::harness::{Chain, Opts, PASSWORD, authchain, free_port};

fn init(chain: &Chain, dir: &std::path::Path) -> (crate::harness::Output, String, String) {
    let file = dir.join("scenario.toml");
    let out = authchain(&["init", &chain.app(), "-o", file.to_str().unwrap()], &[]);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    (out, text, file.display().to_string())
}

#[test]
fn init_tells_each_library_and_its_scenario_runs() {
    for (library, preset, provider_line) in [
        (
            "better-auth",
            "better-auth",
            "provider = \"${env:AUTHCHAIN_PROVIDER}\"",
        ),
        ("authjs", "authjs", "provider = \"fixture\""),
        ("eoc", "express-openid-connect", ""),
    ] {
        let chain = Chain::start(Opts {
            library,
            ..Opts::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let (out, text, file) = init(&chain, dir.path());
        assert_eq!(out.code, 0, "{library}: {}", out.all());
        assert_eq!(out.stderr, "", "{library}: quiet when piped");
        assert!(
            text.contains(&format!("preset = \"{preset}\"")),
            "{library}:\n{text}"
        );
        assert!(text.contains(provider_line), "{library}:\n{text}");
        let valid = authchain(&["validate", &file], &[]);
        assert_eq!(valid.code, 0, "{library}: {}\n{text}", valid.all());
        if library == "eoc" {
            // express-openid-connect has no session endpoint: the file asks for one.
            assert!(text.contains("AUTHCHAIN_SESSION_URL"), "{text}");
            continue;
        }
        let run = authchain(
            &["run", &file],
            &[
                ("AUTHCHAIN_USER", "alice"),
                ("AUTHCHAIN_PASSWORD", PASSWORD),
                ("AUTHCHAIN_PROVIDER", "fixture"),
            ],
        );
        assert_eq!(run.code, 0, "{library}: {}\n{text}", run.all());
    }
}

#[test]
fn init_without_an_app_or_over_a_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let nothing = format!("http://127.0.0.1:{}", free_port());
    let out = authchain(&["init", &nothing], &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("no endpoint answered"),
        "{}",
        out.stderr
    );
    let file = dir.path().join("s.toml");
    std::fs::write(&file, "kept").unwrap();
    let out = authchain(&["init", &nothing, "-o", file.to_str().unwrap()], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");
    let out = authchain(&["init", "not a url"], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
}
