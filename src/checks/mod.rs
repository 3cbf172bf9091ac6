//! The opt-in checks after a login (`--check NAME`, a scenario's `[checks]`). They run once the
//! login and the probes are done, on the session the login made, and record what they did in
//! the trace (`checks[]`); the findings are the diagnosis's, read from there, so that a saved
//! report diagnoses the same offline.
//!
//! - `logout` saves the session's cookies (the cache cookies too: a sign-out clears the jar,
//!   so a check that replays the jar afterwards always passes), signs out as the library does,
//!   then replays the saved cookies to every probe: each must refuse them.
//! - `cookie-policy` is read from the recorded cookies alone (`diagnose::checks`).
//! - `callback-replay` and `state` make fresh logins of their own over HTTP, stopped before the
//!   callback (`drive::login_until`): `callback-replay` sends a callback twice, and the second
//!   must make no session; `state` sends callbacks with a forged state, with none, and with
//!   another login's, and each must be refused.
//! - `refresh-rotation` ([`refresh`]) makes a login of its own too; `authz` and `isolation`
//!   ([`access`]) send the scenario's requests with each credential and each user's session.

pub mod access;
pub mod refresh;

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
        matrix: None,
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
    if scenario.probes.is_empty() {
        return not_run(CheckName::Logout, "no probe to replay the session to");
    }
    let saved = record.clone();
    let (signed_out, mut steps, _) = match sign_out(scenario, client, record, r).await {
        Ok(x) => x,
        Err((why, steps)) => {
            return CheckRun {
                steps,
                ..not_run(CheckName::Logout, &why)
            };
        }
    };

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
    let stateless = c.preset.is_some_and(|p| p.contract().stateless_sessions)
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
        status: CheckStatus::of(!accepted.is_empty(), true),
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
        matrix: None,
    }
}

/// A fresh login over HTTP stopped before its callback: the callback request unsent, and the
/// record whose jar holds the state cookie.
async fn fresh_callback(
    scenario: &Scenario,
    client: &HttpClient,
    callback: &url::Url,
    r: &mut Redactor,
) -> Result<(Request, Record), String> {
    let http = Scenario {
        chain: crate::scenario::Chain {
            driver: crate::scenario::Driver::Http,
            ..scenario.chain.clone()
        },
        ..scenario.clone()
    };
    match crate::drive::login_until(&http, client, Some(callback), r).await {
        Ok((drive, Some(req))) => Ok((req, drive.record)),
        Ok((drive, None)) => Err(match drive.error {
            Some(e) => format!("a fresh login stopped: {}", e.message),
            None => "a fresh login did not come back to the callback".into(),
        }),
        Err(e) => Err(format!("a fresh login stopped: {}", e.message)),
    }
}

/// Sends a callback with the record's cookies: its status, and whether it set the session
/// cookie (a session made).
async fn send_callback(
    client: &HttpClient,
    record: &mut Record,
    req: &Request,
    session: &str,
    r: &mut Redactor,
) -> Result<(u16, bool), String> {
    let mut driver = HttpDriver::new(client);
    driver.record = std::mem::take(record);
    let sent = driver.hop(req, r).await;
    let made = driver.record.hops.last().is_some_and(|h| {
        h.set_cookies.iter().any(|c| {
            c.action == crate::trace::CookieAction::Set
                && crate::preset::unchunked(&c.name) == session
        })
    });
    *record = driver.record;
    sent.map(|a| (a.status, made)).map_err(|e| e.message)
}

/// Where the login comes back to (the callback's origin and path) and the session cookie's
/// name, from the run's own login.
fn callback_and_session(trace: &Trace) -> Result<(url::Url, String), &'static str> {
    let callback = trace
        .chain
        .callback_hop
        .and_then(|n| trace.hop(n))
        .and_then(|h| url::Url::parse(&h.url).ok())
        .ok_or("the login's callback is not known")?;
    let session = trace
        .chain
        .session_cookie
        .as_ref()
        .map(|s| s.name.clone())
        .ok_or("the session cookie is not known")?;
    Ok((callback, session))
}

