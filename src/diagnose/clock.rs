//! Clock skew: the servers' `Date` headers against the local clock at receipt, and the times of
//! any JWT seen (issued in the future, already expired on arrival).

use super::cookies::human;
use super::finding;
use crate::trace::{Evidence, Finding, FindingId, Severity, Trace};

/// Beyond this, clocks disagree enough to matter.
const WARN_SECS: i64 = 60;
/// Beyond this, token checks with the usual leeway (5 minutes) fail.
const ERROR_SECS: i64 = 300;

pub fn rules(t: &Trace) -> Vec<Finding> {
    let (worst, evidence) = skew(t);
    if evidence.is_empty() {
        return Vec::new();
    }
    vec![finding(
        FindingId::ClockSkew,
        if worst > ERROR_SECS {
            Severity::Error
        } else {
            Severity::Warning
        },
        format!("Clocks disagree by up to {}", human(worst)),
        evidence,
        "A server's clock (or the clock that stamped a token) is far from this machine's. Token checks \
         compare iat/nbf/exp against the local clock with a small leeway, so a skewed IdP issues tokens \
         the app rejects as not yet valid or expired, and cookies with an Expires date may be dropped \
         at once.",
        "Synchronise the servers' clocks (NTP/chrony) — or this machine's, if it is the one that is off.",
    )]
}

/// The worst disagreement of a clock with the local one past a minute (the servers' `Date`
/// headers, the times of the JWTs seen), in seconds, with what shows it; none: `(0, [])`.
fn skew(t: &Trace) -> (i64, Vec<Evidence>) {
    let mut evidence = Vec::new();
    let mut worst = 0i64;
    let dated = t
        .hops
        .iter()
        .map(|h| (h.n.to_string(), &h.url, &h.date, h.received_at_ms))
        .chain(t.probes.iter().map(|p| {
            (
                format!("probe {}", p.name),
                &p.url,
                &p.date,
                p.received_at_ms,
            )
        }));
    for (what, url, date, received_ms) in dated {
        let Some(server) = date.as_deref().and_then(parse_http_date) else {
            continue;
        };
        if received_ms == 0 {
            continue;
        }
        let skew = server.saturating_sub((received_ms / 1000) as i64);
        if skew.saturating_abs() > WARN_SECS {
            worst = worst.max(skew.saturating_abs());
            evidence.push(Evidence::note(format!(
                "{what}: {url} answered with Date {} — {} {} the local clock",
                date.as_deref().unwrap_or_default(),
                human(skew.saturating_abs()),
                if skew > 0 { "ahead of" } else { "behind" }
            )));
        }
    }
    for h in &t.hops {
        let now = (h.received_at_ms / 1000) as i64;
        let values = h
            .set_cookies
            .iter()
            .map(|c| (&c.name, &c.value))
            .chain(h.cookie_sent.iter().map(|c| (&c.name, &c.value)));
        for (name, value) in values {
            let Some(jwt) = &value.jwt else { continue };
            // Times still ahead of the local clock: issued in the future, or not yet valid.
            let ahead = [
                (jwt.iat, "was issued {} in the future (iat)"),
                (jwt.nbf, "is not valid for another {} (nbf)"),
            ];
            for (at, says) in ahead {
                let Some(secs) = at.map(|t| t.saturating_sub(now)).filter(|s| *s > WARN_SECS)
                else {
                    continue;
                };
                worst = worst.max(secs);
                evidence.push(Evidence::note(format!(
                    "{}: the JWT in `{name}` {}",
                    h.n,
                    says.replace("{}", &human(secs))
                )));
            }
            if let Some(exp) = jwt.exp.filter(|exp| *exp < now) {
                worst = worst.max(now.saturating_sub(exp));
                evidence.push(Evidence::note(format!(
                    "{}: the JWT in `{name}` had expired {} before it arrived (exp)",
                    h.n,
                    human(now.saturating_sub(exp))
                )));
            }
        }
    }
    (worst, evidence)
}

/// The IdP's clock against the app's, by their `Date` headers as each was received (this
/// machine's own clock cancels out), where they disagree past a minute.
pub(crate) fn idp_app_skew(t: &Trace) -> Option<Evidence> {
    let hosts = super::app_hosts(t);
    // A server's clock minus this machine's, at a hop's receipt.
    let offset = |app: bool| {
        t.hops.iter().find_map(|h| {
            let ours = hosts.contains(&crate::web::host_port(&h.url));
            let date = parse_http_date(h.date.as_deref()?)?;
            (ours == app && h.received_at_ms > 0)
                .then(|| (h, date - (h.received_at_ms / 1000) as i64))
        })
    };
    let ((app_hop, app), (idp_hop, idp)) = (offset(true)?, offset(false)?);
    let skew = idp - app;
    (skew.saturating_abs() > WARN_SECS).then(|| {
        Evidence::note(format!(
            "the IdP's clock ({}, Date {}) is {} {} the app's ({}, Date {})",
            idp_hop.n,
            idp_hop.date.as_deref().unwrap_or_default(),
            human(skew.saturating_abs()),
            if skew > 0 { "ahead of" } else { "behind" },
            app_hop.n,
            app_hop.date.as_deref().unwrap_or_default(),
        ))
    })
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, hms, "GMT"] = parts.as_slice() else {
        return None;
    };
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| m == month)? as u8 + 1;
    let mut t = hms.split(':').map(|x| x.parse::<u8>().ok());
    let (h, m, sec) = (t.next()??, t.next()??, t.next()??);
    let date = time::Date::from_calendar_date(
        year.parse().ok()?,
        time::Month::try_from(month).ok()?,
        day.parse().ok()?,
    )
    .ok()?;
    let time = time::Time::from_hms(h, m, sec).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skewed_server_date_is_found() {
        let mut t = Trace::default();
        let received = 784_111_777_000u64;
        t.probes.push(crate::trace::Probe {
            native: true,
            date: Some("Sun, 06 Nov 1994 09:49:37 GMT".into()),
            received_at_ms: received,
            duration_ms: 1.0,
            ..crate::trace::Probe::plain("native", "http://a/", 200)
        });
        let f = rules(&t);
        assert_eq!(f[0].id, "clock-skew");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            super::super::evidence_text(&t, &f[0])[0].contains("1.0 hours ahead of"),
            "{:?}",
            f[0].evidence
        );
        t.probes[0].date = Some("Sun, 06 Nov 1994 08:49:40 GMT".into());
        assert!(rules(&t).is_empty(), "3 s is no skew");
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn the_idps_clock_is_read_against_the_apps() {
        let dated = |n: u32, url: &str, date: &str, received_s: u64| {
            let mut h = crate::trace::Hop::plain(n, url, 302);
            h.date = Some(date.into());
            h.received_at_ms = received_s * 1000;
            h
        };
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        let trace = |idp_date: &str| {
            let mut t = Trace::default();
            t.chain.app = "http://app.test".into();
            t.hops = vec![
                // This machine's clock is an hour behind both: it cancels out.
                dated(
                    1,
                    "http://app.test/start",
                    "Sun, 06 Nov 1994 09:49:37 GMT",
                    784_111_777,
                ),
                dated(2, "http://idp.test/authorize", idp_date, 784_111_778),
            ];
            t
        };
        assert!(idp_app_skew(&trace("Sun, 06 Nov 1994 09:49:40 GMT")).is_none());
        let behind = idp_app_skew(&trace("Sun, 06 Nov 1994 09:39:38 GMT")).expect("skewed");
        assert!(
            format!("{behind:?}").contains("10 min behind the app's"),
            "{behind:?}"
        );
    }
}
