//! The HTTP driver: reqwest with redirects off, a hand-made hop loop and an explicit cookie jar,
//! so each recorded hop shows exactly what was sent and what came back.

use super::record::Record;
use crate::redact::Redactor;
use crate::scenario::Body;
use crate::trace::{
    BlockedCookie, ErrorStep, Hop, Method, RunError, RunErrorKind, SentCookie, Step,
};
use crate::web;
use reqwest::header::{CONTENT_TYPE, COOKIE, DATE, HeaderMap, LOCATION, ORIGIN};
use std::time::{Duration, Instant};
use url::Url;

/// Bodies above this size are refused: no login page or session answer comes near it.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// One request to make.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub body: Option<Body>,
    pub step: Step,
    /// Extra headers (e.g. `Authorization`), sent as given.
    pub headers: Vec<(String, String)>,
    /// The request crosses sites (its initiator or a redirect on the way is on another site):
    /// SameSite cookies are withheld as a browser withholds them.
    pub cross_site: bool,
    /// A top-level navigation (a redirect, a link, a form) rather than a page's `fetch`.
    pub navigation: bool,
}

impl Request {
    /// How the request goes out, as far as SameSite cares.
    pub fn context(&self) -> web::RequestContext {
        web::RequestContext {
            cross_site: self.cross_site,
            safe_method: self.method.is_safe(),
            navigation: self.navigation,
        }
    }

    /// An `Origin` given with the request's headers (a form posted from an IdP page).
    pub fn origin_header(&self) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("origin"))
            .map(|(_, v)| v.clone())
    }

    pub fn get(url: Url, step: Step) -> Self {
        Request {
            method: Method::Get,
            url,
            body: None,
            step,
            headers: Vec::new(),
            cross_site: false,
            navigation: true,
        }
    }
}

/// An answer with its body read.
#[derive(Debug)]
pub struct Answer {
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub location: Option<Url>,
    /// A `Location` header that is no URL, as the parser said.
    pub bad_location: Option<String>,
    pub body: Vec<u8>,
    pub cookie_sent: Vec<SentCookie>,
    /// Cookies withheld from the request (SameSite).
    pub cookie_blocked: Vec<BlockedCookie>,
    pub received_at_ms: u64,
    pub duration_ms: f64,
}

/// Now, in Unix milliseconds by the local clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Answer {
    pub fn content_type(&self) -> Option<String> {
        header(&self.headers, CONTENT_TYPE.as_str())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status) && self.location.is_some()
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// How requests reach the servers, as the operator sets it with curl's flags.
#[derive(Clone, Debug, Default)]
pub struct Net {
    /// Host names mapped to addresses, bypassing DNS (`--resolve`).
    pub resolve: Vec<(String, std::net::IpAddr)>,
    /// Headers sent with every request to `header_origins` (`-H`).
    pub headers: Vec<(String, String)>,
    /// The origins (`scheme://host:port`) the headers go to; none: every request.
    pub header_origins: Vec<String>,
    /// Trust anchors (a PEM bundle) beside the system's (`--cacert`).
    pub cacert: Option<Vec<u8>>,
    /// Certificates are not verified at all (`--insecure`); every report says so.
    pub insecure: bool,
    /// The client's certificate and private key, one PEM, for mutual TLS (`--cert`, `--key`).
    pub identity: Option<Vec<u8>>,
    /// The proxy of every request (`--proxy`); none: the environment's (`HTTPS_PROXY`,
    /// `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower case).
    pub proxy: Option<String>,
}

impl Net {
    /// Only host names mapped, nothing else changed.
    pub fn resolving(resolve: &[(String, std::net::IpAddr)]) -> Net {
        Net {
            resolve: resolve.to_vec(),
            ..Net::default()
        }
    }

    /// Whether `-H`'s headers go with a request to `url`.
    fn headers_for(&self, url: &Url) -> bool {
        self.header_origins.is_empty()
            || self
                .header_origins
                .iter()
                .any(|o| *o == url.origin().ascii_serialization())
    }
}

/// The HTTP client: reqwest with redirects off. It holds no cookies: a request takes them from
/// a [`Record`]'s jar, or carries its own.
#[derive(Clone)]
pub struct HttpClient {
    /// For `http://` URLs: a client without root certificates, which cost more to load than a
    /// whole login on loopback takes.
    plain: reqwest::Client,
    /// For the rest, built on the first request that needs it, with the system's roots.
    secure: std::sync::Arc<std::sync::OnceLock<Result<reqwest::Client, String>>>,
    /// What the TLS client is built with: checked when the client is made, used when it is
    /// first needed.
    tls: std::sync::Arc<Tls>,
    /// `-H`'s headers, and where they go.
    net: std::sync::Arc<Net>,
    /// The app's origin, sent as `Origin` on every non-GET request that names no other.
    origin: String,
    timeout: Duration,
    /// Where each hop is shown as it is recorded.
    progress: crate::progress::RunProgress,
}

