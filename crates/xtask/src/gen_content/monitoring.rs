//! Topic III's screenshots: what the on-call engineer saw on the shop's production hosts during
//! an incident on Tuesday 11 March 2025 (all times UTC). The logs use the real formats of nginx
//! 1.22's error log, PostgreSQL 15's log with Debian's `log_line_prefix` ('%m [%p] %q%u@%d '),
//! and journald's view of the kernel's OOM killer, with ordinary noise around the incident.
//!
//! The facts the README's questions rely on: web-01 runs nginx in front of the API servers
//! app-01 (10.20.1.21) and app-02 (10.20.1.22), port 8000, `proxy_read_timeout 10s`; db-01 runs
//! PostgreSQL 15 with 8 GB of RAM, no swap, `max_connections = 100`.

use super::GeneratedFile;
use super::terminal::{Line, Terminal, color};

/// Columns of the terminal windows.
const COLUMNS: usize = 150;

/// The screenshots, under content/.
pub fn files() -> anyhow::Result<Vec<GeneratedFile>> {
    Ok(vec![
        GeneratedFile::new("monitoring/screenshots/screenshot1.png", web_01().png()?),
        GeneratedFile::new("monitoring/screenshots/screenshot2.png", db_01().png()?),
    ])
}

const CLIENT_SITE: &str = "server: shop.example.com";

/// An nginx error log line for a request proxied to the API.
fn upstream_error(
    time: &str,
    worker: u32,
    conn: u32,
    what: &str,
    client: &str,
    request: &str,
    upstream: &str,
) -> Line {
    let level = if what.starts_with("upstream server temporarily disabled") {
        "warn"
    } else {
        "error"
    };
    Line::colored(
        &format!(
            "2025/03/11 {time} [{level}] {worker}#{worker}: *{conn} {what}, client: {client}, {CLIENT_SITE}, \
             request: \"{request} HTTP/2.0\", upstream: \"{upstream}\", host: \"shop.example.com\""
        ),
        color::TEXT,
    )
}

const TIMED_OUT: &str =
    "upstream timed out (110: Connection timed out) while reading response header from upstream";
const DISABLED: &str =
    "upstream server temporarily disabled while reading response header from upstream";
const NO_LIVE: &str = "no live upstreams while connecting to upstream";
const APP_01: &str = "http://10.20.1.21:8000";
const APP_02: &str = "http://10.20.1.22:8000";

/// Screenshot 1: the end of nginx's error log on web-01.
fn web_01() -> Terminal {
    let orders = |base: &str| format!("{base}/api/orders");
    let customer = |base: &str, id: u32| format!("{base}/api/orders?customer={id}");
    let lines = vec![
        Line::prompt("sre@web-01", "sudo tail -n 13 /var/log/nginx/error.log"),
        Line::colored(
            "2025/03/11 14:01:37 [error] 2817#2817: *1846602 open() \"/var/www/shop/wp-login.php\" failed (2: No such file \
             or directory), client: 45.155.205.18, server: shop.example.com, request: \"GET /wp-login.php HTTP/1.1\", \
             host: \"203.0.113.10\"",
            color::TEXT,
        ),
        Line::colored(
            "2025/03/11 14:02:51 [warn] 2818#2818: *1848870 a client request body is buffered to a temporary file \
             /var/lib/nginx/body/0000048214, client: 198.51.100.77, server: shop.example.com, request: \"POST \
             /api/orders HTTP/2.0\", host: \"shop.example.com\"",
            color::TEXT,
        ),
        upstream_error(
            "14:03:14",
            2817,
            1849113,
            TIMED_OUT,
            "198.51.100.23",
            "POST /api/orders",
            &orders(APP_01),
        ),
        upstream_error(
            "14:03:19",
            2818,
            1849187,
            TIMED_OUT,
            "203.0.113.54",
            "POST /api/orders",
            &orders(APP_02),
        ),
        upstream_error(
            "14:03:42",
            2817,
            1849530,
            TIMED_OUT,
            "192.0.2.140",
            "GET /api/orders?customer=1842",
            &customer(APP_01, 1842),
        ),
        upstream_error(
            "14:04:02",
            2817,
            1849866,
            DISABLED,
            "198.51.100.9",
            "POST /api/orders",
            &orders(APP_01),
        ),
        upstream_error(
            "14:04:02",
            2817,
            1849866,
            TIMED_OUT,
            "198.51.100.9",
            "POST /api/orders",
            &orders(APP_01),
        ),
        upstream_error(
            "14:05:31",
            2818,
            1851407,
            DISABLED,
            "203.0.113.201",
            "GET /api/orders?customer=977",
            &customer(APP_02, 977),
        ),
        upstream_error(
            "14:05:31",
            2818,
            1851407,
            TIMED_OUT,
            "203.0.113.201",
            "GET /api/orders?customer=977",
            &customer(APP_02, 977),
        ),
        upstream_error(
            "14:06:44",
            2817,
            1852207,
            NO_LIVE,
            "198.51.100.61",
            "POST /api/orders",
            "http://shop_app/api/orders",
        ),
        upstream_error(
            "14:06:44",
            2818,
            1852210,
            NO_LIVE,
            "192.0.2.33",
            "GET /api/orders?customer=3120",
            "http://shop_app/api/orders?customer=3120",
        ),
        upstream_error(
            "14:06:47",
            2817,
            1852251,
            NO_LIVE,
            "203.0.113.54",
            "POST /api/orders",
            "http://shop_app/api/orders",
        ),
        Line::colored(
            "2025/03/11 14:07:21 [error] 2818#2818: *1853378 open() \"/var/www/shop/.env\" failed (2: No such file or \
             directory), client: 45.155.205.18, server: shop.example.com, request: \"GET /.env HTTP/1.1\", host: \
             \"203.0.113.10\"",
            color::TEXT,
        ),
        Line::prompt("sre@web-01", ""),
    ];
    Terminal {
        title: "sre@web-01: ~".into(),
        columns: COLUMNS,
        lines,
        cursor: true,
    }
}

