//! The output of the build's playbook step, kept in sre-check's cache folder under the image
//! layer the step made. When Docker later takes that step from its cache, the build prints none of
//! the playbook's output; the build check then reads the kept output, since a verdict must rest on
//! the playbook's recap (an ignored failure shows only there), never on the cache hit alone.

use std::path::PathBuf;

use super::ansible_output;
use crate::cache;

/// The folder of kept outputs.
fn dir() -> anyhow::Result<PathBuf> {
    let dir = cache::dir()?.join("iac-builds");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Keeps the output of a build that ran the playbook step. Best effort: without it a later
/// cached build only runs again without the cache.
pub fn remember(output: &str) {
    if ansible_output::step_cached(output) {
        return;
    }
    let Some(layer) = ansible_output::playbook_layer(output) else {
        return;
    };
    if let Ok(dir) = dir() {
        let path = dir.join(format!("{layer}.log"));
        let tmp = dir.join(format!("{layer}.log.{}", std::process::id()));
        if std::fs::write(&tmp, output).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

/// The kept output of the build that made the cached playbook layer named in `output`, when it
/// holds the playbook's recap (a cut file is as good as none).
pub fn recall(output: &str) -> Option<String> {
    let layer = ansible_output::playbook_layer(output)?;
    let kept = std::fs::read_to_string(dir().ok()?.join(format!("{layer}.log"))).ok()?;
    ansible_output::summarize(&kept).map(|_| kept)
}
