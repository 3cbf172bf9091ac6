//! `authz` and `isolation`: the scenario's requests sent with each credential, and each user's
//! resources with the other user's session. Both read only what answers show: a status, whether
//! the body is a session-less `null`, and whose identifiers it carries.

use crate::drive::http::{Answer, HttpClient, Request};
use crate::drive::record::Record;
use crate::redact::Redactor;
use crate::scenario::access::{ResourceSpec, UserSpec, Verdict, fill};
use crate::scenario::{Body, CheckName, Scenario};
use crate::trace::{
    BodyShape, CellGot, CheckCell, CheckMatrix, CheckMatrixRow, CheckRun, CheckStatus, Ended,
    Expect, Method,
};
use std::collections::BTreeMap;

/// How many times the users' own requests are sent together, to catch a context shared across
/// requests in flight (one leak is enough; most rounds show it when it is there).
const ROUNDS_TOGETHER: usize = 4;

/// The sessions of `[[users]]`, each logged in once, when a check first needs it.
#[derive(Default)]
pub struct Others {
    sessions: Vec<Option<Result<Record, String>>>,
}

impl Others {
    /// The session of the `i`-th user of `[[users]]`: a login over HTTP, as the run's but with
    /// the user's credentials.
    pub async fn session(
        &mut self,
        scenario: &Scenario,
        client: &HttpClient,
        i: usize,
        r: &mut Redactor,
    ) -> Result<Record, String> {
        if self.sessions.len() <= i {
            self.sessions.resize(i + 1, None);
        }
        if let Some(done) = &self.sessions[i] {
            return done.clone();
        }
        let result = match scenario.access.users.get(i) {
            Some(user) => login_as(scenario, client, user, r).await,
            None => Err(format!("no user {} in [[users]]", i + 1)),
        };
        self.sessions[i] = Some(result.clone());
        result
    }
}

async fn login_as(
    scenario: &Scenario,
    client: &HttpClient,
    user: &UserSpec,
    r: &mut Redactor,
) -> Result<Record, String> {
    let mut as_user = scenario.over_http();
    as_user.idp.username = Some(user.username.clone());
    as_user.idp.password = Some(user.password.clone());
    let drive = crate::drive::login(&as_user, client, r)
        .await
        .map_err(|e| format!("{}'s login: {}", user.name, e.message))?;
    match (&drive.error, &drive.ended) {
        (Some(e), _) => Err(format!("{}'s login stopped: {}", user.name, e.message)),
        (None, Ended::Landed { .. }) => Ok(drive.record),
        (None, _) => Err(format!(
            "{}'s login did not come back to the app",
            user.name
        )),
    }
}

/// One request of a check, as the app's page would `fetch` it, with the jar's cookies and the
/// extra headers.
fn request(
    scenario: &Scenario,
    method: &Method,
    url: url::Url,
    json: Option<&serde_json::Value>,
    headers: Vec<(String, String)>,
) -> Request {
    crate::probe::fetch(
        &scenario.chain.page,
        method,
        url,
        json.cloned().map(Body::Json),
        headers,
    )
}

/// An answer that lets the caller through: a 2xx whose body is not the `null` of no session.
pub(super) fn allowed(a: &Answer) -> bool {
    crate::probe::failure(&Expect::default(), a.status, a.json().as_ref()).is_none()
}

/// An answer's body shape.
fn shape_of(a: &Answer) -> BodyShape {
    let json: Option<serde_json::Value> = a.json();
    crate::probe::shape(&a.body, a.content_type().as_deref(), json.as_ref())
}

/// Whether an answer lets the caller through, beside the shape of the row's answer to a caller
/// it should let through: a 2xx that is not JSON `null`, and not an HTML page where that answer
/// is JSON (a sign-in page served with 200 in place of the API's answer, as a middleware that
/// rewrites to its login page does).
fn lets_through(allowed: bool, shape: BodyShape, reference: Option<BodyShape>) -> bool {
    let json = |s: BodyShape| matches!(s, BodyShape::JsonObject | BodyShape::JsonOther);
    allowed && !(shape == BodyShape::Html && reference.is_some_and(json))
}

