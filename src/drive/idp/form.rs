//! HTML-form IdPs: find the login form (a password field and its username field, hidden inputs
//! kept) or a consent form on a page, and fill it as a person would.

use crate::drive::login::Ask;
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
    /// The message is an error shown to the user (`role=alert`, an error class, a field marked
    /// `aria-invalid`), not a heading.
    pub alert: bool,
    /// What the page asks for that no form filler can give.
    pub ask: Option<Ask>,
    /// Where the page sends the browser on its own, as a redirect would.
    pub onward: Option<Onward>,
    /// The page has scripts and no form: it builds its form with JavaScript.
    pub scripted: bool,
}

/// A page that moves on by itself.
#[derive(Clone, Debug, PartialEq)]
pub enum Onward {
    /// `<meta http-equiv="refresh" content="0; url=…">`.
    Refresh(Url),
    /// A form of hidden fields that a script or the body's `onload` submits (OAuth's
    /// `form_post` response mode, SAML's POST binding): the form to post.
    Post(Form),
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

/// The value of the page's field `name`: a form control's (`<input>`, `<textarea>`), or a
/// `<meta name>`'s content (a CSRF token kept in the page's head).
pub fn named_value(html: &str, name: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let e = doc
        .select(&sel("input[name], textarea[name], meta[name]"))
        .find(|e| e.value().attr("name") == Some(name))?;
    Some(match e.value().name() {
        "textarea" => e.text().collect(),
        "meta" => e.value().attr("content")?.to_string(),
        _ => e.value().attr("value").unwrap_or_default().to_string(),
    })
}

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
    let alert_text = doc
        .select(&sel(
            "[role=alert], .error, .errors, .alert, .alert-error, .alert-danger, .form-error, \
             .invalid-feedback, #error, .kc-feedback-text, .pf-c-form__helper-text.pf-m-error",
        ))
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|t| !t.is_empty())
        .map(|t| t.chars().take(200).collect::<String>());
    let alert = alert_text.is_some() || doc.select(&sel("[aria-invalid=true]")).next().is_some();
    let message = alert_text
        // A page that offers nothing to fill says what it is in its heading, the first line of
        // its preformatted text (a framework's error page: `<pre>Error: …<br> at …`) or its
        // title.
        .or_else(|| {
            (kind == PageKind::Other)
                .then(|| {
                    ["h1", "pre", "title"]
                        .iter()
                        .flat_map(|tag| {
                            doc.select(&sel(tag))
                                .map(|e| match *tag {
                                    "pre" => e
                                        .text()
                                        .find(|t| !t.trim().is_empty())
                                        .and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
                                        .unwrap_or_default()
                                        .to_string(),
                                    _ => e.text().collect::<String>(),
                                })
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
    let ask = ask(&doc);
    let onward = onward(&doc, &forms, html, base);
    let scripted = forms.is_empty() && doc.select(&sel("script")).next().is_some();
    Parsed {
        forms,
        page: Page { kind, message },
        alert,
        ask,
        onward,
        scripted,
    }
}

/// The page's visible words, lower case, links and scripts left out (a login page's "forgot
/// your password?" link says nothing of the page itself).
fn words(doc: &Html) -> String {
    let mut out = String::new();
    for node in doc.root_element().descendants() {
        let Some(text) = node.value().as_text() else {
            continue;
        };
        let hidden = node.ancestors().any(|a| {
            a.value()
                .as_element()
                .is_some_and(|e| matches!(e.name(), "a" | "script" | "style" | "noscript"))
        });
        if !hidden {
            out.push(' ');
            out.push_str(&text.to_lowercase());
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the page asks for that a smoke test cannot give, from the fields' structure first
/// (`autocomplete` tokens, two password fields, a short numeric field) and from the page's
/// words where there is no password field.
fn ask(doc: &Html) -> Option<Ask> {
    let attr = |e: &scraper::node::Element, a: &str| e.attr(a).unwrap_or("").to_ascii_lowercase();
    let tokens = |e: &scraper::node::Element| -> Vec<String> {
        format!("{} {}", attr(e, "name"), attr(e, "id"))
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    // The inputs by form (those outside any form make one more group).
    let mut groups: Vec<Vec<&scraper::node::Element>> = doc
        .select(&sel("form"))
        .map(|f| f.select(&sel("input")).map(|e| e.value()).collect())
        .collect();
    groups.push(
        doc.select(&sel("input"))
            .filter(|e| {
                !e.ancestors()
                    .any(|a| a.value().as_element().is_some_and(|a| a.name() == "form"))
            })
            .map(|e| e.value())
            .collect(),
    );
    let passwords = |g: &[&scraper::node::Element]| -> usize {
        g.iter().filter(|e| attr(e, "type") == "password").count()
    };
    if groups.iter().any(|g| {
        passwords(g) >= 2
            || g.iter().any(|e| {
                attr(e, "type") == "password"
                    && (attr(e, "autocomplete").contains("new-password")
                        || tokens(e).iter().any(|t| t == "new" || t == "confirm"))
            })
    }) {
        return Some(Ask::NewPassword);
    }
    // A code field in a form of its own: a form that also asks for the username or the password
    // is a login form with a password manager's helper field (Authentik's), not a second factor.
    const OTP_NAMES: &[&str] = &[
        "otp",
        "totp",
        "mfa",
        "2fa",
        "otpcode",
        "passcode",
        "onetimecode",
        "authcode",
    ];
    let code_field = groups.iter().any(|g| {
        let login = passwords(g) > 0
            || g.iter()
                .any(|e| tokens(e).iter().any(|t| USER_NAMES.contains(&t.as_str())));
        !login
            && g.iter().any(|e| {
                let kind = attr(e, "type");
                matches!(kind.as_str(), "" | "text" | "number" | "tel")
                    && (attr(e, "autocomplete").contains("one-time-code")
                        || tokens(e).iter().any(|t| OTP_NAMES.contains(&t.as_str()))
                        || attr(e, "inputmode") == "numeric"
                            && attr(e, "maxlength")
                                .parse::<u8>()
                                .is_ok_and(|n| (4..=8).contains(&n)))
            })
    });
    if code_field {
        return Some(Ask::OneTimeCode);
    }
    let any_password = groups.iter().any(|g| passwords(g) > 0);
    let words = words(doc);
    let says = |list: &[&str]| list.iter().any(|w| words.contains(w));
    if any_password {
        return says(&[
            "new password",
            "change your password",
            "update your password",
            "password has expired",
            "password expired",
        ])
        .then_some(Ask::NewPassword);
    }
    if says(&[
        "one-time code",
        "one-time password",
        "verification code",
        "authentication code",
        "security code",
        "authenticator app",
        "two-factor",
        "two-step",
        "2-step",
        "multi-factor",
    ]) {
        Some(Ask::OneTimeCode)
    } else if says(&["stay signed in", "keep me signed in", "remain signed in"]) {
        Some(Ask::StaySignedIn)
    } else if says(&[
        "verify your email",
        "verify your e-mail",
        "confirm your email",
        "confirm your e-mail",
    ]) {
        Some(Ask::VerifyEmail)
    } else {
        None
    }
}

/// Where the page goes on its own: a meta refresh, or a form of hidden fields that the page
/// submits by script.
fn onward(doc: &Html, forms: &[Form], html: &str, base: &Url) -> Option<Onward> {
    let refresh = doc
        .select(&sel("meta[http-equiv]"))
        .filter(|m| {
            m.value()
                .attr("http-equiv")
                .is_some_and(|v| v.eq_ignore_ascii_case("refresh"))
        })
        .find_map(|m| {
            let content = m.value().attr("content")?;
            let (_, rest) = content
                .split_once(';')
                .or_else(|| content.split_once(','))?;
            let rest = rest.trim();
            let target = rest
                .get(..4)
                .filter(|p| p.eq_ignore_ascii_case("url="))
                .map_or(rest, |_| &rest[4..]);
            let target = target.trim().trim_matches(|c| c == '\'' || c == '"');
            base.join(target).ok()
        });
    if let Some(url) = refresh {
        return Some(Onward::Refresh(url));
    }
    // One POST form of hidden fields only, and a submit() call in a script or an onload.
    let [form] = forms else {
        return None;
    };
    let visible_fields = doc
        .select(&sel("form input, form select, form textarea"))
        .any(|e| {
            !matches!(
                e.value()
                    .attr("type")
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some("hidden" | "submit" | "image" | "button")
            )
        });
    let submits = html.contains(".submit()");
    (form.method == "POST" && !form.fields.is_empty() && !visible_fields && submits)
        .then(|| Onward::Post(form.clone()))
}

/// What a sign-in button does, as far as a page without scripts can tell.
#[derive(Clone, Debug, PartialEq)]
pub enum Press {
    /// A link: follow its `href`.
    Link(Url),
    /// A form (with its hidden fields, a CSRF token among them): submit it.
    Form(Form),
}

/// Words of a sign-in link or button.
pub const SIGN_IN_WORDS: &[&str] = &[
    "sign in",
    "signin",
    "sign-in",
    "log in",
    "login",
    "log-in",
    "sign on",
    "sso",
    "continue with",
];

/// The sign-in link or form of a page: the element `selector` names (a link, a form, or a button
/// in a form), or else the first link or form whose words (its text, `href`, `action`, button
/// labels) say sign in or log in. Only links and forms can be pressed without scripts: an error
/// says what the page offers instead.
pub fn sign_in(html: &str, base: &Url, selector: Option<&str>) -> Result<Press, String> {
    let doc = Html::parse_document(html);
    let press = |e: ElementRef| -> Option<Press> {
        // A submit button sends its own name and value, and may post elsewhere.
        let submitter = matches!(
            (e.value().name(), e.value().attr("type")),
            ("button", None | Some("submit")) | ("input", Some("submit"))
        );
        let mut at = Some(e);
        while let Some(el) = at {
            match el.value().name() {
                "a" => {
                    return el
                        .value()
                        .attr("href")
                        .and_then(|h| base.join(h).ok())
                        .map(Press::Link);
                }
                "form" => {
                    let mut form = read_form(el, base);
                    if submitter {
                        if let Some(name) = e.value().attr("name") {
                            let value = e.value().attr("value").unwrap_or_default();
                            form.fields.push((name.to_string(), value.to_string()));
                        }
                        if let Some(to) =
                            e.value().attr("formaction").and_then(|a| base.join(a).ok())
                        {
                            form.action = to;
                        }
                        if let Some(m) = e.value().attr("formmethod") {
                            form.method = Method::parse(&m.to_ascii_uppercase());
                        }
                    }
                    return Some(Press::Form(form));
                }
                _ => at = el.parent().and_then(ElementRef::wrap),
            }
        }
        None
    };
    if let Some(css) = selector {
        let chosen =
            Selector::parse(css).map_err(|e| format!("`{css}` is not a CSS selector: {e}"))?;
        let el = doc
            .select(&chosen)
            .next()
            .ok_or_else(|| format!("nothing on the page matches `{css}`"))?;
        return press(el).ok_or_else(|| {
            format!(
                "`{css}` matches a <{}> that is neither a link nor a form nor in one: without \
                 scripts only links and forms can be pressed (try --driver browser)",
                el.value().name()
            )
        });
    }
    // Whole words ("sso" is not in "lessons"), and a sign-out is never a sign-in.
    let norm = |s: &str| {
        let words: Vec<String> = s
            .to_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        format!(" {} ", words.join(" "))
    };
    let says_sign_in = |e: &ElementRef| {
        let mut words = String::new();
        for attr in ["href", "action", "value", "aria-label", "title"] {
            if let Some(v) = e.value().attr(attr) {
                words.push(' ');
                words.push_str(v);
            }
        }
        // A link by its text; a form by its buttons, not by everything it wraps.
        if e.value().name() == "form" {
            for b in e.select(&sel("input[type=submit], button")) {
                words.push(' ');
                words.push_str(b.value().attr("value").unwrap_or_default());
                words.push(' ');
                words.push_str(&b.text().collect::<Vec<_>>().join(" "));
            }
        } else {
            words.push(' ');
            words.push_str(&e.text().collect::<Vec<_>>().join(" "));
        }
        let text = norm(&words);
        let out = [" logout ", " log out ", " sign out ", " signout "];
        !out.iter().any(|w| text.contains(w))
            && SIGN_IN_WORDS.iter().any(|w| text.contains(&norm(w)))
    };
    doc.select(&sel("a[href], form"))
        .filter(|e| says_sign_in(e))
        .find_map(press)
        .ok_or_else(|| {
            let scripted = doc.select(&sel("script")).next().is_some();
            format!(
                "no link or form on the page says sign in or log in{}",
                if scripted {
                    " (its button may be scripted: try --driver browser, or name it with \
                     --start-selector)"
                } else {
                    ": name the one to press with --start-selector"
                }
            )
        })
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
    fn error_pages_say_what_they_are() {
        for (html, want) in [
            // Express's error handler, outside production and in it.
            (
                "<!DOCTYPE html><html><head><title>Error</title></head><body><pre>BadRequestError: \
                 checks.state argument is missing<br> &nbsp; &nbsp;at Client.callback</pre></body></html>",
                Some("BadRequestError: checks.state argument is missing"),
            ),
            (
                "<html><head><title>Error</title></head><body><pre>Internal Server Error</pre></body></html>",
                Some("Internal Server Error"),
            ),
            // Spring Boot's whitelabel page, Django's debug page, nginx.
            (
                "<html><body><h1>Whitelabel Error Page</h1><div>There was an unexpected error \
                 (type=Bad Request, status=400).</div></body></html>",
                Some("Whitelabel Error Page"),
            ),
            (
                "<html><head><title>PermissionDenied at /oidc/callback/</title></head><body>\
                 <h1>PermissionDenied at /oidc/callback/</h1></body></html>",
                Some("PermissionDenied at /oidc/callback/"),
            ),
            (
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad \
                 Gateway</h1></center><hr><center>nginx</center></body></html>",
                Some("502 Bad Gateway"),
            ),
            ("<html><body></body></html>", None),
        ] {
            assert_eq!(parse(html, &base()).page.message.as_deref(), want, "{html}");
        }
    }

    #[test]
    fn sign_in_buttons() {
        let page = r#"<a href="/about">About</a>
            <form action="/auth/signin/fixture" method="POST">
              <input type="hidden" name="csrfToken" value="t0k3n">
              <button type="submit" id="go">Sign in with Fixture</button>
            </form>
            <a href="/login" class="cta">Log in</a><div id="fancy">Go</div>"#;
        let at = |html: &str, css: Option<&str>| sign_in(html, &base(), css);
        match at(page, None).unwrap() {
            Press::Form(f) => {
                assert_eq!(f.method, Method::Post);
                assert!(f.action.path().ends_with("/auth/signin/fixture"));
                assert_eq!(f.fields, [("csrfToken".to_string(), "t0k3n".to_string())]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(at(page, Some("#go")).unwrap(), Press::Form(_)));
        match at(page, Some("a.cta")).unwrap() {
            Press::Link(u) => assert_eq!(u.path(), "/login"),
            other => panic!("{other:?}"),
        }
        assert!(
            at(page, Some("#fancy"))
                .unwrap_err()
                .contains("--driver browser")
        );
        assert!(
            at(page, Some("#none"))
                .unwrap_err()
                .contains("nothing on the page")
        );
        assert!(
            at(page, Some("a["))
                .unwrap_err()
                .contains("not a CSS selector")
        );
        assert!(
            at("<a href='/about'>About</a>", None)
                .unwrap_err()
                .contains("--start-selector")
        );
        assert!(
            at("<script>x()</script><div>Sign in</div>", None)
                .unwrap_err()
                .contains("--driver browser")
        );
        // Whole words only; a sign-out is no sign-in; a form wrapping the page is judged by its
        // buttons, not by the text it wraps.
        let page = r#"<form action="/search"><p>Log in below.</p><input name="q"><button>Go</button>
              <a href="/lessons">Lessons</a><a href="/logout?next=/login">Log out</a>
              <a href="/auth/login">Log in</a></form>"#;
        match at(page, None).unwrap() {
            Press::Link(u) => assert_eq!(u.path(), "/auth/login"),
            other => panic!("{other:?}"),
        }
        // A named submit button sends its name and value, and its formaction.
        let page = r#"<form action="/auth/signin" method="post"><input type="hidden" name="t" value="1">
              <button name="provider" value="github" formaction="/auth/signin/github">GitHub</button>
              </form>"#;
        match at(page, Some("button[value=github]")).unwrap() {
            Press::Form(f) => {
                assert_eq!(f.action.path(), "/auth/signin/github");
                assert!(f.fields.contains(&("provider".into(), "github".into())));
            }
            other => panic!("{other:?}"),
        }
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

    /// What a page asks for, from its fields first and its words second.
    #[test]
    fn asks_as_a_table() {
        let login = r#"<form method=post><input name=username><input type=password name=password><button>Sign in</button></form>"#;
        for (what, html, want) in [
            ("a login form", login.to_string(), None),
            (
                "a login form with a forgotten-password link",
                format!("{login}<a href=/reset>Set a new password</a>"),
                None,
            ),
            (
                "a login form with a password manager's code field (Authentik)",
                format!(
                    "{login}<form><input name=username autocomplete=username>\
                     <input type=password name=password><input name=code \
                     autocomplete=one-time-code></form>"
                ),
                None,
            ),
            (
                "a code field",
                "<form method=post><input name=code autocomplete=one-time-code><button>Go</button></form>".into(),
                Some(Ask::OneTimeCode),
            ),
            (
                "a numeric field of six",
                "<form method=post><input name=c inputmode=numeric maxlength=6></form>".into(),
                Some(Ask::OneTimeCode),
            ),
            (
                "an otp field",
                "<form method=post><input name=otp></form>".into(),
                Some(Ask::OneTimeCode),
            ),
            (
                "two-factor words",
                "<h1>Two-factor authentication</h1><form method=post><input name=x></form>".into(),
                Some(Ask::OneTimeCode),
            ),
            (
                "two password fields",
                "<form method=post><input type=password name=a><input type=password name=b></form>".into(),
                Some(Ask::NewPassword),
            ),
            (
                "a new-password field",
                "<form method=post><input type=password name=p autocomplete=new-password></form>".into(),
                Some(Ask::NewPassword),
            ),
            (
                "an expired password",
                "<p>Your password has expired</p><form method=post><input type=password name=p></form>".into(),
                Some(Ask::NewPassword),
            ),
            (
                "stay signed in",
                "<h1>Stay signed in?</h1><form method=post><button>Yes</button></form>".into(),
                Some(Ask::StaySignedIn),
            ),
            (
                "verify the e-mail",
                "<p>Please verify your email address.</p>".into(),
                Some(Ask::VerifyEmail),
            ),
            (
                "a consent page",
                "<h1>Authorize app</h1><form method=post><input type=hidden name=prompt value=consent><button>Continue</button></form>".into(),
                None,
            ),
        ] {
            assert_eq!(parse(&html, &base()).ask, want, "{what}");
        }
    }

    #[test]
    fn pages_that_move_on_by_themselves() {
        let p = parse(
            r#"<meta http-equiv="Refresh" content="0; URL='/next?a=1'">"#,
            &base(),
        );
        assert_eq!(
            p.onward,
            Some(Onward::Refresh(
                Url::parse("http://idp.test/next?a=1").unwrap()
            ))
        );
        let p = parse(
            r#"<body onload="javascript:document.forms[0].submit()"><form method="post" action="https://app.test/cb"><input type="hidden" name="code" value="c"><input type="hidden" name="state" value="s"><noscript><button>Continue</button></noscript></form></body>"#,
            &base(),
        );
        let Some(Onward::Post(form)) = p.onward else {
            panic!("a form_post page: {:?}", p.onward)
        };
        assert_eq!(form.action.as_str(), "https://app.test/cb");
        assert_eq!(form.fields.len(), 2);
        // A consent form of hidden fields is no auto-submit without a script that submits it.
        let p = parse(
            r#"<form method="post" action="/confirm"><input type="hidden" name="prompt" value="consent"><button>Continue</button></form>"#,
            &base(),
        );
        assert_eq!(p.onward, None);
        // A scripted page without a form.
        assert!(parse("<div id=root></div><script src=/app.js></script>", &base()).scripted);
    }
}
