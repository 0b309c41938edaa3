//! A Hive metastore (HMS), read-only.
//!
//! Iceberg keeps a table in HMS as a Hive table whose parameters say `table_type = ICEBERG` and
//! name its current `metadata_location` (the layout Iceberg's Java HiveCatalog and pyiceberg
//! write). The node needs four calls of the `ThriftHiveMetastore` service: `get_all_databases`,
//! `get_database`, `get_all_tables` and `get_table`, over Thrift's binary protocol on a plain
//! (unframed, unauthenticated) socket, HMS's default.
//!
//! Why not iceberg-catalog-hms: its client is generated for the volo/pilota RPC stack, a large
//! build for four calls. The Apache Thrift crate (already in our dependency tree) encodes them;
//! fields we do not read are skipped, so any HMS from 2.x to 4.x answers alike.
//!
//! `catalog_uri` is `thrift://host:port[,thrift://host2:port]`: the metastores are tried in
//! order, as Hive clients do.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use async_trait::async_trait;
use iceberg::ErrorKind;
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TFieldIdentifier, TInputProtocol, TMessageIdentifier, TMessageType,
    TOutputProtocol, TStructIdentifier, TType,
};

use super::read_only::{MetastoreReader, iceberg_metadata_location, not_iceberg};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A Hive metastore, read through its Thrift API (a [`MetastoreReader`]).
#[derive(Debug)]
pub(crate) struct HiveCatalog {
    /// `host:port` of each metastore, in the order they are tried.
    metastores: Vec<String>,
}

/// A `ThriftHiveMetastore` method, with where its result declares `NoSuchObjectException`.
#[derive(Clone, Copy)]
struct Method {
    name: &'static str,
    /// The field id of `NoSuchObjectException` in the method's result, if it declares one.
    no_such_object: Option<i16>,
}

// From hive_metastore.thrift, whose field ids and exception order have not changed since Hive 1.
const GET_ALL_DATABASES: Method = Method { name: "get_all_databases", no_such_object: None };
const GET_DATABASE: Method = Method { name: "get_database", no_such_object: Some(1) };
const GET_ALL_TABLES: Method = Method { name: "get_all_tables", no_such_object: None };
const GET_TABLE: Method = Method { name: "get_table", no_such_object: Some(2) };

/// What a call answered, short of a transport failure.
enum Reply<T> {
    Ok(T),
    /// `NoSuchObjectException`: the database or table does not exist.
    NoSuchObject(String),
    /// `MetaException` or a Thrift application error (say, an unknown method).
    Failed(String),
}

impl HiveCatalog {
    /// A client for the metastores in `uri` (`thrift://host:port`, comma-separated).
    pub(crate) fn new(uri: &str) -> Result<Self, String> {
        let metastores = uri
            .split(',')
            .map(|u| {
                let u = u.trim();
                let address = u.strip_prefix("thrift://").ok_or(format!("`{u}` is not a thrift://host:port URI"))?;
                let address = address.trim_end_matches('/');
                match address.rsplit_once(':') {
                    Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(address.to_string()),
                    None if !address.is_empty() => Ok(format!("{address}:9083")),
                    _ => Err(format!("`{u}` is not a thrift://host:port URI")),
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self { metastores })
    }

    /// Calls `method(args...)` on the first metastore that answers; `success` reads the result.
    async fn call<T: Send + 'static>(
        &self,
        method: Method,
        args: Vec<String>,
        success: fn(&mut dyn TInputProtocol) -> thrift::Result<T>,
    ) -> iceberg::Result<Reply<T>> {
        let metastores = self.metastores.clone();
        // The Thrift crate's protocols are blocking: run them off the async workers.
        tokio::task::spawn_blocking(move || {
            let mut failures = Vec::new();
            for metastore in &metastores {
                match call_one(metastore, method, &args, success) {
                    Ok(reply) => return Ok(reply),
                    Err(e) => failures.push(format!("thrift://{metastore}: {e}")),
                }
            }
            Err(iceberg::Error::new(
                ErrorKind::Unexpected,
                format!("Hive metastore call {} failed: {}", method.name, failures.join("; ")),
            ))
        })
        .await
        .map_err(|e| iceberg::Error::new(ErrorKind::Unexpected, format!("Hive metastore call {}: {e}", method.name)))?
    }
}

fn failed(method: &str, message: String) -> iceberg::Error {
    iceberg::Error::new(ErrorKind::Unexpected, format!("Hive metastore {method}: {message}"))
}

/// One call over a fresh connection: calls are rare (a table load per TTL), and a fresh
/// connection never finds a socket the metastore has since closed.
fn call_one<T>(
    metastore: &str,
    method: Method,
    args: &[String],
    success: fn(&mut dyn TInputProtocol) -> thrift::Result<T>,
) -> Result<Reply<T>, String> {
    // Formatted here: thrift::Error would turn a refused connection into a bare "not open".
    let socket = connect(metastore).map_err(|e| format!("cannot connect: {e}"))?;
    exchange(socket, method, args, success).map_err(|e| e.to_string())
}

fn connect(metastore: &str) -> std::io::Result<TcpStream> {
    let address = metastore
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
    let socket = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)?;
    socket.set_read_timeout(Some(CALL_TIMEOUT))?;
    socket.set_write_timeout(Some(CALL_TIMEOUT))?;
    Ok(socket)
}

