//! The install and purge phases, in the container the package was inspected in: apt resolves
//! its Depends against the release's archive; the exporter, its unit and its user must work; a
//! purge must leave nothing behind.

use std::time::{Duration, Instant};

use sre_model::debian::DebianRelease;

use crate::docker::tail;

use super::super::unit::Unit;
use super::{INSTALL_TIMEOUT, Outcome, Plan, QUICK, Release, unit_paths};

impl Plan<'_> {
    /// The install check on one release.
    pub(super) fn install(&self, r: &mut Release) -> Outcome {
        self.phase(r, "build", |plan, r| plan.install_steps(r))
    }

    /// The purge check on one release.
    pub(super) fn purge(&self, r: &mut Release) -> Outcome {
        self.phase(r, "install", |plan, r| plan.purge_steps(r))
    }

    /// Runs a phase on a release that passed the phase before, timing it.
    fn phase(
        &self,
        r: &mut Release,
        before: &str,
        steps: impl FnOnce(&Self, &mut Release) -> anyhow::Result<Outcome>,
    ) -> Outcome {
        if !r.ready || r.container.is_none() {
            return Outcome::Skipped(format!("not run: the {before} check did not pass here"));
        }
        let started = Instant::now();
        r.docker_time = Duration::ZERO;
        let outcome = steps(self, r).unwrap_or_else(|e| Outcome::Error(format!("{e:#}")));
        r.wall = started.elapsed();
        if !matches!(outcome, Outcome::Pass(_))
            && let Some(container) = r.container.take()
        {
            let _ = self.docker.remove_container(&container);
        }
        outcome
    }

    fn install_steps(&self, r: &mut Release) -> anyhow::Result<Outcome> {
        let Some(deb) = &r.deb else {
            anyhow::bail!("no package to install");
        };
        let path = format!("/debs/{}", deb.file);
        let version = deb.fields.get("Version").cloned().unwrap_or_default();
        let install = ["apt-get", "install", "-y", "--no-install-recommends", &path];
        let mut out = r.exec(self.docker, &install, INSTALL_TIMEOUT)?;
        if !out.success() && fetch_problem(&out.combined()) {
            // The image's package lists may be older than the mirror: refresh them once.
            r.exec(self.docker, &["apt-get", "update"], INSTALL_TIMEOUT)?;
            out = r.exec(self.docker, &install, INSTALL_TIMEOUT)?;
        }
        let text = out.combined();
        if !out.success() {
            if fetch_problem(&text) {
                anyhow::bail!(
                    "apt could not download from the Debian mirror (check the network):\n{}",
                    tail(&text, 15)
                );
            }
            return Ok(Outcome::Fail {
                evidence: format!("`apt-get install {path}` failed:\n{}", tail(&text, 25)),
                hint: install_hint(&text, r.info),
            });
        }
        let mut problems = Vec::new();
        let mut evidence = vec![format!("apt-get installed {} {version}", self.package.name)];
        let command = self
            .package
            .binary
            .rsplit('/')
            .next()
            .unwrap_or(&self.package.binary);
        let run = r.exec(self.docker, &[command, "--version"], QUICK)?;
        let first = run.combined().lines().next().unwrap_or_default().to_owned();
        let mut binary_hint = None;
        if run.success() && first.contains(&self.exporter.version) {
            evidence.push(format!("`{command} --version`: {first}"));
        } else {
            let output = run.combined();
            problems.push(format!(
                "`{command} --version` (exit {}): {}",
                run.status.code().unwrap_or(-1),
                tail(&output, 5)
            ));
            binary_hint = Some(binary_hint_for(&output, command, r.info));
        }
        let before_unit = problems.len();
        self.check_unit(r, &mut evidence, &mut problems)?;
        let unit_problems = problems.len() > before_unit;
        let listing = r.exec(
            self.docker,
            &[
                "sh",
                "-c",
                "dpkg-query -L \"$1\" | while read -r f; do [ -d \"$f\" ] || echo \"$f\"; done",
                "sh",
                &self.package.name,
            ],
            QUICK,
        )?;
        r.installed_files = listing.stdout.lines().map(str::to_owned).collect();
        if problems.is_empty() {
            return Ok(Outcome::Pass(evidence.join("; ")));
        }
        Ok(Outcome::Fail {
            evidence: format!("{}\n  {}", evidence.join("; "), problems.join("\n  ")),
            hint: binary_hint
                .into_iter()
                .chain(unit_problems.then(|| {
                    format!(
                        "The installed unit or its user differ, at the places listed above, from \
                         what {README_PACKAGE} asks of {}.",
                        self.package.service
                    )
                }))
                .collect::<Vec<_>>()
                .join(" "),
        })
    }

    /// The unit is installed, runs the binary as an existing system user, reads the defaults.
    fn check_unit(
        &self,
        r: &mut Release,
        evidence: &mut Vec<String>,
        problems: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let paths = unit_paths(&self.package.service);
        let mut args = vec![
            "sh",
            "-c",
            "for f; do if [ -f \"$f\" ]; then echo \"$f\"; cat \"$f\"; exit 0; fi; done; exit 1",
            "sh",
        ];
        args.extend(paths.iter().map(String::as_str));
        let found = r.exec(self.docker, &args, QUICK)?;
        if !found.success() {
            problems.push(format!("{} is not installed", self.package.service));
            return Ok(());
        }
        let (path, text) = found.stdout.split_once('\n').unwrap_or((&found.stdout, ""));
        let unit = Unit::parse(text);
        let exec_start = unit.get("Service", "ExecStart").unwrap_or_default();
        if !exec_start.contains(&self.package.binary) {
            problems.push(format!(
                "{path}: ExecStart={exec_start} does not run {}",
                self.package.binary
            ));
        }
        let reads_defaults = unit
            .all("Service", "EnvironmentFile")
            .iter()
            .any(|f| f.trim_start_matches('-') == self.package.defaults);
        if !reads_defaults {
            problems.push(format!(
                "{path}: no EnvironmentFile={}: the conffile would have no effect",
                self.package.defaults
            ));
        }
        let Some(user) = unit.get("Service", "User").map(str::to_owned) else {
            problems.push(format!("{path}: no User=: the exporter would run as root"));
            return Ok(());
        };
        let entry = r.exec(self.docker, &["getent", "passwd", &user], QUICK)?;
        let uid = entry
            .stdout
            .split(':')
            .nth(2)
            .and_then(|u| u.trim().parse::<u32>().ok());
        match uid {
            Some(uid) if uid > 0 && uid < 1000 => {
                evidence.push(format!("{path} runs it as system user {user} (uid {uid})"));
            }
            Some(uid) => problems.push(format!(
                "{path}: User={user} has uid {uid}: expected a system user (uid 1-999)"
            )),
            None => problems.push(format!(
                "{path}: User={user}, but no such user exists after the install"
            )),
        }
        Ok(())
    }

    fn purge_steps(&self, r: &mut Release) -> anyhow::Result<Outcome> {
        let name = self.package.name.as_str();
        let out = r.exec(
            self.docker,
            &["apt-get", "purge", "-y", name],
            INSTALL_TIMEOUT,
        )?;
        if !out.success() {
            return Ok(Outcome::Fail {
                evidence: format!(
                    "`apt-get purge -y {name}` failed:\n{}",
                    tail(&out.combined(), 20)
                ),
                hint: format!(
                    "{} failed during `apt-get purge` on {} (apt's output above): \
                     {README_PACKAGE} (\"maintainer scripts that let apt-get install and apt-get \
                     purge work cleanly\").",
                    failed_script(&out.combined()),
                    r.info.label()
                ),
            });
        }
        let status = r.exec(
            self.docker,
            &[
                "dpkg-query",
                "--show",
                "--showformat=${db:Status-Abbrev}",
                name,
            ],
            QUICK,
        )?;
        let mut problems = Vec::new();
        let abbrev = status.stdout.trim();
        if status.success() && !abbrev.starts_with("un") && !abbrev.is_empty() {
            problems.push(format!(
                "dpkg still lists {name} as `{abbrev}` after the purge"
            ));
        }
        let mut args = vec![
            "sh",
            "-c",
            "for f; do if [ -e \"$f\" ] || [ -L \"$f\" ]; then echo \"$f\"; fi; done",
            "sh",
        ];
        let files = r.installed_files.clone();
        args.extend(files.iter().map(String::as_str));
        let left = r.exec(self.docker, &args, QUICK)?;
        let left: Vec<&str> = left.stdout.lines().collect();
        if !left.is_empty() {
            problems.push(format!("files left behind: {}", left.join(", ")));
        }
        if problems.is_empty() {
            return Ok(Outcome::Pass(format!(
                "apt-get purge removed {name} and its {} files",
                r.installed_files.len()
            )));
        }
        Ok(Outcome::Fail {
            evidence: problems.join("\n  "),
            hint: format!(
                "`apt-get purge` left what is listed above on {}: {README_PACKAGE} (\"apt-get \
                 purge work cleanly\").",
                r.info.label()
            ),
        })
    }
}