/// The HTTP driver: the client and the record it adds each hop to.
pub struct HttpDriver<'a> {
    client: &'a HttpClient,
    pub record: Record,
}

const USER_AGENT: &str = concat!("authchain/", env!("CARGO_PKG_VERSION"));

/// A header map as name and text pairs, in order (a value that is no text is left out).
fn pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// The TLS settings of `--cacert`, `--insecure`, `--cert` and `--key`, read and checked.
struct Tls {
    cacert: Vec<reqwest::Certificate>,
    insecure: bool,
    identity: Option<reqwest::Identity>,
    /// The proxy's own URL is `https`: every request needs TLS.
    proxy_tls: bool,
}

/// Whether the proxy that `http://` requests go through speaks TLS itself: `--proxy`, else the
/// environment's, as the client reads it.
fn proxy_speaks_tls(net: &Net) -> bool {
    let tls = |p: &str| p.trim().to_ascii_lowercase().starts_with("https:");
    match &net.proxy {
        Some(p) => tls(p.as_str()),
        None => ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .any(|p| tls(&p)),
    }
}

/// A client builder with the settings every request shares: `--resolve`, `--proxy`, no
/// redirects, the timeout and the user agent.
fn shared_builder(net: &Net, timeout: Duration) -> Result<reqwest::ClientBuilder, String> {
    let mut builder = reqwest::Client::builder();
    for (host, ip) in &net.resolve {
        // Port 0: the URL's own port is used.
        builder = builder.resolve(host, std::net::SocketAddr::new(*ip, 0));
    }
    if let Some(proxy) = &net.proxy {
        let proxy = reqwest::Proxy::all(proxy.as_str())
            .map_err(|e| format!("--proxy: not a proxy URL: {e}"))?;
        builder = builder.proxy(proxy);
    }
    Ok(builder
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(USER_AGENT))
}

