//! The guard zoo (tests/fixtures/guards.mjs): guards that answer the way NestJS, Spring Security,
//! Django REST framework, Spring Boot's error page, a server-rendered app and a hand-written
//! guard answer, each combined with each fault, on both BetterAuth lines and on Auth.js. One
//! login per library probes every guard; each gets its expected verdict, or
//! `guard-rejects-session` with the true cause among its ranked causes where the answers cannot
//! tell.

use crate::harness::{Chain, Opts};
use serde_json::Value;

const STYLES: &[&str] = &["nest", "spring", "drf", "echo", "volatile", "redirect"];

/// Styles whose answers tell "no credential" from "a bad credential" (a challenge's error code,
/// distinct words): on them a guard that sees the cookie and rejects it is told apart.
fn distinct(style: &str) -> bool {
    matches!(style, "spring" | "drf" | "echo")
}

/// What each fault must give: the top guard finding, or (None) no finding at all; and the cause
/// that is true. A library with no token transport (express-openid-connect) accepts the session
/// no other way: a guard that reads only the Authorization header cannot be told from one that
/// never gets the cookie, and the true cause is among the ranked ones.
fn expected(library: &str, style: &str, fault: &str) -> Option<(&'static str, &'static str)> {
    let tells = |exact: &'static str| {
        if distinct(style) {
            exact
        } else {
            "guard-rejects-session"
        }
    };
    match fault {
        "correct" => None,
        "bearer-only" => Some((tells("guard-validates-differently"), "bearer-revalidation")),
        "other-secret" => Some((
            tells("guard-validates-differently"),
            "other-secret-or-instance",
        )),
        "wrong-name" => Some(("guard-misses-cookie", "other-cookie-name")),
        "authorization-only" if library == "eoc" => {
            Some(("guard-rejects-session", "cookie-not-reaching-guard"))
        }
        "authorization-only" => Some(("guard-wants-other-transport", "wants-authorization-header")),
        "proxy-drops-cookie" => Some(("guard-rejects-session", "cookie-not-reaching-guard")),
        "forbidden" => Some(("guard-refuses-user", "refuses-user")),
        other => panic!("unknown fault {other}"),
    }
}

const FAULTS: &[&str] = &[
    "correct",
    "bearer-only",
    "other-secret",
    "wrong-name",
    "authorization-only",
    "proxy-drops-cookie",
    "forbidden",
];

/// The findings that cite a probe's matrix, or the probe itself.
fn findings_of<'a>(report: &'a Value, probe: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["evidence_items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["probe"] == probe)
        })
        .collect()
}

fn zoo(opts: Opts) {
    let library = opts.library;
    let chain = Chain::start(opts);
    let mut args = Vec::new();
    for style in STYLES {
        for fault in FAULTS {
            args.push("--probe".to_string());
            args.push(format!("{}/zoo/{style}/{fault}", chain.app()));
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = chain.login("alice", &args, &[]);
    assert_eq!(run.out.code, 1, "{}", run.out.all());
    let mut wrong = Vec::new();
    for style in STYLES {
        for fault in FAULTS {
            let probe = format!("/zoo/{style}/{fault}");
            let found = findings_of(&run.report, &probe);
            match expected(library, style, fault) {
                None => {
                    if !found.is_empty() {
                        wrong.push(format!(
                            "{probe}: no finding expected, got {}",
                            found[0]["id"]
                        ));
                    }
                }
                Some((id, cause)) => {
                    let Some(top) = found.first() else {
                        wrong.push(format!("{probe}: expected {id}, got no finding"));
                        continue;
                    };
                    let causes: Vec<&str> = top["causes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|c| c["key"].as_str())
                        .collect();
                    if top["id"] != id || !causes.contains(&cause) {
                        wrong.push(format!(
                            "{probe}: expected {id} with {cause}, got {} with {causes:?}",
                            top["id"]
                        ));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A correct guard in every style: its probe passed, and no finding cites it.
    for style in STYLES {
        let probe = format!("/zoo/{style}/correct");
        let p = run.report["probes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == probe.as_str())
            .unwrap();
        assert_eq!(p["passed"], true, "{probe}: {p}");
    }
}

#[test]
fn every_guard_style_with_every_fault_better_auth_17() {
    zoo(Opts {
        line: "1.7",
        ..Opts::default()
    });
}

#[test]
fn every_guard_style_with_every_fault_better_auth_16() {
    zoo(Opts {
        line: "1.6",
        ..Opts::default()
    });
}

/// The same guards on express-openid-connect: its own `auth()` behind the app's route for the
/// cookie, another instance with another secret.
#[test]
fn every_guard_style_with_every_fault_express_openid_connect() {
    zoo(Opts {
        library: "eoc",
        ..Opts::default()
    });
}

/// The same guards on Auth.js (JWT sessions): `getSession` for the cookie, another secret that
/// cannot decrypt the session, `getToken` reading a Bearer token for the Authorization-only
/// guard.
#[test]
fn every_guard_style_with_every_fault_authjs() {
    zoo(Opts {
        library: "authjs",
        ..Opts::default()
    });
}

#[test]
fn a_healthy_chain_prints_no_finding() {
    let chain = Chain::start(Opts::default());
    let mut args = vec!["--matrix".to_string(), "always".to_string()];
    for style in STYLES {
        args.push("--probe".into());
        args.push(format!("{}/zoo/{style}/correct", chain.app()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = chain.login("alice", &args, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert_eq!(
        run.report["findings"].as_array().unwrap().len(),
        0,
        "{}",
        run.out.stdout
    );
    assert!(!run.out.stdout.contains("findings"), "{}", run.out.stdout);
}
