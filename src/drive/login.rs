//! The login as one state machine, pure: what the chain has seen so far and the current answer
//! in, the next action out. The HTTP driver reads its answers and the browser driver reads its
//! pages into the same [`Seen`], and both carry out what [`Login::next`] and [`after_start`]
//! decide, so the two cannot drift apart.

use crate::preset::Contract;
use url::Url;

/// What a start request answered.
#[derive(Clone, Debug)]
pub struct StartAnswer<'a> {
    pub url: &'a Url,
    pub status: u16,
    /// Its `Location` header, resolved against its URL.
    pub location: Option<Url>,
    pub body: &'a str,
}

/// What to do after a start request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartNext {
    /// Go to the IdP (or wherever the start points).
    Follow(Url),
    /// Not this endpoint or provider: try the preset's next start.
    TryNext,
    /// The app answered without a URL to follow.
    Refused,
}

/// Keys of a JSON start answer that hold the URL to go to, best first (a boolean `redirect`
/// next to `url` is no URL and is passed over).
const NEXT_URL_KEYS: &[&str] = &[
    "url",
    "authorizationUrl",
    "authorization_url",
    "redirect",
    "redirectTo",
];

/// Reads a start answer. `contract` is the preset's, when the start is one of its own;
/// `more` says whether another start is left to try.
pub fn after_start(contract: Option<&Contract>, more: bool, answer: &StartAnswer) -> StartNext {
    if more && contract.is_some_and(|c| c.unknown_start(answer.status, answer.body)) {
        return StartNext::TryNext;
    }
    let from_json = || {
        let json: serde_json::Value = serde_json::from_str(answer.body).ok()?;
        NEXT_URL_KEYS
            .iter()
            .find_map(|k| json.get(k)?.as_str().map(str::to_string))
            .and_then(|u| answer.url.join(&u).ok())
    };
    match answer.location.clone().or_else(from_json) {
        // Sent back to the app's own error page: a refusal with a code.
        Some(url) if url.origin() == answer.url.origin() && error_code(&url).is_some() => {
            StartNext::Refused
        }
        Some(url) if answer.status < 400 => StartNext::Follow(url),
        _ => StartNext::Refused,
    }
}

/// The error code a start answer sends the browser back with to the app's own page
/// (`signin?error=<code>`), by its `Location` or its JSON URL.
pub fn start_error(answer: &StartAnswer) -> Option<String> {
    let json: Option<serde_json::Value> = serde_json::from_str(answer.body).ok();
    let from_json = json
        .as_ref()
        .and_then(|j| NEXT_URL_KEYS.iter().find_map(|k| j.get(k)?.as_str()))
        .and_then(|u| answer.url.join(u).ok());
    answer
        .location
        .clone()
        .or(from_json)
        .filter(|u| u.origin() == answer.url.origin())
        .and_then(|u| error_code(&u))
}

fn error_code(url: &Url) -> Option<String> {
    url.query_pairs()
        .find(|(k, v)| k == "error" && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

/// What a page offers, as far as the login needs to know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Offer {
    /// A login form: whether it asks for the password (else only a username), and the path it
    /// posts to.
    Login {
        asks_password: bool,
        action: String,
    },
    Consent,
    /// The IdP's own "access denied" or error stage.
    Denied,
    /// Not a page at all (JSON, text): its content type.
    NotHtml(String),
    /// Nothing to fill.
    #[default]
    Nothing,
}

/// Something the IdP asks for that a smoke test cannot give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// A one-time code: a second factor (TOTP, SMS, e-mail code).
    OneTimeCode,
    /// Whether to stay signed in.
    StaySignedIn,
    /// A new password: an expired password or a forced change.
    NewPassword,
    /// A verified e-mail address.
    VerifyEmail,
}

impl Ask {
    /// What the IdP asks for, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Ask::OneTimeCode => "a one-time code (a second factor)",
            Ask::StaySignedIn => "whether to stay signed in",
            Ask::NewPassword => "a new password (an expired password or a forced change)",
            Ask::VerifyEmail => "a verified e-mail address",
        }
    }
}

/// What a driver saw: where it is, the answer's status when it knows it, what the page offers,
/// what it asks for that no form filler can give, and any message it shows (`alert` when the
/// message is an error shown to the user: `role=alert`, an error class, a field marked
/// `aria-invalid`, rather than a heading).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub at_app: bool,
    pub status: Option<u16>,
    pub offer: Offer,
    pub ask: Option<Ask>,
    pub message: Option<String>,
    pub alert: bool,
}