/// The client for `https://` URLs: the system's root certificates, and `tls`'s settings.
fn secure_client(net: &Net, timeout: Duration, tls: &Tls) -> Result<reqwest::Client, String> {
    let mut builder = shared_builder(net, timeout)?.tls_certs_merge(tls.cacert.clone());
    if tls.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    if let Some(identity) = &tls.identity {
        builder = builder.identity(identity.clone());
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTPS client: {e}"))
}

impl HttpClient {
    pub fn new(app: &Url, timeout: Duration, net: &Net) -> Result<Self, String> {
        let cacert = match &net.cacert {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("--cacert: not a PEM certificate bundle: {e}"))?,
            None => Vec::new(),
        };
        let identity = match &net.identity {
            Some(pem) => Some(
                reqwest::Identity::from_pem(pem)
                    .map_err(|e| format!("--cert/--key: not a certificate and key in PEM: {e}"))?,
            ),
            None => None,
        };
        let tls = Tls {
            cacert,
            insecure: net.insecure,
            identity,
            proxy_tls: proxy_speaks_tls(net),
        };
        let plain = shared_builder(net, timeout)?
            .tls_certs_only(Vec::new())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        // Built now when TLS is sure to be needed (an `https://` app, a TLS proxy, TLS flags),
        // so that what cannot be built is said before the first request; else on first use.
        let secure = std::sync::OnceLock::new();
        if app.scheme() != "http"
            || tls.proxy_tls
            || tls.insecure
            || net.cacert.is_some()
            || net.identity.is_some()
        {
            let _ = secure.set(Ok(secure_client(net, timeout, &tls)?));
        }
        Ok(HttpClient {
            plain,
            secure: std::sync::Arc::new(secure),
            tls: std::sync::Arc::new(tls),
            net: std::sync::Arc::new(net.clone()),
            origin: app.origin().ascii_serialization(),
            timeout,
            progress: Default::default(),
        })
    }

    /// The client that sends a request to `url`: the plain one for `http://` (unless the proxy
    /// itself speaks TLS), else the TLS one, built now if it is the first.
    fn client_for(&self, url: &Url) -> Result<&reqwest::Client, Fault> {
        if url.scheme() == "http" && !self.tls.proxy_tls {
            return Ok(&self.plain);
        }
        self.secure
            .get_or_init(|| secure_client(&self.net, self.timeout, &self.tls))
            .as_ref()
            .map_err(|e| Fault {
                kind: Some(RunErrorKind::Tls),
                message: format!("{}: {e}", url.origin().ascii_serialization()),
            })
    }

    /// The client of a run registered in [`crate::progress::Progress`]: its hops are shown
    /// there as they are recorded.
    pub fn with_progress(mut self, progress: crate::progress::RunProgress) -> Self {
        self.progress = progress;
        self
    }

    /// A GET with `headers` and no cookies: its status and its body as JSON, when it is JSON.
    pub async fn get_json(
        &self,
        url: &Url,
        headers: Vec<(String, String)>,
        r: &mut Redactor,
    ) -> Result<(u16, Option<serde_json::Value>), Fault> {
        let req = Request {
            headers,
            ..Request::get(url.clone(), crate::trace::Step::Follow)
        };
        self.exchange(&req, None, r)
            .await
            .map(|a| (a.status, a.json()))
    }

    /// Sends one request without recording a hop, with the cookies of `jar` when given.
    pub async fn exchange(
        &self,
        req: &Request,
        jar: Option<&Record>,
        r: &mut Redactor,
    ) -> Result<Answer, Fault> {
        let method =
            reqwest::Method::from_bytes(req.method.as_str().as_bytes()).map_err(|_| Fault {
                kind: None,
                message: format!("`{}` is not an HTTP method", req.method),
            })?;
        let client = self.client_for(&req.url)?;
        let mut builder = client.request(method, req.url.clone());
        let mut cookie_sent = Vec::new();
        let mut cookie_blocked = Vec::new();
        if let Some(record) = jar {
            let (pairs, blocked) = record.cookies_for(&req.url, req.context());
            cookie_blocked = blocked;
            if !pairs.is_empty() {
                let header = pairs
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                builder = builder.header(COOKIE, header);
            }
            cookie_sent = pairs
                .iter()
                .map(|(n, v)| SentCookie {
                    name: n.clone(),
                    value: r.sensitive(v),
                })
                .collect();
        }
        for (k, v) in &req.headers {
            // An empty `Origin`: a back-channel request, which carries none.
            if k.eq_ignore_ascii_case("origin") && v.is_empty() {
                continue;
            }
            if k.eq_ignore_ascii_case("cookie") {
                cookie_sent.extend(parse_cookie_header(v, r));
            }
            builder = builder.header(k.as_str(), v.as_str());
        }
        if !req.method.is_safe() && req.origin_header().is_none() {
            builder = builder.header(ORIGIN, &self.origin);
        }
        if self.net.headers_for(&req.url) {
            for (k, v) in &self.net.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
        }
        builder = match &req.body {
            Some(Body::Json(v)) => builder.json(v),
            Some(Body::Form(pairs)) => builder.form(pairs),
            None => builder,
        };
        let started = Instant::now();
        let shown = r.url(&req.url);
        let request = builder.build().map_err(|e| self.describe(&e, &shown))?;
        let sent = if r.verbosity() > 0 {
            let mut sent = pairs(request.headers());
            sent.push(("user-agent".into(), USER_AGENT.into()));
            sent
        } else {
            Vec::new()
        };
        let mut resp = client
            .execute(request)
            .await
            .map_err(|e| self.describe(&e, &shown))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if r.verbosity() > 0 {
            crate::detail::Exchange {
                label: &req.step.to_string(),
                method: req.method.as_str(),
                url: &req.url,
                sent: &sent,
                status,
                received: &pairs(&headers),
                ms: started.elapsed().as_secs_f64() * 1000.0,
            }
            .emit(r);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.describe(&e, &shown))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Fault {
                    kind: Some(RunErrorKind::BodyTooLarge),
                    message: format!(
                        "the answer from {shown} is larger than {} MiB; refusing to read it",
                        MAX_BODY / 1024 / 1024
                    ),
                });
            }
            body.extend_from_slice(&chunk);
        }
        let (location, bad_location) = match header(&headers, LOCATION.as_str()) {
            Some(l) => match req.url.join(&l) {
                Ok(u) => (Some(u), None),
                Err(e) => (None, Some(e.to_string())),
            },
            None => (None, None),
        };
        Ok(Answer {
            url: req.url.clone(),
            status,
            headers,
            location,
            bad_location,
            body,
            cookie_sent,
            cookie_blocked,
            received_at_ms: now_ms(),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    fn describe(&self, e: &reqwest::Error, shown: &str) -> Fault {
        let mut cause = String::new();
        let mut chain = Vec::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            cause = s.to_string();
            chain.push(cause.to_lowercase());
            source = s.source();
        }
        // A body that broke off (a decode error here: the bytes are read, not parsed) is a
        // connection that failed in the middle.
        let kind = fault_kind(
            e.is_timeout(),
            e.is_connect(),
            e.is_body() || e.is_decode(),
            &chain,
        );
        let what = match kind {
            Some(RunErrorKind::Timeout) => {
                format!("no answer within {}s", self.timeout.as_secs_f64())
            }
            Some(RunErrorKind::Dns) => "the host name did not resolve".to_string(),
            Some(RunErrorKind::Tls) => match tls_reason(&chain) {
                Some(why) => format!("the TLS handshake failed ({why})"),
                None => "the TLS handshake failed".to_string(),
            },
            _ if e.is_connect() => "could not connect".to_string(),
            _ if e.is_body() || e.is_decode() => "the answer's body broke off".to_string(),
            _ => "the request failed".to_string(),
        };
        let message = if cause.is_empty() || e.is_timeout() {
            format!("{what}: {shown}")
        } else {
            format!("{what}: {shown}: {cause}")
        };
        Fault { kind, message }
    }
}

