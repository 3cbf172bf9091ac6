//! Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`): one browser
//! for a whole run, and a fresh browser context (its own cookies, storage and cache) for each
//! scenario. Messages are JSON objects, each ended by a NUL byte: commands go to the browser's
//! fd 3, answers and events come back on its fd 4. The browser runs in its own process group with
//! private HOME/XDG dirs, and is killed with its group on drop — on success, failure, panic and
//! interruption alike.

use super::process::{TEMP_PREFIX, kill_group, kill_naming};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};

type Reply = Result<Value, String>;

/// The commands waiting for their answer, and why the connection ended once it has: one lock,
/// so that no command is left waiting on a closed pipe.
#[derive(Default)]
struct Calls {
    /// Each command's reply channel, and the session (page) it was sent to.
    pending: HashMap<u64, (Option<String>, oneshot::Sender<Reply>)>,
    closed: Option<String>,
}

/// Forgets a command whose caller stopped waiting (a timeout, an interruption).
struct Waiting<'a> {
    conn: &'a Conn,
    id: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        lock(&self.conn.calls).pending.remove(&self.id);
    }
}

/// What one tab's events have said so far.
#[derive(Default)]
struct TabState {
    /// Network events not read yet, as `(method, params)`: the same events as the performance
    /// log of a WebDriver session.
    log: Vec<(String, Value)>,
    /// The main frame is loading.
    loading: bool,
    /// The loaders (navigations) whose load event fired, latest last.
    loaded: Vec<String>,
    /// How many times the main frame stopped loading.
    stops: u64,
    /// The tab or its browser is gone, and why.
    gone: Option<String>,
}

/// Where a tab's navigations stand: how many stopped, how many loaded, and whether one is on.
fn navigation_of(s: &TabState) -> (u64, Option<String>, bool) {
    (s.stops, s.loaded.last().cloned(), s.loading)
}

struct TabShared {
    /// The main frame's id, which is the page target's.
    frame: String,
    state: Mutex<TabState>,
    changed: Notify,
}

impl TabShared {
    fn new(frame: String) -> Arc<TabShared> {
        Arc::new(TabShared {
            frame,
            state: Mutex::new(TabState::default()),
            changed: Notify::new(),
        })
    }

    fn event(&self, method: &str, params: Value) {
        let main = params["frameId"].as_str() == Some(self.frame.as_str());
        {
            let mut s = lock(&self.state);
            match method {
                m if m.starts_with("Network.") => s.log.push((method.to_string(), params)),
                "Page.frameStartedLoading" if main => s.loading = true,
                "Page.frameStoppedLoading" if main => {
                    s.loading = false;
                    s.stops += 1;
                }
                "Page.lifecycleEvent" if main && params["name"] == "load" => {
                    if let Some(loader) = params["loaderId"].as_str() {
                        s.loaded.push(loader.to_string());
                        let extra = s.loaded.len().saturating_sub(16);
                        s.loaded.drain(..extra);
                    }
                }
                "Inspector.detached" | "Inspector.targetCrashed" => {
                    s.gone
                        .get_or_insert_with(|| format!("the page went away ({method})"));
                }
                _ => return,
            }
        }
        self.changed.notify_waiters();
    }

    fn end(&self, why: &str) {
        lock(&self.state)
            .gone
            .get_or_insert_with(|| why.to_string());
        self.changed.notify_waiters();
    }
}

/// The connection to the browser: a writer thread, a reader thread, and who waits for what.
struct Conn {
    to_browser: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
    next: AtomicU64,
    calls: Mutex<Calls>,
    tabs: Mutex<HashMap<String, Arc<TabShared>>>,
}

/// A poisoned lock still holds sound data here: every critical section is a plain update.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A command as the protocol frames it.
fn message(id: u64, session: Option<&str>, method: &str, params: Value) -> Value {
    let mut m = json!({"id": id, "method": method, "params": params});
    if let Some(s) = session {
        m["sessionId"] = json!(s);
    }
    m
}

