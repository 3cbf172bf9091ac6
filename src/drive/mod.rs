//! Drive: log in through the chain (start at the app, through the IdP, back to the callback),
//! recording every hop. Returns the hops and the jar for the probe stage.

pub mod browser;
mod capture;
pub mod http;
pub mod idp;
pub mod login;
pub mod metadata;
pub mod record;

use crate::redact::Redactor;
use crate::scenario::start::Captured;
use crate::scenario::{Body, Consent, IdpKind, Scenario, StartStep, join_path};

use crate::trace::{ChainInfo, Ended, ErrorStep, HopNo, Method, PageKind, RunError, Step};
use http::{Answer, HttpClient, HttpDriver, Request};
use record::Record;
use std::collections::HashMap;
use url::Url;

/// How many pages of the IdP the login may pass (login, consent, a second factor, …).
pub(crate) const MAX_IDP_PAGES: usize = 8;

/// The drive's result: what it learnt, the hops and cookies it recorded and how it ended.
pub struct Drive {
    pub record: Record,
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

/// A library's CSRF token, fetched from its endpoint with the jar's cookies (the token's cookie
/// is stored there): the token, kept sensitive, or none when the answer holds none.
pub async fn csrf_token(
    driver: &mut HttpDriver<'_>,
    auth_base: &Url,
    csrf: &crate::preset::Csrf,
    step: Step,
    cross_site: bool,
    r: &mut Redactor,
) -> Result<Option<String>, RunError> {
    let req = Request {
        cross_site,
        navigation: false,
        ..Request::get(join_path(auth_base, csrf.path), step)
    };
    let answer = driver.hop(&req, r).await?;
    let token = answer
        .json()
        .filter(|_| answer.status < 400)
        .and_then(|j| j[csrf.json_field].as_str().map(str::to_string));
    if let Some(t) = &token {
        r.sensitive(t);
    }
    Ok(token)
}

/// Logs in as the scenario says. An `Err` means the driver could not even be set up.
pub async fn login(
    scenario: &Scenario,
    client: &HttpClient,
    r: &mut Redactor,
) -> Result<Drive, RunError> {
    Ok(login_until(scenario, client, None, r).await?.0)
}

/// The same login, stopped before the first request to `stop_at` (a redirect URI nothing
/// listens on): that request is given back unsent (the code and the state on its URL, or in its
/// form for `response_mode=form_post`), and the drive ends landed at the hop that sent there.
pub async fn login_until(
    scenario: &Scenario,
    client: &HttpClient,
    stop_at: Option<&Url>,
    r: &mut Redactor,
) -> Result<(Drive, Option<Request>), RunError> {
    login_from(scenario, client, stop_at, Record::default(), r).await
}

/// The same login, from a browser that already holds `jar`'s cookies (a second login after a
/// sign-out, with the IdP's own session cookie still there); its hops are numbered on from it.
pub async fn login_from(
    scenario: &Scenario,
    client: &HttpClient,
    stop_at: Option<&Url>,
    jar: Record,
    r: &mut Redactor,
) -> Result<(Drive, Option<Request>), RunError> {
    let c = &scenario.chain;
    let mut chain = ChainInfo {
        app: c.app.to_string(),
        auth_base: Some(c.auth_base.to_string()),
        preset: c.preset.map(|p| p.name().to_string()),
        provider: c.provider.clone(),
        driver: c.driver.name().to_string(),
        ..ChainInfo::default()
    };
    let mut driver = HttpDriver::new(client);
    driver.record = jar;
    let mut run = Runner {
        scenario,
        driver,
        seen: HashMap::new(),
        stop_at: stop_at.cloned(),
        came_back: None,
    };
    let (ended, error) = match run.drive(&mut chain, r).await {
        Ok(ended) => (ended, None),
        Err(Stop::Ended(ended)) => (ended, None),
        Err(Stop::Error(e)) => (Ended::NotEnded, Some(e)),
    };
    chain.callback_hop = callback_hop(&run.driver.record.hops, &scenario.chain);
    let drive = Drive {
        record: run.driver.record,
        chain,
        ended,
        error,
    };
    Ok((drive, run.came_back))
}

struct Runner<'a> {
    scenario: &'a Scenario,
    driver: HttpDriver<'a>,
    /// Every (method, URL) requested in the current redirect chain: the first hop that did it
    /// and how often: a URL may come back once (a flow that skips a stage redirects to itself),
    /// a third visit is a loop.
    seen: HashMap<(Method, Url), (HopNo, u32)>,
    /// Where the drive stops unsent (see [`login_until`]), and the request it stopped.
    stop_at: Option<Url>,
    came_back: Option<Request>,
}

