//! The library behind the `sre-check` binary: the checker's pieces, one module each.
//!
//! Pipeline: [`run_command`] reads the command line into settings, [`topics`] runs each topic's
//! checks (its registry maps a topic id to the module that declares its checks; a topic with only
//! written answers gets the generic answer check) with the toolkit in [`runner`] and the
//! [`docker`] driver, and [`report_file`] writes the report defined in `sre-model`;
//! [`upload_command`] sends it to the challenge server with the work [`work`] collects, through
//! [`upload`].

pub mod cache;
pub mod cancel;
pub mod clean;
pub mod cli;
pub mod content;
pub mod docker;
pub mod doctor;
pub mod init;
pub mod limits;
pub mod options;
pub mod process;
pub mod progress;
pub mod report_file;
pub mod run_command;
pub mod runner;
pub mod topics;
pub mod upload;
pub mod upload_command;
pub mod version_check;
pub mod work;
pub mod workdir;
pub mod yaml;

/// A closed stdout (`sre-check run | head`) is a normal end, not an error.
pub fn ignore_broken_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