/// apt failed to download (network, stale lists) rather than to resolve.
fn fetch_problem(apt_output: &str) -> bool {
    [
        "Failed to fetch",
        "Unable to fetch",
        "Temporary failure resolving",
        "Could not resolve",
    ]
    .iter()
    .any(|p| apt_output.contains(p))
}

/// Where the README lists what the package holds (hints point there, never at the fix).
const README_PACKAGE: &str = "README.md, \"II. Operating system\", \"Your tasks\", step 1";

fn install_hint(apt_output: &str, release: &DebianRelease) -> String {
    let place = format!("Debian {} ({})", release.version, release.codename);
    if apt_output.contains("unmet dependencies") || apt_output.contains("Depends:") {
        format!(
            "A Depends of the package cannot be satisfied on {place} (apt's message above): \
             {README_PACKAGE} (\"Depends that the release can satisfy\")."
        )
    } else if apt_output.contains("post-installation script") {
        format!(
            "The package's postinst failed on {place} (apt's output above): {README_PACKAGE} \
             (\"maintainer scripts that let apt-get install … work cleanly\")."
        )
    } else {
        format!(
            "`apt-get install` of the package failed on {place} (its output above): {README_PACKAGE}."
        )
    }
}

/// Which maintainer script apt names in a failed removal.
fn failed_script(apt_output: &str) -> &'static str {
    if apt_output.contains("post-removal") {
        "The package's postrm"
    } else if apt_output.contains("pre-removal") {
        "The package's prerm"
    } else {
        "A maintainer script"
    }
}

