//! TOML scenario files: parsing with spans, variable expansion, and validation into a [`Scenario`].

use super::error::{ScenarioError, nearest};
use super::*;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

mod access;

/// Where `${env:…}` and `${secret:…}` come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The process environment; an unset variable is an error.
    Environment,
    /// Validation only: unset variables stand in as placeholders.
    ValidateOnly,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] Box<ScenarioError>),
}

pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    read_and_parse(path, Lookup::Environment)
}

pub fn validate_file(path: &Path) -> Result<Scenario, LoadError> {
    read_and_parse(path, Lookup::ValidateOnly)
}

fn read_and_parse(path: &Path, lookup: Lookup) -> Result<Scenario, LoadError> {
    let shown = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: shown.clone(),
        source,
    })?;
    Ok(from_toml(&src, &shown, lookup)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<Spanned<String>>,
    #[serde(default)]
    vars: BTreeMap<String, Spanned<String>>,
    chain: Spanned<RawChain>,
    idp: Option<RawIdp>,
    #[serde(default)]
    probe: Vec<Spanned<RawProbe>>,
    /// `name = true` per opt-in check.
    #[serde(default)]
    checks: BTreeMap<String, Spanned<bool>>,
    /// Users besides `[idp]`'s.
    #[serde(default)]
    users: Vec<Spanned<access::RawUser>>,
    authz: Option<Spanned<access::RawAuthz>>,
    isolation: Option<Spanned<access::RawIsolation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChain {
    app: Spanned<String>,
    preset: Option<Spanned<String>>,
    auth_base: Option<Spanned<String>>,
    provider: Option<Spanned<String>>,
    callback_url: Option<Spanned<String>>,
    page: Option<Spanned<String>>,
    driver: Option<Spanned<String>>,
    start: Option<Spanned<RawStarts>>,
    start_page: Option<Spanned<String>>,
    sign_out: Option<Spanned<String>>,
    refresh: Option<Spanned<String>>,
    start_selector: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    max_hops: Option<Spanned<i64>>,
    matrix: Option<Spanned<String>>,
    #[serde(default)]
    resolve: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStart {
    request: Spanned<String>,
    json: Option<toml::Value>,
    form: Option<BTreeMap<String, Spanned<String>>>,
    headers: Option<BTreeMap<String, Spanned<String>>>,
    capture: Option<BTreeMap<String, Spanned<String>>>,
}

/// `start = { … }`, or a sequence of `[[chain.start]]` tables.
enum RawStarts {
    One(RawStart),
    Many(Vec<Spanned<RawStart>>),
}

impl<'de> Deserialize<'de> for RawStarts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawStarts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a start request table, or [[chain.start]] tables")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<RawStarts, A::Error> {
                RawStart::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(RawStarts::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> Result<RawStarts, A::Error> {
                let mut all = Vec::new();
                while let Some(one) = s.next_element()? {
                    all.push(one);
                }
                Ok(RawStarts::Many(all))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdp {
    kind: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    consent: Option<Spanned<String>>,
    username_selector: Option<Spanned<String>>,
    password_selector: Option<Spanned<String>>,
    submit_selector: Option<Spanned<String>>,
    consent_selector: Option<Spanned<String>>,
    issuer: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    client_secret: Option<Spanned<String>>,
    redirect_uri: Option<Spanned<String>>,
    token_auth: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    name: Spanned<String>,
    request: Spanned<String>,
    expect: Option<RawExpect>,
    compare_to: Option<Spanned<String>>,
    native: Option<bool>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    status: Option<Spanned<i64>>,
    json_present: Option<Spanned<String>>,
}

/// A string after expansion.
#[derive(Clone)]
struct Text {
    value: String,
    /// it holds a `${secret:…}`
    secret: bool,
    /// it holds a variable that validation could not resolve
    unresolved: bool,
}

impl Text {
    /// The value as an error message may quote it: a secret is never quoted.
    fn quoted(&self) -> String {
        if self.secret {
            "the value (from a secret)".to_string()
        } else {
            format!("`{}`", self.value)
        }
    }
}

struct Expander<'a> {
    file: &'a str,
    src: &'a str,
    vars: &'a BTreeMap<String, Spanned<String>>,
    lookup: Lookup,
    done: HashMap<String, Text>,
    stack: Vec<String>,
    secrets: Vec<Secret>,
    /// While a start request is read: the captures of the requests before it, and of all.
    captures: Option<(Vec<String>, Vec<String>)>,
}

impl Expander<'_> {
    fn err(&self, span: Range<usize>, msg: impl Into<String>) -> Box<ScenarioError> {
        Box::new(ScenarioError::new(self.file, self.src, span, msg))
    }

    fn text(&mut self, s: &Spanned<String>) -> Result<Text, Box<ScenarioError>> {
        self.expand(s.get_ref(), s.span())
    }

    fn expand(&mut self, text: &str, span: Range<usize>) -> Result<Text, Box<ScenarioError>> {
        // Point into the string when it is written plainly in the file, else at the whole value.
        let inner = if self.src.get(span.clone()) == Some(&format!("\"{text}\"")) {
            Some(span.start + 1)
        } else {
            None
        };
        let at = |i: usize, len: usize| match inner {
            Some(base) => base + i..base + i + len,
            None => span.clone(),
        };
        let mut out = Text {
            value: String::new(),
            secret: false,
            unresolved: false,
        };
        if text.contains([start::OPEN, start::CLOSE]) {
            return Err(self.err(
                span,
                "the characters U+E000 and U+E001 are kept for captures and cannot be written",
            ));
        }
        let mut rest = text;
        let mut pos = 0;
        while let Some(i) = rest.find('$') {
            out.value.push_str(&rest[..i]);
            let after = &rest[i..];
            if let Some(tail) = after.strip_prefix("$${") {
                out.value.push_str("${");
                rest = tail;
                pos += i + 3;
                continue;
            }
            if !after.starts_with("${") {
                out.value.push('$');
                rest = &after[1..];
                pos += i + 1;
                continue;
            }
            let Some(end) = after.find('}') else {
                return Err(self
                    .err(at(pos + i, after.len()), "unclosed `${` in a string")
                    .into_help("close it with `}`, or write `$${` for a literal `${`"));
            };
            let reference = &after[2..end];
            let here = at(pos + i, end + 1);
            let got = self.reference(reference, here)?;
            out.value.push_str(&got.value);
            out.secret |= got.secret;
            out.unresolved |= got.unresolved;
            rest = &after[end + 1..];
            pos += i + end + 1;
        }
        out.value.push_str(rest);
        Ok(out)
    }

    fn reference(
        &mut self,
        reference: &str,
        here: Range<usize>,
    ) -> Result<Text, Box<ScenarioError>> {
        if let Some(name) = reference.strip_prefix("env:") {
            return self.environment(name, false, here);
        }
        if let Some(name) = reference.strip_prefix("secret:") {
            return self.environment(name, true, here);
        }
        if let Some(name) = reference.strip_prefix("capture.") {
            return self.capture(name, here);
        }
        if let Some(done) = self.done.get(reference) {
            return Ok(done.clone());
        }
        let Some(def) = self.vars.get(reference) else {
            let mut e = self.err(here, format!("unknown variable `{reference}`"));
            let known = self.vars.keys().map(String::as_str);
            e.help = Some(match nearest(reference, known) {
                Some(n) => format!("did you mean `${{{n}}}`?"),
                None => "define it under [vars], or use `${env:NAME}` / `${secret:NAME}`".into(),
            });
            return Err(e);
        };
        if self.stack.iter().any(|s| s == reference) {
            return Err(self.err(
                def.span(),
                format!(
                    "variable `{reference}` refers to itself through {}",
                    self.stack.join(" → ")
                ),
            ));
        }
        self.stack.push(reference.to_string());
        let got = self.text(def);
        self.stack.pop();
        let got = got?;
        self.done.insert(reference.to_string(), got.clone());
        Ok(got)
    }

    fn capture(&self, name: &str, here: Range<usize>) -> Result<Text, Box<ScenarioError>> {
        let Some((before, all)) = self.captures.as_ref().filter(|_| self.stack.is_empty()) else {
            return Err(self
                .err(
                    here,
                    format!("`${{capture.{name}}}` is used outside the start requests"),
                )
                .into_help(
                    "a capture is for the [[chain.start]] requests after the one that takes it",
                ));
        };
        if before.iter().any(|n| n == name) {
            return Ok(Text {
                value: start::mark(name),
                secret: false,
                unresolved: false,
            });
        }
        if all.iter().any(|n| n == name) {
            return Err(self
                .err(
                    here,
                    format!("capture `{name}` is taken by this or a later request"),
                )
                .into_help("a start request uses only what the requests before it captured"));
        }
        let mut e = self.err(here, format!("unknown capture `{name}`"));
        e.help = Some(match nearest(name, before.iter().map(String::as_str)) {
            Some(n) => format!("did you mean `${{capture.{n}}}`?"),
            None => "take it with `capture = { NAME = \"json:PATH\" }` on an earlier \
                     [[chain.start]] request"
                .into(),
        });
        Err(e)
    }

    fn environment(
        &mut self,
        name: &str,
        secret: bool,
        here: Range<usize>,
    ) -> Result<Text, Box<ScenarioError>> {
        let kind = if secret { "secret" } else { "env" };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(self.err(
                here,
                format!("`${{{kind}:{name}}}` does not name an environment variable"),
            ));
        }
        match (std::env::var(name), self.lookup) {
            (Ok(value), _) => {
                if secret {
                    self.secrets.push(Secret::new(value.clone()));
                }
                Ok(Text {
                    value,
                    secret,
                    unresolved: false,
                })
            }
            (Err(_), Lookup::ValidateOnly) => Ok(Text {
                value: format!("{kind}-{name}"),
                secret,
                unresolved: true,
            }),
            (Err(_), Lookup::Environment) => Err(self
                .err(here, format!("environment variable {name} is not set"))
                .into_help(format!("export {name}=… before running this scenario"))),
        }
    }
}

trait IntoHelp {
    fn into_help(self, help: impl Into<String>) -> Self;
}

impl IntoHelp for Box<ScenarioError> {
    fn into_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Parses and validates a scenario. `file` names it in errors.
pub fn from_toml(src: &str, file: &str, lookup: Lookup) -> Result<Scenario, Box<ScenarioError>> {
    let raw: Raw = toml::from_str(src).map_err(|e| Box::new(toml_error(src, file, &e)))?;
    let mut x = Expander {
        file,
        src,
        vars: &raw.vars,
        lookup,
        done: HashMap::new(),
        stack: Vec::new(),
        secrets: Vec::new(),
        captures: None,
    };
    let chain_span = raw.chain.span();
    let c = raw.chain.into_inner();

    let app = url_of(&mut x, &c.app)?;
    let preset = match &c.preset {
        Some(p) => Some(choice(&mut x, p, Preset::NAMES, Preset::parse, "preset")?),
        None => None,
    };
    let auth_base = match &c.auth_base {
        Some(s) => url_of(&mut x, s)?,
        None => default_auth_base(&app, preset),
    };
    let provider = c
        .provider
        .as_ref()
        .map(|p| x.text(p))
        .transpose()?
        .map(|t| t.value);
    let callback_url = match &c.callback_url {
        Some(s) => url_of(&mut x, s)?,
        None => app.clone(),
    };
    let driver = match &c.driver {
        Some(d) => choice(&mut x, d, Driver::NAMES, Driver::parse, "driver")?,
        None => Driver::Http,
    };
    let timeout = match &c.timeout {
        Some(t) => {
            let v = x.text(t)?;
            parse_duration(&v.value).ok_or_else(|| {
                x.err(t.span(), format!("{} is not a duration", v.quoted()))
                    .into_help("write e.g. \"10s\", \"500ms\" or \"2m\"")
            })?
        }
        None => DEFAULT_TIMEOUT,
    };
    let max_hops = match &c.max_hops {
        Some(m) if (1..=1000).contains(m.get_ref()) => *m.get_ref() as u32,
        Some(m) => return Err(x.err(m.span(), "max_hops must be between 1 and 1000")),
        None => DEFAULT_MAX_HOPS,
    };
    let matrix = match &c.matrix {
        Some(m) => choice(
            &mut x,
            m,
            MatrixMode::NAMES,
            MatrixMode::parse,
            "matrix mode",
        )?,
        None => MatrixMode::Auto,
    };
    let mut resolve = Vec::new();
    for r in &c.resolve {
        let v = x.text(r)?;
        resolve.push(parse_resolve(&v.value).ok_or_else(|| {
            x.err(r.span(), format!("{} is not HOST:IP", v.quoted()))
                .into_help("write e.g. \"app.test:127.0.0.1\"")
        })?);
    }
    let start = match &c.start {
        Some(s) => starts_of(&mut x, s)?,
        None => Vec::new(),
    };
    let start_page = match &c.start_page {
        Some(p) => Some(crate::scenario::StartPage {
            url: url_of(&mut x, p)?,
            selector: c
                .start_selector
                .as_ref()
                .map(|s| x.text(s))
                .transpose()?
                .map(|t| t.value),
        }),
        None => None,
    };
    if let (Some(s), None) = (&c.start_selector, &c.start_page) {
        return Err(x.err(
            s.span(),
            "`start_selector` names a button on the `start_page`, and there is none",
        ));
    }
    if let (Some(s), Some(_)) = (&c.start, &start_page) {
        return Err(x.err(
            s.span(),
            "[chain] has both a `start` request and a `start_page`: keep one",
        ));
    }
    if preset.is_none() && start.is_empty() && start_page.is_none() {
        return Err(x
            .err(
                chain_span,
                "[chain] needs a `preset`, a `start` request or a `start_page`",
            )
            .into_help(format!(
                "add `preset = \"{}\"`, or `start = {{ request = \"POST https://…\" }}`",
                Preset::NAMES[0]
            )));
    }
    if preset.is_some_and(|p| p.contract().needs_provider())
        && provider.is_none()
        && start.is_empty()
        && start_page.is_none()
    {
        return Err(x
            .err(
                chain_span,
                format!(
                    "the {} preset needs `provider` (the provider id configured in the app)",
                    preset.map_or("", |p| p.name())
                ),
            )
            .into_help("add e.g. `provider = \"authentik\"` under [chain]"));
    }

    let idp = match &raw.idp {
        Some(i) => idp_of(&mut x, i)?,
        None => IdpSpec {
            kind: IdpKind::Form,
            username: None,
            password: None,
            consent: Consent::Accept,
            selectors: SelectorOverrides::default(),
            issuer: None,
            client: None,
        },
    };

    let native_url = preset.and_then(|p| {
        p.contract()
            .native_path
            .map(|path| (p, join_path(&auth_base, path)))
    });
    let mut probes = Vec::new();
    let mut spans = Vec::new();
    for p in &raw.probe {
        let span = p.span();
        let p = p.get_ref();
        if p.enabled == Some(false) {
            continue;
        }
        let name = x.text(&p.name)?.value;
        if probes.iter().any(|q: &ProbeSpec| q.name == name) {
            return Err(x.err(
                p.name.span(),
                format!("a probe named `{name}` is defined twice"),
            ));
        }
        let request = x.text(&p.request)?;
        let (method, url_text) = split_request(&request.value);
        let url = parse_url(&x, url_text, &request, p.request.span())?;
        let native =
            p.native.unwrap_or(false) || native_url.as_ref().is_some_and(|(_, u)| *u == url);
        let expect = match &p.expect {
            Some(e) => expect_of(&mut x, e)?,
            None if native => preset
                .map(|p| p.contract().native_expect())
                .unwrap_or_default(),
            None => Expect::default(),
        };
        let compare_to = p
            .compare_to
            .as_ref()
            .map(|c| x.text(c))
            .transpose()?
            .map(|t| t.value);
        probes.push(ProbeSpec {
            name,
            method,
            url,
            expect,
            compare_to,
            native,
        });
        spans.push((span, p.compare_to.as_ref().map(|c| c.span())));
    }
    if let Some((preset, url)) = native_url
        && !probes.iter().any(|p| p.native)
    {
        probes.insert(0, native_probe(Some(preset), url));
        spans.insert(0, (chain_span.clone(), None));
    }
    let native_name = probes.iter().find(|p| p.native).map(|p| p.name.clone());
    let names: Vec<String> = probes.iter().map(|p| p.name.clone()).collect();
    for (probe, (_, compare_span)) in probes.iter_mut().zip(&spans) {
        match (&probe.compare_to, compare_span) {
            (Some(other), Some(span)) if !names.contains(other) || *other == probe.name => {
                let mut e = x.err(
                    span.clone(),
                    format!("`compare_to` names no other probe: `{other}`"),
                );
                if let Some(n) = nearest(other, names.iter().map(String::as_str)) {
                    e.help = Some(format!("did you mean `{n}`?"));
                }
                return Err(e);
            }
            (None, _) if !probe.native => probe.compare_to = native_name.clone(),
            _ => {}
        }
    }

    let name = match &raw.name {
        Some(n) => x.text(n)?.value,
        None => file.to_string(),
    };
    let mut request_of = |spec: &Option<Spanned<String>>| match spec {
        Some(spec) => {
            let request = x.text(spec)?;
            let (method, url_text) = split_request(&request.value);
            Ok::<_, Box<ScenarioError>>(Some((
                method,
                parse_url(&x, url_text, &request, spec.span())?,
            )))
        }
        None => Ok(None),
    };
    let sign_out = request_of(&c.sign_out)?;
    let refresh = request_of(&c.refresh)?;
    let mut checks = Vec::new();
    let mut asked = Vec::new();
    for (name, on) in &raw.checks {
        let Some(check) = CheckName::parse(name) else {
            let mut e = x.err(on.span(), format!("unknown check `{name}`"));
            e.help = Some(match nearest(name, CheckName::NAMES.iter().copied()) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("one of: {}", CheckName::NAMES.join(", ")),
            });
            return Err(e);
        };
        if *on.get_ref() {
            checks.push(check);
            asked.push((check, on.span()));
        }
    }
    let access = access::access_of(
        &mut x,
        access::RawAccess {
            users: &raw.users,
            authz: raw.authz.as_ref(),
            isolation: raw.isolation.as_ref(),
            asked: &asked,
        },
    )?;
    let secrets = std::mem::take(&mut x.secrets);
    let mut scenario = Scenario {
        name,
        chain: Chain {
            app,
            preset,
            auth_base,
            provider,
            page: match &c.page {
                Some(p) => crate::scenario::origin_of(&url_of(&mut x, p)?),
                None => crate::scenario::origin_of(&callback_url),
            },
            callback_url,
            driver,
            start,
            start_page,
            timeout,
            max_hops,
            matrix,
            resolve,
            sign_out,
            refresh,
        },
        idp,
        probes,
        secrets,
        checks,
        access,
    };
    for u in &scenario.access.users {
        scenario.secrets.push(u.password.clone());
    }
    if let Some(a) = &scenario.access.authz {
        // The whole header value, and its token after a scheme (`Bearer t…`): an answer that
        // echoes the token alone must not show it either.
        let values: Vec<Secret> = a
            .credentials
            .iter()
            .flat_map(|c| {
                let token = c.value.expose().split_once(' ').map(|(_, t)| t.trim());
                std::iter::once(c.value.clone()).chain(token.map(Secret::new))
            })
            .collect();
        scenario.secrets.extend(values);
    }
    if let Some(p) = &scenario.idp.password {
        scenario.secrets.push(p.clone());
    }
    if let Some(s) = scenario
        .idp
        .client
        .as_ref()
        .and_then(|c| c.client_secret.clone())
    {
        scenario.secrets.push(s);
    }
    Ok(scenario)
}

fn url_of(x: &mut Expander, s: &Spanned<String>) -> Result<Url, Box<ScenarioError>> {
    let t = x.text(s)?;
    parse_url(x, &t.value.clone(), &t, s.span())
}

fn parse_url(
    x: &Expander,
    text: &str,
    t: &Text,
    span: Range<usize>,
) -> Result<Url, Box<ScenarioError>> {
    match Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        // Validation cannot know what an unset variable will hold.
        _ if t.unresolved => Ok(Url::parse("http://unresolved.invalid/").expect("a valid URL")),
        Ok(u) => Err(x.err(span, format!("`{}` is not an http(s) URL", u.scheme()))),
        Err(e) => {
            let shown = if t.secret {
                t.quoted()
            } else {
                format!("`{text}`")
            };
            Err(x
                .err(span, format!("{shown} is not a URL: {e}"))
                .into_help("write an absolute URL such as \"https://app.example.com\""))
        }
    }
}

