//! `arrow_cache_bridge`: the native side of `io.arrowcache.bridge.NativeBridge`,
//! which the JVM connectors (Spark, Trino) use to plan scans against an
//! arrow-cache cluster and to read splits as Arrow through the C Data
//! Interface, without copying rows.
//!
//! - [`client`]: the control plane (gRPC, port 8816): connect, plan, cache operations
//!   (wire types, addresses and the channel pool are `arrow-cache-protocol`'s).
//! - [`stream`]: one split's Flight stream, with failover between its owners,
//!   exported as a C `ArrowArrayStream`.
//! - [`runtime`]: the process-wide Tokio runtime, the shared channel pool and the
//!   native-memory gauge.
//!
//! Every JNI entry point runs inside `EnvUnowned::with_env`, which wraps the
//! body in `catch_unwind`; errors and panics become a thrown
//! `io.arrowcache.bridge.ArrowCacheException(code, message)` (see
//! [`ThrowArrowCacheException`]). Nothing unwinds into the JVM.

// Panics are caught at every JNI entry point and C callback; with
// panic = "abort" they would take the JVM down instead.
#[cfg(panic = "abort")]
compile_error!(
    "arrow-cache-bridge must be built with panic = \"unwind\": a panic must become a Java exception, not abort the JVM"
);

pub mod client;
pub mod error;
pub mod runtime;
pub mod stream;

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use arrow::ffi::FFI_ArrowSchema;
use arrow::ffi_stream::FFI_ArrowArrayStream;
use jni::errors::ErrorPolicy;
use jni::objects::{JByteArray, JClass, JObjectArray, JString, JThrowable, JValue};
use jni::sys::jlong;
use jni::{Env, EnvUnowned, jni_sig, jni_str};

use crate::client::{Client, Op};
use crate::error::{BridgeError, Result};

/// The exception class every error is thrown as. `FindClass` inside a native
/// method resolves it through `NativeBridge`'s class loader, so a connector
/// loaded by its own class loader (a Trino plugin) gets its own class.
const EXCEPTION_CLASS: &jni::strings::JNIStr = jni_str!("io/arrowcache/bridge/ArrowCacheException");

// ---------------------------------------------------------------------------
// Client handles: `Box::into_raw` pointers handed to Java as `long`. The set
// of live handles is checked on every use, so a closed or made-up handle is
// an error instead of undefined behaviour; the `Arc` lets a call that is
// still running finish while another thread closes the handle.

static CLIENTS: LazyLock<Mutex<HashSet<usize>>> = LazyLock::new(Default::default);

fn new_handle(client: Client) -> jlong {
    let ptr = Box::into_raw(Box::new(Arc::new(client))) as usize;
    CLIENTS.lock().unwrap_or_else(|e| e.into_inner()).insert(ptr);
    ptr as jlong
}

fn client(handle: jlong) -> Result<Arc<Client>> {
    if handle == 0 {
        return Err(BridgeError::invalid("the client handle is 0: connect first (or the client was closed)"));
    }
    let live = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    if !live.contains(&(handle as usize)) {
        return Err(BridgeError::invalid(format!("{handle:#x} is not an open client handle (already closed?)")));
    }
    // Safety: the handle is live (in the set, which `close_handle` leaves
    // before freeing it), and the lock is held while cloning.
    Ok(unsafe { &*(handle as usize as *const Arc<Client>) }.clone())
}

fn close_handle(handle: jlong) {
    if handle == 0 {
        return;
    }
    let removed = CLIENTS.lock().unwrap_or_else(|e| e.into_inner()).remove(&(handle as usize));
    if removed {
        // Safety: it was live, and no one else can remove it again.
        drop(unsafe { Box::from_raw(handle as usize as *mut Arc<Client>) });
    }
}

// ---------------------------------------------------------------------------
// Errors into Java exceptions.

/// The `ErrorPolicy` of every entry point: throws
/// `ArrowCacheException(code, message)` (or keeps a Java exception that is
/// already pending) and returns the default value (0, null).
#[derive(Debug)]
pub struct ThrowArrowCacheException;

impl<T: Default> ErrorPolicy<T, BridgeError> for ThrowArrowCacheException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        err: BridgeError,
    ) -> jni::errors::Result<T> {
        throw(env, err.code_name(), &err.message);
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let message = format!("the arrow-cache bridge panicked: {}", panic_message(&payload));
        // Dropping a payload can itself panic; leak it rather than risk that.
        std::mem::forget(payload);
        throw(env, "INTERNAL", &message);
        Ok(T::default())
    }
}

fn throw(env: &mut Env<'_>, code: &str, message: &str) {
    if env.exception_check() {
        return; // a Java exception is already on its way
    }
    let thrown = (|| -> jni::errors::Result<()> {
        let class = env.find_class(EXCEPTION_CLASS)?;
        let code = env.new_string(code)?;
        let text = env.new_string(message)?;
        let exception = env.new_object(
            &class,
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;)V"),
            &[JValue::from(&code), JValue::from(&text)],
        )?;
        let exception = env.cast_local::<JThrowable>(exception)?;
        env.throw(exception)
    })();
    if thrown.is_err() && !env.exception_check() {
        // ArrowCacheException could not be made (not on the class path?): throw a plain RuntimeException.
        let fallback = format!("[{code}] {message}");
        let _ = env.throw_new(jni_str!("java/lang/RuntimeException"), jni::strings::JNIString::from(fallback));
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &Box<dyn std::any::Any + Send + 'static>) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

fn string_arg(env: &Env<'_>, value: &JString<'_>, name: &str) -> Result<String> {
    if value.is_null() {
        return Err(BridgeError::invalid(format!("{name} is null")));
    }
    Ok(value.try_to_string(env)?)
}

/// A Java-allocated C struct to write into: non-null and aligned.
fn out_ptr<T>(address: jlong, name: &str) -> Result<*mut T> {
    let ptr = address as usize as *mut T;
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(BridgeError::invalid(format!(
            "{name} ({address:#x}) is not the address of an allocated {}",
            std::any::type_name::<T>()
        )));
    }
    Ok(ptr)
}

