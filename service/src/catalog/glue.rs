//! The AWS Glue Data Catalog, read-only.
//!
//! Glue keeps an Iceberg table as a Glue table whose parameters say `table_type = ICEBERG` and
//! name its current `metadata_location` (the layout pyiceberg, Spark's and Trino's Glue catalogs
//! write). The node needs four read calls: GetDatabases, GetTables, GetTable and GetDatabase.
//!
//! Why not iceberg-catalog-glue: it is built on the AWS SDK (aws-config, aws-sdk-glue), whose
//! build adds minutes to every cold CI run on two cores for those four calls. object_store,
//! which the node already builds, has what they need: an HTTP client, the SigV4 signer and
//! AWS's credential chain (environment, web identity, ECS and EC2 instance metadata).
//!
//! Properties (`cache_node.storage.iceberg.properties`), named as in pyiceberg and Iceberg Java:
//! `glue.region` (else `AWS_REGION` / `AWS_DEFAULT_REGION`), `glue.access-key-id`,
//! `glue.secret-access-key`, `glue.session-token` (else the credential chain), and `glue.id`,
//! the catalog's account id (default: the caller's). `catalog_uri` overrides the endpoint
//! `https://glue.<region>.amazonaws.com`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use iceberg::ErrorKind;
use object_store::ClientOptions;
use object_store::aws::{AmazonS3Builder, AwsAuthorizer, AwsCredentialProvider};
use object_store::client::{HttpClient, HttpConnector, HttpRequestBody, ReqwestConnector};
use serde_json::{Value, json};

use super::read_only::{MetastoreReader, iceberg_metadata_location, not_iceberg};
use crate::error::AccessDenied;

/// Attempts per call when Glue throttles or fails on its side.
const ATTEMPTS: u32 = 4;

/// A Glue Data Catalog, read through the Glue API (a [`MetastoreReader`]).
pub(crate) struct GlueCatalog {
    http: HttpClient,
    endpoint: String,
    region: String,
    catalog_id: Option<String>,
    credentials: AwsCredentialProvider,
}

impl std::fmt::Debug for GlueCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlueCatalog").field("endpoint", &self.endpoint).field("region", &self.region).finish()
    }
}