/// The next action of the login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Back at the app: the login is over.
    Landed,
    /// Fill in the login form and submit it.
    Login,
    /// Answer the consent form.
    Consent,
    /// The IdP did not go on after the credentials: the same form again, a password field
    /// again, a 4xx, a text or JSON error, an error banner.
    Rejected,
    /// The IdP stopped the login: an error answer, a denial, a page with nothing to fill after
    /// the credentials went.
    IdpError,
    /// The login cannot go on.
    Stuck(Stuck),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stuck {
    /// The IdP's answer is not a page.
    NotHtml,
    /// No login or consent form on the IdP's page.
    NoForm,
    /// The IdP asks for something a smoke test cannot give.
    Interaction(Ask),
}

/// What the login has done so far.
#[derive(Clone, Debug, Default)]
pub struct Login {
    /// Credentials were submitted.
    pub submitted_login: bool,
    /// A password was submitted.
    pub password_sent: bool,
    /// Where credentials were posted: the same form again means they were refused.
    submitted_actions: Vec<String>,
    /// The last action was the password's submission: this answer is the IdP's word on it.
    answering_password: bool,
}

impl Login {
    /// The next action for what was just seen; a [`Next::Login`] is taken as done.
    pub fn next(&mut self, seen: &Seen) -> Next {
        let login_form = match &seen.offer {
            Offer::Login {
                asks_password,
                action,
            } => Some((*asks_password, action)),
            _ => None,
        };
        // Back at the app, unless the app's origin serves the IdP's password form itself (an
        // IdP routed under the app's host).
        if seen.at_app && !login_form.is_some_and(|(password, _)| password) {
            return Next::Landed;
        }
        let answering_password = std::mem::take(&mut self.answering_password);
        // A new password is only asked for after one went (before, such a page is a login
        // form); anything else only on a page that is no login form.
        if let Some(ask) = seen.ask
            && (ask == Ask::NewPassword && self.password_sent
                || ask != Ask::NewPassword && login_form.is_none())
        {
            return Next::Stuck(Stuck::Interaction(ask));
        }
        let status = seen.status.unwrap_or(200);
        // The answer to the password that is not the login's next step: a refusal.
        if answering_password
            && ((400..500).contains(&status)
                || matches!(seen.offer, Offer::NotHtml(_))
                || (seen.alert && login_form.is_none() && seen.offer != Offer::Consent))
        {
            return Next::Rejected;
        }
        // An IdP may answer refused credentials with its form and a 401: that is no error page.
        if status >= 400 && !(self.submitted_login && login_form.is_some()) {
            return Next::IdpError;
        }
        match (&seen.offer, login_form) {
            (_, Some((asks_password, action))) => {
                let again = self.submitted_actions.contains(action);
                // The same login form again after the password went (or the username-first form
                // again, with an error), or a password field again: the credentials were refused.
                if again && (self.password_sent || seen.message.is_some())
                    || self.password_sent && asks_password
                {
                    return Next::Rejected;
                }
                self.submitted_login = true;
                self.password_sent |= asks_password;
                self.answering_password = asks_password;
                self.submitted_actions.push(action.clone());
                Next::Login
            }
            (Offer::Consent, _) => Next::Consent,
            (Offer::Denied, _) => Next::IdpError,
            (Offer::NotHtml(_), _) => Next::Stuck(Stuck::NotHtml),
            // After the login, a page with nothing to fill is the IdP stopping the login
            // (Authentik's "Permission denied", a policy page).
            (_, None) if self.submitted_login => Next::IdpError,
            _ => Next::Stuck(Stuck::NoForm),
        }
    }
}

/// The run's stop when the IdP asks for something a smoke test cannot give.
pub fn interaction_message(ask: Ask, url: &str, says: Option<&str>) -> String {
    let says = says
        .map(|m| format!(" (the page says \"{m}\")"))
        .unwrap_or_default();
    format!(
        "the IdP asks for {} at {url}{says}: a smoke test cannot answer it; use a test account \
         without this step, or finish it once by hand for this account",
        ask.describe()
    )
}