/// A PostgreSQL log line with Debian's prefix; `who` is `user@database` or empty for server
/// processes.
fn pg(time: &str, pid: u32, who: &str, message: &str) -> Line {
    let who = if who.is_empty() {
        String::new()
    } else {
        format!("{who} ")
    };
    Line::colored(
        &format!("2025-03-11 {time} UTC [{pid}] {who}{message}"),
        color::TEXT,
    )
}

/// What the engineer filtered the kernel log for.
const KERNEL_FILTER: [&str; 6] = [
    "oom",
    "Mem-Info",
    "active_anon",
    "swap",
    "pages RAM",
    "Out of memory",
];

/// A kernel line as `journalctl -k | grep -E …` shows it: journalctl writes no colours into a
/// pipe, grep highlights what matched (bold red, its default).
fn kernel(message: &str) -> Line {
    let text = format!("Mar 11 14:06:41 db-01 kernel: {message}");
    let mut line = Line::default();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let next = KERNEL_FILTER
            .iter()
            .filter_map(|p| rest.find(p).map(|at| (at, *p)))
            .min();
        match next {
            Some((at, pattern)) => {
                line = line
                    .then(&rest[..at], color::TEXT)
                    .then(pattern, color::ERROR);
                rest = &rest[at + pattern.len()..];
            }
            None => {
                line = line.then(rest, color::TEXT);
                rest = "";
            }
        }
    }
    line
}

