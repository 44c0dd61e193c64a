//! The running stack as the live checks see it: a probe beside Prometheus, Prometheus' API, and
//! the cadence read from its loaded configuration.

use std::time::{Duration, Instant};

use super::PROMETHEUS;
use super::http::Probe;
use super::pace::{self, Pace};
use super::prometheus::Prometheus;
use super::stack::Stack;
use super::timing::{Cadence, poll_until};
use crate::cancel;
use crate::runner::Verdict;

/// How long Prometheus may take to answer `/-/ready` once its container runs.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// A probe container beside Prometheus. Removed by [`Live::remove`] (and by the run's cleanup,
/// which removes everything labelled with the run).
pub struct Live<'a> {
    probe: Probe<'a>,
    pace: Pace,
}

impl<'a> Live<'a> {
    /// Starts the probe and waits for Prometheus to be ready. A Prometheus that is not running or
    /// never gets ready is the submission's problem: `Err(verdict)`.
    pub fn start(stack: &Stack<'a>) -> anyhow::Result<Result<Live<'a>, Verdict>> {
        let Some(id) = stack.container_id(PROMETHEUS)? else {
            return Ok(Err(Verdict::fail(
                format!("no running container for the `{PROMETHEUS}` service"),
                "The checker queries Prometheus through the `prometheus` service's container, and \
                 there is none. The end of \"Your tasks\" in monitoring/README.md lists the \
                 service names the checker relies on.",
            )));
        };
        let live = Live {
            probe: Probe::start(stack.docker, &id)?,
            pace: Pace::Own(None),
        };
        let mut last = String::new();
        let deadline = Instant::now() + stack.docker.scale(READY_WITHIN);
        let ready = poll_until(deadline, || match live.prometheus().ready() {
            Ok(()) => Ok(Some(())),
            Err(e) => {
                last = format!("{e:#}");
                Ok(None)
            }
        })?;
        if ready.is_none() {
            return Ok(Err(Verdict::fail(
                format!(
                    "Prometheus (port 9090 of the `prometheus` container) was not ready within {} \
                     s: {last}",
                    READY_WITHIN.as_secs()
                ),
                "Prometheus does not answer on port 9090 of its container (the last error is \
                 above; its own log says why). The end of \"Your tasks\" in monitoring/README.md \
                 says where the checker expects it.",
            )));
        }
        Ok(Ok(live))
    }

    /// Prometheus' API.
    pub fn prometheus(&self) -> Prometheus<'_> {
        Prometheus::new(&self.probe)
    }

    /// The probe, for calls to other services of the stack (Alertmanager).
    pub fn probe(&self) -> &Probe<'a> {
        &self.probe
    }

    /// The scrape and evaluation rhythm of the loaded configuration.
    pub fn cadence(&self) -> anyhow::Result<Cadence> {
        let prometheus = self.prometheus();
        let groups = prometheus.rule_groups()?;
        Ok(Cadence::from_config(&prometheus.config_yaml()?, &groups))
    }

    /// Has Prometheus evaluate the rules faster for the run where that cannot change a verdict
    /// (see pace.rs). Call after [`Live::cadence`]: the cadence must be the candidate's own.
    pub fn speed_up(&mut self, stack: &Stack) -> anyhow::Result<()> {
        self.pace = match pace::speed_up(stack, &self.prometheus(), stack.config_copy()) {
            Ok(pace) => pace,
            // Only time is lost: the checks go on at the candidate's own pace.
            Err(e) if !cancel::requested() => Pace::Own(Some(format!("{e:#}"))),
            Err(e) => return Err(e),
        };
        Ok(())
    }

    /// How often the rules are evaluated for the run.
    pub fn pace(&self) -> &Pace {
        &self.pace
    }

    /// Removes the probe container.
    pub fn remove(&self) -> anyhow::Result<()> {
        self.probe.remove()
    }
}
