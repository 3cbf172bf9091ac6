//! The human report: the chain as a timeline of hops with their cookies, the probes, the
//! findings (most likely root cause first) and the last line `result: …`.

use super::Report;
use crate::trace::{CookieAction, Hop, SetCookie, Severity};
use std::fmt::Write;

/// What a piece of text means; the binary decides how it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Good,
    Bad,
    Warn,
    Dim,
    Bold,
}

pub trait Theme {
    fn paint(&self, text: &str, style: Style) -> String;
}

/// No decoration at all.
pub struct Plain;

impl Theme for Plain {
    fn paint(&self, text: &str, _: Style) -> String {
        text.to_string()
    }
}

/// The whole report, ending with the `result:` line, fitted to `width` columns.
pub fn render(report: &Report, theme: &dyn Theme, width: usize) -> String {
    let mut out = body(report, theme, width);
    out.push_str(&result_line(report.verdict.word(), report.exit_code, theme));
    super::wrap::fit(&out, width)
}

/// The report without its `result:` line (for `run` with several scenarios); its tables are
/// laid out for `width` columns, and its lines are for [`super::wrap::fit`] to break.
/// The line under a report's header when `--insecure` was given.
pub const INSECURE: &str = "  INSECURE: no TLS certificate was verified (--insecure); a pass here says nothing about trust";

/// `text` (a report whose first line is its header) with the [`INSECURE`] line under the header.
pub fn with_insecure_line(text: &str, th: &dyn Theme) -> String {
    let (head, rest) = text.split_once('\n').unwrap_or((text, ""));
    format!("{head}\n{}\n{rest}", th.paint(INSECURE, Style::Bad))
}

