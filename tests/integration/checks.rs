//! The opt-in checks after the login on the real libraries: `logout` (BetterAuth ends its
//! session record; Auth.js database sessions too; Auth.js JWT sessions and express-openid-connect's
//! cookie sessions outlive their sign-out by design, and are named so) and `cookie-policy`.

use crate::harness::{Chain, Opts, authchain, checks_of, finding_ids};

#[test]
fn logout_ends_the_session_on_each_library_or_says_why_not() {
    // (library, app switches, logout's status, the session stateless)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, bool);
    let cases: &[Case] = &[
        ("better-auth", &[], "passed", false),
        (
            "authjs",
            &[("SESSION_STRATEGY", "database")],
            "passed",
            false,
        ),
        ("authjs", &[], "failed", true),
        ("eoc", &[], "failed", true),
    ];
    for (library, app_env, status, stateless) in cases {
        let chain = Chain::start(Opts {
            library,
            app_env,
            ..Opts::default()
        });
        // BetterAuth's chain also gets a route that answers 200 to everyone (the user or
        // null): it accepts the saved cookies after the sign-out as it accepts none, so it
        // tells nothing, and the sign-out still passes.
        let (guarded, whoami) = (chain.guarded(), format!("{}/auth/whoami", chain.app()));
        let mut args = vec!["--probe", guarded.as_str(), "--check", "logout"];
        if *library == "better-auth" {
            args.extend(["--probe", whoami.as_str()]);
        }
        let run = chain.login("alice", &args, &[]);
        let report = &run.report;
        assert_eq!(
            checks_of(report),
            vec![("logout".to_string(), status.to_string())],
            "{library} {app_env:?}: {}",
            run.out.stdout
        );
        let logout = &report["checks"][0];
        if *status == "failed" {
            assert_eq!(run.out.code, 1, "{library}: {}", run.out.all());
            assert_eq!(
                finding_ids(report)[0],
                "session-survives-logout",
                "{}",
                run.out.stdout
            );
            assert_eq!(logout["stateless"], *stateless);
            let why = report["findings"][0]["explanation"].as_str().unwrap();
            assert!(
                why.contains("by design for stateless JWT sessions"),
                "{why}"
            );
            assert!(
                report["findings"][0]["fix"]
                    .as_str()
                    .unwrap()
                    .contains("deny list")
            );
        } else {
            assert_eq!(run.out.code, 0, "{library} {app_env:?}: {}", run.out.all());
            assert!(
                logout["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s.as_str().unwrap().contains("refused")),
                "{logout}"
            );
            if *library == "better-auth" {
                assert!(
                    logout["steps"].as_array().unwrap().iter().any(|s| {
                        let s = s.as_str().unwrap();
                        s.contains("/auth/whoami") && s.contains("it tells nothing")
                    }),
                    "{logout}"
                );
            }
        }
        assert!(
            run.out.stdout.contains("checks\n  logout"),
            "{}",
            run.out.stdout
        );
    }
}

/// The real libraries keep the state one-time and bound to the browser: a replayed callback
/// and callbacks with a forged state, none, or another login's are refused, each from fresh
/// logins of the check's own.
#[test]
fn callback_replay_and_state_hold_on_each_library() {
    for library in ["better-auth", "authjs", "eoc"] {
        let chain = Chain::start(Opts {
            library,
            ..Opts::default()
        });
        let run = chain.login(
            "alice",
            &["--check", "callback-replay", "--check", "state"],
            &[],
        );
        assert_eq!(run.out.code, 0, "{library}: {}", run.out.all());
        assert_eq!(
            checks_of(&run.report),
            vec![
                ("callback-replay".to_string(), "passed".to_string()),
                ("state".to_string(), "passed".to_string())
            ],
            "{library}: {}",
            run.out.stdout
        );
        let steps: Vec<&str> = run.report["checks"][1]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        let sent: Vec<&&str> = steps
            .iter()
            .filter(|s| s.starts_with("a callback with"))
            .collect();
        // Auth.js checks PKCE only: its flow has no state, and another login's callback is the
        // case.
        // express-openid-connect's state is the same in every login (where to return): the
        // other login's state is no case of its own there.
        let cases = match library {
            "authjs" => 1,
            "eoc" => 3,
            _ => 4,
        };
        assert_eq!(sent.len(), cases, "{library}: {steps:?}");
        assert!(
            sent.iter().all(|s| s.ends_with("refused")),
            "{library}: {steps:?}"
        );
        // No session token of those logins in any output (the BetterAuth app lists them).
        let issued = if library == "better-auth" {
            chain.issued_secrets()
        } else {
            Vec::new()
        };
        for secret in issued {
            assert!(
                !run.out.all().contains(&secret) && !run.json_text.contains(&secret),
                "{library}"
            );
        }
    }
}

#[test]
fn cookie_policy_names_each_missing_attribute() {
    // Over http the session cookie can be neither __Host- nor Secure; with BetterAuth's secure
    // cookies it is __Secure- (a Domain-less cookie that could be __Host-).
    for (secure, lacks) in [
        (
            false,
            "the __Host- prefix (__Host-better-auth.session_token); Secure",
        ),
        (
            true,
            "the __Host- prefix (__Host-better-auth.session_token)",
        ),
    ] {
        let chain = Chain::start(Opts {
            secure,
            ..Opts::default()
        });
        let run = chain.login("alice", &["--check", "cookie-policy"], &[]);
        let weak: Vec<&serde_json::Value> = run.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"] == "cookie-policy-weak")
            .collect();
        assert!(!weak.is_empty(), "{secure}: {}", run.out.stdout);
        let titles: Vec<&str> = weak.iter().map(|f| f["title"].as_str().unwrap()).collect();
        assert!(
            titles
                .iter()
                .any(|t| t.contains("session cookie") && t.ends_with(lacks)),
            "{secure}: {titles:#?}"
        );
        assert_eq!(run.out.code, 1);
        assert_eq!(
            checks_of(&run.report),
            vec![("cookie-policy".to_string(), "failed".to_string())]
        );
    }
}

#[test]
fn checks_from_a_scenario_and_what_cannot_run() {
    let chain = Chain::start(Opts::default());
    let (out, report) = crate::harness::run_scenario(&format!(
        "[chain]\napp = \"{}\"\npreset = \"better-auth\"\nprovider = \"fixture\"\n[idp]\nusername = \"alice\"\npassword = \"wrong-password\"\n[checks]\nlogout = true\ncookie-policy = false\n",
        chain.app()
    ));
    // The login failed: the check says it could not run, and passes nothing.
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        checks_of(&report),
        vec![("logout".to_string(), "not-run".to_string())]
    );
    assert!(out.stdout.contains("not run"), "{}", out.stdout);
    // An unknown check is named where it stands, with the nearest name.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, "[chain]\napp = \"http://localhost:3000\"\npreset = \"better-auth\"\nprovider = \"p\"\n[checks]\nlogut = true\n").unwrap();
    let out = authchain(&["validate", file.to_str().unwrap()], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("unknown check `logut`")
            && out.stderr.contains("did you mean `logout`?"),
        "{}",
        out.stderr
    );
    let out = authchain(
        &[
            "login",
            "--app",
            "http://localhost:3000",
            "--provider",
            "p",
            "--check",
            "nonsense",
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
}

/// The app with its own OAuth login and its sessions in a cache (tests/fixtures/cache-app.mjs),
/// from a scenario with no preset: its start answers `{authorizationUrl, state}`, its sign-out is
/// named in the scenario. Correct, every check passes; each bug's switch is named.
#[test]
fn the_cache_app_and_its_bugs() {
    // (app switches, exit, the checks that fail, the first finding)
    type Case<'a> = (&'a [(&'a str, &'a str)], i32, &'a [&'a str], &'a str);
    let cases: &[Case] = &[
        (&[], 0, &[], ""),
        // A session cookie on every answer, a refused callback's too: no session is made by it.
        (&[("SESSIONS", "eager")], 0, &[], ""),
        (&[("STATE", "unbound")], 1, &["state"], "state-not-enforced"),
        (
            &[("LOGOUT", "keeps-record")],
            1,
            &["logout"],
            "session-survives-logout",
        ),
    ];
    for (app_env, code, failing, first) in cases {
        let chain = Chain::start(Opts {
            library: "cache",
            app_env,
            ..Opts::default()
        });
        let app = chain.app();
        let (out, report) = crate::harness::run_scenario(&format!(
            "[chain]\napp = \"{app}\"\nstart = {{ request = \"GET {app}/api/auth/fixture/start\" }}\nsign_out = \"POST {app}/api/auth/logout\"\n[idp]\nusername = \"alice\"\npassword = \"${{env:{pw}}}\"\n[[probe]]\nname = \"me\"\nrequest = \"GET {app}/api/me\"\nnative = true\n[checks]\nlogout = true\ncallback-replay = true\nstate = true\n",
            pw = crate::harness::PASSWORD_VAR,
        ));
        assert_eq!(out.code, *code, "{app_env:?}: {}", out.all());
        let failed: Vec<String> = checks_of(&report)
            .into_iter()
            .filter(|(_, s)| s != "passed")
            .map(|(c, _)| c)
            .collect();
        assert_eq!(failed, *failing, "{app_env:?}: {}", out.stdout);
        if !first.is_empty() {
            assert_eq!(
                finding_ids(&report)[0],
                *first,
                "{app_env:?}: {}",
                out.stdout
            );
        }
        if app_env.contains(&("LOGOUT", "keeps-record")) {
            let why = report["findings"][0]["explanation"].as_str().unwrap();
            assert!(why.contains("its record was not ended"), "{why}");
            let logout = report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["check"] == "logout")
                .unwrap();
            assert_eq!(
                logout["stateless"],
                serde_json::Value::Null,
                "not stateless"
            );
        }
    }
}

