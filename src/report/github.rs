//! GitHub Actions workflow commands: one annotation per finding (`::error`, `::warning` or
//! `::notice` by its severity), which the runner shows on the job's summary and, with the
//! scenario file, on the file.

use super::Report;
use crate::trace::Severity;

/// The annotations of one run, one line each (no newline).
pub fn annotations(report: &Report, file: Option<&str>) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut props = Vec::new();
            if let Some(file) = file {
                props.push(format!("file={}", property(file)));
            }
            props.push(format!(
                "title={}",
                property(&format!("authchain {}", f.id.as_str()))
            ));
            let message = format!("{}: {} (fix: {})", report.trace.scenario, f.title, f.fix);
            format!("::{level} {}::{}", props.join(","), data(&message))
        })
        .collect()
}

/// A command's message, escaped as the runner reads it.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value, escaped as the runner reads it.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(data("50%\na"), "50%25%0Aa");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
