//! `refresh-rotation`: on a login of its own (reusing a refresh token ends its whole family, so
//! the run's session is left alone), the refresh request is sent, then sent again with the same
//! refresh cookie, then with the one the first refresh rotated to. The reuse must be refused, and
//! must end the family: the rotated token must be refused too. All three carry the same cookies
//! but the refresh cookie's value, so a refusal is the token's and nothing else's. Those cookies
//! are the narrowest set the first refresh works with: the refresh cookie alone when its name
//! tells its role (`refresh_token`, `__Host-refresh`); else the login's cookies without the
//! session cookie (which could renew by itself); else all of them. With the session cookie among
//! them, an accepted reuse counts only if the refresh refuses those cookies without the refresh
//! cookie: otherwise the session alone renews, and a reuse cannot be told apart. Where no name
//! tells it, the refresh cookie is the one the first refresh rotated (other than the session
//! cookie).

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

/// A jar with these cookies, for `url`.
fn jar_of(cookies: &[(String, String)], url: &url::Url) -> Record {
    let mut jar = Record::default();
    for (name, value) in cookies {
        jar.preload(name, value, &[url]);
    }
    jar
}

/// `cookies` with `name` set to `value`.
fn with(cookies: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    cookies
        .iter()
        .map(|(n, v)| match n == name {
            true => (n.clone(), value.to_string()),
            false => (n.clone(), v.clone()),
        })
        .collect()
}

/// What the refresh requests carry, narrowest first.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// The refresh cookie alone (its name tells its role).
    Alone,
    /// The login's cookies but the session cookie.
    NoSession,
    /// All the login's cookies.
    Whole,
}

impl Shape {
    fn says(self, name: &str) -> String {
        match self {
            Shape::Alone => format!("the refresh cookie `{name}` alone"),
            Shape::NoSession => "the session's cookies but the session cookie".into(),
            Shape::Whole => "the session's cookies".into(),
        }
    }
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
    let login: Vec<(String, String)> = jar.values_for(url);
    let told = login
        .iter()
        .find(|(n, _)| crate::preset::cookie_role(preset, n) == crate::preset::CookieRole::Refresh)
        .cloned();
    let shapes: Vec<(Shape, Vec<(String, String)>)> = match &told {
        Some(cookie) => vec![(Shape::Alone, vec![cookie.clone()])],
        None => {
            let no_session: Vec<(String, String)> = login
                .iter()
                .filter(|(n, _)| crate::preset::unchunked(n) != session)
                .cloned()
                .collect();
            let mut shapes = Vec::new();
            if !no_session.is_empty() && no_session.len() < login.len() {
                shapes.push((Shape::NoSession, no_session));
            }
            shapes.push((Shape::Whole, login.clone()));
            shapes
        }
    };
    let shown = r.url(url);
    // The first refresh, with the narrowest cookies it works with.
    let mut first = None;
    for (i, (shape, cookies)) in shapes.iter().enumerate() {
        let (status, worked, set) = match refresh(client, &req, jar_of(cookies, url), r).await {
            Ok(x) => x,
            Err(why) => {
                return CheckRun {
                    steps,
                    ..CheckRun::not_run(check, &format!("the refresh: {why}"))
                };
            }
        };
        let names: Vec<&str> = set.iter().map(|(n, _)| n.as_str()).collect();
        let name = told.as_ref().map(|(n, _)| n.as_str()).unwrap_or_default();
        steps.push(format!(
            "{} {shown} with {}: {status}{}",
            method.as_str(),
            shape.says(name),
            if names.is_empty() {
                ", no cookie set".to_string()
            } else {
                format!(", set {}", names.join(", "))
            }
        ));
        if worked {
            first = Some((*shape, cookies.clone(), set));
            break;
        }
        if i + 1 == shapes.len() {
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
    }
    let Some((shape, cookies, set)) = first else {
        return CheckRun {
            steps,
            ..CheckRun::not_run(check, "the refresh was not sent")
        };
    };
    // The refresh cookie: the one its name tells, else the one the refresh rotated that the
    // login had (not the session cookie itself).
    let picked = told.or_else(|| {
        set.iter()
            .filter(|(n, _)| crate::preset::unchunked(n) != session)
            .find_map(|(n, _)| cookies.iter().find(|(h, _)| h == n).cloned())
    });
    let Some((name, _)) = picked else {
        return CheckRun {
            steps,
            ..CheckRun::not_run(
                check,
                "no refresh cookie: none is named as one, and the refresh rotated no cookie of the session's but the session cookie",
            )
        };
    };
    let rotated = set.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    let mut accepted = Vec::new();
    // The same request again: the same token, the same cookies beside it.
    match refresh(client, &req, jar_of(&cookies, url), r).await {
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
    // The token the first refresh rotated to (the other cookies as it set them): the family ends
    // with the reuse.
    if let Some(rotated) = &rotated {
        let mut next = with(&cookies, &name, rotated);
        for (n, v) in &set {
            next = with(&next, n, v);
        }
        match refresh(client, &req, jar_of(&next, url), r).await {
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
    // With the session cookie along, the session itself may be what let a call through: the
    // login's cookies without the refresh cookie tell (sent last, so that nothing before depends
    // on what it does to the session).
    if shape == Shape::Whole && !accepted.is_empty() {
        let without: Vec<(String, String)> = cookies
            .iter()
            .filter(|(n, _)| *n != name)
            .cloned()
            .collect();
        match refresh(client, &req, jar_of(&without, url), r).await {
            Ok((status, true, _)) => {
                steps.push(format!(
                    "the same cookies without `{name}`: {status}, accepted: the session cookie alone renews"
                ));
                return CheckRun {
                    steps,
                    ..CheckRun::not_run(
                        check,
                        &format!(
                            "the refresh lets the session cookie through without the refresh cookie `{name}`, and refuses it without the session cookie: a reused refresh token cannot be told from the session renewing by itself"
                        ),
                    )
                };
            }
            Ok((status, false, _)) => steps.push(format!(
                "the same cookies without `{name}`: {status}, refused: the refresh cookie is what counts"
            )),
            Err(why) => {
                return CheckRun {
                    steps,
                    ..CheckRun::not_run(check, &format!("the refresh without `{name}`: {why}"))
                };
            }
        }
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
