//! Reports: functions from a run's result to text. They decide nothing and do no I/O.

pub mod evidence;
pub mod har;
pub mod json;
pub mod junit;
pub mod terminal;

use crate::exit::Verdict;
use crate::trace::{Finding, Trace};
use serde::{Deserialize, Serialize};

/// The result of one run: the trace, the findings and the verdict. Its JSON form is the
/// `--report-json` file (docs/report-schema.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub verdict: Verdict,
    pub exit_code: i32,
    #[serde(flatten)]
    pub trace: Trace,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Diagnoses a trace and gives it its verdict.
    pub fn new(trace: Trace) -> Self {
        let mut findings = crate::diagnose::diagnose(&trace);
        for f in &mut findings {
            f.evidence_lines = evidence::lines(&trace, &f.evidence);
        }
        let verdict = crate::exit::verdict(&trace, &findings);
        Report {
            schema_version: crate::trace::SCHEMA_VERSION,
            verdict,
            exit_code: verdict.code(),
            trace,
            findings,
        }
    }
}
