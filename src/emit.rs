//! Where the reports of finished runs go, as each run finishes: the human report (stdout, or
//! stderr when stdout carries JSON), the event stream, GitHub's annotations, the artifacts; and
//! at the end the JSON, HAR and JUnit files, the summary and the `result:` line.

use crate::cli::OutputArgs;
use crate::{err, fitted_to, out, scrub_json, scrubbed_report, width_on, write_bytes, write_file};
use authchain::drive::browser::Artifact;
use authchain::exit;
use authchain::redact::{Redactor, Scrubbed};
use authchain::report::{self, Report, terminal};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// `-` as a file: standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Where the human report goes.
enum Human {
    Stdout,
    /// Stdout carries JSON. On a terminal the report streams to stderr; elsewhere it is held
    /// and written only when the command does not pass (a passing run is silent on stderr).
    Stderr {
        hold: bool,
        held: String,
    },
}

/// A finished run, its report scrubbed.
struct Done {
    path: Option<PathBuf>,
    report: Report,
    redactor: Redactor,
}

pub struct Emitter<'a> {
    output: &'a OutputArgs,
    theme: &'a dyn terminal::Theme,
    many: bool,
    /// Why the `--out` dir cannot take the run's files, when it cannot.
    unwritable: Option<String>,
    human: Human,
    events: Option<Box<dyn Write>>,
    github: bool,
    done: Vec<Done>,
    write_failed: bool,
    /// Where a printed report is marked as such (for the report of an interruption).
    progress: Option<authchain::progress::Progress>,
}

impl<'a> Emitter<'a> {
    /// An emitter for `count` runs.
    pub fn new(output: &'a OutputArgs, theme: &'a dyn terminal::Theme, count: usize) -> Self {
        let json_out = output.report_json.as_deref().is_some_and(is_stdout)
            || output.events.as_deref().is_some_and(is_stdout);
        let human = if json_out {
            Human::Stderr {
                hold: !std::io::stderr().is_terminal(),
                held: String::new(),
            }
        } else {
            Human::Stdout
        };
        let mut write_failed = false;
        let events: Option<Box<dyn Write>> = match output.events.as_deref() {
            None => None,
            Some(p) if is_stdout(p) => Some(Box::new(std::io::stdout())),
            Some(p) => match std::fs::File::create(p) {
                Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
                Err(e) => {
                    err(&Redactor::new(false)
                        .scrub(&format!("error: cannot write {}: {e}", p.display())));
                    write_failed = true;
                    None
                }
            },
        };
        Emitter {
            output,
            theme,
            many: count > 1,
            unwritable: output.out.as_deref().and_then(unwritable),
            human,
            events,
            github: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            done: Vec::new(),
            write_failed,
            progress: None,
        }
    }

    /// Marks each run's report in `progress` once it is printed.
    pub fn marking(mut self, progress: &authchain::progress::Progress) -> Self {
        self.progress = Some(progress.clone());
        self
    }

    /// Text of the human report, scrubbed, to where it goes.
    /// The width of where the human report goes.
    fn width(&self) -> usize {
        match self.human {
            Human::Stdout => width_on(libc::STDOUT_FILENO),
            Human::Stderr { .. } => width_on(libc::STDERR_FILENO),
        }
    }

    fn say(&mut self, text: &Scrubbed) {
        match &mut self.human {
            Human::Stdout => out(text),
            Human::Stderr { hold: true, held } => held.push_str(text.as_str()),
            Human::Stderr { hold: false, .. } => crate::spinner::aside(|| eprint!("{text}")),
        }
    }

    /// A finished run: its artifacts written, its report shown (unless `shown` already), its
    /// events and annotations.
    pub fn take(&mut self, path: Option<PathBuf>, mut o: authchain::Outcome, shown: bool) {
        if let Some(why) = &self.unwritable {
            let report = &mut o.report;
            if report.trace.error.is_none() {
                report.trace.error = Some(authchain::trace::RunError {
                    step: authchain::trace::ErrorStep::Setup,
                    hop: None,
                    message: why.clone(),
                    kind: Some(authchain::trace::RunErrorKind::Output),
                });
            }
            report.verdict = exit::Verdict::Error;
            report.exit_code = exit::NO_ANSWER;
        }
        // The browser's artifacts first, so the report names them.
        if let Some(out) = &self.output.out
            && self.unwritable.is_none()
            && !o.artifacts.is_empty()
        {
            let dir = artifact_dir(out, path.as_ref(), self.many);
            if let Err(e) = std::fs::create_dir_all(&dir) {
                err(&Redactor::new(false)
                    .scrub(&format!("error: cannot create {}: {e}", dir.display())));
                self.write_failed = true;
            } else {
                for artifact in std::mem::take(&mut o.artifacts) {
                    let (name, written) = match artifact {
                        Artifact::Image { name, png } => (name, write_bytes(&dir.join(name), &png)),
                        Artifact::Text { name, text } => {
                            (name, write_file(&dir.join(name), &o.redactor.scrub(&text)))
                        }
                    };
                    if written {
                        o.report
                            .trace
                            .artifacts
                            .push(dir.join(name).display().to_string());
                    }
                }
            }
        }
        let report = match scrubbed_report(&o) {
            Ok(r) => r,
            Err(e) => {
                err(&o.redactor.scrub(&format!("error: {e}")));
                self.write_failed = true;
                return;
            }
        };
        let run = self.done.len() + 1;
        let file = path.as_ref().map(|p| p.display().to_string());
        let mut text = terminal::body(&report, self.theme, self.width());
        if self.many {
            text.push_str(&format!(
                "run result: {} (exit {})\n\n",
                report.verdict.word(),
                report.exit_code
            ));
        }
        if !shown {
            self.print(&o.redactor, &report, &text, run, file.as_deref());
        }
        if let Some(p) = &self.progress {
            p.shown(path.as_deref(), &report.trace.scenario);
        }
        if let Some(e) = &report.trace.error {
            err(&o.redactor.scrub(&format!(
                "error: {}: {}",
                report.trace.scenario,
                e.describe()
            )));
        }
        self.done.push(Done {
            path,
            report,
            redactor: o.redactor,
        });
    }

