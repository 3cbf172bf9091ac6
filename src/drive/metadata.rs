//! The IdP's metadata, fetched by authchain itself after a failed login: the discovery document
//! of the IdP the chain used (or the scenario names) and its JWKS. Evidence for the diagnosis
//! only; whether an IdP that works is well configured is `oidc check`'s business.

use super::http::{HttpClient, Request};
use crate::redact::Redactor;
use crate::trace::{Hop, IdpMeta, JwkFacts, Step};
use url::Url;

/// The discovery document's URL for an issuer: one trailing slash dropped, then the well-known
/// path (OpenID Connect Discovery 1.0, section 4).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.strip_suffix('/').unwrap_or(issuer)
    )
}

/// Where the discovery document is: under the configured issuer, the callback's `iss`, or the
/// authorization request's origin, in that order.
pub fn discovery_urls(configured: Option<&str>, hops: &[Hop], callback: Option<&Hop>) -> Vec<Url> {
    let mut issuers: Vec<String> = Vec::new();
    issuers.extend(configured.map(str::to_string));
    if let Some(iss) = callback
        .and_then(|h| Url::parse(&h.url).ok())
        .and_then(|u| crate::web::param(&u, "iss"))
    {
        issuers.push(iss);
    }
    if let Some(a) = crate::web::authorization_request(hops.iter().map(|h| &h.url)) {
        issuers.push(a.origin().ascii_serialization());
    }
    let mut out: Vec<Url> = Vec::new();
    for issuer in issuers {
        if let Ok(u) = Url::parse(&discovery_url(&issuer))
            && !out.contains(&u)
        {
            out.push(u);
        }
    }
    out
}

/// The metadata at the first of `urls` that answers with a discovery document; the last error
/// when none does. `None` when there is nowhere to look.
pub async fn fetch(
    client: &HttpClient,
    urls: &[Url],
    configured: Option<&str>,
    r: &mut Redactor,
) -> Option<IdpMeta> {
    let mut last = None;
    for url in urls {
        let meta = fetch_one(client, url, r).await;
        // A document that names its issuer is the one, whatever its JWKS did.
        let found = meta.issuer.is_some();
        last = Some(IdpMeta {
            configured_issuer: configured.map(str::to_string),
            ..meta
        });
        if found {
            break;
        }
    }
    last
}

async fn fetch_one(client: &HttpClient, url: &Url, r: &mut Redactor) -> IdpMeta {
    let mut meta = IdpMeta {
        discovery_url: url.to_string(),
        ..IdpMeta::default()
    };
    let answer = match client
        .exchange(&Request::get(url.clone(), Step::Follow), None, r)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            meta.error = Some(e.message);
            return meta;
        }
    };
    meta.date = answer
        .headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(doc) = answer.json().filter(|_| answer.status == 200) else {
        meta.error = Some(format!(
            "{} answered {} without a discovery document",
            r.url(url),
            answer.status
        ));
        return meta;
    };
    let text = |k: &str| doc[k].as_str().map(str::to_string);
    meta.issuer = text("issuer");
    meta.jwks_uri = text("jwks_uri");
    meta.id_token_algs = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let Some(jwks) = meta.jwks_uri.as_deref().and_then(|u| Url::parse(u).ok()) else {
        return meta;
    };
    match client
        .exchange(&Request::get(jwks.clone(), Step::Follow), None, r)
        .await
    {
        Ok(a) => match a.json().filter(|_| a.status == 200) {
            Some(set) => {
                meta.keys = set["keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|k| JwkFacts {
                        kid: k["kid"].as_str().map(str::to_string),
                        kty: k["kty"].as_str().unwrap_or_default().to_string(),
                        alg: k["alg"].as_str().map(str::to_string),
                    })
                    .collect();
            }
            None => {
                meta.error = Some(format!(
                    "{} answered {} without keys",
                    r.url(&jwks),
                    a.status
                ))
            }
        },
        Err(e) => meta.error = Some(e.message),
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_the_discovery_document_is() {
        let mut authorize = Hop::plain(
            2,
            "http://idp.test:9000/application/o/authorize/?client_id=c&response_type=code&redirect_uri=http%3A%2F%2Fapp%2Fcb",
            302,
        );
        authorize.step = Step::Follow;
        let callback = Hop::plain(
            5,
            "http://app/cb?code=c&iss=http%3A%2F%2Fidp.test%3A9000%2Fapplication%2Fo%2Fslug%2F",
            302,
        );
        let hops = vec![authorize, callback.clone()];
        let urls: Vec<String> = discovery_urls(
            Some("http://idp.test:9000/application/o/slug"),
            &hops,
            Some(&callback),
        )
        .iter()
        .map(Url::to_string)
        .collect();
        assert_eq!(
            urls,
            [
                "http://idp.test:9000/application/o/slug/.well-known/openid-configuration",
                "http://idp.test:9000/.well-known/openid-configuration",
            ]
        );
        assert!(discovery_urls(None, &[], None).is_empty());
    }
}
