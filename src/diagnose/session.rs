//! Rules on the session probes: no session after a clean login, and probes that failed.

use super::finding;
use crate::trace::{Ended, Evidence, Finding, FindingId, Probe, Severity, Trace};

pub fn rules(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    // A login that failed where it came back to the app explains every probe that follows.
    if super::callback::failed_return(t).is_some() {
        return out;
    }
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
}
