//! `authchain idp-login`: the IdP link on its own, with authchain as its own relying party. It
//! reads the IdP's discovery document, sends the authorization request a library would (code
//! flow, PKCE S256, a nonce and a state of its own), passes the IdP's login with the same
//! adapters as a chain run, stops at the redirect to the redirect URI without sending it (nothing
//! needs to listen there: the code is taken from the `Location`), exchanges the code at the token
//! endpoint (`client_secret_basic` or `client_secret_post`), verifies the ID token against the
//! JWKS (or the client secret for HS256), and reads the userinfo endpoint. The claims the app
//! would get are put side by side with what each auth library requires of them (preset data):
//! a run that passes here and fails in the chain has its fault in the app, not the IdP.

use crate::drive::http::{HttpClient, Request};
use crate::jwt::{Check, Keys, Verdict};
use crate::preset::{Need, Preset};
use crate::redact::{Redactor, Secret};
use crate::scenario::{Body, Chain, IdpSpec, Scenario};
use crate::trace::{CheckResult, Ended, ErrorStep, FindingId, Hop, Severity, Step};
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;
use url::Url;

use crate::scenario::TokenAuth;

/// What `idp-login` needs.
#[derive(Clone, Debug)]
pub struct Options {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub redirect_uri: Url,
    pub username: String,
    pub password: Secret,
    pub scope: String,
    pub token_auth: TokenAuth,
    pub idp: IdpSpec,
    /// The library whose needs decide the findings on claims (all are shown).
    pub preset: Option<Preset>,
    pub timeout: Duration,
    pub net: crate::drive::http::Net,
}

/// One claim as the app would get it: from the ID token, from userinfo, and what each library
/// needs of it.
#[derive(Clone, Debug, Serialize)]
pub struct ClaimRow {
    pub claim: &'static str,
    pub id_token: Option<Value>,
    pub userinfo: Option<Value>,
    /// `[library, need]` for each preset (`required`, `linking`, `used`, `ignored`).
    pub needs: Vec<(&'static str, Need)>,
}

/// The report of `idp-login` (its JSON is `--report-json`).
#[derive(Clone, Debug, Serialize)]
pub struct IdpLoginReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub issuer: String,
    pub client_id: String,
    pub hops: Vec<Hop>,
    pub ended: Ended,
    /// The token endpoint's answer: its status, and its `error` where it gave one.
    pub token_status: Option<u16>,
    pub token_error: Option<String>,
    /// The ID token's header and claim names (never the token).
    pub id_token_header: Option<Map<String, Value>>,
    pub id_token_claims: Vec<String>,
    /// The verdicts on the ID token (as `jwt verify` gives them).
    pub id_token_checks: Vec<Check>,
    /// How long the ID token lives (its exp less its iat), in seconds.
    pub id_token_lifetime: Option<i64>,
    pub userinfo_status: Option<u16>,
    pub claims: Vec<ClaimRow>,
    #[serde(flatten)]
    pub result: CheckResult,
}

