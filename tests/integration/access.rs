//! `refresh-rotation`, `authz` and `isolation` on the audited API (tests/fixtures/api-app.mjs):
//! sessions, PATs and scoped tokens across two tenants, correct, then with each of its bugs.

use crate::harness::{Chain, Opts, checks_of, finding_ids, run_scenario};

/// The scenario of the audited API: alice (tenant acme) is `[idp]`, bob (tenant globex) the
/// second user; the matrix names the session, alice's PAT (projects:read) and scoped token
/// (audit:read), none and bob's session.
fn scenario(chain: &Chain, checks: &[&str]) -> (String, String, String) {
    let app = chain.app();
    let tokens = chain.fixture_json("/__fixture/tokens");
    let pat = tokens["alice"]["pat"].as_str().unwrap().to_string();
    let scoped = tokens["alice"]["scoped"].as_str().unwrap().to_string();
    let checks: String = checks.iter().map(|c| format!("{c} = true\n")).collect();
    let text = format!(
        r#"[chain]
app = "{app}"
start = {{ request = "GET {app}/api/auth/fixture/start" }}
sign_out = "POST {app}/api/auth/logout"
refresh = "POST {app}/api/auth/refresh"
[idp]
username = "alice"
password = "${{env:{pw}}}"
[[users]]
username = "bob"
password = "${{env:{pw}}}"
vars = {{ tenant = "globex", project = "p-globex-1" }}
[[probe]]
name = "me"
request = "GET {app}/api/me"
native = true
expect = {{ json_present = "id" }}
[checks]
{checks}
[authz.credentials]
pat = {{ value = "Bearer {pat}" }}
scoped = {{ value = "Bearer {scoped}" }}
[[authz.row]]
request = "GET {app}/api/projects"
expect = {{ session = "allow", pat = "allow", scoped = "deny", none = "deny", other = "allow" }}
[[authz.row]]
request = "GET {app}/api/projects/p-acme-1"
expect = {{ session = "allow", pat = "allow", scoped = "deny", none = "deny", other = "deny" }}
[[authz.row]]
request = "POST {app}/api/projects"
json = {{ name = "from the matrix" }}
unsafe = true
expect = {{ session = "allow", pat = "deny", scoped = "deny", none = "deny", other = "allow" }}
[[authz.row]]
request = "GET {app}/api/audit"
expect = {{ session = "deny", pat = "deny", scoped = "allow", none = "deny", other = "deny" }}
[isolation]
vars = {{ tenant = "acme", project = "p-acme-1" }}
[[isolation.resource]]
request = "GET {app}/api/projects/{{project}}"
[[isolation.resource]]
request = "GET {app}/api/projects"
"#,
        pw = crate::harness::PASSWORD_VAR,
    );
    (text, pat, scoped)
}