/// A fresh login's callback sent twice, as a back button or a reload sends it: the first makes
/// the session; the second must make none (one-time state, single-use code).
pub async fn callback_replay(
    scenario: &Scenario,
    client: &HttpClient,
    trace: &Trace,
    r: &mut Redactor,
) -> CheckRun {
    let check = CheckName::CallbackReplay;
    let (callback, session) = match callback_and_session(trace) {
        Ok(x) => x,
        Err(why) => return not_run(check, why),
    };
    let (req, mut record) = match fresh_callback(scenario, client, &callback, r).await {
        Ok(x) => x,
        Err(why) => return not_run(check, &why),
    };
    let mut steps = Vec::new();
    // The replay goes with the cookies the first hit went with (the transaction's, no session
    // yet): a session cookie it sets is a second session, not the first one refreshed.
    let mut before = record.clone();
    let first = match send_callback(client, &mut record, &req, &session, r).await {
        Ok(x) => x,
        Err(why) => return not_run(check, &format!("the first callback: {why}")),
    };
    steps.push(format!(
        "the callback: {}{}",
        first.0,
        if first.1 { ", a session made" } else { "" }
    ));
    if !first.1 {
        return CheckRun {
            steps,
            ..not_run(
                check,
                "the first callback made no session: nothing to replay",
            )
        };
    }
    let again = match send_callback(client, &mut before, &req, &session, r).await {
        Ok(x) => x,
        Err(why) => {
            return CheckRun {
                steps,
                ..not_run(check, &format!("the replay: {why}"))
            };
        }
    };
    steps.push(format!(
        "the same callback again: {}{}",
        again.0,
        if again.1 {
            ", a second session made"
        } else {
            ", no session"
        }
    ));
    CheckRun {
        check,
        status: CheckStatus::of(again.1, true),
        detail: if again.1 {
            format!("the replayed callback made a second session ({})", again.0)
        } else {
            format!(
                "the replayed callback was refused ({}): the state is one-time and the code single-use",
                again.0
            )
        },
        steps,
        accepted: if again.1 {
            vec![format!("the replayed callback ({})", again.0)]
        } else {
            Vec::new()
        },
        stateless: false,
        matrix: None,
    }
}

/// Callbacks of fresh logins with a forged state, with none, with another login's state, and
/// another login's whole callback: each must make no session. A flow without a state (PKCE
/// alone) is checked with the last.
pub async fn state(
    scenario: &Scenario,
    client: &HttpClient,
    trace: &Trace,
    r: &mut Redactor,
) -> CheckRun {
    let check = CheckName::State;
    let (callback, session) = match callback_and_session(trace) {
        Ok(x) => x,
        Err(why) => return not_run(check, why),
    };
    // Another login's callback, its code left unused.
    let other = match fresh_callback(scenario, client, &callback, r).await {
        Ok((req, _)) => req.url,
        Err(why) => return not_run(check, &why),
    };
    let state_of = |u: &url::Url| {
        u.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    };
    let with_state = |u: &url::Url, state: Option<String>| {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "state")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .chain(state.map(|s| ("state".to_string(), s)))
            .collect();
        let mut out = u.clone();
        out.query_pairs_mut().clear().extend_pairs(pairs);
        out
    };
    let forged = format!("authchain-forged-{}", crate::drive::http::now_ms());
    let mut steps = Vec::new();
    let mut accepted = Vec::new();
    // A flow without a state (Auth.js's default checks PKCE only) binds the callback to the
    // browser by its code verifier: another login's whole callback is the case to refuse.
    let stateless_flow = state_of(&other).is_none();
    // A state that is the same for every login (express-openid-connect's carries only where to
    // return) binds nothing by itself: another login's whole callback is the case to refuse.
    let shared_state = match fresh_callback(scenario, client, &callback, r).await {
        Ok((req, _)) => !stateless_flow && state_of(&req.url) == state_of(&other),
        Err(why) => return not_run(check, &why),
    };
    if shared_state {
        steps.push(
            "the state is the same in every login: it binds nothing by itself, so another login's callback is the case"
                .to_string(),
        );
    }
    if stateless_flow {
        steps.push(
            "the authorization request carries no state: the callback is bound to the browser by PKCE"
                .to_string(),
        );
    }
    let cases: Vec<&str> = if stateless_flow {
        vec!["another login's callback"]
    } else if shared_state {
        vec!["a forged state", "no state", "another login's callback"]
    } else {
        vec![
            "a forged state",
            "no state",
            "another login's state",
            "another login's callback",
        ]
    };
    for case in cases {
        let (mut req, mut record) = match fresh_callback(scenario, client, &callback, r).await {
            Ok(x) => x,
            Err(why) => {
                return CheckRun {
                    steps,
                    ..not_run(check, &why)
                };
            }
        };
        req.url = match case {
            "a forged state" => with_state(&req.url, Some(forged.clone())),
            "no state" => with_state(&req.url, None),
            "another login's state" => with_state(&req.url, state_of(&other)),
            _ => other.clone(),
        };
        match send_callback(client, &mut record, &req, &session, r).await {
            Ok((status, made)) => {
                steps.push(format!(
                    "a callback with {case}: {status}{}",
                    if made {
                        ", a session made"
                    } else {
                        ", refused"
                    }
                ));
                if made {
                    accepted.push(format!("{case} ({status})"));
                }
            }
            Err(why) => steps.push(format!("a callback with {case}: {why}")),
        }
    }
    CheckRun {
        check,
        status: CheckStatus::of(!accepted.is_empty(), true),
        detail: if accepted.is_empty() {
            "every callback with a state not its own was refused".into()
        } else {
            format!(
                "a session was made from a callback with {}",
                accepted.join(", ")
            )
        },
        steps,
        accepted,
        stateless: false,
        matrix: None,
    }
}