/// The hint for an installed binary that does not run: a binary linked against a newer C library
/// than the release has (`GLIBC_2.34' not found`) is not a problem of the unit or its user.
fn binary_hint_for(output: &str, command: &str, release: &DebianRelease) -> String {
    let place = format!("Debian {} ({})", release.version, release.codename);
    match output
        .split('`')
        .find(|part| part.starts_with("GLIBC_") || part.starts_with("GLIBCXX_"))
    {
        Some(symbol) => format!(
            "The packaged {command} does not run on {place}: it needs {symbol}, a newer C library \
             than that release has, so it is not the binary the script is handed \
             (<exporter-binary>, {README_PACKAGE})."
        ),
        None => format!(
            "The packaged {command} does not run on {place} (its output above): {README_PACKAGE} \
             (the binary installed as /usr/bin/{command})."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sre_model::debian::Support;

    fn bullseye() -> DebianRelease {
        DebianRelease {
            codename: "bullseye".into(),
            version: 11,
            support: Support::Ended {
                ended: "2026-08-31".into(),
            },
            archived: false,
        }
    }

    #[test]
    fn apt_download_problems_are_told_from_unmet_dependencies() {
        assert!(fetch_problem(
            "E: Failed to fetch http://deb.debian.org/... 404 Not Found"
        ));
        assert!(!fetch_problem(
            "The following packages have unmet dependencies:\n x : Depends: libc6 (>= 2.34)"
        ));
        let hint = install_hint(
            " x : Depends: libc6 (>= 2.34) but 2.31 is to be installed",
            &bullseye(),
        );
        assert!(hint.contains("Debian 11 (bullseye)"), "{hint}");
        assert!(!hint.contains("libc6"), "{hint}");
    }

    #[test]
    fn a_binary_too_new_for_the_release_gets_a_glibc_hint() {
        let output = "prometheus-postgres-exporter: /lib/x86_64-linux-gnu/libc.so.6: version \
                      `GLIBC_2.34' not found (required by prometheus-postgres-exporter)";
        let hint = binary_hint_for(output, "prometheus-postgres-exporter", &bullseye());
        assert!(hint.contains("GLIBC_2.34'"), "{hint}");
        assert!(hint.contains("Debian 11 (bullseye)"), "{hint}");
        assert!(!hint.contains("User") && !hint.contains("unit"), "{hint}");
    }
}
