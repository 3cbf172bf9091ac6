//! `authchain init [--preset P] URL`: a commented scenario file for the chain at URL, written
//! from what the app's endpoints answer. Each preset names the answer that tells its library
//! without a session ([`crate::preset::Tell`]); nothing told: a scenario that starts at the
//! page's sign-in button.

use crate::drive::http::{HttpClient, Request};
use crate::preset::{CookieRole, Tell};
use crate::redact::Redactor;
use crate::scenario::{Preset, join_path};
use crate::trace::Step;
use url::Url;

/// What the app's endpoints said.
#[derive(Debug, Default)]
pub struct Detected {
    pub preset: Option<Preset>,
    pub auth_base: Option<Url>,
    /// The provider ids the app lists (Auth.js), in its order.
    pub providers: Vec<String>,
    /// The IdP the app sends its login to, as an origin.
    pub idp: Option<String>,
    /// What was asked and what answered, one line each (for the file's comments).
    pub evidence: Vec<String>,
}

/// Asks the endpoints of `only` (or of every preset, in order) at `app`, until one tells its
/// library.
pub async fn detect(
    app: &Url,
    only: Option<Preset>,
    client: &HttpClient,
    r: &mut Redactor,
) -> Detected {
    let mut d = Detected::default();
    for preset in Preset::ALL
        .iter()
        .copied()
        .filter(|p| only.is_none_or(|o| o == *p))
    {
        if tells(app, preset, client, &mut d, r).await {
            d.preset = Some(preset);
            return d;
        }
    }
    d
}

/// Whether `preset`'s tell answers at `app`; what was asked is added to `d.evidence`, what was
/// learnt (auth base, providers, IdP) to `d`.
async fn tells(
    app: &Url,
    preset: Preset,
    client: &HttpClient,
    d: &mut Detected,
    r: &mut Redactor,
) -> bool {
    let c = preset.contract();
    let default_base = crate::scenario::default_auth_base(app, Some(preset));
    match c.tell {
        Tell::NullSession => {
            let Some(path) = c.native_path else {
                return false;
            };
            let url = join_path(&default_base, path);
            let Some(answer) = get(client, &url, r).await else {
                return false;
            };
            let null = answer.status == 200 && answer.json() == Some(serde_json::Value::Null);
            d.evidence.push(format!(
                "GET {} → {}{}",
                r.url(&url),
                answer.status,
                if null { " null" } else { "" }
            ));
            if null {
                d.auth_base = Some(default_base);
            }
            null
        }
        Tell::ProviderList { path, field, bases } => {
            for base in bases {
                let base = join_path(app, base);
                let url = join_path(&base, path);
                let Some(answer) = get(client, &url, r).await else {
                    continue;
                };
                let providers: Vec<String> = match answer.json() {
                    Some(serde_json::Value::Object(m))
                        if answer.status == 200
                            && !m.is_empty()
                            && m.values().all(|v| v.get(field).is_some()) =>
                    {
                        m.keys().cloned().collect()
                    }
                    _ => Vec::new(),
                };
                d.evidence.push(format!(
                    "GET {} → {}{}",
                    r.url(&url),
                    answer.status,
                    if providers.is_empty() {
                        String::new()
                    } else {
                        format!(" providers {}", providers.join(", "))
                    }
                ));
                if !providers.is_empty() {
                    d.auth_base = Some(base);
                    d.providers = providers;
                    return true;
                }
            }
            false
        }
        Tell::LoginRedirect => {
            let Some(start) = c.starts.first() else {
                return false;
            };
            let url = join_path(&default_base, start.path);
            let Some(answer) = get(client, &url, r).await else {
                return false;
            };
            let to_idp = answer
                .location
                .as_ref()
                .filter(|l| l.query_pairs().any(|(k, _)| k == "client_id"));
            let own_state = answer
                .headers
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(|v| v.split_once('=').map(|(name, _)| name.trim()))
                .any(|name| crate::preset::cookie_role(Some(preset), name) == CookieRole::State);
            d.evidence.push(format!(
                "GET {} → {}{}",
                r.url(&url),
                answer.status,
                to_idp.map_or(String::new(), |l| format!(
                    " to {}",
                    l.origin().ascii_serialization()
                ))
            ));
            if let Some(l) = to_idp {
                d.idp = Some(l.origin().ascii_serialization());
            }
            if to_idp.is_some() && own_state {
                d.auth_base = Some(default_base);
                return true;
            }
            false
        }
    }
}

async fn get(
    client: &HttpClient,
    url: &Url,
    r: &mut Redactor,
) -> Option<crate::drive::http::Answer> {
    let mut req = Request::get(url.clone(), Step::Follow);
    req.headers
        .push(("accept".into(), "application/json, text/html;q=0.9".into()));
    client.exchange(&req, None, r).await.ok()
}

/// Text from an answer as a TOML string, quotes and escapes included, and `${` written as
/// the scenario format's literal `$${` (no variable of the user's is read through it).
fn toml_str(s: &str) -> String {
    toml::Value::String(s.replace("${", "$${")).to_string()
}