pub fn body(report: &Report, th: &dyn Theme, width: usize) -> String {
    let t = &report.trace;
    let mut o = String::new();
    let _ = writeln!(o, "{} {}", th.paint("authchain:", Style::Bold), t.scenario);
    let mut chain = format!("  app {}", t.chain.app);
    for (k, v) in [("preset", &t.chain.preset), ("provider", &t.chain.provider)] {
        if let Some(v) = v {
            let _ = write!(chain, " · {k} {v}");
        }
    }
    let _ = write!(chain, " · driver {}", t.chain.driver);
    let _ = writeln!(o, "{}", th.paint(&chain, Style::Dim));
    if t.chain.insecure {
        let _ = writeln!(o, "{}", th.paint(INSECURE, Style::Bad));
    }
    if let Some(s) = &t.chain.start_endpoint {
        let _ = writeln!(
            o,
            "{}",
            th.paint(&format!("  start endpoint {s}"), Style::Dim)
        );
    }

    if let Some(check) = &t.idp_check {
        let code = check["exit_code"].as_i64().unwrap_or(3) as i32;
        let verdict = match code {
            0 => {
                "pass: the IdP issued a verified ID token to the app's client, so a failure below is the app's"
            }
            1 => "fail: the IdP itself gets something wrong (the findings titled \"IdP check\")",
            _ => "error: the login at the IdP alone could not finish",
        };
        let style = if code == 0 { Style::Good } else { Style::Bad };
        let _ = writeln!(o, "{}", th.paint(&format!("  IdP check {verdict}"), style));
    }
    if let Some(rec) = &t.recorded {
        let by = rec
            .creator
            .as_deref()
            .map(|c| format!(" written by {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "{}",
            th.paint(
                &format!(
                    "  read from a {}{by}: {} of its {} entries are the chain's; offline, nothing was replayed",
                    rec.format.to_uppercase(),
                    rec.chain_entries,
                    rec.entries
                ),
                Style::Dim
            )
        );
    }
    for r in &t.retries {
        let why = r
            .error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        let line = format!(
            "  attempt {} gave no usable answer (exit {}){why}; tried again after {} ms",
            r.attempt, r.exit_code, r.delay_ms
        );
        let _ = writeln!(o, "{}", th.paint(&line, Style::Warn));
    }
    let _ = writeln!(o, "\n{}", th.paint("hops", Style::Bold));
    let mut origin = None;
    for h in &t.hops {
        let (here, path) = split_origin(&h.url);
        if here != origin {
            if let Some(here) = &here {
                let _ = writeln!(o, "  {here}");
            }
            origin = here;
        }
        hop(&mut o, h, path, t.chain.callback_hop == Some(h.n), th);
    }
    if t.hops.is_empty() {
        let _ = writeln!(o, "  (none)");
    }

    if !t.probes.is_empty() {
        let _ = writeln!(o, "\n{}", th.paint("probes", Style::Bold));
        let width = t.probes.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &t.probes {
            let verdict = if p.passed {
                th.paint("pass", Style::Good)
            } else {
                th.paint(
                    &format!("fail: {}", p.reason.clone().unwrap_or_default()),
                    Style::Bad,
                )
            };
            let native = if p.native { " (native)" } else { "" };
            let _ = writeln!(
                o,
                "  {:width$}  {} {} → {}  {verdict}{native}",
                p.name, p.method, p.url, p.status
            );
            if let Some(page) = &p.page {
                let verdict = match (&page.error, page.passed) {
                    (Some(e), _) => th.paint(&format!("failed: {e}"), Style::Bad),
                    (None, true) => th.paint("pass", Style::Good),
                    (None, false) => th.paint("fail", Style::Bad),
                };
                let _ = writeln!(
                    o,
                    "  {:width$}  from the page → {}  {verdict}",
                    "", page.status
                );
            }
            if !p.body_excerpt.is_empty() {
                let _ = writeln!(
                    o,
                    "  {:width$}  {}",
                    "",
                    th.paint(&format!("body {}", p.body_excerpt), Style::Dim)
                );
            }
        }
    }

    // The guard findings show the matrix as their evidence; otherwise it gets its own section.
    if !t.matrix.is_empty() && !report.findings.iter().any(|f| f.id.is_guard()) {
        let _ = writeln!(o, "\n{}", th.paint("matrix", Style::Bold));
        for p in t
            .probes
            .iter()
            .filter(|p| t.matrix.iter().any(|r| r.probe == p.name) && !p.native)
        {
            for line in super::evidence::matrix_table(
                t,
                &p.name,
                p.compare_to.as_deref().unwrap_or_default(),
                width.saturating_sub(2),
            ) {
                let _ = writeln!(o, "  {line}");
            }
        }
    }

    if !t.checks.is_empty() {
        let _ = writeln!(o, "\n{}", th.paint("checks", Style::Bold));
        for c in &t.checks {
            let (word, style) = match c.status {
                crate::trace::CheckStatus::Passed => ("pass", Style::Good),
                crate::trace::CheckStatus::Failed => ("FAIL", Style::Bad),
                crate::trace::CheckStatus::NotRun => ("not run", Style::Warn),
            };
            let _ = writeln!(
                o,
                "  {:<16} {}  {}",
                c.check.as_str(),
                th.paint(word, style),
                c.detail
            );
            for s in &c.steps {
                let _ = writeln!(o, "  {:<16} {}", "", th.paint(s, Style::Dim));
            }
            if let Some(m) = &c.matrix {
                for (line, bad) in super::check_matrix(m, width.saturating_sub(4)) {
                    let line = if bad {
                        th.paint(&line, Style::Bad)
                    } else {
                        line
                    };
                    let _ = writeln!(o, "    {line}");
                }
            }
        }
    }
    if let Some(rec) = t.recorded.as_ref().filter(|r| !r.unknown.is_empty()) {
        let _ = writeln!(
            o,
            "\n{}",
            th.paint("unknown (not in the recording)", Style::Bold)
        );
        for u in &rec.unknown {
            let _ = writeln!(o, "  - {u}");
        }
    }
    findings(&mut o, &report.findings, Some((t, width)), th);

    if let Some(e) = &t.error {
        error_line(&mut o, e, th);
    }
    o.push('\n');
    o
}

/// The end of a check command's text: its findings, its stop, its result line.
pub fn check_tail(o: &mut String, result: &crate::trace::CheckResult, th: &dyn Theme) {
    findings(o, &result.findings, None, th);
    if let Some(e) = &result.error {
        error_line(o, e, th);
    }
    o.push('\n');
    o.push_str(&result_line(
        crate::exit::word(result.exit_code),
        result.exit_code,
        th,
    ));
}

/// The line of a run's stop: `error in step <step> at hop <n>: <message>`.
pub fn error_line(o: &mut String, e: &crate::trace::RunError, th: &dyn Theme) {
    let _ = writeln!(
        o,
        "\n{}",
        th.paint(&format!("error in {}", e.describe()), Style::Bad)
    );
}

/// The findings block: each as `<id>: <title>`, its evidence, why, its causes and the fix.
/// With the trace, the evidence is laid out again for `width` columns (its tables fitted).
pub fn findings(
    o: &mut String,
    findings: &[crate::trace::Finding],
    trace: Option<(&crate::trace::Trace, usize)>,
    th: &dyn Theme,
) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n{}", th.paint("findings", Style::Bold));
    for f in findings {
        let style = match f.severity {
            Severity::Error => Style::Bad,
            Severity::Warning => Style::Warn,
            Severity::Info => Style::Dim,
        };
        let _ = writeln!(o, "{}: {}", th.paint(f.id.as_str(), style), f.title);
        let lines = match trace {
            Some((t, width)) => super::evidence::lines_in(t, &f.evidence, width.saturating_sub(4)),
            None => f.evidence_lines.clone(),
        };
        if !lines.is_empty() {
            let _ = writeln!(o, "  evidence:");
            for e in &lines {
                let _ = writeln!(o, "    {e}");
            }
        }
        let _ = writeln!(o, "  why: {}", f.explanation);
        if !f.causes.is_empty() {
            let _ = writeln!(o, "  causes, likeliest first:");
            for (i, c) in f.causes.iter().enumerate() {
                let _ = writeln!(o, "    {}. [{}] {}", i + 1, c.key.as_str(), c.text);
            }
        }
        let _ = writeln!(o, "  fix: {}", f.fix);
    }
}

