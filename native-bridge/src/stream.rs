//! Reading one split into the JVM: a task on the bridge's runtime reads the
//! split's Flight stream from its owners (with the protocol crate's failover
//! reader, as nodes do) into a bounded channel; an exported C
//! `ArrowArrayStream` hands the batches to Java, one `ArrowArray` at a time.
//!
//! Memory accounting (`NativeBridge.nativeBytesInUse`): every decoded batch
//! takes a [`Reservation`] of its size — the sum of the distinct allocations
//! its buffers point into (a Flight batch's buffers are slices of the one IPC
//! message body they arrived in, so that body is counted once). The
//! reservation lives with the batch while it waits in the channel, and when
//! the batch is exported it moves into the exported `ArrowArray`'s release
//! callback: it is given back exactly when Java releases that array (Arrow
//! Java does so once the last imported buffer of the batch is closed). So the
//! gauge counts what the bridge keeps alive for the JVM, not what the HTTP/2
//! layer buffers below it. An open stream's own state counts too, so a stream
//! that Java never closes shows up.

use std::collections::HashSet;
use std::ffi::{CString, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use arrow::array::{
    Array, ArrayData, ArrayRef, MutableArrayData, RecordBatch, RecordBatchOptions, StructArray, make_array,
};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow::ffi_stream::FFI_ArrowArrayStream;
use arrow_cache_protocol::address::flight_addr;
use arrow_cache_protocol::client::{Event, Opened, read_with_failover};
use futures::TryStreamExt;
use tokio::sync::mpsc;

use crate::error::{BridgeError, Result};
use crate::runtime::{self, Reservation};

/// Batches decoded ahead of Java (the channel's capacity).
const PREFETCH: usize = 2;

const EIO: c_int = 5;
const EINVAL: c_int = 22;

/// What the reading task sends to the stream: the schema, then batches with
/// their reservations, or an error.
type Item = std::result::Result<Event<(RecordBatch, Reservation)>, BridgeError>;

/// Opens the split `ticket` from the first of `locations` that answers and
/// returns the C stream of its batches. Fails (with the owners' errors) if no
/// owner can start the stream.
pub fn open(ticket: Vec<u8>, locations: Vec<String>) -> Result<FFI_ArrowArrayStream> {
    if locations.is_empty() {
        return Err(BridgeError::invalid("a split needs at least one location (its owners' Flight URIs)"));
    }
    let sources = locations
        .iter()
        .map(|l| Ok(Source { location: l.clone(), addr: flight_addr(l)? }))
        .collect::<Result<Vec<_>>>()?;
    let (tx, mut rx) = mpsc::channel(PREFETCH);
    runtime::runtime().spawn(async move {
        let open = |source: &Source| {
            let (source, ticket) = (source.clone(), ticket.clone());
            Box::pin(async move { source.open(&ticket).await }) as futures::future::BoxFuture<'static, _>
        };
        let prepare = |batch: RecordBatch| {
            let batch = without_offsets(batch)?;
            let reservation = Reservation::new(batch_bytes(&batch));
            Ok((batch, reservation))
        };
        // Rare and worth knowing about: it lands in the executor's log.
        let warn = |what: &str| eprintln!("arrow-cache bridge: {what}");
        // Stop as soon as Java closes the stream, even while waiting on the network.
        tokio::select! {
            _ = read_with_failover(&sources, open, prepare, warn, &tx) => {}
            _ = tx.closed() => {}
        }
    });
    // Wait for the schema: errors opening the split (a bad ticket, no owner
    // reachable) are thrown by openSplit rather than found later.
    let schema = match rx.blocking_recv() {
        Some(Ok(Event::Schema(schema))) => schema,
        Some(Err(e)) => return Err(e),
        Some(Ok(Event::Batch(..))) => return Err(BridgeError::internal("a Flight stream sent data before its schema")),
        None => return Err(BridgeError::internal("the split's reader stopped before the stream started")),
    };
    let state = Box::new(StreamState {
        schema,
        rx,
        last_error: None,
        failed: None,
        done: false,
        _reservation: Reservation::new(std::mem::size_of::<StreamState>() as i64),
    });
    Ok(FFI_ArrowArrayStream {
        get_schema: Some(get_schema),
        get_next: Some(get_next),
        get_last_error: Some(get_last_error),
        release: Some(release_stream),
        private_data: Box::into_raw(state) as *mut c_void,
    })
}

/// One owner of the split.
#[derive(Debug, Clone)]
struct Source {
    /// As Java gave it, for messages.
    location: String,
    /// host:port
    addr: String,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.location)
    }
}

