//! Headless Chromium driven through chromedriver, one pair per test.
//!
//! chromedriver runs on a free loopback port in a process group of its own; Chromium gets the
//! flags this machine needs (docs/TOOLCHAIN.md: as root, no sandbox, no background networking on a
//! closed network) and a fresh profile. [`with_browser`] always ends the session and kills the
//! group, also when the test fails or panics.

use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder};
use futures_util::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Chromium flags for headless runs on these machines.
pub const CHROMIUM_FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1280,900",
];

/// How long chromedriver may take to answer after it starts.
const DRIVER_START: Duration = Duration::from_secs(20);

/// A WebDriver session in a headless Chromium, and the chromedriver behind it.
pub struct Browser {
    /// The WebDriver client: navigate, find elements, run scripts.
    pub client: Client,
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver (`$CHROMEDRIVER` or /usr/bin/chromedriver) and a Chromium session
    /// (`$CHROMIUM` or /usr/bin/chromium).
    pub async fn start() -> Result<Browser> {
        let driver = Driver::start()?;
        let profile = tempfile::tempdir().context("creating a Chromium profile folder")?;
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({ "binary": tool("CHROMIUM", "/usr/bin/chromium"), "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .with_context(|| {
                format!(
                    "starting a Chromium session through chromedriver (log: {})",
                    driver.log.display()
                )
            })?;
        Ok(Browser {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Ends the session (Chromium quits), then stops chromedriver.
    pub async fn close(self) {
        let _ = self.client.close().await;
        drop(self.driver);
    }
}

/// Runs `test` with a fresh browser and always cleans up: the session is closed and chromedriver
/// killed whether `test` returns, fails or panics (the panic is then resumed).
pub async fn with_browser<F, Fut>(test: F) -> Result<()>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let browser = Browser::start().await?;
    let outcome = AssertUnwindSafe(test(browser.client.clone()))
        .catch_unwind()
        .await;
    browser.close().await;
    match outcome {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A chromedriver process, killed with its whole process group when dropped.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Driver {
    fn start() -> Result<Driver> {
        let port = free_port()?;
        let log_dir = tempfile::tempdir().context("creating a folder for the chromedriver log")?;
        let log = log_dir.path().join("chromedriver.log");
        let binary = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let mut command = Command::new(&binary);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own group, so that Chromium and its helpers go with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().with_context(|| {
            format!(
                "starting {binary}: install chromium-driver (scripts/setup) or set CHROMEDRIVER"
            )
        })?;
        let driver = Driver {
            child,
            port,
            log,
            _log_dir: log_dir,
        };
        driver.wait_until_listening()?;
        Ok(driver)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_until_listening(&self) -> Result<()> {
        let deadline = Instant::now() + DRIVER_START;
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "chromedriver did not listen on port {} within {:?} (log: {})",
            self.port,
            DRIVER_START,
            self.log.display()
        )
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn tool(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_owned())
}
