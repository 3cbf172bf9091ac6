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
        Some(url) if answer.status < 400 => StartNext::Follow(url),
        _ => StartNext::Refused,
    }
}

/// What a page offers, as far as the login needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    Nothing,
}

/// What a driver saw: where it is, the answer's status when it knows it (the browser learns
/// statuses only afterwards, from its log), what the page offers, and any message it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub at_app: bool,
    pub status: Option<u16>,
    pub offer: Offer,
    pub message: Option<String>,
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
    /// The IdP showed the same login form again: it refused the credentials.
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
    /// Another password is asked for after one was accepted (a forced password change).
    ManualStep,
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
        // An IdP may answer refused credentials with its form and a 401: that is no error page.
        let status_error = seen.status.is_some_and(|s| s >= 400);
        if status_error && !(self.submitted_login && login_form.is_some()) {
            return Next::IdpError;
        }
        match (&seen.offer, login_form) {
            (_, Some((asks_password, action))) => {
                let again = self.submitted_actions.contains(action);
                // The same login form again after the password went (or the username-first form
                // again, with an error): the credentials were refused.
                if again && (self.password_sent && asks_password || seen.message.is_some()) {
                    return Next::Rejected;
                }
                // Another password form after an accepted one: a step a smoke test cannot take.
                if self.password_sent && asks_password {
                    return Next::Stuck(Stuck::ManualStep);
                }
                self.submitted_login = true;
                self.password_sent |= asks_password;
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
        }
    }

    /// Whole logins as tables: each row is what the driver saw and what must come next.
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
                        idp(login(true, "/change"), Some("Choose a new password")),
                        Stuck(super::Stuck::ManualStep),
                    ),
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