impl Source {
    /// Starts `DoGet(ticket)` on this owner.
    async fn open(&self, ticket: &[u8]) -> Result<Opened<BridgeError>> {
        let context = format!("reading the split from {}", self.location);
        let status = move |s: tonic::Status| BridgeError::from_status(&context, &s);
        let opened = runtime::channels().do_get(&self.addr, ticket.to_vec(), None).await.map_err(&status)?;
        Ok(Opened { schema: opened.schema, batches: Box::pin(opened.batches.map_err(status)) })
    }
}

/// Arrow Java 12 imports what arrow-rs exports only when no array has an
/// `offset` (Java ignores it) and no string/binary offsets buffer starts above
/// zero (Java sizes the data buffer as `end - start` but indexes it from
/// `start`). Flight batches satisfy both (the IPC writer rebases slices);
/// the slices this bridge makes after a failover do not, so such columns are
/// copied into fresh arrays.
pub fn without_offsets(batch: RecordBatch) -> Result<RecordBatch> {
    if !batch.columns().iter().any(|c| needs_copy(&c.to_data())) {
        return Ok(batch);
    }
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| {
            let data = c.to_data();
            if !needs_copy(&data) {
                return c.clone();
            }
            let mut copy = MutableArrayData::new(vec![&data], false, data.len());
            copy.extend(0, 0, data.len());
            make_array(copy.freeze())
        })
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(batch.schema(), columns, &options)?)
}

fn needs_copy(data: &ArrayData) -> bool {
    let first_offset = |width: usize| {
        let bytes = data.buffers().first().map(|b| b.as_slice()).unwrap_or_default();
        bytes.len() >= width && bytes[..width].iter().any(|b| *b != 0)
    };
    let offsets_above_zero = match data.data_type() {
        DataType::Utf8 | DataType::Binary | DataType::List(_) | DataType::Map(..) => first_offset(4),
        DataType::LargeUtf8 | DataType::LargeBinary | DataType::LargeList(_) => first_offset(8),
        _ => false,
    };
    data.offset() != 0 || offsets_above_zero || data.child_data().iter().any(needs_copy)
}

/// The bytes a batch keeps alive: the distinct allocations behind its buffers.
pub fn batch_bytes(batch: &RecordBatch) -> i64 {
    fn visit(data: &ArrayData, seen: &mut HashSet<usize>, total: &mut usize) {
        let nulls = data.nulls().map(|n| n.buffer());
        for buffer in data.buffers().iter().chain(nulls) {
            if seen.insert(buffer.data_ptr().as_ptr() as usize) {
                *total += buffer.capacity();
            }
        }
        for child in data.child_data() {
            visit(child, seen, total);
        }
    }
    let (mut seen, mut total) = (HashSet::new(), 0usize);
    for column in batch.columns() {
        visit(&column.to_data(), &mut seen, &mut total);
    }
    total as i64
}

/// The private data of an exported stream.
struct StreamState {
    schema: SchemaRef,
    rx: mpsc::Receiver<Item>,
    /// What `get_last_error` returns; valid until the next call.
    last_error: Option<CString>,
    /// Once failed, the stream keeps failing with the same error.
    failed: Option<BridgeError>,
    done: bool,
    _reservation: Reservation,
}

