//! The real test chain on loopback: the fixture IdP (oidc-provider) and the fixture app
//! (Express + unmodified BetterAuth), started on free ports and stopped on drop, even when a test
//! panics. Also runs the built binary in a hermetic environment.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct-horse-battery";
pub const PASSWORD_VAR: &str = "AUTHCHAIN_TEST_PASSWORD";
const INSTALL: &str = "bash scripts/test.sh (it installs what is missing, then runs the tests)";

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Fails (never skips) when Node or the fixtures' packages are missing, naming the install script.
fn preflight() {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "Node.js is missing (the test chain runs on it): run {INSTALL}"
    );
    for pkg in [
        "oidc-provider",
        "better-auth",
        "better-auth-16",
        "express",
        "@auth/express",
        "@auth/unstorage-adapter",
        "unstorage",
        "express-openid-connect",
    ] {
        let dir = fixtures_dir().join("node_modules").join(pkg);
        assert!(
            dir.is_dir(),
            "the test chain's package {pkg} is missing from tests/fixtures/node_modules: run {INSTALL}"
        );
    }
}

/// Fails (never skips) when Chromium or chromedriver is missing, naming the install script.
pub fn browser_preflight() {
    for program in ["chromium", "chromedriver"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{program} is missing (the browser tests run it): run {INSTALL}"
        );
    }
}

static BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Browser tests run one at a time: each holds this while it runs.
pub fn browser_lock() -> std::sync::MutexGuard<'static, ()> {
    browser_preflight();
    BROWSER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Live (not zombie) processes whose command line carries the browser driver's temp-dir prefix:
/// a Chromium or chromedriver that a run left behind.
pub fn leftover_browsers() -> Vec<String> {
    let out = Command::new("ps")
        .args(["-eo", "stat=,args="])
        .output()
        .expect("ps runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim_start().starts_with('Z') && l.contains("authchain-browser-"))
        .map(str::to_string)
        .collect()
}

/// The switches of the fixture app.
#[derive(Clone, Copy, Debug)]
pub struct Opts {
    pub line: &'static str,
    pub guard: &'static str,
    pub secure: bool,
    pub stateless: bool,
    /// The app's host name: `localhost`, or a name like `app.test` that authchain maps to
    /// 127.0.0.1 with `--resolve` (not loopback to a browser's eyes).
    pub app_host: &'static str,
    /// The IdP: `form` (idp.mjs) or `authentik` (the Authentik stand-in, authentik.mjs).
    pub idp: &'static str,
    /// Extra switches for the IdP process (e.g. `SIGNING_ALG=HS256` for the stand-in).
    pub idp_env: &'static [(&'static str, &'static str)],
    /// Extra switches for the app process (e.g. `USER_HOOK=forbid`).
    pub app_env: &'static [(&'static str, &'static str)],
    /// The app also serves a front end on another site, `http://127.0.0.1:<its port>`, which it
    /// trusts and answers credentialed CORS (`FRONTEND_ORIGIN`).
    pub frontend: bool,
    /// The app's auth library: `better-auth` (app.mjs), `authjs` (authjs.mjs, Auth.js at
    /// `/auth`) or `eoc` (eoc.mjs, express-openid-connect at the root).
    pub library: &'static str,
    /// A reverse proxy (proxy.mjs) in front of the app, with these switches: the app's public
    /// port is the proxy's, and the app listens on another. Empty: no proxy.
    pub proxy_env: &'static [(&'static str, &'static str)],
    /// The app reaches the IdP through a reverse proxy, at `http://localhost:<its port>`: the
    /// issuer it is configured with is the proxy's, while the IdP names itself by its own.
    pub idp_behind_proxy: bool,
    /// The IdP's clock, as an offset `faketime -f` takes (`-10m`: ten minutes behind); its `Date`
    /// headers follow. Empty: the machine's clock.
    pub idp_clock: &'static str,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            line: "1.7",
            guard: "cookie",
            secure: false,
            stateless: false,
            app_host: "localhost",
            idp: "form",
            idp_env: &[],
            app_env: &[],
            frontend: false,
            library: "better-auth",
            proxy_env: &[],
            idp_behind_proxy: false,
            idp_clock: "",
        }
    }
}

/// The Authentik stand-in's application slug.
pub const AUTHENTIK_SLUG: &str = "authchain";