/// 32 random bytes, base64url: a state, a nonce, a PKCE verifier.
fn random() -> String {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The claims every report shows with their values; any other claim is named only.
const SHOWN: &[&str] = &["sub", "email", "email_verified", "name", "groups"];

/// Logs in at the IdP as the app's client and reports what the app would get.
pub async fn run(opts: &Options, r: &mut Redactor) -> IdpLoginReport {
    let mut report = IdpLoginReport {
        schema_version: crate::trace::SCHEMA_VERSION,
        command: "idp-login",
        issuer: opts.issuer.clone(),
        client_id: opts.client_id.clone(),
        hops: Vec::new(),
        ended: Ended::NotEnded,
        token_status: None,
        token_error: None,
        id_token_header: None,
        id_token_claims: Vec::new(),
        id_token_checks: Vec::new(),
        id_token_lifetime: None,
        userinfo_status: None,
        claims: Vec::new(),
        result: CheckResult::default(),
    };
    let origin = opts.redirect_uri.clone();
    let client = match HttpClient::new(&origin, opts.timeout, &opts.net) {
        Ok(c) => c,
        Err(e) => {
            report.result.stop(ErrorStep::Setup, e, None);
            return report;
        }
    };
    // Discovery.
    let discovery = crate::drive::metadata::discovery_url(&opts.issuer);
    let Ok(discovery_url) = Url::parse(&discovery) else {
        report.result.stop(
            ErrorStep::Setup,
            format!("`{}` gives no discovery URL", opts.issuer),
            None,
        );
        return report;
    };
    let doc = match client.get_json(&discovery_url, Vec::new(), r).await {
        Ok((200, Some(doc))) => doc,
        Ok((status, _)) => {
            report.result.stop(
                ErrorStep::Setup,
                format!("no discovery document at {discovery}: it answered {status}"),
                None,
            );
            return report;
        }
        Err(f) => {
            report.result.stop(
                ErrorStep::Setup,
                format!("the discovery document: {}", f.message),
                f.kind,
            );
            return report;
        }
    };
    let endpoint = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok())
    };
    let (Some(authorize), Some(token_endpoint)) = (
        endpoint("authorization_endpoint"),
        endpoint("token_endpoint"),
    ) else {
        report.result.stop(
            ErrorStep::Setup,
            "the discovery document names no authorization or token endpoint (`authchain oidc check` says more)".into(),
            None,
        );
        return report;
    };
    let named_issuer = doc
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or(&opts.issuer)
        .to_string();
    if named_issuer != opts.issuer {
        crate::oidc::issuer_mismatch(&mut report.result, &named_issuer, &opts.issuer);
    }

    // The authorization request, as a library sends it.
    let (state, nonce, verifier) = (random(), random(), random());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
    for secret in [&state, &nonce, &verifier] {
        r.sensitive(secret);
    }
    let mut start = authorize.clone();
    start
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &opts.client_id)
        .append_pair("redirect_uri", opts.redirect_uri.as_str())
        .append_pair("scope", &opts.scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("response_mode", "query");
    let scenario = Scenario {
        name: format!("idp-login {}", opts.issuer),
        chain: Chain {
            app: Url::parse(&origin.origin().ascii_serialization()).unwrap_or(origin.clone()),
            preset: None,
            auth_base: origin.clone(),
            provider: None,
            callback_url: opts.redirect_uri.clone(),
            page: Url::parse(&origin.origin().ascii_serialization()).unwrap_or(origin.clone()),
            driver: crate::scenario::Driver::Http,
            start: vec![crate::scenario::start::StartStep {
                method: crate::trace::Method::Get,
                url: start.to_string(),
                body: None,
                headers: Vec::new(),
                capture: Vec::new(),
            }],
            start_page: None,
            timeout: opts.timeout,
            max_hops: crate::scenario::DEFAULT_MAX_HOPS,
            matrix: crate::scenario::MatrixMode::Never,
            resolve: opts.net.resolve.clone(),
            sign_out: None,
            refresh: None,
        },
        idp: IdpSpec {
            username: Some(opts.username.clone()),
            password: Some(opts.password.clone()),
            ..opts.idp.clone()
        },
        probes: Vec::new(),
        secrets: Vec::new(),
        checks: Vec::new(),
        access: Default::default(),
    };
    let (drive, came_back) =
        match crate::drive::login_until(&scenario, &client, Some(&opts.redirect_uri), r).await {
            Ok(d) => d,
            Err(e) => {
                report.result.stop(e.step, e.message, e.kind);
                return report;
            }
        };
    report.hops = drive.record.hops;
    report.ended = drive.ended.clone();
    if let Some(e) = drive.error {
        report.result.stop(e.step, e.message, e.kind);
        return report;
    }
    let Some(back) = came_back else {
        // The IdP refused the credentials or showed an error: the chain's own findings say so.
        let trace = crate::trace::Trace {
            hops: report.hops.clone(),
            ended: report.ended.clone(),
            ..crate::trace::Trace::default()
        };
        report.result.findings = crate::diagnose::diagnose(&trace);
        // The start is the authorization request: a refused one is the IdP's refusal.
        for f in &mut report.result.findings {
            if f.id == FindingId::StartRejected {
                let status = report.hops.first().map_or(0, |h| h.status);
                let said = report
                    .hops
                    .first()
                    .and_then(|h| {
                        h.page
                            .as_ref()
                            .and_then(|p| p.message.clone())
                            .or(h.error_code.clone())
                    })
                    .map_or(String::new(), |m| format!(": {m}"));
                f.id = FindingId::IdpErrorPage;
                f.title = format!("The IdP refused the authorization request ({status}){said}");
                f.explanation = "The IdP answered the authorization request with an error before any login: the client id, the redirect URI or a parameter is not what it has registered.".into();
                f.fix = "Check the client id and the redirect URI registered at the IdP against --client-id and --redirect-uri, character by character.".into();
                f.causes.clear();
            }
        }
        if !report
            .result
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error)
        {
            report.result.find(
                FindingId::IdpErrorPage,
                Severity::Error,
                format!("The login never came back to {}", opts.redirect_uri),
                "The IdP's pages ended somewhere else than the redirect URI: a page with nothing to fill, a redirect to another URI, a step the adapters do not pass.",
                "Run with -v to see each page, and check the redirect URI registered at the IdP.",
            );
        }
        report.result.exit_code = crate::exit::verdict(&trace, &report.result.findings).code();
        return report;
    };
    // The code and state: on the URL, or in the form an IdP posts (response_mode=form_post).
    let params: Vec<(String, String)> = match &back.body {
        Some(Body::Form(fields)) => fields.clone(),
        _ => back
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    };
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(error) = param("error") {
        report.result.find(
            FindingId::IdpErrorPage,
            Severity::Error,
            format!(
                "The IdP sent the login back with error={error}{}",
                param("error_description")
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
            "The IdP ended the authorization request with an error instead of a code: its description, where it gave one, says why (access_denied: the user or a policy refused; invalid_scope: a scope the client may not ask for).",
            "Check the client's settings at the IdP: its scopes, its policies, its redirect URIs.",
        );
        report.result.close();
        return report;
    }
    if param("state").as_deref() != Some(state.as_str()) {
        report.result.find(
            FindingId::CallbackError,
            Severity::Error,
            "The IdP sent the login back without the state it was given".into(),
            "The state goes to the IdP on the authorization request and must come back unchanged on the redirect; an IdP or proxy that drops or alters it makes every library refuse the callback (state_mismatch).",
            "Check the IdP's or its proxy's handling of the query string.",
        );
        report.result.close();
        return report;
    }
    let Some(code) = param("code") else {
        report.result.stop(
            ErrorStep::Chain(Step::Follow),
            "the IdP sent the login back with no code".into(),
            None,
        );
        return report;
    };
    r.sensitive(&code);

    // The token request.
    let mut form = vec![
        ("grant_type".to_string(), "authorization_code".to_string()),
        ("code".to_string(), code),
        ("redirect_uri".to_string(), opts.redirect_uri.to_string()),
        ("code_verifier".to_string(), verifier),
    ];
    // A back-channel request: no Origin.
    let mut headers = vec![("Origin".to_string(), String::new())];
    let secret = opts.client_secret.as_ref().map(|s| s.expose().to_string());
    match (opts.token_auth, &secret) {
        (TokenAuth::Basic, Some(s)) => {
            let enc =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(&opts.client_id),
                enc(s)
            ));
            headers.push(("Authorization".into(), format!("Basic {basic}")));
        }
        (TokenAuth::Post, Some(s)) => {
            form.push(("client_id".into(), opts.client_id.clone()));
            form.push(("client_secret".into(), s.clone()));
        }
        (_, None) => form.push(("client_id".into(), opts.client_id.clone())),
    }
    let req = Request {
        method: crate::trace::Method::Post,
        url: token_endpoint.clone(),
        body: Some(Body::Form(form)),
        step: Step::Follow,
        headers,
        cross_site: false,
        navigation: false,
    };
    let tokens = match client.exchange(&req, None, r).await {
        Err(f) => {
            report.result.stop(
                ErrorStep::Chain(Step::Follow),
                format!("the token endpoint: {}", f.message),
                f.kind,
            );
            return report;
        }
        Ok(a) => {
            report.token_status = Some(a.status);
            a.json().unwrap_or(Value::Null)
        }
    };
    for k in ["access_token", "id_token", "refresh_token"] {
        if let Some(v) = tokens.get(k).and_then(Value::as_str) {
            r.sensitive(v);
        }
    }
    let Some(id_token) = tokens
        .get("id_token")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        let error = tokens
            .get("error")
            .and_then(Value::as_str)
            .map(str::to_string);
        report.token_error = error.clone();
        let (title, why, fix) = match error.as_deref() {
            Some("invalid_client") => (
                "The token endpoint refused the client (invalid_client)",
                "The client id, the client secret or the way the client authenticates (client_secret_basic or client_secret_post) is not what the IdP has registered.",
                "Check the client secret, and --token-auth against the client's token endpoint auth method at the IdP.",
            ),
            Some("invalid_grant") => (
                "The token endpoint refused the code (invalid_grant)",
                "The code was used already, expired, or the redirect_uri or PKCE verifier does not match the authorization request's.",
                "Check the redirect URI registered at the IdP against --redirect-uri, character by character.",
            ),
            _ => (
                "The token endpoint gave no ID token",
                "The code exchange did not give an ID token: the scope lacked openid, or the token endpoint failed.",
                "Check the token endpoint's answer and the scopes.",
            ),
        };
        report.result.find(
            FindingId::IdpTokenExchangeFailed,
            Severity::Error,
            format!("{title}: it answered {}", report.token_status.unwrap_or(0)),
            why,
            fix,
        );
        report.result.close();
        return report;
    };

    // The ID token, verified as a library would.
    let decoded = crate::jwt::decode(&id_token);
    report.id_token_header = decoded.as_ref().map(|d| d.header.clone());
    report.id_token_lifetime = decoded
        .as_ref()
        .and_then(|d| Some(d.time("exp")?.saturating_sub(d.time("iat")?)));
    report.id_token_claims = decoded
        .as_ref()
        .and_then(|d| d.claims.as_ref())
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    let alg = decoded
        .as_ref()
        .and_then(|d| d.header_text("alg"))
        .unwrap_or_default()
        .to_string();
    let keys = if alg.starts_with("HS") {
        secret.clone().map(|s| Keys::Secret(s.into_bytes()))
    } else {
        match endpoint("jwks_uri") {
            Some(jwks) => match client.get_json(&jwks, Vec::new(), r).await {
                Ok((_, Some(doc))) => crate::jwt::keys_of(&doc).map(Keys::Jwks),
                _ => None,
            },
            None => None,
        }
    };
    let expect = crate::jwt::Expect {
        // The issuer the app is configured with: a token whose iss differs (a trailing slash)
        // fails in the app, so it fails here.
        iss: Some(opts.issuer.clone()),
        aud: Some(opts.client_id.clone()),
        nonce: Some(nonce),
        algs: Vec::new(),
        leeway: 60,
        now: (crate::drive::http::now_ms() / 1000) as i64,
    };
    if keys.is_none() && alg.starts_with("HS") {
        report.result.find(
            FindingId::IdpIdTokenInvalid,
            Severity::Error,
            format!("The ID token is {alg}, and no client secret was given to verify it"),
            "An HS256 ID token is signed with the client secret: a public client, or one run without --client-secret-env, cannot verify it.",
            "Give --client-secret-env, or give the IdP an asymmetric signing key.",
        );
    }
    let keys = keys.unwrap_or(Keys::Jwks(Vec::new()));
    report.id_token_checks = match crate::jwt::verify(&id_token, &keys, &expect) {
        Ok(checks) => checks,
        Err(e) => {
            report.result.find(
                FindingId::IdpIdTokenInvalid,
                Severity::Error,
                format!("The IdP's ID token cannot be read: {e}"),
                "A library reads and verifies the ID token before it makes a session.",
                "Check the IdP's token settings.",
            );
            Vec::new()
        }
    };
    let failed: Vec<String> = report
        .id_token_checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| format!("{}: {}", c.check, c.detail))
        .collect();
    if !failed.is_empty() {
        report.result.find(
            FindingId::IdpIdTokenInvalid,
            Severity::Error,
            format!("The IdP's ID token does not verify: {}", failed.join("; ")),
            "A library verifies the ID token before it makes a session: a failed check here fails every login of every app on this client.",
            "Fix what the failing check names at the IdP: its signing key, its issuer, its clock.",
        );
    }
    if alg.starts_with("HS") {
        report.result.find(
            FindingId::OidcAlgWithoutKey,
            Severity::Warning,
            format!("The ID token is {alg}: signed with the client secret"),
            &format!(
                "Libraries that check ID tokens only against the JWKS ({}) reject an HS256 ID token; {} verify it with the client secret.",
                crate::preset::libraries(|c| !c.verifies_hs_id_tokens),
                crate::preset::libraries(|c| c.verifies_hs_id_tokens)
            ),
            "Give the IdP an asymmetric signing key so that ID tokens are RS256.",
        );
    }

    // userinfo.
    let access = tokens
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_string);
    let userinfo = match (endpoint("userinfo_endpoint"), access) {
        (Some(url), Some(token)) => {
            match client
                .get_json(
                    &url,
                    vec![("Authorization".into(), format!("Bearer {token}"))],
                    r,
                )
                .await
            {
                Ok((status, body)) => {
                    report.userinfo_status = Some(status);
                    body.filter(|_| status == 200)
                }
                Err(_) => None,
            }
        }
        _ => None,
    };

    // The claims side by side with what each library needs.
    let from_token = decoded.and_then(|d| d.claims).unwrap_or_default();
    let from_userinfo = userinfo
        .as_ref()
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for claim in SHOWN {
        let needs: Vec<(&'static str, Need)> = Preset::ALL
            .iter()
            .map(|p| (p.name(), p.contract().claim_need(claim)))
            .collect();
        report.claims.push(ClaimRow {
            claim,
            id_token: from_token.get(*claim).cloned(),
            userinfo: from_userinfo.get(*claim).cloned(),
            needs,
        });
    }
    if let Some(preset) = opts.preset {
        let contract = preset.contract();
        for row in report.claims.clone() {
            let need = contract.claim_need(row.claim);
            let missing = row.id_token.is_none() && row.userinfo.is_none();
            let unverified = row.claim == "email_verified"
                && (row.id_token.as_ref().or(row.userinfo.as_ref()) == Some(&Value::Bool(false)));
            if (need == Need::Required && missing)
                || (need == Need::Linking && (missing || unverified))
            {
                report.result.find(
                    FindingId::IdpClaimMissing,
                    if need == Need::Required { Severity::Error } else { Severity::Warning },
                    format!(
                        "{}: the IdP gives no {}{}",
                        contract.library,
                        row.claim,
                        if unverified { " true (email_verified is false)" } else { "" }
                    ),
                    contract.claim_why(row.claim),
                    "Map the claim at the IdP (Authentik: the provider's scope mappings), and ask for its scope.",
                );
            }
        }
    }
    report.result.close();
    report
}

