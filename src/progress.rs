//! What the runs have done so far, for the reports an interrupted command still writes: each
//! run registers here when it starts, its driver shows each hop as it records it (the browser
//! its log's events), and a finished run leaves its outcome. Ctrl-C or SIGTERM turns what is
//! here into reports ([`crate::interrupted`]): the finished runs as they ended, the runs under
//! way with `error.kind = "interrupted"`.

use crate::Outcome;
use crate::scenario::Scenario;
use crate::trace::{ErrorStep, Hop, Step, Trace};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The runs of a command.
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<Mutex<Registry>>);

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    runs: Vec<Entry>,
}

/// One run as far as it got.
#[derive(Debug)]
pub(crate) struct Entry {
    id: u64,
    pub(crate) path: Option<PathBuf>,
    pub(crate) scenario: Scenario,
    pub(crate) trace: Trace,
    pub(crate) started: Instant,
    /// The browser's log so far, with what the hops are read against: the start's URLs and the
    /// form submissions.
    pub(crate) browser: Option<BrowserSoFar>,
    /// What the run was doing after its hops (its probes).
    pub(crate) phase: Option<ErrorStep>,
    pub(crate) finished: Option<Box<Outcome>>,
    /// Its report was printed already (reports stream as runs finish).
    pub(crate) shown: bool,
}

#[derive(Debug)]
pub(crate) struct BrowserSoFar {
    pub(crate) events: Vec<(String, Value)>,
    pub(crate) starts: Vec<String>,
    pub(crate) actions: Vec<Step>,
}

/// One run's place in [`Progress`]; the default belongs to none and records nothing.
#[derive(Clone, Debug, Default)]
pub struct RunProgress {
    all: Option<Progress>,
    id: u64,
}

impl Progress {
    /// Registers a run that starts now, from the file at `path`, with the trace it has so far.
    pub fn register(
        &self,
        path: Option<PathBuf>,
        scenario: &Scenario,
        trace: Trace,
    ) -> RunProgress {
        let Ok(mut reg) = self.0.lock() else {
            return RunProgress::default();
        };
        reg.next += 1;
        let id = reg.next;
        reg.runs.push(Entry {
            id,
            path,
            scenario: scenario.clone(),
            trace,
            started: Instant::now(),
            browser: None,
            phase: None,
            finished: None,
            shown: false,
        });
        RunProgress {
            all: Some(self.clone()),
            id,
        }
    }

    /// What each run under way is doing, one line each: its scenario and its last hop (method,
    /// URL without its query, status), its phase, or the browser's events so far. The hops'
    /// URLs are as the report shows them (secrets replaced).
    pub fn now(&self) -> Vec<String> {
        let Ok(reg) = self.0.lock() else {
            return Vec::new();
        };
        reg.runs
            .iter()
            .filter(|e| e.finished.is_none())
            .map(|e| {
                let secs = e.started.elapsed().as_secs_f64();
                let what = match (&e.phase, e.trace.hops.last(), &e.browser) {
                    (Some(step), _, _) => format!("step {step}"),
                    (None, Some(h), _) => format!(
                        "hop {} {} {} → {}",
                        h.n.0,
                        h.method,
                        h.url.split(['?', '#']).next().unwrap_or_default(),
                        h.status
                    ),
                    (None, None, Some(b)) => {
                        format!("in the browser, {} network events", b.events.len())
                    }
                    (None, None, None) => "starting".into(),
                };
                format!("{} ({secs:.1} s): {what}", e.scenario.name)
            })
            .collect()
    }

    /// The report of the finished run of `scenario` (from `path`) was printed.
    pub fn shown(&self, path: Option<&std::path::Path>, scenario: &str) {
        if let Ok(mut reg) = self.0.lock() {
            for e in reg.runs.iter_mut().filter(|e| {
                e.finished.is_some() && e.path.as_deref() == path && e.scenario.name == scenario
            }) {
                e.shown = true;
            }
        }
    }

    /// The finished attempts of `scenario` (from `path`) are superseded by another attempt
    /// (`run --retries`): an interrupted report leaves them out.
    pub fn retrying(&self, path: Option<&std::path::Path>, scenario: &str) {
        if let Ok(mut reg) = self.0.lock() {
            reg.runs.retain(|e| {
                !(e.finished.is_some() && e.path.as_deref() == path && e.scenario.name == scenario)
            });
        }
    }

    /// Takes every run, in the order they started.
    pub(crate) fn take(&self) -> Vec<Entry> {
        self.0
            .lock()
            .map(|mut reg| std::mem::take(&mut reg.runs))
            .unwrap_or_default()
    }
}

impl RunProgress {
    fn with(&self, f: impl FnOnce(&mut Entry)) {
        let Some(all) = &self.all else { return };
        if let Ok(mut reg) = all.0.lock()
            && let Some(e) = reg.runs.iter_mut().find(|e| e.id == self.id)
        {
            f(e);
        }
    }

    /// A hop just recorded.
    pub fn hop(&self, hop: &Hop) {
        self.with(|e| e.trace.hops.push(hop.clone()));
    }

    /// The browser's log's new events, and the start's URLs and form submissions so far (the
    /// hops are read from them if the run is interrupted).
    pub fn browser(&self, new: &[(String, Value)], starts: &[String], actions: &[Step]) {
        if self.all.is_none() {
            return;
        }
        self.with(|e| {
            let b = e.browser.get_or_insert_with(|| BrowserSoFar {
                events: Vec::new(),
                starts: Vec::new(),
                actions: Vec::new(),
            });
            b.events.extend_from_slice(new);
            b.starts = starts.to_vec();
            b.actions = actions.to_vec();
        });
    }

    /// The run moved on past its hops (to its probes), with what it learnt of the chain.
    pub fn phase(&self, step: ErrorStep, chain: &crate::trace::ChainInfo) {
        self.with(|e| {
            e.phase = Some(step);
            e.trace.chain = chain.clone();
        });
    }

    /// The run finished with `outcome`.
    pub fn done(&self, outcome: &Outcome) {
        self.with(|e| {
            e.finished = Some(Box::new(outcome.clone()));
            // The outcome has the hops: the browser's raw log is not needed any more.
            e.browser = None;
        });
    }
}
