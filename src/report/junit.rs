//! JUnit XML, for CI systems that show test results: one test suite per run, a test case for the
//! login chain (failing with the findings), one per probe and one per opt-in check (skipped when
//! it could not run).

use super::Report;
use crate::trace::{Ended, Severity};
use std::fmt::Write;

/// Text made safe for an XML attribute or element.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

struct Case {
    name: String,
    seconds: f64,
    /// `("failure" | "error" | "skipped", message, text)`
    outcome: Option<(&'static str, String, String)>,
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
        let at = e.hop.map(|h| format!(" at {h}")).unwrap_or_default();
        Some((
            "error",
            format!("step {}{at}: {}", e.step, e.message),
            details(&errors),
        ))
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
                    c.accepted
                        .iter()
                        .cloned()
                        .chain(
                            c.matrix
                                .iter()
                                .flat_map(|m| super::check_matrix(m, usize::MAX))
                                .map(|(line, _)| line),
                        )
                        .collect::<Vec<_>>()
                        .join("\n"),
                )),
            },
        });
    }
    out
}

pub fn render(reports: &[Report]) -> String {
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all: Vec<(&Report, Vec<Case>)> = reports.iter().map(|r| (r, cases(r))).collect();
    let count = |kind: &str| {
        all.iter()
            .flat_map(|(_, c)| c)
            .filter(|c| c.outcome.as_ref().is_some_and(|o| o.0 == kind))
            .count()
    };
    let tests: usize = all.iter().map(|(_, c)| c.len()).sum();
    let seconds: f64 = reports.iter().map(|r| r.trace.duration_ms / 1000.0).sum();
    let _ = writeln!(
        o,
        "<testsuites name=\"authchain\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" time=\"{seconds:.3}\">",
        count("failure"),
        count("error")
    );
    for (r, cases) in &all {
        let name = escape(&r.trace.scenario);
        let failures = cases
            .iter()
            .filter(|c| c.outcome.as_ref().is_some_and(|o| o.0 == "failure"))
            .count();
        let errors = cases
            .iter()
            .filter(|c| c.outcome.as_ref().is_some_and(|o| o.0 == "error"))
            .count();
        let skipped = cases
            .iter()
            .filter(|c| c.outcome.as_ref().is_some_and(|o| o.0 == "skipped"))
            .count();
        let _ = writeln!(
            o,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{:.3}\">",
            cases.len(),
            r.trace.duration_ms / 1000.0
        );
        for c in cases {
            let _ = write!(
                o,
                "    <testcase classname=\"{name}\" name=\"{}\" time=\"{:.3}\"",
                escape(&c.name),
                c.seconds
            );
            match &c.outcome {
                None => o.push_str("/>\n"),
                Some(("skipped", message, _)) => {
                    let _ = writeln!(
                        o,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(message)
                    );
                }
                Some((kind, message, text)) => {
                    let _ = writeln!(
                        o,
                        ">\n      <{kind} message=\"{}\">{}</{kind}>\n    </testcase>",
                        escape(message),
                        escape(text)
                    );
                }
            }
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
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
            xml.contains("tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\""),
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
            xml.contains("name=\"check logout\" time=\"0.000\"/>"),
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
