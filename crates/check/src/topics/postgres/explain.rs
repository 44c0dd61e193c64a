//! Reading `EXPLAIN (FORMAT JSON)` output: which scans a plan makes and how much it read.
//!
//! Only the fields the checks need are read; everything else PostgreSQL prints is ignored, so a
//! newer minor version that adds fields still parses.

use anyhow::{Context, bail};
use serde_json::Value;

/// One plan node that reads a table (a scan), as `EXPLAIN` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// `Seq Scan`, `Index Scan`, `Bitmap Heap Scan`, …
    pub node_type: String,
    /// The table it reads.
    pub relation: String,
    /// The index it uses, for index scans.
    pub index: Option<String>,
}

impl Scan {
    /// Whether this node reads the whole of `table` sequentially (parallel or not).
    pub fn is_seq_scan_of(&self, table: &str) -> bool {
        self.node_type == "Seq Scan" && self.relation == table
    }
}

impl std::fmt::Display for Scan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.index {
            Some(index) => write!(f, "{} using {index} on {}", self.node_type, self.relation),
            None => write!(f, "{} on {}", self.node_type, self.relation),
        }
    }
}

/// What one `EXPLAIN` of one query showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// Every node that reads a table, in plan order.
    pub scans: Vec<Scan>,
    /// Shared buffers the execution touched (hit + read), when the plan was executed
    /// (`ANALYZE, BUFFERS`): the work the query did, independent of the machine's speed.
    pub buffers: Option<u64>,
    /// Execution time in milliseconds, when the plan was executed.
    pub execution_ms: Option<f64>,
}

impl Explained {
    /// Parses the JSON document `EXPLAIN (FORMAT JSON)` prints for one statement.
    pub fn parse(json: &Value) -> anyhow::Result<Explained> {
        let top = json
            .as_array()
            .and_then(|a| a.first())
            .context("EXPLAIN output is not a one-element JSON array")?;
        let plan = top.get("Plan").context("EXPLAIN output has no \"Plan\"")?;
        let mut scans = Vec::new();
        collect_scans(plan, &mut scans);
        let buffers = match (
            plan.get("Shared Hit Blocks").and_then(Value::as_u64),
            plan.get("Shared Read Blocks").and_then(Value::as_u64),
        ) {
            (Some(hit), Some(read)) => Some(hit + read),
            (None, None) => None,
            _ => bail!("EXPLAIN output has only one of Shared Hit/Read Blocks"),
        };
        Ok(Explained {
            scans,
            buffers,
            execution_ms: top.get("Execution Time").and_then(Value::as_f64),
        })
    }

    /// Whether the plan reads `table` with a sequential scan.
    pub fn seq_scans(&self, table: &str) -> bool {
        self.scans.iter().any(|s| s.is_seq_scan_of(table))
    }

    /// The scans, for evidence: `Seq Scan on orders, Index Scan using … on customers`.
    pub fn describe_scans(&self) -> String {
        if self.scans.is_empty() {
            return "no table scan".to_owned();
        }
        self.scans
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Parses every JSON document in `text` (psql prints one per EXPLAIN, one after the other).
pub fn parse_all(text: &str) -> anyhow::Result<Vec<Explained>> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|doc| {
            let doc = doc.context("psql printed something that is not EXPLAIN JSON")?;
            Explained::parse(&doc)
        })
        .collect()
}

fn collect_scans(node: &Value, scans: &mut Vec<Scan>) {
    let text = |key: &str| node.get(key).and_then(Value::as_str).map(str::to_owned);
    if let (Some(node_type), Some(relation)) = (text("Node Type"), text("Relation Name")) {
        scans.push(Scan {
            node_type,
            relation,
            index: text("Index Name"),
        });
    }
    for child in node
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_scans(child, scans);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parallel sequential scan under Gather Merge, as PostgreSQL 15 prints it (trimmed).
    const PARALLEL_SEQ_SCAN: &str = r#"[
      { "Plan": { "Node Type": "Limit", "Shared Hit Blocks": 4100, "Shared Read Blocks": 95,
          "Plans": [ { "Node Type": "Gather Merge", "Plans": [ { "Node Type": "Sort",
            "Plans": [ { "Node Type": "Seq Scan", "Parallel Aware": true,
              "Relation Name": "orders", "Alias": "orders" } ] } ] } ] },
        "Planning Time": 0.2, "Execution Time": 49.5 }
    ]"#;

    const BITMAP_SCAN: &str = r#"[
      { "Plan": { "Node Type": "Bitmap Heap Scan", "Relation Name": "orders",
          "Plans": [ { "Node Type": "Bitmap Index Scan", "Index Name": "orders_brin" } ] } }
    ]"#;

    #[test]
    fn a_parallel_seq_scan_is_a_seq_scan_and_buffers_add_hits_and_reads() {
        let plans = parse_all(PARALLEL_SEQ_SCAN).unwrap();
        assert_eq!(plans.len(), 1);
        let plan = &plans[0];
        assert!(plan.seq_scans("orders"));
        assert!(!plan.seq_scans("customers"));
        assert_eq!(plan.buffers, Some(4195));
        assert_eq!(plan.execution_ms, Some(49.5));
        assert_eq!(plan.describe_scans(), "Seq Scan on orders");
    }

    #[test]
    fn a_plan_without_analyze_has_no_measurements_and_index_names_show() {
        let plans = parse_all(&format!("{BITMAP_SCAN}\n{PARALLEL_SEQ_SCAN}")).unwrap();
        assert_eq!(plans.len(), 2);
        assert_eq!(plans[0].buffers, None);
        assert_eq!(plans[0].execution_ms, None);
        assert!(!plans[0].seq_scans("orders"));
        assert_eq!(plans[0].describe_scans(), "Bitmap Heap Scan on orders");
    }

    #[test]
    fn text_that_is_not_explain_json_is_an_error() {
        assert!(parse_all("ERROR:  relation \"orders\" does not exist").is_err());
        assert!(parse_all(r#"[{"Planning Time": 1}]"#).is_err());
    }
}