/// A message with every lone UTF-16 surrogate escape (`\ud800` with no partner: V8 sends them
/// for a broken character in a page's text) replaced by `\ufffd`, which a JSON parser takes.
fn mend_surrogates(text: &str) -> String {
    let b = text.as_bytes();
    let hex = |at: usize| -> Option<u16> {
        let digits = b.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    // A `\uXXXX` escape at `at`, not itself escaped (an odd run of backslashes before the `u`).
    let escape = |at: usize| -> Option<u16> {
        (b.get(at) == Some(&b'\\') && b.get(at + 1) == Some(&b'u'))
            .then(|| hex(at + 2))
            .flatten()
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        match escape(i) {
            Some(0xD800..=0xDBFF) => match escape(i + 6) {
                Some(0xDC00..=0xDFFF) => i += 12,
                _ => {
                    out.push_str(&text[last..i]);
                    out.push_str("\\ufffd");
                    i += 6;
                    last = i;
                }
            },
            Some(0xDC00..=0xDFFF) => {
                out.push_str(&text[last..i]);
                out.push_str("\\ufffd");
                i += 6;
                last = i;
            }
            // Any other escape (`\\`, `\"`, `\n`, a plain `\uXXXX`): stepped over whole.
            Some(_) => i += 6,
            None => i += 2,
        }
    }
    out.push_str(&text[last..]);
    out
}

impl Conn {
    fn send(&self, message: &Value) -> Result<(), String> {
        let mut bytes = serde_json::to_vec(message).map_err(|e| e.to_string())?;
        bytes.push(0);
        lock(&self.to_browser)
            .as_ref()
            .and_then(|tx| tx.send(bytes).ok())
            .ok_or_else(|| "the browser's pipe is closed".to_string())
    }

    /// A command whose answer nobody waits for.
    fn tell(&self, session: Option<&str>, method: &str, params: Value) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let _ = self.send(&message(id, session, method, params));
    }

    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Reply {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut calls = lock(&self.calls);
            if let Some(why) = &calls.closed {
                return Err(why.clone());
            }
            calls.pending.insert(id, (session.map(str::to_string), tx));
        }
        let _waiting = Waiting { conn: self, id };
        self.send(&message(id, session, method, params))?;
        rx.await
            .unwrap_or_else(|_| Err("the browser closed its DevTools pipe".into()))
    }

    /// Fails the commands sent to a page that went away.
    fn fail_session(&self, session: &str, why: &str) {
        let failed: Vec<_> = {
            let mut calls = lock(&self.calls);
            let ids: Vec<u64> = calls
                .pending
                .iter()
                .filter(|(_, (s, _))| s.as_deref() == Some(session))
                .map(|(id, _)| *id)
                .collect();
            ids.iter()
                .filter_map(|id| calls.pending.remove(id))
                .collect()
        };
        for (_, tx) in failed {
            let _ = tx.send(Err(why.to_string()));
        }
    }

    /// One message from the browser: an answer, or an event of a tab.
    fn dispatch(&self, message: Value) {
        if let Some(id) = message["id"].as_u64() {
            let waiting = lock(&self.calls).pending.remove(&id);
            if let Some((_, tx)) = waiting {
                let reply = match message.get("error") {
                    Some(e) => Err(e["message"].as_str().unwrap_or("error").to_string()),
                    None => Ok(message["result"].clone()),
                };
                let _ = tx.send(reply);
            }
            return;
        }
        let Some(method) = message["method"].as_str() else {
            return;
        };
        let session = message["sessionId"].as_str().unwrap_or_default();
        if method == "Target.detachedFromTarget" {
            let gone = message["params"]["sessionId"].as_str().unwrap_or_default();
            let tab = lock(&self.tabs).remove(gone);
            if let Some(tab) = tab {
                tab.end("the page was closed");
            }
            self.fail_session(gone, "the page was closed");
            return;
        }
        // A page's dialog would stop every script: dismissed (a leave-page prompt accepted).
        if method == "Page.javascriptDialogOpening" {
            let accept = message["params"]["type"] == "beforeunload";
            self.tell(
                Some(session),
                "Page.handleJavaScriptDialog",
                json!({"accept": accept}),
            );
            return;
        }
        let tab = lock(&self.tabs).get(session).cloned();
        if let Some(tab) = tab {
            let params = message.get("params").cloned().unwrap_or(Value::Null);
            tab.event(method, params);
            if let Some(why) = lock(&tab.state).gone.clone() {
                self.fail_session(session, &why);
            }
        }
    }

    /// The pipe closed: every waiting command fails, every tab is gone.
    fn close(&self, why: &str) {
        let pending = {
            let mut calls = lock(&self.calls);
            calls.closed.get_or_insert_with(|| why.to_string());
            std::mem::take(&mut calls.pending)
        };
        for (_, (_, tx)) in pending {
            let _ = tx.send(Err(why.to_string()));
        }
        for (_, tab) in lock(&self.tabs).drain() {
            tab.end(why);
        }
    }

    fn closed(&self) -> Option<String> {
        lock(&self.calls).closed.clone()
    }
}

