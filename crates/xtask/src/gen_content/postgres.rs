//! Topic IV's incident graphs: what the monitoring of the shop's PostgreSQL primary `pg-shop-1`
//! showed on Thursday 13 June 2024 at 10:45 UTC, when the on-call engineer (the candidate) opens
//! the dashboard.
//!
//! The story the numbers follow (the README states none of it; the candidate works it out):
//! - 4 June 02:14: the standby pg-shop-2 stops replicating. Its physical replication slot
//!   `pg_shop_2` on the primary stays and retains all WAL since then; the disk of the primary
//!   fills a little every day (image 3).
//! - 13 June 08:02:40: the nightly reporting job (`etl-reporting`) opens a repeatable-read
//!   transaction and, after its first queries, stays "idle in transaction". It holds a lock on
//!   orders and the xmin horizon: from then on autovacuum removes nothing (image 2).
//! - 10:32:10: a deployment's migration (`shop-migrate`) runs ALTER TABLE on orders and waits for
//!   its exclusive lock behind the reporting transaction; every query on orders queues behind the
//!   migration. Web queries give up after the role's statement_timeout (60 s) but new ones take
//!   their place faster: the web servers' pools open connections until the server refuses them at
//!   max_connections − superuser_reserved_connections = 197 (image 1).
//!
//! Every limit comes from 00_init.sql (a test checks it); the noise is deterministic.

use super::GeneratedFile;
use super::chart::{Chart, Limit, Panel, Series, TimeAxis, palette};

/// `max_connections` in 00_init.sql.
pub const MAX_CONNECTIONS: u32 = 200;
/// `superuser_reserved_connections` in 00_init.sql.
pub const SUPERUSER_RESERVED: u32 = 3;

/// Seconds in a minute, an hour, a day.
const MIN: f64 = 60.0;
const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// Images 1 and 2 cover 13 June 2024 from 06:00 to 10:45 UTC; time 0 is 06:00.
const MORNING_START_HOUR: f64 = 6.0;
const MORNING_END: f64 = 4.0 * HOUR + 45.0 * MIN;
/// 08:02:40: the reporting job begins its transaction.
const ETL_BEGIN: f64 = 2.0 * HOUR + 2.0 * MIN + 40.0;
/// 08:05:50: its last query ends; it stays idle in transaction.
const ETL_IDLE: f64 = 2.0 * HOUR + 5.0 * MIN + 50.0;
/// 09:15: a newsletter goes out; traffic rises for an hour.
const NEWSLETTER: f64 = 3.0 * HOUR + 15.0 * MIN;
/// 10:32:10: the migration starts and waits for its lock.
const MIGRATION: f64 = 4.0 * HOUR + 32.0 * MIN + 10.0;
/// New queries on orders per second that queue behind the migration.
const QUEUE_RATE: f64 = 3.8;
/// `statement_timeout` of the role shop_app in 00_init.sql: a queued web query gives up then.
const WEB_STATEMENT_TIMEOUT: f64 = 60.0;
/// Connections of the web servers' pools when idle: 4 servers × 15.
const POOL_MIN: f64 = 60.0;

/// Image 3 covers 30 May 2024 00:00 to 13 June 2024 10:45 UTC; time 0 is 30 May 00:00.
const FORTNIGHT_END: f64 = 14.0 * DAY + 10.0 * HOUR + 45.0 * MIN;
/// 4 June 02:14: the standby's last replayed WAL.
const STANDBY_LOST: f64 = 5.0 * DAY + 2.0 * HOUR + 14.0 * MIN;
/// Size of /var/lib/postgresql on pg-shop-1.
const VOLUME_GIB: f64 = 100.0;

/// The three images, at their paths under content/.
pub fn files() -> anyhow::Result<Vec<GeneratedFile>> {
    Ok(vec![
        GeneratedFile::new("postgres/images/image1.png", connections_chart().png()?),
        GeneratedFile::new("postgres/images/image2.png", transactions_chart().png()?),
        GeneratedFile::new("postgres/images/image3.png", replication_chart().png()?),
    ])
}

/// Deterministic noise: SplitMix64, one generator per series.
struct Noise(u64);

