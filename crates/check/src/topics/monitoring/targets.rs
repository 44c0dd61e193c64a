//! The `targets` check: every active scrape target is up, and the targets cover every critical
//! component: the host, the database, the web tier and the monitoring stack itself.

use std::collections::BTreeSet;
use std::time::Instant;

use super::PROMETHEUS;
use super::live::Live;
use super::locate::locate;
use super::prometheus::{Prometheus, QueryResult, Target};
use super::stack::Stack;
use super::timing::{Cadence, SLACK, poll_until, show};
use crate::runner::Verdict;

/// A critical component and the metrics its exporters expose.
struct Component {
    name: &'static str,
    selector: &'static str,
    exporters: &'static str,
}

const COMPONENTS: [Component; 5] = [
    Component {
        name: "host",
        selector: r#"{__name__=~"node_.+"}"#,
        exporters: "the node exporter (node_* metrics)",
    },
    Component {
        name: "database",
        selector: r#"{__name__=~"pg_.+"}"#,
        exporters: "a PostgreSQL exporter (pg_* metrics)",
    },
    Component {
        name: "web tier",
        selector: r#"{__name__=~"nginx_.+|probe_success"}"#,
        exporters: "an nginx exporter (nginx_* metrics) or a blackbox probe of the site \
                    (probe_success)",
    },
    Component {
        name: "Prometheus",
        selector: "prometheus_build_info",
        exporters: "Prometheus scraping itself (prometheus_build_info)",
    },
    Component {
        name: "Alertmanager",
        selector: "alertmanager_build_info",
        exporters: "Alertmanager's own /metrics (alertmanager_build_info)",
    },
];

/// Runs the check.
pub fn check(stack: &Stack, live: &Live, cadence: &Cadence) -> anyhow::Result<Verdict> {
    let prometheus = live.prometheus();
    // Every target scraped at least once, and given two more rounds to come up: an exporter may
    // start a little after Prometheus, and on a busy machine a first scrape can time out. The
    // wait ends as soon as every target is up.
    let settle = cadence.scrape + cadence.scrape_timeout;
    let wait = settle * 3 + SLACK * 2;
    let deadline = Instant::now() + stack.docker.scale(wait);
    let mut targets = Vec::new();
    poll_until(deadline, || {
        targets = prometheus.targets()?;
        Ok((!targets.is_empty() && targets.iter().all(|t| t.health == "up")).then_some(()))
    })?;
    if targets.is_empty() {
        return Ok(Verdict::fail(
            "Prometheus has no active scrape targets",
            "Prometheus, as it runs, scrapes nothing. Task 1 of monitoring/README.md says what \
             must be covered.",
        ));
    }
    let down: Vec<&Target> = targets.iter().filter(|t| t.health != "up").collect();
    if !down.is_empty() {
        let lines: Vec<String> = down.iter().map(|t| describe_down(stack, t)).collect();
        return Ok(Verdict::fail(
            format!(
                "{} of {} targets are not up after {}:\n{}",
                down.len(),
                targets.len(),
                show(wait),
                lines.join("\n")
            ),
            "A target does not answer where Prometheus scrapes it: its address, the file:line of \
             its job and the scrape error are above. Task 1 of monitoring/README.md: done means \
             every target is up.",
        ));
    }
    // Prometheus marks a target up before its scrape's samples are committed, so a coverage
    // query made right after the last target came up can miss that target's metrics: ask
    // again for one more scrape round before calling a component uncovered.
    let coverage_deadline = Instant::now() + stack.docker.scale(cadence.scrape + SLACK);
    let mut coverage = Coverage::default();
    poll_until(coverage_deadline, || {
        coverage = Coverage::query(&prometheus)?;
        Ok(coverage.missing.is_empty().then_some(()))
    })?;
    let Coverage { covered, missing } = coverage;
    let summary = format!(
        "{} targets up: {}\ncoverage:\n  {}",
        targets.len(),
        targets
            .iter()
            .map(|t| t
                .labels
                .get("instance")
                .map_or(t.scrape_url.as_str(), String::as_str))
            .collect::<Vec<_>>()
            .join(", "),
        covered.join("\n  ")
    );
    if missing.is_empty() {
        Ok(Verdict::pass(summary))
    } else {
        Ok(Verdict::fail(
            format!("{summary}\nnot covered:\n  {}", missing.join("\n  ")),
            "The components listed under \"not covered\" have no target. Task 1 of \
             monitoring/README.md lists the components to monitor; \"How to check your work \
             locally\" says which exporters count for each.",
        ))
    }
}

/// Which critical components have a target, and which have none.
#[derive(Default)]
struct Coverage {
    covered: Vec<String>,
    missing: Vec<String>,
}

impl Coverage {
    fn query(prometheus: &Prometheus) -> anyhow::Result<Coverage> {
        let mut coverage = Coverage::default();
        for component in &COMPONENTS {
            let expr = format!("group by (job, instance) ({})", component.selector);
            let jobs = match prometheus.query(&expr)? {
                Ok(QueryResult::Vector(samples)) => samples
                    .iter()
                    .map(|s| {
                        let label = |k: &str| s.metric.get(k).map_or("", String::as_str).to_owned();
                        format!("{} ({})", label("job"), label("instance"))
                    })
                    .collect::<BTreeSet<_>>(),
                Ok(QueryResult::Other) => BTreeSet::new(),
                Err(e) => anyhow::bail!("coverage query {expr} failed: {e}"),
            };
            if jobs.is_empty() {
                coverage.missing.push(format!(
                    "{}: no target; expected {}",
                    component.name, component.exporters
                ));
            } else {
                let jobs: Vec<String> = jobs.into_iter().collect();
                coverage
                    .covered
                    .push(format!("{}: {}", component.name, jobs.join(", ")));
            }
        }
        Ok(coverage)
    }
}

fn describe_down(stack: &Stack, target: &Target) -> String {
    let job = target
        .labels
        .get("job")
        .map_or(target.scrape_pool.as_str(), String::as_str);
    let config = stack
        .service(PROMETHEUS)
        .and_then(|s| s.flag("--config.file"))
        .unwrap_or("/etc/prometheus/prometheus.yml");
    let place = stack
        .host_path(PROMETHEUS, config)
        .map(|p| locate(&p, &stack.display(&p), "job_name", job))
        .unwrap_or_default();
    format!(
        "job {job} ({place}): {} {}: {}",
        target.scrape_url,
        target.health,
        if target.last_error.is_empty() {
            "not scraped yet"
        } else {
            target.last_error.as_str()
        }
    )
}
