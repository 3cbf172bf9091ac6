//! The findings of the opt-in checks (`--check NAME`): read from what each check recorded in
//! the trace (`checks[]`), and, for `cookie-policy`, from the cookies the chain set.

use super::cookies::{line, session_set, set_cookies};
use super::finding;
use crate::preset::{self, CookieRole, Preset};
use crate::scenario::CheckName;
use crate::trace::{
    CellGot, CheckMatrix, CheckStatus, CookieAction, FindingId, Hop, SameSite, SetCookie, Severity,
    Trace,
};

pub fn rules(t: &Trace) -> Vec<crate::trace::Finding> {
    let mut out = Vec::new();
    for run in &t.checks {
        match (run.check, run.status) {
            (CheckName::Logout, CheckStatus::Failed) => {
                let explanation = if run.stateless {
                    "The session is the cookie itself, an encrypted JWT: the sign-out clears it from the browser, but a copy (a stolen cookie, another tab, a proxy's log) stays valid until it expires. This is by design for stateless JWT sessions, and it is still a session that survives its logout."
                } else {
                    "The sign-out cleared the browser's cookies, but the server still accepts the same session: its record was not ended (a logout that only clears the cookie, a cache that still holds the session). Anyone holding a copy of the cookie stays signed in."
                };
                let fix = if run.stateless {
                    "Keep sessions in a store the sign-out can end (database sessions), keep a deny list of ended sessions checked on every request, or keep JWT sessions short-lived."
                } else {
                    "End the session's server record on sign-out (and any cache of it), not only the cookie."
                };
                out.push(finding(
                    FindingId::SessionSurvivesLogout,
                    Severity::Error,
                    format!(
                        "The session still works after sign-out: {}",
                        run.accepted.join(", ")
                    ),
                    Vec::new(),
                    explanation,
                    fix,
                ));
            }
            (CheckName::CookiePolicy, CheckStatus::Failed) => out.extend(cookie_policy(t)),
            (CheckName::IdpLogout, CheckStatus::Failed) => out.push(finding(
                FindingId::IdpSessionSurvivesLogout,
                Severity::Warning,
                "After the app's sign-out, a second login completed with no IdP form: the IdP's session survived",
                Vec::new(),
                "Single sign-on keeps the IdP's session after an app's logout unless the app logs out at the IdP too (RP-initiated logout to its end_session_endpoint): on a shared computer the next person to press sign-in is logged in as the last one.",
                "If a logout should end the IdP's session, send the browser to the IdP's end_session_endpoint with id_token_hint and post_logout_redirect_uri after the app's own sign-out.",
            )),
            (CheckName::CallbackReplay, CheckStatus::Failed) => out.push(finding(
                FindingId::CallbackReplayAccepted,
                Severity::Error,
                format!("A replayed callback made a second session: {}", run.accepted.join(", ")),
                Vec::new(),
                "The callback's state must be one-time and its code single-use (the IdP refuses a code twice: invalid_grant): a callback that makes a session again can be replayed by anyone who saw its URL (a browser history, a proxy's log, a Referer).",
                "Delete the state (cookie or record) when the callback consumes it, and make no session unless the code exchange succeeded.",
            )),
            (CheckName::State, CheckStatus::Failed) => out.push(finding(
                FindingId::StateNotEnforced,
                Severity::Error,
                format!("The callback made a session from {}", run.accepted.join(", ")),
                Vec::new(),
                "The state ties the callback to the browser that started the login: a callback that is taken with a forged state, with none, or with another login's state lets an attacker log a victim into the attacker's account (login CSRF).",
                "Compare the callback's state with the one the start stored for this browser (a cookie or a record), and refuse a missing or different one.",
            )),
            (CheckName::RefreshRotation, CheckStatus::Failed) => out.push(finding(
                FindingId::RefreshReuseAccepted,
                Severity::Error,
                format!("A reused refresh token: {}", run.accepted.join("; ")),
                Vec::new(),
                "A refresh token used twice means two parties hold it, and the server cannot tell the thief from the user: rotation with reuse detection (OAuth 2.0 Security Best Current Practice, RFC 9700 §2.2.2 and §4.14.2) refuses the reuse and ends every token of the family, so that a stolen refresh token buys at most one refresh.",
                "Mark each refresh token used when it is traded, issue the next in the same family, and on the use of a used one revoke the whole family (and the sessions made from it).",
            )),
            (CheckName::Authz, CheckStatus::Failed) => {
                if let Some(m) = &run.matrix {
                    out.extend(authz_findings(m));
                }
            }
            (CheckName::Isolation, CheckStatus::Failed) => {
                if let Some(m) = &run.matrix {
                    out.extend(isolation_findings(m));
                }
            }
            _ => {}
        }
    }
    out
}