impl Runner<'_> {
    async fn drive(&mut self, chain: &mut ChainInfo, r: &mut Redactor) -> Result<Ended, Stop> {
        let mut answer = self.start(chain, r).await?;
        let mut machine = login::Login::default();
        for _ in 0..MAX_IDP_PAGES {
            let n = HopNo(self.driver.record.hops.len() as u32);
            chain.final_url = Some(r.url(&answer.url));
            let here = at_app_seen(&answer.url, &self.scenario.chain, &self.driver.record.hops);
            let content_type = answer.content_type();
            let is_html = content_type
                .as_deref()
                .is_some_and(|t| t.contains("html") || t.contains("xml"));
            let parsed = is_html.then(|| idp::form::parse(&answer.text(), &answer.url));
            let login_form = parsed.as_ref().and_then(|p| {
                p.forms
                    .iter()
                    .find(|f| f.password_field.is_some())
                    .or_else(|| p.forms.iter().find(|f| f.username_field.is_some()))
            });
            if !here
                && answer.status < 400
                && self.scenario.idp.kind == IdpKind::Authentik
                && let Some(slug) = idp::authentik::flow_slug(&answer.url)
            {
                answer = self
                    .authentik_flow(&answer.url, &slug, &mut machine.submitted_login, r)
                    .await?;
                continue;
            }
            // A page that moves on by itself (a meta refresh, a form_post page) is followed as
            // a redirect would be.
            if !here && let Some(onward) = parsed.as_ref().and_then(|p| p.onward.clone()) {
                answer = match onward {
                    idp::form::Onward::Refresh(to) => {
                        let from = answer.url.clone();
                        self.seen.clear();
                        self.follow(Request::get(to, Step::Follow), &from, r)
                            .await?
                    }
                    idp::form::Onward::Post(form) => {
                        let from = answer.url.clone();
                        self.submit(
                            &from,
                            &form.method,
                            &form.action,
                            form.fields,
                            Step::Follow,
                            r,
                        )
                        .await?
                    }
                };
                continue;
            }
            let offer = match (&parsed, login_form) {
                (None, _) => login::Offer::NotHtml(
                    content_type
                        .clone()
                        .unwrap_or_else(|| "no content type".into()),
                ),
                (Some(p), Some(form)) if p.page.kind == PageKind::LoginForm => {
                    login::Offer::Login {
                        asks_password: form.password_field.is_some(),
                        action: form.action.path().to_string(),
                    }
                }
                (Some(p), _) if p.page.kind == PageKind::ConsentForm => login::Offer::Consent,
                (Some(_), _) => login::Offer::Nothing,
            };
            // An answer that is no page speaks through its text.
            let page =
                match &parsed {
                    Some(p) => Some(p.page.clone()),
                    None => login::text_message(content_type.as_deref(), &answer.text()).map(
                        |message| crate::trace::Page {
                            kind: PageKind::Other,
                            message: Some(message),
                        },
                    ),
                };
            let seen = login::Seen {
                at_app: here,
                status: Some(answer.status),
                offer,
                ask: parsed.as_ref().and_then(|p| p.ask),
                message: page.as_ref().and_then(|p| p.message.clone()),
                alert: parsed.as_ref().is_some_and(|p| p.alert),
            };
            let next = machine.next(&seen);
            // The IdP's page (wherever it is served, the app's own origin included), kept when it
            // answered well or showed its form again after the login went; and the app's error
            // answer where the login came back, whose words say why the app failed.
            let landed = next == login::Next::Landed;
            if let Some(page) = page
                && (!landed || answer.status >= 400)
                && (answer.status < 400
                    || matches!(
                        next,
                        login::Next::Login | login::Next::Rejected | login::Next::Landed
                    ))
                && let Some(hop) = self.driver.record.hops.last_mut()
            {
                hop.page = Some(page);
            }
            answer = match next {
                login::Next::Landed => return Ok(Ended::Landed { hop: n }),
                login::Next::IdpError => return Ok(Ended::IdpError { hop: n }),
                login::Next::Rejected => return Ok(Ended::LoginRejected { hop: n }),
                login::Next::Stuck(why) => {
                    let url = r.url(&answer.url);
                    let (message, kind) = match why {
                        login::Stuck::NotHtml => (
                            format!(
                                "the IdP page {url} is not HTML ({}): no login form found",
                                match &seen.offer {
                                    login::Offer::NotHtml(t) => t.as_str(),
                                    _ => "",
                                }
                            ),
                            None,
                        ),
                        login::Stuck::Interaction(ask) => (
                            login::interaction_message(ask, &url, seen.message.as_deref()),
                            Some(crate::trace::RunErrorKind::IdpNeedsInteraction),
                        ),
                        login::Stuck::NoForm => (
                            format!(
                                "no login form found on the IdP page {url} (status {}){}",
                                answer.status,
                                if parsed.as_ref().is_some_and(|p| p.scripted) {
                                    ": the page has no form but has scripts, so it likely \
                                     builds its form with JavaScript; try `--driver browser`"
                                } else {
                                    ""
                                }
                            ),
                            None,
                        ),
                    };
                    let step = if machine.submitted_login {
                        ErrorStep::Chain(Step::IdpLogin)
                    } else {
                        ErrorStep::Idp
                    };
                    return Err(Stop::Error(RunError {
                        step,
                        hop: Some(n),
                        message,
                        kind,
                    }));
                }
                login::Next::Login => {
                    let form = login_form.expect("a login page has a login form");
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
                    let (method, action) = (form.method.clone(), form.action.clone());
                    self.submit(&answer.url, &method, &action, fields, Step::IdpLogin, r)
                        .await?
                }
                login::Next::Consent => {
                    let consent = self.scenario.idp.consent;
                    let forms = parsed
                        .as_ref()
                        .map(|p| p.forms.as_slice())
                        .unwrap_or_default();
                    let Some((form, fields)) = idp::form::consent_choice(forms, consent) else {
                        return Err(Stop::Error(RunError {
                            step: ErrorStep::Chain(Step::IdpConsent),
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
                            kind: None,
                        }));
                    };
                    let (method, action) = (form.method.clone(), form.action.clone());
                    self.submit(&answer.url, &method, &action, fields, Step::IdpConsent, r)
                        .await?
                }
            };
        }
        Err(Stop::Error(RunError {
            step: ErrorStep::Idp,
            hop: Some(HopNo(self.driver.record.hops.len() as u32)),
            message: format!(
                "the IdP showed more than {MAX_IDP_PAGES} pages without sending the browser back to the app"
            ),
            kind: None,
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
            let n = HopNo(self.driver.record.hops.len() as u32);
            let Some(challenge) = answer.json().filter(|c| c["component"].is_string()) else {
                return Err(Stop::Error(RunError {
                    step: ErrorStep::Idp,
                    hop: Some(n),
                    message: format!(
                        "the flow executor {} answered {} without a challenge",
                        r.url(&executor),
                        answer.status
                    ),
                    kind: None,
                }));
            };
            if let Some(hop) = self.driver.record.hops.last_mut() {
                hop.page = Some(challenge_page(&challenge));
            }
            let step = match next(&challenge, &user, &password, consent, *submitted_login) {
                Ok(Next::Rejected(_)) => return Err(Stop::Ended(Ended::LoginRejected { hop: n })),
                Ok(Next::Refused(message)) => {
                    if let Some(hop) = self.driver.record.hops.last_mut() {
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
                            step: ErrorStep::Idp,
                            hop: Some(n),
                            message: format!("the flow redirects to an invalid URL: {e}"),
                            kind: None,
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
                        step: ErrorStep::Idp,
                        hop: Some(n),
                        message,
                        kind: None,
                    }));
                }
            };
            // Django's CSRF check: the CSRF cookie's value as a header, from the IdP's origin.
            let csrf = self
                .driver
                .record
                .values_for(&executor)
                .into_iter()
                .find(|(name, _)| name == "authentik_csrf")
                .map(|(_, v)| v);
            let mut headers = vec![(
                "origin".to_string(),
                executor.origin().ascii_serialization(),
            )];
            if let Some(token) = csrf {
                headers.push(("x-authentik-csrf".into(), token));
            }
            let req = Request {
                method: Method::Post,
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
            step: ErrorStep::Idp,
            hop: Some(HopNo(self.driver.record.hops.len() as u32)),
            message: format!(
                "the Authentik flow `{slug}` asked for more than {} stages",
                MAX_IDP_PAGES * 2
            ),
            kind: None,
        }))
    }

    /// The start request: the scenario's own, or the preset's start endpoints in order until one
    /// knows the provider.
    async fn start(&mut self, chain: &mut ChainInfo, r: &mut Redactor) -> Result<Answer, Stop> {
        let c = &self.scenario.chain;
        // A page with a sign-in button: load it and press it, as a person would.
        if let Some(page) = &c.start_page {
            chain.start_endpoint = Some(page.url.path().to_string());
            let answer = self
                .follow(Request::get(page.url.clone(), Step::Start), &page.url, r)
                .await?;
            // Sent on to the IdP already (a page behind a login redirects there): underway.
            let ours = |u: &Url, hops: &[crate::trace::Hop]| {
                at_app_seen(u, c, hops)
                    || u.origin() == page.url.origin()
                    || u.origin() == c.page.origin()
            };
            if !ours(&answer.url, &self.driver.record.hops) {
                return Ok(answer);
            }
            let pressed_at = self.driver.record.hops.len();
            let n = HopNo(self.driver.record.hops.len() as u32);
            let press = idp::form::sign_in(&answer.text(), &answer.url, page.selector.as_deref())
                .map_err(|why| {
                Stop::Error(RunError {
                    step: ErrorStep::Chain(Step::Start),
                    hop: Some(n),
                    message: format!("the start page {}: {why}", r.url(&answer.url)),
                    kind: None,
                })
            })?;
            self.seen.clear();
            let answer = match press {
                idp::form::Press::Link(to) => {
                    self.follow(Request::get(to, Step::Start), &answer.url, r)
                        .await?
                }
                idp::form::Press::Form(form) => {
                    self.submit(
                        &answer.url,
                        &form.method,
                        &form.action,
                        form.fields,
                        Step::Start,
                        r,
                    )
                    .await?
                }
            };
            // Sent back to the app's own page with an error code, without leaving the app: the
            // start refused (a sign-in page's `?error=<code>`).
            let hops = &self.driver.record.hops;
            let left = hops[pressed_at..]
                .iter()
                .any(|h| Url::parse(&h.url).is_ok_and(|u| !ours(&u, hops)));
            if !left && hops.last().is_some_and(|h| h.error_code.is_some()) {
                return Err(Stop::Ended(Ended::StartRefused {
                    hop: HopNo(hops.len() as u32),
                }));
            }
            return Ok(answer);
        }
        if let Some((last, before)) = c.start.split_last() {
            let mut got = Captured::new();
            for (i, step) in before.iter().enumerate() {
                let spec = self.start_spec(i, step, &got)?;
                chain.start_endpoint = Some(spec.url.path().to_string());
                // Through its redirects, as the page's `fetch` follows them.
                let page = self.scenario.chain.page.clone();
                let answer = self.follow(spec_request(&spec), &page, r).await?;
                if answer.status >= 400 {
                    return Err(Stop::Ended(Ended::StartRefused {
                        hop: HopNo(self.driver.record.hops.len() as u32),
                    }));
                }
                let headers: Vec<(String, String)> = answer
                    .headers
                    .iter()
                    .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
                    .collect();
                let seen = capture::Seen {
                    headers: &headers,
                    body: &answer.text(),
                    cookies: &self.driver.record.values_for(&answer.url),
                };
                let hop = HopNo(self.driver.record.hops.len() as u32);
                capture::take_all(i, step, &seen, answer.status, Some(hop), &mut got, r)
                    .map_err(Stop::Error)?;
            }
            let spec = self.start_spec(before.len(), last, &got)?;
            chain.start_endpoint = Some(spec.url.path().to_string());
            let answer = self.driver.hop(&spec_request(&spec), r).await?;
            let next = self.read_start(None, false, &answer);
            return self.after_start(next, r).await;
        }
        let no_start = || {
            Stop::Error(RunError {
                step: ErrorStep::Setup,
                hop: None,
                message: "the chain has no start: name a preset that knows one, or give a start \
                          request"
                    .into(),
                kind: None,
            })
        };
        let Some(contract) = c.preset.map(|p| p.contract()) else {
            return Err(no_start());
        };
        let provider = c.provider.clone().unwrap_or_default();
        // The app's page asks with `fetch`: across sites when the auth handler is on another
        // site than the app.
        let cross_site = crate::web::site(&c.auth_base) != crate::web::site(&c.page);
        for (i, start) in contract.starts.iter().enumerate() {
            let path = start.path_for(&provider);
            let req = if start.link {
                // A link the page follows: a navigation that redirects to the IdP.
                Request::get(join_path(&c.auth_base, &path), Step::Start)
            } else {
                self.start_request(start, &path, cross_site, chain, r)
                    .await?
            };
            let answer = self.driver.hop(&req, r).await?;
            chain.start_endpoint = Some(format!("/{path}"));
            let more = i + 1 < contract.starts.len();
            match self.read_start(Some(contract), more, &answer) {
                login::StartNext::TryNext => continue,
                next => return self.after_start(next, r).await,
            }
        }
        // Only a preset without start requests gets here: the last start is never passed over.
        Err(no_start())
    }

    /// Start request `i` of the scenario, its captures filled in.
    fn start_spec(
        &self,
        i: usize,
        step: &StartStep,
        got: &Captured,
    ) -> Result<crate::scenario::RequestSpec, Stop> {
        step.request(got).map_err(|why| {
            Stop::Error(RunError {
                step: ErrorStep::Chain(Step::Start),
                hop: Some(self.driver.record.next_hop()),
                message: format!("start request {}: {why}", i + 1),
                kind: None,
            })
        })
    }

    /// A preset's start request from the app's page: its CSRF token first when it needs one.
    async fn start_request(
        &mut self,
        start: &crate::preset::Start,
        path: &str,
        cross_site: bool,
        chain: &mut ChainInfo,
        r: &mut Redactor,
    ) -> Result<Request, Stop> {
        let c = &self.scenario.chain;
        let provider = c.provider.clone().unwrap_or_default();
        let callback = c.callback_url.to_string();
        let mut fields = start.fields(&provider, &callback);
        if let Some(csrf) = &start.csrf {
            let token = csrf_token(
                &mut self.driver,
                &c.auth_base,
                csrf,
                Step::Start,
                cross_site,
                r,
            )
            .await?;
            let Some(token) = token else {
                chain.start_endpoint = Some(format!("/{}", csrf.path));
                return Err(Stop::Ended(Ended::StartRefused {
                    hop: HopNo(self.driver.record.hops.len() as u32),
                }));
            };
            fields.push((csrf.form_field.to_string(), token));
        }
        let mut headers: Vec<(String, String)> = start
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let url = join_path(&c.auth_base, path);
        headers.push((
            "sec-fetch-site".into(),
            crate::web::fetch_site(&c.page, &url).into(),
        ));
        Ok(Request {
            method: Method::Post,
            url,
            body: Some(if start.form {
                Body::Form(fields)
            } else {
                Body::Json(crate::preset::json_body(fields))
            }),
            step: Step::Start,
            headers,
            cross_site,
            navigation: false,
        })
    }

    fn read_start(
        &mut self,
        contract: Option<&crate::preset::Contract>,
        more: bool,
        answer: &Answer,
    ) -> login::StartNext {
        let body = answer.text();
        let start = login::StartAnswer {
            url: &answer.url,
            status: answer.status,
            location: answer.location.clone(),
            body: &body,
        };
        let next = login::after_start(contract, more, &start);
        // A refusal that names its code keeps it on the hop.
        if next == login::StartNext::Refused
            && let Some(code) = login::start_error(&start)
            && let Some(hop) = self.driver.record.hops.last_mut()
        {
            hop.error_code.get_or_insert(code);
        }
        next
    }

    /// Follows what the start answer points to, or ends the drive where the app refused.
    async fn after_start(
        &mut self,
        next: login::StartNext,
        r: &mut Redactor,
    ) -> Result<Answer, Stop> {
        match next {
            login::StartNext::Follow(url) => {
                let app = self.scenario.chain.app.clone();
                self.follow(Request::get(url, Step::Follow), &app, r).await
            }
            login::StartNext::TryNext | login::StartNext::Refused => {
                Err(Stop::Ended(Ended::StartRefused {
                    hop: HopNo(self.driver.record.hops.len() as u32),
                }))
            }
        }
    }

    /// Submits a form of the page at `page`, as a browser would (its `Origin` is the page's).
    async fn submit(
        &mut self,
        page: &Url,
        method: &Method,
        action: &Url,
        fields: Vec<(String, String)>,
        step: Step,
        r: &mut Redactor,
    ) -> Result<Answer, Stop> {
        // Secret fields of the form (a client secret in a hidden input) are secrets from now on.
        r.params(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish(),
        );
        let req = if *method == Method::Post {
            Request {
                method: Method::Post,
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
            if self.driver.record.hops.len() as u32 >= max {
                return Err(Stop::Ended(Ended::HopCap { cap: max }));
            }
            let n = self.driver.record.next_hop();
            if let Some(stop) = &self.stop_at
                && req.url.origin() == stop.origin()
                && req.url.path() == stop.path()
            {
                self.came_back = Some(req.clone());
                return Err(Stop::Ended(Ended::Landed {
                    hop: HopNo(n.0.saturating_sub(1)),
                }));
            }
            let key = (req.method.clone(), req.url.clone());
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
            if (300..400).contains(&answer.status) && answer.bad_location.is_some() {
                return Err(Stop::Ended(Ended::BadRedirect { hop: n }));
            }
            if !answer.is_redirect() {
                return Ok(answer);
            }
            let location = answer.location.clone().expect("a redirect has a location");
            req = match answer.status {
                // The method and body go again; across origins, as the Fetch standard says, not
                // the Authorization header.
                307 | 308 => {
                    let mut headers = req.headers.clone();
                    if location.origin() != req.url.origin() {
                        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                    }
                    Request {
                        url: location,
                        headers,
                        ..req
                    }
                }
                _ => Request::get(location, Step::Follow),
            };
            req.step = Step::Follow;
        }
    }
}

