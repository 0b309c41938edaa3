//! The `arrow-cache` binary: a node (`serve`, `demo`) and its clients.

use std::path::PathBuf;
use std::process::ExitCode;

use arrow_cache::cli::{self as client, OutputFormat};
use arrow_cache::config::{ByteSize, Config};
use arrow_cache::node::Node;
use arrow_cache::{CacheError, Result, demo};
use arrow_cache_protocol::action::{TableAction, TableOp};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "arrow-cache", version, about = "A cache for Apache Iceberg tables, served as Arrow over Flight")]
struct Cli {
    /// Log format of `serve` and `demo`.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a cache node.
    Serve {
        /// YAML config with the top key `cache_node`.
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        flight_port: Option<u16>,
        #[arg(long)]
        grpc_port: Option<u16>,
        #[arg(long)]
        http_port: Option<u16>,
        /// Total memory, e.g. 8GB; overrides memory.total_memory.
        #[arg(long)]
        memory: Option<ByteSize>,
        /// Address to listen on; overrides networking.bind_address.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Create a local demo warehouse with `demo.sales_data` and serve it.
    Demo,
    /// Run SQL on a node and print the result.
    Query {
        sql: String,
        /// Any node's control plane, host:port.
        #[arg(long, default_value = "localhost:8816")]
        cluster: String,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Show a table's cache statistics.
    Stats {
        table: String,
        #[arg(long, default_value = "localhost:8816")]
        cluster: String,
    },
    /// Drop a table's cached data (or one partition's) and re-resolve its snapshot.
    Invalidate {
        table: String,
        /// k=v[,k=v], by partition field names.
        #[arg(long)]
        partition: Option<String>,
        #[arg(long, default_value = "localhost:8816")]
        cluster: String,
    },
    /// Load a table (or a partition, or some columns) into the cache.
    Warm {
        table: String,
        #[arg(long)]
        partition: Option<String>,
        /// a,b,c
        #[arg(long, value_delimiter = ',')]
        columns: Option<Vec<String>>,
        #[arg(long, default_value = "localhost:8816")]
        cluster: String,
    },
    /// Cluster commands.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// The cluster's nodes.
    Status {
        #[arg(long, default_value = "localhost:8816")]
        cluster: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn one_line(e: &CacheError) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { config, flight_port, grpc_port, http_port, memory, bind } => {
            let mut cfg = match &config {
                Some(path) => Config::from_file(path)?,
                None => Config::default(),
            };
            cfg.apply_env()?;
            let net = &mut cfg.networking;
            net.flight_port = flight_port.unwrap_or(net.flight_port);
            net.grpc_port = grpc_port.unwrap_or(net.grpc_port);
            net.http_port = http_port.unwrap_or(net.http_port);
            if let Some(b) = bind {
                net.bind_address = b;
            }
            if let Some(m) = memory {
                cfg.memory.total_memory = m;
            }
            if config.is_none() && cfg.storage.iceberg.tables.is_empty() {
                return Err(CacheError::config(
                    "--config",
                    "give a config file naming a catalog (see README), or run `arrow-cache demo`",
                ));
            }
            cfg.validate()?;
            init_logging(&cli.log_format);
            let node = Node::new(cfg).await?;
            node.serve(shutdown_signal()).await
        }
        Command::Demo => {
            init_logging(&cli.log_format);
            let dir = demo::demo_dir();
            eprintln!("preparing the demo warehouse in {} ...", dir.display());
            let mut cfg = demo::prepare(&dir).await?;
            cfg.apply_env()?;
            cfg.validate()?;
            let port = cfg.networking.flight_port;
            let http = cfg.networking.http_port;
            let grpc = cfg.networking.grpc_port;
            let node = Node::new(cfg).await?;
            println!(
                r#"
arrow-cache demo: serving demo.sales_data ({rows} rows, partitioned by month(date)) from {dir}
  Flight: grpc://localhost:{port}    metrics: http://localhost:{http}/metrics

Query it from Python (pip install pyarrow pandas):
    import pyarrow.flight as flight
    client = flight.FlightClient("grpc://localhost:{port}")
    table = client.do_get(flight.Ticket(b"SELECT * FROM demo.sales_data WHERE date >= '2024-01-01'")).read_all()
    df = table.to_pandas()

or from the shell:
    arrow-cache query --cluster localhost:{grpc} "SELECT region, count(*) AS orders, sum(amount) AS revenue FROM demo.sales_data GROUP BY region ORDER BY region"
    arrow-cache stats --cluster localhost:{grpc} demo.sales_data

Press Ctrl-C to stop."#,
                rows = demo::DEMO_ROWS,
                dir = dir.display(),
            );
            node.serve(shutdown_signal()).await
        }
        Command::Query { sql, cluster, format } => {
            let batches = client::query(&cluster, &sql).await?;
            println!("{}", client::render(&batches, format)?);
            Ok(())
        }
        Command::Stats { table, cluster } => {
            print(client::table_op(&cluster, TableOp::Stats, request(table, None, None)).await?)
        }
        Command::Invalidate { table, partition, cluster } => {
            print(client::table_op(&cluster, TableOp::Invalidate, request(table, partition, None)).await?)
        }
        Command::Warm { table, partition, columns, cluster } => {
            print(client::table_op(&cluster, TableOp::Warm, request(table, partition, columns)).await?)
        }
        Command::Cluster { command: ClusterCommand::Status { cluster } } => {
            print(client::cluster_status(&cluster).await?)
        }
    }
}

fn request(table: String, partition: Option<String>, columns: Option<Vec<String>>) -> TableAction {
    TableAction { table, partition, columns }
}

fn print(value: serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
    Ok(())
}
