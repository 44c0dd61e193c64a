//! `cargo xtask render`: the site's build step.
//!
//! content/ → validated manifest → (manifest JSON, starting texts JSON, HTML fragments, the
//! starter kit archive, published files) → OUT/. Planning is separate from writing, so what gets
//! written is decided by the content alone.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sre_archive::{Timestamp, ZipWriter};
use sre_markdown::LinkMap;
use sre_model::{Manifest, site};

/// Everything the site needs from the content, ready to write.
#[derive(Debug, Default, PartialEq)]
pub struct Rendered {
    /// Generated files (manifest JSON, HTML fragments), by path relative to OUT.
    pub generated: BTreeMap<String, String>,
    /// Generated binary files (the starter kit archive), by path relative to OUT.
    pub archives: BTreeMap<String, Vec<u8>>,
    /// Content files to publish as they are, by content path.
    pub published: BTreeSet<String>,
    /// Problems that do not stop the build (a link to a file that is not in content/).
    pub warnings: Vec<String>,
}

/// Renders `content` into `out` (see the `render` task's help).
pub fn render(content: &Path, out: &Path) -> Result<()> {
    let rendered = plan(content)?;
    for warning in &rendered.warnings {
        eprintln!("warning: {warning}");
    }
    write(&rendered, content, out)?;
    eprintln!(
        "xtask render: {} generated files, {} published files in {}",
        rendered.generated.len(),
        rendered.published.len(),
        out.display()
    );
    Ok(())
}

/// The manifest as the site publishes it: without the answers' `signals` (automatic aids) and the
/// criteria's anchored descriptors (`levels`), which are reviewer material, not part of what
/// candidates download (the server embeds them for the reviewer view).
fn published(manifest: &Manifest) -> Manifest {
    // The candidate-facing aids too: only `sre-check run` shows them.
    let mut published = manifest.for_candidates();
    for slot in published.topics.iter_mut().flat_map(|t| &mut t.answers) {
        slot.signals.clear();
    }
    published
}

/// Reads and validates the content and decides every output.
pub fn plan(content: &Path) -> Result<Rendered> {
    let manifest_path = content.join("challenge.toml");
    let text = fs::read_to_string(&manifest_path).with_context(|| {
        format!(
            "cannot read {}: pass --content with the folder that holds challenge.toml",
            manifest_path.display()
        )
    })?;
    let manifest = Manifest::from_toml(&text)
        .with_context(|| format!("{} is not a valid manifest", manifest_path.display()))?;
    manifest
        .check_files(|path| content.join(path).is_file())
        .with_context(|| {
            format!(
                "{}: add the file or fix the path in the manifest",
                manifest_path.display()
            )
        })?;

    let links = link_map(&manifest);
    let mut markdown = MarkdownFiles {
        content,
        read: BTreeMap::new(),
    };
    let mut rendered = Rendered::default();

    let readme = &manifest.challenge.readme;
    let html = sre_markdown::render(markdown.get(readme)?, readme, &links);
    rendered
        .generated
        .insert(site::README_FRAGMENT.to_owned(), html);

    for topic in &manifest.topics {
        let file = topic.readme_file();
        let source = markdown.get(file)?;
        let html = match topic.readme_section() {
            None => sre_markdown::render(source, file, &links),
            Some(id) => sre_markdown::render_section(source, file, id, &links).with_context(|| {
                let ids: Vec<String> = sre_markdown::headings(source)
                    .into_iter()
                    .map(|h| h.id)
                    .collect();
                format!(
                    "topic {}: readme `{}` names a section {file} does not have; its heading ids are: {}",
                    topic.id,
                    topic.readme,
                    ids.join(", ")
                )
            })?,
        };
        rendered
            .generated
            .insert(site::topic_fragment(&topic.id), html);
    }

    let json =
        serde_json::to_string(&published(&manifest)).context("serializing the manifest to JSON")?;
    rendered
        .generated
        .insert(site::MANIFEST_JSON.to_owned(), json);
    rendered.generated.insert(
        site::STARTING_TEXTS_JSON.to_owned(),
        starting_texts(&manifest, content)?,
    );
    rendered.archives.insert(
        site::starter_kit(&manifest.challenge.version),
        starter_kit(&manifest, content)?,
    );

    rendered
        .published
        .extend(manifest.starter_files().into_iter().map(str::to_owned));
    for (document, source) in &markdown.read {
        rendered.published.insert(document.clone());
        for target in sre_markdown::referenced_files(source, document) {
            if content.join(&target).is_file() {
                rendered.published.insert(target);
            } else {
                rendered.warnings.push(format!(
                    "{document} links to {target}, which is not in {}",
                    content.display()
                ));
            }
        }
    }
    Ok(rendered)
}