/// The message of an answer that is not a page: a JSON error's own words (`error_description`,
/// `message`, `detail`, `error`, nested one level), else the start of the text.
pub fn text_message(content_type: Option<&str>, body: &str) -> Option<String> {
    const KEYS: &[&str] = &[
        "error_description",
        "message",
        "detail",
        "error",
        "title",
        "msg",
    ];
    fn from_json(v: &serde_json::Value, depth: u8) -> Option<String> {
        let obj = v.as_object()?;
        KEYS.iter()
            .find_map(|k| obj.get(*k)?.as_str().map(str::to_string))
            .or_else(|| {
                (depth > 0)
                    .then(|| obj.values().find_map(|v| from_json(v, depth - 1)))
                    .flatten()
            })
    }
    let json = content_type.is_none_or(|t| t.contains("json"));
    let text = json
        .then(|| serde_json::from_str(body).ok())
        .flatten()
        .and_then(|v| from_json(&v, 1))
        .unwrap_or_else(|| body.to_string());
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then(|| text.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::Preset;

    fn login(password: bool, action: &str) -> Offer {
        Offer::Login {
            asks_password: password,
            action: action.into(),
        }
    }

    fn seen(at_app: bool, status: Option<u16>, offer: Offer, message: Option<&str>) -> Seen {
        Seen {
            at_app,
            status,
            offer,
            message: message.map(str::to_string),
            ..Seen::default()
        }
    }

    fn asks(ask: Ask, offer: Offer) -> Seen {
        Seen {
            status: Some(200),
            offer,
            ask: Some(ask),
            ..Seen::default()
        }
    }

    fn alert(message: &str) -> Seen {
        Seen {
            status: Some(200),
            message: Some(message.into()),
            alert: true,
            ..Seen::default()
        }
    }

    /// Whole logins as tables: each row is what the driver saw and what must come next.
    #[test]
    fn a_start_sent_back_with_a_code_is_refused() {
        let start = Url::parse("http://app.test/auth/signin/fixture").unwrap();
        // (status, Location, body, refused, its code)
        for (status, location, body, refused, code) in [
            (
                302,
                Some("/auth/signin?error=MissingCSRF"),
                "",
                true,
                Some("MissingCSRF"),
            ),
            (
                200,
                None,
                r#"{"url":"http://app.test/auth/signin?error=MissingCSRF"}"#,
                true,
                Some("MissingCSRF"),
            ),
            (
                200,
                None,
                r#"{"url":"http://idp.test/authorize?error=x"}"#,
                false,
                None,
            ),
            (
                302,
                Some("http://idp.test/authorize?client_id=a"),
                "",
                false,
                None,
            ),
            (
                500,
                None,
                r#"{"message":"There was a problem"}"#,
                true,
                None,
            ),
        ] {
            let answer = StartAnswer {
                url: &start,
                status,
                location: location.map(|l| start.join(l).unwrap()),
                body,
            };
            assert_eq!(
                after_start(None, false, &answer) == StartNext::Refused,
                refused,
                "{status} {location:?} {body}"
            );
            assert_eq!(
                start_error(&answer).as_deref(),
                code,
                "{status} {location:?} {body}"
            );
        }
    }

    #[test]
    fn logins_as_tables() {
        use Next::*;
        let idp = |offer, message| seen(false, Some(200), offer, message);
        let cases: Vec<(&str, Vec<(Seen, Next)>)> = vec![
            (
                "login, consent, landing",
                vec![
                    (idp(login(true, "/i/1/login"), None), Login),
                    (idp(Offer::Consent, None), Consent),
                    (seen(true, Some(200), Offer::Nothing, None), Landed),
                ],
            ),
            (
                "username first, then the password",
                vec![
                    (idp(login(false, "/identify"), None), Login),
                    (idp(login(true, "/password"), None), Login),
                    (seen(true, None, Offer::Nothing, None), Landed),
                ],
            ),
            (
                "the same form again after the password: refused",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (
                        idp(login(true, "/login"), Some("Invalid password")),
                        Rejected,
                    ),
                ],
            ),
            (
                "refused with a 401 and the form",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (
                        seen(false, Some(401), login(true, "/login"), None),
                        Rejected,
                    ),
                ],
            ),
            (
                "a password change after the login",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (
                        asks(Ask::NewPassword, login(true, "/change")),
                        Stuck(super::Stuck::Interaction(Ask::NewPassword)),
                    ),
                ],
            ),
            (
                "a password field again, elsewhere",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (idp(login(true, "/login/retry"), None), Rejected),
                ],
            ),
            (
                "a new-password page before any login is a login form",
                vec![(asks(Ask::NewPassword, login(true, "/register")), Login)],
            ),
            (
                "a one-time code after the password",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (
                        asks(Ask::OneTimeCode, Offer::Consent),
                        Stuck(super::Stuck::Interaction(Ask::OneTimeCode)),
                    ),
                ],
            ),
            (
                "stay signed in after the password",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (
                        asks(Ask::StaySignedIn, Offer::Consent),
                        Stuck(super::Stuck::Interaction(Ask::StaySignedIn)),
                    ),
                ],
            ),
            (
                "a plain-text 401 to the password",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (
                        seen(false, Some(401), Offer::NotHtml("text/plain".into()), None),
                        Rejected,
                    ),
                ],
            ),
            (
                "a JSON error with a 200 to the password",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (
                        idp(Offer::NotHtml("application/json".into()), None),
                        Rejected,
                    ),
                ],
            ),
            (
                "an error banner and no form",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (alert("Wrong password"), Rejected),
                ],
            ),
            (
                "a 5xx to the password is the IdP failing",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (seen(false, Some(500), Offer::Nothing, None), IdpError),
                ],
            ),
            (
                "the username stage refused with a 4xx",
                vec![
                    (idp(login(false, "/identify"), None), Login),
                    (seen(false, Some(404), Offer::Nothing, None), IdpError),
                ],
            ),
            (
                "a policy page after the login",
                vec![
                    (idp(login(true, "/login"), None), Login),
                    (idp(Offer::Nothing, Some("Permission denied")), IdpError),
                ],
            ),
            (
                "an IdP error answer before any form",
                vec![(
                    seen(
                        false,
                        Some(400),
                        Offer::Nothing,
                        Some("invalid_redirect_uri"),
                    ),
                    IdpError,
                )],
            ),
            (
                "the IdP's own denial stage",
                vec![(
                    seen(false, None, Offer::Denied, Some("access denied")),
                    IdpError,
                )],
            ),
            (
                "a JSON IdP page",
                vec![(
                    idp(Offer::NotHtml("application/json".into()), None),
                    Stuck(super::Stuck::NotHtml),
                )],
            ),
            (
                "a page with nothing to fill before any login",
                vec![(idp(Offer::Nothing, None), Stuck(super::Stuck::NoForm))],
            ),
            (
                "an IdP under the app's origin",
                vec![
                    (
                        seen(true, Some(200), login(true, "/idp/login"), None),
                        Login,
                    ),
                    (seen(true, Some(200), Offer::Nothing, None), Landed),
                ],
            ),
            (
                "an existing IdP session: straight back",
                vec![(seen(true, Some(200), Offer::Nothing, None), Landed)],
            ),
        ];
        for (name, steps) in cases {
            let mut machine = super::Login::default();
            for (i, (seen, want)) in steps.into_iter().enumerate() {
                assert_eq!(machine.next(&seen), want, "{name}, step {}", i + 1);
            }
        }
    }

    #[test]
    fn messages_of_answers_that_are_not_pages() {
        for (what, ct, body, want) in [
            (
                "OAuth error",
                Some("application/json"),
                r#"{"error":"invalid_grant","error_description":"Invalid credentials"}"#,
                Some("Invalid credentials"),
            ),
            (
                "nested",
                Some("application/json"),
                r#"{"errors":{"message":"Account locked"}}"#,
                Some("Account locked"),
            ),
            (
                "text",
                Some("text/plain"),
                "  Invalid   username\nor password ",
                Some("Invalid username or password"),
            ),
            ("empty", Some("text/plain"), " ", None),
            (
                "JSON without a message",
                None,
                r#"{"ok":false}"#,
                Some(r#"{"ok":false}"#),
            ),
        ] {
            assert_eq!(text_message(ct, body).as_deref(), want, "{what}");
        }
    }

    #[test]
    fn start_answers() {
        let contract = Preset::BetterAuth.contract();
        let url = Url::parse("http://app.test/api/auth/sign-in/social").unwrap();
        let idp = Url::parse("http://idp.test/authorize?x=1").unwrap();
        let answer = |status, location: Option<&Url>, body| StartAnswer {
            url: &url,
            status,
            location: location.cloned(),
            body,
        };
        let follow = StartNext::Follow(idp.clone());
        for (what, c, more, a, want) in [
            (
                "JSON and Location",
                Some(contract),
                true,
                answer(
                    200,
                    Some(&idp),
                    r#"{"url":"http://idp.test/authorize?x=1","redirect":true}"#,
                ),
                follow.clone(),
            ),
            (
                "JSON only",
                Some(contract),
                true,
                answer(
                    200,
                    None,
                    r#"{"url":"http://idp.test/authorize?x=1","redirect":true}"#,
                ),
                follow.clone(),
            ),
            (
                "a redirect",
                None,
                false,
                answer(302, Some(&idp), ""),
                follow.clone(),
            ),
            (
                "authorizationUrl",
                None,
                false,
                answer(
                    200,
                    None,
                    r#"{"authorizationUrl":"http://idp.test/authorize?x=1","state":"s"}"#,
                ),
                follow.clone(),
            ),
            (
                "unknown endpoint, more to try",
                Some(contract),
                true,
                answer(404, None, "Not Found"),
                StartNext::TryNext,
            ),
            (
                "unknown provider, more to try",
                Some(contract),
                true,
                answer(400, None, r#"{"code":"PROVIDER_NOT_FOUND"}"#),
                StartNext::TryNext,
            ),
            (
                "unknown endpoint, the last",
                Some(contract),
                false,
                answer(404, None, "Not Found"),
                StartNext::Refused,
            ),
            (
                "an untrusted origin",
                Some(contract),
                true,
                answer(403, None, r#"{"code":"INVALID_ORIGIN"}"#),
                StartNext::Refused,
            ),
            (
                "no URL",
                None,
                false,
                answer(200, None, r#"{"ok":true}"#),
                StartNext::Refused,
            ),
        ] {
            assert_eq!(after_start(c, more, &a), want, "{what}");
        }
    }
}
