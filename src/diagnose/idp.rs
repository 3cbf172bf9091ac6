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
    if let Some(why) = alg_unverifiable(meta) {
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

/// Why an ID token from this IdP cannot be verified with its published keys, if so.
fn alg_unverifiable(meta: &IdpMeta) -> Option<String> {
    if meta.id_token_algs.is_empty() {
        return None;
    }
    let symmetric = |a: &str| a.starts_with("HS");
    let listed = meta.id_token_algs.join(", ");
    if meta.id_token_algs.iter().all(|a| symmetric(a)) {
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
        Trace {
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
        }
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
        ];
        for (t, want, says) in cases {
            let (keys, facts) = causes(&t);
            assert_eq!(keys, want, "{says}");
            let text = format!("{facts:?}");
            assert!(text.contains(says), "{text} lacks {says}");
        }
    }
}