/// The text each answer editor starts with (see [`site::STARTING_TEXTS_JSON`]), as JSON.
fn starting_texts(manifest: &Manifest, content: &Path) -> Result<String> {
    let handed_out = manifest.starter_files();
    let mut texts = BTreeMap::new();
    for (_, slot) in manifest.slots() {
        let file = slot.canonical_file();
        let text = if handed_out.contains(&file) {
            let path = content.join(file);
            fs::read_to_string(&path).with_context(|| {
                format!(
                    "answer slot {}: cannot read its handed-out file {} as UTF-8 text",
                    slot.id,
                    path.display()
                )
            })?
        } else {
            slot.template.clone().unwrap_or_default()
        };
        texts.insert(slot.id.as_str(), text);
    }
    serde_json::to_string(&texts).context("serializing the starting texts to JSON")
}

/// When every file of the starter kit says it was last changed: fixed, so that the archive is
/// the same bytes on every build.
const KIT_TIME: Timestamp = Timestamp {
    year: 2026,
    month: 1,
    day: 1,
    hour: 0,
    minute: 0,
    second: 0,
};

/// The starter kit: every handed-out file under `sre-challenge/`, as `sre-check init` lays it out.
fn starter_kit(manifest: &Manifest, content: &Path) -> Result<Vec<u8>> {
    let mut zip = ZipWriter::new(KIT_TIME);
    for path in manifest.starter_files() {
        let full = content.join(path);
        let bytes = fs::read(&full).with_context(|| format!("cannot read {}", full.display()))?;
        zip.add(&format!("{}/{path}", site::STARTER_KIT_FOLDER), &bytes)
            .context("building the starter kit")?;
    }
    zip.finish().context("building the starter kit")
}

/// Where the site shows each markdown document: the main README on the home page, each topic's
/// readme (or readme section) on its topic page; every other file under `content/`. Images link
/// to themselves, which the site turns into a zoomed view.
fn link_map(manifest: &Manifest) -> LinkMap {
    let files_prefix = format!("{}/", site::FILES_DIR);
    let home = LinkMap::new(&files_prefix)
        .with_image_links()
        .with_page(&manifest.challenge.readme, site::HOME_ROUTE);
    manifest.topics.iter().fold(home, |links, topic| {
        links.with_page(&topic.readme, &site::topic_route(&topic.id))
    })
}

/// Markdown files read so far, each once.
struct MarkdownFiles<'c> {
    content: &'c Path,
    read: BTreeMap<String, String>,
}

impl MarkdownFiles<'_> {
    fn get(&mut self, path: &str) -> Result<&str> {
        if !self.read.contains_key(path) {
            let full = self.content.join(path);
            let text = fs::read_to_string(&full)
                .with_context(|| format!("cannot read {} as UTF-8 text", full.display()))?;
            self.read.insert(path.to_owned(), text);
        }
        Ok(self.read.get(path).map_or("", String::as_str))
    }
}