/// A request that got no answer: what kind of fault (`error.kind`), and in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub kind: Option<RunErrorKind>,
    pub message: String,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A certificate's fault in plain words, from the TLS library's own error names.
fn tls_reason(causes: &[String]) -> Option<&'static str> {
    // rustls names some errors by their variant (`UnknownIssuer`), some in words ("certificate
    // not valid for name"): compared without spaces.
    let says = |w: &str| causes.iter().any(|c| c.replace(' ', "").contains(w));
    if says("unknownissuer") || says("causedasendentity") {
        Some(
            "the certificate is not issued by a CA this machine trusts: self-signed or a private CA",
        )
    } else if says("revocation") || says("revoked") {
        Some("the certificate is revoked, or its revocation list cannot be used")
    } else if says("expired") {
        Some("the certificate has expired")
    } else if says("notvalidyet") {
        Some("the certificate is not valid yet: check this machine's clock")
    } else if says("notvalidforname") {
        Some("the certificate is not for this host name")
    } else {
        None
    }
}

/// The kind of a failed request, from the client's own flags and the words of its error's
/// causes (the resolver's and the TLS library's, not the chain's).
fn fault_kind(timeout: bool, connect: bool, body: bool, causes: &[String]) -> Option<RunErrorKind> {
    let says = |words: &[&str]| causes.iter().any(|c| words.iter().any(|w| c.contains(w)));
    if timeout {
        Some(RunErrorKind::Timeout)
    } else if says(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
    ]) {
        Some(RunErrorKind::Dns)
    } else if says(&[
        "certificate",
        "tls",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
    ]) {
        Some(RunErrorKind::Tls)
    } else if connect || body {
        Some(RunErrorKind::Connect)
    } else {
        None
    }
}

impl<'a> HttpDriver<'a> {
    pub fn new(client: &'a HttpClient) -> Self {
        HttpDriver {
            client,
            record: Record::default(),
        }
    }

    /// Sends one request with the jar's cookies, stores the answer's cookies, and records a hop.
    pub async fn hop(&mut self, req: &Request, r: &mut Redactor) -> Result<Answer, RunError> {
        let n = self.record.next_hop();
        let answer = self
            .client
            .exchange(req, Some(&self.record), r)
            .await
            .map_err(|f| RunError {
                step: ErrorStep::Chain(req.step),
                hop: Some(n),
                message: f.message,
                kind: f.kind,
            })?;
        let set_cookies = self
            .record
            .store_cookies(&answer.url, &answer.headers, req.context(), r);
        let (error_code, error_description) = error_params(&answer.url)
            .or_else(|| answer.location.as_ref().and_then(error_params))
            .unwrap_or_default();
        self.record.hops.push(Hop {
            n,
            step: req.step,
            method: req.method.clone(),
            url: r.url(&answer.url),
            status: answer.status,
            location: answer.location.as_ref().map(|l| r.url(l)),
            set_cookies,
            cookie_sent: answer.cookie_sent.clone(),
            cookie_blocked: answer.cookie_blocked.clone(),
            // An empty Origin in the request's headers: none was sent.
            origin_sent: match req.origin_header() {
                Some(o) if o.is_empty() => None,
                Some(o) => Some(o),
                None => (req.method != Method::Get).then(|| self.client.origin.clone()),
            },
            content_type: answer.content_type(),
            date: header(&answer.headers, DATE.as_str()),
            error_code,
            error_description,
            page: None,
            body_excerpt: (answer.status >= 400).then(|| excerpt_text(&answer, r)),
            received_at_ms: answer.received_at_ms,
            duration_ms: answer.duration_ms,
        });
        if let Some(hop) = self.record.hops.last() {
            self.client.progress.hop(hop);
        }
        Ok(answer)
    }
}

