//! Fitting a text report to a width: every line longer than the width is broken, at a space
//! where there is one, else after a URL's or a JSON body's `&`, `?`, `/`, `,` or `;`, else
//! anywhere; its continuation lines are indented under the line's text. ANSI colour sequences
//! take no width. A fingerprint (`‹sha256:1a2b3c4d 81B›`) is never broken, nor is a word made
//! of a token's characters (a value shown by `--reveal`, `name=value`): one longer than the
//! width stays whole on a line of its own, so that it can be copied.

/// The width of a report when stdout is not a terminal.
pub const DEFAULT_WIDTH: usize = 100;
/// The narrowest width a report is fitted to (narrower terminals get this width).
pub const MIN_WIDTH: usize = 40;

/// `text` with each of its lines fitted to `width` columns.
pub fn fit(text: &str, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        fit_line(&mut out, line, width);
    }
    out
}

/// The columns `text` takes on a terminal: its characters without ANSI escape sequences.
pub fn columns(text: &str) -> usize {
    cells(text).iter().filter(|c| !c.escape).count()
}

/// One character of a line, or one whole escape sequence (which takes no column).
#[derive(Clone, Copy)]
struct Cell<'a> {
    text: &'a str,
    escape: bool,
    /// Inside a fingerprint `‹…›`: no break here.
    guarded: bool,
    /// In a word made only of a token's characters: no break inside it.
    atomic: bool,
}

/// The characters of a cookie value, a token or a code (base64, base64url, percent-encoding,
/// a signed value's `.`, a pair's `=`).
fn token_char(c: &str) -> bool {
    c.len() == 1 && c.as_bytes()[0].is_ascii_alphanumeric()
        || matches!(c, "." | "_" | "-" | "~" | "+" | "/" | "=" | "%")
}

fn cells(line: &str) -> Vec<Cell<'_>> {
    let mut cells = Vec::with_capacity(line.len());
    let mut guarded = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (a letter).
            let end = rest
                .char_indices()
                .skip(1)
                .find(|(_, ch)| ch.is_ascii_alphabetic())
                .map_or(rest.len(), |(i, ch)| i + ch.len_utf8());
            cells.push(Cell {
                text: &rest[..end],
                escape: true,
                guarded,
                atomic: false,
            });
            rest = &rest[end..];
            continue;
        }
        let len = c.len_utf8();
        if c == '‹' {
            guarded = true;
        }
        cells.push(Cell {
            text: &rest[..len],
            escape: false,
            guarded,
            atomic: false,
        });
        if c == '›' {
            guarded = false;
        }
        rest = &rest[len..];
    }
    // Words (runs between spaces) of a token's characters only.
    let mut start = 0;
    while start < cells.len() {
        let end = (start..cells.len())
            .find(|&i| cells[i].text == " ")
            .unwrap_or(cells.len());
        let word = &cells[start..end];
        let atomic =
            word.iter().any(|c| !c.escape) && word.iter().all(|c| c.escape || token_char(c.text));
        for c in &mut cells[start..end] {
            c.atomic = atomic && !c.escape;
        }
        start = end + 1;
    }
    cells
}

fn fit_line(out: &mut String, line: &str, width: usize) {
    if columns(line) <= width {
        out.push_str(line);
        return;
    }
    let lead = line.len() - line.trim_start_matches(' ').len();
    // Continuation lines start under the line's text, a little further in; never so far in
    // that little room is left.
    let indent = (lead + 4).min(width / 2);
    let mut cells = cells(line);
    let mut first = true;
    loop {
        let room = if first { width } else { width - indent };
        let Some(cut) = break_at(&cells, room) else {
            push_cells(out, &cells, first, indent);
            return;
        };
        push_cells(out, &cells[..cut], first, indent);
        // Spaces at the break are dropped.
        let mut next = cut;
        while next < cells.len() && cells[next].text == " " {
            next += 1;
        }
        out.push('\n');
        if next >= cells.len() {
            return;
        }
        cells = cells.split_off(next);
        first = false;
    }
}