/// Screenshot 2: PostgreSQL's log and the kernel log on db-01.
fn db_01() -> Terminal {
    const SHOP: &str = "shop@shop";
    const TOO_MANY: &str = "FATAL:  sorry, too many clients already";
    let lines = vec![
        Line::prompt(
            "sre@db-01",
            "sudo tail -n 24 /var/log/postgresql/postgresql-15-main.log",
        ),
        pg("14:02:31.008", 1131, "", "LOG:  checkpoint starting: time"),
        pg(
            "14:02:49.533",
            51002,
            SHOP,
            "LOG:  process 51002 still waiting for ShareLock on transaction 88213401 after 1000.104 ms",
        ),
        pg(
            "14:02:49.533",
            51002,
            SHOP,
            "DETAIL:  Process holding the lock: 50102. Wait queue: 51002, 51019, 51023.",
        ),
        pg(
            "14:02:49.533",
            51002,
            SHOP,
            "CONTEXT:  while locking tuple (812,7) in relation \"products\"",
        ),
        pg(
            "14:02:49.533",
            51002,
            SHOP,
            "STATEMENT:  SELECT id, price_cents FROM products WHERE id = ANY($1) FOR SHARE",
        ),
        pg("14:03:12.406", 51877, SHOP, TOO_MANY),
        pg("14:03:12.418", 51878, SHOP, TOO_MANY),
        pg(
            "14:03:20.977",
            1131,
            "",
            "LOG:  checkpoints are occurring too frequently (19 seconds apart)",
        ),
        pg(
            "14:03:20.977",
            1131,
            "",
            "HINT:  Consider increasing the configuration parameter \"max_wal_size\".",
        ),
        pg("14:03:20.977", 1131, "", "LOG:  checkpoint starting: wal"),
        pg(
            "14:03:58.212",
            50102,
            "pricing@shop",
            "LOG:  duration: 87204.419 ms  execute <unnamed>: UPDATE products SET price_cents = round(price_cents * 0.85) \
             WHERE category_id = ANY($1)",
        ),
        pg(
            "14:03:58.212",
            50102,
            "pricing@shop",
            "DETAIL:  parameters: $1 = '{3,7,12,15}'",
        ),
        pg("14:04:31.660", 52044, SHOP, TOO_MANY),
        pg(
            "14:05:48.127",
            48213,
            "report@shop",
            "LOG:  temporary file: path \"base/pgsql_tmp/pgsql_tmp48213.7\", size 1073741824",
        ),
        pg("14:05:57.903", 52189, SHOP, TOO_MANY),
        pg(
            "14:06:41.902",
            1123,
            "",
            "LOG:  server process (PID 48213) was terminated by signal 9: Killed",
        ),
        pg(
            "14:06:41.902",
            1123,
            "",
            "DETAIL:  Failed process was running: SELECT o.customer_id, count(*), sum(i.quantity * i.price_cents) FROM \
             orders o JOIN order_items i ON i.order_id = o.id WHERE o.created_at > now() - interval '365 days' GROUP BY \
             o.customer_id ORDER BY 3 DESC",
        ),
        pg(
            "14:06:41.902",
            1123,
            "",
            "LOG:  terminating any other active server processes",
        ),
        pg(
            "14:06:42.017",
            1123,
            "",
            "LOG:  all server processes terminated; reinitializing",
        ),
        pg(
            "14:06:42.131",
            52210,
            "",
            "LOG:  database system was interrupted; last known up at 2025-03-11 14:05:58 UTC",
        ),
        pg(
            "14:06:42.388",
            52210,
            "",
            "LOG:  database system was not properly shut down; automatic recovery in progress",
        ),
        pg(
            "14:06:42.401",
            52210,
            "",
            "LOG:  redo starts at 3A/1F0021B8",
        ),
        pg(
            "14:06:50.873",
            52210,
            "",
            "LOG:  redo done at 3A/2C5D1E40 system usage: CPU: user: 5.21 s, system: 1.84 s, elapsed: 8.47 s",
        ),
        pg(
            "14:06:51.960",
            1123,
            "",
            "LOG:  database system is ready to accept connections",
        ),
        Line::prompt(
            "sre@db-01",
            &format!(
                "sudo journalctl -k --since 14:00 --no-pager | grep -E '{}'",
                KERNEL_FILTER.join("|")
            ),
        ),
        kernel(
            "postgres invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0",
        ),
        kernel("Mem-Info:"),
        kernel(
            "active_anon:1603170 inactive_anon:262146 isolated_anon:0 active_file:1106 inactive_file:988 isolated_file:0 \
             unevictable:0 dirty:0 writeback:0 slab_reclaimable:9820 slab_unreclaimable:14233 mapped:327870 \
             shmem:327912 pagetables:18220 free:24877 free_pcp:0 free_cma:0",
        ),
        kernel("Free swap  = 0kB"),
        kernel("Total swap = 0kB"),
        kernel("2097017 pages RAM"),
        kernel(
            "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,\
             task_memcg=/system.slice/system-postgresql.slice/postgresql@15-main.service,task=postgres,pid=48213,uid=112",
        ),
        kernel(
            "Out of memory: Killed process 48213 (postgres) total-vm:3284528kB, anon-rss:1967340kB, file-rss:0kB, \
             shmem-rss:1302116kB, UID:112 pgtables:5212kB oom_score_adj:0",
        ),
        Line::prompt("sre@db-01", ""),
    ];
    Terminal {
        title: "sre@db-01: ~".into(),
        columns: COLUMNS,
        lines,
        cursor: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(terminal: &Terminal) -> String {
        terminal
            .lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.text.as_str()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_commands_show_as_many_lines_as_they_ask_for() {
        for (terminal, asked) in [(web_01(), 13), (db_01(), 24)] {
            let all = text(&terminal);
            let mut sections = all.split("sre@").skip(1);
            let first = sections.next().unwrap();
            assert!(first.contains(&format!("tail -n {asked} ")), "{first}");
            assert_eq!(first.lines().count() - 1, asked, "{}", terminal.title);
        }
    }

    #[test]
    fn the_story_is_consistent_across_the_two_hosts() {
        let web = text(&web_01());
        let db = text(&db_01());
        // The first nginx timeouts (requests that started 10 s earlier, proxy_read_timeout)
        // fall while checkout queries wait on the locks of the price update (14:02:48-14:03:58).
        assert!(web.contains("14:03:14") && db.contains("14:02:49"));
        // The killed backend is the one that wrote the 1 GB temporary file.
        assert!(db.contains("pgsql_tmp48213") && db.contains("Killed process 48213"));
        assert!(db.contains("PID 48213) was terminated by signal 9"));
        // 2097017 pages of 4 kB: the 8 GB of RAM the README states.
        assert_eq!(2_097_017_u64 * 4096 / 1_000_000_000, 8);
    }
}