/// The start of an error answer's body as one line of text: tags dropped, secrets replaced.
fn excerpt_text(answer: &Answer, r: &mut Redactor) -> String {
    let text = answer.text();
    let mut plain = String::with_capacity(text.len().min(4096));
    let mut in_tag = false;
    for c in text.chars().take(20_000) {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let line: String = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    r.scrub(&line.chars().take(300).collect::<String>())
        .into_string()
}

/// `error` and `error_description` from a URL's query or fragment.
pub fn error_params(url: &Url) -> Option<(Option<String>, Option<String>)> {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some(f) = url.fragment() {
        pairs.extend(
            url::form_urlencoded::parse(f.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    }
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let code = get("error").filter(|c| !c.is_empty())?;
    Some((Some(code), get("error_description")))
}

/// The cookies of a `Cookie` header given by hand.
pub fn parse_cookie_header(header: &str, r: &mut Redactor) -> Vec<SentCookie> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(n, v)| SentCookie {
            name: n.to_string(),
            value: r.sensitive(v),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn certificate_faults_in_plain_words() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "invalid peer certificate: UnknownIssuer",
                Some("not issued by a CA"),
            ),
            (
                "invalid peer certificate: certificate expired: verification time 1, but certificate is not valid after 0",
                Some("has expired"),
            ),
            (
                "invalid peer certificate: certificate not valid yet",
                Some("not valid yet"),
            ),
            (
                "invalid peer certificate: certificate not valid for name \"a.test\"",
                Some("not for this host name"),
            ),
            (
                "invalid peer certificate: certificate revocation list expired",
                Some("revoked"),
            ),
            ("received corrupt message", None),
        ];
        for (cause, want) in cases {
            let got = tls_reason(&[cause.to_lowercase()]);
            match want {
                Some(w) => assert!(got.is_some_and(|g| g.contains(w)), "{cause}: {got:?}"),
                None => assert_eq!(got, None, "{cause}"),
            }
        }
    }

    use super::*;

    #[test]
    fn error_codes_from_query_and_fragment() {
        let u = Url::parse("http://a/x?error=state_mismatch").unwrap();
        assert_eq!(
            error_params(&u).unwrap().0.as_deref(),
            Some("state_mismatch")
        );
        let u = Url::parse("http://a/x#error=access_denied&error_description=no").unwrap();
        assert_eq!(error_params(&u).unwrap().1.as_deref(), Some("no"));
        assert!(error_params(&Url::parse("http://a/x?e=1").unwrap()).is_none());
    }
}

#[cfg(test)]
mod faults {
    use super::*;

    #[test]
    fn a_failed_request_is_named_by_its_kind() {
        let c = |s: &str| vec![s.to_lowercase()];
        // (timeout, connect, body, causes, kind)
        let cases = [
            (
                true,
                false,
                true,
                c("operation timed out"),
                Some(RunErrorKind::Timeout),
            ),
            (
                false,
                true,
                false,
                c("dns error: failed to lookup address information: Name or service not known"),
                Some(RunErrorKind::Dns),
            ),
            (
                false,
                true,
                false,
                c("invalid peer certificate: UnknownIssuer"),
                Some(RunErrorKind::Tls),
            ),
            (
                false,
                true,
                false,
                c("received corrupt message of type InvalidContentType"),
                Some(RunErrorKind::Tls),
            ),
            (
                false,
                true,
                false,
                c("Connection refused (os error 111)"),
                Some(RunErrorKind::Connect),
            ),
            (
                false,
                false,
                true,
                c("connection reset by peer"),
                Some(RunErrorKind::Connect),
            ),
            (false, false, false, c("builder error"), None),
        ];
        for (timeout, connect, body, causes, want) in cases {
            assert_eq!(
                fault_kind(timeout, connect, body, &causes),
                want,
                "{causes:?}"
            );
        }
    }
}