/// `ttl` puts the cookie's life next to the session's; BetterAuth's agree (7 days both), and an
/// app whose cookie outlives its session has `ttl-mismatch` in place of the lifetime warning.
#[test]
fn ttl_puts_the_lifetimes_side_by_side() {
    let chain = Chain::start(Opts::default());
    let run = chain.login("alice", &["--check", "ttl"], &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert_eq!(
        checks_of(&run.report),
        vec![("ttl".to_string(), "passed".to_string())]
    );
    let steps = run.report["checks"][0]["steps"].to_string();
    assert!(
        steps.contains("the session cookie `better-auth.session_token` ends")
            && steps.contains("the server session ends"),
        "{steps}"
    );
}

/// BetterAuth's sign-out ends the app's session only: a second login from the same browser
/// meets no IdP form, a warning (single sign-on keeps the IdP's session by design).
#[test]
fn idp_logout_names_a_surviving_idp_session() {
    let chain = Chain::start(Opts::default());
    let run = chain.login(
        "alice",
        &[
            "--check",
            "idp-logout",
            "--check",
            "logout",
            "--probe",
            &chain.guarded(),
        ],
        &[],
    );
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert_eq!(
        checks_of(&run.report),
        // In the order asked: both end the session, so both come after any other check.
        vec![
            ("idp-logout".to_string(), "failed".to_string()),
            ("logout".to_string(), "passed".to_string())
        ],
        "{}",
        run.out.stdout
    );
    let f = &run.report["findings"][0];
    assert_eq!(f["id"], "idp-session-survives-logout", "{}", run.out.stdout);
    assert_eq!(f["severity"], "warning");
}
