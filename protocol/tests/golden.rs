//! Every golden file under `testdata/` parses into its wire type and re-emits
//! as the same JSON (the Java and Python suites check the same files).

use std::path::PathBuf;

use arrow_cache_protocol::action::TableAction;
use arrow_cache_protocol::from_json;
use arrow_cache_protocol::scan::{FragmentTicket, ScanMetadata, ScanRequest, ScanTicket};
use arrow_cache_protocol::status::StatusReport;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn testdata(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses `name` as a `T`, re-emits it, and checks nothing was lost or added.
fn round_trip<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let bytes = testdata(name);
    let parsed: T = from_json(&bytes, name).unwrap_or_else(|e| panic!("{e}"));
    let original: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), original, "{name} does not re-emit as itself");
    parsed
}

#[test]
fn every_golden_file_is_checked() {
    let mut names: Vec<String> = std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let checked = [
        "cluster_status.json",
        "fragment_ticket.json",
        "scan_app_metadata.json",
        "scan_request_aggregate.json",
        "scan_request_as_of.json",
        "scan_request_branch.json",
        "scan_request_full.json",
        "scan_request_minimal.json",
        "scan_request_tag.json",
        "scan_request_top_n.json",
        "scan_ticket.json",
        "table_action.json",
    ];
    assert_eq!(names, checked, "a golden file was added or removed: check it here, in Java and in Python");
}

#[test]
fn scan_requests() {
    use arrow_cache_protocol::scan::SnapshotSelector as S;
    let cases = [
        ("scan_request_minimal.json", S::Current),
        ("scan_request_full.json", S::Id(5783219837361936412)),
        ("scan_request_branch.json", S::Branch("audit".into())),
        ("scan_request_tag.json", S::Tag("release-2024-q1".into())),
        ("scan_request_as_of.json", S::AsOf(1700000000000)),
        ("scan_request_aggregate.json", S::Id(5783219837361936412)),
        ("scan_request_top_n.json", S::Tag("eod".into())),
    ];
    for (name, selector) in cases {
        let request: ScanRequest = round_trip(name);
        assert_eq!(request.snapshot().unwrap(), selector, "{name}");
        request.check().unwrap();
    }
    let top_n: ScanRequest = round_trip("scan_request_top_n.json");
    let keys = top_n.order_by.unwrap();
    assert!(!keys[0].nulls_first() && keys[1].nulls_first(), "desc nulls last; asc defaults to nulls first");
}

#[test]
fn tickets_actions_and_reports() {
    let ticket: ScanTicket = round_trip("scan_ticket.json");
    assert_eq!(ticket.split.bytes(), 67108864 + 1024);
    assert_eq!(ticket.split.rows(), None);
    round_trip::<FragmentTicket>("fragment_ticket.json");
    let action: TableAction = round_trip("table_action.json");
    action.check().unwrap();
    assert_eq!(TableAction::from(action.to_request(true)), action);
    round_trip::<ScanMetadata>("scan_app_metadata.json");
    let status: StatusReport = round_trip("cluster_status.json");
    assert_eq!(status.nodes[1].error.as_deref(), Some("no answer within 3s"));
}

#[test]
fn malformed_documents_name_the_field() {
    let e = from_json::<ScanRequest>(br#"{"table": "a.b", "limit": -1}"#, "scan request").unwrap_err();
    assert!(e.0.starts_with("malformed scan request: limit: "), "{e}");
    let e = from_json::<ScanRequest>(br#"{"table": "a.b", "colums": []}"#, "scan request").unwrap_err();
    assert!(e.0.contains("unknown field `colums`"), "{e}");
    let two: ScanRequest = from_json(br#"{"table": "a.b", "tag": "t", "snapshot_id": 1}"#, "scan request").unwrap();
    assert_eq!(
        two.snapshot().unwrap_err().0,
        "give one of snapshot_id, as_of_timestamp_ms, branch and tag, not snapshot_id and tag"
    );
    let bad = TableAction { table: "a.b".into(), partition: Some("region".into()), columns: None };
    assert!(bad.check().is_err());
    for (json, field) in [
        (r#"{"table": "a.b", "aggregate": {"functions": [], "mode": "final"}}"#, "aggregate.functions"),
        (r#"{"table": "a.b", "aggregate": {"functions": [{"fn": "sum"}], "mode": "final"}}"#, "aggregate.functions[0]"),
        (
            r#"{"table": "a.b", "aggregate": {"functions": [{"fn": "count_star", "term": "x"}], "mode": "partial"}}"#,
            "aggregate.functions[0]",
        ),
        (r#"{"table": "a.b", "order_by": []}"#, "order_by"),
        (r#"{"table": "a.b", "target_splits": 0}"#, "target_splits"),
    ] {
        let request: ScanRequest = from_json(json.as_bytes(), "scan request").unwrap();
        let e = request.check().unwrap_err();
        assert!(e.0.starts_with(field), "{json}: {e}");
    }
    for (json, field) in [
        (
            r#"{"table": "a.b", "aggregate": {"functions": [{"fn": "median", "term": "x"}], "mode": "final"}}"#,
            "aggregate.functions[0].fn",
        ),
        (
            r#"{"table": "a.b", "aggregate": {"functions": [{"fn": "sum", "term": "x"}], "mode": "both"}}"#,
            "aggregate.mode",
        ),
        (r#"{"table": "a.b", "order_by": [{"term": "x", "direction": "up"}]}"#, "order_by[0].direction"),
    ] {
        let e = from_json::<ScanRequest>(json.as_bytes(), "scan request").unwrap_err();
        assert!(e.0.contains(field), "{json}: {e}");
    }
}