/// The request a scenario's start request makes: a navigation from the app's page.
fn spec_request(spec: &crate::scenario::RequestSpec) -> Request {
    Request {
        method: spec.method.clone(),
        url: spec.url.clone(),
        body: spec.body.clone(),
        step: Step::Start,
        headers: spec.headers.clone(),
        cross_site: false,
        navigation: true,
    }
}

fn missing(what: &str, n: HopNo) -> Stop {
    Stop::Error(RunError {
        step: ErrorStep::Chain(Step::IdpLogin),
        hop: Some(n),
        message: format!(
            "the IdP asks for a login but the scenario gives no {what} ([idp] {what}, or --{})",
            if what == "username" {
                "user"
            } else {
                "password-env"
            }
        ),
        kind: None,
    })
}

/// Whether a URL is the app's (its origin or the auth base's: scheme, host and port).
pub(crate) fn at_app(url: &Url, chain: &crate::scenario::Chain) -> bool {
    let origin = url.origin();
    origin == chain.app.origin() || origin == chain.auth_base.origin()
}

/// Whether a URL is the app's: its origin or the auth base's, or the origin the hops so far sent
/// the IdP's answer back to.
pub(crate) fn at_app_seen(
    url: &Url,
    chain: &crate::scenario::Chain,
    hops: &[crate::trace::Hop],
) -> bool {
    at_app(url, chain)
        || crate::web::redirect_origins(hops.iter().map(|h| &h.url)).contains(&url.origin())
}

