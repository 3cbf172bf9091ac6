//! Rules on the differential matrix: why a guarded endpoint rejects a session the auth library's
//! own endpoint accepts — it does not see the cookie, it validates it another way, or it wants
//! the session in another transport or under another name.

use super::finding;
use crate::trace::{Evidence, Finding, FindingId, Probe, Severity, Trace, Variant};

pub fn rules(t: &Trace) -> Vec<Finding> {
    t.probes
        .iter()
        .filter(|p| !p.native)
        .filter_map(|p| judge(t, p))
        .collect()
}

/// Whether the matrix names the cause of this probe's failure (then no plain `probe-failed`).
pub(crate) fn explains(t: &Trace, p: &Probe) -> bool {
    !p.native && judge(t, p).is_some()
}

fn judge(t: &Trace, p: &Probe) -> Option<Finding> {
    let reference = p.compare_to.as_deref()?;
    let row = |name: &str, f: &dyn Fn(&Variant) -> bool| {
        t.matrix.iter().find(|r| r.probe == name && f(&r.variant))
    };
    let with = row(&p.name, &|v| matches!(v, Variant::RecordedCookie { .. }))?;
    // The comparison means something only when the reference accepts the session and the
    // compared endpoint rejects it, also on the replay.
    let reference_accepts =
        row(reference, &|v| matches!(v, Variant::RecordedCookie { .. })).is_some_and(|r| r.passed);
    if with.passed || !reference_accepts {
        return None;
    }
    let none = row(&p.name, &|v| *v == Variant::NoCookie)?;
    let garbage = row(&p.name, &|v| matches!(v, Variant::Garbage { .. }))?;
    let cookie_name = match &with.variant {
        Variant::RecordedCookie { name } => name.clone(),
        _ => String::new(),
    };
    let name_success = t.matrix.iter().find_map(|r| match &r.variant {
        Variant::CookieName { name } if r.probe == p.name && r.passed => Some(name.clone()),
        _ => None,
    });
    let bearer_success = t
        .matrix
        .iter()
        .find(|r| {
            r.probe == p.name
                && r.passed
                && matches!(r.variant, Variant::BearerSigned | Variant::BearerRaw)
        })
        .map(|r| r.variant.describe());
    let native_ignores_bearer = t
        .matrix
        .iter()
        .filter(|r| {
            r.probe == reference && matches!(r.variant, Variant::BearerSigned | Variant::BearerRaw)
        })
        .all(|r| !r.passed);
    let evidence = vec![Evidence::Matrix {
        probe: p.name.clone(),
        reference: reference.to_string(),
    }];
    let words = crate::preset::words(t.chain.preset.as_deref());

    if with.alike(none) {
        return Some(match (name_success, bearer_success) {
            (Some(wanted), _) => finding(
                FindingId::GuardMissesCookie,
                Severity::Error,
                format!(
                    "`{}` looks for the session cookie under another name: `{wanted}`, not `{cookie_name}`",
                    p.name
                ),
                evidence,
                format!(
                    "With the recorded cookie `{cookie_name}` the guarded endpoint answers exactly as with no \
                     cookie at all, and the same value under the name `{wanted}` is accepted. The guard was \
                     set up with another cookie name than the auth library that set it: another cookie \
                     prefix, secure cookies on in one and off in the other ({}), or another {}.",
                    words.prefix_follows, words.base_url
                ),
                format!(
                    "Give the guard the same auth configuration ({}) as the handler that sets \
                     `{cookie_name}`, or better, call the same auth instance.",
                    words.cookie_name_settings
                ),
            ),
            (None, Some(transport)) => finding(
                FindingId::GuardWantsOtherTransport,
                Severity::Error,
                format!(
                    "`{}` ignores the session cookie and accepts the session as {transport}",
                    p.name
                ),
                evidence,
                format!(
                    "With the recorded cookie `{cookie_name}` the guarded endpoint answers exactly as with no \
                     cookie at all, but it accepts the same session sent as an Authorization header. It \
                     reads only `Authorization` (an API-client guard), while the browser sends the cookie."
                ),
                format!(
                    "Let the guard read the session cookie too (pass the request's Cookie header to the \
                     auth library), or make the client send `Authorization: Bearer` ({}).",
                    words.bearer_client
                ),
            ),
            (None, None) => finding(
                FindingId::GuardMissesCookie,
                Severity::Error,
                format!("`{}` answers as if no session cookie came", p.name),
                evidence,
                format!(
                    "With the recorded cookie `{cookie_name}` the guarded endpoint answers exactly as with no \
                     cookie, and no other name or transport works either. The cookie does not reach the \
                     code that checks it: a proxy or gateway drops the Cookie header, the guard reads \
                     another header, or it looks under a name not tried here."
                ),
                "Log the Cookie header the guard receives; check proxies between the browser and the guard.",
            ),
        });
    }
    if let Some(transport) = bearer_success.or(name_success) {
        return Some(finding(
            FindingId::GuardWantsOtherTransport,
            Severity::Error,
            format!(
                "`{}` rejects the cookie but accepts the session as {transport}",
                p.name
            ),
            evidence,
            "The guarded endpoint rejects the recorded cookie, yet accepts the same session carried \
             another way.",
            "Make the guard and the client agree on one transport for the session.",
        ));
    }
    // Unlike no cookie but also unlike garbage (a 403, say): the guard accepts the session and
    // refuses for another reason; the plain probe failure says so.
    if !with.alike(garbage) {
        return None;
    }
    let mut causes = Vec::new();
    let bearer_cause = format!(
        "it re-validates the token as `Authorization: Bearer`, which the auth library ignores ({}): \
         the native endpoint here does not accept Bearer either",
        words.bearer_note
    );
    let secret_cause = format!(
        "it validates with another secret or instance: a second auth instance built with another \
         {}, or another deployment's session store or database",
        words.secret
    );
    if native_ignores_bearer {
        causes.push(bearer_cause);
        causes.push(secret_cause);
    } else {
        causes.push(secret_cause);
        causes.push(bearer_cause);
    }
    let ranked: Vec<String> = causes
        .iter()
        .enumerate()
        .map(|(i, c)| format!("({}) {c}", i + 1))
        .collect();
    Some(finding(
        FindingId::GuardValidatesDifferently,
        Severity::Error,
        format!(
            "`{}` finds the session cookie but rejects a session that `{reference}` accepts",
            p.name
        ),
        evidence,
        format!(
            "The native endpoint accepts the recorded cookie `{cookie_name}`; the guarded endpoint answers \
             it exactly as it answers a garbage value, and unlike no cookie at all — it sees the cookie \
             but does not validate it as the auth library does. Most likely first: {}.",
            ranked.join("; ")
        ),
        if native_ignores_bearer {
            format!(
                "Validate the session in the guard the way the auth library does: {} (or {}); and \
                 check that the guard shares the auth secret and database.",
                words.validate_session, words.bearer_on
            )
        } else {
            "Check that the guard uses the same auth secret, instance and database as the auth handler."
                .to_string()
        },
    ))
}
