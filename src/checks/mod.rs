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
        return CheckRun::not_run(CheckName::Logout, "no probe to replay the session to");
    }
    let saved = record.clone();
    let (signed_out, mut steps, _) = match sign_out(scenario, client, record, r).await {
        Ok(x) => x,
        Err((why, steps)) => {
            return CheckRun {
                steps,
                ..CheckRun::not_run(CheckName::Logout, &why)
            };
        }
    };

    // The saved cookies, replayed.
    let (probes, undecided) = probes_with(scenario, client, &saved, r).await;
    let undecided = |p: &crate::trace::Probe| undecided.contains(&p.name);
    let accepted: Vec<String> = probes
        .iter()
        .filter(|p| p.passed && !undecided(p))
        .map(|p| format!("{} ({} {})", p.name, p.url, p.status))
        .collect();
    for p in &probes {
        steps.push(format!(
            "replayed the saved cookies to {} {}: {}{}",
            p.name,
            p.url,
            p.status,
            match (p.passed, undecided(p)) {
                (true, true) => ", accepted, as it accepts no cookie at all: it tells nothing",
                (true, false) => ", accepted",
                (false, _) => ", refused",
            }
        ));
    }
    let refused = probes.iter().any(|p| !p.passed);
    if accepted.is_empty() && !refused {
        return CheckRun {
            steps,
            ..CheckRun::not_run(
                CheckName::Logout,
                &format!(
                    "signed out ({signed_out}); every probe answers no cookie at all as it answers the saved cookies, so none tells whether the session ended: give a probe an expectation (expect.json_present) that only a session meets"
                ),
            )
        };
    }
    // A session that is the cookie itself (a JWT, signed or encrypted, its chunks joined)
    // outlives a sign-out by design.
    let session = trace.chain.session_cookie.as_ref().map(|s| s.name.clone());
    let stateless = session.is_some_and(|name| {
        scenario.probes.iter().any(|p| {
            crate::preset::session_of(c.preset, &saved.values_for(&p.url))
                .is_some_and(|s| s.name == name && crate::jwt::decode(&s.value).is_some())
        })
    });
    CheckRun {
        check: CheckName::Logout,
        status: CheckStatus::of(!accepted.is_empty(), true),
        detail: if accepted.is_empty() {
            match probes.iter().any(|p| p.passed) {
                false => {
                    format!("signed out ({signed_out}); every probe refused the saved cookies")
                }
                true => format!(
                    "signed out ({signed_out}); every probe that tells a session refused the saved cookies (the others accept no cookie at all alike)"
                ),
            }
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

/// The scenario's probes sent with `record`'s cookies, and the names of those that passed but
/// tell nothing: they answer the same probe sent without any cookie alike (a route that
/// answers everyone 200 `{"user":null}` lets nobody through).
async fn probes_with(
    scenario: &Scenario,
    client: &HttpClient,
    record: &Record,
    r: &mut Redactor,
) -> (Vec<crate::trace::Probe>, Vec<String>) {
    let c = &scenario.chain;
    let (probes, _) =
        crate::probe::run(&scenario.probes, &c.page, c.preset, client, record, r).await;
    if !probes.iter().any(|p| p.passed) {
        return (probes, Vec::new());
    }
    let (bare, _) = crate::probe::run(
        &scenario.probes,
        &c.page,
        c.preset,
        client,
        &Record::default(),
        r,
    )
    .await;
    let undecided = probes
        .iter()
        .filter(|p| {
            p.passed
                && bare.iter().any(|b| {
                    // A cookie cleared in passing (a middleware that clears an unknown session
                    // cookie) is no difference: the bare request had none to clear.
                    let clears = |a: &Option<crate::trace::AnswerDigest>| {
                        a.clone().map(|mut a| {
                            a.clears_cookie = false;
                            a
                        })
                    };
                    b.name == p.name
                        && b.passed
                        && b.answer.is_some()
                        && clears(&b.answer) == clears(&p.answer)
                })
        })
        .map(|p| p.name.clone())
        .collect();
    (probes, undecided)
}

/// A fresh login over HTTP stopped before its callback: the callback request unsent, and the
/// record whose jar holds the state cookie.
async fn fresh_callback(
    scenario: &Scenario,
    client: &HttpClient,
    callback: &url::Url,
    r: &mut Redactor,
) -> Result<(Request, Record), String> {
    let http = scenario.over_http();
    match crate::drive::login_until(&http, client, Some(callback), r).await {
        Ok((drive, Some(req))) => Ok((req, drive.record)),
        Ok((drive, None)) => Err(match drive.error {
            Some(e) => format!("a fresh login stopped: {}", e.message),
            None => "a fresh login did not come back to the callback".into(),
        }),
        Err(e) => Err(format!("a fresh login stopped: {}", e.message)),
    }
}

/// Sends a callback with the record's cookies: its status, and whether it made a session: the
/// session cookie set, and (where the scenario has probes) a probe that accepts the jar after it
/// and answers unlike the same probe without any cookie.
/// A framework that sets its session cookie on every answer (a cookie store, an uninitialised
/// session saved) sets it on a refused callback too: the probe tells the two apart.
async fn send_callback(
    scenario: &Scenario,
    client: &HttpClient,
    record: &mut Record,
    req: &Request,
    session: &str,
    r: &mut Redactor,
) -> Result<(u16, bool), String> {
    let mut driver = HttpDriver::new(client);
    driver.record = std::mem::take(record);
    let sent = driver.hop(req, r).await;
    let mut made = driver.record.hops.last().is_some_and(|h| {
        h.set_cookies.iter().any(|c| {
            c.action == crate::trace::CookieAction::Set
                && crate::preset::unchunked(&c.name) == session
        })
    });
    *record = driver.record;
    if made && sent.is_ok() && !scenario.probes.is_empty() {
        let (probes, undecided) = probes_with(scenario, client, record, r).await;
        made = probes
            .iter()
            .any(|p| p.passed && !undecided.contains(&p.name));
    }
    sent.map(|a| (a.status, made)).map_err(|e| e.message)
}

/// Why a check that asks whether a callback made a session cannot run without a probe: many
/// frameworks (a cookie store, a session saved uninitialised) set the session cookie on every
/// answer, a refused callback's too, so only a probe that accepts the jar tells a session made.
const NO_PROBE: &str = "no probe to tell a session made from a session cookie set on every answer: name one with --probe, or a preset with a native endpoint";

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
    if scenario.probes.is_empty() {
        return CheckRun::not_run(check, NO_PROBE);
    }
    let (callback, session) = match callback_and_session(trace) {
        Ok(x) => x,
        Err(why) => return CheckRun::not_run(check, why),
    };
    let (req, mut record) = match fresh_callback(scenario, client, &callback, r).await {
        Ok(x) => x,
        Err(why) => return CheckRun::not_run(check, &why),
    };
    let mut steps = Vec::new();
    // The replay goes with the cookies the first hit went with (the transaction's, no session
    // yet): a session cookie it sets is a second session, not the first one refreshed.
    let mut before = record.clone();
    let first = match send_callback(scenario, client, &mut record, &req, &session, r).await {
        Ok(x) => x,
        Err(why) => return CheckRun::not_run(check, &format!("the first callback: {why}")),
    };
    steps.push(format!(
        "the callback: {}{}",
        first.0,
        if first.1 { ", a session made" } else { "" }
    ));
    if !first.1 {
        return CheckRun {
            steps,
            ..CheckRun::not_run(
                check,
                "the first callback made no session: nothing to replay",
            )
        };
    }
    let again = match send_callback(scenario, client, &mut before, &req, &session, r).await {
        Ok(x) => x,
        Err(why) => {
            return CheckRun {
                steps,
                ..CheckRun::not_run(check, &format!("the replay: {why}"))
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
    if scenario.probes.is_empty() {
        return CheckRun::not_run(check, NO_PROBE);
    }
    let (callback, session) = match callback_and_session(trace) {
        Ok(x) => x,
        Err(why) => return CheckRun::not_run(check, why),
    };
    // Another login's callback, its code left unused.
    // (Its whole request: with `response_mode=form_post` the code and the state are its form.)
    let other = match fresh_callback(scenario, client, &callback, r).await {
        Ok((req, _)) => req,
        Err(why) => return CheckRun::not_run(check, &why),
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
        Ok((req, _)) => !stateless_flow && state_of(&req) == state_of(&other),
        Err(why) => return CheckRun::not_run(check, &why),
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
        let (req, mut record) = match fresh_callback(scenario, client, &callback, r).await {
            Ok(x) => x,
            Err(why) => {
                return CheckRun {
                    steps,
                    ..CheckRun::not_run(check, &why)
                };
            }
        };
        let req = match case {
            "a forged state" => with_state(&req, Some(forged.clone())),
            "no state" => with_state(&req, None),
            "another login's state" => with_state(&req, state_of(&other)),
            _ => other.clone(),
        };
        match send_callback(scenario, client, &mut record, &req, &session, r).await {
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

/// A callback's `state`: on its URL's query, or in its form (`response_mode=form_post`).
fn state_of(req: &Request) -> Option<String> {
    match &req.body {
        Some(Body::Form(fields)) => fields
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.clone()),
        _ => req
            .url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned()),
    }
}

/// The same callback with another `state`, or none, where it carries it.
fn with_state(req: &Request, state: Option<String>) -> Request {
    let mut out = req.clone();
    match &mut out.body {
        Some(Body::Form(fields)) => {
            fields.retain(|(k, _)| k != "state");
            fields.extend(state.map(|s| ("state".to_string(), s)));
        }
        _ => {
            let pairs: Vec<(String, String)> = req
                .url
                .query_pairs()
                .filter(|(k, _)| k != "state")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .chain(state.map(|s| ("state".to_string(), s)))
                .collect();
            out.url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    out
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
        (Some((method, url)), _) => configured_request(scenario, method, url),
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
                ..CheckRun::not_run(check, &why)
            };
        }
    };
    let first_new = jar.hops.len();
    let http = scenario.over_http();
    let drive = match crate::drive::login_from(&http, client, None, jar, r).await {
        Ok((d, _)) => d,
        Err(e) => {
            return CheckRun {
                steps,
                ..CheckRun::not_run(check, &format!("the second login: {}", e.message))
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

/// A request the scenario names as `"METHOD URL"` (`[chain] sign_out`, `refresh`), as the page
/// would `fetch` it; a method with a body goes with an empty JSON one.
fn configured_request(scenario: &Scenario, method: &Method, url: &url::Url) -> Request {
    crate::probe::fetch(
        &scenario.chain.page,
        method,
        url.clone(),
        (!method.is_safe()).then(|| Body::Json(serde_json::json!({}))),
        Vec::new(),
    )
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
        let token = crate::drive::csrf_token(driver, &c.auth_base, csrf, Step::Follow, false, r)
            .await
            .map_err(|e| format!("the sign-out's CSRF token: {}", e.message))?
            .ok_or(format!(
                "the sign-out's CSRF token: {} gave none",
                csrf.path
            ))?;
        fields.push((csrf.form_field.to_string(), token));
    }
    let url = crate::scenario::join_path(&c.auth_base, out.path);
    if let Some(field) = out.callback_field {
        fields.push((field.to_string(), c.callback_url.to_string()));
    }
    Ok(if out.post {
        Request {
            // A form is posted by a navigation; JSON by the page's `fetch`.
            navigation: out.form,
            ..crate::probe::fetch(
                &c.page,
                &Method::Post,
                url,
                Some(if out.form {
                    Body::Form(fields)
                } else {
                    Body::Json(serde_json::json!({}))
                }),
                Vec::new(),
            )
        }
    } else {
        Request::get(url, Step::Follow)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a probe, a session cookie set on a callback could be one set on every answer:
    /// both checks say so before they send anything.
    #[test]
    fn callback_checks_need_a_probe() {
        let src = "[chain]\napp = \"http://127.0.0.1:9\"\npreset = \"better-auth\"\nprovider = \"fixture\"\n";
        let mut scenario =
            crate::scenario::from_toml(src, "t.toml", crate::scenario::Lookup::ValidateOnly)
                .unwrap();
        scenario.probes.clear();
        let client = HttpClient::new(
            &scenario.chain.page,
            std::time::Duration::from_secs(1),
            &Default::default(),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut r = Redactor::new(false);
        let t = Trace::default();
        let runs = rt.block_on(async {
            [
                callback_replay(&scenario, &client, &t, &mut r).await,
                state(&scenario, &client, &t, &mut r).await,
            ]
        });
        for run in runs {
            assert_eq!(run.status, crate::trace::CheckStatus::NotRun);
            assert!(run.detail.contains("--probe"), "{}", run.detail);
        }
    }

    /// The state is read and replaced where the callback carries it: its query, or its form
    /// (`response_mode=form_post`), the other parameters kept.
    #[test]
    fn a_callback_state_in_the_query_or_the_form() {
        let url = url::Url::parse("https://app.example/cb?code=c1&state=s1&iss=x").unwrap();
        let get = Request::get(url.clone(), Step::Follow);
        let post = Request {
            method: Method::Post,
            body: Some(Body::Form(vec![
                ("code".into(), "c1".into()),
                ("state".into(), "s1".into()),
            ])),
            ..Request::get(
                url::Url::parse("https://app.example/cb").unwrap(),
                Step::Follow,
            )
        };
        for req in [&get, &post] {
            assert_eq!(state_of(req).as_deref(), Some("s1"));
            let forged = with_state(req, Some("f".into()));
            assert_eq!(state_of(&forged).as_deref(), Some("f"));
            let none = with_state(req, None);
            assert_eq!(state_of(&none), None);
        }
        assert_eq!(
            with_state(&get, None).url.as_str(),
            "https://app.example/cb?code=c1&iss=x"
        );
        assert_eq!(
            with_state(&post, None).body,
            Some(Body::Form(vec![("code".into(), "c1".into())]))
        );
    }
}
