//! Reports: functions from a run's result to text. They decide nothing and do no I/O.

pub mod events;
pub mod evidence;
pub mod github;
pub mod har;
pub mod json;
pub mod junit;
pub mod terminal;
pub mod wrap;

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

/// A check's table as aligned lines for `width` columns, each with whether it holds a cell that
/// is not as it should be: the request's path (its origin dropped), then per column the status
/// and what it got, `✗ (want)` where it is wrong. Where the table is wider, each row is its
/// request's line with a line per column under it.
pub fn check_matrix(m: &crate::trace::CheckMatrix, width: usize) -> Vec<(String, bool)> {
    let path = |request: &str| -> String {
        let (method, url) = request.split_once(' ').unwrap_or(("", request));
        let rest = url
            .split_once("://")
            .and_then(|(_, r)| r.find('/').map(|i| &r[i..]))
            .unwrap_or(url);
        format!("{method} {rest}")
    };
    let mut table: Vec<(Vec<String>, bool)> = vec![(
        std::iter::once("request".to_string())
            .chain(m.columns.iter().cloned())
            .collect(),
        false,
    )];
    for row in &m.rows {
        let mut line = vec![path(&row.request)];
        let mut bad = false;
        for cell in &row.cells {
            line.push(match cell {
                None => "-".into(),
                Some(c) => {
                    bad |= !c.ok;
                    let status = c.status.map_or(String::new(), |s| format!("{s} "));
                    match (c.ok, c.expect) {
                        (true, _) => format!("{status}{}", c.got),
                        (false, Some(want)) => format!("{status}{} ✗ ({})", c.got, want.as_str()),
                        (false, None) => format!("{status}{} ✗", c.got),
                    }
                }
            });
        }
        table.push((line, bad));
    }
    let widths: Vec<usize> = (0..=m.columns.len())
        .map(|i| {
            table
                .iter()
                .map(|(l, _)| l.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let table_width = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    if table_width > width {
        let header = table.remove(0).0;
        let name_width = header[1..]
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0);
        return table
            .into_iter()
            .flat_map(|(cells, bad)| {
                let mut lines = vec![(cells[0].clone(), bad)];
                for (name, cell) in header[1..].iter().zip(&cells[1..]) {
                    lines.push((format!("  {name:<name_width$}  {cell}"), cell.contains('✗')));
                }
                lines
            })
            .collect();
    }
    table
        .into_iter()
        .map(|(cells, bad)| {
            let line = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ");
            (line.trim_end().to_string(), bad)
        })
        .collect()
}