/// One Node server of the chain.
pub struct Server {
    name: &'static str,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl Server {
    /// Starts the server and waits for its READY line. A server that neither announces itself
    /// nor exits within the wait is started once more (a loaded machine can stall a start); one
    /// that exits, or stalls twice, fails the test with its log and what the machine was doing.
    pub fn start(name: &'static str, script: &str, env: &[(&str, String)]) -> Server {
        Server::start_at(name, script, env, "")
    }

    /// The same, its clock shifted by `clock` (`faketime -f` offsets; empty: the machine's).
    fn start_at(name: &'static str, script: &str, env: &[(&str, String)], clock: &str) -> Server {
        const WAIT: Duration = Duration::from_secs(90);
        let mut stalled = String::new();
        for attempt in 1..=2 {
            let (mut server, rx) = Server::spawn(name, script, env, clock);
            let started = Instant::now();
            match rx.recv_timeout(WAIT) {
                Ok(line) => {
                    let port = line
                        .strip_prefix("READY ")
                        .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                        .and_then(|v| v["port"].as_u64())
                        .unwrap_or_else(|| {
                            panic!(
                                "{name}: expected a READY line, got {line:?}\n{}",
                                server.log_text()
                            )
                        });
                    server.port = port as u16;
                    if !stalled.is_empty() {
                        eprintln!(
                            "{name} started on attempt {attempt}; the first stalled:\n{stalled}"
                        );
                    }
                    return server;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server.child.wait().ok();
                    panic!(
                        "{name} exited before it was ready ({status:?}, after {:.1} s)\n{}",
                        started.elapsed().as_secs_f64(),
                        server.log_text()
                    )
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    stalled = format!("{}\n--- processes ---\n{}", server.log_text(), busiest());
                    server.stop();
                }
            }
        }
        panic!(
            "{name} did not become ready within {} s, twice\n{stalled}",
            WAIT.as_secs()
        )
    }

    fn spawn(
        name: &'static str,
        script: &str,
        env: &[(&str, String)],
        clock: &str,
    ) -> (Server, mpsc::Receiver<String>) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let log = dir.path().join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).expect("a log file");
        let mut cmd = if clock.is_empty() {
            Command::new("node")
        } else {
            let mut c = Command::new("faketime");
            c.args(["-f", clock, "node"]);
            c
        };
        cmd.arg(script)
            .current_dir(fixtures_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node {script}: {e}; run {INSTALL}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let server = Server {
            name,
            child,
            log,
            _dir: dir,
            port: 0,
        };
        (server, rx)
    }

    pub fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        format!("--- {} log ---\n{s}", self.name)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("{}", self.log_text());
        }
    }
}

