//! HTML-form IdPs: find the login form (a password field and its username field, hidden inputs
//! kept) or a consent form on a page, and fill it as a person would.

use crate::scenario::Consent;
use crate::trace::{Method, Page, PageKind};
use scraper::{ElementRef, Html, Selector};
use url::Url;

#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub action: Url,
    pub method: Method,
    /// Every successful control's name and value, in document order.
    pub fields: Vec<(String, String)>,
    pub username_field: Option<String>,
    pub password_field: Option<String>,
    pub submits: Vec<Submit>,
}

/// A named submit button; its name and value are sent only when it is the one pressed.
#[derive(Clone, Debug, PartialEq)]
pub struct Submit {
    pub name: Option<String>,
    pub value: String,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct Parsed {
    pub forms: Vec<Form>,
    pub page: Page,
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a valid selector")
}

/// Names a username field usually has, best first.
const USER_NAMES: &[&str] = &[
    "username",
    "user",
    "login",
    "email",
    "uid",
    "uidfield",
    "uid_field",
    "identifier",
    "user_name",
    "loginfmt",
    "j_username",
];

/// Words that mark the refusing choice of a consent page.
const DENY_WORDS: &[&str] = &[
    "deny", "abort", "cancel", "reject", "decline", "refuse", "no",
];

pub fn parse(html: &str, base: &Url) -> Parsed {
    let doc = Html::parse_document(html);
    let forms: Vec<Form> = doc
        .select(&sel("form"))
        .map(|f| read_form(f, base))
        .collect();
    let kind = if forms
        .iter()
        .any(|f| f.password_field.is_some() || f.username_field.is_some())
    {
        PageKind::LoginForm
    } else if forms.iter().any(|f| f.method == "POST") {
        PageKind::ConsentForm
    } else {
        PageKind::Other
    };
    let message = doc
        .select(&sel(
            "[role=alert], .error, .errors, .alert, .alert-error, .alert-danger, .form-error, \
             .invalid-feedback, #error, .kc-feedback-text, .pf-c-form__helper-text.pf-m-error",
        ))
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|t| !t.is_empty())
        .map(|t| t.chars().take(200).collect::<String>())
        // A page that offers nothing to fill says what it is in its heading or title.
        .or_else(|| {
            (kind == PageKind::Other)
                .then(|| {
                    ["h1", "title"]
                        .iter()
                        .flat_map(|tag| {
                            doc.select(&sel(tag))
                                .map(|e| e.text().collect::<String>())
                                .collect::<Vec<_>>()
                        })
                        .find(|t| !t.trim().is_empty())
                })
                .flatten()
                .map(|t| {
                    t.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .chars()
                        .take(200)
                        .collect()
                })
        });
    Parsed {
        forms,
        page: Page { kind, message },
    }
}

fn read_form(form: ElementRef, base: &Url) -> Form {
    let action = form
        .value()
        .attr("action")
        .filter(|a| !a.trim().is_empty())
        .and_then(|a| base.join(a.trim()).ok())
        .unwrap_or_else(|| base.clone());
    let method = Method::parse(form.value().attr("method").unwrap_or("get"));
    let mut fields = Vec::new();
    let mut submits = Vec::new();
    let mut password_field = None;
    let mut text_fields = Vec::new();
    for control in form.select(&sel("input, select, textarea, button")) {
        let el = control.value();
        let name = el.attr("name").map(str::to_string);
        let tag = el.name();
        let kind = el
            .attr("type")
            .unwrap_or(if tag == "button" { "submit" } else { "text" })
            .to_ascii_lowercase();
        let value = el.attr("value").unwrap_or("").to_string();
        match (tag, kind.as_str()) {
            ("input" | "button", "submit" | "image") => submits.push(Submit {
                name,
                label: if tag == "button" {
                    control.text().collect::<String>().trim().to_string()
                } else {
                    value.clone()
                },
                value,
            }),
            (_, "button" | "reset" | "file") => {}
            ("input", "password") => {
                if let Some(n) = name {
                    if password_field.is_none() {
                        password_field = Some(n.clone());
                    }
                    fields.push((n, String::new()));
                }
            }
            ("input", "checkbox" | "radio") => {
                if let Some(n) = name.filter(|_| el.attr("checked").is_some()) {
                    fields.push((n, if value.is_empty() { "on".into() } else { value }));
                }
            }
            ("select", _) => {
                if let Some(n) = name {
                    let chosen = control
                        .select(&sel("option[selected]"))
                        .next()
                        .or_else(|| control.select(&sel("option")).next())
                        .map(|o| {
                            o.value()
                                .attr("value")
                                .map(str::to_string)
                                .unwrap_or_else(|| o.text().collect())
                        })
                        .unwrap_or_default();
                    fields.push((n, chosen));
                }
            }
            ("textarea", _) => {
                if let Some(n) = name {
                    fields.push((n, control.text().collect()));
                }
            }
            (_, t) => {
                if let Some(n) = name {
                    if matches!(t, "text" | "email" | "tel" | "") && password_field.is_none() {
                        text_fields.push(n.clone());
                    }
                    fields.push((n, value));
                }
            }
        }
    }
    // With a password field, its username field; without one, a POST form whose text field has
    // a username's name is a username-first login page.
    let named = USER_NAMES
        .iter()
        .find_map(|want| text_fields.iter().find(|n| n.eq_ignore_ascii_case(want)))
        .cloned();
    let username_field = match &password_field {
        Some(_) => named.or_else(|| text_fields.last().cloned()),
        None if method == "POST" => named,
        None => None,
    };
    Form {
        action,
        method,
        fields,
        username_field,
        password_field,
        submits,
    }
}

