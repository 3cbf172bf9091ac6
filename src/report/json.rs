//! The JSON report: one run as an object, several as `{schema_version, runs: […]}`.

use super::Report;
use serde::Serialize;

#[derive(Serialize)]
struct Runs<'a> {
    schema_version: u32,
    exit_code: i32,
    runs: &'a [Report],
}

pub fn one(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report serialises")
}

pub fn many(reports: &[Report], exit_code: i32) -> String {
    serde_json::to_string_pretty(&Runs {
        schema_version: crate::trace::SCHEMA_VERSION,
        exit_code,
        runs: reports,
    })
    .expect("a report serialises")
}
