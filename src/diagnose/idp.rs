//! What the IdP's metadata, fetched after a failed login, says of the failure: an issuer that
//! differs from the one the app is configured with (or the one the callback named), and ID
//! tokens signed with an algorithm the app does not verify.

use crate::trace::{CauseKey, Evidence, IdpMeta, Trace};

/// The causes the metadata shows, likeliest first, with the facts that show them.
pub(crate) fn causes(t: &Trace) -> (Vec<CauseKey>, Vec<Evidence>) {
    let Some(meta) = &t.idp else {
        return (Vec::new(), Vec::new());
    };
    let mut keys = Vec::new();
    let mut facts = Vec::new();
    if let Some((said, by)) = issuer_mismatch(t, meta) {
        keys.push(CauseKey::IssuerMismatch);
        facts.push(Evidence::note(format!(
            "{by} `{said}`; the IdP's discovery names `{}`: {}",
            meta.issuer.as_deref().unwrap_or_default(),
            difference(&said, meta.issuer.as_deref().unwrap_or_default())
        )));
    }
    let preset = t
        .chain
        .preset
        .as_deref()
        .and_then(crate::preset::Preset::parse);
    if let Some(why) = alg_unverifiable(meta, preset) {
        keys.push(CauseKey::IdTokenAlg);
        facts.push(Evidence::note(why));
    }
    (keys, facts)
}

/// The issuer the app expects (configured, or named by the callback's `iss`) where it is not
/// the discovered one, and who said it.
fn issuer_mismatch(t: &Trace, meta: &IdpMeta) -> Option<(String, &'static str)> {
    let found = meta.issuer.as_deref()?;
    if let Some(c) = meta.configured_issuer.as_deref() {
        return (c != found).then(|| (c.to_string(), "the app is configured with issuer"));
    }
    let iss = t
        .chain
        .callback_hop
        .and_then(|n| t.hop(n))
        .and_then(|h| url::Url::parse(&h.url).ok())
        .and_then(|u| crate::web::param(&u, "iss"))?;
    (iss != found).then_some((iss, "the callback's `iss` parameter is"))
}

/// Where the issuer an IdP names (`named`) parts from the one expected, in words: the trailing
/// slash by name, else the character where they part.
pub fn issuer_difference(expected: &str, named: &str) -> String {
    if expected.trim_end_matches('/') == named.trim_end_matches('/') {
        "they differ by the trailing slash".into()
    } else {
        difference(expected, named)
    }
}

/// Where two issuers part, in words: the character, or the one's extra tail.
fn difference(a: &str, b: &str) -> String {
    let at = a
        .chars()
        .zip(b.chars())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.chars().count().min(b.chars().count()));
    let tail = |s: &str| s.chars().skip(at).collect::<String>();
    match (tail(a), tail(b)) {
        (x, y) if x.is_empty() => format!("the IdP's has `{y}` more at character {}", at + 1),
        (x, y) if y.is_empty() => {
            format!("the expected one has `{x}` more at character {}", at + 1)
        }
        (x, y) => format!("they differ from character {}: `{x}` against `{y}`", at + 1),
    }
}

/// Why an ID token from this IdP cannot be verified by the app, if so: HS256 (signed with the
/// client secret, standard) only where the library is known to check the JWKS alone; an
/// asymmetric algorithm with no key in the JWKS always.
fn alg_unverifiable(meta: &IdpMeta, preset: Option<crate::preset::Preset>) -> Option<String> {
    if meta.id_token_algs.is_empty() {
        return None;
    }
    let symmetric = |a: &str| a.starts_with("HS");
    let listed = meta.id_token_algs.join(", ");
    let jwks_only = preset.is_some_and(|p| !p.contract().verifies_hs_id_tokens);
    if meta.id_token_algs.iter().all(|a| symmetric(a)) {
        if !jwks_only {
            return None;
        }
        return Some(format!(
            "the IdP signs ID tokens with {listed} (a secret shared with the client), and its \
             JWKS publishes {} key(s)",
            meta.keys.len()
        ));
    }
    (meta.keys.is_empty() && meta.jwks_uri.is_some()).then(|| {
        format!(
            "the IdP signs ID tokens with {listed}, and its JWKS publishes no key to verify them"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::JwkFacts;

    fn meta(issuer: &str, configured: Option<&str>, algs: &[&str], keys: usize) -> Trace {
        let mut t = Trace {
            idp: Some(IdpMeta {
                discovery_url: format!("{issuer}/.well-known/openid-configuration"),
                issuer: Some(issuer.into()),
                configured_issuer: configured.map(str::to_string),
                jwks_uri: Some(format!("{issuer}/jwks")),
                id_token_algs: algs.iter().map(|a| a.to_string()).collect(),
                keys: (0..keys)
                    .map(|_| JwkFacts {
                        kid: Some("k".into()),
                        kty: "RSA".into(),
                        alg: Some("RS256".into()),
                    })
                    .collect(),
                ..IdpMeta::default()
            }),
            ..Trace::default()
        };
        t.chain.preset = Some("better-auth".into());
        t
    }

    #[test]
    fn the_metadata_names_its_causes() {
        let slash = "http://idp/application/o/app/";
        let cases: Vec<(Trace, Vec<CauseKey>, &str)> = vec![
            (meta(slash, Some(slash), &["RS256"], 1), vec![], ""),
            (
                meta(slash, Some("http://idp/application/o/app"), &["RS256"], 1),
                vec![CauseKey::IssuerMismatch],
                "the IdP's has `/` more at character 29",
            ),
            (
                meta("http://idp", Some("https://idp"), &["RS256"], 1),
                vec![CauseKey::IssuerMismatch],
                "they differ from character 5: `s://idp` against `://idp`",
            ),
            (
                meta(slash, None, &["HS256"], 0),
                vec![CauseKey::IdTokenAlg],
                "signs ID tokens with HS256",
            ),
            (
                meta(slash, None, &["RS256"], 0),
                vec![CauseKey::IdTokenAlg],
                "publishes no key",
            ),
            (meta(slash, None, &["RS256", "HS256"], 1), vec![], ""),
            // A library that verifies HS256 with the client secret, or one not known.
            (
                {
                    let mut t = meta(slash, None, &["HS256"], 0);
                    t.chain.preset = Some("authjs".into());
                    t
                },
                vec![],
                "",
            ),
            (
                {
                    let mut t = meta(slash, None, &["HS256"], 0);
                    t.chain.preset = None;
                    t
                },
                vec![],
                "",
            ),
        ];
        for (t, want, says) in cases {
            let (keys, facts) = causes(&t);
            assert_eq!(keys, want, "{says}");
            let text = format!("{facts:?}");
            assert!(text.contains(says), "{text} lacks {says}");
        }
    }
}