fn choice<T>(
    x: &mut Expander,
    s: &Spanned<String>,
    names: &[&str],
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, Box<ScenarioError>> {
    let v = x.text(s)?;
    parse(&v.value).ok_or_else(|| {
        let mut e = x.err(s.span(), format!("unknown {what} {}", v.quoted()));
        e.help = Some(
            match nearest(&v.value, names.iter().copied()).filter(|_| !v.secret) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("one of: {}", names.join(", ")),
            },
        );
        e
    })
}

fn starts_of(
    x: &mut Expander,
    s: &Spanned<RawStarts>,
) -> Result<Vec<StartStep>, Box<ScenarioError>> {
    let one;
    let all: Vec<&RawStart> = match s.get_ref() {
        RawStarts::One(r) => {
            one = r;
            vec![one]
        }
        RawStarts::Many(m) if m.is_empty() => {
            return Err(x.err(s.span(), "`start` is an empty list of requests"));
        }
        RawStarts::Many(m) => m.iter().map(Spanned::get_ref).collect(),
    };
    let names: Vec<String> = all
        .iter()
        .flat_map(|r| r.capture.iter().flat_map(|c| c.keys().cloned()))
        .collect();
    let mut before = Vec::new();
    let mut steps = Vec::new();
    for (i, raw) in all.iter().enumerate() {
        x.captures = Some((before.clone(), names.clone()));
        let step = start_of(x, raw);
        x.captures = None;
        let step = step?;
        if i + 1 == all.len()
            && let Some(c) = &raw.capture
            && let Some((name, v)) = c.iter().next()
        {
            return Err(x.err(
                v.span(),
                format!("capture `{name}` is taken by the last start request: nothing uses it"),
            ));
        }
        for c in &step.capture {
            if before.contains(&c.name) {
                let span = raw
                    .capture
                    .as_ref()
                    .and_then(|m| m.get(&c.name))
                    .map(Spanned::span);
                return Err(x.err(
                    span.unwrap_or_else(|| raw.request.span()),
                    format!("capture `{}` is taken twice", c.name),
                ));
            }
            before.push(c.name.clone());
        }
        steps.push(step);
    }
    Ok(steps)
}

