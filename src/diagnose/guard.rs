//! Rules on the differential matrix: why a guarded endpoint rejects a session the auth library's
//! own endpoint accepts. The verdict comes from how the guard's answers compare (alike or not,
//! on their digests: docs/findings.md), never from what they say; what they say only ranks the
//! causes when the comparison cannot tell them apart.
//!
//! With the recorded cookie R, no cookie N and a garbage value G under the same name:
//! - a variant that succeeds decides first (another name, Bearer);
//! - R unlike N and unlike G: the guard knows the session and refuses it (`guard-refuses-user`)
//!   where the structure shows it (a status or a challenge of R's own, the user in the body);
//!   where only the words differ, in one status, it sees the cookie and fails on it or refuses
//!   the user, the first ranked first (`guard-validates-differently`);
//! - R like G, unlike N: it sees the cookie and rejects it (`guard-validates-differently`);
//! - R like N, unlike G: it does not see this cookie (`guard-misses-cookie`);
//! - R like N and like G: nothing from outside tells these apart (`guard-rejects-session`),
//!   and the causes are ranked by the rest of the chain.

use super::finding;
use crate::trace::{
    Cause, CauseKey, Evidence, Finding, FindingId, MatrixRow, Probe, Severity, Trace, Variant,
};

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

/// Two answers are alike when their digests agree. A report written before digests were kept
/// is compared on status, body shape and the redacted excerpt with its volatile words blanked.
pub fn alike(a: &MatrixRow, b: &MatrixRow) -> bool {
    alike_as(a, b, false)
}

/// The same, leaving out whether the answers clear a cookie when `ignore_clears`: where the
/// whole app clears a bad session cookie (a session middleware in front of every route), the
/// clearing tells of the middleware, not of the guard.
fn alike_as(a: &MatrixRow, b: &MatrixRow, ignore_clears: bool) -> bool {
    match (&a.answer, &b.answer) {
        (Some(x), Some(y)) if ignore_clears => {
            let mut y = y.clone();
            y.clears_cookie = x.clears_cookie;
            *x == y
        }
        (Some(x), Some(y)) => x == y,
        _ => {
            a.status == b.status
                && a.body_shape == b.body_shape
                && crate::probe::answer::blank(&a.body_excerpt, &[])
                    == crate::probe::answer::blank(&b.body_excerpt, &[])
        }
    }
}

/// What an answer says, as far as a guard's words tell: that no credential came, or that one
/// came and was bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Says {
    Missing,
    Invalid,
    Nothing,
}

const MISSING_WORDS: &[&str] = &[
    "missing",
    "no token",
    "no session",
    "not provided",
    "required",
    "absent",
    "not logged in",
    "not authenticated",
    "unauthenticated",
    "no credentials",
];
const INVALID_WORDS: &[&str] = &[
    "invalid",
    "expired",
    "signature",
    "malformed",
    "revoked",
    "not valid",
    "verif",
    "decode",
    "tampered",
];

/// The words of an answer that say what it saw, and what they add up to.
fn says(row: &MatrixRow) -> (Says, Vec<&'static str>) {
    let text = match &row.answer {
        Some(a) => format!(
            "{} {} {}",
            a.skeleton,
            a.enums.join(" "),
            a.www_authenticate.as_deref().unwrap_or_default()
        ),
        None => row.body_excerpt.clone(),
    }
    .to_lowercase()
    .replace('_', " ");
    let found = |words: &[&'static str]| -> Vec<&'static str> {
        words.iter().copied().filter(|w| text.contains(w)).collect()
    };
    let (missing, invalid) = (found(MISSING_WORDS), found(INVALID_WORDS));
    match (missing.is_empty(), invalid.is_empty()) {
        (false, true) => (Says::Missing, missing),
        (true, false) => (Says::Invalid, invalid),
        (false, false) => (Says::Nothing, [missing, invalid].concat()),
        (true, true) => (Says::Nothing, Vec::new()),
    }
}

/// Whether the answer challenges for an Authorization header (`WWW-Authenticate: Bearer`).
fn challenges_bearer(row: &MatrixRow) -> bool {
    row.answer
        .as_ref()
        .and_then(|a| a.www_authenticate.as_deref())
        .is_some_and(|c| c.starts_with("bearer"))
}

/// What the matrix holds for one compared probe.
struct Matrix<'a> {
    with: &'a MatrixRow,
    none: &'a MatrixRow,
    garbage: &'a MatrixRow,
    cookie: String,
    /// A cookie name under which the same value is accepted.
    name_success: Option<String>,
    /// A session in chunks is accepted whole as one cookie (under this name).
    one_chunk_success: Option<String>,
    /// A Bearer variant that is accepted.
    bearer_success: Option<String>,
    /// The native endpoint accepts no Bearer variant.
    native_ignores_bearer: bool,
}