/// A cell from an answer, or from the fault that left none; `reference`, the shape of the row's
/// answer to a caller it should let through.
fn cell(
    answer: &Result<Answer, String>,
    expect: Option<Verdict>,
    reference: Option<BodyShape>,
) -> CheckCell {
    match answer {
        Ok(a) => {
            let (ok, shape) = (allowed(a), shape_of(a));
            let page = ok && !lets_through(true, shape, reference);
            let got = if lets_through(ok, shape, reference) {
                Verdict::Allow
            } else {
                Verdict::Deny
            };
            CheckCell {
                status: Some(a.status),
                got: got.into(),
                expect,
                ok: expect.is_none_or(|e| e == got),
                note: page.then(|| "a page in place of the answer (a sign-in page)".to_string()),
            }
        }
        Err(why) => CheckCell {
            status: None,
            got: CellGot::NoAnswer,
            expect,
            ok: false,
            note: Some(why.clone()),
        },
    }
}

async fn send(
    client: &HttpClient,
    req: &Request,
    jar: &Record,
    r: &mut Redactor,
) -> Result<Answer, String> {
    client
        .exchange(req, Some(jar), r)
        .await
        .map_err(|f| f.message)
}

/// The authorization matrix: each row's request with each credential it names, allow or deny
/// as the scenario expects.
pub async fn authz(
    scenario: &Scenario,
    client: &HttpClient,
    record: &Record,
    others: &mut Others,
    r: &mut Redactor,
) -> CheckRun {
    let check = CheckName::Authz;
    let Some(spec) = &scenario.access.authz else {
        return CheckRun::not_run(
            check,
            "no [authz] matrix: the rows and what each credential gets are written in a scenario",
        );
    };
    let columns = spec.columns();
    let mut steps = Vec::new();
    let other = match scenario.access.users.first() {
        Some(user) if columns.iter().any(|c| c == "other") => {
            let jar = others.session(scenario, client, 0, r).await;
            steps.push(match &jar {
                Ok(_) => format!("logged in {} for the `other` column", user.name),
                Err(why) => format!("the `other` column got no session: {why}"),
            });
            jar
        }
        _ => Err("no second user in [[users]]".to_string()),
    };
    let empty = Record::default();
    let mut rows = Vec::new();
    let mut wrong = Vec::new();
    for row in &spec.rows {
        let name = format!("{} {}", row.method.as_str(), r.url(&row.url));
        // Every column's answer first, then the verdicts: a cell is read beside the row's
        // answer to a caller it should let through.
        let mut answers: Vec<Option<(Verdict, Result<Answer, String>)>> = Vec::new();
        for column in &columns {
            let Some(expect) = row
                .expect
                .iter()
                .find(|(c, _)| c == column)
                .map(|(_, v)| *v)
            else {
                answers.push(None);
                continue;
            };
            let (jar, headers) = match column.as_str() {
                "session" => (record, Vec::new()),
                "none" => (&empty, Vec::new()),
                "other" => match &other {
                    Ok(jar) => (jar, Vec::new()),
                    Err(why) => {
                        answers.push(Some((expect, Err(why.clone()))));
                        continue;
                    }
                },
                name => match spec.credentials.iter().find(|c| c.name == name) {
                    Some(c) => (
                        &empty,
                        vec![(c.header.clone(), c.value.expose().to_string())],
                    ),
                    None => {
                        answers.push(None);
                        continue;
                    }
                },
            };
            let req = request(
                scenario,
                &row.method,
                row.url.clone(),
                row.json.as_ref(),
                headers,
            );
            answers.push(Some((expect, send(client, &req, jar, r).await)));
        }
        let reference = answers.iter().flatten().find_map(|(expect, a)| match a {
            Ok(a) if *expect == Verdict::Allow && allowed(a) => Some(shape_of(a)),
            _ => None,
        });
        let mut cells = Vec::new();
        for (column, answer) in columns.iter().zip(&answers) {
            let Some((expect, answer)) = answer else {
                cells.push(None);
                continue;
            };
            let c = cell(answer, Some(*expect), reference);
            if !c.ok {
                wrong.push(format!(
                    "{name} with {column}: {} ({}), expected {}",
                    c.got,
                    c.status.map_or_else(
                        || format!("no answer: {}", c.note.as_deref().unwrap_or_default()),
                        |s| s.to_string()
                    ),
                    expect.as_str()
                ));
            }
            cells.push(Some(c));
        }
        rows.push(CheckMatrixRow {
            request: name,
            cells,
        });
    }
    let sent = rows.iter().flat_map(|r| &r.cells).flatten().count();
    CheckRun {
        status: CheckStatus::of(!wrong.is_empty(), sent > 0),
        detail: if wrong.is_empty() {
            format!("{sent} requests, each allowed or denied as expected")
        } else {
            format!("{} of {sent} requests not as expected", wrong.len())
        },
        steps,
        accepted: wrong,
        matrix: Some(CheckMatrix { columns, rows }),
        ..CheckRun::not_run(check, "")
    }
}

