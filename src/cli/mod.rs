//! The command line: clap definitions, and their conversion into library options and scenarios.

use authchain::redact::Secret;
use authchain::scenario::TokenAuth;
use authchain::scenario::{
    self, Chain, CheckName, Consent, Driver, IdpKind, IdpSpec, MatrixMode, Preset, ProbeSpec,
    Scenario, default_auth_base, join_path,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use url::Url;

#[derive(Parser, Debug)]
#[command(
    name = "authchain",
    version,
    about = "Drive a real login chain, record every hop and cookie, and name the link that broke."
)]
pub struct Cli {
    /// When to colour the report: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Show cookie values, tokens, codes and state instead of fingerprints (never passwords or client secrets).
    #[arg(long, global = true)]
    pub reveal: bool,
    /// More detail on stderr: -v each request's headers (values fingerprinted), the JWTs they carry
    /// and the IdP's metadata; -vv adds timings and the browser's waits. Never changes stdout or a report.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenario files (for CI): exit 0 when every check passed.
    Run(RunArgs),
    /// Log in through a chain described by flags alone (for on-call).
    Login(Box<LoginArgs>),
    /// Probe an existing session (a cookie), with no login: the probes and the differential matrix.
    Probe(Box<ProbeArgs>),
    /// Diagnose offline: a saved JSON report again, or a HAR a browser recorded (Chromium
    /// DevTools' export, Playwright's recordHar) with the same rules.
    Diagnose(Box<DiagnoseArgs>),
    /// Run against the built-in demo chain: nothing to install, no server to start.
    Demo(DemoArgs),
    /// Check scenario files without running them (unset ${env:…} and ${secret:…} are allowed).
    Validate {
        #[arg(required = true, value_name = "SCENARIO")]
        files: Vec<PathBuf>,
    },
    /// Read a JWT (decode) or check it against a JWKS or a secret (verify). The token comes from
    /// an argument, standard input or --token-env; it is never printed whole.
    Jwt {
        #[command(subcommand)]
        command: JwtCommand,
    },
    /// Log in at the IdP as the app's client, with no app: authorization code with PKCE, the
    /// token exchange, the ID token verified, userinfo, and the claims next to what each auth
    /// library needs (exit 0 when the IdP issued a verified ID token).
    IdpLogin(Box<IdpLoginArgs>),
    /// Test a headless login's client-assertion contract: a correct private_key_jwt, then one
    /// assertion per failure class and a wrong password, each answer checked for its code and
    /// for a message that echoes nothing (exit 0 when every case answers by the contract).
    Assertion(Box<AssertionArgs>),
    /// Check an OpenID Provider on its own: its discovery document, endpoints and keys.
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },
    /// Print a shell completion script for bash, zsh, fish, elvish or powershell, e.g.
    /// `authchain completions bash > /etc/bash_completion.d/authchain`.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout, e.g. `authchain man | man -l -`.
    Man,
    /// Write a commented scenario file for the chain at URL, from what its endpoints answer
    /// (the preset, the auth base, the providers an app lists).
    Init(Box<InitArgs>),
}

#[derive(Subcommand, Debug)]
pub enum JwtCommand {
    /// The header, the claims and the times against the clock; no verification (exit 0 even
    /// for an expired token).
    Decode(TokenArgs),
    /// A verdict for each check: the algorithm, the key by kid, the signature, iss, aud, exp,
    /// nbf, iat and nonce (exit 0 when every check passes, 1 otherwise).
    Verify(JwtVerifyArgs),
}