/// The report as text: the login's hops, the token exchange, the ID token's verdicts, the
/// claims next to each library's needs, the findings and the result line.
pub fn render(report: &IdpLoginReport, th: &dyn crate::report::terminal::Theme) -> String {
    use crate::report::terminal::Style;
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} idp-login {} (client {})",
        th.paint("authchain:", Style::Bold),
        report.issuer,
        report.client_id
    );
    let _ = writeln!(o, "\n{}", th.paint("hops", Style::Bold));
    for h in &report.hops {
        let _ = writeln!(
            o,
            "  {:>2}  {:<4} {}  {}",
            h.n.0,
            h.method.as_str(),
            h.status,
            h.url
        );
    }
    if report.hops.is_empty() {
        let _ = writeln!(o, "  (none)");
    }
    if let Some(status) = report.token_status {
        let _ = writeln!(
            o,
            "\n{}\n  token endpoint answered {status}{}",
            th.paint("tokens", Style::Bold),
            report
                .token_error
                .as_deref()
                .map_or(String::new(), |e| format!(" error={e}"))
        );
    }
    if let Some(header) = &report.id_token_header {
        let _ = writeln!(
            o,
            "  ID token header {}",
            serde_json::to_string(header).unwrap_or_default()
        );
        let _ = writeln!(o, "  ID token claims {}", report.id_token_claims.join(", "));
        crate::report::terminal::verdict_lines(
            &mut o,
            report
                .id_token_checks
                .iter()
                .map(|c| (c.check, c.verdict, c.detail.as_str())),
            "    ",
            th,
        );
    }
    if let Some(status) = report.userinfo_status {
        let _ = writeln!(o, "  userinfo answered {status}");
    }
    if !report.claims.is_empty() {
        let _ = writeln!(o, "\n{}", th.paint("claims the app would get", Style::Bold));
        let libs: Vec<&str> = report.claims[0].needs.iter().map(|(l, _)| *l).collect();
        let _ = writeln!(
            o,
            "  {:<15} {:<28} {:<28} {}",
            "claim",
            "ID token",
            "userinfo",
            libs.join(" · ")
        );
        let show = |v: &Option<Value>| v.as_ref().map_or("—".to_string(), |v| v.to_string());
        for row in &report.claims {
            let needs: Vec<&str> = row
                .needs
                .iter()
                .map(|(_, n)| match n {
                    Need::Required => "required",
                    Need::Linking => "for linking",
                    Need::Used => "used",
                    Need::Ignored => "—",
                })
                .collect();
            let _ = writeln!(
                o,
                "  {:<15} {:<28} {:<28} {}",
                row.claim,
                show(&row.id_token),
                show(&row.userinfo),
                needs.join(" · ")
            );
        }
    }
    crate::report::terminal::check_tail(&mut o, &report.result, th);
    o
}