impl StreamState {
    fn next(&mut self) -> Result<Option<(RecordBatch, Reservation)>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.done {
            return Ok(None);
        }
        loop {
            // Java's thread waits here for the next batch; the runtime's workers fill the channel.
            match self.rx.blocking_recv() {
                Some(Ok(Event::Batch((batch, reservation)))) => return Ok(Some((batch, reservation))),
                Some(Ok(Event::Schema(_))) => continue,
                Some(Err(e)) => {
                    self.failed = Some(e.clone());
                    return Err(e);
                }
                None => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }

    fn set_error(&mut self, e: &BridgeError) {
        let text = format!("{} [{}]", e.message, e.code_name()).replace('\0', " ");
        self.last_error = CString::new(text).ok();
    }
}

/// Runs a stream callback, turning errors and panics into an errno plus
/// `get_last_error` (a panic must not unwind into the JVM).
unsafe fn guarded(
    stream: *mut FFI_ArrowArrayStream,
    body: impl FnOnce(&mut StreamState) -> Result<(), (c_int, BridgeError)>,
) -> c_int {
    if stream.is_null() {
        return EINVAL;
    }
    let state = unsafe { (*stream).private_data as *mut StreamState };
    if state.is_null() {
        return EINVAL;
    }
    let state = unsafe { &mut *state };
    state.last_error = None;
    match catch_unwind(AssertUnwindSafe(|| body(state))) {
        Ok(Ok(())) => 0,
        Ok(Err((errno, e))) => {
            state.set_error(&e);
            errno
        }
        Err(payload) => {
            state.set_error(&BridgeError::internal(format!(
                "the arrow-cache bridge panicked: {}",
                crate::panic_message(&payload)
            )));
            EIO
        }
    }
}

unsafe extern "C" fn get_schema(stream: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowSchema) -> c_int {
    unsafe {
        guarded(stream, |state| {
            if out.is_null() {
                return Err((EINVAL, BridgeError::invalid("get_schema: out is null")));
            }
            let ffi = FFI_ArrowSchema::try_from(state.schema.as_ref()).map_err(|e| (EIO, e.into()))?;
            std::ptr::write(out, ffi);
            Ok(())
        })
    }
}

unsafe extern "C" fn get_next(stream: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowArray) -> c_int {
    unsafe {
        guarded(stream, |state| {
            if out.is_null() {
                return Err((EINVAL, BridgeError::invalid("get_next: out is null")));
            }
            match state.next().map_err(|e| (EIO, e))? {
                None => std::ptr::write(out, FFI_ArrowArray::empty()), // release == NULL: the end
                Some((batch, reservation)) => export_batch(batch, reservation, out),
            }
            Ok(())
        })
    }
}

unsafe extern "C" fn get_last_error(stream: *mut FFI_ArrowArrayStream) -> *const c_char {
    if stream.is_null() {
        return std::ptr::null();
    }
    let state = unsafe { (*stream).private_data as *const StreamState };
    if state.is_null() {
        return std::ptr::null();
    }
    unsafe { (*state).last_error.as_ref().map(|e| e.as_ptr()).unwrap_or(std::ptr::null()) }
}

/// Dropping the state drops the channel's receiver: the reading task sees it
/// closed and stops, cancelling the Flight call; buffered batches are freed.
unsafe extern "C" fn release_stream(stream: *mut FFI_ArrowArrayStream) {
    if stream.is_null() {
        return;
    }
    let stream = unsafe { &mut *stream };
    let state = std::mem::replace(&mut stream.private_data, std::ptr::null_mut()) as *mut StreamState;
    if !state.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(state) })));
    }
    stream.get_schema = None;
    stream.get_next = None;
    stream.get_last_error = None;
    stream.release = None;
}

/// What an exported batch's release callback needs: arrow-rs's own release
/// and private data (which own the buffers), and the batch's reservation.
struct Exported {
    release: Option<unsafe extern "C" fn(*mut FFI_ArrowArray)>,
    private_data: *mut c_void,
    _reservation: Reservation,
}

/// Writes `batch` as a struct `ArrowArray` to `out`, wrapping its release
/// callback so that the reservation is given back when the consumer releases
/// it (the C Data Interface lets the consumer move the struct; the wrapper
/// only uses the pointer it is called with).
unsafe fn export_batch(batch: RecordBatch, reservation: Reservation, out: *mut FFI_ArrowArray) {
    let data = StructArray::from(batch).into_data();
    let mut array = FFI_ArrowArray::new(&data);
    drop(data); // the FFI array holds its own references to the buffers
    let exported =
        Box::new(Exported { release: array.release, private_data: array.private_data, _reservation: reservation });
    array.private_data = Box::into_raw(exported) as *mut c_void;
    array.release = Some(release_exported);
    unsafe { std::ptr::write(out, array) };
}

