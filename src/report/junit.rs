//! JUnit XML (written by quick-junit), for CI systems that show test results: one test suite
//! per run, a test case for the login chain (failing with the findings), one per probe of the
//! scenario (skipped when it did not run) and one per opt-in check (skipped when it could not
//! run). A case's identity — its suite, class and name — depends only on the scenario, so a
//! passing and a failing run of one scenario have the same cases.

use super::Report;
use crate::trace::{Ended, Severity};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// One test case: its name, its time, and what it came to — none (passed), or
/// `("failure" | "error" | "skipped", message, text)`.
pub struct Case {
    pub name: String,
    pub seconds: f64,
    pub outcome: Option<(&'static str, String, String)>,
}

fn cases(r: &Report) -> Vec<Case> {
    let t = &r.trace;
    let errors: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let details = |fs: &[&crate::trace::Finding]| {
        fs.iter()
            .map(|f| {
                format!(
                    "{}: {}\n  {}\n  why: {}\n  fix: {}",
                    f.id,
                    f.title,
                    f.evidence_lines.join("\n  "),
                    f.explanation,
                    f.fix
                )
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    let hops_ms: f64 = t.hops.iter().map(|h| h.duration_ms).sum();
    let login_outcome = if let Some(e) = &t.error {
        Some(("error", e.describe(), details(&errors)))
    } else {
        errors.first().map(|first| {
            (
                "failure",
                format!("{}: {}", first.id, first.title),
                details(&errors),
            )
        })
    };
    let mut out = vec![Case {
        name: if t.ended == Ended::ProbeOnly {
            "session".into()
        } else {
            "login chain".into()
        },
        seconds: hops_ms / 1000.0,
        outcome: login_outcome,
    }];
    for p in &t.probes {
        out.push(Case {
            name: format!("probe {}", p.name),
            seconds: p.duration_ms / 1000.0,
            outcome: (!p.passed).then(|| {
                (
                    "failure",
                    format!(
                        "{} {} → {}: {}",
                        p.method,
                        p.url,
                        p.status,
                        p.reason.clone().unwrap_or_default()
                    ),
                    p.body_excerpt.clone(),
                )
            }),
        });
    }
    let why_not = match (&t.error, &t.ended) {
        (Some(e), _) => format!("not run: the run stopped in step {}", e.step),
        (None, _) if t.recorded.is_some() => "not run: the recording holds no answer of it".into(),
        (None, Ended::Landed { .. }) => "not run".into(),
        (None, _) => "not run: the login did not end at the app".into(),
    };
    for name in &t.probes_not_run {
        out.push(Case {
            name: format!("probe {name}"),
            seconds: 0.0,
            outcome: Some(("skipped", why_not.clone(), String::new())),
        });
    }
    for c in &t.checks {
        out.push(Case {
            name: format!("check {}", c.check.as_str()),
            seconds: 0.0,
            outcome: match c.status {
                crate::trace::CheckStatus::Passed => None,
                crate::trace::CheckStatus::NotRun => {
                    Some(("skipped", c.detail.clone(), String::new()))
                }
                crate::trace::CheckStatus::Failed => Some((
                    "failure",
                    c.detail.clone(),
                    // What the check holds against the chain, then the whole matrix (where
                    // it has one) apart from it.
                    [
                        c.accepted.join("\n"),
                        c.matrix
                            .iter()
                            .flat_map(|m| super::check_matrix(m, usize::MAX))
                            .map(|(line, _)| line)
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                )),
            },
        });
    }
    out
}

pub fn render(reports: &[Report]) -> String {
    let seconds: f64 = reports.iter().map(|r| r.trace.duration_ms / 1000.0).sum();
    document(
        reports
            .iter()
            .map(|r| {
                suite(
                    &r.trace.scenario,
                    &r.trace.scenario,
                    r.trace.duration_ms / 1000.0,
                    cases(r),
                )
            })
            .collect(),
        seconds,
    )
}

/// A time in seconds as a duration (none when negative, not a number or too long).
fn secs(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or_default()
}

/// A test suite of `cases`, each of class `classname`.
pub fn suite(name: &str, classname: &str, seconds: f64, cases: Vec<Case>) -> TestSuite {
    let mut suite = TestSuite::new(name);
    suite.set_time(secs(seconds));
    for c in cases {
        let status = match &c.outcome {
            None => TestCaseStatus::success(),
            Some(("skipped", message, _)) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(message.as_str());
                s
            }
            Some((kind, message, text)) => {
                let mut s = TestCaseStatus::non_success(if *kind == "error" {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                });
                s.set_message(message.as_str());
                s.set_description(text.as_str());
                s
            }
        };
        let mut case = TestCase::new(c.name.as_str(), status);
        case.set_classname(classname);
        case.set_time(secs(c.seconds));
        suite.add_test_case(case);
    }
    suite
}

/// The JUnit XML document of `suites`.
pub fn document(suites: Vec<TestSuite>, seconds: f64) -> String {
    let mut all = quick_junit::Report::new("authchain");
    all.set_time(secs(seconds));
    all.add_test_suites(suites);
    all.to_string()
        .unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Finding, Trace};

    #[test]
    fn findings_fail_the_login_case_and_text_is_escaped() {
        let trace = Trace {
            scenario: "a <b> & \"c\"".into(),
            ended: Ended::Landed {
                hop: crate::trace::HopNo(1),
            },
            ..Trace::default()
        };
        let mut report = Report::new(trace);
        report.findings.push(Finding {
            id: crate::trace::FindingId::CallbackError,
            severity: Severity::Error,
            title: "The login failed with error=x".into(),
            evidence_lines: vec!["hop 1".into()],
            evidence: Vec::new(),
            explanation: "why".into(),
            fix: "fix".into(),
            causes: Vec::new(),
        });
        let xml = render(&[report]);
        assert!(
            xml.contains("name=\"a &lt;b&gt; &amp; &quot;c&quot;\""),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"callback-error: The login failed with error=x\">"),
            "{xml}"
        );
        assert!(
            xml.contains("tests=\"1\" skipped=\"0\" errors=\"0\" failures=\"1\""),
            "{xml}"
        );
    }

    /// A probe of the scenario that did not run is a skipped case, named as when it runs.
    #[test]
    fn a_probe_that_did_not_run_is_skipped_not_absent() {
        let trace = Trace {
            scenario: "s".into(),
            probes_not_run: vec!["guarded".into()],
            ..Trace::default()
        };
        let xml = render(&[Report::new(trace)]);
        assert!(
            xml.contains("<testcase name=\"probe guarded\" classname=\"s\""),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"not run: the login did not end at the app\"/>"),
            "{xml}"
        );
    }

    /// A check is a case of its own: passed, failed with what got through and its table, or
    /// skipped with why it could not run.
    #[test]
    fn checks_are_cases_and_one_that_cannot_run_is_skipped() {
        use crate::scenario::CheckName;
        use crate::trace::CheckStatus;
        let mut trace = Trace::default();
        for (check, status, detail) in [
            (CheckName::Logout, CheckStatus::Passed, "signed out"),
            (
                CheckName::Authz,
                CheckStatus::Failed,
                "1 of 4 requests not as expected",
            ),
            (
                CheckName::RefreshRotation,
                CheckStatus::NotRun,
                "no refresh endpoint known",
            ),
        ] {
            trace.checks.push(crate::trace::CheckRun {
                status,
                detail: detail.into(),
                accepted: vec!["POST /x with pat: allow (201), expected deny".into()],
                ..crate::trace::CheckRun::not_run(check, "")
            });
        }
        let xml = render(&[Report::new(trace)]);
        assert!(
            xml.contains("<testcase name=\"check logout\" classname=\"\" time=\"0.000\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"1 of 4 requests not as expected\">POST /x with pat"),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"no refresh endpoint known\"/>"),
            "{xml}"
        );
        assert!(xml.contains("skipped=\"1\""), "{xml}");
    }
}
