//! Rules on the session probes: no session after a clean login, and probes that failed.

use super::finding;
use crate::trace::{CauseKey, Ended, Evidence, Finding, FindingId, Probe, Severity, Trace};

pub fn rules(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    // A login that failed where it came back to the app explains every probe that follows.
    if super::callback::failed_return(t).is_some() {
        return out;
    }
    identity(t, &mut out);
    let clean_landing =
        matches!(t.ended, Ended::Landed { .. }) && !t.hops.iter().any(|h| h.error_code.is_some());
    // A probe whose failure the matrix explains is judged by the guard rules.
    let judged = |p: &Probe| super::guard::explains(t, p);
    // A 431 is the request's headers refused for their size: `cookie-too-large` names it.
    for p in t
        .probes
        .iter()
        .filter(|p| !p.passed && !judged(p) && p.status != 431)
    {
        let evidence = vec![Evidence::Probe {
            probe: p.name.clone(),
        }];
        if p.native && clean_landing && p.body_shape == crate::trace::BodyShape::JsonNull {
            let cookies: Vec<&str> = p.cookie_sent.iter().map(|c| c.name.as_str()).collect();
            let mut evidence = evidence;
            evidence.push(Evidence::note(if cookies.is_empty() {
                "the probe sent no cookie".into()
            } else {
                format!("the probe sent: {}", cookies.join(", "))
            }));
            out.push(finding(
                FindingId::NoSessionAfterLogin,
                Severity::Error,
                "The login ended without an error, but the auth library reports no session",
                evidence,
                "The chain came back to the app with no error code, yet the library's own session \
                 endpoint answers 200 with `null`: no session cookie was set at the callback, it \
                 was refused or not sent to the session endpoint (Domain, Path, Secure), or the \
                 session was created in another instance or database than the one answering.",
                "Check the callback hop's Set-Cookie headers and the cookies the probe sent.",
            ));
        } else {
            out.push(finding(
                FindingId::ProbeFailed,
                Severity::Error,
                format!(
                    "Probe `{}` failed: {}",
                    p.name,
                    p.reason.clone().unwrap_or_default()
                ),
                evidence,
                "The endpoint did not answer as the scenario expects after the login.",
                "Compare this probe with the native session probe; the evidence shows its status \
                 and body.",
            ));
        }
    }
    out
}

/// A session that works but does not say who is signed in: the native session answer's user
/// has no email and no name (`session-without-identity`), or no email
/// (`missing-email-claim`). The causes are ranked by the scopes the authorization request
/// asked for.
fn identity(t: &Trace, out: &mut Vec<Finding>) {
    let Some((p, who)) = t
        .probes
        .iter()
        .filter(|p| p.native && p.passed)
        .find_map(|p| Some((p, p.answer.as_ref()?.identity?)))
    else {
        return;
    };
    // An email says who the user is; a name alone does not.
    if who.email {
        return;
    }
    let words = crate::preset::words(t.chain.preset.as_deref());
    let scopes = asked_scopes(t);
    let asked = |s: &str| {
        scopes
            .as_ref()
            .is_some_and(|all| all.iter().any(|x| x == s))
    };
    let mut evidence = vec![Evidence::Probe {
        probe: p.name.clone(),
    }];
    if let Some(all) = &scopes {
        evidence.push(Evidence::note(format!(
            "the authorization request asked for scope `{}`",
            all.join(" ")
        )));
    }
    let (id, severity, title, keys) = if !who.email && !who.name {
        let keys = if asked("email") && asked("profile") {
            vec![CauseKey::ClaimsOnlyInUserinfo]
        } else {
            vec![CauseKey::ScopeNotGranted, CauseKey::ClaimsOnlyInUserinfo]
        };
        (
            FindingId::SessionWithoutIdentity,
            Severity::Error,
            format!(
                "The login worked, but the session's user has no email and no name (probe `{}`)",
                p.name
            ),
            keys,
        )
    } else {
        let keys = if asked("email") {
            vec![CauseKey::NoEmailAtIdp, CauseKey::ClaimsOnlyInUserinfo]
        } else {
            vec![CauseKey::ScopeNotGranted, CauseKey::NoEmailAtIdp]
        };
        (
            FindingId::MissingEmailClaim,
            Severity::Warning,
            format!(
                "The login worked, but the session's user has no email (probe `{}`)",
                p.name
            ),
            keys,
        )
    };
    let causes: Vec<_> = keys.iter().map(|k| super::cause(*k, words, "")).collect();
    let because = causes
        .iter()
        .map(|c| super::sentence(&c.text))
        .collect::<Vec<_>>()
        .join(" Or: ");
    let fix = match keys[0] {
        CauseKey::ClaimsOnlyInUserinfo => format!(
            "Have the auth library read the userinfo endpoint ({}), or have the IdP put email \
             and name in the ID token.",
            words.claims_source
        ),
        CauseKey::ScopeNotGranted => "Ask for the `openid email profile` scopes and allow them \
             for this client at the IdP."
            .to_string(),
        _ => "Give the user an email address at the IdP, and map the email claim for this \
              client."
            .to_string(),
    };
    let mut f = finding(
        id,
        severity,
        title,
        evidence,
        format!(
            "The auth library's session answer names a user without the claims that say who \
             they are, so the app cannot show, address or match them. {because}"
        ),
        fix,
    );
    f.causes = causes;
    out.push(f);
}