/// The hop that brought the browser back from elsewhere to the app with the IdP's answer: on a
/// callback path, or carrying what an authorization response carries (`code`, `state`, `error`,
/// `id_token`), or posted back (`form_post`). A callback at a path of the app's own choosing
/// (`/oauth2/redirect`, `/login/oidc`) is known by its parameters.
pub(crate) fn callback_hop(
    hops: &[crate::trace::Hop],
    chain: &crate::scenario::Chain,
) -> Option<HopNo> {
    const ANSWER: &[&str] = &["code", "state", "error", "id_token"];
    let mut left = false;
    let mut came_from_elsewhere = false;
    let returns = crate::web::redirect_origins(hops.iter().map(|h| &h.url));
    for hop in hops {
        let url = Url::parse(&hop.url).ok()?;
        let here = at_app(&url, chain) || returns.contains(&url.origin());
        // A POST counts only straight from a page elsewhere (the IdP's form_post), and the start
        // never does.
        let answer = hop.step != Step::Start
            && (url.path().contains("/callback")
                || (hop.method == crate::trace::Method::Post && came_from_elsewhere)
                || url.query_pairs().any(|(k, _)| ANSWER.contains(&k.as_ref())));
        if !here {
            left = true;
        } else if left && answer {
            return Some(hop.n);
        }
        came_from_elsewhere = !here;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_is_where_the_idps_answer_comes_back() {
        let app = Url::parse("http://app.test:3000/").unwrap();
        let chain = crate::scenario::Chain {
            app: app.clone(),
            preset: None,
            auth_base: app.join("/api/auth").unwrap(),
            provider: None,
            callback_url: app.clone(),
            page: app.clone(),
            driver: crate::scenario::Driver::Http,
            start: Vec::new(),
            start_page: None,
            timeout: std::time::Duration::from_secs(1),
            max_hops: 20,
            matrix: crate::scenario::MatrixMode::Auto,
            resolve: Vec::new(),
            sign_out: None,
            refresh: None,
        };
        let hop = |n: u32, method: Method, url: &str| crate::trace::Hop {
            method,
            ..crate::trace::Hop::plain(n, url, 302)
        };
        let get = Method::Get;
        // (the return to the app, the callback it is)
        for (back, want) in [
            (
                crate::trace::Hop {
                    step: Step::Start,
                    ..hop(
                        3,
                        Method::Post,
                        "http://app.test:3000/api/auth/sign-in?state=s",
                    )
                },
                None,
            ),
            (
                hop(
                    3,
                    get.clone(),
                    "http://app.test:3000/api/auth/callback/x?code=c",
                ),
                Some(3),
            ),
            (
                hop(
                    3,
                    get.clone(),
                    "http://app.test:3000/oauth2/redirect?code=c&state=s",
                ),
                Some(3),
            ),
            (
                hop(
                    3,
                    get.clone(),
                    "http://app.test:3000/login/oidc?error=access_denied",
                ),
                Some(3),
            ),
            (
                hop(3, Method::Post, "http://app.test:3000/signin-oidc"),
                Some(3),
            ),
            (hop(3, get.clone(), "http://app.test:3000/home"), None),
        ] {
            let hops = vec![
                hop(
                    1,
                    Method::Post,
                    "http://app.test:3000/api/auth/sign-in?state=s",
                ),
                hop(2, get.clone(), "http://idp.test/authorize?state=s"),
                back.clone(),
            ];
            assert_eq!(
                callback_hop(&hops, &chain).map(|n| n.0),
                want,
                "{}",
                back.url
            );
        }
    }
}
