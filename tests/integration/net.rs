//! Production connectivity with curl's names: `--cacert` against a server whose CA the test
//! makes (rcgen), `--cert`/`--key` against one that asks for a client certificate, `--insecure`
//! said loudly, `--proxy` and the proxy environment through a forward proxy, `-H` to the app
//! only, and `--resolve` in curl's `HOST:PORT:ADDR`.

use crate::harness::{Chain, Opts, Server, authchain, read_json_if_any};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::path::PathBuf;

/// A CA, a server certificate for `app.test` and `localhost` and a client certificate, all
/// issued by it, written as PEM files.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "authchain test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let leaf = |names: Vec<String>, cn: &str, purpose: ExtendedKeyUsagePurpose| {
            let mut p = CertificateParams::new(names).unwrap();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.extended_key_usages = vec![purpose];
            let key = KeyPair::generate().unwrap();
            let cert = p.signed_by(&key, &ca).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server, server_key) = leaf(
            vec!["app.test".into(), "localhost".into()],
            "app.test",
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client, client_key) =
            leaf(vec![], "probe-client", ExtendedKeyUsagePurpose::ClientAuth);
        for (name, text) in [
            ("ca.pem", ca.pem()),
            ("server.pem", server),
            ("server.key", server_key),
            ("client.pem", client),
            ("client.key", client_key),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// The TLS fixture serving the test CA's server certificate; with `mutual`, asking for a
    /// client certificate that CA issued.
    fn server(&self, mutual: bool) -> Server {
        self.server_with(mutual, &[])
    }

    /// [`Pki::server`] with more of the fixture's switches.
    fn server_with(&self, mutual: bool, extra: &[(&'static str, &str)]) -> Server {
        let mut env = vec![
            ("CERT", "files".to_string()),
            ("CERT_FILE", self.arg("server.pem")),
            ("KEY_FILE", self.arg("server.key")),
        ];
        if mutual {
            env.push(("CLIENT_CA", self.arg("ca.pem")));
        }
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        Server::start("tls", "tls.mjs", &env)
    }
}

/// `authchain probe` of `https://app.test:PORT/session` with a cookie, and `extra` flags.
fn probe(port: u16, extra: &[&str]) -> (crate::harness::Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let native = format!("https://app.test:{port}/session");
    let resolve = format!("app.test:{port}:127.0.0.1");
    let mut args = vec![
        "probe",
        "--cookie",
        "sid=a-session-cookie-value",
        "--native",
        &native,
        "--resolve",
        &resolve,
        "--report-json",
        json.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = authchain(&args, &[]);
    (out, read_json_if_any(&json))
}

/// A server that answers only over HTTP/2 (505 otherwise): the probe passes, so ALPN chose h2.
#[test]
fn http2_is_negotiated_with_a_server_that_offers_it() {
    let pki = Pki::new();
    let server = pki.server_with(false, &[("HTTP2", "only")]);
    let (out, report) = probe(server.port, &["--cacert", &pki.arg("ca.pem")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(report["probes"][0]["status"], 200, "{report}");
}

#[test]
fn cacert_trusts_a_private_ca_and_nothing_else_does() {
    let pki = Pki::new();
    let server = pki.server(false);
    let (without, report) = probe(server.port, &[]);
    assert_eq!(without.code, 3, "unknown CA: {}", without.all());
    assert_eq!(report["error"]["kind"], "tls", "{report}");
    let (with, report) = probe(server.port, &["--cacert", &pki.arg("ca.pem")]);
    assert_eq!(with.code, 0, "{}", with.all());
    assert_eq!(report["probes"][0]["status"], 200);
    assert!(report["chain"].get("insecure").is_none());

    let (insecure, report) = probe(server.port, &["--insecure"]);
    assert_eq!(insecure.code, 0, "{}", insecure.all());
    assert_eq!(report["chain"]["insecure"], true);
    assert!(
        insecure
            .stdout
            .contains("INSECURE: no TLS certificate was verified")
    );

    // A check command says it too, under its header.
    let issuer = format!("https://app.test:{}", server.port);
    let resolve = format!("app.test:{}:127.0.0.1", server.port);
    let check = authchain(
        &["oidc", "check", &issuer, "--resolve", &resolve, "-k"],
        &[],
    );
    assert!(
        check
            .stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("INSECURE: no TLS certificate was verified")),
        "{}",
        check.all()
    );

    let missing = probe(server.port, &["--cacert", "/nonexistent/ca.pem"]).0;
    assert_eq!(missing.code, 2, "{}", missing.all());
    assert!(
        missing.stderr.contains("--cacert /nonexistent/ca.pem"),
        "{}",
        missing.stderr
    );
}

#[test]
fn cert_and_key_answer_a_server_that_asks_for_a_client_certificate() {
    let pki = Pki::new();
    let server = pki.server(true);
    let ca = pki.arg("ca.pem");
    let (without, _) = probe(server.port, &["--cacert", &ca]);
    assert_eq!(without.code, 3, "no client certificate: {}", without.all());
    let (with, report) = probe(
        server.port,
        &[
            "--cacert",
            &ca,
            "--cert",
            &pki.arg("client.pem"),
            "--key",
            &pki.arg("client.key"),
        ],
    );
    assert_eq!(with.code, 0, "{}", with.all());
    assert!(
        report["probes"][0]["body_excerpt"]
            .as_str()
            .unwrap()
            .contains("probe-client"),
        "{report}"
    );
    let no_key = probe(server.port, &["--cert", &pki.arg("client.pem")]).0;
    assert_eq!(
        no_key.code,
        2,
        "a certificate without its key: {}",
        no_key.all()
    );
}

fn carried(proxy: &Server) -> Vec<serde_json::Value> {
    let url = format!("http://127.0.0.1:{}/__proxy/log", proxy.port);
    let out = std::process::Command::new("node")
        .args([
            "-e",
            &format!("fetch('{url}').then(r => r.text()).then(t => process.stdout.write(t))"),
        ])
        .output()
        .expect("node runs");
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .expect("the proxy's log")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_login_goes_through_a_proxy_with_headers_for_the_app_only() {
    let chain = Chain::start(Opts::default());
    let proxy = Server::start("forward-proxy", "forward-proxy.mjs", &[]);
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let run = chain.login(
        "alice",
        &[
            "--proxy",
            &proxy_url,
            "-H",
            "X-Tenant: acme",
            "-H",
            "X-Api-Key: a-long-api-key-for-the-gateway",
        ],
        &[],
    );
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    let log = carried(&proxy);
    let app = chain.app();
    let app_origin = app.trim_end_matches('/');
    let to_app: Vec<_> = log
        .iter()
        .filter(|e| e["url"].as_str().unwrap().starts_with(app_origin))
        .collect();
    let to_idp: Vec<_> = log
        .iter()
        .filter(|e| !e["url"].as_str().unwrap().starts_with(app_origin))
        .collect();
    assert!(!to_app.is_empty() && !to_idp.is_empty(), "{log:?}");
    assert!(
        to_app.iter().all(|e| e["headers"]["x-tenant"] == "acme"),
        "{to_app:?}"
    );
    assert!(
        to_idp
            .iter()
            .all(|e| e["headers"].get("x-tenant").is_none()),
        "{to_idp:?}"
    );
    assert!(
        !run.out.all().contains("a-long-api-key-for-the-gateway")
            && !run.json_text.contains("a-long-api-key-for-the-gateway"),
        "a header's value is a secret"
    );

    // The environment's proxy, as curl reads it.
    let before = carried(&proxy).len();
    let run = chain.login("alice", &[], &[("HTTP_PROXY", proxy_url.as_str())]);
    assert_eq!(run.out.code, 0, "{}", run.out.all());
    assert!(carried(&proxy).len() > before, "HTTP_PROXY is used");
}

#[test]
fn resolve_takes_curls_host_port_addr() {
    let chain = Chain::start(Opts::default());
    let port = chain
        .app()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let native = format!("http://app.test:{port}/api/auth/get-session");
    for resolve in [
        format!("app.test:{port}:127.0.0.1"),
        "app.test:127.0.0.1".to_string(),
    ] {
        let out = authchain(
            &[
                "probe",
                "--cookie",
                "better-auth.session_token=not-a-session",
                "--native",
                &native,
                "--resolve",
                &resolve,
            ],
            &[],
        );
        // Reached: the app answers `null` for a session it does not know, a wrong answer (1),
        // not a DNS failure (3).
        assert_eq!(out.code, 1, "{resolve}: {}", out.all());
    }
    let bad = authchain(
        &[
            "probe",
            "--cookie",
            "a=b",
            "--native",
            &native,
            "--resolve",
            "app.test:x:1.2.3.4",
        ],
        &[],
    );
    assert_eq!(bad.code, 2, "{}", bad.all());
}

#[test]
fn the_browser_driver_refuses_what_chromium_cannot_take() {
    let pki = Pki::new();
    let out = authchain(
        &[
            "login",
            "--app",
            "http://localhost:9",
            "--provider",
            "p",
            "--driver",
            "browser",
            "--cacert",
            &pki.arg("ca.pem"),
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--cacert"), "{}", out.stderr);
}

#[test]
fn a_usage_error_never_echoes_a_typed_credential() {
    let login = ["login", "--app", "http://localhost:9", "--provider", "p"];
    for extra in [
        &["-H", "X-Api-Key abcdef123456secret"][..],
        &["--header=X-Api-Key abcdef123456secret"],
        &["--proxy", "ops:abcdef123456secret@proxy:3128"],
        &["--proxy", "socks5://ops:abcdef123456secret@proxy:1080"],
    ] {
        let args: Vec<&str> = login.iter().chain(extra).copied().collect();
        let out = authchain(&args, &[]);
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(
            !out.all().contains("abcdef123456secret"),
            "{args:?}: {}",
            out.all()
        );
    }
}