// ---------------------------------------------------------------------------
// The native methods of io.arrowcache.bridge.NativeBridge.

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_arrowcache_bridge_NativeBridge_connect<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    cluster: JString<'local>,
    timeout_millis: jlong,
) -> jlong {
    unowned
        .with_env(|env| -> Result<jlong> {
            let cluster = string_arg(env, &cluster, "cluster")?;
            let timeout = if timeout_millis > 0 {
                Duration::from_millis(timeout_millis as u64)
            } else {
                client::DEFAULT_CONNECT_TIMEOUT
            };
            Ok(new_handle(Client::connect(&cluster, timeout)?))
        })
        .resolve::<ThrowArrowCacheException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_arrowcache_bridge_NativeBridge_close<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    unowned
        .with_env(|_env| -> Result<()> {
            close_handle(handle);
            Ok(())
        })
        .resolve::<ThrowArrowCacheException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_arrowcache_bridge_NativeBridge_plan<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    request_json: JString<'local>,
    schema_address: jlong,
) -> JString<'local> {
    unowned
        .with_env(|env| -> Result<JString<'local>> {
            let client = client(handle)?;
            let request = string_arg(env, &request_json, "requestJson")?;
            let out = out_ptr::<FFI_ArrowSchema>(schema_address, "schemaAddress")?;
            let (schema, plan) = client.plan(request)?;
            let ffi = FFI_ArrowSchema::try_from(&schema)?;
            let plan = env.new_string(plan)?;
            // Safety: Java allocated an ArrowSchema there; we move ours in
            // without reading (or releasing) what was there.
            unsafe { std::ptr::write(out, ffi) };
            Ok(plan)
        })
        .resolve::<ThrowArrowCacheException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_arrowcache_bridge_NativeBridge_openSplit<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    ticket: JByteArray<'local>,
    locations: JObjectArray<'local, JString<'local>>,
    stream_address: jlong,
) {
    unowned
        .with_env(|env| -> Result<()> {
            let _client = client(handle)?;
            if ticket.is_null() {
                return Err(BridgeError::invalid("ticket is null"));
            }
            if locations.is_null() {
                return Err(BridgeError::invalid("locations is null"));
            }
            let ticket = env.convert_byte_array(&ticket)?;
            let mut owners = Vec::new();
            for i in 0..locations.len(env)? {
                let location = locations.get_element(env, i)?;
                owners.push(string_arg(env, &location, &format!("locations[{i}]"))?);
            }
            let out = out_ptr::<FFI_ArrowArrayStream>(stream_address, "streamAddress")?;
            let stream = stream::open(ticket, owners)?;
            // Safety: Java allocated an ArrowArrayStream there; moved in as above.
            unsafe { std::ptr::write(out, stream) };
            Ok(())
        })
        .resolve::<ThrowArrowCacheException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_arrowcache_bridge_NativeBridge_call<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    op: JString<'local>,
    json: JString<'local>,
) -> JString<'local> {
    unowned
        .with_env(|env| -> Result<JString<'local>> {
            let client = client(handle)?;
            let op = Op::parse(&string_arg(env, &op, "op")?)?;
            let args = if json.is_null() { "{}".to_string() } else { json.try_to_string(env)? };
            let answer = client.call(op, &args)?;
            Ok(env.new_string(answer)?)
        })
        .resolve::<ThrowArrowCacheException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_arrowcache_bridge_NativeBridge_nativeBytesInUse<'local>(
    mut unowned: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jlong {
    unowned.with_env(|_env| -> Result<jlong> { Ok(runtime::bytes_in_use()) }).resolve::<ThrowArrowCacheException>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serializes the tests that compare the global byte gauge.
    pub(crate) static GAUGE: Mutex<()> = Mutex::new(());

    #[test]
    fn handles_are_validated() {
        assert_eq!(client(0).unwrap_err().code_name(), "INVALID_ARGUMENT");
        assert_eq!(client(0x1234).unwrap_err().code_name(), "INVALID_ARGUMENT");
        let handle = new_handle(Client::for_tests(vec!["a:1".into()]));
        assert!(client(handle).is_ok());
        close_handle(handle);
        close_handle(handle); // a second close does nothing
        close_handle(0);
        assert!(client(handle).unwrap_err().message.contains("not an open client handle"));
    }

    #[test]
    fn panic_messages() {
        let p: Box<dyn std::any::Any + Send> = Box::new("static");
        assert_eq!(panic_message(&p), "static");
        let p: Box<dyn std::any::Any + Send> = Box::new(format!("owned {}", 1));
        assert_eq!(panic_message(&p), "owned 1");
    }
}
