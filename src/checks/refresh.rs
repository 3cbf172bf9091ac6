//! `refresh-rotation`: on a login of its own (reusing a refresh token ends its whole family, so
//! the run's session is left alone), the refresh request is sent, then sent again with the used
//! refresh token, then with the one the first refresh rotated to. The reuse must be refused, and
//! must end the family: the rotated token must be refused too.
//!
//! The reuse goes out as a client that kept an old copy of the refresh cookie would send it: the
//! cookies as the first refresh left them (a session it renewed, cookies it added or deleted)
//! with the used refresh token in place of the new one. So an app that replaces the session on
//! every refresh refuses the reuse for the token, not for a stale session.
//!
//! The calls carry the narrowest set of cookies the first refresh works with: the refresh cookie
//! alone when its name tells its role (`refresh_token`, `__Host-refresh`); else the cookies
//! without the session cookie (which could renew by itself); else all of them. Only a refusal
//! (a 4xx but 429, or a redirect) widens the set: being slowed down or failing says nothing of the
//! cookies. An accepted reuse counts only if the refresh refuses the other cookies without the
//! refresh cookie (no cookie at all where it went alone): otherwise they renew by themselves,
//! or the endpoint answers everyone alike, and a reuse cannot be told apart. Where no name tells it, the refresh cookie is
//! the one cookie the first refresh rotated that is none of the session, CSRF, state, PKCE or
//! cache cookies.

use super::{callback_and_session, fresh_callback, send_callback};
use crate::drive::http::{HttpClient, HttpDriver, Request};
use crate::preset::{CookieRole, Preset, cookie_role, unchunked};
use crate::redact::Redactor;
use crate::scenario::{CheckName, Scenario};
use crate::trace::{CheckRun, CheckStatus, CookieAction, Trace};

type Cookies = Vec<(String, String)>;

/// What one refresh request did.
struct Sent {
    status: u16,
    /// It let the caller through.
    worked: bool,
    /// The cookies it set to a new value, by name, in order.
    set: Vec<String>,
    /// The cookies the next request would carry: those sent, as the answer left them.
    after: Cookies,
}

impl Sent {
    /// The endpoint's word on what it was sent: not a limit (429), a request that took too long
    /// (408) or a failure of its own (5xx).
    fn answered(&self) -> bool {
        !matches!(self.status, 408 | 429) && self.status < 500
    }

    fn verdict(&self) -> &'static str {
        if self.worked { "accepted" } else { "refused" }
    }
}

/// The refresh request sent with `cookies`.
async fn refresh(
    client: &HttpClient,
    req: &Request,
    cookies: &[(String, String)],
    r: &mut Redactor,
) -> Result<Sent, String> {
    let mut driver = HttpDriver::new(client);
    for (name, value) in cookies {
        driver.record.preload(name, value, &[&req.url]);
    }
    let a = driver.hop(req, r).await.map_err(|e| e.message)?;
    // What the answer did to each cookie, the last word on a name counting.
    let mut acts: Vec<(&str, CookieAction)> = Vec::new();
    for c in driver
        .record
        .hops
        .last()
        .iter()
        .flat_map(|h| &h.set_cookies)
    {
        acts.retain(|(n, _)| *n != c.name);
        acts.push((c.name.as_str(), c.action));
    }
    // The jar may hold a cookie twice by now (one sent, one set with another Path): a name's new
    // value is the one that was not sent.
    let jar = driver.record.values_for(&req.url);
    let new_value = |name: &str| {
        jar.iter()
            .find(|(n, v)| n == name && !cookies.iter().any(|(sn, sv)| sn == n && sv == v))
            .map(|(_, v)| v.clone())
    };
    let action = |name: &str| acts.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
    let mut after: Cookies = Vec::new();
    for (name, value) in cookies {
        match action(name) {
            Some(CookieAction::Cleared) => {}
            Some(CookieAction::Set) => {
                after.push((name.clone(), new_value(name).unwrap_or(value.clone())));
            }
            _ => after.push((name.clone(), value.clone())),
        }
    }
    let mut set = Vec::new();
    for (name, act) in &acts {
        if *act != CookieAction::Set {
            continue;
        }
        let Some(value) = new_value(name) else {
            continue;
        };
        set.push(name.to_string());
        if !cookies.iter().any(|(n, _)| n == name) {
            after.push((name.to_string(), value));
        }
    }
    Ok(Sent {
        status: a.status,
        worked: super::access::allowed(&a),
        set,
        after,
    })
}

