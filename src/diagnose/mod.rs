//! Diagnose: rules over the recorded trace that name the broken link. Pure: no I/O. Each file
//! holds one family of rules; each rule is `&Trace -> Vec<Finding>`.

mod browser;
mod callback;
mod clock;
mod cookies;
mod flow;
pub mod guard;
mod session;

use crate::trace::{Finding, Trace};

/// Every rule, in the order their findings rank when severities tie: the earlier a link of the
/// chain, the likelier it is the root cause of what follows.
const RULES: &[fn(&Trace) -> Vec<Finding>] = &[
    flow::rules,
    callback::rules,
    cookies::rules,
    guard::rules,
    session::rules,
    browser::rules,
    clock::rules,
];

/// All findings for a trace, the most likely root cause first.
pub fn diagnose(trace: &Trace) -> Vec<Finding> {
    let mut findings: Vec<Finding> = RULES.iter().flat_map(|rule| rule(trace)).collect();
    // A stable sort keeps the rule order within a severity.
    findings.sort_by_key(|f| f.severity);
    findings
}

/// Builds a finding; its evidence refers into the trace (the report renders it as lines).
pub(crate) fn finding(
    id: crate::trace::FindingId,
    severity: crate::trace::Severity,
    title: impl Into<String>,
    evidence: Vec<crate::trace::Evidence>,
    explanation: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        id,
        severity,
        title: title.into(),
        evidence_lines: Vec::new(),
        evidence,
        explanation: explanation.into(),
        fix: fix.into(),
        causes: Vec::new(),
    }
}

/// The evidence of a finding as the report shows it, for the rules' own tests.
#[cfg(test)]
pub(crate) fn evidence_text(t: &Trace, f: &Finding) -> Vec<String> {
    crate::report::evidence::lines(t, &f.evidence)
}