/// A check's verdict as the check lines show it.
pub fn verdict(v: crate::jwt::Verdict) -> (&'static str, Style) {
    match v {
        crate::jwt::Verdict::Pass => ("pass", Style::Good),
        crate::jwt::Verdict::Fail => ("FAIL", Style::Bad),
        crate::jwt::Verdict::Skip => ("skip", Style::Dim),
    }
}

/// Checks with their verdicts, one a line, the names aligned: `INDENT name  verdict  detail`.
pub fn verdict_lines<'a>(
    o: &mut String,
    rows: impl IntoIterator<Item = (&'a str, crate::jwt::Verdict, &'a str)>,
    indent: &str,
    th: &dyn Theme,
) {
    let rows: Vec<_> = rows.into_iter().collect();
    let width = rows.iter().map(|(c, _, _)| c.len()).max().unwrap_or(0);
    for (check, v, detail) in rows {
        let (word, style) = verdict(v);
        let _ = writeln!(
            o,
            "{indent}{check:width$}  {}  {detail}",
            th.paint(word, style)
        );
    }
}

pub fn result_line(word: &str, code: i32, th: &dyn Theme) -> String {
    let style = match code {
        0 => Style::Good,
        _ => Style::Bad,
    };
    format!(
        "{}\n",
        th.paint(&format!("result: {word} (exit {code})"), style)
    )
}

