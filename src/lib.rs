//! authchain drives a real login chain (identity provider → the app's auth library → the app's
//! guarded API), records every hop and cookie, and names the link that broke.
//!
//! The pipeline: [`scenario`] → [`drive`] → [`probe`] → [`diagnose`] → [`report`]. The library
//! prints nothing; the binary decides what goes where and which exit code to use ([`exit`]).

pub mod diagnose;
pub mod drive;
pub mod exit;
pub mod probe;
pub mod redact;
pub mod report;
pub mod scenario;
pub mod trace;

use redact::Redactor;
use report::Report;
use scenario::Scenario;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use trace::{Ended, Trace};

/// A finished run: its report and the redactor that knows every secret it met, through which
/// every output text must pass.
pub struct Outcome {
    pub report: Report,
    pub redactor: Redactor,
}

/// Runs one scenario end to end: log in, probe, diagnose.
pub async fn run(scenario: &Scenario, reveal: bool) -> Outcome {
    let mut r = Redactor::new(reveal);
    for s in &scenario.secrets {
        r.add_secret(s);
    }
    let started = Instant::now();
    let mut trace = Trace {
        scenario: scenario.name.clone(),
        started_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        ..Trace::default()
    };
    match drive::login(scenario, &mut r).await {
        Err(e) => trace.error = Some(e),
        Ok(d) => {
            trace.chain = d.chain;
            trace.ended = d.ended;
            trace.error = d.error;
            let landed_clean = matches!(trace.ended, Ended::Landed { .. })
                && trace.error.is_none()
                && !d.driver.hops.iter().any(|h| h.error_code.is_some());
            if landed_clean {
                let (probes, error) = probe::run(&scenario.probes, &d.driver, &mut r).await;
                trace.probes = probes;
                trace.error = error;
            }
            trace.hops = d.driver.hops;
        }
    }
    trace.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    Outcome {
        report: Report::new(trace),
        redactor: r,
    }
}