impl Noise {
    /// A value in [-1, 1).
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Times from `start` to `end` inclusive, every `step` seconds.
fn times(start: f64, end: f64, step: f64) -> impl Iterator<Item = f64> {
    let n = ((end - start) / step).round() as usize;
    (0..=n).map(move |i| start + i as f64 * step)
}

/// Share of the day's peak traffic in the morning: low at 06:00 UTC (08:00 in Central Europe),
/// full from 09:30, plus the newsletter's hour.
fn morning_traffic(t: f64) -> f64 {
    let ramp = ((t - 0.5 * HOUR) / (3.0 * HOUR)).clamp(0.0, 1.0);
    let smooth = ramp * ramp * (3.0 - 2.0 * ramp);
    let newsletter = if t >= NEWSLETTER {
        0.35 * (-(t - NEWSLETTER) / (40.0 * MIN)).exp()
    } else {
        0.0
    };
    0.35 + 0.65 * smooth + newsletter
}

/// `HH:MM` for a time of the morning window.
fn clock(t: f64) -> String {
    let minutes = (MORNING_START_HOUR * 60.0 + t / MIN).round() as u32;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// What pg_stat_activity counted at one instant of the morning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActivitySample {
    /// Seconds after 06:00.
    pub t: f64,
    /// Client backends in state `active`.
    pub active: f64,
    /// In state `idle`.
    pub idle: f64,
    /// In state `idle in transaction`.
    pub idle_in_transaction: f64,
    /// Of all of them, waiting on a heavyweight lock (wait_event_type = Lock).
    pub waiting_for_lock: f64,
}

impl ActivitySample {
    /// All client connections.
    pub fn total(&self) -> f64 {
        self.active + self.idle + self.idle_in_transaction
    }
}

/// pg_stat_activity every 15 s from 06:00 to 10:45.
pub fn activity() -> Vec<ActivitySample> {
    let mut noise = Noise(0x5107_0613);
    let ceiling = f64::from(MAX_CONNECTIONS - SUPERUSER_RESERVED);
    // The pools open connections when busy and close them after 10 idle minutes.
    let mut recent_peaks: Vec<(f64, f64)> = Vec::new();
    times(0.0, MORNING_END, 15.0)
        .map(|t| {
            let traffic = morning_traffic(t);
            // Web requests running a query right now.
            let busy_web = (1.5 + 9.0 * traffic + 2.0 * noise.next()).round().max(1.0);
            recent_peaks.retain(|(at, _)| t - at < 10.0 * MIN);
            recent_peaks.push((t, busy_web + 3.0 + (2.0 * noise.next()).round()));
            let pool = recent_peaks
                .iter()
                .map(|(_, n)| *n)
                .fold(POOL_MIN, f64::max);
            // postgres_exporter's own query is always active while it scrapes.
            let exporter = 1.0;
            let etl_active = f64::from(u8::from((ETL_BEGIN..ETL_IDLE).contains(&t)));
            let etl_idle_in_tx = f64::from(u8::from(t >= ETL_IDLE));
            let migration = f64::from(u8::from(t >= MIGRATION));
            // Queued web queries: those of the last statement_timeout seconds.
            let queued = if t > MIGRATION + 2.0 {
                (QUEUE_RATE * (t - MIGRATION - 2.0).min(WEB_STATEMENT_TIMEOUT)).floor()
            } else {
                0.0
            };
            let others = exporter + etl_active + etl_idle_in_tx + migration;
            // Once full, the pools hold every connection the server allows; a few run queries
            // that do not touch orders, a few are between two requests.
            let web_room = ceiling - others;
            let (web_active, web_idle, queued) = if busy_web + queued >= web_room - 2.0 {
                let idle = (1.0 + noise.next()).round().max(0.0);
                let running = (3.0 + 1.5 * noise.next()).round();
                (web_room - idle, idle, web_room - idle - running)
            } else {
                let active = busy_web + queued;
                (active, (pool - active).max(0.0), queued)
            };
            // Row locks of the application make a query wait now and then.
            let row_lock_wait = f64::from(u8::from(t < MIGRATION && noise.next() > 0.93));
            ActivitySample {
                t,
                active: web_active + exporter + etl_active + migration,
                idle: web_idle,
                idle_in_transaction: etl_idle_in_tx,
                waiting_for_lock: queued + migration + row_lock_wait,
            }
        })
        .collect()
}

/// How the morning's time axes are described.
const MORNING_DESC: &str = "time (UTC), Thursday 13 June 2024";

fn morning_axis() -> TimeAxis {
    TimeAxis::every(0.0..MORNING_END, 30.0 * MIN, clock, MORNING_DESC)
}

/// The last 25 minutes of the morning, for a closer look.
fn close_up_axis() -> TimeAxis {
    TimeAxis::every(
        MORNING_END - 25.0 * MIN..MORNING_END,
        5.0 * MIN,
        clock,
        MORNING_DESC,
    )
}

fn connections_chart() -> Chart {
    let samples = activity();
    let panel = |title: &str, time: TimeAxis| {
        let series = |name: &str, color, value: fn(&ActivitySample) -> f64| Series {
            name: name.to_owned(),
            color,
            points: samples.iter().map(|s| (s.t, value(s))).collect(),
        };
        Panel {
            title: title.to_owned(),
            time,
            y_desc: "connections".to_owned(),
            y_range: 0.0..230.0,
            y_format: |v| format!("{v:.0}"),
            series: vec![
                series("total", palette::BLACK, ActivitySample::total),
                series("active", palette::BLUE, |s| s.active),
                series("idle", palette::GREEN, |s| s.idle),
                series("idle in transaction", palette::ORANGE, |s| {
                    s.idle_in_transaction
                }),
                series(
                    "waiting for a lock (wait_event_type = Lock)",
                    palette::RED,
                    |s| s.waiting_for_lock,
                ),
            ],
            limits: vec![Limit {
                name: format!("max_connections = {MAX_CONNECTIONS}"),
                value: f64::from(MAX_CONNECTIONS),
            }],
        }
    };
    Chart {
        size: (1200, 1000),
        title: "pg-shop-1 (primary): client connections by state".to_owned(),
        subtitle: "source: pg_stat_activity, backend_type = 'client backend', every 15 s"
            .to_owned(),
        panels: vec![
            panel("06:00 to 10:45", morning_axis()),
            panel("10:20 to 10:45", close_up_axis()),
        ],
    }
}

/// Age in minutes of the oldest open transaction of each application at one minute; `None`
/// while the application has no open transaction (no point is drawn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OldestTransactions {
    /// Seconds after 06:00.
    pub t: f64,
    /// shop-web.
    pub web: f64,
    /// etl-reporting.
    pub etl: Option<f64>,
    /// shop-migrate.
    pub migration: Option<f64>,
}