impl GlueCatalog {
    /// A client for the catalog at `endpoint` (or AWS's, by region) with the `glue.*` properties.
    pub(crate) fn new(endpoint: Option<&str>, props: &HashMap<String, String>) -> Result<Self, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let region = props
            .get("glue.region")
            .cloned()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or("no region: set the property `glue.region` or AWS_REGION")?;
        let endpoint = match endpoint.filter(|e| !e.is_empty()) {
            Some(e) => e.trim_end_matches('/').to_string(),
            None => format!("https://glue.{region}.amazonaws.com"),
        };
        // object_store hands out AWS's credential chain only through a built S3 store; the
        // bucket name is never used.
        let mut builder = AmazonS3Builder::from_env().with_region(&region).with_bucket_name("glue-catalog");
        match (props.get("glue.access-key-id"), props.get("glue.secret-access-key")) {
            (Some(key), Some(secret)) => {
                builder = builder.with_access_key_id(key).with_secret_access_key(secret);
                if let Some(token) = props.get("glue.session-token") {
                    builder = builder.with_token(token);
                }
            }
            (None, None) => {}
            _ => return Err("set both `glue.access-key-id` and `glue.secret-access-key`, or neither".into()),
        }
        let credentials = builder.build().map_err(|e| e.to_string())?.credentials().clone();
        let options = ClientOptions::new()
            .with_allow_http(true)
            .with_timeout(Duration::from_secs(30))
            .with_connect_timeout(Duration::from_secs(5));
        let http = ReqwestConnector::default().connect(&options).map_err(|e| e.to_string())?;
        Ok(Self { http, endpoint, region, catalog_id: props.get("glue.id").cloned(), credentials })
    }

    /// One signed Glue API call; throttling and server errors are retried with backoff.
    async fn call(&self, action: &str, mut body: Value) -> iceberg::Result<Value> {
        if let Some(id) = &self.catalog_id {
            body["CatalogId"] = json!(id);
        }
        let body = Bytes::from(body.to_string());
        let mut backoff = Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            // A failed send (a reset or refused connection, a timeout) is worth another try too:
            // a server may close a pooled keep-alive connection just as a request goes out.
            let failure = match self.send(action, body.clone()).await {
                Ok((status, answer)) if status.is_success() => {
                    return serde_json::from_slice(&answer).map_err(|e| {
                        iceberg::Error::new(ErrorKind::Unexpected, format!("Glue {action}: bad answer: {e}"))
                    });
                }
                Ok((status, answer)) => {
                    let error = GlueError::parse(status, &answer);
                    if !error.retryable() {
                        return Err(error.into_iceberg(action));
                    }
                    error.into_iceberg(action)
                }
                Err(e) => e,
            };
            if attempt == ATTEMPTS {
                return Err(failure);
            }
            tracing::warn!(action, "Glue call failed; retrying: {failure}");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            attempt += 1;
        }
    }

    async fn send(&self, action: &str, body: Bytes) -> iceberg::Result<(http::StatusCode, Bytes)> {
        let unavailable = |e: &dyn std::fmt::Display| {
            iceberg::Error::new(ErrorKind::Unexpected, format!("Glue {action} at {}: {e}", self.endpoint))
        };
        let mut request = http::Request::post(&self.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("AWSGlue.{action}"))
            .body(HttpRequestBody::from(body))
            .map_err(|e| unavailable(&e))?;
        let credential = self.credentials.get_credential().await.map_err(|e| unavailable(&e))?;
        AwsAuthorizer::new(&credential, "glue", &self.region).authorize(&mut request, None);
        let response =
            self.http.execute(request).await.map_err(|e| unavailable(&arrow_cache_protocol::with_causes(&e)))?;
        let status = response.status();
        let body = response.into_body().bytes().await.map_err(|e| unavailable(&e))?;
        Ok((status, body))
    }

    /// Every page of a paginated list call, as the values of `field`.
    async fn list_all(&self, action: &str, body: Value, field: &str) -> iceberg::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = body.clone();
            if let Some(t) = &token {
                request["NextToken"] = json!(t);
            }
            let mut page = self.call(action, request).await?;
            if let Value::Array(list) = page[field].take() {
                items.extend(list);
            }
            token = page["NextToken"].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
            if token.is_none() {
                return Ok(items);
            }
        }
    }
}

/// Glue's answer to a failed call: `{"__type": "...#EntityNotFoundException", "message": "..."}`.
struct GlueError {
    status: http::StatusCode,
    kind: String,
    message: String,
}

impl GlueError {
    fn parse(status: http::StatusCode, body: &[u8]) -> Self {
        if let Ok(json) = serde_json::from_slice::<Value>(body) {
            let kind = json["__type"].as_str().unwrap_or_default();
            let kind = kind.rsplit('#').next().unwrap_or(kind).to_string();
            let message = json["message"].as_str().or(json["Message"].as_str()).unwrap_or_default().to_string();
            return Self { status, kind, message };
        }
        // Gateways in front of the API (and moto's auth check) answer in AWS's XML error form.
        let text = String::from_utf8_lossy(body);
        let element = |tag: &str| {
            let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
            let end = text[start..].find(&format!("</{tag}>"))? + start;
            Some(text[start..end].to_string())
        };
        let message = element("Message").unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "));
        let message = message.chars().take(500).collect();
        Self { status, kind: element("Code").unwrap_or_default(), message }
    }

    fn retryable(&self) -> bool {
        self.status.is_server_error() || self.kind.contains("Throttling") || self.kind == "TooManyRequestsException"
    }

