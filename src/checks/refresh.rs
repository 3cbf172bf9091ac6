//! `refresh-rotation`: on a login of its own (reusing a refresh token ends its whole family, so
//! the run's session is left alone), the refresh request is sent with the refresh cookie alone
//! (no session cookie that could renew by itself), then again with the same one, then with the
//! one the first refresh rotated to. The reuse must be refused, and must end the family: the
//! rotated token must be refused too. The refresh cookie is the one whose name tells its role
//! (`refresh_token`, `__Host-refresh`); where none does, the one the first refresh, sent with the
//! whole jar, rotates (other than the session cookie).

use super::{callback_and_session, fresh_callback, send_callback};
use crate::drive::http::{HttpClient, HttpDriver, Request};
use crate::drive::record::Record;
use crate::redact::Redactor;
use crate::scenario::{CheckName, Scenario};
use crate::trace::{CheckRun, CheckStatus, CookieAction, Trace};

/// The refresh request sent with `jar`'s cookies: its status, whether it let the caller
/// through, and the cookies it set to a new value (name, value), in order.
async fn refresh(
    client: &HttpClient,
    req: &Request,
    jar: Record,
    r: &mut Redactor,
) -> Result<(u16, bool, Vec<(String, String)>), String> {
    let before = jar.values_for(&req.url);
    let mut driver = HttpDriver::new(client);
    driver.record = jar;
    let a = driver.hop(req, r).await.map_err(|e| e.message)?;
    let worked = super::access::allowed(&a);
    let set_now: Vec<String> = driver
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
    let set = driver
        .record
        .values_for(&req.url)
        .into_iter()
        .filter(|(n, v)| set_now.contains(n) && !before.iter().any(|(bn, bv)| bn == n && bv == v))
        .collect();
    Ok((a.status, worked, set))
}

/// A jar with one cookie, for `url`.
fn only(name: &str, value: &str, url: &url::Url) -> Record {
    let mut jar = Record::default();
    jar.preload(name, value, &[url]);
    jar
}

pub async fn refresh_rotation(
    scenario: &Scenario,
    client: &HttpClient,
    trace: &Trace,
    r: &mut Redactor,
) -> CheckRun {
    let check = CheckName::RefreshRotation;
    let Some((method, url)) = &scenario.chain.refresh else {
        return CheckRun::not_run(
            check,
            "no refresh endpoint known: name it with [chain] refresh or --refresh 'POST URL'",
        );
    };
    let (callback, session) = match callback_and_session(trace) {
        Ok(x) => x,
        Err(why) => return CheckRun::not_run(check, why),
    };
    let (cb, mut jar) = match fresh_callback(scenario, client, &callback, r).await {
        Ok(x) => x,
        Err(why) => return CheckRun::not_run(check, &why),
    };
    let mut steps = vec![
        "on a login of its own: a reused refresh token ends its family, so the run's session is left alone"
            .to_string(),
    ];
    match send_callback(scenario, client, &mut jar, &cb, &session, r).await {
        Ok((_, true)) => {}
        Ok((status, false)) => {
            return CheckRun {
                steps,
                ..CheckRun::not_run(
                    check,
                    &format!("its login's callback made no session ({status})"),
                )
            };
        }
        Err(why) => {
            return CheckRun {
                steps,
                ..CheckRun::not_run(check, &why)
            };
        }
    }
    let req = super::configured_request(scenario, method, url);
    let preset = scenario.chain.preset;
    let told = jar
        .values_for(url)
        .into_iter()
        .find(|(n, _)| crate::preset::cookie_role(preset, n) == crate::preset::CookieRole::Refresh);
    let alone = told.is_some();
    let first_jar = match &told {
        Some((name, value)) => only(name, value, url),
        None => jar.clone(),
    };
    let shown = r.url(url);
    let (status, worked, set) = match refresh(client, &req, first_jar, r).await {
        Ok(x) => x,
        Err(why) => {
            return CheckRun {
                steps,
                ..CheckRun::not_run(check, &format!("the refresh: {why}"))
            };
        }
    };
    // The refresh cookie: the one its name tells, else the one the refresh rotated that the
    // session had (not the session cookie itself).
    let picked = told.or_else(|| {
        let had = jar.values_for(url);
        set.iter()
            .filter(|(n, _)| crate::preset::unchunked(n) != session)
            .find_map(|(n, _)| had.iter().find(|(h, _)| h == n).cloned())
    });
    let Some((name, first)) = picked else {
        return CheckRun {
            steps,
            ..CheckRun::not_run(
                check,
                "no refresh cookie: none is named as one, and the refresh rotated no cookie of the session's but the session cookie",
            )
        };
    };
    let rotated = set.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    let names: Vec<&str> = set.iter().map(|(n, _)| n.as_str()).collect();
    steps.push(format!(
        "{} {shown} with {}: {status}{}",
        method.as_str(),
        if alone {
            format!("the refresh cookie `{name}` alone")
        } else {
            "the session's cookies".to_string()
        },
        if names.is_empty() {
            ", no cookie set".to_string()
        } else {
            format!(", set {}", names.join(", "))
        }
    ));
    if !worked {
        return CheckRun {
            steps,
            ..CheckRun::not_run(
                check,
                &format!(
                    "the first refresh answered {status}: the session's refresh cookie did not work"
                ),
            )
        };
    }
    let mut accepted = Vec::new();
    // The same token again.
    match refresh(client, &req, only(&name, &first, url), r).await {
        Ok((status, worked, _)) => {
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
                ..CheckRun::not_run(check, &format!("the reuse: {why}"))
            };
        }
    }
    // The token the first refresh rotated to: the family ends with the reuse.
    if let Some(rotated) = &rotated {
        match refresh(client, &req, only(&name, rotated, url), r).await {
            Ok((status, worked, _)) => {
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
        ..CheckRun::not_run(check, "")
    }
}