/// Where the token comes from, and how to print.
#[derive(Args, Debug)]
pub struct TokenArgs {
    /// The token; absent or `-`: read from standard input.
    #[arg(value_name = "TOKEN", conflicts_with = "token_env")]
    pub token: Option<String>,
    /// The environment variable that holds the token.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct JwtVerifyArgs {
    #[command(flatten)]
    pub token: TokenArgs,
    /// The keys: a JWKS URL (an IdP's `jwks_uri`) or a file holding a JWKS or one JWK.
    #[arg(long, value_name = "URL|FILE", required_unless_present = "secret_env")]
    pub jwks: Option<String>,
    /// The environment variable that holds the shared secret of an HS256/384/512 token.
    #[arg(long, value_name = "VAR", conflicts_with = "jwks")]
    pub secret_env: Option<String>,
    /// The issuer the token must name, exactly.
    #[arg(long, value_name = "ISSUER")]
    pub iss: Option<String>,
    /// An audience the token must name (the client id, for an ID token).
    #[arg(long, value_name = "AUD")]
    pub aud: Option<String>,
    /// The nonce the token must carry.
    #[arg(long, value_name = "NONCE")]
    pub nonce: Option<String>,
    /// An algorithm to allow (repeatable; default: the verifying key's).
    #[arg(long = "alg", value_name = "ALG")]
    pub algs: Vec<String>,
    /// The clock skew allowed for exp, nbf and iat.
    #[arg(long, default_value = "60s", value_parser = parse_timeout)]
    pub leeway: std::time::Duration,
    /// The timeout of fetching the JWKS.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct IdpLoginArgs {
    /// The issuer, as the app is configured with it.
    #[arg(long, value_name = "URL", value_parser = issuer_flag)]
    pub issuer: String,
    /// The app's client id at the IdP.
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// The environment variable that holds the client secret (none: a public client).
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
    /// The redirect URI registered for the client; nothing needs to listen there.
    #[arg(long, value_name = "URL")]
    pub redirect_uri: String,
    #[arg(long, value_name = "U")]
    pub user: String,
    /// The environment variable that holds the password.
    #[arg(long, value_name = "VAR")]
    pub password_env: String,
    #[arg(long, default_value = "openid email profile")]
    pub scope: String,
    /// How the client authenticates at the token endpoint: basic (client_secret_basic) or
    /// post (client_secret_post).
    #[arg(long, default_value = "basic", value_parser = choice(TokenAuth::NAMES, TokenAuth::parse))]
    pub token_auth: TokenAuth,
    /// How to pass the IdP's login: form or authentik.
    #[arg(long, default_value = "form", value_parser = choice(IdpKind::NAMES, IdpKind::parse))]
    pub idp: IdpKind,
    #[arg(long, default_value = "accept", value_parser = choice(Consent::NAMES, Consent::parse))]
    pub consent: Consent,
    /// The app's auth library: its needs of the claims become findings (all are shown).
    #[arg(long, value_parser = choice(Preset::NAMES, Preset::parse))]
    pub preset: Option<Preset>,
    #[command(flatten)]
    pub net: CheckNet,
    #[command(flatten)]
    pub cert: ClientCertArgs,
}

/// The value of the environment variable a `--FLAG VAR` names, or why there is none.
pub fn env_flag(flag: &str, var: &str) -> Result<String, String> {
    std::env::var(var).map_err(|_| format!("--{flag}: the environment variable {var} is not set"))
}

impl IdpLoginArgs {
    /// The options these flags give; the secrets read from the environment.
    pub fn options(&self) -> Result<authchain::idp_login::Options, String> {
        let client_secret = match &self.client_secret_env {
            Some(v) => Some(Secret::new(env_flag("client-secret-env", v)?)),
            None => None,
        };
        Ok(authchain::idp_login::Options {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret,
            redirect_uri: url_flag("redirect-uri", &self.redirect_uri)?,
            username: self.user.clone(),
            password: Secret::new(env_flag("password-env", &self.password_env)?),
            scope: self.scope.clone(),
            token_auth: self.token_auth,
            idp: IdpSpec {
                kind: self.idp,
                username: None,
                password: None,
                consent: self.consent,
                selectors: Default::default(),
                issuer: Some(self.issuer.clone()),
                client: None,
            },
            preset: self.preset,
            timeout: self.net.timeout,
            net: self.net.net.net(Some(&self.cert))?,
        })
    }
}