/// One Chromium, started for a run.
pub struct Browser {
    conn: Arc<Conn>,
    child: Child,
    /// The browser's private dir (HOME, XDG dirs, profile): every process of this browser names
    /// it on its command line.
    home: tempfile::TempDir,
    pub program: PathBuf,
}

/// The Chromium to start: `program`, else the first of the usual names on PATH.
fn find_chromium(program: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = program {
        return Ok(p.to_path_buf());
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "no Chromium found on PATH (looked for {}): install chromium, or give --chromium PATH",
                names.join(", ")
            )
        })
}

/// A pipe whose both ends close on exec.
fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`, which are owned from here on.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(format!(
            "cannot make a pipe: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: both descriptors were just made by pipe2 and nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A copy of `fd` numbered 10 or above (close-on-exec), so that putting the child's ends on 3
/// and 4 cannot overwrite one with the other.
fn high(fd: &OwnedFd) -> Result<OwnedFd, String> {
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor, owned from here on.
    let copy = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if copy < 0 {
        return Err(format!(
            "cannot copy a pipe: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: `copy` was just made and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

impl Browser {
    /// Starts Chromium with `args` (a profile of its own is added) and waits up to `timeout` for
    /// its first answer.
    pub async fn start(
        program: Option<&Path>,
        args: &[String],
        timeout: Duration,
    ) -> Result<Browser, String> {
        let program = find_chromium(program)?;
        let home = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempdir()
            .map_err(|e| format!("cannot make a temp dir: {e}"))?;
        let (low_reads, we_write) = pipe()?;
        let (we_read, low_writes) = pipe()?;
        // Only the high copies stay open: the reader must see the end of the pipe when the
        // browser dies, so no other write end may be left here.
        let child_reads = high(&low_reads)?;
        let child_writes = high(&low_writes)?;
        drop((low_reads, low_writes));
        let (r, w) = (child_reads.as_raw_fd(), child_writes.as_raw_fd());
        let mut cmd = Command::new(&program);
        cmd.args(args)
            .arg("--remote-debugging-pipe")
            .arg(format!(
                "--user-data-dir={}",
                home.path().join("profile").display()
            ))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_DATA_HOME", home.path().join("data"));
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
            // SAFETY: only dup2, which is async-signal-safe, runs between fork and exec; the
            // sources are 10 or above, so neither copy overwrites the other.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::dup2(r, 3) < 0 || libc::dup2(w, 4) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = cmd.spawn().map_err(|e| {
            format!(
                "cannot start {}: {e} (install chromium, or give --chromium PATH)",
                program.display()
            )
        })?;
        // The child's ends are the child's alone.
        drop((child_reads, child_writes));
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let conn = Arc::new(Conn {
            to_browser: Mutex::new(Some(tx)),
            next: AtomicU64::new(1),
            calls: Mutex::new(Calls::default()),
            tabs: Mutex::new(HashMap::new()),
        });
        // From here every way out (an error below included) kills the browser by this drop.
        let mut browser = Browser {
            conn: Arc::clone(&conn),
            child,
            home,
            program,
        };
        let mut out = File::from(we_write);
        let writer = Arc::clone(&conn);
        std::thread::Builder::new()
            .name("chromium-writer".into())
            .spawn(move || {
                for bytes in rx {
                    if out.write_all(&bytes).is_err() {
                        writer.close("the browser stopped reading its DevTools pipe");
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let reader = Arc::clone(&conn);
        let input = File::from(we_read);
        std::thread::Builder::new()
            .name("chromium-reader".into())
            .spawn(move || {
                let mut input = BufReader::with_capacity(1 << 16, input);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match input.read_until(0, &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    if buf.last() == Some(&0) {
                        buf.pop();
                    }
                    let parsed = serde_json::from_slice::<Value>(&buf).or_else(|e| {
                        let text = std::str::from_utf8(&buf).map_err(|_| e)?;
                        serde_json::from_str(&mend_surrogates(text))
                    });
                    if let Ok(message) = parsed {
                        reader.dispatch(message);
                    }
                }
                reader.close("the browser closed its DevTools pipe (it exited or was killed)");
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        match tokio::time::timeout(timeout, browser.call(None, "Browser.getVersion", json!({})))
            .await
        {
            Ok(Ok(_)) => Ok(browser),
            Ok(Err(e)) => {
                let status = browser.child.try_wait().ok().flatten();
                Err(match status {
                    Some(s) => format!(
                        "{} exited before it answered ({s})",
                        browser.program.display()
                    ),
                    None => format!("{} did not answer: {e}", browser.program.display()),
                })
            }
            Err(_) => Err(format!(
                "{} did not answer within {}s",
                browser.program.display(),
                timeout.as_secs_f64()
            )),
        }
    }

    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Reply {
        self.conn.call(session, method, params).await
    }

    /// The browser still answers (its pipe is open).
    pub fn alive(&self) -> bool {
        self.conn.closed().is_none()
    }

    /// A new page in a new browser context: nothing of another scenario's is seen there. A
    /// browser that cannot give one within `limit` is taken for dead: the run's pool replaces
    /// it.
    pub async fn tab(self: &Arc<Browser>, limit: Duration) -> Result<Tab, String> {
        let why = match tokio::time::timeout(limit, self.open_tab()).await {
            Ok(Ok(tab)) => return Ok(tab),
            Ok(Err(e)) => format!("the browser could not open a page: {e}"),
            Err(_) => format!(
                "the browser did not open a page within {}s",
                limit.as_secs_f64()
            ),
        };
        self.conn.close(&why);
        Err(why)
    }

    async fn open_tab(self: &Arc<Browser>) -> Result<Tab, String> {
        let context = self
            .call(
                None,
                "Target.createBrowserContext",
                json!({"disposeOnDetach": true}),
            )
            .await?["browserContextId"]
            .as_str()
            .ok_or("the browser made no context")?
            .to_string();
        // Made before the page, so that the context goes on any way out.
        let mut tab = Tab {
            browser: Arc::clone(self),
            context,
            session: String::new(),
            shared: TabShared::new(String::new()),
            closed: false,
        };
        let target = self
            .call(
                None,
                "Target.createTarget",
                json!({"url": "about:blank", "browserContextId": tab.context}),
            )
            .await?["targetId"]
            .as_str()
            .ok_or("the browser made no page")?
            .to_string();
        tab.session = self
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
            )
            .await?["sessionId"]
            .as_str()
            .ok_or("the browser gave no session for the page")?
            .to_string();
        tab.shared = TabShared::new(target);
        lock(&self.conn.tabs).insert(tab.session.clone(), Arc::clone(&tab.shared));
        for (method, params) in [
            ("Inspector.enable", json!({})),
            ("Page.enable", json!({})),
            ("Page.setLifecycleEventsEnabled", json!({"enabled": true})),
            ("Network.enable", json!({})),
        ] {
            tab.call(method, params).await?;
        }
        Ok(tab)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The writer thread ends with its channel; the reader with the pipe.
        lock(&self.conn.to_browser).take();
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Chromium's crash handler leaves the process group on purpose; find it by our dir.
        kill_naming(self.home.path());
    }
}

/// The browsers of a run, one for each set of arguments (the network settings): started at the
/// first scenario that needs one, shared by the scenarios after it, and replaced if it died.
#[derive(Default)]
pub struct Pool {
    browsers: tokio::sync::Mutex<Vec<(Vec<String>, Arc<Browser>)>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pool")
    }
}

impl Pool {
    /// The run's browser for `args`, started if there is none yet; and whether it was started
    /// now.
    pub async fn browser(
        &self,
        program: Option<&Path>,
        args: &[String],
        timeout: Duration,
    ) -> Result<(Arc<Browser>, bool), String> {
        let mut all = self.browsers.lock().await;
        all.retain(|(_, b)| b.alive());
        if let Some((_, b)) = all.iter().find(|(a, _)| a == args) {
            return Ok((Arc::clone(b), false));
        }
        let b = Arc::new(Browser::start(program, args, timeout).await?);
        all.push((args.to_vec(), Arc::clone(&b)));
        Ok((b, true))
    }
}

/// Why a page did not load.
#[derive(Debug)]
pub enum LoadError {
    /// It did not finish loading within the time given.
    Timeout,
    /// The browser could not open it, or did not answer: Chromium's `net::ERR_…`, or the
    /// protocol's error.
    Failed(String),
}

/// Why a script gave no value.
enum Fault {
    /// The document it was meant for was gone before it ran: it can run in the next one.
    NeverRan(String),
    Failed(String),
}

impl Fault {
    /// The protocol's error, by whether the script had started: a stale object or context
    /// means it had not.
    fn of(e: String) -> Fault {
        let stale = [
            "Cannot find context with specified id",
            "Could not find object with given id",
            "Cannot find default execution context",
        ];
        match stale.iter().any(|s| e.contains(s)) {
            true => Fault::NeverRan(e),
            false => Fault::Failed(e),
        }
    }
}

/// A page of its own browser context, attached with a session of its own.
pub struct Tab {
    browser: Arc<Browser>,
    context: String,
    session: String,
    shared: Arc<TabShared>,
    closed: bool,
}

impl Tab {
    async fn call(&self, method: &str, params: Value) -> Reply {
        self.browser.call(Some(&self.session), method, params).await
    }

    /// Why the page or its browser is gone, if it is.
    pub fn gone(&self) -> Option<String> {
        lock(&self.shared.state)
            .gone
            .clone()
            .or_else(|| self.browser.conn.closed())
    }

    /// Waits until `done` holds of the tab's state, the page is gone, or `limit` passes; says
    /// whether `done` held.
    async fn wait(&self, limit: Duration, done: impl Fn(&TabState) -> bool) -> bool {
        let until = Instant::now() + limit;
        loop {
            let changed = self.shared.changed.notified();
            {
                let s = lock(&self.shared.state);
                if done(&s) {
                    return true;
                }
                if s.gone.is_some() {
                    return false;
                }
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, changed).await.is_err() {
                return false;
            }
        }
    }

    /// Where the main frame's navigations stand, to tell when the next one begins or ends.
    fn navigation(&self) -> (u64, Option<String>, bool) {
        navigation_of(&lock(&self.shared.state))
    }

    /// Opens `url` and waits until it has loaded, all within `limit`. An error answer loads as
    /// a page (as in a WebDriver session); a navigation the page replaced with its own is no
    /// failure either.
    pub async fn goto(&self, url: &str, limit: Duration) -> Result<(), LoadError> {
        let until = Instant::now() + limit;
        let stops = lock(&self.shared.state).stops;
        let nav = match tokio::time::timeout(limit, self.call("Page.navigate", json!({"url": url})))
            .await
        {
            Ok(answer) => answer.map_err(LoadError::Failed)?,
            Err(_) => return Err(LoadError::Timeout),
        };
        match nav["errorText"].as_str() {
            None | Some("net::ERR_HTTP_RESPONSE_CODE_FAILURE" | "net::ERR_ABORTED") => {}
            Some(e) => return Err(LoadError::Failed(e.to_string())),
        }
        let loader = nav["loaderId"].as_str().unwrap_or_default();
        // No loader and no error: a move within the same document, done already.
        if loader.is_empty() && nav["errorText"].is_null() {
            return Ok(());
        }
        let left = until.saturating_duration_since(Instant::now());
        let loaded = self
            .wait(left, |s| {
                s.loaded.iter().any(|l| l == loader) || (s.stops > stops && !s.loading)
            })
            .await;
        match self.gone() {
            Some(why) => Err(LoadError::Failed(why)),
            None if loaded => Ok(()),
            None => Err(LoadError::Timeout),
        }
    }

    /// Runs `script` as a function body (`arguments` are `args`; a promise it returns is waited
    /// for) once the page is not loading, as a WebDriver session does. Gives what it returned.
    pub async fn execute(&self, script: &str, args: Vec<Value>, limit: Duration) -> Reply {
        let until = Instant::now() + limit;
        let mut pause = Duration::from_millis(20);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let seen = self.navigation();
            match self.run_once(script, &args, left).await {
                // A document that went away before the script ran in it (a meta refresh or a
                // script's navigation that began after the wait): run it in the next one, once
                // that one has begun or ended, or after a pause that doubles each time (a
                // document can go before any frame event tells it).
                Err(Fault::NeverRan(_)) if Instant::now() < until => {
                    let left = until.saturating_duration_since(Instant::now());
                    // The pause grows only when no navigation ended it.
                    if !self
                        .wait(pause.min(left), |s| navigation_of(s) != seen)
                        .await
                    {
                        pause = (pause * 2).min(Duration::from_millis(500));
                    }
                }
                Err(Fault::NeverRan(e) | Fault::Failed(e)) => return Err(e),
                Ok(v) => return Ok(v),
            }
        }
    }

    async fn run_once(
        &self,
        script: &str,
        args: &[Value],
        limit: Duration,
    ) -> Result<Value, Fault> {
        self.wait(limit, |s| !s.loading).await;
        if let Some(why) = self.gone() {
            return Err(Fault::Failed(why));
        }
        // The arguments go as values, never as source text: the page sees no password in a
        // script, and a key like `__proto__` stays a key.
        let global = self
            .call(
                "Runtime.evaluate",
                json!({"expression": "globalThis", "objectGroup": "authchain"}),
            )
            .await
            .map_err(Fault::of)?;
        let Some(object) = global["result"]["objectId"].as_str() else {
            return Err(Fault::NeverRan(
                "the page has no global object to run a script on".into(),
            ));
        };
        let arguments: Vec<Value> = args.iter().map(|v| json!({"value": v})).collect();
        let answer = self
            .call(
                "Runtime.callFunctionOn",
                json!({"functionDeclaration": format!("function() {{\n{script}\n}}"),
                       "objectId": object, "arguments": arguments, "awaitPromise": true,
                       "returnByValue": true, "userGesture": true}),
            )
            .await;
        self.browser.conn.tell(
            Some(&self.session),
            "Runtime.releaseObjectGroup",
            json!({"objectGroup": "authchain"}),
        );
        let answer = answer.map_err(Fault::of)?;
        if let Some(e) = answer.get("exceptionDetails") {
            let text = e["exception"]["description"]
                .as_str()
                .or(e["text"].as_str())
                .unwrap_or("the script threw");
            return Err(Fault::Failed(
                text.lines().next().unwrap_or_default().to_string(),
            ));
        }
        Ok(answer["result"]["value"].clone())
    }

    /// The URL the page is at (the one it tried, for a page that failed to load).
    pub async fn current_url(&self) -> Option<url::Url> {
        let history = self
            .call("Page.getNavigationHistory", json!({}))
            .await
            .ok()?;
        let i = history["currentIndex"].as_u64()? as usize;
        url::Url::parse(history["entries"][i]["url"].as_str()?).ok()
    }

    /// Every cookie of the page's browser context, in the protocol's form.
    pub async fn cookies(&self) -> Result<Vec<Value>, String> {
        let all = self
            .browser
            .call(
                None,
                "Storage.getCookies",
                json!({"browserContextId": self.context}),
            )
            .await?;
        Ok(all["cookies"].as_array().cloned().unwrap_or_default())
    }

    /// The network events since the last read.
    pub fn read_log(&self) -> Result<Vec<(String, Value)>, String> {
        let mut s = lock(&self.shared.state);
        let log = std::mem::take(&mut s.log);
        match (&s.gone, log.is_empty()) {
            (Some(why), true) => Err(why.clone()),
            _ => Ok(log),
        }
    }

    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        use base64::Engine;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await?;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| e.to_string())
    }

    /// The page's HTML, as it is now (a page that is still loading is not waited for long).
    pub async fn source(&self) -> Result<String, String> {
        let html = self
            .execute(
                "return document.documentElement ? document.documentElement.outerHTML : '';",
                Vec::new(),
                Duration::from_secs(2),
            )
            .await?;
        Ok(html.as_str().unwrap_or_default().to_string())
    }

    /// Closes the page and its context.
    pub async fn close(mut self) {
        self.closed = true;
        let dispose = self.browser.call(
            None,
            "Target.disposeBrowserContext",
            json!({"browserContextId": self.context}),
        );
        let _ = tokio::time::timeout(Duration::from_secs(5), dispose).await;
        lock(&self.browser.conn.tabs).remove(&self.session);
    }
}

impl Drop for Tab {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        // Dropped before `close` (an interrupted scenario, while others go on): the context
        // goes, unanswered.
        self.browser.conn.tell(
            None,
            "Target.disposeBrowserContext",
            json!({"browserContextId": self.context}),
        );
        lock(&self.browser.conn.tabs).remove(&self.session);
    }
}

#[cfg(test)]
mod tests {
    use super::mend_surrogates;

    #[test]
    fn lone_surrogates_become_replacement_characters_and_nothing_else_changes() {
        for (sent, mended) in [
            (r#"{"a":"x\ud800y"}"#, r#"{"a":"x\ufffdy"}"#),
            (r#"{"a":"\udc00"}"#, r#"{"a":"\ufffd"}"#),
            (r#"{"a":"\ud83d\ude00"}"#, r#"{"a":"\ud83d\ude00"}"#),
            (r#"{"a":"\\ud800"}"#, r#"{"a":"\\ud800"}"#),
            (r#"{"a":"\\\ud800"}"#, r#"{"a":"\\\ufffd"}"#),
            (r#"{"a":"\ud800\u0041"}"#, r#"{"a":"\ufffd\u0041"}"#),
            (r#"{"a":"é \" \n"}"#, r#"{"a":"é \" \n"}"#),
            (r#"{"a":"\ud800"#, r#"{"a":"\ufffd"#),
        ] {
            assert_eq!(mend_surrogates(sent), mended, "{sent}");
        }
        let v: serde_json::Value = serde_json::from_str(&mend_surrogates(r#"{"a":"x\udbffy"}"#))
            .expect("parses once mended");
        assert_eq!(v["a"], "x\u{fffd}y");
    }
}
