//! A plain static file server for a folder, on a free loopback port: what the site gets from
//! any static host (no SPA fallback, no API).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use tokio::sync::oneshot;
use tower_http::services::ServeDir;

/// A running server; stops when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `dir` at `http://127.0.0.1:<free port>/`, from a thread of its own so that sync and
    /// async tests can both use it.
    pub fn start(dir: &Path) -> Result<StaticServer> {
        let listener =
            TcpListener::bind("127.0.0.1:0").context("binding a loopback port for the server")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let service = ServeDir::new(dir);
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the server's runtime")?;
        let thread = std::thread::Builder::new()
            .name(format!("static-server-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let app =
                        axum::Router::new()
                            .fallback_service(service)
                            .layer(axum::middleware::from_fn(
                            move |request: axum::extract::Request, next: axum::middleware::Next| {
                                counted.fetch_add(1, Ordering::SeqCst);
                                next.run(request)
                            },
                        ));
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .context("starting the server thread")?;
        Ok(StaticServer {
            addr,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// How many requests it has answered (any path, any method), e.g. to show that a page sent
    /// nothing to it.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