/// The login form's fields with the username and password filled in.
pub fn fill_login(form: &Form, username: &str, password: &str) -> Vec<(String, String)> {
    let mut fields = form.fields.clone();
    for (name, value) in fields.iter_mut() {
        if Some(&*name) == form.username_field.as_ref() {
            *value = username.to_string();
        } else if Some(&*name) == form.password_field.as_ref() {
            *value = password.to_string();
        }
    }
    press(&mut fields, form.submits.first());
    fields
}

fn press(fields: &mut Vec<(String, String)>, submit: Option<&Submit>) {
    if let Some(Submit {
        name: Some(name),
        value,
        ..
    }) = submit
    {
        fields.push((name.clone(), value.clone()));
    }
}

fn denies(form: &Form, submit: Option<&Submit>) -> bool {
    let mut words = form.action.path().to_ascii_lowercase();
    if let Some(s) = submit {
        words.push(' ');
        words.push_str(
            &format!(
                "{} {} {}",
                s.name.clone().unwrap_or_default(),
                s.value,
                s.label
            )
            .to_ascii_lowercase(),
        );
    }
    words
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| DENY_WORDS.contains(&w))
}

/// The form and fields that give the wanted consent answer.
pub fn consent_choice(forms: &[Form], consent: Consent) -> Option<(&Form, Vec<(String, String)>)> {
    let want_deny = consent == Consent::Deny;
    for form in forms
        .iter()
        .filter(|f| f.method == "POST" && f.password_field.is_none())
    {
        let buttons: Vec<Option<&Submit>> = if form.submits.is_empty() {
            vec![None]
        } else {
            form.submits.iter().map(Some).collect()
        };
        for submit in buttons {
            if denies(form, submit) == want_deny {
                let mut fields = form.fields.clone();
                press(&mut fields, submit);
                return Some((form, fields));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://idp.test/interaction/abc").unwrap()
    }

    #[test]
    fn finds_login_form_and_fills_it() {
        let html = r#"<form method="post" action="/interaction/abc/login">
            <input type="hidden" name="flow" value="login">
            <input name="username"><input type="password" name="password">
            <button type="submit">Sign in</button></form>"#;
        let p = parse(html, &base());
        assert_eq!(p.page.kind, PageKind::LoginForm);
        let f = &p.forms[0];
        assert_eq!(f.action.as_str(), "http://idp.test/interaction/abc/login");
        let filled = fill_login(f, "alice", "pw");
        assert_eq!(
            filled,
            vec![
                ("flow".into(), "login".into()),
                ("username".into(), "alice".into()),
                ("password".into(), "pw".into())
            ]
        );
    }

    #[test]
    fn a_username_first_page_is_a_login_page() {
        let html = r#"<form method="post" action="/identify"><input name="email"><button>Next</button></form>"#;
        let p = parse(html, &base());
        assert_eq!(p.page.kind, PageKind::LoginForm);
        assert_eq!(p.forms[0].username_field.as_deref(), Some("email"));
        assert_eq!(
            fill_login(&p.forms[0], "alice", "pw"),
            vec![("email".to_string(), "alice".to_string())]
        );
    }

    #[test]
    fn picks_consent_by_wish() {
        let html = r#"<form method="post" action="/i/1/confirm"><button type="submit">Allow</button></form>
            <form method="post" action="/i/1/abort"><button type="submit">Deny</button></form>
            <p class="error">  Something   went wrong </p>"#;
        let p = parse(html, &base());
        assert_eq!(p.page.kind, PageKind::ConsentForm);
        assert_eq!(p.page.message.as_deref(), Some("Something went wrong"));
        let (f, _) = consent_choice(&p.forms, Consent::Accept).unwrap();
        assert!(f.action.path().ends_with("/confirm"));
        let (f, _) = consent_choice(&p.forms, Consent::Deny).unwrap();
        assert!(f.action.path().ends_with("/abort"));
    }

    #[test]
    fn one_form_two_buttons() {
        let html = r#"<form method="post"><input type="hidden" name="t" value="1">
            <button name="decision" value="allow">Yes</button><button name="decision" value="deny">No</button></form>"#;
        let p = parse(html, &base());
        let (_, fields) = consent_choice(&p.forms, Consent::Deny).unwrap();
        assert!(fields.contains(&("decision".into(), "deny".into())));
    }
}
