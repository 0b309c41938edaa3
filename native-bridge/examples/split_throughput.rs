//! Reads every split of a scan, single-threaded, through (a) a plain Rust
//! Flight client and (b) the bridge's C stream (what Java gets), and prints
//! rows/s and MB/s of each: the bridge-overhead half of the issue's benchmark.
//!
//!   cargo run --release -p arrow-cache-bridge --example split_throughput -- \
//!       127.0.0.1:8816 '{"table":"demo.sales_data"}' [passes]

use std::time::Instant;

use arrow::array::RecordBatchReader;
use arrow::ffi_stream::ArrowArrayStreamReader;
use arrow_cache_bridge::client::Client;
use arrow_cache_bridge::runtime;
use arrow_cache_protocol::address::flight_addr;
use base64::Engine as _;
use futures::StreamExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let cluster = args.get(1).map(String::as_str).unwrap_or("127.0.0.1:8816");
    let request = args.get(2).cloned().unwrap_or_else(|| r#"{"table":"demo.sales_data"}"#.to_string());
    let passes: usize = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(5);
    let client = Client::connect(cluster, std::time::Duration::from_secs(10))?;
    let (_, plan) = client.plan(request)?;
    let plan: serde_json::Value = serde_json::from_str(&plan)?;
    let splits: Vec<(Vec<u8>, String)> = plan["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let ticket = base64::engine::general_purpose::STANDARD.decode(s["ticket"].as_str().unwrap()).unwrap();
            (ticket, s["owners"][0]["flight"].as_str().unwrap().to_string())
        })
        .collect();

    for round in 0..2 {
        let start = Instant::now();
        let (mut rows, mut bytes) = (0usize, 0usize);
        for _ in 0..passes {
            for (ticket, location) in &splits {
                let addr = flight_addr(location)?;
                let (r, b) = runtime::runtime().block_on(async {
                    let opened = runtime::channels().do_get(&addr, ticket.clone(), None).await.unwrap();
                    let mut batches = opened.batches;
                    let (mut r, mut b) = (0, 0);
                    while let Some(batch) = batches.next().await {
                        let batch = batch.unwrap();
                        r += batch.num_rows();
                        b += arrow_cache_bridge::stream::batch_bytes(&batch) as usize;
                    }
                    (r, b)
                });
                rows += r;
                bytes += b;
            }
        }
        report(round, "rust flight client", rows, bytes, start);

        let start = Instant::now();
        let (mut rows, mut bytes) = (0usize, 0usize);
        for _ in 0..passes {
            for (ticket, location) in &splits {
                let stream = arrow_cache_bridge::stream::open(ticket.clone(), vec![location.clone()])?;
                let reader = ArrowArrayStreamReader::try_new(stream)?;
                let _ = reader.schema();
                for batch in reader {
                    let batch = batch?;
                    rows += batch.num_rows();
                    bytes += arrow_cache_bridge::stream::batch_bytes(&batch) as usize;
                }
            }
        }
        report(round, "bridge C stream   ", rows, bytes, start);
    }
    Ok(())
}

fn report(round: usize, what: &str, rows: usize, bytes: usize, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!(
        "round {round} {what}: {rows} rows in {secs:.2} s = {:.1} M rows/s, {:.0} MB/s",
        rows as f64 / secs / 1e6,
        bytes as f64 / secs / 1e6
    );
}