/// A user of the isolation check: how reports name them, their values, their session.
struct Party<'a> {
    name: String,
    vars: &'a BTreeMap<String, String>,
    jar: Record,
}

impl Party<'_> {
    /// The request for this user's copy of the resource.
    fn request(&self, scenario: &Scenario, res: &ResourceSpec) -> Result<Request, String> {
        let url = fill(&res.url, self.vars);
        let url = url::Url::parse(&url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        let headers = res
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), fill(v, self.vars)))
            .collect();
        Ok(request(
            scenario,
            &res.method,
            url,
            res.json.as_ref(),
            headers,
        ))
    }

    /// The values that are this user's alone (none of `other`'s), long enough to be told apart
    /// in a body.
    fn markers(&self, other: &Party) -> Vec<String> {
        self.vars
            .values()
            .filter(|v| v.len() >= 2 && !other.vars.values().any(|o| o == *v))
            .cloned()
            .collect()
    }
}

/// Whether `needle` stands in `hay` as a whole value: not inside a longer word or id
/// (`p-acme-1` is not in `p-acme-10`, `acme` not in `p-acme-1`).
fn has_token(hay: &str, needle: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    hay.match_indices(needle).any(|(i, m)| {
        !hay[..i].chars().next_back().is_some_and(word)
            && !hay[i + m.len()..].chars().next().is_some_and(word)
    })
}

/// The markers an answer's body carries that `except` (what the request itself said, or the
/// same request's answer alone) does not.
fn carried(a: &Answer, markers: &[String], except: &str) -> Vec<String> {
    let body = a.text();
    markers
        .iter()
        .filter(|m| has_token(&body, m) && !has_token(except, m))
        .cloned()
        .collect()
}

