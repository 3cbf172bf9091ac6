//! What the runs under way have recorded so far, for the report an interrupted run still
//! writes: each run registers here, its driver adds each hop as it records it, and a finished
//! run leaves. Ctrl-C or SIGTERM turns what is left into reports that end in
//! `error.kind = "interrupted"`.

use crate::scenario::Scenario;
use crate::trace::{Hop, Trace};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The runs under way.
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<Mutex<Registry>>);

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    runs: Vec<Entry>,
}

#[derive(Debug)]
pub(crate) struct Entry {
    id: u64,
    pub(crate) scenario: Scenario,
    pub(crate) trace: Trace,
    pub(crate) started: Instant,
}

/// One run's place in [`Progress`]; the default belongs to no registry and records nothing.
#[derive(Clone, Debug, Default)]
pub struct RunProgress {
    all: Option<Progress>,
    id: u64,
}

impl Progress {
    /// Registers a run that starts now with the trace it has so far.
    pub fn register(&self, scenario: &Scenario, trace: Trace) -> RunProgress {
        let Ok(mut reg) = self.0.lock() else {
            return RunProgress::default();
        };
        reg.next += 1;
        let id = reg.next;
        reg.runs.push(Entry {
            id,
            scenario: scenario.clone(),
            trace,
            started: Instant::now(),
        });
        RunProgress {
            all: Some(self.clone()),
            id,
        }
    }

    /// Takes the runs still under way, in the order they started.
    pub(crate) fn take(&self) -> Vec<Entry> {
        self.0
            .lock()
            .map(|mut reg| std::mem::take(&mut reg.runs))
            .unwrap_or_default()
    }
}

impl RunProgress {
    fn with(&self, f: impl FnOnce(&mut Vec<Entry>, usize)) {
        let Some(all) = &self.all else { return };
        if let Ok(mut reg) = all.0.lock()
            && let Some(i) = reg.runs.iter().position(|e| e.id == self.id)
        {
            f(&mut reg.runs, i);
        }
    }

    /// A hop just recorded.
    pub fn hop(&self, hop: &Hop) {
        self.with(|runs, i| runs[i].trace.hops.push(hop.clone()));
    }

    /// Every hop so far (the browser reads them from its log, all at once).
    pub fn hops(&self, hops: Vec<Hop>) {
        self.with(|runs, i| runs[i].trace.hops = hops);
    }

    /// The run finished: it has its own report.
    pub fn done(&self) {
        self.with(|runs, i| {
            runs.remove(i);
        });
    }
}