/// Replaces OUT/challenge and OUT/content with the rendered output.
fn write(rendered: &Rendered, content: &Path, out: &Path) -> Result<()> {
    let targets = [out.join(site::RENDERED_DIR), out.join(site::FILES_DIR)];
    refuse_to_replace_content(content, &targets)?;
    for dir in &targets {
        if dir.exists() {
            fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove the old {}", dir.display()))?;
        }
    }
    for (path, text) in &rendered.generated {
        write_file(&out.join(path), text.as_bytes())?;
    }
    for (path, bytes) in &rendered.archives {
        write_file(&out.join(path), bytes)?;
    }
    for path in &rendered.published {
        let from = content.join(path);
        let bytes = fs::read(&from).with_context(|| format!("cannot read {}", from.display()))?;
        write_file(&out.join(site::FILES_DIR).join(path), &bytes)?;
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// `--out .` from the repository root would name `./content` itself: never delete the source.
fn refuse_to_replace_content(content: &Path, targets: &[PathBuf]) -> Result<()> {
    let content = content
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", content.display()))?;
    for target in targets {
        if let Ok(target) = target.canonicalize()
            && content.starts_with(&target)
        {
            bail!(
                "refusing to replace {}: it holds the content folder; choose another --out",
                target.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_content() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content")
    }

    /// A copy of the real content folder that a test may change.
    /// A copy of the whole content tree, topic folders included, that a test may change.
    fn content_copy() -> Result<tempfile::TempDir> {
        let dir = tempfile::tempdir()?;
        copy_tree(&real_content(), dir.path())?;
        Ok(dir)
    }

    fn copy_tree(from: &Path, to: &Path) -> Result<()> {
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                fs::create_dir(&target)?;
                copy_tree(&entry.path(), &target)?;
            } else {
                fs::copy(entry.path(), target)?;
            }
        }
        Ok(())
    }

    #[test]
    fn renders_the_real_content() -> Result<()> {
        let rendered = plan(&real_content())?;
        let readme = &rendered.generated[site::README_FRAGMENT];
        assert!(readme.contains("<h2 id=\"set-up\">Set up</h2>"), "{readme}");
        assert!(readme.contains("<h2 id=\"i-infrastructure-as-code\">"));
        let leadership = &rendered.generated["challenge/topics/leadership.html"];
        assert!(leadership.starts_with("<h2 id=\"v-technical-leadership\">"));
        assert!(!leadership.contains("VI. Feedback"), "{leadership}");
        let manifest: Manifest = serde_json::from_str(&rendered.generated[site::MANIFEST_JSON])?;
        assert_eq!(manifest.topics.len(), 6);
        assert_eq!(rendered.generated.len(), 1 + 6 + 2);
        assert!(rendered.published.contains("README.md"));
        assert!(rendered.published.contains("feedback.txt"));

        let texts: BTreeMap<String, String> =
            serde_json::from_str(&rendered.generated[site::STARTING_TEXTS_JSON])?;
        let slots: Vec<&str> = manifest.slots().map(|(_, s)| s.id.as_str()).collect();
        assert_eq!(texts.keys().collect::<Vec<_>>().len(), slots.len());
        // Handed out: the file as it is; not handed out: the template.
        assert_eq!(
            texts["feedback"],
            fs::read_to_string(real_content().join("feedback.txt"))?
        );
        let leadership = manifest.slot("leadership").context("slot")?.1;
        assert_eq!(Some(&texts["leadership"]), leadership.template.as_ref());
        Ok(())
    }

    /// A seventh topic with only a written answer (tests/seventh-topic) gets its page, its readme
    /// fragment and its answer slot from the manifest alone: no code names it.
    #[test]
    fn a_seventh_written_topic_gets_a_page_and_an_answer_slot() -> Result<()> {
        let content = content_copy()?;
        let extra = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/seventh-topic");
        let manifest_path = content.path().join("challenge.toml");
        let toml = fs::read_to_string(&manifest_path)?;
        let topic = fs::read_to_string(extra.join("topic.toml"))?;
        fs::write(&manifest_path, format!("{toml}\n{topic}"))?;
        fs::create_dir(content.path().join("oncall"))?;
        fs::copy(
            extra.join("README.md"),
            content.path().join("oncall/README.md"),
        )?;

        let out = tempfile::tempdir()?;
        render(content.path(), out.path())?;
        fs::write(
            out.path().join("index.html"),
            "<!doctype html><html><head><title>x</title></head><body></body></html>",
        )?;
        // No sre-check builds: the download page says none are published.
        crate::pages::pages(out.path(), &out.path().join("no-builds"))?;

        let fragment = fs::read_to_string(out.path().join("challenge/topics/oncall.html"))?;
        assert!(fragment.contains("VII. On-call"), "{fragment}");
        let page = fs::read_to_string(out.path().join("topic/oncall/index.html"))?;
        assert!(
            page.contains("<title>VII. On-call — SRE Challenge</title>"),
            "{page}"
        );
        assert!(page.contains("rotation of a team of five"), "{page}");
        let published: Manifest =
            serde_json::from_str(&fs::read_to_string(out.path().join(site::MANIFEST_JSON))?)?;
        let (topic, slot) = published
            .slot("oncall")
            .context("the seventh topic's slot")?;
        assert_eq!((topic.number, topic.roman().as_str()), (7, "VII"));
        assert_eq!(slot.canonical_file(), "oncall/rotation.md");
        assert!(
            slot.signals.is_empty(),
            "reviewer hints stay out of what the site publishes"
        );
        assert!(
            published
                .topics
                .iter()
                .flat_map(|t| &t.criteria)
                .all(|c| c.levels.is_empty()),
            "so do the rubric's descriptors"
        );
        let texts: BTreeMap<String, String> = serde_json::from_str(&fs::read_to_string(
            out.path().join(site::STARTING_TEXTS_JSON),
        )?)?;
        assert!(
            texts["oncall"].starts_with("# On-call rotation"),
            "{texts:?}"
        );
        Ok(())
    }

    #[test]
    fn the_starter_kit_holds_every_handed_out_file_under_one_folder() -> Result<()> {
        let rendered = plan(&real_content())?;
        let manifest =
            Manifest::from_toml(&fs::read_to_string(real_content().join("challenge.toml"))?)?;
        let kit = &rendered.archives[&site::starter_kit(&manifest.challenge.version)];
        // The end of central directory record: entry count at offset 10.
        let end = kit.len() - 22;
        assert_eq!(&kit[end..end + 4], b"PK\x05\x06");
        let entries = u16::from_le_bytes([kit[end + 10], kit[end + 11]]);
        assert_eq!(usize::from(entries), manifest.starter_files().len());
        for path in manifest.starter_files() {
            let name = format!("sre-challenge/{path}");
            assert!(
                kit.windows(name.len()).any(|w| w == name.as_bytes()),
                "{name} is not in the starter kit"
            );
        }
        Ok(())
    }

    #[test]
    fn output_is_deterministic_and_replaces_the_previous_one() -> Result<()> {
        let out = tempfile::tempdir()?;
        render(&real_content(), out.path())?;
        let first = snapshot(out.path())?;
        fs::write(out.path().join("content/stale.txt"), "old")?;
        render(&real_content(), out.path())?;
        assert_eq!(snapshot(out.path())?, first);
        assert!(first.contains_key("challenge/manifest.json"));
        assert!(first.contains_key("content/feedback.txt"));
        Ok(())
    }

    #[test]
    fn images_in_a_readme_are_published_where_the_html_points() -> Result<()> {
        let content = content_copy()?;
        let readme = content.path().join("README.md");
        let text = fs::read_to_string(&readme)?;
        fs::write(
            &readme,
            format!("{text}\n![A graph](graphs/cpu.png) [gone](missing.txt)\n"),
        )?;
        fs::create_dir(content.path().join("graphs"))?;
        fs::write(content.path().join("graphs/cpu.png"), b"png")?;
        let out = tempfile::tempdir()?;
        let rendered = plan(content.path())?;
        write(&rendered, content.path(), out.path())?;
        let html = fs::read_to_string(out.path().join(site::README_FRAGMENT))?;
        assert!(html.contains(
            "<a href=\"content/graphs/cpu.png\"><img src=\"content/graphs/cpu.png\" alt=\"A graph\" /></a>"
        ));
        assert_eq!(fs::read(out.path().join("content/graphs/cpu.png"))?, b"png");
        assert!(
            rendered
                .warnings
                .iter()
                .any(|w| w.starts_with("README.md links to missing.txt")),
            "{:?}",
            rendered.warnings
        );
        Ok(())
    }

    #[test]
    fn a_missing_file_is_named() -> Result<()> {
        let content = content_copy()?;
        fs::remove_file(content.path().join("feedback.txt"))?;
        let err = plan(content.path()).err().context("plan should fail")?;
        let msg = format!("{err:#}");
        assert!(
            msg.contains("feedback.txt is named by the manifest"),
            "{msg}"
        );
        Ok(())
    }

    #[test]
    fn a_missing_section_lists_the_headings() -> Result<()> {
        let content = content_copy()?;
        let path = content.path().join("README.md");
        let text = fs::read_to_string(&path)?.replace("## VI. Feedback", "## VI. Comments");
        fs::write(&path, text)?;
        let msg = format!(
            "{:#}",
            plan(content.path()).err().context("plan should fail")?
        );
        assert!(msg.contains("topic feedback"), "{msg}");
        assert!(msg.contains("vi-comments"), "{msg}");
        Ok(())
    }

    #[test]
    fn never_replaces_the_content_folder() -> Result<()> {
        let root = tempfile::tempdir()?;
        let content = root.path().join("content");
        fs::create_dir(&content)?;
        let err = write(&Rendered::default(), &content, root.path())
            .err()
            .context("write should refuse")?;
        assert!(err.to_string().contains("refusing"), "{err}");
        assert!(content.exists());
        Ok(())
    }

    fn snapshot(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
        let mut files = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d)? {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(dir)?.to_string_lossy().into_owned();
                    files.insert(rel, fs::read(&path)?);
                }
            }
        }
        Ok(files)
    }
}
