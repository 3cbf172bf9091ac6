//! `refresh-rotation`: on a login of its own (reusing a refresh token ends its whole family, so
//! the run's session is left alone), the refresh request is sent with the refresh cookie alone
//! (the one whose name says `refresh`; no session cookie that could renew by itself), then again
//! with the same one, then with the one the first refresh rotated to. The reuse must be refused,
//! and must end the family: the rotated token must be refused too.

use super::{callback_and_session, fresh_callback, not_run, send_callback};
use crate::drive::http::{HttpClient, HttpDriver, Request};
use crate::drive::record::Record;
use crate::redact::Redactor;
use crate::scenario::{Body, CheckName, Scenario};
use crate::trace::{CheckRun, CheckStatus, CookieAction, Expect, Step, Trace};

/// The refresh request sent with the refresh cookie `name` = `value` alone: its status, whether
/// it let the caller through, the cookies it set, and the refresh cookie's value after it when
/// it changed (rotated).
async fn refresh(
    client: &HttpClient,
    req: &Request,
    (name, value): (&str, &str),
    r: &mut Redactor,
) -> Result<(u16, bool, Vec<String>, Option<String>), String> {
    let mut driver = HttpDriver::new(client);
    driver.record.preload(name, value, &[&req.url]);
    let a = driver.hop(req, r).await.map_err(|e| e.message)?;
    let worked = crate::probe::failure(&Expect::default(), a.status, a.json().as_ref()).is_none();
    let set = driver
        .record
        .hops
        .last()
        .map(|h| {
            h.set_cookies
                .iter()
                .filter(|c| c.action == CookieAction::Set)
                .map(|c| c.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let rotated = driver
        .record
        .values_for(&req.url)
        .into_iter()
        .find(|(n, v)| n == name && v != value)
        .map(|(_, v)| v);
    Ok((a.status, worked, set, rotated))
}

/// The session's refresh cookie: the one sent to the refresh URL whose name says `refresh`.
fn refresh_cookie(jar: &Record, url: &url::Url) -> Option<(String, String)> {
    jar.values_for(url)
        .into_iter()
        .find(|(n, _)| n.to_ascii_lowercase().contains("refresh"))
}

pub async fn refresh_rotation(
    scenario: &Scenario,
    client: &HttpClient,
    trace: &Trace,
    r: &mut Redactor,
) -> CheckRun {
    let check = CheckName::RefreshRotation;
    let Some((method, url)) = &scenario.chain.refresh else {
        return not_run(
            check,
            "no refresh endpoint known: name it with [chain] refresh or --refresh 'POST URL'",
        );
    };
    let (callback, session) = match callback_and_session(trace) {
        Ok(x) => x,
        Err(why) => return not_run(check, why),
    };
    let (cb, mut jar) = match fresh_callback(scenario, client, &callback, r).await {
        Ok(x) => x,
        Err(why) => return not_run(check, &why),
    };
    let mut steps = vec![
        "on a login of its own: a reused refresh token ends its family, so the run's session is left alone"
            .to_string(),
    ];
    match send_callback(client, &mut jar, &cb, &session, r).await {
        Ok((_, true)) => {}
        Ok((status, false)) => {
            return CheckRun {
                steps,
                ..not_run(
                    check,
                    &format!("its login's callback made no session ({status})"),
                )
            };
        }
        Err(why) => {
            return CheckRun {
                steps,
                ..not_run(check, &why)
            };
        }
    }
    let req = Request {
        method: method.clone(),
        body: (!method.is_safe()).then(|| Body::Json(serde_json::json!({}))),
        navigation: false,
        headers: vec![(
            "sec-fetch-site".into(),
            crate::web::fetch_site(&scenario.chain.page, url).into(),
        )],
        ..Request::get(url.clone(), Step::Follow)
    };
    let Some((name, first)) = refresh_cookie(&jar, url) else {
        return CheckRun {
            steps,
            ..not_run(
                check,
                "the session has no refresh cookie (one whose name says refresh) for the refresh request",
            )
        };
    };
    let shown = r.url(url);
    let (status, worked, set, rotated) = match refresh(client, &req, (&name, &first), r).await {
        Ok(x) => x,
        Err(why) => {
            return CheckRun {
                steps,
                ..not_run(check, &format!("the refresh: {why}"))
            };
        }
    };
    steps.push(format!(
        "{} {shown} with the refresh cookie `{name}` alone: {status}{}",
        method.as_str(),
        if set.is_empty() {
            ", no cookie set".to_string()
        } else {
            format!(", set {}", set.join(", "))
        }
    ));
    if !worked {
        return CheckRun {
            steps,
            ..not_run(
                check,
                &format!(
                    "the first refresh answered {status}: the session's refresh cookie did not work"
                ),
            )
        };
    }
    let mut accepted = Vec::new();
    // The same token again.
    match refresh(client, &req, (&name, &first), r).await {
        Ok((status, worked, _, _)) => {
            steps.push(format!(
                "the same refresh cookie again: {status}, {}",
                if worked { "accepted" } else { "refused" }
            ));
            if worked {
                accepted.push(format!("the used refresh token worked again ({status})"));
            }
        }
        Err(why) => {
            return CheckRun {
                steps,
                ..not_run(check, &format!("the reuse: {why}"))
            };
        }
    }
    // The token the first refresh rotated to: the family ends with the reuse.
    if let Some(rotated) = &rotated {
        match refresh(client, &req, (&name, rotated), r).await {
            Ok((status, worked, _, _)) => {
                steps.push(format!(
                    "the rotated refresh cookie, after the reuse: {status}, {}",
                    if worked { "accepted" } else { "refused" }
                ));
                if worked {
                    accepted.push(format!(
                        "the token rotated from the reused one still worked after the reuse ({status}): the family was not ended"
                    ));
                }
            }
            Err(why) => steps.push(format!("the rotated refresh cookie: {why}")),
        }
    } else {
        steps.push(format!(
            "the first refresh set no new `{name}`: the refresh token was not rotated"
        ));
    }
    CheckRun {
        status: CheckStatus::of(!accepted.is_empty(), true),
        detail: if !accepted.is_empty() {
            accepted.join("; ")
        } else if rotated.is_some() {
            "the reused refresh token was refused and its family ended".into()
        } else {
            "the used refresh token was refused (it was not rotated: no family to end)".into()
        },
        steps,
        accepted,
        ..not_run(check, "")
    }
}
