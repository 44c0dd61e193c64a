//! The database the checks measure: the handed-out compose stack, started fresh for each run.
//!
//! The checks always run the handed-out `docker-compose.yml`, `00_init.sql` and `table_dump.sql`
//! (embedded in sre-check), with only the candidate's `solution.sql` added: the task is
//! solution.sql, and measuring it on the same data every time keeps the before/after comparison
//! fair. The files go to a private folder under `.sre-check/` of the working copy, which Docker
//! Desktop shares like the rest of the working copy.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::content;
use crate::docker::{ComposeProject, Docker};
use crate::process::CommandOutput;
use crate::workdir::WorkDir;

/// The topic's folder in the working copy and in the content.
pub const DIR: &str = "postgres";
/// The candidate's deliverable.
pub const SOLUTION: &str = "postgres/solution.sql";
/// The handed-out files the stack is made of.
pub const STACK_FILES: [&str; 3] = ["docker-compose.yml", "00_init.sql", "table_dump.sql"];
/// The compose service that runs PostgreSQL.
const SERVICE: &str = "db";
/// Where the compose file mounts the topic folder inside the container.
pub const MOUNT: &str = "/challenge";
/// The database the data lives in.
pub const DATABASE: &str = "shop";
/// The role the application connects as: the queries are measured as this role, so settings a
/// solution gives it (`ALTER ROLE shop_app SET …`) apply, as they would in production.
pub const APP_ROLE: &str = "shop_app";
/// The superuser, for applying solution.sql and reading the data.
pub const SUPERUSER: &str = "postgres";

/// libpq options of every session the checks open.
const STATEMENT_TIMEOUT: &str = "PGOPTIONS=-c statement_timeout=5min";

/// Building the image (apt on a cold cache) and loading the data.
const UP_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A running copy of the handed-out database; taken down when dropped.
pub struct Stack<'a> {
    docker: &'a Docker,
    project: ComposeProject,
    // Holds the folder the containers mount; removed after the project is down.
    _dir: tempfile::TempDir,
}

/// Whose session a psql command opens.
#[derive(Debug, Clone, Copy)]
pub enum Session {
    /// The application role.
    App,
    /// The superuser.
    Superuser,
}

impl Session {
    fn role(self) -> &'static str {
        match self {
            Session::App => APP_ROLE,
            Session::Superuser => SUPERUSER,
        }
    }
}

impl<'a> Stack<'a> {
    /// Writes the handed-out files and the candidate's solution.sql (if any) to a fresh folder
    /// and starts the stack; returns it with the output of `compose up`. An error means the
    /// environment failed (the files are the handed-out ones): the output is in the message.
    pub fn up(docker: &'a Docker, workdir: &WorkDir) -> anyhow::Result<Stack<'a>> {
        let dir = scratch_dir(workdir)?;
        let project =
            docker.compose_project(DIR, dir.path(), &[dir.path().join("docker-compose.yml")])?;
        let stack = Stack {
            docker,
            project,
            _dir: dir,
        };
        let out = docker.compose_up(&stack.project, UP_TIMEOUT)?;
        if !out.success() {
            let logs = stack.logs().unwrap_or_default();
            bail!(
                "the handed-out database did not start:\n{}\n{}",
                out.combined(),
                crate::docker::tail(&logs, 40)
            );
        }
        Ok(stack)
    }

    /// What the container printed since it started (its first start loads both SQL files).
    pub fn logs(&self) -> anyhow::Result<String> {
        let out =
            self.docker
                .compose_logs(&self.project, &[SERVICE], None, Duration::from_secs(60))?;
        if !out.success() {
            bail!("reading the database's logs failed: {}", out.combined());
        }
        // `db-1  | message`: keep the message.
        Ok(out
            .stdout
            .lines()
            .map(|l| l.split_once(" | ").map_or(l, |(_, msg)| msg))
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// Runs psql in the container as `session` in the shop database with `args` after the
    /// connection options. The output says whether it worked; an `Err` means psql could not run.
    pub fn psql(
        &self,
        session: Session,
        args: &[&str],
        timeout: Duration,
    ) -> anyhow::Result<CommandOutput> {
        let mut command = vec![
            "psql",
            "--no-psqlrc",
            "--set=ON_ERROR_STOP=1",
            "--username",
            session.role(),
            "--dbname",
            DATABASE,
        ];
        command.extend_from_slice(args);
        // A statement that runs away (in solution.sql, or a plan far from any goal) ends with an
        // error psql reports, not with the checker's own timeout.
        Ok(self.docker.compose_exec(
            &self.project,
            SERVICE,
            &[STATEMENT_TIMEOUT],
            &command,
            timeout,
        )?)
    }
}

impl Drop for Stack<'_> {
    fn drop(&mut self) {
        // Best effort: Docker::cleanup takes it down too, whatever way the run ends.
        let _ = self.docker.compose_down(&self.project);
    }
}

/// psql arguments that run `commands` one after the other, printing bare values.
pub fn sql_args<'c>(commands: &[&'c str]) -> Vec<&'c str> {
    let mut args = vec!["--no-align", "--tuples-only", "--quiet"];
    for command in commands {
        args.push("--command");
        args.push(command);
    }
    args
}

/// A fresh folder with the handed-out stack files and the candidate's solution.sql, readable by
/// the container's postgres user.
fn scratch_dir(workdir: &WorkDir) -> anyhow::Result<tempfile::TempDir> {
    let parent = workdir.path(".sre-check");
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let dir = tempfile::Builder::new()
        .prefix("postgres-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a folder in {}", parent.display()))?;
    set_mode(dir.path(), 0o755)?;
    for name in STACK_FILES {
        let rel = format!("{DIR}/{name}");
        let bytes = content::file(&rel).with_context(|| format!("{rel} is not embedded"))?;
        write_readable(&dir.path().join(name), bytes)?;
    }
    if let Some(solution) = workdir.read(SOLUTION)? {
        write_readable(&dir.path().join("solution.sql"), &solution)?;
    }
    Ok(dir)
}

fn write_readable(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    set_mode(path, 0o644)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("making {} readable", path.display()))
}
