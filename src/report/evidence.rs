//! Evidence as text: each reference into the trace (a hop, a cookie, a probe, the matrix) as
//! the lines the terminal, JUnit and the JSON report show.

use crate::trace::{Evidence, Hop, MatrixRow, Probe, SetCookie, Trace};

/// The width the matrix of a finding's evidence is laid out for in the JSON report and JUnit.
pub const WIDE: usize = 166;

/// The lines of a finding's evidence; a reference the trace lacks shows nothing.
pub fn lines(t: &Trace, items: &[Evidence]) -> Vec<String> {
    lines_in(t, items, WIDE)
}

/// The lines of a finding's evidence, its tables laid out for `width` columns.
pub fn lines_in(t: &Trace, items: &[Evidence], width: usize) -> Vec<String> {
    let probe = |name: &str| t.probes.iter().find(|p| p.name == name);
    items
        .iter()
        .flat_map(|item| match item {
            Evidence::Hop { hop } => t.hop(*hop).map(hop_line).into_iter().collect(),
            Evidence::CallbackHop { hop } => t
                .hop(*hop)
                .map(|h| format!("callback {}", hop_line(h)))
                .into_iter()
                .collect(),
            Evidence::SetCookie { hop, index } => t
                .hop(*hop)
                .and_then(|h| h.set_cookies.get(*index).map(|c| set_cookie_line(h, c)))
                .into_iter()
                .collect(),
            Evidence::Probe { probe: name } => probe(name)
                .map(|p| {
                    let mut lines = vec![probe_line(p)];
                    if !p.cookie_blocked.is_empty() {
                        lines.push(withheld_line(p));
                    }
                    lines
                })
                .unwrap_or_default(),
            Evidence::PageProbe { probe: name } => probe(name)
                .and_then(|p| p.page.as_ref().map(|page| (p, page)))
                .map(|(p, page)| {
                    vec![
                        format!(
                            "page: {} {} → {} {}",
                            p.method, p.url, page.status, page.body_excerpt
                        ),
                        format!(
                            "http: {} {} → {} {}",
                            p.method, p.url, p.status, p.body_excerpt
                        ),
                    ]
                })
                .unwrap_or_default(),
            Evidence::Matrix { probe, reference } => matrix_table(t, probe, reference, width),
            Evidence::Note { text } => vec![text.clone()],
        })
        .collect()
}

/// A hop in one line: `hop 9: GET http://… → 302 Location …`.
pub fn hop_line(h: &Hop) -> String {
    let mut s = format!("{}: {} {} → {}", h.n, h.method, h.url, h.status);
    if let Some(l) = &h.location {
        s.push_str(&format!(" Location {l}"));
    }
    s
}

/// A probe in one line: `probe native: GET http://… → 200 {…}`.
pub fn probe_line(p: &Probe) -> String {
    format!(
        "probe {}: {} {} → {} {}",
        p.name, p.method, p.url, p.status, p.body_excerpt
    )
}

/// The cookies a probe went without, and why: `probe guarded withheld: sid (SameSiteLax)`.
pub fn withheld_line(p: &Probe) -> String {
    let cookies: Vec<String> = p
        .cookie_blocked
        .iter()
        .map(|b| format!("{} ({})", b.name, b.reason))
        .collect();
    format!("probe {} withheld: {}", p.name, cookies.join(", "))
}

/// A `Set-Cookie` in one line: `hop 1: host:port sets name=‹…›; Path=/`.
pub fn set_cookie_line(h: &Hop, c: &SetCookie) -> String {
    format!("{}: {} sets {}", h.n, crate::web::host_port(&h.url), c.raw)
}

/// The matrix of one compared probe and its reference as text lines for `width` columns: one
/// row per way of carrying the session, one column per endpoint, each cell's body cut to fit;
/// where even short cells do not fit, each row becomes a line of its own and a line per
/// endpoint under it.
pub fn matrix_table(t: &Trace, probe: &str, reference: &str, width: usize) -> Vec<String> {
    // The most of a body a cell shows, and the least worth a table.
    const BODY: usize = 48;
    const LEAST: usize = 20;
    let variant_width = t
        .matrix
        .iter()
        .filter(|r| r.probe == probe)
        .map(|r| r.variant.describe().chars().count())
        .chain(["the session carried as".len()])
        .max()
        .unwrap_or(0);
    // `status mark ` is 7 columns, the ellipsis one, and the columns are two apart.
    let fits = (width.saturating_sub(variant_width + 4) / 2).saturating_sub(8);
    let stacked = fits < LEAST;
    let budget = if stacked {
        width.saturating_sub(4 + probe.len().max(reference.len()) + 2 + 8)
    } else {
        fits
    }
    .clamp(8, BODY);
    let cell = |row: &MatrixRow| {
        let mark = if row.passed { "ok" } else { "no" };
        let mut body: String = row.body_excerpt.chars().take(budget).collect();
        if row.body_excerpt.chars().count() > budget {
            body.push('…');
        }
        format!("{} {mark} {body}", row.status)
    };
    let refs: Vec<&MatrixRow> = t.matrix.iter().filter(|r| r.probe == reference).collect();
    let rows: Vec<(String, String, String)> = t
        .matrix
        .iter()
        .filter(|r| r.probe == probe)
        .map(|row| {
            let other = refs
                .iter()
                .find(|r| r.variant == row.variant)
                .map_or_else(String::new, |r| cell(r));
            (row.variant.describe(), cell(row), other)
        })
        .collect();
    if stacked {
        let w = probe.len().max(reference.len());
        return rows
            .iter()
            .flat_map(|(variant, own, other)| {
                [
                    variant.clone(),
                    format!("  {probe:<w$}  {own}").trim_end().to_string(),
                    format!("  {reference:<w$}  {other}").trim_end().to_string(),
                ]
            })
            .collect();
    }
    let header = (
        "the session carried as".to_string(),
        probe.to_string(),
        reference.to_string(),
    );
    let w1 = rows
        .iter()
        .chain([&header])
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(0);
    let w2 = rows
        .iter()
        .chain([&header])
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0);
    std::iter::once(&header)
        .chain(&rows)
        .map(|(a, b, c)| format!("{a:<w1$}  {b:<w2$}  {c}").trim_end().to_string())
        .collect()
}
