//! The build phase: the candidate's script in a container of the release, then `dpkg-deb` on the
//! package it wrote.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::docker::{RunSpec, tail};

use super::super::exporter;
use super::super::images::BUILD_TOOLS;
use super::{BUILD_TIMEOUT, Deb, Outcome, Plan, QUICK, Release, unit_paths};

impl Plan<'_> {
    /// The build check on one release: run the script, find and inspect its package.
    pub(super) fn build(&self, r: &mut Release, note: &(dyn Fn(&str) + Sync)) -> Outcome {
        let started = Instant::now();
        r.docker_time = Duration::ZERO;
        let outcome = self
            .build_steps(r, note)
            .unwrap_or_else(|e| Outcome::Error(format!("{e:#}")));
        r.wall = started.elapsed();
        outcome
    }

    fn build_steps(
        &self,
        r: &mut Release,
        note: &(dyn Fn(&str) + Sync),
    ) -> anyhow::Result<Outcome> {
        let codename = r.info.codename.as_str();
        if r.outdir.exists() {
            std::fs::remove_dir_all(&r.outdir)
                .with_context(|| format!("emptying {}", r.outdir.display()))?;
        }
        std::fs::create_dir_all(&r.outdir)
            .with_context(|| format!("creating {}", r.outdir.display()))?;
        let script = format!("./{}", self.package.script.path);
        let args = self.args(codename);
        let usage = format!("{script} {}", args.join(" "));
        // Files the script writes are root's inside the container: hand them back to the user.
        let spec = RunSpec::new(&r.images.build)
            .mount_ro(self.workdir.root(), "/work")
            .mount_ro(&self.exporter.path, exporter::MOUNT)
            .mount_rw(&r.outdir, "/out")
            .workdir("/work")
            .args([
                "sh",
                "-c",
                HARNESS,
                "sre-check",
                &exporter::owner(self.workdir.root())?,
                &script,
            ])
            .args(args);
        let prefixed = |line: &str| note(&format!("{codename}: {line}"));
        let out = self.docker.run_with_lines(&spec, BUILD_TIMEOUT, &prefixed);
        let out = r.timed(out)?;
        if !out.success() {
            // A full disk is the machine's problem: the same script passes with room to write.
            if out.combined().contains("No space left on device") {
                anyhow::bail!(
                    "the disk is full (`No space left on device` while `{usage}` ran): free some \
                     space (`docker system df` shows what Docker holds), then run the check again\n{}",
                    tail(&out.combined(), 10)
                );
            }
            return Ok(Outcome::Fail {
                evidence: format!(
                    "`{usage}` exited with status {}:\n{}",
                    out.status.code().unwrap_or(-1),
                    tail(&out.combined(), 40)
                ),
                hint: format!(
                    "The packaging script failed in debian:{codename} (its last lines are above). \
                     README.md, \"II. Operating system\", \"Your tasks\", step 1 describes that \
                     container ({BUILD_TOOLS} installed, the working copy read-only)."
                ),
            });
        }
        let Some(file) = self.find_deb(r, &usage)? else {
            let listing = folder_listing(&r.outdir);
            return Ok(Outcome::Fail {
                evidence: format!(
                    "`{usage}` succeeded but wrote no {}_*.deb into /out (the <outdir> argument); \
                     /out holds: {listing}",
                    self.package.name
                ),
                hint: format!(
                    "The script succeeded, but the folder given as <outdir> holds no {}_*.deb \
                     afterwards: {README_PACKAGE} (\"writes one … .deb for that release into \
                     <outdir>\").",
                    self.package.name
                ),
            });
        };
        let starting = Instant::now();
        let container = self.docker.start(
            &RunSpec::new(&r.images.apt)
                .mount_ro(&r.outdir, "/debs")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["sleep", "infinity"]),
            QUICK,
        );
        r.docker_time += starting.elapsed();
        r.container = Some(container?);
        self.inspect(r, file)
    }

    /// The one `<package>_*.deb` in the release's out folder.
    fn find_deb(&self, r: &Release, usage: &str) -> anyhow::Result<Option<String>> {
        let prefix = format!("{}_", self.package.name);
        let mut debs: Vec<String> = std::fs::read_dir(&r.outdir)
            .with_context(|| format!("listing {}", r.outdir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
            .collect();
        debs.sort();
        if debs.len() > 1 {
            anyhow::bail!(
                "`{usage}` wrote several packages ({}); sre-check expects one per release",
                debs.join(", ")
            );
        }
        Ok(debs.pop())
    }

    /// `dpkg-deb` on the package: control fields, files, conffiles.
    fn inspect(&self, r: &mut Release, file: String) -> anyhow::Result<Outcome> {
        let path = format!("/debs/{file}");
        let fields = r.exec(self.docker, &["dpkg-deb", "--field", &path], QUICK)?;
        if !fields.success() {
            return Ok(Outcome::Fail {
                evidence: format!("{file} is not a valid .deb: {}", fields.combined()),
                hint: format!(
                    "dpkg-deb cannot read {file} as a Debian package (its error is above): \
                     {README_PACKAGE}."
                ),
            });
        }
        let contents = r.exec(self.docker, &["dpkg-deb", "--contents", &path], QUICK)?;
        let conffiles = r.exec(
            self.docker,
            &[
                "sh",
                "-c",
                "dpkg-deb --info \"$1\" conffiles 2>/dev/null || true",
                "sh",
                &path,
            ],
            QUICK,
        )?;
        let fields = control_fields(&fields.stdout);
        let files = tar_paths(&contents.stdout);
        let conffiles: Vec<&str> = conffiles.stdout.lines().map(str::trim).collect();
        let problems = self.package_problems(&fields, &files, &conffiles);
        let field = |k: &str| fields.get(k).map_or("(none)", String::as_str).to_owned();
        let summary = format!(
            "{file}: Version {}, Architecture {}, Depends: {}",
            field("Version"),
            field("Architecture"),
            field("Depends")
        );
        r.deb = Some(Deb {
            file: file.clone(),
            fields,
        });
        if problems.is_empty() {
            return Ok(Outcome::Pass(format!(
                "{summary}\n  ships {}, its unit and the conffile {}",
                self.package.binary, self.package.defaults
            )));
        }
        Ok(Outcome::Fail {
            evidence: format!("{summary}\n  {}", problems.join("\n  ")),
            hint: format!(
                "{file} differs from what {README_PACKAGE} lists ({}): see `dpkg-deb --field` and \
                 `--contents` of it, above.",
                problems[0]
            ),
        })
    }

    fn package_problems(
        &self,
        fields: &BTreeMap<String, String>,
        files: &[String],
        conffiles: &[&str],
    ) -> Vec<String> {
        let spec = self.package;
        let mut problems = Vec::new();
        let field = |k: &str| fields.get(k).map(String::as_str);
        if field("Package") != Some(spec.name.as_str()) {
            problems.push(format!(
                "Package is {:?}, expected {}",
                field("Package").unwrap_or("(none)"),
                spec.name
            ));
        }
        let version = field("Version").unwrap_or_default();
        let upstream = version.split_once(':').map_or(version, |(_, v)| v);
        if !upstream.starts_with(&self.exporter.version) {
            problems.push(format!(
                "Version {version} does not start with the upstream version {}",
                self.exporter.version
            ));
        }
        if field("Architecture") != Some(self.arch.as_str()) {
            problems.push(format!(
                "Architecture is {}, expected {} (the binary is built for one architecture)",
                field("Architecture").unwrap_or("(none)"),
                self.arch
            ));
        }
        let ships = |path: &str| files.iter().any(|f| f == path);
        if !ships(&spec.binary) {
            problems.push(format!("{} is not in the package", spec.binary));
        }
        if !unit_paths(&spec.service).iter().any(|p| ships(p)) {
            problems.push(format!(
                "no {} under /usr/lib/systemd/system or /lib/systemd/system",
                spec.service
            ));
        }
        if !ships(&spec.defaults) {
            problems.push(format!("{} is not in the package", spec.defaults));
        } else if !conffiles.contains(&spec.defaults.as_str()) {
            problems.push(format!(
                "{} is not a conffile (DEBIAN/conffiles): an upgrade would overwrite local settings",
                spec.defaults
            ));
        }
        problems
    }
}

/// Where the README lists what the package holds (hints point there, never at the fix).
const README_PACKAGE: &str = "README.md, \"II. Operating system\", \"Your tasks\", step 1";

/// Runs the candidate's command, then gives `/out` back to the user running sre-check.
const HARNESS: &str =
    "owner=$1; shift; \"$@\"; status=$?; chown -R \"$owner\" /out 2>/dev/null; exit $status";

/// `Key: value` fields of `dpkg-deb --field`, continuation lines joined.
fn control_fields(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(value) = last.as_ref().and_then(|k| fields.get_mut(k)) {
                let value: &mut String = value;
                value.push('\n');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            fields.insert(key.trim().to_owned(), value.trim().to_owned());
            last = Some(key.trim().to_owned());
        }
    }
    fields
}