/// One `authz-mismatch` per cell not as expected, its explanation read from which column let
/// through or shut out, and what the rest of the row got.
fn authz_findings(m: &CheckMatrix) -> Vec<crate::trace::Finding> {
    use crate::scenario::access::Verdict;
    let mut out = Vec::new();
    for row in &m.rows {
        for (column, cell) in m.columns.iter().zip(&row.cells) {
            let Some(c) = cell.as_ref().filter(|c| !c.ok) else {
                continue;
            };
            let status = c.status.map_or("no answer".to_string(), |s| s.to_string());
            let expect = c.expect.map_or("", |e| e.as_str());
            // Which credentials the row lets through, for the words of the cause.
            let (explanation, fix) = match (c.expect, column.as_str()) {
                (_, _) if c.status.is_none() => (
                    format!("The request with {column} got no answer ({}): the matrix cannot say whether it is allowed.", c.note.as_deref().unwrap_or("a fault")),
                    "Run again; if it persists, see why the endpoint does not answer this credential.".to_string(),
                ),
                (Some(Verdict::Deny), "none") => (
                    "A request with no credential at all was let through: the endpoint is not behind the guard.".to_string(),
                    "Put the endpoint behind the authentication guard (and list it in the scenario as deny for none, as here).".to_string(),
                ),
                (Some(Verdict::Deny), "other") => (
                    "Another user's session got through to this request: the endpoint checks that a caller is signed in, not that the object is theirs (an object-level authorization check missing, OWASP API1).".to_string(),
                    "Check the object's owner or tenant against the caller on every request, in the query itself where possible.".to_string(),
                ),
                (Some(Verdict::Deny), "session") => (
                    "The session was let through where the scenario expects it refused: a scope or role check that session callers skip (a guard that trusts any session, and checks scopes for tokens only) lets every signed-in user do what only some scopes may.".to_string(),
                    "Apply the same scope or role check to session callers as to tokens: derive the session's scopes from the user's role and check them at the endpoint.".to_string(),
                ),
                (Some(Verdict::Deny), _) => (
                    format!("The credential `{column}` was let through beyond what the scenario grants it: its scopes are not applied here, as when a token path verifies the token outside the auth core (a legacy table without scopes, a bypass of the token table) or the endpoint checks no scope at all."),
                    "Verify every token through the one auth core that knows its scopes and revocation, and check the scope the endpoint needs.".to_string(),
                ),
                (Some(Verdict::Allow), _) => (
                    format!("The request with {column} was refused ({status}) where the scenario expects it let through: a scope missing from the credential, a guard that does not know this kind of credential, or a scenario that expects too much."),
                    "Compare the credential's scopes with what the endpoint checks; if the refusal is right, write deny in the scenario.".to_string(),
                ),
                (None, _) => continue,
            };
            out.push(finding(
                FindingId::AuthzMismatch,
                Severity::Error,
                format!(
                    "{} with {column}: {} ({status}), expected {expect}",
                    row.request, c.got
                ),
                Vec::new(),
                explanation,
                fix,
            ));
        }
    }
    out
}

/// One `isolation-breach` per crossing: a user's session on the other's resource, or the users'
/// own requests in flight together reading each other's data.
fn isolation_findings(m: &CheckMatrix) -> Vec<crate::trace::Finding> {
    let mut out = Vec::new();
    for row in &m.rows {
        for (column, cell) in m.columns.iter().zip(&row.cells) {
            // A crossing is an answer that let a user through, or a leak; a request that got no
            // answer shows nothing either way.
            let Some(c) = cell
                .as_ref()
                .filter(|c| !c.ok && matches!(c.got, CellGot::Allow | CellGot::Leak))
            else {
                continue;
            };
            let note = c.note.as_deref().unwrap_or_default();
            let status = c.status.map_or("no answer".into(), |s| s.to_string());
            let (title, explanation, fix) = if c.got == CellGot::Leak {
                (
                    format!("{}: two users' own requests in flight together crossed: {note}", row.request),
                    "Each user asked for their own data, at the same moment, and one got the other's: the request's context (its tenant or user) is kept somewhere shared by requests in flight (a database client's session variable, a module-level variable, a pooled connection's setting), and one request's query ran with another's. Alone, each request is right, which is why single-user tests pass.".to_string(),
                    "Keep the request's context on the request (async local storage, a transaction-scoped setting such as Postgres `SET LOCAL` inside the request's own transaction), never on a shared client.".to_string(),
                )
            } else {
                (
                    format!("{} ({column}): {status}, {note}", row.request),
                    "One user's session reached the other user's resource: the endpoint checks that the caller is signed in, not that the resource (its id, its tenant) is theirs (broken object-level authorization, OWASP API1).".to_string(),
                    "Scope every lookup by the caller's own user or tenant, taken from the session, never from the URL or a header alone.".to_string(),
                )
            };
            out.push(finding(
                FindingId::IsolationBreach,
                Severity::Error,
                title,
                Vec::new(),
                explanation,
                fix,
            ));
        }
    }
    out
}