/// Sends the call and reads its reply.
fn exchange<T>(
    socket: TcpStream,
    method: Method,
    args: &[String],
    success: fn(&mut dyn TInputProtocol) -> thrift::Result<T>,
) -> thrift::Result<Reply<T>> {
    let mut out = TBinaryOutputProtocol::new(BufWriter::new(socket.try_clone()?), true);
    out.write_message_begin(&TMessageIdentifier::new(method.name, TMessageType::Call, 1))?;
    out.write_struct_begin(&TStructIdentifier::new(format!("{}_args", method.name)))?;
    for (id, arg) in (1i16..).zip(args) {
        out.write_field_begin(&TFieldIdentifier::new::<Option<String>, String, i16>(None, TType::String, id))?;
        out.write_string(arg)?;
        out.write_field_end()?;
    }
    out.write_field_stop()?;
    out.write_struct_end()?;
    out.write_message_end()?;
    out.flush()?;

    let mut input = TBinaryInputProtocol::new(BufReader::new(socket), false);
    let message = input.read_message_begin()?;
    if message.message_type == TMessageType::Exception {
        let error = thrift::Error::read_application_error_from_in_protocol(&mut input)?;
        return Ok(Reply::Failed(error.message));
    }
    // The result struct: field 0 is the value, fields 1.. the declared exceptions.
    let mut reply = None;
    read_struct(&mut input, |p, id, kind| {
        match (id, kind) {
            (0, _) => reply = Some(Reply::Ok(success(p)?)),
            (_, TType::Struct) => {
                let message = read_exception_message(p)?;
                reply = Some(match Some(id) == method.no_such_object {
                    true => Reply::NoSuchObject(message),
                    false => Reply::Failed(message),
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    input.read_message_end()?;
    reply.ok_or_else(|| thrift::Error::from(format!("{} answered no value", method.name)))
}

/// Reads a struct, handing each field to `field`; fields it declines (returns false) are skipped.
fn read_struct(
    p: &mut dyn TInputProtocol,
    mut field: impl FnMut(&mut dyn TInputProtocol, i16, TType) -> thrift::Result<bool>,
) -> thrift::Result<()> {
    p.read_struct_begin()?;
    loop {
        let f = p.read_field_begin()?;
        if f.field_type == TType::Stop {
            break;
        }
        if !field(p, f.id.unwrap_or(-1), f.field_type)? {
            p.skip(f.field_type)?;
        }
        p.read_field_end()?;
    }
    p.read_struct_end()
}

/// HMS exceptions (`MetaException`, `NoSuchObjectException`, ...) carry `1: string message`.
fn read_exception_message(p: &mut dyn TInputProtocol) -> thrift::Result<String> {
    let mut message = String::new();
    read_struct(p, |p, id, kind| {
        if id == 1 && kind == TType::String {
            message = p.read_string()?;
            return Ok(true);
        }
        Ok(false)
    })?;
    Ok(message)
}

fn read_string_list(p: &mut dyn TInputProtocol) -> thrift::Result<Vec<String>> {
    let list = p.read_list_begin()?;
    let items = (0..list.size).map(|_| p.read_string()).collect::<thrift::Result<Vec<_>>>()?;
    p.read_list_end()?;
    Ok(items)
}

fn read_string_map(p: &mut dyn TInputProtocol) -> thrift::Result<HashMap<String, String>> {
    let map = p.read_map_begin()?;
    let mut entries = HashMap::with_capacity(map.size.max(0) as usize);
    for _ in 0..map.size {
        let key = p.read_string()?;
        entries.insert(key, p.read_string()?);
    }
    p.read_map_end()?;
    Ok(entries)
}

/// `Table.parameters` (field 9 of hive_metastore.thrift's `Table`).
fn read_table_parameters(p: &mut dyn TInputProtocol) -> thrift::Result<HashMap<String, String>> {
    read_parameters_field(p, 9)
}

/// `Database.parameters` (field 4 of `Database`).
fn read_database_parameters(p: &mut dyn TInputProtocol) -> thrift::Result<HashMap<String, String>> {
    read_parameters_field(p, 4)
}

fn read_parameters_field(p: &mut dyn TInputProtocol, field_id: i16) -> thrift::Result<HashMap<String, String>> {
    let mut params = HashMap::new();
    read_struct(p, |p, id, kind| {
        if id == field_id && kind == TType::Map {
            params = read_string_map(p)?;
            return Ok(true);
        }
        Ok(false)
    })?;
    Ok(params)
}

#[async_trait]
impl MetastoreReader for HiveCatalog {
    const NAME: &'static str = "Hive";

    async fn databases(&self) -> iceberg::Result<Vec<String>> {
        match self.call(GET_ALL_DATABASES, vec![], read_string_list).await? {
            Reply::Ok(names) => Ok(names),
            Reply::NoSuchObject(m) | Reply::Failed(m) => Err(failed("get_all_databases", m)),
        }
    }

    async fn database_properties(&self, database: &str) -> iceberg::Result<HashMap<String, String>> {
        match self.call(GET_DATABASE, vec![database.to_string()], read_database_parameters).await? {
            Reply::Ok(props) => Ok(props),
            Reply::NoSuchObject(m) => Err(iceberg::Error::new(ErrorKind::NamespaceNotFound, m)),
            Reply::Failed(m) => Err(failed("get_database", m)),
        }
    }

    async fn iceberg_tables(&self, database: &str) -> iceberg::Result<Vec<String>> {
        let names = match self.call(GET_ALL_TABLES, vec![database.to_string()], read_string_list).await? {
            Reply::Ok(names) => names,
            Reply::NoSuchObject(m) => return Err(iceberg::Error::new(ErrorKind::NamespaceNotFound, m)),
            Reply::Failed(m) => return Err(failed("get_all_tables", m)),
        };
        let mut tables = Vec::new();
        for name in names {
            match self.metadata_location(database, &name).await {
                Ok(_) => tables.push(name),
                // Not an Iceberg table, or dropped between the two calls.
                Err(e) if e.kind() == ErrorKind::TableNotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(tables)
    }

    async fn metadata_location(&self, database: &str, table: &str) -> iceberg::Result<String> {
        let args = vec![database.to_string(), table.to_string()];
        let params = match self.call(GET_TABLE, args, read_table_parameters).await? {
            Reply::Ok(params) => params,
            Reply::NoSuchObject(m) => return Err(iceberg::Error::new(ErrorKind::TableNotFound, m)),
            Reply::Failed(m) => return Err(failed("get_table", m)),
        };
        iceberg_metadata_location(&params).map(str::to_owned).ok_or_else(|| not_iceberg(Self::NAME, database, table))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metastore_uris() {
        let hms = HiveCatalog::new("thrift://a:9083, thrift://b").unwrap();
        assert_eq!(hms.metastores, ["a:9083", "b:9083"]);
        for bad in ["http://a:9083", "thrift://", "thrift://a:port"] {
            assert!(HiveCatalog::new(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_metastore_names_its_address() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let hms = HiveCatalog::new(&format!("thrift://127.0.0.1:{port}")).unwrap();
        let err = hms.databases().await.unwrap_err();
        assert!(err.message().contains(&format!("thrift://127.0.0.1:{port}")), "{err}");
    }
}