fn matrix<'a>(t: &'a Trace, p: &Probe, reference: &str) -> Option<Matrix<'a>> {
    let row = |name: &str, f: &dyn Fn(&Variant) -> bool| {
        t.matrix.iter().find(|r| r.probe == name && f(&r.variant))
    };
    let with = row(&p.name, &|v| matches!(v, Variant::RecordedCookie { .. }))?;
    // An answer lets a variant through only where it is unlike the same endpoint's answer to no
    // cookie at all: a route that answers everyone 200 (`{"user":null}`) lets nobody through.
    let through = |r: &MatrixRow| {
        r.passed
            && row(&r.probe, &|v| *v == Variant::NoCookie)
                .is_none_or(|none| !alike_as(r, none, false))
    };
    // The comparison means something only when the reference accepts the session and the
    // compared endpoint rejects it, also on the replay.
    let reference_accepts =
        row(reference, &|v| matches!(v, Variant::RecordedCookie { .. })).is_some_and(through);
    if with.passed || !reference_accepts {
        return None;
    }
    let bearer = |v: &Variant| matches!(v, Variant::BearerSigned | Variant::BearerRaw);
    Some(Matrix {
        with,
        none: row(&p.name, &|v| *v == Variant::NoCookie)?,
        garbage: row(&p.name, &|v| matches!(v, Variant::Garbage { .. }))?,
        cookie: match &with.variant {
            Variant::RecordedCookie { name } => name.clone(),
            _ => String::new(),
        },
        name_success: t.matrix.iter().find_map(|r| match &r.variant {
            Variant::CookieName { name } if r.probe == p.name && through(r) => Some(name.clone()),
            _ => None,
        }),
        one_chunk_success: t.matrix.iter().find_map(|r| match &r.variant {
            Variant::OneChunk { name } if r.probe == p.name && through(r) => Some(name.clone()),
            _ => None,
        }),
        bearer_success: t
            .matrix
            .iter()
            .find(|r| r.probe == p.name && bearer(&r.variant) && through(r))
            .map(|r| r.variant.describe()),
        native_ignores_bearer: t
            .matrix
            .iter()
            .filter(|r| r.probe == reference && bearer(&r.variant))
            .all(|r| !through(r)),
    })
}

