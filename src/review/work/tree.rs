//! A submission's files as a tree of folders, each file a link to it with its kind (new or
//! changed) and size. Names are text nodes; paths go into addresses only percent-encoded.

use leptos::prelude::*;

use super::super::nav::{WorkQuery, work_href};
use super::data::SubmittedFile;

/// A folder: its name, its folders and the indexes of its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folder {
    /// Its name (empty for the top).
    pub name: String,
    /// Folders in it, by name.
    pub folders: Vec<Folder>,
    /// Its files, as indexes into the list, in list order.
    pub files: Vec<usize>,
}

impl Folder {
    /// The tree of `paths` (in any order; folders are sorted by name).
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a str>) -> Folder {
        let mut top = Folder::default();
        for (index, path) in paths.into_iter().enumerate() {
            let mut folder = &mut top;
            let mut parts: Vec<&str> = path.split('/').collect();
            parts.pop();
            for part in parts {
                let at = match folder
                    .folders
                    .binary_search_by(|f| f.name.as_str().cmp(part))
                {
                    Ok(at) => at,
                    Err(at) => {
                        folder.folders.insert(
                            at,
                            Folder {
                                name: part.to_owned(),
                                ..Folder::default()
                            },
                        );
                        at
                    }
                };
                folder = &mut folder.folders[at];
            }
            folder.files.push(index);
        }
        top
    }
}

/// The last part of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `812 B`, `4.2 KB`, `1.3 MB`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        0..1000 => format!("{bytes} B"),
        1000..1_000_000 => format!("{:.1} KB", bytes as f64 / 1000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

/// The tree's list, with the selected file marked.
pub fn tree_view(
    candidate: &str,
    submission: &str,
    files: &[SubmittedFile],
    selected: Option<&str>,
) -> impl IntoView + use<> {
    let top = Folder::of(files.iter().map(|f| f.path.as_str()));
    let link = |file: &SubmittedFile| {
        work_href(
            candidate,
            &WorkQuery {
                submission: Some(submission.to_owned()),
                file: Some(file.path.clone()),
                line: None,
            },
        )
    };
    view! { <ul class="file-tree" role="tree">{folder_items(&top, files, selected, &link)}</ul> }
}

fn folder_items(
    folder: &Folder,
    files: &[SubmittedFile],
    selected: Option<&str>,
    link: &dyn Fn(&SubmittedFile) -> String,
) -> AnyView {
    let folders = folder
        .folders
        .iter()
        .map(|sub| {
            view! {
                <li class="folder" role="treeitem" aria-expanded="true">
                    <span class="folder-name">{format!("{}/", sub.name)}</span>
                    <ul role="group">{folder_items(sub, files, selected, link)}</ul>
                </li>
            }
        })
        .collect_view();
    let items = folder
        .files
        .iter()
        .map(|&index| {
            let file = &files[index];
            let current = (selected == Some(file.path.as_str())).then_some("page");
            view! {
                <li class=format!("file {}", file.kind) role="treeitem" data-path=file.path.clone()
                    data-kind=file.kind.clone()>
                    <a href=link(file) aria-current=current>{file_name(&file.path).to_owned()}</a>
                    " " <span class=format!("kind {}", file.kind)>{file.kind.clone()}</span>
                    " " <span class="size">{size_text(file.size)}</span>
                </li>
            }
        })
        .collect_view();
    view! { {folders} {items} }.into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_make_a_tree_of_sorted_folders() {
        let paths = [
            "b.txt",
            "z/a.yml",
            "infra/roles/x/main.yml",
            "infra/playbook.yml",
            "a/c",
        ];
        let top = Folder::of(paths);
        assert_eq!(top.files, [0]);
        let names: Vec<&str> = top.folders.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "infra", "z"]);
        let infra = &top.folders[1];
        assert_eq!(infra.files, [3]);
        assert_eq!(infra.folders[0].name, "roles");
        assert_eq!(infra.folders[0].folders[0].files, [2]);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(4200), "4.2 KB");
        assert_eq!(size_text(1_300_000), "1.3 MB");
        assert_eq!(file_name("a/b/c.yml"), "c.yml");
    }
}