fn push_cells(out: &mut String, cells: &[Cell<'_>], first: bool, indent: usize) {
    let mut text: String = cells.iter().map(|c| c.text).collect();
    if !first {
        text = format!("{:indent$}{}", "", text.trim_start_matches(' '));
    }
    out.push_str(text.trim_end_matches(' '));
}

/// Where to end the part of `cells` that fits in `room` columns; `None` when all of it fits.
fn break_at(cells: &[Cell<'_>], room: usize) -> Option<usize> {
    let mut cols = 0;
    let mut end = cells.len();
    for (i, c) in cells.iter().enumerate() {
        if c.escape {
            continue;
        }
        if cols == room {
            end = i;
            break;
        }
        cols += 1;
    }
    if end == cells.len() {
        return None;
    }
    let space = |i: usize| i > 0 && cells[i].text == " " && !cells[i].guarded;
    // At a space (what follows it starts the next line), keeping some text on this line.
    let floor = end / 3;
    if let Some(i) = (floor..=end).rev().find(|&i| space(i)) {
        return Some(i);
    }
    // After a URL's or a body's separators.
    if let Some(i) = (floor.max(1)..end).rev().find(|&i| {
        matches!(cells[i].text, "&" | "?" | "/" | "," | ";")
            && !cells[i].guarded
            && !cells[i].atomic
    }) {
        return Some(i + 1);
    }
    // Before a fingerprint that would be cut.
    if let Some(i) = (floor.max(1)..end).rev().find(|&i| cells[i].text == "‹") {
        return Some(i);
    }
    // At any space on the line.
    if let Some(i) = (1..floor).rev().find(|&i| space(i)) {
        return Some(i);
    }
    // A token is not cut: the line ends after it.
    if cells[end].atomic {
        let after = (end..cells.len()).find(|&i| cells[i].text == " ");
        return after;
    }
    // Nor is a fingerprint wider than the room: the line ends after it.
    if cells[end].guarded && cells[end].text != "‹" {
        let close = (end..cells.len()).find(|&i| cells[i].text == "›")?;
        return (close + 1 < cells.len()).then_some(close + 1);
    }
    Some(end.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widest(text: &str) -> usize {
        text.lines().map(columns).max().unwrap_or(0)
    }

    #[test]
    fn lines_that_fit_are_untouched() {
        let text = "hops\n  1  GET 200  /x  2 ms\n";
        assert_eq!(fit(text, 100), text);
    }

    #[test]
    fn prose_breaks_at_spaces_under_its_text() {
        let words = "word ".repeat(60);
        let text = format!("  why: {words}");
        let got = fit(&text, 60);
        assert!(widest(&got) <= 60, "{got}");
        for line in got.lines().skip(1) {
            assert!(line.starts_with("      w"), "{line:?}");
        }
        assert_eq!(
            got.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn urls_break_after_their_separators_and_keep_every_character() {
        let url = "http://127.0.0.1:44083/authorize?response_type=code&client_id=demo&redirect_uri=http%3A%2F%2Flocalhost%3A39243%2Fapi%2Fauth%2Fcallback%2Fdemo&scope=openid+email+profile";
        let text = format!("       → {url}");
        let got = fit(&text, 50);
        assert!(widest(&got) <= 50, "{got}");
        let joined: String = got.lines().map(str::trim_start).collect();
        assert_eq!(joined, text.trim_start());
    }

    #[test]
    fn fingerprints_are_never_cut() {
        let fp = "‹sha256:224d6a1b 32B›";
        let text = format!("  set  {}", [fp; 8].join("&x="));
        for width in 40..80 {
            let got = fit(&text, width);
            assert!(widest(&got) <= width, "{width}: {got}");
            assert_eq!(got.matches(fp).count(), 8, "{width}: {got}");
        }
    }

    #[test]
    fn colour_takes_no_width() {
        let red = "\u{1b}[1;31m401\u{1b}[0m";
        let text = format!("  1  GET {red}  {}", "word ".repeat(16));
        assert_eq!(columns(&text), 2 + 1 + 2 + 3 + 1 + 3 + 2 + 80);
        let got = fit(&text, 60);
        assert!(widest(&got) <= 60);
        assert!(got.contains(red));
    }

    #[test]
    fn a_long_body_is_cut_and_keeps_every_character() {
        let text = format!("  body {{\"a\":\"{}\"}}", "x".repeat(130));
        let got = fit(&text, 50);
        assert!(widest(&got) <= 50, "{got}");
        assert_eq!(got.chars().filter(|c| *c == 'x').count(), 130);
    }

    #[test]
    fn a_revealed_value_stays_whole_on_its_line() {
        let value = format!("{}.{}%2F{}", "a".repeat(60), "b".repeat(30), "c".repeat(10));
        let text = format!("         set      session_token={value}  Path=/; HttpOnly");
        let got = fit(&text, 60);
        assert!(got.contains(&format!("session_token={value}")), "{got}");
        assert!(got.lines().count() >= 2, "{got}");
    }
}