fn judge(t: &Trace, p: &Probe) -> Option<Finding> {
    let reference = p.compare_to.as_deref()?;
    let Some(m) = matrix(t, p, reference) else {
        return offline(t, p, reference);
    };
    let words = crate::preset::words(t.chain.preset.as_deref());
    let cookie = m.cookie.as_str();
    let causes = |keys: &[CauseKey]| -> Vec<Cause> {
        keys.iter()
            .map(|k| super::cause(*k, words, cookie))
            .collect()
    };
    let mut evidence = vec![Evidence::Matrix {
        probe: p.name.clone(),
        reference: reference.to_string(),
    }];
    // Does the reference endpoint clear the garbage cookie too? Then something in front of both
    // does, and that says nothing of the guard.
    let clears = |r: Option<&MatrixRow>| {
        r.and_then(|r| r.answer.as_ref())
            .is_some_and(|a| a.clears_cookie)
    };
    let row_of = |f: &dyn Fn(&Variant) -> bool| {
        t.matrix
            .iter()
            .find(|r| r.probe == reference && f(&r.variant))
    };
    let app_clears = clears(row_of(&|v| matches!(v, Variant::Garbage { .. })))
        && !clears(row_of(&|v| matches!(v, Variant::RecordedCookie { .. })));
    let like_none = alike_as(m.with, m.none, app_clears);
    let like_garbage = alike_as(m.with, m.garbage, app_clears);
    let (with_says, with_words) = says(m.with);
    if !with_words.is_empty() {
        evidence.push(Evidence::note(format!(
            "the guard's answer to the recorded cookie says: {}",
            with_words.join(", ")
        )));
    }
    let name = &p.name;

    // A variant that succeeds decides first: the whole session as one cookie, then another name.
    if let Some(whole) = &m.one_chunk_success {
        let mut f = finding(
            FindingId::GuardMissesCookie,
            Severity::Error,
            format!(
                "`{name}` reads the session as one cookie `{whole}`, not in the chunks it came in"
            ),
            evidence,
            format!(
                "The session was too large for one cookie and the auth library split it into \
                 chunks (`{whole}.0`, `{whole}.1`, …). The guarded endpoint rejects the chunks \
                 as they were sent, and accepts the same session whole as one cookie `{whole}`: \
                 it reads one cookie where the library writes several."
            ),
            format!(
                "Let the guard read the session through the auth library itself ({}), which \
                 joins the chunks; or keep the session small enough for one cookie.",
                words.validate_session
            ),
        );
        f.causes = causes(&[CauseKey::ReadsOneChunk]);
        return Some(f);
    }
    if let Some(wanted) = &m.name_success {
        let mut f = finding(
            FindingId::GuardMissesCookie,
            Severity::Error,
            format!(
                "`{name}` looks for the session cookie under another name: `{wanted}`, not `{cookie}`"
            ),
            evidence,
            format!(
                "The guarded endpoint rejects the recorded cookie `{cookie}`, and accepts the same \
                 value under the name `{wanted}`. The guard was set up with another cookie name \
                 than the auth library that set it: another cookie prefix, secure cookies on in \
                 one and off in the other ({}), or another {}.",
                words.prefix_follows, words.base_url
            ),
            format!(
                "Give the guard the same auth configuration ({}) as the handler that sets \
                 `{cookie}`, or better, call the same auth instance.",
                words.cookie_name_settings
            ),
        );
        f.causes = causes(&[CauseKey::OtherCookieName]);
        return Some(f);
    }
    if let Some(transport) = &m.bearer_success {
        let (title, seen) = if like_none {
            (
                format!(
                    "`{name}` ignores the session cookie and accepts the session as {transport}"
                ),
                "answers exactly as with no cookie at all",
            )
        } else {
            (
                format!(
                    "`{name}` rejects the session cookie but accepts the session as {transport}"
                ),
                "rejects it",
            )
        };
        let mut f = finding(
            FindingId::GuardWantsOtherTransport,
            Severity::Error,
            title,
            evidence,
            format!(
                "With the recorded cookie `{cookie}` the guarded endpoint {seen}, but it accepts \
                 the same session sent as an Authorization header. It reads the session from \
                 `Authorization` (an API-client guard), while the browser sends the cookie."
            ),
            format!(
                "Let the guard read the session cookie too (pass the request's Cookie header to \
                 the auth library), or make the client send `Authorization: Bearer` ({}).",
                words.bearer_client
            ),
        );
        f.causes = causes(&[CauseKey::WantsAuthorizationHeader]);
        return Some(f);
    }

    let bearer_then_secret = if m.native_ignores_bearer {
        [
            CauseKey::BearerRevalidation,
            CauseKey::OtherSecretOrInstance,
        ]
    } else {
        [
            CauseKey::OtherSecretOrInstance,
            CauseKey::BearerRevalidation,
        ]
    };
    let validate_fix = if m.native_ignores_bearer {
        format!(
            "Validate the session in the guard the way the auth library does: {} (or {}); and \
             check that the guard shares the auth secret and database.",
            words.validate_session, words.bearer_on
        )
    } else {
        "Check that the guard uses the same auth secret, instance and database as the auth handler."
            .to_string()
    };
    let status = m.with.status;

    // Known and refused shows in the answer's structure: a status of its own (403 where no
    // cookie and garbage get 401), a challenge of its own, or the user in the body. Words alone
    // do not tell it: a guard that validates with another secret says `invalid signature` to
    // the session and `jwt malformed` to garbage, in the same 401.
    let challenge = |r: &MatrixRow| r.answer.as_ref().and_then(|a| a.www_authenticate.clone());
    // A guard that answers garbage exactly as no cookie takes a bad credential for none (DRF's
    // session authentication): an answer of its own to the session is the session known.
    let knows_user = alike_as(m.none, m.garbage, app_clears)
        || m.with.status != m.none.status && m.with.status != m.garbage.status
        || m.with.answer.as_ref().is_some_and(|a| a.identity.is_some())
        || (challenge(m.none).is_some()
            && challenge(m.with) != challenge(m.none)
            && challenge(m.with) != challenge(m.garbage));
    if !like_none && !like_garbage && status < 500 && !knows_user {
        let mut keys = bearer_then_secret.to_vec();
        keys.push(CauseKey::RefusesUser);
        let mut f = finding(
            FindingId::GuardValidatesDifferently,
            Severity::Error,
            format!(
                "`{name}` sees the session cookie and refuses it ({status}), in other words than garbage"
            ),
            evidence,
            format!(
                "The native endpoint accepts the recorded cookie `{cookie}`; the guarded endpoint \
                 answers it ({status}) unlike no cookie and unlike a garbage value, but with no \
                 status or challenge of its own and no user in the body: only its words differ. \
                 It sees the cookie, and judges it otherwise than garbage. That is a guard that validates the session its own way and fails (a \
                 bad signature is not a malformed value), or one that accepts it and refuses \
                 this user without a status of its own; the answers' structure cannot tell \
                 which, so the first is ranked first."
            ),
            format!(
                "{validate_fix} If the guard's log shows the user was found, check the user's \
                 roles or permissions instead."
            ),
        );
        f.causes = causes(&keys);
        return Some(f);
    }
    if !like_none && !like_garbage && status < 500 {
        let mut f = finding(
            FindingId::GuardRefusesUser,
            Severity::Error,
            format!("`{name}` recognises the session and refuses it ({status})"),
            evidence,
            format!(
                "The guarded endpoint answers the recorded cookie `{cookie}` unlike no cookie and \
                 unlike a garbage value: it found and accepted the session, then refused this user \
                 (a role, a permission, a tenant). The login itself worked."
            ),
            "Check the user's roles or permissions against what the guard requires, or the \
             guard's authorisation rule.",
        );
        f.causes = causes(&[CauseKey::RefusesUser]);
        return Some(f);
    }
    if !like_none && !like_garbage {
        let mut f = finding(
            FindingId::GuardRejectsSession,
            Severity::Error,
            format!("`{name}` fails with {status} on a session that `{reference}` accepts"),
            evidence,
            format!(
                "The guarded endpoint answers the recorded cookie `{cookie}` with a server error, \
                 unlike no cookie and unlike a garbage value: it reads the session and fails on \
                 it, most often because it looks the session up where it does not exist."
            ),
            "Read the guard's log for this request's error.",
        );
        f.causes = causes(&bearer_then_secret);
        return Some(f);
    }
    if like_none && !like_garbage {
        let mut f = finding(
            FindingId::GuardMissesCookie,
            Severity::Error,
            format!("`{name}` answers as if no session cookie came"),
            evidence,
            format!(
                "With the recorded cookie `{cookie}` the guarded endpoint answers exactly as with \
                 no cookie, yet it answers a garbage value under the same name otherwise, and no \
                 other name or transport works: the session it was sent does not reach the code \
                 that checks it."
            ),
            "Log the Cookie header the guard receives; check proxies between the browser and \
             the guard, and the name the guard reads.",
        );
        f.causes = causes(&[CauseKey::CookieNotReachingGuard, CauseKey::OtherCookieName]);
        return Some(f);
    }
    if !like_none && like_garbage {
        let mut f = finding(
            FindingId::GuardValidatesDifferently,
            Severity::Error,
            format!(
                "`{name}` finds the session cookie but rejects a session that `{reference}` accepts"
            ),
            evidence,
            format!(
                "The native endpoint accepts the recorded cookie `{cookie}`; the guarded endpoint \
                 answers it exactly as it answers a garbage value, and unlike no cookie at all: it \
                 sees the cookie but does not validate it as the auth library does."
            ),
            validate_fix,
        );
        f.causes = causes(&bearer_then_secret);
        return Some(f);
    }

    // Alike throughout: from outside, a guard that never sees the cookie and one that rejects
    // it answer the same. Rank the causes by the rest of the chain.
    let mut keys: Vec<CauseKey> = bearer_then_secret.to_vec();
    keys.push(CauseKey::CookieNotReachingGuard);
    let mut why = Vec::new();
    if m.native_ignores_bearer {
        why.push("the native endpoint ignores Bearer, so a guard that re-validates as Bearer fails this way");
    }
    if with_says == Says::Missing {
        keys.retain(|k| *k != CauseKey::CookieNotReachingGuard);
        keys.insert(0, CauseKey::CookieNotReachingGuard);
        why.push("its answer says no credential came");
    } else if with_says == Says::Invalid {
        why.push("its answer says a credential came and was bad");
    }
    if [m.with, m.none, m.garbage]
        .iter()
        .all(|r| challenges_bearer(r))
    {
        keys.insert(0, CauseKey::WantsAuthorizationHeader);
        why.push("it challenges for a Bearer token whatever the cookie says");
    }
    let ranked_by = if why.is_empty() {
        String::new()
    } else {
        format!(" Ranked so because {}.", why.join("; "))
    };
    let mut f = finding(
        FindingId::GuardRejectsSession,
        Severity::Error,
        format!(
            "`{name}` rejects a session that `{reference}` accepts, and answers it exactly as no cookie and as garbage"
        ),
        evidence,
        format!(
            "The native endpoint accepts the recorded cookie `{cookie}`; the guarded endpoint \
             answers it exactly as it answers no cookie and a garbage value, so from outside it \
             cannot be told whether the guard never sees the cookie or sees it and rejects it.{ranked_by} \
             One observation splits them: the Cookie and Authorization headers the guard \
             receives for this request (or the auth library's log line for it). A guard that \
             receives the cookie and still refuses validates differently; one that does not \
             receive it sits behind something that drops it."
        ),
        format!(
            "Log the Cookie and Authorization headers at the guard for one request. If the \
             cookie arrives: {} If it does not: check the proxies and the name the guard reads.",
            validate_fix
        ),
    );
    f.causes = causes(&keys);
    Some(f)
}

