//! `docs/REFERENCE.md` names everything of the wire that this crate defines:
//! every action, scan request field, filter type, control-plane call and
//! header. A name added here and not documented fails this test.

use std::path::PathBuf;

use arrow_cache_protocol::action::ACTIONS;
use arrow_cache_protocol::headers::IPC_COMPRESSION;
use arrow_cache_protocol::scan::{Aggregate, AggregateMode, ScanRequest};

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn missing<'a>(reference: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    names.into_iter().filter(|n| !reference.contains(&format!("`{n}`"))).collect()
}

#[test]
fn the_reference_names_every_action_field_filter_call_and_header() {
    let reference = read("../docs/REFERENCE.md");
    let actions = ACTIONS.iter().map(|(name, _)| *name);
    assert_eq!(missing(&reference, actions), Vec::<&str>::new(), "actions");

    // Every key a full scan request serializes.
    let full = ScanRequest {
        table: "t".into(),
        columns: Some(vec![]),
        filter: Some(serde_json::json!(true)),
        snapshot_id: Some(1),
        as_of_timestamp_ms: Some(1),
        branch: Some("b".into()),
        tag: Some("t".into()),
        limit: Some(1),
        aggregate: Some(Aggregate { group_by: vec![], functions: vec![], mode: AggregateMode::Final }),
        order_by: Some(vec![]),
        target_splits: Some(1),
    };
    let fields: Vec<String> = serde_json::to_value(full).unwrap().as_object().unwrap().keys().cloned().collect();
    assert_eq!(missing(&reference, fields.iter().map(String::as_str)), Vec::<&str>::new(), "scan request fields");

    let filters = [
        "eq",
        "not-eq",
        "lt",
        "lt-eq",
        "gt",
        "gt-eq",
        "in",
        "not-in",
        "is-null",
        "not-null",
        "is-nan",
        "not-nan",
        "starts-with",
        "not-starts-with",
        "and",
        "or",
        "not",
        "true",
        "false",
    ];
    assert_eq!(missing(&reference, filters), Vec::<&str>::new(), "filter types");

    let proto = read("proto/arrow_cache/control/v1/control.proto");
    let calls: Vec<&str> =
        proto.lines().filter_map(|l| l.trim().strip_prefix("rpc ")).filter_map(|l| l.split('(').next()).collect();
    assert!(calls.len() >= 9, "{calls:?}");
    assert_eq!(missing(&reference, calls), Vec::<&str>::new(), "control-plane calls");

    assert_eq!(missing(&reference, [IPC_COMPRESSION]), Vec::<&str>::new(), "headers");

    let functions = ["count_star", "count", "sum", "min", "max", "avg"];
    assert_eq!(missing(&reference, functions), Vec::<&str>::new(), "aggregate functions");
    assert_eq!(missing(&reference, ["partial", "final", "group_by", "direction", "nulls"]), Vec::<&str>::new());
}
