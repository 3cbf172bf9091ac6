//! Property tests over every parser that faces the network or the user, and the redactor:
//! nothing panics on any input, no encoding of a secret survives the scrub, and what is encoded
//! decodes back. A fixed budget in `cargo test` (`PROPTEST_CASES`, 64 by default);
//! `bench/properties.sh` runs them longer.

use crate::drive::record::Record;
use crate::redact::{Redactor, Secret};
use proptest::prelude::*;
use url::Url;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text with the characters that break parsers: quotes, brackets, separators, controls, and
/// letters beyond ASCII.
fn nasty() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            any::<char>(),
            proptest::sample::select(vec![
                '<', '>', '"', '\'', '=', ';', ',', '&', '%', '.', '/', '[', ']', '{', '}', ':',
                '\n', '\r', '\0', ' ', '\\',
            ]),
            proptest::char::range('a', 'z'),
        ],
        0..200,
    )
    .prop_map(|c| c.into_iter().collect())
}

/// A secret as a password or token is: 12 to 40 characters of letters, digits and the
/// symbols passwords carry.
fn secret() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9+/=_!@#$%^&*().~-]{12,40}").expect("a valid regex")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_set_cookie_never_panics(raw in nasty(), secure in any::<bool>()) {
        let url = Url::parse(if secure { "https://app.test/a/b" } else { "http://app.test/a" })
            .expect("a URL");
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(v) = reqwest::header::HeaderValue::from_str(&raw) {
            headers.append(reqwest::header::SET_COOKIE, v);
        }
        let mut record = Record::default();
        let ctx = crate::web::RequestContext {
            cross_site: secure,
            safe_method: true,
            navigation: !secure,
        };
        let mut r = Redactor::new(false);
        let _ = record.store_cookies(&url, &headers, ctx, &mut r);
        let _ = record.cookies_for(&url, ctx);
    }

    #[test]
    fn the_form_reader_never_panics(html in nasty(), name in "[a-z_]{1,12}") {
        let base = Url::parse("http://idp.test/login").expect("a URL");
        let _ = crate::drive::idp::form::parse(&html, &base);
        let _ = crate::drive::idp::form::sign_in(&html, &base, None);
        let _ = crate::drive::idp::form::named_value(&html, &name);
        let wrapped = format!("<form method=post action=\"{html}\"><input name=\"{name}\" value=\"{html}\"></form>");
        let _ = crate::drive::idp::form::parse(&wrapped, &base);
    }

    #[test]
    fn the_performance_log_never_panics(message in nasty(), method in "[A-Za-z.]{0,40}") {
        let entries = vec![
            serde_json::json!({ "message": message }),
            serde_json::json!({ "message": serde_json::json!({
                "message": { "method": method, "params": { "requestId": message, "response": { "status": 302, "headers": { "location": message } } } }
            }).to_string() }),
        ];
        let events = crate::drive::browser::perflog::events(&entries);
        let mut r = Redactor::new(false);
        let _ = crate::drive::browser::perflog::hops(&events, 1, &[], &[], &mut r);
    }

    #[test]
    fn a_jwt_never_panics(header in nasty(), payload in nasty(), raw in nasty()) {
        use base64::Engine;
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let _ = crate::redact::JwtFacts::read(&raw);
        let _ = crate::redact::JwtFacts::read(&format!("{}.{}.sig", b(&header), b(&payload)));
        let claims = format!(r#"{{"exp":{},"iat":"{}"}}"#, payload.len(), header.escape_default());
        let _ = crate::redact::JwtFacts::read(&format!("{}.{}.sig", b(r#"{"alg":"none"}"#), b(&claims)));
        let extreme = format!(r#"{{"exp":{},"nbf":{}}}"#, i64::MIN, i64::MAX);
        for claims in [claims.as_str(), extreme.as_str(), payload.as_str()] {
            let token = format!("{}.{}.sig", b(r#"{"alg":"none"}"#), b(claims));
            let _ = crate::jwt::decode(&token).map(|d| d.summary(i64::from(raw.len() as u32)));
        }
    }

    #[test]
    fn a_scenario_never_panics(text in nasty(), value in nasty()) {
        use crate::scenario::{Lookup, from_toml};
        let _ = from_toml(&text, "p.toml", Lookup::ValidateOnly);
        let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
        let shaped = format!(
            "[chain]\napp = \"{quoted}\"\n[[chain.start]]\nrequest = \"GET {quoted}\"\ncapture = {{ t = \"json:{quoted}\" }}\n[[chain.start]]\nrequest = \"POST http://a.test/${{capture.t}}\"\n"
        );
        let _ = from_toml(&shaped, "p.toml", Lookup::ValidateOnly);
    }

    #[test]
    fn no_encoding_of_a_secret_survives_the_scrub(secret in secret(), around in nasty()) {
        let mut r = Redactor::new(false);
        r.add_secret(&Secret::new(secret.clone()));
        let forms = crate::redact::encodings(&secret);
        let text = forms.iter().map(|f| format!("{around}{f}{around}")).collect::<String>();
        let scrubbed = r.scrub(&text);
        for form in &forms {
            prop_assert!(!scrubbed.as_str().contains(form.as_str()), "{form} survived in {}", scrubbed.as_str());
        }
        // A value recorded as sensitive is gone too.
        let mut r = Redactor::new(false);
        r.sensitive(&secret);
        let scrubbed = r.scrub(&text);
        prop_assert!(!scrubbed.as_str().contains(secret.as_str()));
    }

    #[test]
    fn a_har_holds_every_hop_and_no_secret(
        hops in proptest::collection::vec((nasty(), 100u16..600, nasty()), 0..6),
        secret in secret(),
        ms in any::<u32>(),
    ) {
        use crate::trace::{Hop, SetCookie, Trace};
        let mut r = Redactor::new(false);
        let mut trace = Trace::default();
        for (i, (url, status, text)) in hops.iter().enumerate() {
            let mut hop = Hop::plain(i as u32 + 1, url, *status);
            hop.location = Some(format!("{url}?code={secret}"));
            hop.body_excerpt = Some(format!("{text}{secret}"));
            hop.content_type = Some(text.clone());
            hop.received_at_ms = u64::from(ms);
            hop.duration_ms = f64::from(ms);
            let mut cookie = SetCookie::plain(text);
            cookie.value = r.sensitive(&secret);
            hop.set_cookies.push(cookie);
            trace.hops.push(hop);
        }
        let report = crate::report::Report::new(trace);
        let har = crate::report::har::render(&[report]);
        // As every output leaves: parsed, each string scrubbed, written again.
        let value: serde_json::Value = serde_json::from_str(&har).expect("the HAR is JSON");
        let written = r.scrub_json_text(&value);
        let back: serde_json::Value =
            serde_json::from_str(written.as_str()).expect("the scrubbed HAR is JSON");
        let entries = back["log"]["entries"].as_array().expect("entries");
        prop_assert_eq!(entries.len(), hops.len());
        for (entry, (url, status, _)) in entries.iter().zip(&hops) {
            prop_assert_eq!(entry["response"]["status"].as_u64(), Some(u64::from(*status)));
            let shown = r.scrub(url);
            prop_assert_eq!(entry["request"]["url"].as_str(), Some(shown.as_str()));
        }
        for form in crate::redact::encodings(&secret) {
            prop_assert!(!written.as_str().contains(form.as_str()), "{form} in the HAR");
        }
    }

    #[test]
    fn percent_encoding_round_trips(raw in nasty()) {
        let encoded = crate::redact::percent_encode(&raw);
        prop_assert_eq!(crate::redact::percent_decode(&encoded), raw);
    }

    #[test]
    fn cookie_reasons_round_trip(name in "[A-Za-z]{1,30}") {
        let reason = crate::trace::CookieReason::parse(&name);
        prop_assert_eq!(reason.as_str(), name.as_str());
    }

    #[test]
    fn a_capture_fills_back(value in nasty()) {
        let got: crate::scenario::start::Captured = [("t".to_string(), value.clone())].into();
        let marked = crate::scenario::start::mark("t");
        prop_assert_eq!(crate::scenario::start::fill(&format!("x{marked}y"), &got), format!("x{value}y"));
    }
}