unsafe extern "C" fn release_exported(array: *mut FFI_ArrowArray) {
    if array.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        let array = &mut *array;
        let exported = Box::from_raw(array.private_data as *mut Exported);
        array.private_data = exported.private_data;
        array.release = exported.release;
        if let Some(release) = array.release {
            release(array); // arrow-rs frees the buffers and children, and clears `release`
        }
        array.release = None;
        drop(exported); // gives the bytes back
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::RecordBatchReader;
    use arrow::array::{Int32Array, StringArray};
    use arrow::datatypes::{Field, Fields, Schema};
    use arrow::ffi_stream::ArrowArrayStreamReader;
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        let ints = Arc::new(Int32Array::from(vec![Some(1), None, Some(3), Some(4)])) as ArrayRef;
        let strings = Arc::new(StringArray::from(vec!["a", "bb", "ccc", "dddd"])) as ArrayRef;
        let fields = Fields::from(vec![Field::new("i", DataType::Int32, true), Field::new("s", DataType::Utf8, false)]);
        let nested = Arc::new(StructArray::new(fields.clone(), vec![ints.clone(), strings.clone()], None)) as ArrayRef;
        let schema = Schema::new(vec![
            Field::new("i", DataType::Int32, true),
            Field::new("s", DataType::Utf8, false),
            Field::new("n", DataType::Struct(fields), false),
        ]);
        RecordBatch::try_new(Arc::new(schema), vec![ints, strings, nested]).unwrap()
    }

    #[test]
    fn sliced_columns_are_copied_without_offsets() {
        let b = batch();
        assert!(Arc::ptr_eq(&without_offsets(b.clone()).unwrap().column(0).clone(), b.column(0)));
        let sliced = b.slice(1, 3);
        assert!(sliced.columns().iter().any(|c| needs_copy(&c.to_data())));
        let fixed = without_offsets(sliced.clone()).unwrap();
        assert!(!fixed.columns().iter().any(|c| needs_copy(&c.to_data())));
        assert_eq!(fixed, sliced);
    }

    #[test]
    fn batch_bytes_count_shared_allocations_once() {
        let b = batch();
        let alone = batch_bytes(
            &RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("i", DataType::Int32, true),
                    Field::new("s", DataType::Utf8, false),
                ])),
                vec![b.column(0).clone(), b.column(1).clone()],
            )
            .unwrap(),
        );
        // The struct column shares its children's buffers with the first two columns.
        assert_eq!(batch_bytes(&b), alone);
        assert!(alone > 0);
    }

    #[test]
    fn exported_batches_give_their_bytes_back_when_released() {
        let _serial = crate::tests::GAUGE.lock().unwrap();
        let start = runtime::bytes_in_use();
        let b = batch();
        let reservation = Reservation::new(batch_bytes(&b));
        assert!(runtime::bytes_in_use() > start);
        let mut out = FFI_ArrowArray::empty();
        unsafe { export_batch(b.clone(), reservation, &mut out) };
        // A consumer moves the struct before releasing it.
        let moved = unsafe { FFI_ArrowArray::from_raw(&mut out) };
        assert!(out.is_released());
        let schema = FFI_ArrowSchema::try_from(DataType::Struct(b.schema().fields().clone())).unwrap();
        let imported = unsafe { arrow::ffi::from_ffi(moved, &schema) }.unwrap();
        assert_eq!(RecordBatch::from(StructArray::from(imported.clone())), b);
        assert!(runtime::bytes_in_use() > start);
        drop(imported); // the last reference releases the array
        assert_eq!(runtime::bytes_in_use(), start);
    }

    #[test]
    fn a_stream_ends_fails_and_releases() {
        let _serial = crate::tests::GAUGE.lock().unwrap();
        let start = runtime::bytes_in_use();
        let b = batch();
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(Ok(Event::Batch((b.clone(), Reservation::new(batch_bytes(&b)))))).unwrap();
        tx.try_send(Err(BridgeError::unavailable("node went away"))).unwrap();
        drop(tx);
        let state = Box::new(StreamState {
            schema: b.schema(),
            rx,
            last_error: None,
            failed: None,
            done: false,
            _reservation: Reservation::new(64),
        });
        let stream = FFI_ArrowArrayStream {
            get_schema: Some(get_schema),
            get_next: Some(get_next),
            get_last_error: Some(get_last_error),
            release: Some(release_stream),
            private_data: Box::into_raw(state) as *mut c_void,
        };
        let mut reader = ArrowArrayStreamReader::try_new(stream).unwrap();
        assert_eq!(reader.schema(), b.schema());
        assert_eq!(reader.next().unwrap().unwrap(), b);
        let error = reader.next().unwrap().unwrap_err().to_string();
        assert!(error.contains("node went away [UNAVAILABLE]"), "{error}");
        drop(reader);
        assert_eq!(runtime::bytes_in_use(), start);
    }
}