    /// A run's report as it streams: its text, its annotations, its events.
    fn print(&mut self, r: &Redactor, report: &Report, text: &str, run: usize, file: Option<&str>) {
        self.say(&fitted_to(r, text, self.width()));
        if self.github {
            // One line each, never wrapped: the runner reads a command from its line alone.
            let mut lines = String::new();
            for line in report::github::annotations(report, file) {
                lines.push_str(&line);
                lines.push('\n');
            }
            self.say(&r.scrub(&lines));
        }
        if let Some(events) = &mut self.events {
            let mut ok = true;
            for event in report::events::of_run(report, run, file) {
                let line = serde_json::to_string(&r.scrub_json(&event)).unwrap_or_default();
                ok &= writeln!(events, "{line}").is_ok();
            }
            ok &= events.flush().is_ok();
            if !ok {
                err(&Redactor::new(false).scrub("error: cannot write the events"));
                self.write_failed = true;
                self.events = None;
            }
        }
    }

    /// The files written, the summary and the `result:` line; the exit code.
    pub fn finish(mut self) -> i32 {
        let code = exit::combine(self.done.iter().map(|d| d.report.exit_code));
        let redactors: Vec<&Redactor> = self.done.iter().map(|d| &d.redactor).collect();
        let all = Redactor::merged(&redactors);
        let reports: Vec<Report> = self.done.iter().map(|d| d.report.clone()).collect();
        let mut failed = self.write_failed;
        if let Some(path) = &self.output.report_json {
            let json = if self.many {
                report::json::many(&reports, code)
            } else if let Some(one) = reports.first() {
                report::json::one(one)
            } else {
                report::json::many(&reports, code)
            };
            let json = scrub_json(&all, &json);
            if is_stdout(path) {
                let mut stdout = std::io::stdout().lock();
                failed |= writeln!(stdout, "{json}")
                    .and_then(|()| stdout.flush())
                    .is_err();
            } else {
                failed |= !write_file(path, &json);
            }
        }
        if let Some(path) = &self.output.har {
            let har = report::har::render(&reports);
            failed |= !write_file(path, &scrub_json(&all, &har));
        }
        if let Some(path) = &self.output.junit {
            let junit = report::junit::render(&reports);
            failed |= !write_file(path, &all.scrub(&junit));
        }
        if let Some(dir) = &self.output.out
            && self.unwritable.is_none()
        {
            for (i, d) in self.done.iter().enumerate() {
                let stem = d
                    .path
                    .as_ref()
                    .and_then(|p| p.file_stem())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| {
                        if self.many {
                            format!("run-{}", i + 1)
                        } else {
                            "report".into()
                        }
                    });
                let file = dir.join(format!("{stem}.json"));
                failed |= !write_file(
                    &file,
                    &scrub_json(&d.redactor, &report::json::one(&d.report)),
                );
            }
        }
        // A report that could not be written is no usable answer either; the last line says so.
        let code = if failed {
            exit::combine([code, exit::NO_ANSWER])
        } else {
            code
        };
        let mut tail = String::new();
        if self.many {
            let passed = reports.iter().filter(|r| r.exit_code == exit::PASS).count();
            tail.push_str(&format!("{passed} of {} scenarios passed\n", reports.len()));
        }
        tail.push_str(&terminal::result_line(exit::word(code), code, self.theme));
        self.say(&all.scrub(&tail));
        if let Human::Stderr { hold: true, held } = &mut self.human
            && code != exit::PASS
        {
            eprint!("{}", std::mem::take(held));
        }
        code
    }
}

/// Why the `--out` dir cannot take the run's files, if it cannot: it cannot be made, or a file
/// cannot be written in it (a read-only or full file system).
fn unwritable(dir: &Path) -> Option<String> {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return Some(format!("cannot create --out {}: {e}", dir.display()));
    }
    let check = dir.join(format!(".authchain-write-check-{}", std::process::id()));
    let written = std::fs::write(&check, b"check");
    let _ = std::fs::remove_file(&check);
    written
        .err()
        .map(|e| format!("cannot write in --out {}: {e}", dir.display()))
}

/// Where a run's artifacts go: the `--out` dir, one dir per scenario file when there are several.
fn artifact_dir(out: &Path, path: Option<&PathBuf>, many: bool) -> PathBuf {
    match (path, many) {
        (Some(p), true) => out.join(p.file_stem().unwrap_or_default()),
        _ => out.to_path_buf(),
    }
}
