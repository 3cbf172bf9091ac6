//! Authentik over HTTP: its flow executor API (`/api/v3/flows/executor/<slug>/`), the way a
//! client logs in without a browser. Each answer is a challenge with a `component`; this module
//! reads challenges and says what to send back. The requests themselves are the driver's.

use crate::scenario::Consent;
use crate::trace::{Page, PageKind};
use serde_json::{Value, json};
use url::Url;

/// The flow slug of an Authentik flow page (`/if/flow/<slug>/`).
pub fn flow_slug(url: &Url) -> Option<String> {
    let rest = url.path().strip_prefix("/if/flow/")?;
    let slug = rest.trim_end_matches('/');
    (!slug.is_empty() && !slug.contains('/')).then(|| slug.to_string())
}

/// The executor URL for a flow page: the page's own query string goes in `query`.
pub fn executor_url(page: &Url, slug: &str) -> Url {
    let mut url = page.clone();
    url.set_path(&format!("/api/v3/flows/executor/{slug}/"));
    url.set_fragment(None);
    let query = page.query().unwrap_or_default().to_string();
    url.query_pairs_mut().clear().append_pair("query", &query);
    url
}

/// What to do with a challenge.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// POST this body back to the executor.
    Solve { body: Value, login: bool },
    /// Follow the redirect out of the flow.
    Redirect(String),
    /// The flow refused (access denied, a flow error): the message.
    Refused(String),
    /// The last answer repeated the stage with errors: the credentials were refused.
    Rejected(String),
}

/// The visible errors of a challenge (`response_errors`), joined.
pub fn errors(challenge: &Value) -> Option<String> {
    let map = challenge["response_errors"].as_object()?;
    let texts: Vec<String> = map
        .values()
        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["string"].as_str().or(e.as_str()).map(str::to_string))
        .collect();
    (!texts.is_empty()).then(|| texts.join(" "))
}

/// What a challenge shows, for the hop's record.
pub fn page(challenge: &Value) -> Page {
    let kind = match challenge["component"].as_str() {
        Some("ak-stage-identification" | "ak-stage-password") => PageKind::LoginForm,
        Some("ak-stage-consent") => PageKind::ConsentForm,
        _ => PageKind::Other,
    };
    let message =
        errors(challenge).or_else(|| challenge["error_message"].as_str().map(str::to_string));
    Page { kind, message }
}

/// The answer to a challenge. `after_login` says whether credentials were already sent.
pub fn next(
    challenge: &Value,
    user: &str,
    password: &str,
    consent: Consent,
    after_login: bool,
) -> Result<Next, String> {
    let component = challenge["component"].as_str().unwrap_or_default();
    if after_login
        && matches!(component, "ak-stage-identification" | "ak-stage-password")
        && let Some(e) = errors(challenge)
    {
        return Ok(Next::Rejected(e));
    }
    Ok(match component {
        "ak-stage-identification" => {
            let mut body = json!({"component": component, "uid_field": user});
            if challenge["password_fields"].as_bool() == Some(true) {
                body["password"] = json!(password);
            }
            Next::Solve { body, login: true }
        }
        "ak-stage-password" => Next::Solve {
            body: json!({"component": component, "password": password}),
            login: true,
        },
        "ak-stage-consent" if consent == Consent::Deny => Next::Refused(
            "consent = \"deny\": Authentik's consent stage has no deny answer; the flow was left"
                .into(),
        ),
        "ak-stage-consent" => Next::Solve {
            body: json!({"component": component, "token": challenge["token"]}),
            login: false,
        },
        "xak-flow-redirect" => {
            Next::Redirect(challenge["to"].as_str().unwrap_or_default().to_string())
        }
        "ak-stage-access-denied" => Next::Refused(
            challenge["error_message"]
                .as_str()
                .unwrap_or("access denied")
                .to_string(),
        ),
        "ak-stage-flow-error" => Next::Refused(
            challenge["error"]
                .as_str()
                .or(challenge["message"].as_str())
                .unwrap_or("flow error")
                .to_string(),
        ),
        "" => return Err("the flow executor answered no challenge (no `component`)".into()),
        other => {
            return Err(format!(
                "the flow executor asks for the stage `{other}`, which authchain cannot pass over HTTP"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executor_url_carries_the_page_query() {
        let page = Url::parse("https://auth.example.com/if/flow/default-authentication-flow/?next=%2Fapplication%2Fo%2Fauthorize%2F%3Fa%3D1").unwrap();
        let slug = flow_slug(&page).unwrap();
        assert_eq!(slug, "default-authentication-flow");
        let url = executor_url(&page, &slug);
        assert_eq!(
            url.path(),
            "/api/v3/flows/executor/default-authentication-flow/"
        );
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            query,
            [(
                "query".to_string(),
                "next=%2Fapplication%2Fo%2Fauthorize%2F%3Fa%3D1".to_string()
            )]
        );
    }

    #[test]
    fn answers_each_stage() {
        let id = json!({"component": "ak-stage-identification", "password_fields": false});
        assert_eq!(
            next(&id, "alice", "pw", Consent::Accept, false).unwrap(),
            Next::Solve {
                body: json!({"component": "ak-stage-identification", "uid_field": "alice"}),
                login: true
            }
        );
        let pw = json!({"component": "ak-stage-password", "response_errors": {"password": [{"string": "Invalid password", "code": "invalid"}]}});
        assert_eq!(
            next(&pw, "alice", "pw", Consent::Accept, true).unwrap(),
            Next::Rejected("Invalid password".into())
        );
        let consent = json!({"component": "ak-stage-consent", "token": "t1"});
        assert!(matches!(
            next(&consent, "a", "p", Consent::Accept, true).unwrap(),
            Next::Solve { login: false, .. }
        ));
        let redirect =
            json!({"component": "xak-flow-redirect", "to": "/application/o/authorize/?x=1"});
        assert_eq!(
            next(&redirect, "a", "p", Consent::Accept, true).unwrap(),
            Next::Redirect("/application/o/authorize/?x=1".into())
        );
        assert!(
            next(
                &json!({"component": "ak-stage-captcha"}),
                "a",
                "p",
                Consent::Accept,
                true
            )
            .is_err()
        );
    }
}
