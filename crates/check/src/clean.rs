//! `sre-check clean`: removes what sre-check created and a killed run left behind.

use crate::docker::{self, LABEL_MANAGED, Removed};

/// Removes every container, network, volume and run image labelled as sre-check's; with
/// `tool_images`, also the cached images of the checker's own tools (they are rebuilt on demand).
pub fn clean(tool_images: bool) -> anyhow::Result<Removed> {
    docker::probe()?;
    Ok(docker::sweep(LABEL_MANAGED, tool_images))
}