/// A URL's origin and the rest (path, query, fragment); no origin for what is no URL.
fn split_origin(url: &str) -> (Option<String>, &str) {
    match url::Url::parse(url) {
        Ok(u) if u.has_host() => {
            let origin = u.origin().ascii_serialization();
            // The origin as written in the URL (its case and port as recorded).
            let start = url.find("://").map_or(0, |i| i + 3);
            let end = url[start..]
                .find(['/', '?', '#'])
                .map_or(url.len(), |i| start + i);
            let rest = &url[end..];
            (Some(origin), if rest.is_empty() { "/" } else { rest })
        }
        _ => (None, url),
    }
}

/// A hop's line (its URL as `path`, under its origin's line) and the lines of what it did.
fn hop(o: &mut String, h: &Hop, path: &str, callback: bool, th: &dyn Theme) {
    let status_style = match h.status {
        200..=299 => Style::Good,
        300..=399 => Style::Dim,
        _ => Style::Bad,
    };
    let tag = if callback { "  [callback]" } else { "" };
    let _ = writeln!(
        o,
        "  {:>3}  {:<4} {}  {}{}  {}",
        h.n.0,
        h.method,
        th.paint(&h.status.to_string(), status_style),
        path,
        tag,
        th.paint(&format!("{:.0} ms", h.duration_ms), Style::Dim)
    );
    let pad = "         ";
    if let Some(l) = &h.location {
        // A redirect within the hop's origin shows its path; one that leaves it, the whole URL.
        let shown = match (split_origin(l), split_origin(&h.url)) {
            ((Some(to), rest), (Some(from), _)) if to == from => rest,
            _ => l.as_str(),
        };
        let _ = writeln!(o, "{pad}→ {shown}");
    }
    if !h.cookie_sent.is_empty() {
        let sent: Vec<String> = h
            .cookie_sent
            .iter()
            .map(|c| format!("{}={}", c.name, c.value.shown()))
            .collect();
        let _ = writeln!(
            o,
            "{pad}{}",
            th.paint(&format!("sent     {}", sent.join("; ")), Style::Dim)
        );
    }
    for c in &h.set_cookies {
        let _ = writeln!(o, "{pad}{}", cookie(c, th));
    }
    if let Some(code) = &h.error_code {
        let mut line = format!("error={code}");
        if let Some(d) = &h.error_description {
            let _ = write!(line, "  ({d})");
        }
        let _ = writeln!(o, "{pad}{}", th.paint(&line, Style::Bad));
    }
    if let Some(m) = h.page.as_ref().and_then(|p| p.message.as_ref()) {
        let _ = writeln!(o, "{pad}page says \"{m}\"");
    }
    if let Some(b) = &h.body_excerpt {
        let _ = writeln!(o, "{pad}{}", th.paint(&format!("body {b}"), Style::Dim));
    }
}

fn cookie(c: &SetCookie, th: &dyn Theme) -> String {
    let mut attrs = Vec::new();
    if let Some(d) = &c.domain {
        attrs.push(format!("Domain={d}"));
    }
    if let Some(p) = &c.path {
        attrs.push(format!("Path={p}"));
    }
    if let Some(m) = c.max_age {
        attrs.push(format!("Max-Age={m}"));
    } else if let Some(e) = &c.expires {
        attrs.push(format!("Expires={e}"));
    }
    if c.secure {
        attrs.push("Secure".into());
    }
    if c.http_only {
        attrs.push("HttpOnly".into());
    }
    if let Some(s) = &c.same_site {
        attrs.push(format!("SameSite={s}"));
    }
    let attrs = attrs.join("; ");
    match c.action {
        CookieAction::Set => format!(
            "set      {}={}  {}",
            c.name,
            c.value.shown(),
            th.paint(&attrs, Style::Dim)
        ),
        CookieAction::Cleared => format!("cleared  {}  {}", c.name, th.paint(&attrs, Style::Dim)),
        CookieAction::Refused => th.paint(
            &format!(
                "refused  {}={}  {}  ({})",
                c.name,
                c.value.shown(),
                attrs,
                c.refusal
                    .as_ref()
                    .map_or_else(|| "refused".to_string(), ToString::to_string)
            ),
            Style::Warn,
        ),
    }
}
