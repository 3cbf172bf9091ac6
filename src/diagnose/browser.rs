//! The browser's own view against the HTTP replay: a probe the page's `fetch` answers otherwise
//! than the same request replayed with the browser's cookies.

use super::finding;
use crate::trace::{Evidence, Finding, FindingId, Severity, Trace};

pub fn rules(t: &Trace) -> Vec<Finding> {
    t.probes
        .iter()
        .filter_map(|p| {
            let page = p.page.as_ref()?;
            if page.passed == p.passed {
                return None;
            }
            let page_says = match &page.error {
                Some(e) => format!("failed: {e}"),
                None => format!("{} {}", page.status, if page.passed { "pass" } else { "fail" }),
            };
            Some(finding(
                FindingId::BrowserHttpDisagree,
                Severity::Error,
                format!(
                    "Probe `{}`: the page's own request says {page_says}, the HTTP replay with the browser's cookies {} {}",
                    p.name,
                    p.status,
                    if p.passed { "pass" } else { "fail" }
                ),
                vec![Evidence::PageProbe {
                    probe: p.name.clone(),
                }],
                "The web app's own request (fetch with credentials, from the app's origin) and the same \
                 request replayed with every cookie in the browser's jar answer differently. The browser \
                 withheld a cookie from its request (SameSite, third-party cookie blocking, a Secure \
                 cookie on http), CORS kept the page from sending credentials or reading the answer, or \
                 the page's request carries something the replay does not (an Origin, a header).",
                "Compare the cookies the browser sent on its request with those in its jar; for another \
                 origin, check the API's CORS (Access-Control-Allow-Credentials, the allowed origin) and \
                 the cookie's SameSite.",
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{BodyShape, PageProbe, Probe};

    fn probe(passed: bool, page_passed: bool) -> Probe {
        Probe {
            compare_to: Some("native".into()),
            passed,
            page: Some(PageProbe {
                status: if page_passed { 200 } else { 401 },
                body_shape: BodyShape::JsonObject,
                body_excerpt: String::new(),
                passed: page_passed,
                error: None,
            }),
            ..Probe::plain(
                "guarded",
                "http://app/auth/session",
                if passed { 200 } else { 401 },
            )
        }
    }

    #[test]
    fn disagreement_is_a_finding_agreement_is_not() {
        let mut t = Trace::default();
        t.probes.push(probe(true, false));
        let f = rules(&t);
        assert_eq!(f[0].id, "browser-http-disagree");
        assert!(f[0].title.contains("401 fail"), "{}", f[0].title);
        t.probes[0] = probe(false, false);
        assert!(rules(&t).is_empty());
    }
}