/// The longest life the profile allows a session cookie: 30 days.
const MAX_SESSION_SECS: i64 = 30 * 24 * 3600;

/// The session, refresh and CSRF cookies the app set, each with what the hardening profile
/// misses: `__Host-` unless a Domain is needed, Secure, HttpOnly, SameSite Lax or Strict (Strict
/// for a refresh cookie), Path=/,
/// at most 30 days for a session. What `cookie-prefix-violation` and
/// `cookie-samesite-none-insecure` already name is not named again.
pub fn cookie_policy(t: &Trace) -> Vec<crate::trace::Finding> {
    let preset = t.chain.preset.as_deref().and_then(Preset::parse);
    let hosts = super::app_hosts(t);
    let session = session_set(t).map(|(_, c)| preset::unchunked(&c.name).to_string());
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    // The last setting of each cookie is the one that counts.
    let set: Vec<(&Hop, &SetCookie)> = set_cookies(t)
        .filter(|(h, c)| {
            c.action == CookieAction::Set && hosts.contains(&crate::web::host_port(&h.url))
        })
        .collect();
    for (h, c) in set.iter().rev() {
        let base = preset::unchunked(&c.name).to_string();
        if seen.contains(&base) {
            continue;
        }
        seen.push(base.clone());
        let role = preset::cookie_role(preset, &base);
        // What the name says first (a CSRF or refresh cookie set at the callback is no session),
        // then the session as the chain showed it.
        let kind = if role == CookieRole::Csrf {
            "CSRF"
        } else if role == CookieRole::Refresh {
            "refresh"
        } else if session.as_deref() == Some(base.as_str()) || role == CookieRole::Session {
            "session"
        } else {
            continue;
        };
        let mut set_these: Vec<String> = Vec::new();
        let prefixed = c.name.starts_with("__Host-") || c.name.starts_with("__Secure-");
        if c.domain.is_none() && !c.name.starts_with("__Host-") {
            set_these.push(format!(
                "the __Host- prefix (__Host-{})",
                c.name.trim_start_matches("__Secure-")
            ));
        }
        // A prefixed cookie without Secure is cookie-prefix-violation's.
        if !c.secure && !prefixed {
            set_these.push("Secure".into());
        }
        // A CSRF cookie of the double-submit pattern (Django's `csrftoken`, Angular's and
        // Spring's `XSRF-TOKEN`) is read by the page's script on purpose: HttpOnly is asked of
        // the session and refresh cookies only.
        if !c.http_only && kind != "CSRF" {
            set_these.push("HttpOnly".into());
        }
        match c.same_site {
            // A refresh cookie goes only to the app's own refresh request: Strict costs nothing.
            Some(SameSite::Lax) if kind == "refresh" => set_these.push("SameSite=Strict".into()),
            Some(SameSite::Lax | SameSite::Strict) => {}
            None if kind == "refresh" => set_these.push("SameSite=Strict".into()),
            // SameSite=None without Secure is cookie-samesite-none-insecure's.
            Some(SameSite::None) if !c.secure => {}
            Some(SameSite::None) if kind == "refresh" => {
                set_these.push("SameSite=Strict (not None)".into())
            }
            Some(SameSite::None) => set_these.push("SameSite=Lax (not None)".into()),
            None => set_these.push("SameSite=Lax".into()),
        }
        if c.path.as_deref() != Some("/") && !c.name.starts_with("__Host-") {
            set_these.push("Path=/".into());
        }
        if kind == "session" && c.max_age.is_some_and(|m| m > MAX_SESSION_SECS) {
            set_these.push(format!(
                "Max-Age at most {MAX_SESSION_SECS} (30 days; it is {})",
                c.max_age.unwrap_or(0)
            ));
        }
        if set_these.is_empty() {
            continue;
        }
        out.push(finding(
            FindingId::CookiePolicyWeak,
            Severity::Error,
            format!("The {kind} cookie `{}` lacks: {}", c.name, set_these.join("; ")),
            vec![line(h, c)],
            "A session, refresh or CSRF cookie is a credential: `__Host-` pins it to this host over https with Path=/ (no subdomain can set or read it), Secure keeps it off plain http, HttpOnly keeps it from scripts, SameSite Lax or Strict keeps it off cross-site requests (Strict for a refresh cookie, which only the app's own refresh request needs), and a session that lasts at most 30 days limits what a stolen one is worth.",
            "Set the attributes named on the cookie; a cross-subdomain session that needs a Domain keeps `__Secure-` instead of `__Host-`.",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::access::Verdict;
    use crate::trace::{ChainInfo, CheckCell, CheckMatrixRow, CheckRun, HopNo};

    fn cell(status: u16, got: Verdict, expect: Verdict) -> Option<CheckCell> {
        Some(CheckCell {
            status: Some(status),
            got: got.into(),
            expect: Some(expect),
            ok: got == expect,
            note: None,
        })
    }

    /// Each wrong cell is one finding, its cause read from its column and direction, whatever
    /// the app's words; cells as expected and cells not asked give none.
    #[test]
    fn authz_mismatches_are_explained_by_their_column() {
        use Verdict::{Allow, Deny};
        // (column, status, got, expected, a piece of the explanation; none: no finding)
        let cases: &[(&str, u16, Verdict, Verdict, Option<&str>)] = &[
            ("none", 200, Allow, Deny, Some("not behind the guard")),
            (
                "other",
                200,
                Allow,
                Deny,
                Some("object-level authorization"),
            ),
            ("session", 200, Allow, Deny, Some("session callers skip")),
            ("pat", 201, Allow, Deny, Some("bypass of the token table")),
            ("scoped", 403, Deny, Allow, Some("refused (403)")),
            ("session", 200, Allow, Allow, None),
            ("none", 401, Deny, Deny, None),
        ];
        for (column, status, got, expect, want) in cases {
            let t = Trace {
                checks: vec![CheckRun {
                    status: CheckStatus::Failed,
                    matrix: Some(CheckMatrix {
                        columns: vec!["x".into(), column.to_string()],
                        rows: vec![CheckMatrixRow {
                            request: "GET https://api.example/v1/things".into(),
                            cells: vec![None, cell(*status, *got, *expect)],
                        }],
                    }),
                    ..crate::trace::CheckRun::not_run(CheckName::Authz, "")
                }],
                ..Trace::default()
            };
            let f = rules(&t);
            match want {
                Some(w) => {
                    assert_eq!(f.len(), 1, "{column}");
                    assert_eq!(f[0].id, FindingId::AuthzMismatch);
                    assert!(
                        f[0].explanation.contains(w),
                        "{column}: {}",
                        f[0].explanation
                    );
                    assert!(
                        f[0].title.contains(&format!("with {column}: ")),
                        "{}",
                        f[0].title
                    );
                }
                None => assert!(f.is_empty(), "{column}: {f:?}"),
            }
        }
    }

    /// Cookies as frameworks other than the presets name them: the role comes from the name's
    /// words, and a double-submit CSRF cookie is not asked to be HttpOnly.
    #[test]
    fn the_profile_reads_cookies_by_their_role_whatever_their_framework() {
        // (name, HttpOnly, the attributes named, or none for a cookie outside the profile, set
        // before the callback)
        let cases: &[(&str, bool, Option<&str>)] = &[
            (
                "sessionid",
                true,
                Some(
                    "the session cookie `sessionid` lacks: the __Host- prefix (__Host-sessionid); Secure",
                ),
            ),
            (
                "csrftoken",
                false,
                Some(
                    "the CSRF cookie `csrftoken` lacks: the __Host- prefix (__Host-csrftoken); Secure",
                ),
            ),
            (
                "XSRF-TOKEN",
                false,
                Some(
                    "the CSRF cookie `XSRF-TOKEN` lacks: the __Host- prefix (__Host-XSRF-TOKEN); Secure",
                ),
            ),
            (
                "refresh_token",
                false,
                Some(
                    "the refresh cookie `refresh_token` lacks: the __Host- prefix (__Host-refresh_token); Secure; HttpOnly; SameSite=Strict",
                ),
            ),
            ("theme", false, None),
        ];
        for (name, http_only, want) in cases {
            let mut h = Hop::plain(1, "http://app.test/callback", 302);
            h.set_cookies = vec![SetCookie {
                http_only: *http_only,
                same_site: Some(SameSite::Lax),
                ..SetCookie::plain(name)
            }];
            let t = Trace {
                chain: ChainInfo {
                    app: "http://app.test".into(),
                    // A cookie set elsewhere than at the callback is no session by position.
                    callback_hop: want.is_some().then_some(HopNo(1)),
                    ..Default::default()
                },
                hops: vec![h],
                ..Trace::default()
            };
            let titles: Vec<String> = cookie_policy(&t).into_iter().map(|f| f.title).collect();
            match want {
                Some(w) => assert_eq!(titles, vec![w.replacen("the", "The", 1)], "{name}"),
                None => assert!(titles.is_empty(), "{name}: {titles:?}"),
            }
        }
    }
}
