//! The chromedriver process: started on a free port in its own process group with private
//! HOME/XDG dirs, waited for until ready, and killed with its whole group (Chromium included) on
//! drop — on success, failure, panic and interruption alike.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The prefix of every temp dir a browser run makes; Chromium's command line carries it (its
/// `--user-data-dir`), which lets anyone find a browser this tool left behind.
pub const TEMP_PREFIX: &str = "authchain-browser-";

pub struct Chromedriver {
    child: Child,
    pub url: String,
}

impl Chromedriver {
    /// Starts `chromedriver` (from PATH, or the given path) and waits up to `timeout` for it.
    pub async fn start(
        path: Option<&Path>,
        home: &Path,
        timeout: Duration,
    ) -> Result<Chromedriver, String> {
        let program: PathBuf = path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("chromedriver"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for chromedriver: {e}"))?
            .port();
        let mut cmd = Command::new(&program);
        cmd.arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_DATA_HOME", home.join("data"));
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd.spawn().map_err(|e| {
            format!(
                "cannot start {}: {e} (install chromium and chromium-driver, or give --chromedriver PATH or --webdriver URL)",
                program.display()
            )
        })?;
        let driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_ready(timeout).await?;
        Ok(driver)
    }

    async fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let status = format!("{}/status", self.url);
        loop {
            if let Ok(resp) = client.get(&status).send().await
                && let Ok(v) = resp.json::<serde_json::Value>().await
                && v["value"]["ready"] == true
            {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(format!(
                    "chromedriver did not get ready within {}s",
                    timeout.as_secs_f64()
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills a process group; Chromium runs in chromedriver's group.
fn kill_group(pid: u32) {
    #[cfg(unix)]
    // SAFETY: killpg only sends a signal; the group id is the child's own pid (process_group(0)).
    unsafe {
        libc::killpg(pid as libc::pid_t, libc::SIGKILL);
    }
}
