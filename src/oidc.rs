//! `authchain oidc check`: an OpenID Provider on its own, before any app is involved. It fetches
//! `ISSUER/.well-known/openid-configuration` (one trailing slash of ISSUER dropped) and checks
//! that the document names the issuer exactly as given, that every endpoint answers and is on
//! the issuer's scheme, that the JWKS's keys are well formed and can verify the ID token
//! algorithms advertised, that PKCE S256 is offered, that `openid`, `email` and `profile` are
//! among the scopes, and that logout and the `query` response mode are there.

use crate::drive::http::{HttpClient, Request};
use crate::redact::Redactor;
use crate::trace::{CheckResult, FindingId, RunErrorKind, Severity, Step};
use serde::Serialize;
use serde_json::Value;
use url::Url;

/// One line of the check: what, its verdict, and the detail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    pub check: String,
    pub verdict: crate::jwt::Verdict,
    pub detail: String,
}

/// The report of `oidc check` (its JSON is `--report-json`).
#[derive(Clone, Debug, Serialize)]
pub struct OidcReport {
    pub schema_version: u32,
    pub command: &'static str,
    /// The issuer as given.
    pub issuer: String,
    pub discovery_url: String,
    pub checks: Vec<Line>,
    /// The findings, the stop (no discovery document: exit 3), the exit code.
    #[serde(flatten)]
    pub result: CheckResult,
}

/// The endpoints a discovery document may name, and whether a code flow needs it.
const ENDPOINTS: &[(&str, bool)] = &[
    ("authorization_endpoint", true),
    ("token_endpoint", true),
    ("jwks_uri", true),
    ("userinfo_endpoint", false),
    ("end_session_endpoint", false),
    ("revocation_endpoint", false),
    ("introspection_endpoint", false),
];

/// Runs every check against the IdP at `issuer`.
/// `oidc-issuer-mismatch`: the IdP names another issuer than the one the app is configured with.
pub fn issuer_mismatch(result: &mut crate::trace::CheckResult, named: &str, configured: &str) {
    result.find(
        FindingId::OidcIssuerMismatch,
        Severity::Error,
        format!(
            "The IdP's issuer is {named}, not {configured}: {}",
            crate::diagnose::issuer_difference(configured, named)
        ),
        "OpenID Connect compares issuers exactly, character by character: the discovery document, the ID token's iss and the issuer the app is configured with must be the same string. Authentik's issuers end in a slash (/application/o/<slug>/); a client that strips or adds one rejects every ID token (issuer_mismatch) or cannot find the discovery document.",
        "Configure the app with the issuer exactly as the discovery document writes it.",
    );
}