/// What a request itself says: its URL and its headers' values (an answer that echoes them
/// shows nothing of the owner's).
fn said(req: &Request) -> String {
    std::iter::once(req.url.as_str())
        .chain(req.headers.iter().map(|(_, v)| v.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each user's resources with the other's session, and the users' own requests in flight
/// together: no answer may let one user reach the other's data.
pub async fn isolation(
    scenario: &Scenario,
    client: &HttpClient,
    record: &Record,
    others: &mut Others,
    r: &mut Redactor,
) -> CheckRun {
    let check = CheckName::Isolation;
    let (Some(spec), Some(second)) = (&scenario.access.isolation, scenario.access.users.first())
    else {
        return CheckRun::not_run(
            check,
            "no [isolation] resources or no second user in [[users]]: they are written in a scenario",
        );
    };
    let jar = match others.session(scenario, client, 0, r).await {
        Ok(jar) => jar,
        Err(why) => return CheckRun::not_run(check, &why),
    };
    let a = Party {
        name: scenario
            .idp
            .username
            .clone()
            .unwrap_or_else(|| "the first user".into()),
        vars: &spec.vars,
        jar: record.clone(),
    };
    let b = Party {
        name: second.name.clone(),
        vars: &second.vars,
        jar,
    };
    let columns = vec![
        format!("{}: own", a.name),
        format!("{}: own", b.name),
        format!("{} → {}'s", b.name, a.name),
        format!("{} → {}'s", a.name, b.name),
        "in flight together".to_string(),
    ];
    let mut steps = vec![format!("logged in {} as the second user", b.name)];
    let mut rows = Vec::new();
    let mut breaches = Vec::new();
    let mut usable = 0;
    for res in &spec.resources {
        let name = r.scrub(&res.name()).into_string();
        let (req_a, req_b) = match (a.request(scenario, res), b.request(scenario, res)) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(why), _) | (_, Err(why)) => {
                steps.push(format!("{name}: {why}"));
                continue;
            }
        };
        let own_a = send(client, &req_a, &a.jar, r).await;
        let own_b = send(client, &req_b, &b.jar, r).await;
        let mut cells = vec![Some(own_cell(&own_a)), Some(own_cell(&own_b))];
        let owners_ok = matches!((&own_a, &own_b), (Ok(x), Ok(y)) if allowed(x) && allowed(y));
        if !owners_ok {
            steps.push(format!(
                "{name}: not every owner could read their own copy, so a refusal to the other user proves nothing there"
            ));
        } else {
            usable += 1;
        }
        // Answers that differ between the owners are the users' own: one user getting the
        // other's is a crossing even when no marker shows.
        let differ = matches!((&own_a, &own_b), (Ok(x), Ok(y)) if x.body != y.body);
        // Across: the other user's session on each user's copy.
        for (owner, owner_req, owner_answer, caller) in
            [(&a, &req_a, &own_a, &b), (&b, &req_b, &own_b, &a)]
        {
            let answer = send(client, owner_req, &caller.jar, r).await;
            let mut c = cell(&answer, None, None);
            if let (Ok(got), Ok(own)) = (&answer, owner_answer)
                && allowed(got)
            {
                let data = carried(got, &owner.markers(caller), &said(owner_req));
                let same = differ && allowed(own) && got.body == own.body;
                if !data.is_empty() || same {
                    c.ok = false;
                    c.note = Some(if data.is_empty() {
                        format!("the same answer {} gets", owner.name)
                    } else {
                        format!("carries {}'s {}", owner.name, quoted(&data))
                    });
                    breaches.push(format!(
                        "{}'s session reached {}'s {} ({})",
                        caller.name,
                        owner.name,
                        r.url(&owner_req.url),
                        got.status
                    ));
                } else {
                    c.note = Some(format!("none of {}'s data", owner.name));
                }
            }
            cells.push(Some(c));
        }
        // Together: each user's own request, both in flight at once.
        let mut leak: Option<String> = None;
        let mut last = None;
        for _ in 0..ROUNDS_TOGETHER {
            let mut r2 = r.clone();
            let (x, y) = tokio::join!(
                send(client, &req_a, &a.jar, r),
                send(client, &req_b, &b.jar, &mut r2)
            );
            r.merge(r2);
            for (reader, answer, alone, owner) in [(&a, &x, &own_a, &b), (&b, &y, &own_b, &a)] {
                let Ok(got) = answer else { continue };
                // What the same request answered alone is the reader's, whatever it holds.
                let alone_text = alone.as_ref().map(Answer::text).unwrap_or_default();
                let data = carried(got, &owner.markers(reader), &alone_text);
                if leak.is_some() {
                    continue;
                }
                if !data.is_empty() {
                    leak = Some(format!(
                        "{}'s answer carried {}'s {}",
                        reader.name,
                        owner.name,
                        quoted(&data)
                    ));
                } else if let Ok(alone) = alone
                    && lets_through(allowed(alone), shape_of(alone), None)
                    && !lets_through(allowed(got), shape_of(got), Some(shape_of(alone)))
                    && got.status != 429
                    && got.status < 500
                {
                    // Let through alone, refused beside the other's (however the app refuses:
                    // a status, a redirect to its sign-in page, a 200 sign-in page): it ran with
                    // the other's context. Being slowed down or failing is no such sign.
                    leak = Some(format!(
                        "{}'s own request, allowed alone, was refused ({}) while {}'s was in flight",
                        reader.name, got.status, owner.name
                    ));
                }
            }
            last = Some(match (&x, &y) {
                (Ok(x), Ok(y)) if !allowed(x) || allowed(y) => x.status,
                (_, Ok(y)) => y.status,
                (Ok(x), _) => x.status,
                _ => 0,
            });
            if leak.is_some() {
                break;
            }
        }
        cells.push(Some(match &leak {
            Some(what) => {
                breaches.push(format!("{name}, the users' own requests together: {what}"));
                CheckCell {
                    status: last.filter(|s| *s > 0),
                    got: CellGot::Leak,
                    expect: None,
                    ok: false,
                    note: Some(what.clone()),
                }
            }
            None => CheckCell {
                status: last.filter(|s| *s > 0),
                got: CellGot::Apart,
                expect: None,
                ok: true,
                note: None,
            },
        }));
        rows.push(CheckMatrixRow {
            request: name,
            cells,
        });
    }
    CheckRun {
        status: CheckStatus::of(!breaches.is_empty(), usable > 0),
        detail: if !breaches.is_empty() {
            format!(
                "{} {} between {} and {}",
                breaches.len(),
                if breaches.len() == 1 {
                    "crossing"
                } else {
                    "crossings"
                },
                a.name,
                b.name
            )
        } else if usable == 0 {
            "no resource answered its own user: nothing to cross".into()
        } else {
            format!(
                "{usable} resources kept apart between {} and {}",
                a.name, b.name
            )
        },
        steps,
        accepted: breaches,
        matrix: Some(CheckMatrix { columns, rows }),
        ..CheckRun::not_run(check, "")
    }
}

/// An owner's own request: allowed is as it should be.
fn own_cell(answer: &Result<Answer, String>) -> CheckCell {
    let mut c = cell(answer, Some(Verdict::Allow), None);
    if !c.ok && c.status.is_some() {
        c.note = Some("its owner was refused: nothing to compare".into());
        c.ok = true;
    }
    c
}

fn quoted(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{has_token, lets_through};
    use crate::trace::BodyShape;

    /// Denials as frameworks write them, and answers that let the caller through, read beside
    /// the row's answer to a caller it should let through (JSON here unless said).
    #[test]
    fn what_lets_a_caller_through() {
        const JSON: Option<BodyShape> = Some(BodyShape::JsonObject);
        // (who answers so, status, content type, body, reference shape, let through)
        type Case<'a> = (&'a str, u16, &'a str, &'a str, Option<BodyShape>, bool);
        let cases: &[Case] = &[
            (
                "the resource",
                200,
                "application/json",
                r#"{"id":"p1"}"#,
                JSON,
                true,
            ),
            ("a list", 200, "application/json", "[]", JSON, true),
            ("no content", 204, "", "", JSON, true),
            (
                "NestJS",
                403,
                "application/json",
                r#"{"statusCode":403,"message":"Forbidden resource","error":"Forbidden"}"#,
                JSON,
                false,
            ),
            ("Spring", 401, "", "", JSON, false),
            (
                "Django, to its login page",
                302,
                "text/html",
                "",
                JSON,
                false,
            ),
            (
                "DRF",
                403,
                "application/json",
                r#"{"detail":"You do not have permission to perform this action."}"#,
                JSON,
                false,
            ),
            (
                "a session endpoint without one",
                200,
                "application/json",
                "null",
                JSON,
                false,
            ),
            (
                "a middleware that rewrites to its sign-in page",
                200,
                "text/html",
                "<!DOCTYPE html><form action=/login>",
                JSON,
                false,
            ),
            (
                "a page, where pages are the answer",
                200,
                "text/html",
                "<!DOCTYPE html><h1>Projects</h1>",
                Some(BodyShape::Html),
                true,
            ),
            (
                "a page, with nothing to compare",
                200,
                "text/html",
                "<!DOCTYPE html><h1>Projects</h1>",
                None,
                true,
            ),
        ];
        for (who, status, content_type, body, reference, want) in cases {
            let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
            let allowed =
                crate::probe::failure(&Default::default(), *status, json.as_ref()).is_none();
            let ct = (!content_type.is_empty()).then_some(*content_type);
            let shape = crate::probe::shape(body.as_bytes(), ct, json.as_ref());
            assert_eq!(lets_through(allowed, shape, *reference), *want, "{who}");
        }
    }

    #[test]
    fn a_value_is_found_whole_only() {
        // (body, value, found)
        let cases: &[(&str, &str, bool)] = &[
            (r#"{"id":"p-acme-1","tenant":"acme"}"#, "acme", true),
            (r#"{"id":"p-acme-1"}"#, "acme", false),
            (r#"{"id":"p-acme-10"}"#, "p-acme-1", false),
            (r#"{"id":"p-acme-1"}"#, "p-acme-1", true),
            (r#"{"owner":42}"#, "42", true),
            (r#"{"owner":420}"#, "42", false),
            ("/projects/p-acme-1/", "p-acme-1", true),
            ("acme", "acme", true),
            ("acme_corp", "acme", false),
            ("", "acme", false),
        ];
        for (hay, needle, want) in cases {
            assert_eq!(has_token(hay, needle), *want, "{needle} in {hay}");
        }
    }
}