/// The cookies' names, quoted, each once.
fn names(cookies: &[(String, String)]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for (n, _) in cookies {
        if !seen.contains(&n.as_str()) {
            seen.push(n);
        }
    }
    match seen.is_empty() {
        true => "no cookie".into(),
        false => seen
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `cookies` but those of the cookie `base` (all its chunks).
fn without(cookies: &[(String, String)], base: &str) -> Cookies {
    cookies
        .iter()
        .filter(|(n, _)| unchunked(n) != base)
        .cloned()
        .collect()
}

/// What the refresh requests carry, narrowest first.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Shape {
    /// The refresh cookie alone (its name tells its role).
    Alone,
    /// The session's cookies but the session cookie.
    NoSession,
    /// All the session's cookies.
    Whole,
}

impl Shape {
    /// `cookies` cut to this shape.
    fn of(self, cookies: &[(String, String)], session: &str, refresh: Option<&str>) -> Cookies {
        cookies
            .iter()
            .filter(|(n, _)| match self {
                Shape::Alone => Some(unchunked(n)) == refresh,
                Shape::NoSession => unchunked(n) != session,
                Shape::Whole => true,
            })
            .cloned()
            .collect()
    }
}

/// The cookies to try the first refresh with, narrowest first, each set once.
fn shapes(login: &[(String, String)], session: &str, told: Option<&str>) -> Vec<(Shape, Cookies)> {
    let mut out: Vec<(Shape, Cookies)> = Vec::new();
    for shape in [Shape::Alone, Shape::NoSession, Shape::Whole] {
        if shape == Shape::Alone && told.is_none() {
            continue;
        }
        let cookies = shape.of(login, session, told);
        if !cookies.is_empty() && !out.iter().any(|(_, c)| *c == cookies) {
            out.push((shape, cookies));
        }
    }
    out
}

/// The refresh cookie where no name tells it: the one cookie (its chunks as one) among those
/// sent that the first refresh rotated and that has no other role. `Err` names the candidates
/// when there are several.
fn rotated_cookie(
    preset: Option<Preset>,
    sent: &[(String, String)],
    set: &[String],
    session: &str,
) -> Result<Option<String>, Vec<String>> {
    let mut found: Vec<String> = Vec::new();
    for n in set {
        let base = unchunked(n);
        let other_role = matches!(
            cookie_role(preset, n),
            CookieRole::Session
                | CookieRole::Csrf
                | CookieRole::State
                | CookieRole::Pkce
                | CookieRole::Cache
        );
        if base != session
            && !other_role
            && sent.iter().any(|(s, _)| unchunked(s) == base)
            && !found.iter().any(|f| f == base)
        {
            found.push(base.to_string());
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(found),
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
    let not_run = |steps: Vec<String>, why: &str| CheckRun {
        steps,
        ..CheckRun::not_run(check, why)
    };
    match send_callback(scenario, client, &mut jar, &cb, &session, r).await {
        Ok((_, true)) => {}
        Ok((status, false)) => {
            return not_run(
                steps,
                &format!("its login's callback made no session ({status})"),
            );
        }
        Err(why) => return not_run(steps, &why),
    }
    let req = super::configured_request(scenario, method, url);
    let preset = scenario.chain.preset;
    let login: Cookies = jar.values_for(url);
    let told: Option<String> = login
        .iter()
        .find(|(n, _)| cookie_role(preset, n) == CookieRole::Refresh)
        .map(|(n, _)| unchunked(n).to_string());
    let shown = r.url(url);
    let verb = method.as_str();

    if login.is_empty() {
        return not_run(
            steps,
            &format!(
                "none of the session's cookies goes to {shown}: its host or path is outside theirs"
            ),
        );
    }
    // The first refresh, with the narrowest cookies it works with.
    let tries = shapes(&login, &session, told.as_deref());
    let mut first: Option<(Shape, Cookies, Sent)> = None;
    let mut last = 0;
    for (shape, cookies) in tries {
        let sent = match refresh(client, &req, &cookies, r).await {
            Ok(x) => x,
            Err(why) => return not_run(steps, &format!("the refresh: {why}")),
        };
        steps.push(format!(
            "{verb} {shown} with {}: {}, {}{}",
            names(&cookies),
            sent.status,
            sent.verdict(),
            match sent.set.is_empty() {
                true => ", no cookie set".to_string(),
                false => format!(", set {}", sent.set.join(", ")),
            }
        ));
        if sent.worked {
            first = Some((shape, cookies, sent));
            break;
        }
        if !sent.answered() {
            return not_run(
                steps,
                &format!(
                    "the first refresh answered {}: it said nothing of the refresh token",
                    sent.status
                ),
            );
        }
        last = sent.status;
    }
    let Some((shape, cookies, sent)) = first else {
        return not_run(
            steps,
            &format!(
                "the first refresh was refused ({last}) with every set of the session's cookies: it may want a header beside them (a CSRF token: give it with -H), or a live session"
            ),
        );
    };
    // The refresh cookie: the one its name tells, else the one the refresh rotated.
    let name = match told {
        Some(name) => name,
        None => match rotated_cookie(preset, &cookies, &sent.set, &session) {
            Ok(Some(name)) => name,
            Ok(None) => {
                return not_run(
                    steps,
                    "no refresh cookie: none is named as one, and the refresh rotated no cookie of the session's but the session's own",
                );
            }
            Err(several) => {
                return not_run(
                    steps,
                    &format!(
                        "no refresh cookie: none is named as one, and the refresh rotated several ({}): which one is the refresh token cannot be told",
                        several.join(", ")
                    ),
                );
            }
        },
    };
    let rotated = sent.set.iter().any(|n| unchunked(n) == name);
    // What a client would hold after the first refresh, in the shape that worked.
    let next = shape.of(&sent.after, &session, Some(&name));
    let used: Cookies = cookies
        .iter()
        .filter(|(n, _)| unchunked(n) == name)
        .cloned()
        .collect();
    let mut accepted = Vec::new();

    // The used token again, beside the cookies as the first refresh left them.
    let reuse: Cookies = without(&next, &name).into_iter().chain(used).collect();
    let again = match refresh(client, &req, &reuse, r).await {
        Ok(x) => x,
        Err(why) => return not_run(steps, &format!("the reuse: {why}")),
    };
    steps.push(format!(
        "the used `{name}` again, with {}: {}, {}",
        names(&reuse),
        again.status,
        again.verdict()
    ));
    if !again.answered() {
        return not_run(
            steps,
            &format!(
                "the reuse answered {}: it said nothing of the used token",
                again.status
            ),
        );
    }
    // The freshest cookies a call let through, for the last request.
    let mut latest = next.clone();
    if again.worked {
        latest = shape.of(&again.after, &session, Some(&name));
        accepted.push(match rotated {
            true => format!("the used refresh token worked again ({})", again.status),
            false => format!(
                "the used refresh token worked again ({}): it is not rotated either",
                again.status
            ),
        });
    }

    // The token the first refresh rotated to: the family ends with the reuse.
    let mut family_unknown = None;
    if rotated {
        match refresh(client, &req, &next, r).await {
            Ok(after) => {
                steps.push(format!(
                    "the rotated `{name}`, after the reuse, with {}: {}, {}",
                    names(&next),
                    after.status,
                    after.verdict()
                ));
                if !after.answered() {
                    family_unknown = Some(format!("answered {}", after.status));
                } else if after.worked {
                    latest = shape.of(&after.after, &session, Some(&name));
                    accepted.push(format!(
                        "the token rotated from the reused one still worked after the reuse ({}): the family was not ended",
                        after.status
                    ));
                }
            }
            Err(why) => {
                steps.push(format!("the rotated `{name}`, after the reuse: {why}"));
                family_unknown = Some(why);
            }
        }
    } else {
        steps.push(format!(
            "the first refresh set no new `{name}`: the refresh token was not rotated"
        ));
    }

    // With more than the refresh cookie along, those other cookies may be what let a call
    // through: the freshest of them are sent without it (last, so that nothing before depends
    // on what it does).
    // With the refresh cookie alone, that is no cookie at all: an endpoint that answers
    // everyone alike (a 200 that refuses in its body) lets a reuse through as it lets nobody.
    let others = without(&latest, &name);
    if !accepted.is_empty() {
        match refresh(client, &req, &others, r).await {
            Ok(alone) if !alone.answered() => {
                steps.push(format!(
                    "{} without `{name}`: {}",
                    names(&others),
                    alone.status
                ));
                return not_run(
                    steps,
                    &format!(
                        "the refresh without `{name}` answered {}: whether the refresh cookie is what it reads cannot be told",
                        alone.status
                    ),
                );
            }
            Ok(alone) if alone.worked => {
                steps.push(format!(
                    "{} without `{name}`: {}, accepted: they renew by themselves",
                    names(&others),
                    alone.status
                ));
                return not_run(
                    steps,
                    &match others.is_empty() {
                        true => format!(
                            "the refresh answers a request without any cookie as it answers `{name}`: a reused refresh token cannot be told from none"
                        ),
                        false => format!(
                            "the refresh lets {} through without the refresh cookie `{name}`: a reused refresh token cannot be told from those cookies renewing by themselves",
                            names(&others)
                        ),
                    },
                );
            }
            Ok(alone) => steps.push(format!(
                "{} without `{name}`: {}, refused: the refresh cookie is what counts",
                names(&others),
                alone.status
            )),
            Err(why) => {
                return not_run(steps, &format!("the refresh without `{name}`: {why}"));
            }
        }
    }
    if !accepted.is_empty() {
        return CheckRun {
            status: CheckStatus::Failed,
            detail: accepted.join("; "),
            steps,
            accepted,
            ..CheckRun::not_run(check, "")
        };
    }
    if let Some(why) = family_unknown {
        return not_run(
            steps,
            &format!(
                "the reused refresh token was refused, but whether its family ended is unknown: the rotated one's refresh {why}"
            ),
        );
    }
    CheckRun {
        status: CheckStatus::Passed,
        detail: match rotated {
            true => "the reused refresh token was refused and its family ended".into(),
            false => {
                "the used refresh token was refused (it was not rotated: no family to end)".into()
            }
        },
        steps,
        ..CheckRun::not_run(check, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jar(names: &[&str]) -> Cookies {
        names
            .iter()
            .map(|n| (n.to_string(), format!("v-{n}")))
            .collect()
    }

    #[test]
    fn shapes_narrowest_first_each_once() {
        let cases: &[(&[&str], Option<&str>, &[Shape])] = &[
            (
                &["__Host-session", "__Host-refresh"],
                Some("__Host-refresh"),
                &[Shape::Alone, Shape::Whole],
            ),
            (
                &["__Host-session", "__Host-jid"],
                None,
                &[Shape::NoSession, Shape::Whole],
            ),
            (
                &["__Host-session", "__Host-refresh", "csrf"],
                Some("__Host-refresh"),
                &[Shape::Alone, Shape::NoSession, Shape::Whole],
            ),
            (&["__Host-session"], None, &[Shape::Whole]),
            (&["jid"], None, &[Shape::NoSession]),
        ];
        for (names, told, want) in cases {
            let got: Vec<Shape> = shapes(&jar(names), "__Host-session", *told)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            assert_eq!(got, *want, "{names:?} {told:?}");
        }
    }

    #[test]
    fn the_rotated_refresh_cookie_is_one_without_another_role() {
        let sent = jar(&["sid", "jid", "XSRF-TOKEN", "rt.0", "rt.1", "other"]);
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        // The cookies the refresh set, and the refresh cookie, or the candidates when several.
        type Want<'a> = Result<Option<&'a str>, &'a [&'a str]>;
        let cases: &[(&[&str], Want)] = &[
            (&["sid", "jid"], Ok(Some("jid"))),
            (&["XSRF-TOKEN", "jid"], Ok(Some("jid"))),
            (&["rt.0", "rt.1", "sid"], Ok(Some("rt"))),
            (&["sid", "XSRF-TOKEN"], Ok(None)),
            (&["new-one"], Ok(None)),
            (&["jid", "other"], Err(&["jid", "other"])),
        ];
        for (changed, want) in cases {
            let got = rotated_cookie(None, &sent, &set(changed), "sid");
            let want = want
                .map(|o| o.map(str::to_string))
                .map_err(|e| e.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "{changed:?}");
        }
    }
}