pub async fn check(
    issuer: &str,
    client_id: Option<&str>,
    client: &HttpClient,
    r: &mut Redactor,
) -> OidcReport {
    let discovery = crate::drive::metadata::discovery_url(issuer);
    let mut report = OidcReport {
        schema_version: crate::trace::SCHEMA_VERSION,
        command: "oidc check",
        issuer: issuer.to_string(),
        discovery_url: discovery.clone(),
        checks: Vec::new(),
        result: CheckResult::default(),
    };
    let stop = |report: &mut OidcReport, message: String, kind: Option<RunErrorKind>| {
        report
            .result
            .stop(crate::trace::ErrorStep::Setup, message, kind)
    };
    let Ok(url) = Url::parse(&discovery) else {
        stop(
            &mut report,
            format!("`{issuer}` gives no discovery URL"),
            None,
        );
        return report;
    };
    let doc = match client.get_json(&url, Vec::new(), r).await {
        Err(f) => {
            stop(
                &mut report,
                format!("the discovery document: {}", f.message),
                f.kind,
            );
            return report;
        }
        Ok(answer) => match answer {
            (200, Some(doc @ Value::Object(_))) => doc,
            (status, _) => {
                stop(
                    &mut report,
                    format!(
                        "no discovery document at {discovery}: it answered {status}{}",
                        if status == 200 {
                            " with no JSON object"
                        } else {
                            ""
                        }
                    ),
                    None,
                );
                return report;
            }
        },
    };
    r.detail(1, || {
        let mut lines = vec![format!("discovery {discovery}")];
        if let Value::Object(o) = &doc {
            for (k, v) in o {
                lines.push(format!("  {k}: {v}"));
            }
        }
        lines.join("\n")
    });
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
    let list = |k: &str| -> Option<Vec<String>> {
        doc.get(k)?.as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
    };
    let line = |report: &mut OidcReport, check: &str, verdict, detail: String| {
        report.checks.push(Line {
            check: check.to_string(),
            verdict,
            detail,
        })
    };
    use crate::jwt::Verdict::{Fail, Pass, Skip};

    // The issuer, exactly.
    match text("issuer") {
        Some(named) if named == issuer => line(&mut report, "issuer", Pass, named),
        named => {
            let named = named.unwrap_or_else(|| "(none)".into());
            line(
                &mut report,
                "issuer",
                Fail,
                format!("the document names {named}, not {issuer}"),
            );
            issuer_mismatch(&mut report.result, &named, issuer);
        }
    }
    let origin_scheme = Url::parse(issuer)
        .map(|u| u.scheme().to_string())
        .unwrap_or_default();

    // Every endpoint: present where a code flow needs it, on the issuer's scheme, answering.
    for (name, needed) in ENDPOINTS {
        let Some(value) = text(name) else {
            if *needed {
                line(&mut report, name, Fail, "absent".into());
                report.result.find(
                    FindingId::OidcEndpointUnreachable,
                    Severity::Error,
                    format!("The discovery document names no {name}"),
                    "A code flow needs the authorization endpoint, the token endpoint and the JWKS; without one the client cannot finish a login.",
                    "Check the IdP's provider or application settings; the discovery document is generated from them.",
                );
            } else if *name != "end_session_endpoint" {
                line(&mut report, name, Skip, "absent".into());
            }
            continue;
        };
        let Ok(endpoint) = Url::parse(&value) else {
            line(&mut report, name, Fail, format!("`{value}` is no URL"));
            report.result.find(
                FindingId::OidcEndpointUnreachable,
                Severity::Error,
                format!("The {name} `{value}` is no URL"),
                "A client cannot reach an endpoint the discovery document does not give as an absolute URL.",
                "Check the IdP's public URL setting.",
            );
            continue;
        };
        if endpoint.scheme() != origin_scheme {
            report.result.find(
                FindingId::OidcMixedScheme,
                Severity::Error,
                format!("The {name} is on {}, the issuer on {origin_scheme}: {value}", endpoint.scheme()),
                "An endpoint on another scheme than the issuer is most often an IdP behind a TLS-terminating proxy that builds its URLs from the request it received (http) rather than from the public URL (https): browsers and clients that require https refuse it, and cookies set there do not come back.",
                "Set the IdP's public URL, or have the proxy send X-Forwarded-Proto and the IdP trust it.",
            );
        }
        match client
            .exchange(&Request::get(endpoint.clone(), Step::Follow), None, r)
            .await
        {
            Ok(a) => line(
                &mut report,
                name,
                Pass,
                format!("{value} (answers {})", a.status),
            ),
            Err(f) => {
                line(&mut report, name, Fail, format!("{value}: {}", f.message));
                report.result.find(
                    FindingId::OidcEndpointUnreachable,
                    Severity::Error,
                    format!("The {name} does not answer: {}", f.message),
                    "Every endpoint the discovery document names must answer from where the app runs; one that does not (a host name only the IdP resolves, an internal port, a proxy path that is not routed) fails the login at that step.",
                    "Check the IdP's public URL and the proxy's routes for that path.",
                );
            }
        }
    }

    // The keys: well formed, and able to verify the ID token algorithms advertised.
    let mut algs = list("id_token_signing_alg_values_supported").unwrap_or_default();
    // `none`: the IdP may issue unsigned ID tokens, which no client should accept.
    if algs.iter().any(|a| a == "none") {
        algs.retain(|a| a != "none");
        report.result.find(
            FindingId::OidcAlgWithoutKey,
            Severity::Warning,
            "The IdP advertises unsigned ID tokens (alg `none`)".into(),
            "An ID token without a signature proves nothing; the libraries refuse it, and an IdP that can issue one for a client is one setting away from breaking every login of it.",
            "Remove `none` from the algorithms the IdP may sign ID tokens with.",
        );
    }
    let keys: Vec<Value> = match text("jwks_uri").and_then(|u| Url::parse(&u).ok()) {
        Some(jwks) => match client.get_json(&jwks, Vec::new(), r).await {
            Ok((status, doc)) => match doc.as_ref().and_then(crate::jwt::keys_of) {
                Some(keys) => keys,
                None => {
                    report.result.find(
                        FindingId::OidcJwksInvalid,
                        Severity::Error,
                        format!("The jwks_uri {jwks} answered {status} with no JWKS"),
                        "A client verifies ID tokens with the keys of the JWKS; without one no asymmetrically signed token verifies.",
                        "Check the IdP's signing key settings.",
                    );
                    Vec::new()
                }
            },
            Err(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut problems = Vec::new();
    let mut kids = Vec::new();
    for key in &keys {
        let kid = key.get("kid").and_then(Value::as_str);
        if key.get("kty").and_then(Value::as_str).is_none() {
            problems.push(format!("a key without kty ({})", crate::jwt::key_line(key)));
        }
        match kid {
            Some(k) if kids.contains(&k) => problems.push(format!("the kid `{k}` twice")),
            Some(k) => kids.push(k),
            None if keys.len() > 1 => problems.push(format!(
                "a key without kid among {} ({})",
                keys.len(),
                crate::jwt::key_line(key)
            )),
            None => {}
        }
    }
    let key_lines: Vec<String> = keys.iter().map(crate::jwt::key_line).collect();
    if key_lines.is_empty() {
        // No key at all: the algorithms' check below names what cannot be verified.
        line(&mut report, "jwks", Fail, "no keys".into());
    } else if problems.is_empty() {
        line(&mut report, "jwks", Pass, key_lines.join("; "));
    } else {
        line(&mut report, "jwks", Fail, problems.join("; "));
        report.result.find(
            FindingId::OidcJwksInvalid,
            Severity::Error,
            format!("The JWKS is not usable as it is: {}", problems.join("; ")),
            "A client picks the key that verifies a token by the token's kid: keys need a kty, and a kid that names one key only.",
            "Give every key a kty and a kid of its own (rotate with a new kid).",
        );
    }
    let usable: Vec<&String> = algs
        .iter()
        .filter(|a| keys.iter().any(|k| crate::jwt::key_fits(k, a)))
        .collect();
    let unusable: Vec<&String> = algs
        .iter()
        .filter(|a| !keys.iter().any(|k| crate::jwt::key_fits(k, a)))
        .collect();
    if algs.is_empty() {
        line(
            &mut report,
            "id_token_signing_alg_values_supported",
            Skip,
            "absent".into(),
        );
    } else if unusable.is_empty() {
        line(
            &mut report,
            "id_token_signing_alg_values_supported",
            Pass,
            format!("{}: each has a key", algs.join(", ")),
        );
    } else {
        let names: Vec<&str> = unusable.iter().map(|a| a.as_str()).collect();
        let only_unusable = usable.is_empty();
        line(
            &mut report,
            "id_token_signing_alg_values_supported",
            if only_unusable { Fail } else { Pass },
            format!(
                "{}: no key in the JWKS verifies {}",
                algs.join(", "),
                names.join(", ")
            ),
        );
        if only_unusable {
            let hs = names.iter().any(|a| a.starts_with("HS"));
            report.result.find(
                FindingId::OidcAlgWithoutKey,
                Severity::Error,
                format!("The IdP signs ID tokens with {} and its JWKS has no key to verify them", names.join(", ")),
                &if hs {
                    format!(
                        "An HS256 ID token is signed with the client secret, which no JWKS publishes: a client that checks ID tokens only against the JWKS ({}) rejects every one, while one that also tries the client secret ({}) accepts it. Authentik signs with HS256 when the provider has no signing key selected.",
                        crate::preset::libraries(|c| !c.verifies_hs_id_tokens),
                        crate::preset::libraries(|c| c.verifies_hs_id_tokens)
                    )
                } else {
                    "No key of the JWKS fits the algorithms the IdP advertises for ID tokens: a client cannot verify them.".to_string()
                },
                "Give the IdP an asymmetric signing key (Authentik: the provider's signing key, e.g. its self-signed certificate) so that ID tokens are RS256 and the key is in the JWKS.",
            );
        }
    }

    // PKCE S256, the scopes, logout and the response modes.
    match list("code_challenge_methods_supported") {
        Some(m) if m.iter().any(|x| x == "S256") => line(
            &mut report,
            "code_challenge_methods_supported",
            Pass,
            m.join(", "),
        ),
        m => {
            let shown = m
                .map(|m| m.join(", "))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "absent".into());
            line(
                &mut report,
                "code_challenge_methods_supported",
                Fail,
                shown.clone(),
            );
            report.result.find(
                FindingId::OidcNoPkceS256,
                Severity::Error,
                format!("The IdP does not offer PKCE with S256 (code_challenge_methods_supported: {shown})"),
                "Auth libraries send a PKCE S256 challenge on code flows by default; an IdP that does not advertise it may ignore or refuse it, and OAuth 2.1 requires it.",
                "Enable PKCE (S256) at the IdP.",
            );
        }
    }
    match list("scopes_supported") {
        None => line(
            &mut report,
            "scopes_supported",
            Skip,
            "absent (optional in discovery)".into(),
        ),
        Some(scopes) => {
            let missing: Vec<&str> = ["openid", "email", "profile"]
                .into_iter()
                .filter(|s| !scopes.iter().any(|x| x == s))
                .collect();
            if missing.is_empty() {
                line(&mut report, "scopes_supported", Pass, scopes.join(", "));
            } else {
                line(
                    &mut report,
                    "scopes_supported",
                    Fail,
                    format!("{} (no {})", scopes.join(", "), missing.join(", ")),
                );
                report.result.find(
                    FindingId::OidcScopeMissing,
                    Severity::Error,
                    format!("The IdP does not offer the scope {}", missing.join(", ")),
                    &format!(
                        "Auth libraries ask for openid, email and profile: without openid there is no ID token, and without email {} make no user.",
                        crate::preset::libraries(|c| c.claim_need("email") == crate::preset::Need::Required)
                    ),
                    "Add the scope mappings at the IdP (Authentik: the provider's scopes) for openid, email and profile.",
                );
            }
        }
    }
    match text("end_session_endpoint") {
        Some(e) => line(
            &mut report,
            "logout",
            Pass,
            format!("RP-initiated logout at {e}"),
        ),
        None => {
            line(
                &mut report,
                "logout",
                Fail,
                "no end_session_endpoint".into(),
            );
            report.result.find(
                FindingId::OidcNoEndSession,
                Severity::Warning,
                "The IdP names no end_session_endpoint: no RP-initiated logout".into(),
                "Without it an app can end its own session but not the IdP's: the next login completes with no form (single sign-on survives the logout).",
                "Enable RP-initiated logout at the IdP if a logout should end the IdP session too.",
            );
        }
    }
    match list("response_modes_supported") {
        None => line(
            &mut report,
            "response_modes_supported",
            Skip,
            "absent (query and fragment by default)".into(),
        ),
        Some(m) if m.iter().any(|x| x == "query") => {
            line(&mut report, "response_modes_supported", Pass, m.join(", "))
        }
        Some(m) => {
            line(&mut report, "response_modes_supported", Fail, m.join(", "));
            report.result.find(
                FindingId::OidcNoQueryResponseMode,
                Severity::Error,
                format!("The IdP does not offer the query response mode ({})", m.join(", ")),
                "A code flow returns the code on the redirect URI's query by default; an IdP without it cannot answer an auth library's default request.",
                "Enable the query response mode at the IdP.",
            );
        }
    }
    if let Some(id) = client_id {
        line(
            &mut report,
            "client",
            Skip,
            format!(
                "{id}: the IdP exposes no client's settings without a registration token; a login with the client tests them"
            ),
        );
    }
    report.result.close();
    report
}

/// The report as text: the checks, the findings, the result line.
pub fn render(report: &OidcReport, th: &dyn crate::report::terminal::Theme) -> String {
    use crate::report::terminal::Style;
    let mut o = format!(
        "{} oidc check {}\n{}\n",
        th.paint("authchain:", Style::Bold),
        report.issuer,
        th.paint(&format!("  discovery {}", report.discovery_url), Style::Dim)
    );
    if !report.checks.is_empty() {
        o.push_str(&format!("\n{}\n", th.paint("checks", Style::Bold)));
        crate::report::terminal::verdict_lines(
            &mut o,
            report
                .checks
                .iter()
                .map(|c| (c.check.as_str(), c.verdict, c.detail.as_str())),
            "  ",
            th,
        );
    }
    crate::report::terminal::check_tail(&mut o, &report.result, th);
    o
}