#[derive(Args, Debug)]
pub struct AssertionArgs {
    /// The headless login endpoint (e.g. https://api.example.com/api/v1/auth/headless/password/login).
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// The client's private key: a PEM (PKCS#8, or PKCS#1 for RSA) or a JWK file.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The kid to name in the assertions' header (default: the JWK's own kid).
    #[arg(long, value_name = "KID")]
    pub kid: Option<String>,
    /// The algorithm, which must be the key's: RS256, ES256 or EdDSA (default: the key's).
    #[arg(long, value_name = "ALG")]
    pub alg: Option<String>,
    /// The audience of the correct assertion (default: the endpoint).
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    /// The user's email.
    #[arg(long, value_name = "U")]
    pub user: String,
    /// The environment variable that holds the password.
    #[arg(long, value_name = "VAR")]
    pub password_env: String,
    /// Send the body form-encoded instead of as JSON.
    #[arg(long)]
    pub form: bool,
    #[command(flatten)]
    pub net: CheckNet,
    /// Write a JUnit XML report here: one test case per class.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

impl AssertionArgs {
    /// The options these flags give: the key read, the password from the environment.
    pub fn options(&self) -> Result<authchain::assertion::Options, String> {
        let endpoint = url_flag("endpoint", &self.endpoint)?;
        let text = std::fs::read_to_string(&self.key)
            .map_err(|e| format!("--key {}: cannot read it: {e}", self.key.display()))?;
        let key = authchain::assertion::Key::load(&text)
            .map_err(|e| format!("--key {}: {e}", self.key.display()))?;
        if let Some(alg) = &self.alg
            && alg != key.alg()
        {
            return Err(format!("--alg {alg}: the key signs {}", key.alg()));
        }
        let kid = self.kid.clone().or_else(|| {
            serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|j| j["kid"].as_str().map(str::to_string))
        });
        let password = env_flag("password-env", &self.password_env)?;
        Ok(authchain::assertion::Options {
            audience: self
                .audience
                .clone()
                .unwrap_or_else(|| endpoint.to_string()),
            endpoint,
            client_id: self.client_id.clone(),
            key,
            kid,
            user: self.user.clone(),
            password: Secret::new(password),
            form: self.form,
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum OidcCommand {
    /// Fetch ISSUER/.well-known/openid-configuration and check the issuer, the endpoints, the
    /// keys, PKCE, the scopes, logout and the response modes (exit 0, 1 with findings, 3 when
    /// discovery cannot be fetched).
    Check(OidcCheckArgs),
}

#[derive(Args, Debug)]
pub struct OidcCheckArgs {
    /// The issuer, as the app is configured with it (one trailing slash is dropped before
    /// `/.well-known/openid-configuration` is appended).
    #[arg(value_name = "ISSUER", value_parser = issuer_flag)]
    pub issuer: String,
    /// The client id, whose registered settings are checked where the IdP exposes them.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    #[command(flatten)]
    pub net: CheckNet,
    #[command(flatten)]
    pub cert: ClientCertArgs,
}

/// How requests reach the servers, with curl's names.
#[derive(Args, Debug, Clone, Default)]
pub struct NetArgs {
    /// Map a host name to an address, bypassing DNS (repeatable): HOST:PORT:ADDR as curl
    /// takes it, or HOST:ADDR; the mapping holds for the host on every port.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<(String, std::net::IpAddr)>,
    /// Trust the CA certificates in FILE (PEM) beside the system's.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Verify no TLS certificate at all; every report says so.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// The proxy of every request, http:// or https://, e.g. http://proxy.internal:3128
    /// [default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY from the environment].
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// A header sent with every request to the app (to every request on the check commands),
    /// as 'Name: value' (repeatable); its value is shown as a fingerprint.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
}

/// The client certificate for mutual TLS.
#[derive(Args, Debug, Clone, Default)]
pub struct ClientCertArgs {
    /// The client certificate (PEM) for mutual TLS; its private key in the same file or in
    /// --key.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

impl NetArgs {
    /// The network settings these flags give, with the client certificate; a file that cannot
    /// be read or is no PEM is a usage error.
    pub fn net(
        &self,
        cert: Option<&ClientCertArgs>,
    ) -> Result<authchain::drive::http::Net, String> {
        let read = |flag: &str, path: &PathBuf| {
            std::fs::read(path)
                .map_err(|e| format!("--{flag} {}: cannot read it: {e}", path.display()))
        };
        let cacert = match &self.cacert {
            Some(p) => {
                let pem = read("cacert", p)?;
                if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                    return Err(format!(
                        "--cacert {}: no PEM certificate in it",
                        p.display()
                    ));
                }
                Some(pem)
            }
            None => None,
        };
        let identity = match cert.and_then(|c| c.cert.as_ref().map(|p| (p, c.key.as_ref()))) {
            Some((cert, key)) => {
                let mut pem = read("cert", cert)?;
                if let Some(key) = key {
                    pem.push(b'\n');
                    pem.extend(read("key", key)?);
                }
                let text = String::from_utf8_lossy(&pem);
                if !text.contains("-----BEGIN CERTIFICATE-----")
                    || !text.contains("PRIVATE KEY-----")
                {
                    return Err(format!(
                        "--cert {}: give a PEM certificate and its PEM private key (in it, or with --key)",
                        cert.display()
                    ));
                }
                Some(pem)
            }
            None => None,
        };
        if let Some(p) = &self.proxy {
            // Never echoed: a proxy URL may hold a password.
            let url = Url::parse(p).map_err(|_| {
                "--proxy: not a URL; give http://[user:password@]host:port".to_string()
            })?;
            if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
                return Err(
                    "--proxy: give an http:// or https:// proxy (SOCKS proxies are not supported)"
                        .into(),
                );
            }
        }
        Ok(authchain::drive::http::Net {
            resolve: self.resolve.clone(),
            headers: self.headers.clone(),
            header_origins: Vec::new(),
            cacert,
            insecure: self.insecure,
            identity,
            proxy: self.proxy.clone(),
        })
    }
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| "a header is 'Name: value'".to_string())?;
    let name = name.trim();
    if name.is_empty() || http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("`{name}` is not a header name"));
    }
    let value = value.trim();
    if http::HeaderValue::from_str(value).is_err() {
        return Err(format!("the value of {name} is not a header value"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// The network and report flags of the check commands (`oidc check`, `idp-login`,
/// `assertion`).
#[derive(Args, Debug)]
pub struct CheckNet {
    /// The timeout of each request, e.g. 10s, 500ms.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub net: NetArgs,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
}

impl Command {
    /// Where a command that runs a chain writes its reports.
    pub fn output(&self) -> Option<&OutputArgs> {
        match self {
            Command::Run(a) => Some(&a.output),
            Command::Login(a) => Some(&a.output),
            Command::Probe(a) => Some(&a.output),
            Command::Demo(a) => Some(&a.output),
            Command::Diagnose(a) => Some(&a.output),
            Command::Validate { .. }
            | Command::Jwt { .. }
            | Command::IdpLogin(_)
            | Command::Assertion(_)
            | Command::Oidc { .. }
            | Command::Completions { .. }
            | Command::Init(_)
            | Command::Man => None,
        }
    }

    /// The network flags of a command that runs a chain.
    pub fn net(&self) -> Option<(&NetArgs, Option<&ClientCertArgs>)> {
        match self {
            Command::Run(a) => Some((&a.net, Some(&a.cert))),
            Command::Login(a) => Some((&a.net, Some(&a.cert))),
            Command::Probe(a) => Some((&a.net, Some(&a.cert))),
            _ => None,
        }
    }

    /// The browser flags of a command that may drive one.
    pub fn browser(&self) -> Option<&BrowserArgs> {
        match self {
            Command::Run(a) => Some(&a.browser),
            Command::Login(a) => Some(&a.browser),
            Command::Demo(a) => Some(&a.browser),
            _ => None,
        }
    }
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The app's origin, e.g. https://app.example.com.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Ask only this preset's endpoints [default: every preset's].
    #[arg(long, value_parser = choice(Preset::NAMES, Preset::parse))]
    pub preset: Option<Preset>,
    /// Write the file here instead of stdout (an existing file is kept unless --force).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite --output.
    #[arg(long, requires = "output")]
    pub force: bool,
    /// The timeout of each request, e.g. 10s, 500ms.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub net: NetArgs,
}

impl InitArgs {
    pub fn app(&self) -> Result<Url, String> {
        url_flag("url", &self.url).map(|u| scenario::origin_of(&u))
    }
}

#[derive(Args, Debug)]
pub struct DiagnoseArgs {
    /// A JSON report (`--report-json`), or a HAR file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// HAR: the auth library's preset [default: the one whose endpoints the file's requests
    /// name].
    #[arg(long, value_parser = choice(Preset::NAMES, Preset::parse))]
    pub preset: Option<Preset>,
    /// HAR: the origin the auth library knows the app by [default: where the file's first
    /// request went].
    #[arg(long, value_name = "URL")]
    pub app: Option<String>,
    /// HAR: where the auth handler is mounted [default: the preset's, under the app].
    #[arg(long, value_name = "URL")]
    pub auth_base: Option<String>,
    /// HAR: the auth library's own session endpoint [default: the preset's, under the auth
    /// base].
    #[arg(long, value_name = "URL")]
    pub native: Option<String>,
    /// HAR: an endpoint whose answer in the file is compared to the native one (repeatable).
    #[arg(long = "probe", value_name = "URL")]
    pub probes: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl DiagnoseArgs {
    /// The scenario a HAR is read for: the app, the auth base and the probes, from the flags or
    /// from the file; errors are usage errors.
    pub fn har_scenario(&self, har: &authchain::har::Har) -> Result<Scenario, String> {
        let app = match &self.app {
            Some(a) => url_flag("app", a)?,
            None => authchain::har::detect_app(har).ok_or(
                "the HAR holds no http(s) request: nothing to diagnose (give --app if it does)",
            )?,
        };
        let preset = self
            .preset
            .or_else(|| authchain::har::detect_preset(har, &app));
        let auth_base = match &self.auth_base {
            Some(a) => url_flag("auth-base", a)?,
            None => default_auth_base(&app, preset),
        };
        let native = preset
            .and_then(|p| p.contract().native_path)
            .map(|path| join_path(&auth_base, path));
        let flags = ProbeFlags {
            native: self.native.clone(),
            probes: self.probes.clone(),
            matrix: MatrixMode::Never,
        };
        let probes = if self.native.is_none() && native.is_none() {
            Vec::new()
        } else {
            flags.specs(preset, native)?
        };
        Ok(probes_only(
            format!("har {}", self.file.display()),
            (app, auth_base, preset),
            probes,
            scenario::DEFAULT_TIMEOUT,
            MatrixMode::Never,
        ))
    }
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Inject a known failure (see --list).
    #[arg(long, value_name = "FAULT", value_parser = parse_fault)]
    pub fault: Option<authchain::demo::Fault>,
    /// List the faults and the finding each gives.
    #[arg(long)]
    pub list: bool,
    /// Log in over plain HTTP or in headless Chromium (when installed).
    #[arg(long, default_value = "http", value_parser = choice(Driver::NAMES, Driver::parse))]
    pub driver: Driver,
    #[command(flatten)]
    pub browser: BrowserArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_fault(s: &str) -> Result<authchain::demo::Fault, String> {
    authchain::demo::Fault::parse(s).ok_or_else(|| {
        let names: Vec<&str> = authchain::demo::Fault::ALL
            .iter()
            .map(|f| f.name())
            .collect();
        format!("unknown fault `{s}`; one of: {}", names.join(", "))
    })
}

/// A clap parser for one of the library's named choices: clap shows and checks the names, the
/// library's own `parse` gives the value, so the command line holds no copy of the enum.
fn choice<T: Clone + Send + Sync + 'static>(
    names: &'static [&'static str],
    parse: fn(&str) -> Option<T>,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(names)
        .map(move |s: String| parse(&s).expect("clap admits only listed names"))
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[arg(required = true, value_name = "SCENARIO")]
    pub files: Vec<PathBuf>,
    /// How many scenarios run at once.
    #[arg(short = 'j', long = "jobs", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Try a scenario that gave no usable answer (exit 3) again, up to N times; each attempt
    /// is recorded in its report. A wrong answer (exit 1) is never retried.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// The wait before the first retry, doubled before each next (at most 30s).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_timeout)]
    pub retry_delay: std::time::Duration,
    #[command(flatten)]
    pub browser: BrowserArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Log in at the IdP alone first, as the app's client (`[idp] issuer`, `client_id`,
    /// `client_secret`, `redirect_uri`, `token_auth`).
    #[arg(long)]
    pub idp_check: bool,
    #[command(flatten)]
    pub checks: CheckFlags,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub cert: ClientCertArgs,
}

/// `--check NAME`, on the commands that log in.
#[derive(Args, Clone, Debug)]
pub struct CheckFlags {
    /// An opt-in check after the login (repeatable; on `run`, added to each scenario's
    /// `[checks]`).
    #[arg(long = "check", value_name = "NAME", value_parser = choice(CheckName::NAMES, CheckName::parse))]
    pub checks: Vec<CheckName>,
}

#[derive(Args, Clone, Debug)]
pub struct OutputArgs {
    /// Write the JSON report to FILE (also on exit 1 and 3); `-`: to stdout, the human report
    /// then going to stderr (only when stderr is a terminal or the command does not pass).
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write events as JSON Lines to FILE (`-`: stdout) as each run finishes: hop, probe,
    /// matrix-row, check, finding, run-end.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Write the hops and probes as a HAR 1.2 file (for a browser's network panel).
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,
    /// Write a JUnit XML report to FILE (also on exit 1 and 3).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write artifacts (the JSON report of each run) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The preset that knows the auth library's endpoints.
    #[arg(long, default_value = "better-auth", value_parser = choice(Preset::NAMES, Preset::parse))]
    pub preset: Preset,
    /// The origin the auth library knows the app by (its base URL).
    #[arg(long, value_name = "URL")]
    pub app: String,
    /// Where the auth handler is mounted [default: <app>/api/auth].
    #[arg(long, value_name = "URL")]
    pub auth_base: Option<String>,
    /// The provider id configured in the app (a preset whose start names no provider needs
    /// none, nor does --start or --start-page).
    #[arg(long, value_name = "ID")]
    pub provider: Option<String>,
    /// Where the app should land after the login [default: <app>/].
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,
    /// Where the web app's pages run, when not on the app's origin (a split deployment): the
    /// start's fetch, the probes and the matrix go from there [default: the callback URL's
    /// origin].
    #[arg(long, value_name = "URL")]
    pub page: Option<String>,
    /// The start request, as 'METHOD URL', where the preset's start does not fit the app.
    #[arg(long, value_name = "'METHOD URL'", conflicts_with = "start_page")]
    pub start: Option<String>,
    /// A JSON body for --start.
    #[arg(
        long,
        value_name = "JSON",
        requires = "start",
        conflicts_with = "start_form"
    )]
    pub start_json: Option<String>,
    /// A form body for --start, as k=v&k2=v2.
    #[arg(long, value_name = "k=v&…", requires = "start")]
    pub start_form: Option<String>,
    /// A page whose sign-in link or form starts the login, pressed as a person presses it.
    #[arg(long, value_name = "URL")]
    pub start_page: Option<String>,
    /// The request that signs a user out, as 'METHOD URL', where the preset's does not fit
    /// (for --check logout).
    #[arg(long, value_name = "'METHOD URL'")]
    pub sign_out: Option<String>,
    /// The request that trades the refresh cookie for a new session, as 'METHOD URL' (for
    /// --check refresh-rotation).
    #[arg(long, value_name = "'METHOD URL'")]
    pub refresh: Option<String>,
    /// The CSS selector of the link, form or button to press on --start-page [default: the one
    /// that says sign in or log in].
    #[arg(long, value_name = "CSS", requires = "start_page")]
    pub start_selector: Option<String>,
    /// How to pass the IdP's login.
    #[arg(long, default_value = "form", value_parser = choice(IdpKind::NAMES, IdpKind::parse))]
    pub idp: IdpKind,
    /// The username to log in with.
    #[arg(long, value_name = "U")]
    pub user: Option<String>,
    /// The environment variable that holds the password.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Accept or deny the IdP's consent page.
    #[arg(long, default_value = "accept", value_parser = choice(Consent::NAMES, Consent::parse))]
    pub consent: Consent,
    /// The issuer the app is configured with, as written there: after a failed login it is
    /// compared with the IdP's discovery document, character by character.
    #[arg(long, value_name = "URL", value_parser = issuer_flag)]
    pub issuer: Option<String>,
    /// Log in at the IdP alone first, as the app's client (`idp-login`): a fault there is the
    /// IdP's, a chain that fails after it passes has its fault in the app. Needs --issuer and
    /// --client-id.
    #[arg(long)]
    pub idp_check: bool,
    #[command(flatten)]
    pub checks: CheckFlags,
    /// The app's client id at the IdP (for --idp-check).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// The environment variable that holds the client secret (for --idp-check).
    #[arg(long, value_name = "VAR", requires = "client_id")]
    pub client_secret_env: Option<String>,
    /// The client's redirect URI (for --idp-check; default: the preset's callback URL).
    #[arg(long, value_name = "URL", requires = "client_id")]
    pub redirect_uri: Option<String>,
    /// How the client authenticates at the token endpoint: basic or post (for --idp-check).
    #[arg(long, default_value = "basic", value_parser = choice(TokenAuth::NAMES, TokenAuth::parse))]
    pub token_auth: TokenAuth,
    #[command(flatten)]
    pub probes: ProbeFlags,
    /// Log in over plain HTTP or in headless Chromium.
    #[arg(long, default_value = "http", value_parser = choice(Driver::NAMES, Driver::parse))]
    pub driver: Driver,
    /// The timeout of each request and step, e.g. 10s, 500ms.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub cert: ClientCertArgs,
    /// The most hops a login may take.
    #[arg(long, default_value_t = scenario::DEFAULT_MAX_HOPS, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_hops: u32,
    #[command(flatten)]
    pub browser: BrowserArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where the browser driver's browser comes from.
#[derive(Args, Debug, Clone)]
pub struct BrowserArgs {
    /// The Chromium to start and drive over its DevTools pipe (browser driver) [default: chromium from PATH].
    #[arg(long, value_name = "PATH", conflicts_with_all = ["chromedriver", "webdriver"])]
    pub chromium: Option<PathBuf>,
    /// Drive the browser through this chromedriver (WebDriver) instead of over the DevTools pipe (browser driver).
    #[arg(long, value_name = "PATH")]
    pub chromedriver: Option<PathBuf>,
    /// A running WebDriver server to use instead of starting a browser (browser driver).
    #[arg(long, value_name = "URL")]
    pub webdriver: Option<String>,
}

impl BrowserArgs {
    /// `base` (what to reveal, where details and progress go) with the browser these flags
    /// (and the artifacts dir) give.
    pub fn options(&self, base: &authchain::RunOptions, artifacts: bool) -> authchain::RunOptions {
        authchain::RunOptions {
            browser: authchain::drive::browser::BrowserOptions {
                chromium: self.chromium.clone(),
                chromedriver: self.chromedriver.clone(),
                webdriver: self.webdriver.clone(),
                artifacts,
                pool: base.browser.pool.clone(),
            },
            ..base.clone()
        }
    }
}

/// The probes of `login` and `probe`.
#[derive(Args, Debug)]
pub struct ProbeFlags {
    /// The auth library's own session endpoint [default: the preset's, under the auth base].
    #[arg(long, value_name = "URL")]
    pub native: Option<String>,
    /// An endpoint to probe, compared to the native one (repeatable).
    #[arg(long = "probe", value_name = "URL")]
    pub probes: Vec<String>,
    /// When to run the differential matrix: auto (when a probe disagrees with the native one), always, never.
    #[arg(long, default_value = "auto", value_parser = choice(MatrixMode::NAMES, MatrixMode::parse))]
    pub matrix: MatrixMode,
}

impl ProbeFlags {
    /// The native probe (at `--native`, else `default_native`) and each `--probe` compared to it;
    /// a `--probe` equal to the native URL is the native probe.
    fn specs(
        &self,
        preset: Option<Preset>,
        default_native: Option<Url>,
    ) -> Result<Vec<ProbeSpec>, String> {
        let native_url = match (&self.native, default_native) {
            (Some(n), _) => url_flag("native", n)?,
            (None, Some(d)) => d,
            (None, None) => {
                return Err(format!(
                    "--native is required: {} has no session endpoint of its own; name a route \
                     that answers only with a session",
                    preset.map_or("the app", |p| p.contract().library)
                ));
            }
        };
        let mut probes = vec![scenario::native_probe(preset, native_url.clone())];
        for (i, p) in self.probes.iter().enumerate() {
            let url = url_flag("probe", p)?;
            if url == native_url {
                continue;
            }
            let mut name = url.path().to_string();
            if probes.iter().any(|q: &ProbeSpec| q.name == name) {
                name = format!("{name}#{}", i + 1);
            }
            probes.push(scenario::plain_probe(
                name,
                authchain::trace::Method::Get,
                url,
                Some("native".into()),
            ));
        }
        Ok(probes)
    }

    fn mode(&self) -> MatrixMode {
        self.matrix
    }
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The session cookie, as NAME=VALUE (the value is shown only as a fingerprint).
    #[arg(
        long,
        value_name = "NAME=VALUE",
        conflicts_with = "cookie_env",
        required_unless_present = "cookie_env"
    )]
    pub cookie: Option<String>,
    /// The environment variable that holds the session cookie as NAME=VALUE.
    #[arg(long, value_name = "VAR")]
    pub cookie_env: Option<String>,
    /// The preset that knows what the native endpoint answers for a session.
    #[arg(long, default_value = "better-auth", value_parser = choice(Preset::NAMES, Preset::parse))]
    pub preset: Preset,
    /// The app origin, sent as Origin [default: the native endpoint's origin].
    #[arg(long, value_name = "URL")]
    pub app: Option<String>,
    #[command(flatten)]
    pub probes: ProbeFlags,
    /// The timeout of each request, e.g. 10s, 500ms.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub cert: ClientCertArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl ProbeArgs {
    /// The probes as a scenario without a login, and the cookie to probe with.
    pub fn scenario(&self) -> Result<(Scenario, String, Secret), String> {
        let pair = match (&self.cookie, &self.cookie_env) {
            (Some(c), _) => c.clone(),
            (None, Some(var)) => env_flag("cookie-env", var)?,
            (None, None) => return Err("give --cookie NAME=VALUE or --cookie-env VAR".into()),
        };
        let Some((name, value)) = pair
            .split_once('=')
            .filter(|(n, v)| !n.trim().is_empty() && !v.is_empty())
        else {
            return Err("the cookie must be NAME=VALUE".into());
        };
        let probes = self.probes.specs(Some(self.preset), None)?;
        let app = match &self.app {
            Some(a) => url_flag("app", a)?,
            None => {
                let mut origin = probes[0].url.clone();
                origin.set_path("/");
                origin.set_query(None);
                origin
            }
        };
        let auth_base = default_auth_base(&app, Some(self.preset));
        let scenario = probes_only(
            format!("probe {}", probes[0].url),
            (app, auth_base, Some(self.preset)),
            probes,
            self.timeout,
            self.probes.mode(),
        );
        Ok((scenario, name.trim().to_string(), Secret::new(value)))
    }
}

/// A scenario with no login: an app, its auth base and preset, and probes (for `probe`, and
/// for a HAR read by `diagnose`).
fn probes_only(
    name: String,
    (app, auth_base, preset): (Url, Url, Option<Preset>),
    probes: Vec<ProbeSpec>,
    timeout: std::time::Duration,
    matrix: MatrixMode,
) -> Scenario {
    Scenario {
        name,
        chain: Chain {
            auth_base,
            callback_url: app.clone(),
            page: scenario::origin_of(&app),
            app,
            preset,
            provider: None,
            driver: Driver::Http,
            start: Vec::new(),
            start_page: None,
            timeout,
            max_hops: scenario::DEFAULT_MAX_HOPS,
            matrix,
            resolve: Vec::new(),
            sign_out: None,
            refresh: None,
        },
        idp: IdpSpec {
            kind: IdpKind::Form,
            username: None,
            password: None,
            consent: Consent::Accept,
            selectors: Default::default(),
            issuer: None,
            client: None,
        },
        probes,
        secrets: Vec::new(),
        checks: Vec::new(),
        access: Default::default(),
    }
}

fn parse_resolve(s: &str) -> Result<(String, std::net::IpAddr), String> {
    scenario::parse_resolve(s).ok_or_else(|| {
        format!("`{s}` is not HOST:PORT:ADDR or HOST:ADDR (e.g. app.test:443:127.0.0.1)")
    })
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    scenario::parse_duration(s)
        .ok_or_else(|| format!("`{s}` is not a duration (e.g. 10s, 500ms, 2m)"))
}

fn issuer_flag(value: &str) -> Result<String, String> {
    url_flag("issuer", value).map(|_| value.to_string())
}

/// A `--FLAG 'METHOD URL'` request, when given.
fn request_flag(
    flag: &str,
    spec: Option<&str>,
) -> Result<Option<(authchain::trace::Method, Url)>, String> {
    spec.map(|spec| {
        let (method, url) = scenario::split_request(spec);
        Ok((method, url_flag(flag, url)?))
    })
    .transpose()
}

fn url_flag(flag: &str, value: &str) -> Result<Url, String> {
    match Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        Ok(_) => Err(format!("--{flag}: `{value}` is not an http(s) URL")),
        Err(e) => Err(format!("--{flag}: `{value}` is not a URL: {e}")),
    }
}

impl LoginArgs {
    /// The scenario these flags describe. Errors are usage errors (exit 2).
    pub fn scenario(&self) -> Result<Scenario, String> {
        let app = url_flag("app", &self.app)?;
        let start = match &self.start {
            Some(s) => {
                let (method, url) = scenario::split_request(s);
                let url = url_flag("start", url)?;
                let body = match (&self.start_json, &self.start_form) {
                    (Some(j), _) => Some(scenario::Body::Json(
                        serde_json::from_str(j)
                            .map_err(|e| format!("--start-json: not JSON: {e}"))?,
                    )),
                    (None, Some(f)) => Some(scenario::Body::Form(
                        url::form_urlencoded::parse(f.as_bytes())
                            .map(|(k, v)| (k.into_owned(), v.into_owned()))
                            .collect(),
                    )),
                    (None, None) => None,
                };
                vec![scenario::StartStep {
                    method,
                    url: url.to_string(),
                    body,
                    headers: Vec::new(),
                    capture: Vec::new(),
                }]
            }
            None => Vec::new(),
        };

        let start_page = match &self.start_page {
            Some(p) => Some(scenario::StartPage {
                url: url_flag("start-page", p)?,
                selector: self.start_selector.clone(),
            }),
            None => None,
        };
        if self.provider.is_none()
            && start.is_empty()
            && start_page.is_none()
            && self.preset.contract().needs_provider()
        {
            return Err(format!(
                "--provider is required with the {} preset (the provider id configured in the \
                 app)",
                self.preset.name()
            ));
        }
        let auth_base = match &self.auth_base {
            Some(a) => url_flag("auth-base", a)?,
            None => default_auth_base(&app, Some(self.preset)),
        };
        let callback_url = match &self.callback_url {
            Some(c) => url_flag("callback-url", c)?,
            None => app.clone(),
        };
        let password = match &self.password_env {
            Some(var) => Some(Secret::new(env_flag("password-env", var)?)),
            None => None,
        };
        let client = match &self.client_id {
            Some(id) => Some(scenario::ClientSpec {
                client_id: id.clone(),
                client_secret: match &self.client_secret_env {
                    Some(var) => Some(Secret::new(env_flag("client-secret-env", var)?)),
                    None => None,
                },
                redirect_uri: self
                    .redirect_uri
                    .as_deref()
                    .map(|u| url_flag("redirect-uri", u))
                    .transpose()?,
                token_auth: self.token_auth,
            }),
            None => None,
        };
        let native = self
            .preset
            .contract()
            .native_path
            .map(|path| join_path(&auth_base, path));
        let probes = self.probes.specs(Some(self.preset), native)?;
        let secrets = password
            .iter()
            .chain(client.as_ref().and_then(|c| c.client_secret.as_ref()))
            .cloned()
            .collect();
        Ok(Scenario {
            name: format!("login {app}"),
            chain: Chain {
                app,
                preset: Some(self.preset),
                auth_base,
                provider: self.provider.clone(),
                page: match &self.page {
                    Some(p) => scenario::origin_of(&url_flag("page", p)?),
                    None => scenario::origin_of(&callback_url),
                },
                callback_url,
                driver: self.driver,
                start,
                start_page,
                timeout: self.timeout,
                max_hops: self.max_hops,
                matrix: self.probes.mode(),
                resolve: Vec::new(),
                sign_out: request_flag("sign-out", self.sign_out.as_deref())?,
                refresh: request_flag("refresh", self.refresh.as_deref())?,
            },
            idp: IdpSpec {
                kind: self.idp,
                username: self.user.clone(),
                password,
                consent: self.consent,
                selectors: Default::default(),
                issuer: self.issuer.clone(),
                client,
            },
            probes,
            secrets,
            checks: self.checks.checks.clone(),
            access: Default::default(),
        })
    }
}
