//! Resource ceilings for every container a run starts: memory, CPU and process count.
//!
//! The checks run code from the working copy (playbooks, build scripts, SQL, Compose services),
//! on the candidate's laptop and on the team's verification workers alike. The ceilings are far
//! above what the reference solutions use (measured with `docker stats` during their runs, see
//! docs/VERIFY.md), so a correct solution never meets them, while a fork bomb or a runaway
//! allocation stops at them instead of taking the machine down.

use std::fmt::Write as _;

/// Ceilings applied to each container (`docker run`, the legacy builder's RUN steps, Compose
/// services).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Memory, swap included, in MiB.
    pub memory_mib: u64,
    /// CPUs (fractions allowed): a share of the CFS period.
    pub cpus: f64,
    /// Most processes and threads at once (`--pids-limit`).
    pub pids: u32,
}

impl Default for Limits {
    /// 2 GiB, 1.5 CPUs, 1,024 processes: the biggest reference container (PostgreSQL with its
    /// exporter's queries, or Ansible's install layer) stays under a quarter of these.
    fn default() -> Limits {
        Limits {
            memory_mib: 2048,
            cpus: 1.5,
            pids: 1024,
        }
    }
}

/// CFS period the CPU quota is a share of, in microseconds (Docker's default).
const CFS_PERIOD_US: u64 = 100_000;

impl Limits {
    fn memory(&self) -> String {
        format!("{}m", self.memory_mib)
    }

    /// Flags for `docker run` and `docker create`.
    pub fn run_args(&self) -> Vec<String> {
        vec![
            "--memory".to_owned(),
            self.memory(),
            "--memory-swap".to_owned(),
            self.memory(),
            "--cpus".to_owned(),
            self.cpus.to_string(),
            "--pids-limit".to_owned(),
            self.pids.to_string(),
        ]
    }

    /// Flags for the legacy builder's `docker build` (each RUN step's container). It has no
    /// process limit: the sandboxed verification engine holds that with a cgroup around all its
    /// containers (scripts/verify-engine). BuildKit takes none of these flags.
    pub fn build_args(&self) -> Vec<String> {
        vec![
            "--memory".to_owned(),
            self.memory(),
            "--memory-swap".to_owned(),
            self.memory(),
            "--cpu-period".to_owned(),
            CFS_PERIOD_US.to_string(),
            "--cpu-quota".to_owned(),
            self.cpu_quota().to_string(),
        ]
    }

    fn cpu_quota(&self) -> u64 {
        // Rounded to whole microseconds; at least 1 ms so a tiny fraction still runs.
        ((self.cpus * CFS_PERIOD_US as f64).round() as u64).max(1_000)
    }

    /// The keys of one Compose service (indented by `indent` spaces), for an override file.
    pub fn compose_service_yaml(&self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let mut yaml = String::new();
        let _ = writeln!(yaml, "{pad}mem_limit: {}", self.memory());
        let _ = writeln!(yaml, "{pad}memswap_limit: {}", self.memory());
        let _ = writeln!(yaml, "{pad}cpus: {}", self.cpus);
        let _ = writeln!(yaml, "{pad}pids_limit: {}", self.pids);
        yaml
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_flags_carry_every_limit() {
        let args = Limits::default().run_args().join(" ");
        assert_eq!(
            args,
            "--memory 2048m --memory-swap 2048m --cpus 1.5 --pids-limit 1024"
        );
    }

    #[test]
    fn build_flags_express_cpus_as_a_quota() {
        let limits = Limits {
            memory_mib: 512,
            cpus: 0.5,
            pids: 10,
        };
        assert_eq!(
            limits.build_args().join(" "),
            "--memory 512m --memory-swap 512m --cpu-period 100000 --cpu-quota 50000"
        );
    }

    #[test]
    fn compose_keys_are_indented_for_a_service() {
        let yaml = Limits::default().compose_service_yaml(4);
        assert_eq!(
            yaml,
            "    mem_limit: 2048m\n    memswap_limit: 2048m\n    cpus: 1.5\n    pids_limit: 1024\n"
        );
    }
}