fn start_of(x: &mut Expander, s: &RawStart) -> Result<StartStep, Box<ScenarioError>> {
    let request = x.text(&s.request)?;
    let (method, url_text) = split_request(&request.value);
    // A URL that is a capture (an address the app answered with) is known only at run time.
    if !url_text.starts_with(start::OPEN) {
        let fixed = url_text.replace([start::OPEN, start::CLOSE], "");
        parse_url(x, &fixed, &request, s.request.span())?;
    }
    let url = url_text.to_string();
    let body = match (&s.json, &s.form) {
        (Some(_), Some(_)) => {
            return Err(x.err(
                s.request.span(),
                "a start request takes `json` or `form`, not both",
            ));
        }
        (Some(j), None) => Some(Body::Json(json_of(x, j, s.request.span())?)),
        (None, Some(f)) => {
            let mut pairs = Vec::new();
            for (k, v) in f {
                pairs.push((k.clone(), x.text(v)?.value));
            }
            Some(Body::Form(pairs))
        }
        (None, None) => None,
    };
    let mut headers = Vec::new();
    for (k, v) in s.headers.iter().flatten() {
        headers.push((k.clone(), x.text(v)?.value));
    }
    let mut capture = Vec::new();
    for (name, v) in s.capture.iter().flatten() {
        let text = x.text(v)?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(x.err(
                v.span(),
                format!("`{name}` is not a capture name (letters, digits and `_`)"),
            ));
        }
        let from = start::Source::parse(&text.value).ok_or_else(|| {
            x.err(
                v.span(),
                format!("{} does not say where to take `{name}` from", text.quoted()),
            )
            .into_help(format!(
                "write KIND:WHAT, KIND one of {}: \"json:data.csrf\", \"cookie:csrftoken\"",
                start::Source::KINDS.join(", ")
            ))
        })?;
        capture.push(start::Capture {
            name: name.clone(),
            from,
        });
    }
    Ok(StartStep {
        method,
        url,
        body,
        headers,
        capture,
    })
}

