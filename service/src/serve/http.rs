//! HTTP on port 8817: `/health` for probes and `/metrics` for Prometheus.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::{Encoder, IntCounter, IntGauge, Registry, TextEncoder};

use crate::exec::Executor;

pub(crate) fn router(exec: Arc<Executor>) -> Router {
    Router::new().route("/health", get(health)).route("/metrics", get(metrics)).with_state(exec)
}

async fn health(State(exec): State<Arc<Executor>>) -> impl IntoResponse {
    let body = serde_json::json!({"status": "ok", "node_id": exec.me.node_id, "flight": exec.me.flight});
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string())
}

async fn metrics(State(exec): State<Arc<Executor>>) -> impl IntoResponse {
    match render(&exec) {
        Ok(text) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain")], e.to_string()),
    }
}

/// The node's counters in Prometheus text format, read from the caches at scrape time.
pub(crate) fn render(exec: &Executor) -> prometheus::Result<String> {
    let registry = Registry::new();
    for (prefix, stats) in
        [("arrow_cache", exec.loader.columns.stats()), ("arrow_cache_index", exec.loader.index.stats())]
    {
        let pool = if prefix == "arrow_cache" { "decoded Arrow columns" } else { "Parquet footers and delete files" };
        for (name, help, value) in [
            ("bytes_cached", "bytes held now", stats.used_bytes),
            ("bytes_cached_peak", "the most bytes ever held", stats.peak_bytes),
            ("budget_bytes", "bytes the pool may hold", stats.budget_bytes),
            ("entries", "entries held now", stats.entries),
        ] {
            let g = IntGauge::new(format!("{prefix}_{name}"), format!("{pool}: {help}"))?;
            g.set(value as i64);
            registry.register(Box::new(g))?;
        }
        for (name, help, value) in [
            ("hits_total", "lookups answered from memory", stats.hits),
            ("misses_total", "lookups that loaded from the object store", stats.misses),
            ("evictions_total", "entries dropped to stay within the budget", stats.evictions),
            ("oversized_total", "values too large to cache", stats.oversized),
        ] {
            let c = IntCounter::new(format!("{prefix}_{name}"), format!("{pool}: {help}"))?;
            c.inc_by(value);
            registry.register(Box::new(c))?;
        }
    }
    let skipped = &exec.reader.skipped;
    for (name, help, counter) in [
        ("row_groups_read_total", "row groups read after skipping", &skipped.row_groups_read),
        (
            "row_groups_skipped_by_stats_total",
            "row groups skipped by their min/max statistics",
            &skipped.row_groups_skipped_by_stats,
        ),
        (
            "row_groups_skipped_by_page_index_total",
            "row groups skipped because no page can match",
            &skipped.row_groups_skipped_by_page_index,
        ),
        (
            "rows_skipped_by_page_index_total",
            "rows of read row groups ruled out by the page index",
            &skipped.rows_skipped_by_page_index,
        ),
    ] {
        let c = IntCounter::new(format!("arrow_cache_{name}"), format!("scans: {help}"))?;
        c.inc_by(counter.load(std::sync::atomic::Ordering::Relaxed));
        registry.register(Box::new(c))?;
    }
    let mut out = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