/// The oldest transactions every minute from 06:00 to 10:45.
pub fn oldest_transactions() -> Vec<OldestTransactions> {
    let mut noise = Noise(0xE7_1208);
    times(0.0, MORNING_END, MIN)
        .map(|t| OldestTransactions {
            t,
            // Web transactions last milliseconds to a few seconds, until they queue behind the
            // migration (the first one two seconds after it) and give up after
            // statement_timeout.
            web: if t > MIGRATION + 2.0 {
                (t - MIGRATION - 2.0).min(WEB_STATEMENT_TIMEOUT) / MIN
            } else {
                (0.02 + 0.015 * noise.next()).max(0.0)
            },
            etl: (t >= ETL_BEGIN).then(|| (t - ETL_BEGIN) / MIN),
            migration: (t >= MIGRATION).then(|| (t - MIGRATION) / MIN),
        })
        .collect()
}

/// Dead rows of carts and orders every minute, in thousands. Autovacuum clears carts when about
/// 30 000 rows are dead, until the reporting transaction pins the xmin horizon: then it runs but
/// removes nothing. Once the application stalls, nothing more is written.
pub fn dead_rows() -> Vec<(f64, f64, f64)> {
    let mut noise = Noise(0xDEAD_0613);
    let stalled = MIGRATION + MIN;
    let mut carts: f64 = 4_000.0;
    let mut orders: f64 = 1_850.0;
    times(0.0, MORNING_END, MIN)
        .map(|t| {
            let traffic = morning_traffic(t);
            let writing = if t < stalled { 1.0 } else { 0.03 };
            carts += writing * (1_300.0 + 1_500.0 * traffic) * (1.0 + 0.15 * noise.next());
            orders += writing * 9.0 * traffic * (1.0 + 0.4 * noise.next());
            if t < ETL_BEGIN && carts > 30_000.0 {
                carts = 800.0 + 400.0 * noise.next();
            }
            (t, carts / 1000.0, orders / 1000.0)
        })
        .collect()
}

