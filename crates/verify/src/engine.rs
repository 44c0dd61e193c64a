//! The Docker engine the worker runs the checks on (`DOCKER_HOST`), and whether it is a sandbox.
//!
//! The submitted files are code from strangers. The worker's engine must run every container
//! (`docker run`, the RUN steps of builds, Compose services) in a sandbox: its *default* runtime
//! must be gVisor's `runsc` or a Kata runtime (scripts/verify-engine starts such an engine).

use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

/// Default runtimes that run each container in a sandbox of its own.
const SANDBOXES: &[&str] = &["runsc", "kata", "kata-runtime", "kata-qemu", "kata-fc"];

/// The engine's default runtime and whether it is a sandbox.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The default runtime's name (`runc`, `runsc`…).
    pub runtime: String,
    /// Whether that runtime is a sandbox.
    pub sandboxed: bool,
}

/// Asks the engine (`docker info`) for its default runtime.
pub fn probe() -> anyhow::Result<Engine> {
    let out = Command::new("docker")
        .args(["info", "--format", "{{json .}}"])
        .output()
        .context("running `docker info` (is the docker CLI installed?)")?;
    if !out.status.success() {
        bail!(
            "the Docker engine does not answer ({}): start the verification engine \
             (scripts/verify-engine start) and point DOCKER_HOST at it",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let info: Value =
        serde_json::from_slice(&out.stdout).context("`docker info` printed no JSON")?;
    let runtime = info["DefaultRuntime"].as_str().unwrap_or("").to_owned();
    // The name is the engine's label for a runtime: check the program behind it too, so a runc
    // registered as "runsc" does not pass.
    let path = info["Runtimes"][&runtime]["path"]
        .as_str()
        .unwrap_or(&runtime)
        .to_owned();
    let program = path.rsplit('/').next().unwrap_or(&path);
    let sandboxed = SANDBOXES.contains(&runtime.as_str()) && SANDBOXES.contains(&program);
    Ok(Engine { runtime, sandboxed })
}
