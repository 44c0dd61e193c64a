//! Finding the candidate's files by what they are, wherever they put them under monitoring/.

use std::path::{Path, PathBuf};

/// Files under `dir` whose name ends with one of `extensions` (hidden folders skipped), sorted.
pub fn with_extensions(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') {
                    pending.push(path);
                }
            } else if extensions.iter().any(|e| name.ends_with(e)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_found_recursively_without_hidden_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        for file in ["a/b/x.yml", "a/y.yaml", "z.json", ".git/w.yml"] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        assert_eq!(
            with_extensions(dir.path(), &[".yml", ".yaml"]),
            vec![dir.path().join("a/b/x.yml"), dir.path().join("a/y.yaml")]
        );
    }
}