fn transactions_chart() -> Chart {
    let oldest = oldest_transactions();
    let dead = dead_rows();
    let optional = |pick: fn(&OldestTransactions) -> Option<f64>| {
        oldest
            .iter()
            .filter_map(|row| pick(row).map(|v| (row.t, v)))
            .collect::<Vec<_>>()
    };
    Chart {
        size: (1200, 900),
        title: "pg-shop-1 (primary): transactions and vacuum".to_owned(),
        subtitle: "sources: pg_stat_activity (now() - xact_start, by application_name), \
                   pg_stat_user_tables (n_dead_tup), every 60 s"
            .to_owned(),
        panels: vec![
            Panel {
                title: "Age of the oldest open transaction, by application_name".to_owned(),
                time: morning_axis(),
                y_desc: "minutes".to_owned(),
                y_range: 0.0..180.0,
                y_format: |v| format!("{v:.0}"),
                series: vec![
                    Series {
                        name: "etl-reporting".to_owned(),
                        color: palette::ORANGE,
                        points: optional(|r| r.etl),
                    },
                    Series {
                        name: "shop-migrate".to_owned(),
                        color: palette::PURPLE,
                        points: optional(|r| r.migration),
                    },
                    Series {
                        name: "shop-web".to_owned(),
                        color: palette::BLUE,
                        points: oldest.iter().map(|r| (r.t, r.web)).collect(),
                    },
                ],
                limits: Vec::new(),
            },
            Panel {
                title: "Dead rows (n_dead_tup)".to_owned(),
                time: morning_axis(),
                y_desc: "thousands of rows".to_owned(),
                y_range: 0.0..500.0,
                y_format: |v| format!("{v:.0}"),
                series: vec![
                    Series {
                        name: "public.carts".to_owned(),
                        color: palette::GREEN,
                        points: dead.iter().map(|r| (r.0, r.1)).collect(),
                    },
                    Series {
                        name: "public.orders".to_owned(),
                        color: palette::RED,
                        points: dead.iter().map(|r| (r.0, r.2)).collect(),
                    },
                ],
                limits: Vec::new(),
            },
        ],
    }
}

/// `30 May`, `1 Jun` for a time of the fortnight window (time 0 is 30 May 00:00 UTC).
fn date(t: f64) -> String {
    let day = 30 + (t / DAY).floor() as u32;
    if day <= 31 {
        format!("{day} May")
    } else {
        format!("{} Jun", day - 31)
    }
}

/// GiB of WAL the primary writes per hour at a time of the fortnight: more during the shop's
/// day, less at weekends, a burst during the nightly batch jobs at 02:00.
fn wal_gib_per_hour(t: f64) -> f64 {
    let hour = (t % DAY) / HOUR;
    // 30 May 2024 is a Thursday: days 2, 3, 9 and 10 are weekends.
    let weekend = matches!((t / DAY).floor() as u32, 2 | 3 | 9 | 10);
    let base = match hour {
        h if (2.0..3.0).contains(&h) => 1.1,
        h if (6.0..21.0).contains(&h) => 0.39,
        _ => 0.14,
    };
    if weekend { base * 0.7 } else { base }
}

/// One 5-minute sample of the fortnight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplicationSample {
    /// Seconds after 30 May 00:00 UTC.
    pub t: f64,
    /// pg_stat_replication.replay_lag of pg-shop-2 in seconds; `None` when it has no row.
    pub replay_lag_s: Option<f64>,
    /// WAL between the current position and the slot's restart_lsn, GiB.
    pub slot_retained_gib: f64,
    /// Used share of /var/lib/postgresql, percent.
    pub disk_used_percent: f64,
}

/// Replication and disk every 5 minutes over the fortnight.
pub fn replication() -> Vec<ReplicationSample> {
    let mut noise = Noise(0x0604_0214);
    let step = 5.0 * MIN;
    let mut retained_since_loss = 0.0;
    times(0.0, FORTNIGHT_END, step)
        .map(|t| {
            let hour = (t % DAY) / HOUR;
            let connected = t < STANDBY_LOST;
            let replay_lag_s = connected.then(|| {
                let nightly = if (2.0..2.75).contains(&hour) {
                    6.5
                } else {
                    0.0
                };
                (0.25 + nightly + 0.08 * noise.next()).max(0.05)
            });
            if !connected {
                retained_since_loss += wal_gib_per_hour(t) * step / HOUR;
            }
            // A connected, caught-up standby keeps only the WAL since the last checkpoint.
            let checkpoint_phase = (t % (15.0 * MIN)) / (15.0 * MIN);
            let slot_retained_gib = if connected {
                0.02 + 0.09 * checkpoint_phase * wal_gib_per_hour(t) / 0.36
            } else {
                retained_since_loss
            };
            // Tables and indexes grow slowly; pg_wal holds up to ~2.5 GiB between checkpoints
            // unless the slot holds more.
            let data_gib = 21.0 + 0.09 * t / DAY + 0.02 * noise.next();
            let pg_wal_gib = (1.8 + 0.3 * checkpoint_phase).max(slot_retained_gib);
            ReplicationSample {
                t,
                replay_lag_s,
                slot_retained_gib,
                disk_used_percent: 100.0 * (data_gib + pg_wal_gib) / VOLUME_GIB,
            }
        })
        .collect()
}

fn fortnight_axis() -> TimeAxis {
    TimeAxis::every(
        0.0..FORTNIGHT_END,
        2.0 * DAY,
        date,
        "date (UTC), 2024, ticks at 00:00",
    )
}