fn json_of(
    x: &mut Expander,
    v: &toml::Value,
    span: Range<usize>,
) -> Result<serde_json::Value, Box<ScenarioError>> {
    use serde_json::Value as J;
    Ok(match v {
        toml::Value::String(s) => J::String(x.expand(s, span)?.value),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => J::from(*f),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(
            a.iter()
                .map(|v| json_of(x, v, span.clone()))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), json_of(x, v, span.clone())?)))
                .collect::<Result<_, Box<ScenarioError>>>()?,
        ),
    })
}

fn idp_of(x: &mut Expander, i: &RawIdp) -> Result<IdpSpec, Box<ScenarioError>> {
    let kind = match &i.kind {
        Some(k) => choice(x, k, IdpKind::NAMES, IdpKind::parse, "idp kind")?,
        None => IdpKind::Form,
    };
    let consent = match &i.consent {
        Some(c) => choice(x, c, Consent::NAMES, Consent::parse, "consent")?,
        None => Consent::Accept,
    };
    let username = i
        .username
        .as_ref()
        .map(|u| x.text(u))
        .transpose()?
        .map(|t| t.value);
    // A password is a secret wherever it comes from, even written into the file.
    let password = i
        .password
        .as_ref()
        .map(|p| x.text(p))
        .transpose()?
        .map(|t| Secret::new(t.value));
    let mut selector = |s: &Option<Spanned<String>>| {
        s.as_ref()
            .map(|v| x.text(v))
            .transpose()
            .map(|t| t.map(|t| t.value))
    };
    let selectors = SelectorOverrides {
        username: selector(&i.username_selector)?,
        password: selector(&i.password_selector)?,
        submit: selector(&i.submit_selector)?,
        consent: selector(&i.consent_selector)?,
    };
    let issuer = match &i.issuer {
        Some(s) => {
            let t = x.text(s)?;
            parse_url(x, &t.value.clone(), &t, s.span())?;
            Some(t.value)
        }
        None => None,
    };
    // The app's client, for --idp-check; its secret is a secret wherever it comes from.
    let client = match &i.client_id {
        Some(id) => {
            let client_id = x.text(id)?.value;
            let client_secret = i
                .client_secret
                .as_ref()
                .map(|s| x.text(s))
                .transpose()?
                .map(|t| Secret::new(t.value));
            let redirect_uri = match &i.redirect_uri {
                Some(s) => {
                    let t = x.text(s)?;
                    Some(parse_url(x, &t.value.clone(), &t, s.span())?)
                }
                None => None,
            };
            let token_auth = match &i.token_auth {
                Some(t) => choice(x, t, TokenAuth::NAMES, TokenAuth::parse, "token_auth")?,
                None => TokenAuth::Basic,
            };
            Some(ClientSpec {
                client_id,
                client_secret,
                redirect_uri,
                token_auth,
            })
        }
        None => {
            let stray = [&i.client_secret, &i.redirect_uri, &i.token_auth]
                .into_iter()
                .flatten()
                .next();
            if let Some(key) = stray {
                return Err(x.err(
                    key.span(),
                    "client_secret, redirect_uri and token_auth describe a client: give its client_id too",
                ));
            }
            None
        }
    };
    Ok(IdpSpec {
        kind,
        username,
        password,
        consent,
        selectors,
        issuer,
        client,
    })
}