/// A recorded chain (a HAR) holds no replays: where the guard refused what the reference
/// accepted, the most it says is that it did, with every cause still open.
fn offline(t: &Trace, p: &Probe, reference: &str) -> Option<Finding> {
    t.recorded.as_ref()?;
    let r = t.probes.iter().find(|q| q.name == reference)?;
    if p.passed || !r.passed {
        return None;
    }
    let words = crate::preset::words(t.chain.preset.as_deref());
    let cookie = t
        .chain
        .session_cookie
        .as_ref()
        .map(|s| s.name.clone())
        .or_else(|| p.cookie_sent.first().map(|c| c.name.clone()))
        .unwrap_or_else(|| "the session cookie".into());
    let mut f = finding(
        FindingId::GuardRejectsSession,
        Severity::Error,
        format!("`{}` rejects a session that `{reference}` accepts", p.name),
        vec![
            Evidence::Probe {
                probe: reference.to_string(),
            },
            Evidence::Probe {
                probe: p.name.clone(),
            },
        ],
        format!(
            "In the recording the native endpoint accepted the session the browser held and the \
             guarded endpoint refused it. Offline nothing is replayed (no cookie, a garbage value, \
             Bearer, other names), so the recording cannot tell a guard that never sees `{cookie}` \
             from one that sees it and validates it otherwise."
        ),
        format!(
            "Run `authchain probe --cookie NAME=VALUE --native {} --probe {}` with the session's \
             cookie (or a live `authchain login`): its matrix names the cause. Or log the Cookie \
             and Authorization headers the guard receives for one request.",
            r.url, p.url
        ),
    );
    f.causes = [
        CauseKey::BearerRevalidation,
        CauseKey::OtherSecretOrInstance,
        CauseKey::CookieNotReachingGuard,
    ]
    .iter()
    .map(|k| super::cause(*k, words, &cookie))
    .collect();
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{AnswerDigest, BodyShape, ChainInfo};

    /// A guard answer: status, body words (as the digest's enums), challenge, clears a cookie.
    #[derive(Clone, Copy)]
    struct A(u16, &'static str, Option<&'static str>, bool);

    const OK: A = A(200, "user", None, false);
    const NEST: A = A(401, "message=Unauthorized", None, false);
    const MISSING: A = A(
        401,
        "detail=Authentication credentials were not provided.",
        None,
        false,
    );
    const INVALID: A = A(401, "detail=Invalid token.", None, false);
    const CHALLENGE: A = A(401, "", Some("bearer"), false);
    const BAD_TOKEN: A = A(401, "", Some("bearer error=invalid_token"), false);
    const FORBIDDEN: A = A(403, "message=Forbidden", None, false);
    const NULL: A = A(200, "null", None, false);
    const NO_USER: A = A(200, "user=null", None, false);
    const ANONYMOUS: A = A(403, "detail=not provided", None, false);
    const NO_PERMISSION: A = A(403, "detail=no permission", None, false);
    const SCOPE: A = A(401, "", Some("bearer error=insufficient_scope"), false);
    const SIGNATURE: A = A(401, "message=invalid signature", None, false);
    const MALFORMED: A = A(401, "message=jwt malformed", None, false);
    const NO_TOKEN: A = A(401, "message=jwt must be provided", None, false);

    fn row(probe: &str, variant: Variant, a: A) -> MatrixRow {
        MatrixRow {
            probe: probe.into(),
            variant,
            status: a.0,
            body_shape: BodyShape::JsonObject,
            body_excerpt: String::new(),
            passed: a.0 == 200 && a.1 != "null",
            answer: Some(AnswerDigest {
                status: a.0,
                content_type: Some("application/json".into()),
                skeleton: String::new(),
                enums: vec![a.1.to_string()],
                www_authenticate: a.2.map(str::to_string),
                clears_cookie: a.3,
                identity: None,
            }),
        }
    }

    /// A trace whose guard answers: recorded, none, garbage, Bearer; the native endpoint accepts
    /// the cookie and Bearer as `native_bearer` says; another cookie name as `name` says.
    fn trace(with: A, none: A, garbage: A, bearer: A, name: A, native_bearer: bool) -> Trace {
        let cookie = "s.session_token".to_string();
        let mut matrix = Vec::new();
        for (probe, answers) in [
            ("guarded", [with, none, garbage, bearer, name]),
            (
                "native",
                [OK, NULL, NULL, if native_bearer { OK } else { NULL }, NULL],
            ),
        ] {
            let variants = [
                Variant::RecordedCookie {
                    name: cookie.clone(),
                },
                Variant::NoCookie,
                Variant::Garbage {
                    name: cookie.clone(),
                },
                Variant::BearerSigned,
                Variant::CookieName {
                    name: "__Secure-s.session_token".into(),
                },
            ];
            for (v, a) in variants.into_iter().zip(answers) {
                matrix.push(row(probe, v, a));
            }
        }
        let probe = |name: &str, native: bool| Probe {
            native,
            compare_to: (!native).then(|| "native".into()),
            passed: native,
            ..Probe::plain(
                name,
                &format!("http://app/{name}"),
                if native { 200 } else { with.0 },
            )
        };
        Trace {
            chain: ChainInfo::default(),
            probes: vec![probe("native", true), probe("guarded", false)],
            matrix,
            ..Trace::default()
        }
    }

    fn keys(f: &Finding) -> Vec<&'static str> {
        f.causes.iter().map(|c| c.key.as_str()).collect()
    }

    #[test]
    fn verdicts_from_the_matrix() {
        use FindingId::*;
        // (with, none, garbage, bearer, other name, native takes Bearer) → id, first cause.
        let cases: &[(&str, [A; 5], bool, FindingId, &str)] = &[
            (
                "another name works",
                [NEST, NEST, NEST, NEST, OK],
                false,
                GuardMissesCookie,
                "other-cookie-name",
            ),
            (
                "Bearer works",
                [CHALLENGE, CHALLENGE, CHALLENGE, OK, CHALLENGE],
                true,
                GuardWantsOtherTransport,
                "wants-authorization-header",
            ),
            (
                "one body for every failure: Bearer first",
                [NEST, NEST, NEST, NEST, NEST],
                false,
                GuardRejectsSession,
                "bearer-revalidation",
            ),
            (
                "one body, native takes Bearer: secret first",
                [NEST, NEST, NEST, NEST, NEST],
                true,
                GuardRejectsSession,
                "other-secret-or-instance",
            ),
            (
                "every answer says nothing came",
                [MISSING, MISSING, MISSING, MISSING, MISSING],
                false,
                GuardRejectsSession,
                "cookie-not-reaching-guard",
            ),
            (
                "a Bearer challenge whatever the cookie",
                [CHALLENGE, CHALLENGE, CHALLENGE, CHALLENGE, CHALLENGE],
                false,
                GuardRejectsSession,
                "wants-authorization-header",
            ),
            (
                "like garbage, unlike none (DRF)",
                [INVALID, MISSING, INVALID, MISSING, MISSING],
                false,
                GuardValidatesDifferently,
                "bearer-revalidation",
            ),
            (
                "like garbage, unlike none (Spring)",
                [BAD_TOKEN, CHALLENGE, BAD_TOKEN, CHALLENGE, CHALLENGE],
                false,
                GuardValidatesDifferently,
                "bearer-revalidation",
            ),
            (
                "like none, unlike garbage",
                [MISSING, MISSING, INVALID, MISSING, MISSING],
                false,
                GuardMissesCookie,
                "cookie-not-reaching-guard",
            ),
            (
                "known and refused",
                [FORBIDDEN, NEST, NEST, NEST, NEST],
                false,
                GuardRefusesUser,
                "refuses-user",
            ),
            (
                "known and refused, a challenge of its own (Spring)",
                [SCOPE, CHALLENGE, BAD_TOKEN, CHALLENGE, CHALLENGE],
                false,
                GuardRefusesUser,
                "refuses-user",
            ),
            (
                "garbage taken for none, the session refused in words of its own (DRF session)",
                [NO_PERMISSION, ANONYMOUS, ANONYMOUS, ANONYMOUS, ANONYMOUS],
                false,
                GuardRefusesUser,
                "refuses-user",
            ),
            (
                "a 200 to everyone is no transport that works",
                [NEST, NO_USER, NEST, NO_USER, NO_USER],
                false,
                GuardValidatesDifferently,
                "bearer-revalidation",
            ),
            (
                "the same 401 in three wordings (jsonwebtoken)",
                [SIGNATURE, NO_TOKEN, MALFORMED, NO_TOKEN, NO_TOKEN],
                false,
                GuardValidatesDifferently,
                "bearer-revalidation",
            ),
            (
                "the same 401 in three wordings, native takes Bearer",
                [SIGNATURE, NO_TOKEN, MALFORMED, NO_TOKEN, NO_TOKEN],
                true,
                GuardValidatesDifferently,
                "other-secret-or-instance",
            ),
        ];
        for (case, [with, none, garbage, bearer, name], native_bearer, id, first) in cases {
            let t = trace(*with, *none, *garbage, *bearer, *name, *native_bearer);
            let f = rules(&t);
            assert_eq!(f.len(), 1, "{case}");
            assert_eq!(f[0].id, *id, "{case}");
            assert_eq!(keys(&f[0])[0], *first, "{case}: {:?}", keys(&f[0]));
            assert!(explains(&t, &t.probes[1]), "{case}");
        }
    }

    #[test]
    fn the_true_cause_is_always_ranked() {
        let t = trace(NEST, NEST, NEST, NEST, NEST, false);
        let f = &rules(&t)[0];
        assert_eq!(
            keys(f),
            [
                "bearer-revalidation",
                "other-secret-or-instance",
                "cookie-not-reaching-guard"
            ]
        );
        assert!(f.explanation.contains("Cookie and Authorization headers"));
    }

    #[test]
    fn a_session_middleware_that_clears_a_bad_cookie_everywhere_says_nothing_of_the_guard() {
        // A guard behind a middleware that clears the garbage cookie on every route: its answer
        // to the garbage differs only by the clearing, and so does the native endpoint's.
        let cleared = A(401, "message=Unauthorized", None, true);
        let mut t = trace(NEST, NEST, cleared, NEST, NEST, false);
        for r in t.matrix.iter_mut().filter(|r| r.probe == "native") {
            if matches!(r.variant, Variant::Garbage { .. })
                && let Some(a) = r.answer.as_mut()
            {
                a.clears_cookie = true;
            }
        }
        assert_eq!(rules(&t)[0].id, FindingId::GuardRejectsSession);
        // Where only the guard clears it, the guard saw the cookie.
        let t = trace(NEST, NEST, cleared, NEST, NEST, false);
        assert_eq!(rules(&t)[0].id, FindingId::GuardMissesCookie);
    }

    #[test]
    fn no_verdict_where_the_reference_answers_everyone_alike() {
        // The native endpoint answers no cookie as it answers the session: it accepts nothing
        // that can be told, so the guard's refusal is compared with nothing.
        let mut t = trace(NEST, NEST, NEST, NEST, NEST, false);
        for r in t.matrix.iter_mut().filter(|r| r.probe == "native") {
            *r = row("native", r.variant.clone(), OK);
        }
        assert!(rules(&t).is_empty());
    }

    #[test]
    fn no_verdict_without_a_disagreement() {
        // The guard accepts: nothing to say.
        assert!(rules(&trace(OK, NEST, NEST, NEST, NEST, false)).is_empty());
    }

    #[test]
    fn older_reports_compare_their_excerpts() {
        let row = |body: &str| MatrixRow {
            probe: "p".into(),
            variant: Variant::NoCookie,
            status: 401,
            body_shape: BodyShape::JsonObject,
            body_excerpt: body.into(),
            passed: false,
            answer: None,
        };
        let a = row(
            r#"{"timestamp":"2026-11-22T14:00:01.123Z","requestId":"a1b2c3d4e5f6a7b8c9","error":"No session"}"#,
        );
        let b = row(
            r#"{"timestamp":"2026-11-22T14:00:02.456Z","requestId":"f9e8d7c6b5a4f3e2d1","error":"No session"}"#,
        );
        let c = row(
            r#"{"timestamp":"2026-11-22T14:00:02.456Z","requestId":"f9e8d7c6b5a4f3e2d1","error":"Invalid session"}"#,
        );
        assert!(alike(&a, &b));
        assert!(!alike(&a, &c));
        assert!(!alike(&a, &row("‹sha256:1a2b3c4d 81B›")));
    }
}
