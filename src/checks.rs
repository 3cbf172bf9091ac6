//! The opt-in checks after a login (`--check NAME`, a scenario's `[checks]`). They run once the
//! login and the probes are done, on the session the login made, and record what they did in
//! the trace (`checks[]`); the findings are the diagnosis's, read from there, so that a saved
//! report diagnoses the same offline.
//!
//! - `logout` saves the session's cookies (the cache cookies too: a sign-out clears the jar,
//!   so a check that replays the jar afterwards always passes), signs out as the library does,
//!   then replays the saved cookies to every probe: each must refuse them.
//! - `cookie-policy` is read from the recorded cookies alone (`diagnose::checks`).

use crate::drive::http::{HttpClient, HttpDriver, Request};
use crate::drive::record::Record;
use crate::redact::Redactor;
use crate::scenario::{Body, CheckName, Scenario};
use crate::trace::{CheckRun, CheckStatus, Method, Step, Trace};

/// A check that could not run, and why.
pub fn not_run(check: CheckName, why: &str) -> CheckRun {
    CheckRun {
        check,
        status: CheckStatus::NotRun,
        detail: why.to_string(),
        steps: Vec::new(),
        accepted: Vec::new(),
        stateless: false,
    }
}

/// Signs out as the preset's library does, then replays the session's cookies, saved before,
/// to every probe.
pub async fn logout(
    scenario: &Scenario,
    client: &HttpClient,
    record: &Record,
    trace: &Trace,
    r: &mut Redactor,
) -> CheckRun {
    let c = &scenario.chain;
    let Some(preset) = c.preset else {
        return not_run(
            CheckName::Logout,
            "no preset: the way to sign out is not known",
        );
    };
    if scenario.probes.is_empty() {
        return not_run(CheckName::Logout, "no probe to replay the session to");
    }
    let contract = preset.contract();
    let saved = record.clone();
    let mut steps = Vec::new();
    let mut driver = HttpDriver::new(client);
    driver.record = record.clone();
    let first_new = driver.record.hops.len();

    // The sign-out, with the CSRF token it must carry.
    let out = &contract.sign_out;
    let mut fields: Vec<(String, String)> = Vec::new();
    if let Some(csrf) = &out.csrf {
        let req = Request {
            navigation: false,
            ..Request::get(
                crate::scenario::join_path(&c.auth_base, csrf.path),
                Step::Follow,
            )
        };
        match driver.hop(&req, r).await {
            Ok(a) => match a
                .json()
                .and_then(|j| j[csrf.json_field].as_str().map(str::to_string))
            {
                Some(token) => {
                    r.sensitive(&token);
                    fields.push((csrf.form_field.to_string(), token));
                }
                None => {
                    return not_run(
                        CheckName::Logout,
                        &format!(
                            "the sign-out's CSRF token: {} answered {} with none",
                            csrf.path, a.status
                        ),
                    );
                }
            },
            Err(e) => {
                return not_run(
                    CheckName::Logout,
                    &format!("the sign-out's CSRF token: {}", e.message),
                );
            }
        }
    }
    let url = crate::scenario::join_path(&c.auth_base, out.path);
    fields.push(("callbackUrl".into(), c.callback_url.to_string()));
    let req = if out.post {
        Request {
            method: Method::Post,
            url: url.clone(),
            body: Some(if out.form {
                Body::Form(fields)
            } else {
                Body::Json(serde_json::json!({}))
            }),
            step: Step::Follow,
            headers: vec![(
                "sec-fetch-site".into(),
                crate::web::fetch_site(&c.page, &url).into(),
            )],
            cross_site: false,
            navigation: out.form,
        }
    } else {
        Request::get(url.clone(), Step::Follow)
    };
    let signed_out = match driver.hop(&req, r).await {
        Ok(a) => a.status,
        Err(e) => return not_run(CheckName::Logout, &format!("the sign-out: {}", e.message)),
    };
    for h in &driver.record.hops[first_new..] {
        steps.push(format!("{} {} → {}", h.method.as_str(), h.url, h.status));
    }
    if signed_out >= 400 {
        return CheckRun {
            steps,
            ..not_run(
                CheckName::Logout,
                &format!("the sign-out answered {signed_out}: the session was not ended"),
            )
        };
    }

    // The saved cookies, replayed.
    let (probes, _) =
        crate::probe::run(&scenario.probes, &c.page, c.preset, client, &saved, r).await;
    let accepted: Vec<String> = probes
        .iter()
        .filter(|p| p.passed)
        .map(|p| format!("{} ({} {})", p.name, p.url, p.status))
        .collect();
    for p in &probes {
        steps.push(format!(
            "replayed the saved cookies to {} {}: {}{}",
            p.name,
            p.url,
            p.status,
            if p.passed { ", accepted" } else { ", refused" }
        ));
    }
    // A session that is the cookie itself (an encrypted JWT) outlives a sign-out by design.
    let session = trace.chain.session_cookie.as_ref().map(|s| s.name.clone());
    let stateless = contract.stateless_sessions
        && session.is_some_and(|name| {
            scenario.probes.iter().any(|p| {
                saved
                    .cookies_for(&p.url, Request::get(p.url.clone(), Step::Follow).context())
                    .0
                    .iter()
                    .any(|(n, v)| crate::preset::unchunked(n) == name && v.split('.').count() == 5)
            })
        });
    CheckRun {
        check: CheckName::Logout,
        status: if accepted.is_empty() {
            CheckStatus::Passed
        } else {
            CheckStatus::Failed
        },
        detail: if accepted.is_empty() {
            format!("signed out ({signed_out}); every probe refused the saved cookies")
        } else {
            format!(
                "signed out ({signed_out}); still accepted: {}",
                accepted.join(", ")
            )
        },
        steps,
        accepted,
        stateless,
    }
}