/// The titles of the findings with `id`.
fn titles(report: &serde_json::Value, id: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["id"] == id)
        .map(|f| f["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_audited_api_and_its_bugs() {
    // (app switches, the checks that fail, the findings: id and a piece of each title)
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        &'a [(&'a str, &'a str)],
    );
    let cases: &[Case] = &[
        (&[], &[], &[]),
        // A sign-in page with a 200 to a caller without credentials is a refusal; a refresh
        // that wants the session, and ends the one it was sent with, refuses a reuse.
        (
            &[
                ("UNAUTHENTICATED", "login-page"),
                ("REFRESH_NEEDS", "session"),
                ("REFRESH_SESSION", "replace"),
            ],
            &[],
            &[],
        ),
        (
            &[("PAT", "legacy")],
            &["authz"],
            &[(
                "authz-mismatch",
                "/api/projects with pat: allow (201), expected deny",
            )],
        ),
        (
            &[("SCOPES", "skip-session")],
            &["authz"],
            &[
                (
                    "authz-mismatch",
                    "/api/audit with session: allow (200), expected deny",
                ),
                (
                    "authz-mismatch",
                    "/api/audit with other: allow (200), expected deny",
                ),
            ],
        ),
        (
            &[("REFRESH_COOKIE", "weak")],
            &["cookie-policy"],
            &[(
                "cookie-policy-weak",
                "The refresh cookie `refresh_token` lacks: the __Host- prefix (__Host-refresh_token); Secure; SameSite=Strict",
            )],
        ),
        (
            &[("DB_CONTEXT", "shared")],
            &["isolation"],
            &[(
                "isolation-breach",
                "two users' own requests in flight together crossed",
            )],
        ),
        (
            &[("REFRESH", "reusable")],
            &["refresh-rotation"],
            &[(
                "refresh-reuse-accepted",
                "the used refresh token worked again (200)",
            )],
        ),
        // A refresh cookie whose name says nothing: told by what the refresh rotates.
        (
            &[("REFRESH_COOKIE", "opaque"), ("REFRESH", "reusable")],
            &["refresh-rotation"],
            &[(
                "refresh-reuse-accepted",
                "the used refresh token worked again (200)",
            )],
        ),
        // A refresh that also wants the session cookie, and ends the one it was sent with: the
        // reuse carries the session the first refresh left, so it is refused for the token and
        // for nothing else.
        (
            &[
                ("REFRESH_COOKIE", "opaque"),
                ("REFRESH", "reusable"),
                ("REFRESH_NEEDS", "session"),
                ("REFRESH_SESSION", "replace"),
            ],
            &["refresh-rotation"],
            &[(
                "refresh-reuse-accepted",
                "the used refresh token worked again (200)",
            )],
        ),
        // The rotated token is sent alone, though the old one (Path=/) and the new one
        // (Path=/api/auth) are both in the jar after the first refresh.
        (
            &[("REFRESH", "no-family"), ("REFRESH_COOKIE", "scoped")],
            &["cookie-policy", "refresh-rotation"],
            &[
                ("refresh-reuse-accepted", "the family was not ended"),
                (
                    "cookie-policy-weak",
                    "The refresh cookie `__Secure-refresh` lacks",
                ),
            ],
        ),
    ];
    let all = [
        "refresh-rotation",
        "authz",
        "isolation",
        "cookie-policy",
        "logout",
    ];
    for (app_env, failing, findings) in cases {
        let chain = Chain::start(Opts {
            library: "api",
            app_env,
            ..Opts::default()
        });
        let (text, pat, scoped) = scenario(&chain, &all);
        let (out, report) = run_scenario(&text);
        let want = if failing.is_empty() { 0 } else { 1 };
        assert_eq!(out.code, want, "{app_env:?}: {}", out.all());
        // Every check ran, the ones that end the session last.
        let got = checks_of(&report);
        let order: Vec<&str> = got.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(order.last(), Some(&"logout"), "{app_env:?}");
        let failed: Vec<&str> = got
            .iter()
            .filter(|(_, s)| s != "passed")
            .map(|(c, _)| c.as_str())
            .collect();
        assert_eq!(failed, *failing, "{app_env:?}: {}", out.stdout);
        for (id, piece) in *findings {
            let t = titles(&report, id);
            assert!(
                t.iter().any(|t| t.contains(piece)),
                "{app_env:?}: no {id} with {piece:?} in {t:?}\n{}",
                out.stdout
            );
        }
        let ids = finding_ids(&report);
        for id in [
            "authz-mismatch",
            "isolation-breach",
            "refresh-reuse-accepted",
            "cookie-policy-weak",
        ] {
            assert_eq!(
                ids.contains(&id.to_string()),
                findings.iter().any(|(f, _)| *f == id),
                "{app_env:?}: {id} in {ids:?}"
            );
        }
        // The matrices are printed, and no credential shows anywhere.
        assert!(out.stdout.contains("request"), "{}", out.stdout);
        assert!(
            out.stdout.contains("session") && out.stdout.contains("scoped"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("in flight together"), "{}", out.stdout);
        let json = report.to_string();
        for secret in [&pat, &scoped] {
            assert!(
                !out.all().contains(secret.as_str()),
                "{app_env:?}: a token shows"
            );
            assert!(
                !json.contains(secret.as_str()),
                "{app_env:?}: a token in the report"
            );
        }
    }
}

/// The authz report shows the matrix: a row per request, a column per credential, the wrong
/// cell marked with what was expected; the JSON keeps every cell.
#[test]
fn the_authz_matrix_is_shown_cell_by_cell() {
    let chain = Chain::start(Opts {
        library: "api",
        app_env: &[("PAT", "legacy")],
        ..Opts::default()
    });
    let (text, _, _) = scenario(&chain, &["authz"]);
    let (out, report) = run_scenario(&text);
    assert_eq!(out.code, 1, "{}", out.all());
    let m = &report["checks"][0]["matrix"];
    assert_eq!(
        m["columns"],
        serde_json::json!(["session", "pat", "scoped", "none", "other"])
    );
    assert_eq!(m["rows"].as_array().unwrap().len(), 4);
    let post = &m["rows"][2];
    assert!(post["request"].as_str().unwrap().starts_with("POST "));
    assert_eq!(post["cells"][1]["status"], 201);
    assert_eq!(post["cells"][1]["got"], "allow");
    assert_eq!(post["cells"][1]["expect"], "deny");
    assert_eq!(post["cells"][1]["ok"], false);
    assert_eq!(post["cells"][3]["status"], 401);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("POST /api/projects"))
        .unwrap_or_else(|| panic!("no matrix row in {}", out.stdout));
    assert!(line.contains("201 allow ✗ (deny)"), "{line}");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("request") && l.contains("pat") && l.contains("other")),
        "{}",
        out.stdout
    );
}

