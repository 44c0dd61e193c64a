//! `cargo xtask`: project tasks (content rendering, content generation, benchmarks).

fn main() -> anyhow::Result<()> {
    anyhow::bail!("no task yet: see crates/xtask")
}