/// The scopes the app's authorization request asked for; `None` when the chain shows none.
pub(crate) fn asked_scopes(t: &Trace) -> Option<Vec<String>> {
    let authorize = crate::web::authorization_request(t.hops.iter().map(|h| &h.url))?;
    Some(
        crate::web::param(&authorize, "scope")
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{BodyShape, HopNo};

    fn native(shape: BodyShape) -> Probe {
        Probe {
            native: true,
            body_shape: shape,
            body_excerpt: "null".into(),
            passed: false,
            reason: Some("the body is JSON null: no session".into()),
            ..Probe::plain("native", "http://app/api/auth/get-session", 200)
        }
    }

    #[test]
    fn null_after_a_clean_login_is_no_session() {
        let mut t = Trace {
            ended: Ended::Landed { hop: HopNo(9) },
            ..Trace::default()
        };
        t.probes.push(native(BodyShape::JsonNull));
        let f = rules(&t);
        assert_eq!(f[0].id, "no-session-after-login");
        assert!(
            super::super::evidence_text(&t, &f[0])
                .iter()
                .any(|e| e == "the probe sent no cookie")
        );
        // Without a login (authchain probe), the same answer is just a failed probe.
        t.ended = Ended::ProbeOnly;
        assert_eq!(rules(&t)[0].id, "probe-failed");
    }

    #[test]
    fn a_session_without_identity_is_named_by_the_scopes_asked() {
        use crate::trace::{AnswerDigest, Hop, Identity};
        let trace = |email: bool, name: bool, scope: &str| {
            let mut t = Trace {
                ended: Ended::Landed { hop: HopNo(3) },
                ..Trace::default()
            };
            t.hops.push(Hop::plain(
                1,
                &format!(
                    "http://idp/auth?client_id=c&response_type=code&redirect_uri=http%3A%2F%2Fapp%2Fcb&scope={scope}"
                ),
                302,
            ));
            let mut p = Probe {
                native: true,
                ..Probe::plain("native", "http://app/api/auth/session", 200)
            };
            p.answer = Some(AnswerDigest {
                status: 200,
                content_type: Some("application/json".into()),
                skeleton: String::new(),
                enums: Vec::new(),
                www_authenticate: None,
                clears_cookie: false,
                identity: Some(Identity { email, name }),
            });
            t.probes.push(p);
            t
        };
        // (email, name, scope asked, finding, causes)
        type Case<'a> = (bool, bool, &'a str, Option<&'a str>, &'a [CauseKey]);
        let cases: &[Case] = &[
            (true, true, "openid+email+profile", None, &[]),
            (true, false, "openid+email+profile", None, &[]),
            (
                false,
                false,
                "openid+email+profile",
                Some("session-without-identity"),
                &[CauseKey::ClaimsOnlyInUserinfo],
            ),
            (
                false,
                false,
                "openid",
                Some("session-without-identity"),
                &[CauseKey::ScopeNotGranted, CauseKey::ClaimsOnlyInUserinfo],
            ),
            (
                false,
                true,
                "openid+email+profile",
                Some("missing-email-claim"),
                &[CauseKey::NoEmailAtIdp, CauseKey::ClaimsOnlyInUserinfo],
            ),
            (
                false,
                true,
                "openid+profile",
                Some("missing-email-claim"),
                &[CauseKey::ScopeNotGranted, CauseKey::NoEmailAtIdp],
            ),
        ];
        for (email, name, scope, id, keys) in cases {
            let f = rules(&trace(*email, *name, scope));
            assert_eq!(
                f.first().map(|f| f.id.as_str()),
                *id,
                "{email} {name} {scope}"
            );
            if let Some(f) = f.first() {
                let got: Vec<CauseKey> = f.causes.iter().map(|c| c.key).collect();
                assert_eq!(&got, keys, "{email} {name} {scope}");
            }
        }
    }
}