/// Nothing unsafe is sent without `unsafe = true`: the scenario is refused before any request,
/// naming the row.
#[test]
fn an_unsafe_row_needs_unsafe_true() {
    let chain = Chain::start(Opts {
        library: "api",
        ..Opts::default()
    });
    let (text, _, _) = scenario(&chain, &["authz"]);
    for (from, to) in [
        ("json = { name = \"from the matrix\" }\nunsafe = true\n", ""),
        (
            "request = \"GET {app}/api/projects/{project}\"",
            "request = \"DELETE {app}/api/projects/{project}\"",
        ),
    ] {
        let from = from.replace("{app}", &chain.app());
        let to = to.replace("{app}", &chain.app());
        let changed = text.replace(&from, &to);
        assert_ne!(changed, text);
        let out = crate::harness::run_scenario_raw(&changed);
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr.contains("is sent only with `unsafe = true`"),
            "{}",
            out.stderr
        );
    }
    // The app was sent no request at all, and certainly no POST or DELETE.
    let log = chain.app.log_text();
    assert!(!log.contains("POST /api/projects"), "{log}");
    assert!(!log.contains("DELETE"), "{log}");
}

/// On a chain where they cannot run (BetterAuth has no refresh endpoint; no scenario names a
/// matrix or a second user), the checks say so and pass nothing: the run passes on its own.
#[test]
fn checks_that_cannot_run_say_why() {
    let chain = Chain::start(Opts::default());
    let run = chain.login(
        "alice",
        &[
            "--probe",
            &chain.guarded(),
            "--check",
            "refresh-rotation",
            "--check",
            "authz",
            "--check",
            "isolation",
        ],
        &[],
    );
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    let checks = run.report["checks"].as_array().unwrap();
    let why: Vec<(&str, &str, &str)> = checks
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
                c["detail"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(why.len(), 3);
    for (check, status, detail) in &why {
        assert_eq!(*status, "not-run", "{check}: {detail}");
    }
    assert!(why[0].2.contains("--refresh"), "{}", why[0].2);
    assert!(why[1].2.contains("[authz]"), "{}", why[1].2);
    assert!(why[2].2.contains("[[users]]"), "{}", why[2].2);
    assert!(run.out.stdout.contains("not run"), "{}", run.out.stdout);
}

/// A refresh that refuses with a 200 whose body says no (and clears the cookie): the reuse's
/// 200 is no acceptance, since a request without any cookie gets the same; the check says it
/// cannot tell rather than fail a correct app.
#[test]
fn a_refresh_that_refuses_with_a_200_is_not_judged() {
    let chain = Chain::start(Opts {
        library: "api",
        app_env: &[("REFRESH", "soft")],
        ..Opts::default()
    });
    let (text, _, _) = scenario(&chain, &["refresh-rotation"]);
    let (out, report) = run_scenario(&text);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        checks_of(&report),
        vec![("refresh-rotation".to_string(), "not-run".to_string())]
    );
    let detail = report["checks"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("without any cookie"), "{detail}");
    assert!(!finding_ids(&report).contains(&"refresh-reuse-accepted".to_string()));
}