/// Text from an answer as part of a comment: one line, no control characters.
fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The scenario file, commented: what was found, and what to fill in. What the app answered
/// goes in as TOML strings or one-line comments, never as TOML of its own.
pub fn render(app: &Url, d: &Detected) -> String {
    let origin = app.as_str().trim_end_matches('/');
    let mut o = String::new();
    let line = |o: &mut String, s: &str| {
        o.push_str(s);
        o.push('\n');
    };
    line(
        &mut o,
        "# Written by `authchain init` from what the app answered:",
    );
    for e in &d.evidence {
        line(&mut o, &format!("#   {}", comment_safe(e)));
    }
    if d.evidence.is_empty() {
        line(&mut o, "#   (no endpoint answered)");
    }
    line(
        &mut o,
        "# Check it with `authchain validate FILE`; run it with `authchain run FILE` once the",
    );
    line(
        &mut o,
        "# environment variables below are set. docs/scenario-format.md has every field.",
    );
    let what = match d.preset {
        Some(p) => p.contract().library,
        None => "the app",
    };
    line(
        &mut o,
        &format!(
            "name = {}",
            toml_str(&format!("Login into {what} at {origin}"))
        ),
    );
    line(&mut o, "");
    line(&mut o, "[vars]");
    line(&mut o, &format!("app = {}", toml_str(origin)));
    line(&mut o, "");
    line(&mut o, "[chain]");
    line(&mut o, "app = \"${app}\"");
    match d.preset {
        Some(p) => {
            line(&mut o, &format!("preset = \"{}\"", p.name()));
            if let Some(base) = &d.auth_base {
                let default = crate::scenario::default_auth_base(app, Some(p));
                if base != &default {
                    line(&mut o, &format!("auth_base = {}", toml_str(base.as_str())));
                }
            }
            if p.contract().needs_provider() {
                match d.providers.as_slice() {
                    [] => {
                        line(
                            &mut o,
                            "# The provider id configured in the app (its social provider or generic OAuth providerId).",
                        );
                        line(&mut o, "provider = \"${env:AUTHCHAIN_PROVIDER}\"");
                    }
                    [one] => line(&mut o, &format!("provider = {}", toml_str(one))),
                    [first, rest @ ..] => {
                        line(
                            &mut o,
                            &format!(
                                "# The app lists these providers too: {}",
                                comment_safe(&rest.join(", "))
                            ),
                        );
                        line(&mut o, &format!("provider = {}", toml_str(first)));
                    }
                }
            }
        }
        None => {
            line(
                &mut o,
                "# No auth library authchain has a preset for answered: the login starts at the",
            );
            line(
                &mut o,
                "# page's sign-in link or button, pressed as a person presses it (driver = \"browser\"",
            );
            line(&mut o, "# for a scripted button).");
            line(&mut o, "start_page = { url = \"${app}/\" }");
        }
    }
    line(&mut o, "callback_url = \"${app}/\"");
    line(&mut o, "timeout = \"10s\"");
    line(&mut o, "");
    line(&mut o, "[idp]");
    if let Some(idp) = &d.idp {
        line(
            &mut o,
            &format!("# The app sends its login to {}.", comment_safe(idp)),
        );
    }
    line(
        &mut o,
        "# form: any HTML login form; authentik: Authentik's flow executor.",
    );
    line(&mut o, "kind = \"form\"");
    line(&mut o, "username = \"${env:AUTHCHAIN_USER}\"");
    line(&mut o, "password = \"${secret:AUTHCHAIN_PASSWORD}\"");
    line(&mut o, "consent = \"accept\"");
    let native = d
        .preset
        .and_then(|p| p.contract().native_path.map(|n| (p, n)));
    match (native, &d.auth_base) {
        (Some((p, path)), Some(base)) => {
            line(&mut o, "");
            line(
                &mut o,
                &format!(
                    "# {}'s own session endpoint: the reference.",
                    p.contract().library
                ),
            );
            line(&mut o, "[[probe]]");
            line(&mut o, "name = \"native\"");
            line(
                &mut o,
                &format!(
                    "request = {}",
                    toml_str(&format!("GET {}", join_path(base, path).as_str()))
                ),
            );
        }
        _ => {
            line(&mut o, "");
            line(
                &mut o,
                "# A route that answers only with a session (one behind the library's guard).",
            );
            line(&mut o, "[[probe]]");
            line(&mut o, "name = \"native\"");
            line(&mut o, "request = \"GET ${env:AUTHCHAIN_SESSION_URL}\"");
            line(&mut o, "native = true");
        }
    }
    line(&mut o, "");
    line(
        &mut o,
        "# The app's own guarded API, compared with the native endpoint (uncomment, name yours):",
    );
    line(&mut o, "# [[probe]]");
    line(&mut o, "# name = \"guarded\"");
    line(&mut o, "# request = \"GET ${app}/api/me\"");
    line(&mut o, "# compare_to = \"native\"");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an app answers goes in as data: quotes, newlines and `${…}` in a provider id
    /// neither end its string nor add a key nor read a variable.
    #[test]
    fn answers_go_in_as_strings_only() {
        let d = Detected {
            preset: Some(Preset::AuthJs),
            auth_base: Some(Url::parse("https://app.test/auth").unwrap()),
            providers: vec!["x\"\nstart = \"GET ${secret:P}".into(), "b\nc".into()],
            idp: Some("https://idp.test\n[chain]".into()),
            evidence: vec!["GET /x → 200\nstart_page = 1".into()],
        };
        let text = render(&Url::parse("https://app.test/").unwrap(), &d);
        let doc: toml::Table = text.parse().expect("valid TOML");
        let chain = doc["chain"].as_table().unwrap();
        assert_eq!(
            chain["provider"].as_str(),
            Some("x\"\nstart = \"GET $${secret:P}")
        );
        assert!(!chain.contains_key("start") && !chain.contains_key("start_page"));
    }
}