    fn into_iceberg(self, action: &str) -> iceberg::Error {
        let text = format!("Glue {action}: {} ({}, HTTP {})", self.message, self.kind, self.status.as_u16());
        match self.kind.as_str() {
            "EntityNotFoundException" => iceberg::Error::new(ErrorKind::TableNotFound, text),
            "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignatureException"
            | "ExpiredTokenException"
            | "MissingAuthenticationTokenException"
            | "SignatureDoesNotMatch"
            | "InvalidClientTokenId" => {
                iceberg::Error::new(ErrorKind::Unexpected, text.clone()).with_source(AccessDenied(text))
            }
            _ if self.status == http::StatusCode::FORBIDDEN => {
                iceberg::Error::new(ErrorKind::Unexpected, text.clone()).with_source(AccessDenied(text))
            }
            "InvalidInputException" => iceberg::Error::new(ErrorKind::DataInvalid, text),
            _ => iceberg::Error::new(ErrorKind::Unexpected, text),
        }
    }
}

#[async_trait]
impl MetastoreReader for GlueCatalog {
    const NAME: &'static str = "Glue";

    async fn databases(&self) -> iceberg::Result<Vec<String>> {
        let databases = self.list_all("GetDatabases", json!({}), "DatabaseList").await?;
        Ok(databases.iter().filter_map(|d| Some(d["Name"].as_str()?.to_string())).collect())
    }

    async fn database_properties(&self, database: &str) -> iceberg::Result<HashMap<String, String>> {
        let answer = self.call("GetDatabase", json!({ "Name": database })).await.map_err(|e| match e.kind() {
            ErrorKind::TableNotFound => iceberg::Error::new(ErrorKind::NamespaceNotFound, e.message().to_string()),
            _ => e,
        })?;
        Ok(string_map(&answer["Database"]["Parameters"]))
    }

    async fn iceberg_tables(&self, database: &str) -> iceberg::Result<Vec<String>> {
        let tables = self.list_all("GetTables", json!({ "DatabaseName": database }), "TableList").await?;
        Ok(tables
            .iter()
            .filter(|t| iceberg_metadata_location(&string_map(&t["Parameters"])).is_some())
            .filter_map(|t| Some(t["Name"].as_str()?.to_string()))
            .collect())
    }

    async fn metadata_location(&self, database: &str, table: &str) -> iceberg::Result<String> {
        let answer = self.call("GetTable", json!({ "DatabaseName": database, "Name": table })).await?;
        let params = string_map(&answer["Table"]["Parameters"]);
        iceberg_metadata_location(&params).map(str::to_owned).ok_or_else(|| not_iceberg(Self::NAME, database, table))
    }
}

/// A JSON object's string values.
fn string_map(value: &Value) -> HashMap<String, String> {
    let Some(object) = value.as_object() else { return HashMap::new() };
    object.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_errors_map_to_kinds() {
        let not_found = br#"{"__type":"EntityNotFoundException","message":"Table t not found"}"#;
        let err = GlueError::parse(http::StatusCode::BAD_REQUEST, not_found).into_iceberg("GetTable");
        assert_eq!(err.kind(), ErrorKind::TableNotFound);
        assert!(err.message().contains("Table t not found"), "{err}");

        let denied = br#"{"__type":"com.amazon.coral.service#UnrecognizedClientException","Message":"bad key"}"#;
        let err = GlueError::parse(http::StatusCode::BAD_REQUEST, denied).into_iceberg("GetTable");
        let cache = crate::error::CacheError::from_iceberg("loading", err);
        assert!(matches!(cache, crate::error::CacheError::PermissionDenied { .. }), "{cache}");

        let xml = br#"<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>bad signature</Message></Error></Errors></ErrorResponse>"#;
        let err = GlueError::parse(http::StatusCode::FORBIDDEN, xml);
        assert_eq!((err.kind.as_str(), err.message.as_str()), ("SignatureDoesNotMatch", "bad signature"));

        let throttled = GlueError::parse(http::StatusCode::BAD_REQUEST, br#"{"__type":"ThrottlingException"}"#);
        assert!(throttled.retryable());
        assert!(!GlueError::parse(http::StatusCode::BAD_REQUEST, not_found).retryable());
    }
}
