//! No password, cookie value or token reaches any output, in any encoding, unless `--reveal`
//! (and passwords not even then).

use crate::harness::{Chain, Opts, PASSWORD};

fn encodings(secret: &str) -> Vec<String> {
    let decoded = url::form_urlencoded::parse(format!("x={secret}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut forms = vec![secret.to_string(), decoded.clone()];
    for s in [secret, decoded.as_str()] {
        forms.push(url::form_urlencoded::byte_serialize(s.as_bytes()).collect());
        forms.push(authchain::redact::percent_encode(s));
        forms.push(
            serde_json::to_string(s)
                .unwrap()
                .trim_matches('"')
                .to_string(),
        );
    }
    forms
}

fn outputs(chain: &Chain, reveal: bool) -> (String, String) {
    let guarded = chain.guarded();
    let mut extra = vec!["--probe", guarded.as_str()];
    if reveal {
        extra.push("--reveal");
    }
    let run = chain.login("alice", &extra, &[]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    (run.out.all(), run.json_text)
}

#[test]
fn nothing_secret_leaks() {
    let chain = Chain::start(Opts {
        secure: true,
        ..Opts::default()
    });
    let (text, json) = outputs(&chain, false);
    let issued = chain.issued_secrets();
    assert_eq!(
        issued.len(),
        2,
        "one session token, raw and signed: {issued:?}"
    );
    for secret in issued.iter().map(String::as_str).chain([PASSWORD]) {
        for form in encodings(secret) {
            assert!(!text.contains(&form), "{form} leaked into stdout/stderr");
            assert!(!json.contains(&form), "{form} leaked into the JSON report");
        }
    }
    assert!(text.contains("‹sha256:"), "values show as fingerprints");
}

#[test]
fn reveal_shows_cookie_values_but_never_the_password() {
    let chain = Chain::start(Opts::default());
    let (text, json) = outputs(&chain, true);
    let signed = chain.issued_secrets()[1].clone();
    assert!(text.contains(&signed), "--reveal shows the session cookie");
    assert!(
        json.contains(&signed),
        "--reveal keeps the value in the report"
    );
    for form in encodings(PASSWORD) {
        assert!(
            !text.contains(&form) && !json.contains(&form),
            "the password leaked as {form}"
        );
    }
}