/// Signs the session of `record` out: the scenario's sign-out request, else the preset's. Gives
/// the sign-out's status, what was sent, and the jar after it (the IdP's cookies still there); or
/// why it could not (with what was sent).
async fn sign_out(
    scenario: &Scenario,
    client: &HttpClient,
    record: &Record,
    r: &mut Redactor,
) -> Result<(u16, Vec<String>, Record), (String, Vec<String>)> {
    let c = &scenario.chain;
    let mut driver = HttpDriver::new(client);
    driver.record = record.clone();
    let first_new = driver.record.hops.len();
    let req = match (&c.sign_out, c.preset) {
        (Some((method, url)), _) => Request {
            method: method.clone(),
            body: (!method.is_safe()).then(|| Body::Json(serde_json::json!({}))),
            navigation: false,
            ..Request::get(url.clone(), Step::Follow)
        },
        (None, Some(preset)) => preset_sign_out(scenario, preset, &mut driver, r)
            .await
            .map_err(|why| (why, Vec::new()))?,
        (None, None) => {
            return Err((
                "no preset and no sign-out request ([chain] sign_out, --sign-out): the way to sign out is not known".into(),
                Vec::new(),
            ));
        }
    };
    let status = driver
        .hop(&req, r)
        .await
        .map(|a| a.status)
        .map_err(|e| (format!("the sign-out: {}", e.message), Vec::new()))?;
    let steps: Vec<String> = driver.record.hops[first_new..]
        .iter()
        .map(|h| format!("{} {} → {}", h.method.as_str(), h.url, h.status))
        .collect();
    if status >= 400 {
        return Err((
            format!("the sign-out answered {status}: the session was not ended"),
            steps,
        ));
    }
    Ok((status, steps, driver.record))
}

/// After the app's sign-out, a second login from the same browser: one that completes with no
/// IdP form means the IdP's session survived the app's logout (single sign-on keeps it unless
/// the app logs out at the IdP too).
pub async fn idp_logout(
    scenario: &Scenario,
    client: &HttpClient,
    record: &Record,
    r: &mut Redactor,
) -> CheckRun {
    let check = CheckName::IdpLogout;
    let (_, mut steps, jar) = match sign_out(scenario, client, record, r).await {
        Ok(x) => x,
        Err((why, steps)) => {
            return CheckRun {
                steps,
                ..not_run(check, &why)
            };
        }
    };
    let first_new = jar.hops.len();
    let http = Scenario {
        chain: crate::scenario::Chain {
            driver: crate::scenario::Driver::Http,
            ..scenario.chain.clone()
        },
        ..scenario.clone()
    };
    let drive = match crate::drive::login_from(&http, client, None, jar, r).await {
        Ok((d, _)) => d,
        Err(e) => {
            return CheckRun {
                steps,
                ..not_run(check, &format!("the second login: {}", e.message))
            };
        }
    };
    let again = &drive.record.hops[first_new.min(drive.record.hops.len())..];
    let form = again.iter().any(|h| h.step == Step::IdpLogin);
    let landed = matches!(drive.ended, crate::trace::Ended::Landed { .. });
    steps.push(format!(
        "a second login from the same browser: {} hops, {}",
        again.len(),
        match (form, landed) {
            (true, _) => "the IdP asked for the credentials again",
            (false, true) => "completed with no IdP form",
            (false, false) => "did not complete",
        }
    ));
    CheckRun {
        check,
        status: CheckStatus::of(!form && landed, form),
        detail: if form {
            "the app's logout ended the IdP's session too".into()
        } else if landed {
            "a second login completed with no IdP form: the IdP's session survived the app's logout"
                .into()
        } else {
            "the second login did not complete".into()
        },
        steps,
        accepted: Vec::new(),
        stateless: false,
        matrix: None,
    }
}

/// The preset's sign-out request, its CSRF token fetched first where it needs one.
async fn preset_sign_out(
    scenario: &Scenario,
    preset: crate::scenario::Preset,
    driver: &mut HttpDriver<'_>,
    r: &mut Redactor,
) -> Result<Request, String> {
    let c = &scenario.chain;
    let out = &preset.contract().sign_out;
    let mut fields: Vec<(String, String)> = Vec::new();
    if let Some(csrf) = &out.csrf {
        let req = Request {
            navigation: false,
            ..Request::get(
                crate::scenario::join_path(&c.auth_base, csrf.path),
                Step::Follow,
            )
        };
        let a = driver
            .hop(&req, r)
            .await
            .map_err(|e| format!("the sign-out's CSRF token: {}", e.message))?;
        let token = a
            .json()
            .and_then(|j| j[csrf.json_field].as_str().map(str::to_string))
            .ok_or(format!(
                "the sign-out's CSRF token: {} answered {} with none",
                csrf.path, a.status
            ))?;
        r.sensitive(&token);
        fields.push((csrf.form_field.to_string(), token));
    }
    let url = crate::scenario::join_path(&c.auth_base, out.path);
    if let Some(field) = out.callback_field {
        fields.push((field.to_string(), c.callback_url.to_string()));
    }
    Ok(if out.post {
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
        Request::get(url, Step::Follow)
    })
}
