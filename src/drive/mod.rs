//! Drive: log in through the chain (start at the app, through the IdP, back to the callback),
//! recording every hop. Returns the hops and the jar for the probe stage.

pub mod browser;
pub mod http;
pub mod idp;

use crate::redact::Redactor;
use crate::scenario::{Body, Consent, IdpKind, Scenario, join_path};
use crate::trace::{ChainInfo, Ended, HopNo, PageKind, RunError, Step};
use http::{Answer, HttpDriver, Request};
use std::collections::HashMap;
use url::Url;

/// How many pages of the IdP the login may pass (login, consent, a second factor, …).
pub(crate) const MAX_IDP_PAGES: usize = 8;

/// The drive's result: what it learnt, the hops it made and how it ended.
pub struct Drive {
    pub driver: HttpDriver,
    pub chain: ChainInfo,
    pub ended: Ended,
    pub error: Option<RunError>,
}

/// Why a follow loop stopped before a page.
enum Stop {
    Ended(Ended),
    Error(RunError),
}

impl From<RunError> for Stop {
    fn from(e: RunError) -> Self {
        Stop::Error(e)
    }
}

/// Logs in as the scenario says. An `Err` means the driver could not even be set up.
pub async fn login(scenario: &Scenario, r: &mut Redactor) -> Result<Drive, RunError> {
    let c = &scenario.chain;
    let mut chain = ChainInfo {
        app: c.app.to_string(),
        auth_base: Some(c.auth_base.to_string()),
        preset: c.preset.map(|p| p.name().to_string()),
        provider: c.provider.clone(),
        driver: c.driver.name().to_string(),
        ..ChainInfo::default()
    };
    let driver = HttpDriver::new(&c.app, c.timeout, &c.resolve).map_err(|message| RunError {
        step: "setup".into(),
        hop: None,
        message,
    })?;
    let mut run = Runner {
        scenario,
        driver,
        seen: HashMap::new(),
    };
    let (ended, error) = match run.drive(&mut chain, r).await {
        Ok(ended) => (ended, None),
        Err(Stop::Ended(ended)) => (ended, None),
        Err(Stop::Error(e)) => (Ended::NotEnded, Some(e)),
    };
    chain.callback_hop = callback_hop(&run.driver, &scenario.chain);
    Ok(Drive {
        driver: run.driver,
        chain,
        ended,
        error,
    })
}

struct Runner<'a> {
    scenario: &'a Scenario,
    driver: HttpDriver,
    /// Every (method, URL) requested in the current redirect chain: the first hop that did it
    /// and how often: a URL may come back once (a flow that skips a stage redirects to itself),
    /// a third visit is a loop.
    seen: HashMap<(String, Url), (HopNo, u32)>,
}