fn expect_of(x: &mut Expander, e: &RawExpect) -> Result<Expect, Box<ScenarioError>> {
    let status = match &e.status {
        Some(s) if (100..=599).contains(s.get_ref()) => Some(*s.get_ref() as u16),
        Some(s) => return Err(x.err(s.span(), "status must be between 100 and 599")),
        None => None,
    };
    let json_present = e
        .json_present
        .as_ref()
        .map(|j| x.text(j))
        .transpose()?
        .map(|t| t.value);
    Ok(Expect {
        status,
        json_present,
    })
}

/// Turns a TOML or serde error into one that points at the file, with "did you mean".
fn toml_error(src: &str, file: &str, e: &toml::de::Error) -> ScenarioError {
    let message = e.message().trim().to_string();
    let span = e.span().unwrap_or(0..0);
    let mut err = ScenarioError::new(file, src, span, message.clone());
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        err.help = Some(match nearest(field, known.iter().copied()) {
            Some(n) => format!("did you mean `{n}`?"),
            None if known.is_empty() => "remove it".into(),
            None => format!("known keys here: {}", known.join(", ")),
        });
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Scenario, Box<ScenarioError>> {
        from_toml(src, "t.toml", Lookup::Environment)
    }

    const MIN: &str = "[chain]\napp = \"http://localhost:3000\"\npreset = \"better-auth\"\nprovider = \"fixture\"\n";

    #[test]
    fn preset_adds_native_probe_and_defaults() {
        let s = parse(MIN).unwrap();
        assert_eq!(s.chain.auth_base.as_str(), "http://localhost:3000/api/auth");
        assert_eq!(s.probes.len(), 1);
        assert!(s.probes[0].native);
        assert_eq!(
            s.probes[0].url.as_str(),
            "http://localhost:3000/api/auth/get-session"
        );
    }

    #[test]
    fn unknown_key_suggests() {
        let e = parse("[chain]\naap = \"x\"\n").unwrap_err();
        assert_eq!(e.location, "t.toml:2:1");
        assert_eq!(e.help.as_deref(), Some("did you mean `app`?"));
    }

    #[test]
    fn unknown_variable_points_into_the_string() {
        let e = parse("[vars]\nhost = \"x\"\n[chain]\napp = \"http://${hots}/\"\npreset = \"better-auth\"\nprovider = \"p\"\n")
            .unwrap_err();
        assert_eq!(e.location, "t.toml:4:15");
        assert_eq!(e.help.as_deref(), Some("did you mean `${host}`?"));
    }

    #[test]
    fn probes_compare_to_native_and_native_url_is_native() {
        let src = format!(
            "{MIN}[[probe]]\nname = \"gs\"\nrequest = \"GET http://localhost:3000/api/auth/get-session\"\n[[probe]]\nname = \"guarded\"\nrequest = \"http://localhost:3000/auth/session\"\n"
        );
        let s = parse(&src).unwrap();
        assert_eq!(s.probes.len(), 2);
        assert!(s.probes[0].native);
        assert_eq!(s.probes[1].compare_to.as_deref(), Some("gs"));
    }

    #[test]
    fn bad_compare_to() {
        let src = format!(
            "{MIN}[[probe]]\nname = \"g\"\nrequest = \"http://a/\"\ncompare_to = \"nativ\"\n"
        );
        let e = parse(&src).unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `native`?"));
    }

    #[test]
    fn validation_tolerates_unset_environment() {
        let src = "[chain]\napp = \"${env:AUTHCHAIN_SURELY_UNSET_1}\"\npreset = \"better-auth\"\nprovider = \"p\"\n[idp]\npassword = \"${secret:AUTHCHAIN_SURELY_UNSET_2}\"\n";
        assert!(from_toml(src, "t.toml", Lookup::ValidateOnly).is_ok());
        let e = parse(src).unwrap_err();
        assert!(
            e.message.contains("AUTHCHAIN_SURELY_UNSET_1"),
            "{}",
            e.message
        );
    }

    const CHAIN: &str = "[chain]\napp = \"http://app.test\"\n";

    #[test]
    fn a_sequence_captures_and_uses() {
        let src = format!(
            "{CHAIN}[[chain.start]]\nrequest = \"GET http://app.test/accounts/login/\"\n\
             capture = {{ csrf = \"form:csrfmiddlewaretoken\", c = \"cookie:csrftoken\" }}\n\
             [[chain.start]]\nrequest = \"POST http://app.test/oidc/${{capture.c}}\"\n\
             form = {{ csrfmiddlewaretoken = \"${{capture.csrf}}\" }}\n\
             headers = {{ X-CSRFToken = \"${{capture.c}}\" }}\n"
        );
        let s = parse(&src).unwrap();
        let steps = &s.chain.start;
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].capture.len(), 2);
        assert_eq!(
            steps[0].capture[1].from,
            start::Source::Form("csrfmiddlewaretoken".into())
        );
        let got: start::Captured = [
            ("csrf".to_string(), "T1".to_string()),
            ("c".to_string(), "C1".to_string()),
        ]
        .into();
        let r = steps[1].request(&got).unwrap();
        assert_eq!(r.url.as_str(), "http://app.test/oidc/C1");
        assert_eq!(
            r.body,
            Some(Body::Form(vec![(
                "csrfmiddlewaretoken".into(),
                "T1".into()
            )]))
        );
        assert_eq!(r.headers, vec![("X-CSRFToken".into(), "C1".into())]);
        assert_eq!(steps[1].fixed_url(), None);
        assert!(steps[0].fixed_url().is_some());
    }

    #[test]
    fn one_start_table_stays_valid() {
        let src = format!(
            "{CHAIN}start = {{ request = \"POST http://app.test/go\", json = {{ a = \"b\" }} }}\n"
        );
        let s = parse(&src).unwrap();
        assert_eq!(s.chain.start.len(), 1);
        assert_eq!(s.chain.start[0].method, Method::Post);
    }

    #[test]
    fn a_url_that_is_a_capture_is_known_at_run_time() {
        let src = format!(
            "{CHAIN}[[chain.start]]\nrequest = \"POST http://app.test/api/login\"\n\
             capture = {{ next = \"json:authorizationUrl\" }}\n\
             [[chain.start]]\nrequest = \"GET ${{capture.next}}\"\n"
        );
        assert!(parse(&src).is_ok());
    }

    #[test]
    fn misused_captures_are_errors() {
        let first = "[[chain.start]]\nrequest = \"GET http://app.test/csrf\"\n";
        let cases: &[(&str, &str)] = &[
            (
                "[[chain.start]]\nrequest = \"POST http://app.test/x/${capture.t}\"\ncapture = { t = \"json:t\" }\n[[chain.start]]\nrequest = \"POST http://app.test/y\"\n",
                "capture `t` is taken by this or a later request",
            ),
            (
                "[[chain.start]]\nrequest = \"GET http://app.test/csrf\"\ncapture = { token = \"json:t\" }\n[[chain.start]]\nrequest = \"POST http://app.test/${capture.tokn}\"\n",
                "unknown capture `tokn`",
            ),
            (
                "[[chain.start]]\nrequest = \"GET http://app.test/csrf\"\ncapture = { t = \"body:t\" }\n[[chain.start]]\nrequest = \"POST http://app.test/y\"\n",
                "does not say where to take `t` from",
            ),
            (
                "[[chain.start]]\nrequest = \"GET http://app.test/csrf\"\n[[chain.start]]\nrequest = \"POST http://app.test/y\"\ncapture = { t = \"json:t\" }\n",
                "taken by the last start request",
            ),
            ("start = []\n", "empty list"),
            (
                "[[chain.start]]\nrequest = \"GET http://app.test/csrf\"\ncapture = { t = \"json:t\" }\n[[chain.start]]\nrequest = \"GET http://app.test/again\"\ncapture = { t = \"json:t\" }\n[[chain.start]]\nrequest = \"POST http://app.test/y\"\n",
                "taken twice",
            ),
            (
                "[[chain.start]]\nrequest = \"GET not a url\"\n[[chain.start]]\nrequest = \"POST http://app.test/y\"\n",
                "is not a URL",
            ),
        ];
        for (start, want) in cases {
            let src = format!("{CHAIN}{start}");
            let e = parse(&src)
                .err()
                .unwrap_or_else(|| panic!("{start} parsed"));
            assert!(e.message.contains(want), "{start}: {}", e.message);
        }
        let outside = format!(
            "[vars]\nv = \"${{capture.t}}\"\n{CHAIN}{first}capture = {{ t = \"json:t\" }}\n\
             [[chain.start]]\nrequest = \"POST http://app.test/${{v}}\"\n"
        );
        let e = parse(&outside).unwrap_err();
        assert!(
            e.message.contains("outside the start requests"),
            "{}",
            e.message
        );
        let in_app = "[chain]\napp = \"http://app.test/${capture.t}\"\npreset = \"better-auth\"\nprovider = \"p\"\n";
        let e = parse(in_app).unwrap_err();
        assert!(
            e.message.contains("outside the start requests"),
            "{}",
            e.message
        );
    }

    const USERS: &str = "[[users]]\nusername = \"bob\"\npassword = \"bob-password-1\"\nvars = { tenant = \"globex\" }\n";
    const ROW: &str = "[authz.credentials]\npat = { value = \"Bearer t0ken-value\" }\n[[authz.row]]\nrequest = \"GET http://localhost:3000/api/x\"\n";

    #[test]
    fn access_tables_read_and_their_secrets_kept() {
        let src = format!(
            "{MIN}[checks]\nauthz = true\nisolation = true\n{USERS}{ROW}expect = {{ session = \"allow\", pat = \"deny\", other = \"deny\" }}\n\
             [[authz.row]]\nrequest = \"POST http://localhost:3000/api/x\"\nunsafe = true\njson = {{ a = 1 }}\nexpect = {{ none = \"deny\" }}\n\
             [isolation]\nvars = {{ tenant = \"acme\" }}\n[[isolation.resource]]\nrequest = \"GET http://localhost:3000/t/{{tenant}}\"\nheaders = {{ x-tenant = \"{{tenant}}\" }}\n"
        );
        let s = parse(&src).unwrap();
        let a = &s.access;
        assert_eq!(a.users[0].name, "bob");
        let authz = a.authz.as_ref().unwrap();
        assert_eq!(authz.credentials[0].header, "authorization");
        assert_eq!(authz.columns(), ["session", "pat", "none", "other"]);
        assert_eq!(authz.rows[1].method, Method::Post);
        let iso = a.isolation.as_ref().unwrap();
        assert_eq!(iso.resources[0].url, "http://localhost:3000/t/{tenant}");
        assert_eq!(iso.resources[0].headers[0].1, "{tenant}");
        // The second user's password and the credential are secrets, written in the file or not.
        let r = crate::scenario::secrets_of(&s, false);
        let out = r
            .scrub("Bearer t0ken-value, t0ken-value and bob-password-1")
            .into_string();
        assert!(
            !out.contains("t0ken-value") && !out.contains("bob-password-1"),
            "{out}"
        );
    }

    #[test]
    fn access_tables_refused_with_where_and_why() {
        // (the tables, a piece of the message)
        let cases: &[(&str, &str)] = &[
            (
                "[[authz.row]]\nrequest = \"POST http://localhost:3000/api/x\"\nexpect = { none = \"deny\" }\n",
                "`POST` changes state: this row is sent only with `unsafe = true`",
            ),
            (
                "[isolation]\nvars = { tenant = \"a\" }\n[[isolation.resource]]\nrequest = \"DELETE http://localhost:3000/t/{tenant}\"\n",
                "`DELETE` changes state: this resource is sent only with `unsafe = true`",
            ),
            (
                "[[authz.row]]\nrequest = \"GET http://localhost:3000/api/x\"\nexpect = { sesion = \"deny\" }\n",
                "no column `sesion` in the matrix",
            ),
            (
                "[[authz.row]]\nrequest = \"GET http://localhost:3000/api/x\"\nexpect = { other = \"deny\" }\n",
                "`other` is another user's session, and there is no [[users]]",
            ),
            (
                "[[authz.row]]\nrequest = \"GET http://localhost:3000/api/x\"\nexpect = { none = \"maybe\" }\n",
                "`maybe` is neither allow nor deny",
            ),
            (
                "[[authz.row]]\nrequest = \"GET http://localhost:3000/api/x\"\n",
                "this row expects nothing",
            ),
            (
                "[authz.credentials]\nnone = { value = \"x\" }\n[[authz.row]]\nrequest = \"GET http://localhost:3000/api/x\"\nexpect = { none = \"deny\" }\n",
                "`none` is a column of its own",
            ),
            ("[checks]\nauthz = true\n", "there is no [authz] matrix"),
            (
                "[checks]\nisolation = true\n",
                "there is no [isolation] table",
            ),
            (
                "[checks]\nisolation = true\n[isolation]\n[[isolation.resource]]\nrequest = \"GET http://localhost:3000/me\"\n",
                "there is no second user in [[users]]",
            ),
            (
                "[[users]]\nusername = \"bob\"\npassword = \"pw\"\n[isolation]\nvars = { tenant = \"a\" }\n[[isolation.resource]]\nrequest = \"GET http://localhost:3000/t/{tenant}\"\n",
                "`{tenant}` has no value for bob",
            ),
            (
                "[isolation]\n[[isolation.resource]]\nrequest = \"GET http://localhost:3000/t/{tenant}\"\n",
                "`{tenant}` has no value for [isolation] vars",
            ),
            (
                "[isolation]\nvars = { a = \"b\" }\n",
                "[isolation] has no resource",
            ),
        ];
        for (tables, want) in cases {
            let src = format!("{MIN}{tables}");
            let e = parse(&src)
                .err()
                .unwrap_or_else(|| panic!("{tables} parsed"));
            assert!(e.message.contains(want), "{tables}: {}", e.message);
        }
    }
}
