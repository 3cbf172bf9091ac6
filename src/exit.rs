//! Exit codes and the verdict of a run: the one place that maps outcomes to numbers.

use crate::trace::{Finding, Severity, Trace};
use serde::{Deserialize, Serialize};

/// Every check passed.
pub const PASS: i32 = 0;
/// The chain answered wrongly: the findings say how.
pub const FAIL: i32 = 1;
/// A usage or scenario error.
pub const USAGE: i32 = 2;
/// No usable answer: connection, DNS, TLS, timeout, the browser, no login form.
pub const NO_ANSWER: i32 = 3;
/// Interrupted (Ctrl-C), after cleanup.
pub const INTERRUPTED: i32 = 130;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    Error,
    /// Ctrl-C or SIGTERM stopped the run (exit 130).
    Interrupted,
}

impl Verdict {
    pub fn code(self) -> i32 {
        match self {
            Verdict::Pass => PASS,
            Verdict::Fail => FAIL,
            Verdict::Error => NO_ANSWER,
            Verdict::Interrupted => INTERRUPTED,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Interrupted => "interrupted",
        }
    }
}

/// No usable answer outranks a wrong answer; a wrong answer outranks a pass.
pub fn verdict(trace: &Trace, findings: &[Finding]) -> Verdict {
    let kind = trace.error.as_ref().and_then(|e| e.kind);
    if kind == Some(crate::trace::RunErrorKind::Interrupted) {
        Verdict::Interrupted
    } else if trace.error.is_some() {
        Verdict::Error
    } else if of_findings(findings) == FAIL {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

/// The exit code of a check's findings: 1 with an error among them, else 0.
pub fn of_findings(findings: &[Finding]) -> i32 {
    if findings.iter().any(|f| f.severity == Severity::Error) {
        FAIL
    } else {
        PASS
    }
}

/// The word of the result line for an exit code.
pub fn word(code: i32) -> &'static str {
    match code {
        PASS => Verdict::Pass,
        FAIL => Verdict::Fail,
        INTERRUPTED => Verdict::Interrupted,
        _ => Verdict::Error,
    }
    .word()
}

/// The exit code of several runs: 2 > 3 > 1 > 0 (and an interruption above all).
pub fn combine(codes: impl IntoIterator<Item = i32>) -> i32 {
    let rank = |c: i32| match c {
        INTERRUPTED => 5,
        USAGE => 4,
        NO_ANSWER => 3,
        FAIL => 2,
        PASS => 0,
        _ => 1,
    };
    codes.into_iter().max_by_key(|&c| rank(c)).unwrap_or(PASS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        assert_eq!(combine([PASS, FAIL, NO_ANSWER]), NO_ANSWER);
        assert_eq!(combine([NO_ANSWER, USAGE, FAIL]), USAGE);
        assert_eq!(combine([PASS, PASS]), PASS);
        assert_eq!(combine([FAIL, PASS]), FAIL);
        assert_eq!(combine([]), PASS);
    }
}