impl Runner<'_> {
    async fn drive(&mut self, chain: &mut ChainInfo, r: &mut Redactor) -> Result<Ended, Stop> {
        let first = self.start(chain, r).await?;
        let mut answer = first;
        let mut submitted_login = false;
        let mut password_sent = false;
        // Where credentials were posted: the same form again means they were refused.
        let mut submitted_actions: Vec<String> = Vec::new();
        for _ in 0..MAX_IDP_PAGES {
            let n = HopNo(self.driver.hops.len() as u32);
            chain.final_url = Some(r.url(&answer.url));
            // Back at the app, unless the app's origin serves the IdP's password form itself
            // (an IdP routed under the app's host).
            let password_form_here = || {
                answer.content_type().is_some_and(|t| t.contains("html"))
                    && idp::form::parse(&answer.text(), &answer.url)
                        .forms
                        .iter()
                        .any(|f| f.password_field.is_some())
            };
            if at_app(&answer.url, &self.scenario.chain) && !password_form_here() {
                return Ok(Ended::Landed { hop: n });
            }
            // An IdP may answer a refused login with its form and a 401: that is no error page.
            let shows_login = answer.status >= 400
                && submitted_login
                && idp::form::parse(&answer.text(), &answer.url).page.kind == PageKind::LoginForm;
            if answer.status >= 400 && !shows_login {
                return Ok(Ended::IdpError { hop: n });
            }
            if self.scenario.idp.kind == IdpKind::Authentik
                && let Some(slug) = idp::authentik::flow_slug(&answer.url)
            {
                answer = self
                    .authentik_flow(&answer.url, &slug, &mut submitted_login, r)
                    .await?;
                continue;
            }
            let is_html = answer
                .content_type()
                .is_some_and(|t| t.contains("html") || t.contains("xml"));
            if !is_html {
                return Err(Stop::Error(RunError {
                    step: "idp".into(),
                    hop: Some(n),
                    message: format!(
                        "the IdP page {} is not HTML ({}): no login form found",
                        r.url(&answer.url),
                        answer
                            .content_type()
                            .unwrap_or_else(|| "no content type".into())
                    ),
                }));
            }
            let parsed = idp::form::parse(&answer.text(), &answer.url);
            if let Some(hop) = self.driver.hops.last_mut() {
                hop.page = Some(parsed.page.clone());
            }
            let login_form = parsed
                .forms
                .iter()
                .find(|f| f.password_field.is_some())
                .or_else(|| parsed.forms.iter().find(|f| f.username_field.is_some()));
            let asks_password = login_form.is_some_and(|f| f.password_field.is_some());
            let again = login_form
                .is_some_and(|f| submitted_actions.contains(&f.action.path().to_string()));
            answer = match parsed.page.kind {
                // The same login form again after the password went (or the username-first form
                // again, with an error): the credentials were refused.
                PageKind::LoginForm
                    if again
                        && (password_sent && asks_password || parsed.page.message.is_some()) =>
                {
                    return Ok(Ended::LoginRejected { hop: n });
                }
                // Another password form after an accepted one (a forced password change): a
                // step a smoke test cannot take.
                PageKind::LoginForm if password_sent && asks_password => {
                    let says = parsed
                        .page
                        .message
                        .map(|m| format!(" (the page says \"{m}\")"))
                        .unwrap_or_default();
                    return Err(Stop::Error(RunError {
                        step: "idp-login".into(),
                        hop: Some(n),
                        message: format!(
                            "after the password was accepted the IdP asks for another password at {}{says}: the account needs a manual step (a password change?)",
                            r.url(&answer.url)
                        ),
                    }));
                }
                PageKind::LoginForm => {
                    submitted_login = true;
                    password_sent |= asks_password;
                    let form = login_form.expect("a login page has a login form");
                    submitted_actions.push(form.action.path().to_string());
                    let idp = &self.scenario.idp;
                    let user = idp
                        .username
                        .as_deref()
                        .ok_or_else(|| missing("username", n))?;
                    let password = idp
                        .password
                        .as_ref()
                        .ok_or_else(|| missing("password", n))?;
                    let fields = idp::form::fill_login(form, user, password.expose());
                    self.submit(
                        &answer.url,
                        &form.method,
                        &form.action,
                        fields,
                        Step::IdpLogin,
                        r,
                    )
                    .await?
                }
                PageKind::ConsentForm => {
                    let consent = self.scenario.idp.consent;
                    let Some((form, fields)) = idp::form::consent_choice(&parsed.forms, consent)
                    else {
                        return Err(Stop::Error(RunError {
                            step: "idp-consent".into(),
                            hop: Some(n),
                            message: format!(
                                "the page {} has no form to {} consent",
                                r.url(&answer.url),
                                if consent == Consent::Accept {
                                    "accept"
                                } else {
                                    "deny"
                                }
                            ),
                        }));
                    };
                    let (method, action) = (form.method.clone(), form.action.clone());
                    self.submit(&answer.url, &method, &action, fields, Step::IdpConsent, r)
                        .await?
                }
                // After the login, a page with nothing to fill is the IdP stopping the login
                // (Authentik's "Permission denied", a policy page).
                PageKind::Other if submitted_login => return Ok(Ended::IdpError { hop: n }),
                PageKind::Other => {
                    return Err(Stop::Error(RunError {
                        step: "idp".into(),
                        hop: Some(n),
                        message: format!(
                            "no login form found on the IdP page {} (status {})",
                            r.url(&answer.url),
                            answer.status
                        ),
                    }));
                }
            };
        }
        Err(Stop::Error(RunError {
            step: "idp".into(),
            hop: Some(HopNo(self.driver.hops.len() as u32)),
            message: format!(
                "the IdP showed more than {MAX_IDP_PAGES} pages without sending the browser back to the app"
            ),
        }))
    }

    /// Passes an Authentik flow through its executor API, challenge by challenge, and follows
    /// the redirect out of it.
    async fn authentik_flow(
        &mut self,
        page: &Url,
        slug: &str,
        submitted_login: &mut bool,
        r: &mut Redactor,
    ) -> Result<Answer, Stop> {
        use idp::authentik::{Next, executor_url, next, page as challenge_page};
        let executor = executor_url(page, slug);
        let idp = &self.scenario.idp;
        let user = idp.username.clone().unwrap_or_default();
        let password = idp
            .password
            .clone()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        let consent = idp.consent;
        self.seen.clear();
        let mut answer = self
            .follow(Request::get(executor.clone(), Step::Follow), page, r)
            .await?;
        for _ in 0..MAX_IDP_PAGES * 2 {
            let n = HopNo(self.driver.hops.len() as u32);
            let Some(challenge) = answer.json().filter(|c| c["component"].is_string()) else {
                return Err(Stop::Error(RunError {
                    step: "idp".into(),
                    hop: Some(n),
                    message: format!(
                        "the flow executor {} answered {} without a challenge",
                        r.url(&executor),
                        answer.status
                    ),
                }));
            };
            if let Some(hop) = self.driver.hops.last_mut() {
                hop.page = Some(challenge_page(&challenge));
            }
            let step = match next(&challenge, &user, &password, consent, *submitted_login) {
                Ok(Next::Rejected(_)) => return Err(Stop::Ended(Ended::LoginRejected { hop: n })),
                Ok(Next::Refused(message)) => {
                    if let Some(hop) = self.driver.hops.last_mut() {
                        hop.page = Some(crate::trace::Page {
                            kind: PageKind::Other,
                            message: Some(message),
                        });
                    }
                    return Err(Stop::Ended(Ended::IdpError { hop: n }));
                }
                Ok(Next::Redirect(to)) => {
                    let to = executor.join(&to).map_err(|e| {
                        Stop::Error(RunError {
                            step: "idp".into(),
                            hop: Some(n),
                            message: format!("the flow redirects to an invalid URL: {e}"),
                        })
                    })?;
                    self.seen.clear();
                    // A redirect to the executor itself is the next stage, not the way out.
                    if to.path().starts_with("/api/v3/flows/executor/") {
                        answer = self
                            .follow(Request::get(to, Step::Follow), &executor, r)
                            .await?;
                        continue;
                    }
                    return self
                        .follow(Request::get(to, Step::Follow), &executor, r)
                        .await;
                }
                Ok(Next::Solve { body, login }) => {
                    if login && (user.is_empty() || password.is_empty()) {
                        return Err(missing(
                            if user.is_empty() {
                                "username"
                            } else {
                                "password"
                            },
                            n,
                        ));
                    }
                    *submitted_login |= login;
                    (
                        body,
                        if login {
                            Step::IdpLogin
                        } else {
                            Step::IdpConsent
                        },
                    )
                }
                Err(message) => {
                    return Err(Stop::Error(RunError {
                        step: "idp".into(),
                        hop: Some(n),
                        message,
                    }));
                }
            };
            // Django's CSRF check: the CSRF cookie's value as a header, from the IdP's origin.
            let csrf = self
                .driver
                .jar()
                .get_request_values(&executor)
                .find(|(name, _)| *name == "authentik_csrf")
                .map(|(_, v)| v.to_string());
            let mut headers = vec![(
                "origin".to_string(),
                executor.origin().ascii_serialization(),
            )];
            if let Some(token) = csrf {
                headers.push(("x-authentik-csrf".into(), token));
            }
            let req = Request {
                method: "POST".into(),
                url: executor.clone(),
                body: Some(Body::Json(step.0)),
                step: step.1,
                headers,
                cross_site: false,
                navigation: true,
            };
            self.seen.clear();
            answer = self.follow(req, &executor, r).await?;
        }
        Err(Stop::Error(RunError {
            step: "idp".into(),
            hop: Some(HopNo(self.driver.hops.len() as u32)),
            message: format!(
                "the Authentik flow `{slug}` asked for more than {} stages",
                MAX_IDP_PAGES * 2
            ),
        }))
    }

    /// The start request: the scenario's own, or the preset's start endpoints in order until one
    /// knows the provider.
    async fn start(&mut self, chain: &mut ChainInfo, r: &mut Redactor) -> Result<Answer, Stop> {
        let c = &self.scenario.chain;
        if let Some(start) = &c.start {
            let req = Request {
                method: start.method.clone(),
                url: start.url.clone(),
                body: start.body.clone(),
                step: Step::Start,
                headers: Vec::new(),
                cross_site: false,
                navigation: true,
            };
            chain.start_endpoint = Some(start.url.path().to_string());
            let answer = self.driver.hop(&req, r).await?;
            return self.after_start(answer, r).await;
        }
        let Some(preset) = c.preset else {
            unreachable!("a scenario has a preset or a start request")
        };
        let contract = preset.contract();
        let provider = c.provider.clone().unwrap_or_default();
        let callback = c.callback_url.to_string();
        let mut last = None;
        for start in contract.starts {
            let req = Request {
                method: "POST".into(),
                url: join_path(&c.auth_base, start.path),
                body: Some(Body::Json(start.body(&provider, &callback))),
                step: Step::Start,
                headers: Vec::new(),
                cross_site: false,
                navigation: true,
            };
            let answer = self.driver.hop(&req, r).await?;
            chain.start_endpoint = Some(format!("/{}", start.path));
            if !contract.unknown_start(answer.status, &answer.text()) {
                return self.after_start(answer, r).await;
            }
            last = Some(answer);
        }
        self.after_start(last.expect("a preset has a start"), r)
            .await
    }

    /// Follows what the start answer points to: a redirect, a `Location` on a 200, or a URL in
    /// its JSON body.
    async fn after_start(&mut self, answer: Answer, r: &mut Redactor) -> Result<Answer, Stop> {
        let next = answer.location.clone().or_else(|| {
            let json = answer.json()?;
            [
                "url",
                "authorizationUrl",
                "authorization_url",
                "redirect",
                "redirectTo",
            ]
            .iter()
            .find_map(|k| json.get(k)?.as_str().map(str::to_string))
            .and_then(|u| answer.url.join(&u).ok())
        });
        match next {
            Some(url) if answer.status < 400 => {
                let app = self.scenario.chain.app.clone();
                self.follow(Request::get(url, Step::Follow), &app, r).await
            }
            _ => Err(Stop::Ended(Ended::StartRefused {
                hop: HopNo(self.driver.hops.len() as u32),
            })),
        }
    }

    /// Submits a form of the page at `page`, as a browser would (its `Origin` is the page's).
    async fn submit(
        &mut self,
        page: &Url,
        method: &str,
        action: &Url,
        fields: Vec<(String, String)>,
        step: Step,
        r: &mut Redactor,
    ) -> Result<Answer, Stop> {
        let req = if method == "POST" {
            Request {
                method: "POST".into(),
                url: action.clone(),
                body: Some(Body::Form(fields)),
                step,
                headers: vec![("origin".into(), page.origin().ascii_serialization())],
                cross_site: false,
                navigation: true,
            }
        } else {
            let mut url = action.clone();
            url.query_pairs_mut().clear().extend_pairs(&fields);
            Request::get(url, step)
        };
        self.seen.clear();
        self.follow(req, page, r).await
    }

    /// Sends a request and follows its redirects by hand: 301/302/303 turn into a GET without
    /// body, 307/308 keep method and body. Stops at the hop cap or a loop.
    ///
    /// `from` is the page that made the request: with the sites the redirects pass, it decides
    /// whether the request crosses sites (for SameSite).
    async fn follow(
        &mut self,
        mut req: Request,
        from: &Url,
        r: &mut Redactor,
    ) -> Result<Answer, Stop> {
        let mut sites = vec![crate::web::site(from)];
        loop {
            let target = crate::web::site(&req.url);
            req.cross_site = sites.iter().any(|s| *s != target);
            sites.push(target);
            let max = self.scenario.chain.max_hops;
            if self.driver.hops.len() as u32 >= max {
                return Err(Stop::Ended(Ended::HopCap { cap: max }));
            }
            let key = (req.method.clone(), req.url.clone());
            let n = self.driver.next_hop();
            // Authentik's executor redirects to itself after every stage that passes on its own;
            // the stage cap and the hop cap bound it.
            let executor = req.url.path().starts_with("/api/v3/flows/executor/");
            if let Some((first, 2..)) = self.seen.get(&key)
                && !executor
            {
                return Err(Stop::Ended(Ended::Loop {
                    first: *first,
                    again: HopNo(n.0 - 1),
                }));
            }
            self.seen.entry(key).or_insert((n, 0)).1 += 1;
            let answer = self.driver.hop(&req, r).await?;
            if !answer.is_redirect() {
                return Ok(answer);
            }
            let location = answer.location.clone().expect("a redirect has a location");
            req = match answer.status {
                307 | 308 => Request {
                    url: location,
                    ..req
                },
                _ => Request::get(location, Step::Follow),
            };
            req.step = Step::Follow;
        }
    }
}

fn missing(what: &str, n: HopNo) -> Stop {
    Stop::Error(RunError {
        step: "idp-login".into(),
        hop: Some(n),
        message: format!(
            "the IdP asks for a login but the scenario gives no {what} ([idp] {what}, or --{})",
            if what == "username" {
                "user"
            } else {
                "password-env"
            }
        ),
    })
}

/// Whether a URL is the app's (its origin or the auth base's: scheme, host and port).
pub(crate) fn at_app(url: &Url, chain: &crate::scenario::Chain) -> bool {
    let origin = url.origin();
    origin == chain.app.origin() || origin == chain.auth_base.origin()
}

/// The hop that brought the browser back from elsewhere to the app on a callback path.
pub(crate) fn callback_hop(driver: &HttpDriver, chain: &crate::scenario::Chain) -> Option<HopNo> {
    let mut left = false;
    for hop in &driver.hops {
        let url = Url::parse(&hop.url).ok()?;
        let here = at_app(&url, chain);
        if !here {
            left = true;
        } else if left && url.path().contains("/callback") {
            return Some(hop.n);
        }
    }
    None
}