fn replication_chart() -> Chart {
    let samples = replication();
    Chart {
        size: (1200, 1100),
        title: "pg-shop-1 (primary): replication and disk".to_owned(),
        subtitle: "sources: pg_stat_replication, pg_replication_slots, \
                   node_filesystem (node_exporter), every 5 min"
            .to_owned(),
        panels: vec![
            Panel {
                title: "Replay lag of the standby pg-shop-2 (replay_lag)".to_owned(),
                time: fortnight_axis(),
                y_desc: "seconds".to_owned(),
                y_range: 0.0..10.0,
                y_format: |v| format!("{v:.0}"),
                series: vec![Series {
                    name: "pg-shop-2".to_owned(),
                    color: palette::BLUE,
                    points: samples
                        .iter()
                        .filter_map(|s| s.replay_lag_s.map(|v| (s.t, v)))
                        .collect(),
                }],
                limits: Vec::new(),
            },
            Panel {
                title: "WAL retained by replication slots (pg_current_wal_lsn() - restart_lsn)"
                    .to_owned(),
                time: fortnight_axis(),
                y_desc: "GiB".to_owned(),
                y_range: 0.0..80.0,
                y_format: |v| format!("{v:.0}"),
                series: vec![Series {
                    name: "slot pg_shop_2 (physical)".to_owned(),
                    color: palette::PURPLE,
                    points: samples.iter().map(|s| (s.t, s.slot_retained_gib)).collect(),
                }],
                limits: Vec::new(),
            },
            Panel {
                title: "Filesystem /var/lib/postgresql (100 GiB), used".to_owned(),
                time: fortnight_axis(),
                y_desc: "percent".to_owned(),
                y_range: 0.0..100.0,
                y_format: |v| format!("{v:.0} %"),
                series: vec![Series {
                    name: "pg-shop-1".to_owned(),
                    color: palette::RED,
                    points: samples.iter().map(|s| (s.t, s.disk_used_percent)).collect(),
                }],
                limits: Vec::new(),
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init_sql() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../content/postgres/00_init.sql"
        );
        std::fs::read_to_string(path).expect("content/postgres/00_init.sql exists")
    }

    #[test]
    fn the_limits_on_the_graphs_are_the_settings_of_00_init_sql() {
        let sql = init_sql();
        assert!(sql.contains(&format!(
            "ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};"
        )));
        assert!(sql.contains(&format!(
            "ALTER SYSTEM SET superuser_reserved_connections = {SUPERUSER_RESERVED};"
        )));
    }

    #[test]
    fn connections_stop_at_the_limit_for_non_superusers() {
        let samples = activity();
        let ceiling = f64::from(MAX_CONNECTIONS - SUPERUSER_RESERVED);
        assert!(samples.iter().all(|s| s.total() <= ceiling));
        let last = samples.last().unwrap();
        assert_eq!(last.total(), ceiling);
        // Before the migration the server is far from full.
        let before = samples.iter().filter(|s| s.t < MIGRATION);
        assert!(before.clone().all(|s| s.total() < 80.0));
        assert!(before.clone().all(|s| s.waiting_for_lock <= 1.0));
        // Full within five minutes of it.
        let full = samples.iter().find(|s| s.total() == ceiling).unwrap();
        assert!(full.t - MIGRATION < 5.0 * MIN, "{}", clock(full.t));
    }

    #[test]
    fn the_slot_fills_the_disk_but_not_yet_completely() {
        let samples = replication();
        let last = samples.last().unwrap();
        assert!(last.replay_lag_s.is_none());
        assert!((85.0..97.0).contains(&last.disk_used_percent), "{last:?}");
        let first = samples.first().unwrap();
        assert!(first.disk_used_percent < 30.0, "{first:?}");
        assert!(last.slot_retained_gib > 55.0, "{last:?}");
    }

    #[test]
    fn every_point_is_inside_its_panel() {
        for chart in [
            connections_chart(),
            transactions_chart(),
            replication_chart(),
        ] {
            for panel in &chart.panels {
                for series in &panel.series {
                    for (t, v) in &series.points {
                        assert!(
                            panel.y_range.contains(v),
                            "{} / {} / {}: {v} at {t} is outside {:?}",
                            chart.title,
                            panel.title,
                            series.name,
                            panel.y_range
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn labels_read_as_times_and_dates() {
        assert_eq!(clock(0.0), "06:00");
        assert_eq!(clock(MIGRATION), "10:32");
        assert_eq!(date(0.0), "30 May");
        assert_eq!(date(2.0 * DAY), "1 Jun");
        assert_eq!(date(STANDBY_LOST), "4 Jun");
    }
}
