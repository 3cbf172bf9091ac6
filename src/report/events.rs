//! The event stream of `--events`: JSON Lines, one event a line, each an object whose `event`
//! names its type and whose `run` and `scenario` name the run it belongs to. Types, in the
//! order a run gives them: `hop`, `probe`, `matrix-row`, `check`, `finding`, then `run-end`.
//! The payload sits under a key named for the type (`hop`, `probe`, `row`, `check`,
//! `finding`); `run-end` carries the verdict. Documented in docs/report-schema.md.

use super::Report;
use serde_json::{Value, json};

/// The events of one finished run (`run` counts from 1), each a JSON value for one line.
pub fn of_run(report: &Report, run: usize, file: Option<&str>) -> Vec<Value> {
    let t = &report.trace;
    let event = |kind: &str, key: &str, payload: Value| json!({ "event": kind, "run": run, "scenario": t.scenario, key: payload });
    let mut out = Vec::new();
    out.extend(t.hops.iter().map(|h| event("hop", "hop", payload(h))));
    out.extend(t.probes.iter().map(|p| event("probe", "probe", payload(p))));
    out.extend(
        t.matrix
            .iter()
            .map(|r| event("matrix-row", "row", payload(r))),
    );
    out.extend(t.checks.iter().map(|c| event("check", "check", payload(c))));
    out.extend(
        report
            .findings
            .iter()
            .map(|f| event("finding", "finding", payload(f))),
    );
    let mut end = json!({
        "event": "run-end",
        "run": run,
        "scenario": t.scenario,
        "verdict": report.verdict.word(),
        "exit_code": report.exit_code,
        "duration_ms": t.duration_ms,
        "findings": report.findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        "retries": t.retries.len(),
    });
    if let Some(file) = file {
        end["file"] = json!(file);
    }
    if let Some(e) = &t.error {
        end["error"] = json!(e);
    }
    out.push(end);
    out
}

/// A part of the trace as JSON.
fn payload<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}