/// The machine's busiest processes, for a server that stalled.
fn busiest() -> String {
    Command::new("ps")
        .args(["-eo", "pid,stat,pcpu,etime,args", "--sort=-pcpu"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .take(15)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The IdP and the app, wired together.
pub struct Chain {
    pub idp: Server,
    pub app: Server,
    /// The proxy in front of the app, when the chain has one.
    pub proxy: Option<Server>,
    /// The proxy in front of the IdP, when the app reaches the IdP through one.
    pub idp_proxy: Option<Server>,
    app_host: &'static str,
    authentik: bool,
    library: &'static str,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Chain {
    /// Starts the chain. A port taken by another process between its choice and the app's
    /// listen (`EADDRINUSE`) starts the whole chain again, on new ports, once.
    pub fn start(opts: Opts) -> Chain {
        match std::panic::catch_unwind(|| Chain::start_once(opts)) {
            Ok(chain) => chain,
            Err(e) => {
                let message = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                if !message.contains("EADDRINUSE") {
                    std::panic::resume_unwind(e);
                }
                eprintln!("a port was taken while the chain started; starting it again");
                Chain::start_once(opts)
            }
        }
    }

    fn start_once(opts: Opts) -> Chain {
        preflight();
        let app_port = free_port();
        let origin = format!("http://{}:{app_port}", opts.app_host);
        let authentik = opts.idp == "authentik";
        let mut idp_env = vec![("APP_ORIGIN", origin.clone())];
        idp_env.extend(opts.idp_env.iter().map(|(k, v)| (*k, v.to_string())));
        let script = if authentik {
            "authentik.mjs"
        } else {
            "idp.mjs"
        };
        if !opts.idp_clock.is_empty() {
            let faketime = Command::new("faketime").arg("--version").output();
            assert!(
                faketime.is_ok_and(|o| o.status.success()),
                "faketime is missing (the IdP's clock shim): run {INSTALL}"
            );
        }
        let idp = Server::start_at("idp", script, &idp_env, opts.idp_clock);
        let idp_proxy = opts.idp_behind_proxy.then(|| {
            let upstream = format!("http://127.0.0.1:{}", idp.port);
            Server::start("idp-proxy", "proxy.mjs", &[("UPSTREAM", upstream)])
        });
        let issuer = match &idp_proxy {
            Some(p) => format!("http://localhost:{}", p.port),
            None => format!("http://127.0.0.1:{}", idp.port),
        };
        // Behind a proxy, the public port is the proxy's and the app listens on its own.
        let behind = !opts.proxy_env.is_empty();
        let listen = if behind { free_port() } else { app_port };
        let mut env = vec![
            ("PORT", listen.to_string()),
            ("APP_ORIGIN", origin),
            ("IDP_ISSUER", issuer),
            ("BA_LINE", opts.line.to_string()),
            ("GUARD", opts.guard.to_string()),
        ];
        if authentik {
            env.push(("PROVIDER_ID", "authentik".into()));
            env.push((
                "IDP_DISCOVERY",
                format!("http://127.0.0.1:{}/application/o/{AUTHENTIK_SLUG}/.well-known/openid-configuration", idp.port),
            ));
        }
        if opts.secure {
            env.push(("SECURE_COOKIES", "1".into()));
        }
        if opts.stateless {
            env.push(("STATELESS", "1".into()));
        }
        env.extend(opts.app_env.iter().map(|(k, v)| (*k, v.to_string())));
        if opts.frontend {
            env.push(("FRONTEND_ORIGIN", format!("http://127.0.0.1:{app_port}")));
        }
        let script = match opts.library {
            "authjs" => "authjs.mjs",
            "eoc" => "eoc.mjs",
            "cache" => "cache-app.mjs",
            "api" => "api-app.mjs",
            _ => "app.mjs",
        };
        let app = Server::start("app", script, &env);
        let proxy = behind.then(|| {
            let mut env = vec![
                ("PORT", app_port.to_string()),
                ("UPSTREAM", format!("http://127.0.0.1:{}", app.port)),
            ];
            env.extend(opts.proxy_env.iter().map(|(k, v)| (*k, v.to_string())));
            Server::start("proxy", "proxy.mjs", &env)
        });
        Chain {
            idp,
            app,
            proxy,
            idp_proxy,
            app_host: opts.app_host,
            authentik,
            library: opts.library,
        }
    }

    /// The port the app is reached on: its proxy's when it has one.
    pub fn public_port(&self) -> u16 {
        self.proxy.as_ref().map_or(self.app.port, |p| p.port)
    }

    pub fn app(&self) -> String {
        format!("http://{}:{}", self.app_host, self.public_port())
    }

    /// The front end on another site (with `Opts::frontend`): the same server by its address.
    pub fn frontend(&self) -> String {
        format!("http://127.0.0.1:{}", self.public_port())
    }

    /// The app's guarded endpoint (a guard of the app's own, not the auth library's).
    pub fn guarded(&self) -> String {
        match self.library {
            "authjs" | "eoc" | "cache" | "api" => format!("{}/api/me", self.app()),
            _ => format!("{}/auth/session", self.app()),
        }
    }

    /// `authchain login` flags for this chain, logging in as `user`.
    pub fn login_args(&self, user: &str) -> Vec<String> {
        let (provider, idp) = if self.authentik {
            ("authentik", "authentik")
        } else {
            ("fixture", "form")
        };
        let mut args: Vec<String> = [
            "login",
            "--app",
            &self.app(),
            "--provider",
            provider,
            "--idp",
            idp,
            "--user",
            user,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Generous: a loaded CI machine must not turn into a timeout finding.
        args.extend([
            "--password-env".into(),
            PASSWORD_VAR.into(),
            "--timeout".into(),
            "30s".into(),
        ]);
        if self.app_host != "localhost" {
            args.extend(["--resolve".into(), format!("{}:127.0.0.1", self.app_host)]);
        }
        match self.library {
            "authjs" => args.extend([
                "--preset".into(),
                "authjs".into(),
                "--auth-base".into(),
                format!("{}/auth", self.app()),
            ]),
            // Its routes are at the app's root, and it has no session endpoint of its own.
            "eoc" => args.extend([
                "--preset".into(),
                "express-openid-connect".into(),
                "--auth-base".into(),
                self.app(),
                "--native".into(),
                self.guarded(),
            ]),
            _ => {}
        }
        args
    }

    /// `authchain login` as `user` with `extra` flags and a JSON report, in a temp dir kept as
    /// long as the result.
    pub fn login(&self, user: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_login(self.login_args(user), extra, env)
    }

    /// The same, started from `start` (another host name or site than the app's) with the auth
    /// handler at `auth_base`.
    pub fn login_from(&self, start: &str, auth_base: &str, user: &str, extra: &[&str]) -> Run {
        let mut args = self.login_args(user);
        let app = args.iter().position(|a| a == "--app").expect("--app") + 1;
        args[app] = start.to_string();
        match args.iter().position(|a| a == "--auth-base") {
            Some(i) => args[i + 1] = auth_base.to_string(),
            None => args.extend(["--auth-base".into(), auth_base.to_string()]),
        }
        self.run_login(args, extra, &[])
    }

    fn run_login(&self, mut args: Vec<String>, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let dir = tempfile::tempdir().expect("a temp dir");
        let json = dir.path().join("report.json");
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["--report-json".into(), json.display().to_string()]);
        let out = authchain(&args, env);
        let json_text = std::fs::read_to_string(&json).unwrap_or_default();
        let report = serde_json::from_str(&json_text).unwrap_or(serde_json::Value::Null);
        Run {
            out,
            report,
            json_text,
            json,
            _dir: dir,
        }
    }

    /// One of the app's test endpoints (`/__fixture/…`), as JSON.
    pub fn fixture_json(&self, path: &str) -> serde_json::Value {
        let out = Command::new("node")
            .args([
                "-e",
                &format!(
                    "fetch('http://127.0.0.1:{}{path}').then(r=>r.json()).then(j=>console.log(JSON.stringify(j)))",
                    self.app.port
                ),
            ])
            .output()
            .expect("node runs");
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{path} answers no JSON: {e}"))
    }

    /// The app's test endpoint `/__fixture/secrets`.
    fn fixture_secrets(&self) -> serde_json::Value {
        self.fixture_json("/__fixture/secrets")
    }

    /// The ID tokens the IdP issued to the app (BetterAuth keeps them with the account).
    pub fn issued_id_tokens(&self) -> Vec<String> {
        let v = self.fixture_secrets();
        v["idTokens"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect()
    }

    /// Every session token the app issued, raw and as signed cookie values.
    pub fn issued_secrets(&self) -> Vec<String> {
        let v = self.fixture_secrets();
        let mut all = Vec::new();
        for key in ["tokens", "signed"] {
            for s in v[key].as_array().into_iter().flatten() {
                all.push(s.as_str().unwrap_or_default().to_string());
            }
        }
        all
    }
}

/// A login's outputs and its JSON report.
pub struct Run {
    pub out: Output,
    pub report: serde_json::Value,
    pub json_text: String,
    pub json: PathBuf,
    _dir: tempfile::TempDir,
}

/// The finding ids of a JSON report, in order.
pub fn finding_ids(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs the built binary with no proxy, no colour, no stdin and the test password in its
/// environment; kills it after 120 s so that a hang fails the test instead of the suite.
pub fn authchain<S: AsRef<str>>(args: &[S], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authchain"));
    cmd.args(args.iter().map(|a| a.as_ref()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1")
        .env(PASSWORD_VAR, PASSWORD);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the authchain binary starts");
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait works") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!(
                "authchain did not finish within 120 s: {:?}",
                args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    }
}

/// The JSON report at `path`.
/// `authchain run` on a scenario written out from `text`, with the test password in its
/// variable: the output and the run's JSON report.
pub fn run_scenario(text: &str) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, text).expect("the scenario is written");
    let json = dir.path().join("report.json");
    let out = authchain(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--report-json",
            json.to_str().unwrap(),
        ],
        &[(PASSWORD_VAR, PASSWORD)],
    );
    let all = read_json(&json);
    let report = match all.get("runs") {
        Some(runs) if runs.is_array() => runs[0].clone(),
        _ => all,
    };
    (out, report)
}

/// `authchain run` on a scenario written out from `text`, for a run that may write no report
/// (a scenario refused before it starts).
pub fn run_scenario_raw(text: &str) -> Output {
    let dir = tempfile::tempdir().expect("a temp dir");
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, text).expect("the scenario is written");
    authchain(
        &["run", scenario.to_str().unwrap()],
        &[(PASSWORD_VAR, PASSWORD)],
    )
}

/// The names of the cookies the callback hop of a report sets (not clears or has refused).
pub fn set_at_callback(report: &serde_json::Value) -> Vec<String> {
    let cb = report["chain"]["callback_hop"]
        .as_u64()
        .expect("the report names its callback hop") as usize;
    report["hops"][cb - 1]["set_cookies"]
        .as_array()
        .expect("the callback's cookies")
        .iter()
        .filter(|c| c["action"] == "set")
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the report is JSON")
}

/// The report at `path`, or `null` where none was written (exit 2).
pub fn read_json_if_any(path: &Path) -> serde_json::Value {
    if path.exists() {
        read_json(path)
    } else {
        serde_json::Value::Null
    }
}

/// Ends an answer of [`Misbehaving`] that is sent and then held open without another byte.
pub const HOLD: &[u8] = b"\0authchain-test-hold";

/// A deliberately misbehaving HTTP server on loopback, for the bad-input cases a real IdP or
/// app will not produce on demand (a JSON login page, an endless body, no answer at all).
pub struct Misbehaving {
    pub port: u16,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Every request's head (its request line and headers, lower-cased), in order.
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Misbehaving {
    /// `answer(method, path, own port)` gives the raw HTTP response, or `None` to hold the
    /// connection open without answering.
    pub fn start(answer: fn(&str, &str, u16) -> Option<Vec<u8>>) -> Misbehaving {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = counter.clone();
                let kept = kept.clone();
                std::thread::spawn(move || {
                    use std::io::Write;
                    let mut stream = stream;
                    let mut reader = BufReader::new(stream.try_clone().expect("a stream"));
                    let mut first = String::new();
                    if reader.read_line(&mut first).is_err() {
                        return;
                    }
                    let mut parts = first.split_whitespace();
                    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    let mut head = first.to_lowercase();
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        head.push_str(&line.to_lowercase());
                        line.clear();
                    }
                    if let Ok(mut all) = kept.lock() {
                        all.push(head);
                    }
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    match answer(method, path, port) {
                        Some(bytes) => match bytes.strip_suffix(HOLD) {
                            // A part of an answer, and then silence.
                            Some(part) => {
                                let _ = stream.write_all(part);
                                let _ = stream.flush();
                                std::thread::sleep(Duration::from_secs(30));
                            }
                            None => {
                                let _ = stream.write_all(&bytes);
                            }
                        },
                        None => std::thread::sleep(Duration::from_secs(30)),
                    }
                });
            }
        });
        Misbehaving { port, hits, heads }
    }

    /// The heads of the requests received so far.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Waits until the server has received `n` requests.
    pub fn wait_for_requests(&self, n: usize) {
        let started = Instant::now();
        while self.hits.load(std::sync::atomic::Ordering::SeqCst) < n {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server never got {n} requests"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A complete HTTP/1.1 response.
pub fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut s = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.push_str(body);
    s.into_bytes()
}

/// The cause keys of a finding, in its order.
pub fn cause_keys(finding: &serde_json::Value) -> Vec<String> {
    finding["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["key"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Asserts that a finding's `field` (its title, explanation, fix, or evidence lines) says `words`.
pub fn assert_says(finding: &serde_json::Value, field: &str, words: &str) {
    let text = match &finding[field] {
        serde_json::Value::Array(lines) => lines
            .iter()
            .filter_map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        v => v.as_str().unwrap_or_default().to_string(),
    };
    assert!(text.contains(words), "{field} lacks {words:?}: {finding}");
}

/// Each check of a report with its status, in the order they ran.
pub fn checks_of(report: &serde_json::Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["check"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
