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
    /// The run's private dir: every process of this browser names it on its command line.
    home: PathBuf,
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
            home: home.to_path_buf(),
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
        // Chromium's crash handler leaves the process group on purpose; find it by our dir.
        kill_naming(&self.home);
    }
}

/// Kills every process whose command line names `dir`, and waits (briefly) until they are gone.
pub(super) fn kill_naming(dir: &Path) {
    let needle = dir.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let mut killed = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(&needle) && pid != std::process::id() as i32 {
            #[cfg(unix)]
            // SAFETY: kill only sends a signal to a process that named our private dir.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            killed.push(pid);
        }
    }
    let alive = |pid: &i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        })
    };
    let started = std::time::Instant::now();
    while killed.iter().any(alive) && started.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills a process group; Chromium runs in chromedriver's group.
pub(super) fn kill_group(pid: u32) {
    #[cfg(unix)]
    // SAFETY: killpg only sends a signal; the group id is the child's own pid (process_group(0)).
    unsafe {
        libc::killpg(pid as libc::pid_t, libc::SIGKILL);
    }
}