/// Absolute paths of `dpkg-deb --contents` (tar listing) lines, folders without their slash.
fn tar_paths(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|line| {
            let name = line.split_whitespace().nth(5)?;
            let start = line.find(name)?;
            let full = line.get(start..)?;
            let full = full.split(" -> ").next().unwrap_or(full);
            let path = full.trim_start_matches('.').trim_end_matches('/');
            (!path.is_empty()).then(|| path.to_owned())
        })
        .collect()
}

fn folder_listing(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}

/// Packages of different releases with the same Version cannot live in one apt repository.
pub(super) fn same_versions(releases: &[Release], outcomes: &mut [Outcome]) {
    let versions: Vec<Option<&str>> = releases
        .iter()
        .zip(outcomes.iter())
        .map(|(r, o)| match o {
            Outcome::Pass(_) => r.deb.as_ref()?.fields.get("Version").map(String::as_str),
            _ => None,
        })
        .collect();
    for (i, outcome) in outcomes.iter_mut().enumerate() {
        let Some(version) = versions[i] else {
            continue;
        };
        let twins: Vec<String> = releases
            .iter()
            .zip(&versions)
            .enumerate()
            .filter(|(j, (_, v))| *j != i && **v == Some(version))
            .map(|(_, (r, _))| r.info.label())
            .collect();
        if !twins.is_empty() {
            let Outcome::Pass(evidence) = outcome else {
                continue;
            };
            *outcome = Outcome::Fail {
                evidence: format!(
                    "{evidence}\n  the same Version {version} as the package for {}",
                    twins.join(", ")
                ),
                hint: format!(
                    "The packages for {} and {} have the same Version {version}, so apt cannot \
                     tell them apart: {README_PACKAGE} (\"a suffix that differs per release\").",
                    releases[i].info.label(),
                    twins.join(", ")
                ),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_fields_join_continuation_lines() {
        let fields = control_fields(
            "Package: prometheus-postgres-exporter\nVersion: 0.17.1-1+deb13\nDescription: exporter\n more text\n",
        );
        assert_eq!(fields["Version"], "0.17.1-1+deb13");
        assert_eq!(fields["Description"], "exporter\nmore text");
    }

    #[test]
    fn tar_listing_gives_absolute_paths() {
        let listing = "\
drwxr-xr-x root/root         0 2025-11-29 06:40 ./
drwxr-xr-x root/root         0 2025-11-29 06:40 ./usr/bin/
-rwxr-xr-x root/root  13602008 2025-11-29 06:40 ./usr/bin/prometheus-postgres-exporter
lrwxrwxrwx root/root         0 2025-11-29 06:40 ./usr/sbin/a b -> ../bin/x
";
        assert_eq!(
            tar_paths(listing),
            [
                "/usr/bin",
                "/usr/bin/prometheus-postgres-exporter",
                "/usr/sbin/a b"
            ]
        );
    }
}
