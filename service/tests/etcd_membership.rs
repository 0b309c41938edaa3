//! `cluster::etcd::EtcdMembership` against a real etcd (Debian's etcd-server, 3.4).
//!
//! Each test starts its own `etcd` on free loopback ports with its data in a temporary
//! directory. Without an etcd binary (`ETCD_BIN`, `etcd` on PATH, or /usr/bin/etcd) the tests
//! are skipped with a note, except when the `CI` environment variable is set: then they fail,
//! so that CI never passes by skipping. `tests/setup_env.sh` installs etcd.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arrow_cache::CacheError;
use arrow_cache::cluster::MemberInfo;
use arrow_cache::cluster::etcd::EtcdMembership;
use tokio::sync::watch;

// ---------------------------------------------------------------------------------------------
// An etcd process.

fn etcd_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("ETCD_BIN") {
        return Some(PathBuf::from(bin));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("etcd"));
    on_path.chain([PathBuf::from("/usr/bin/etcd")]).find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

struct Etcd {
    bin: PathBuf,
    dir: PathBuf,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
    starts: usize,
}

impl Etcd {
    /// A started etcd, or None (after a note) when there is no etcd binary outside CI.
    fn start_or_skip(test: &str) -> Option<Etcd> {
        let Some(bin) = etcd_binary() else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "no etcd binary (looked at $ETCD_BIN, PATH and /usr/bin/etcd) and CI is set: \
                     install Debian's etcd-server (tests/setup_env.sh does) or set ETCD_BIN"
                );
            }
            eprintln!("SKIPPED {test}: no etcd binary (install etcd-server or set ETCD_BIN)");
            return None;
        };
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "arrow-cache-etcd-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let mut etcd = Etcd { bin, dir, client_port: free_port(), peer_port: free_port(), child: None, starts: 0 };
        etcd.start();
        Some(etcd)
    }

    fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    fn start(&mut self) {
        self.starts += 1;
        let data = self.dir.join(format!("data-{}", self.starts));
        std::fs::create_dir_all(&self.dir).expect("create the etcd test directory");
        let log = self.log_path();
        let out = std::fs::File::create(&log).expect("create the etcd log");
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--name=test")
            .arg(format!("--data-dir={}", data.display()))
            .arg(format!("--listen-client-urls={client}"))
            .arg(format!("--advertise-client-urls={client}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=test={peer}"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out);
        if cfg!(target_arch = "aarch64") {
            cmd.env("ETCD_UNSUPPORTED_ARCH", "arm64"); // etcd 3.4 wants it on arm64
        }
        self.child = Some(cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display())));
        self.wait_healthy(Duration::from_secs(30));
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join(format!("etcd-{}.log", self.starts))
    }

    fn wait_healthy(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let mut last = String::from("no answer");
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("etcd exited ({status}) before it was healthy:\n{}", tail(&self.log_path()));
            }
            match http_get(self.client_port, "/health") {
                Ok(body) if body.contains(r#""health":"true""#) => return,
                Ok(body) => last = body,
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("etcd not healthy after {within:?} ({last}):\n{}", tail(&self.log_path()));
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut body = String::new();
    s.read_to_string(&mut body)?;
    Ok(body)
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text[text.len().saturating_sub(4000)..].to_string()
}

// ---------------------------------------------------------------------------------------------
// Helpers.

const PREFIX: &str = "/arrow-cache-test";

fn member(id: &str, port: u16) -> MemberInfo {
    MemberInfo {
        node_id: id.into(),
        flight: format!("grpc+tcp://127.0.0.1:{port}"),
        control: format!("127.0.0.1:{}", port + 1),
    }
}

async fn join(etcd: &Etcd, me: MemberInfo, ttl: Duration) -> EtcdMembership {
    init_logs();
    let id = me.node_id.clone();
    EtcdMembership::join(&[etcd.endpoint()], PREFIX, me, ttl).await.unwrap_or_else(|e| panic!("{id} cannot join: {e}"))
}

/// RUST_LOG=arrow_cache=debug shows the membership's own log.
fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

type Members = watch::Receiver<BTreeMap<String, MemberInfo>>;

/// Waits until the member ids are exactly `want`; returns how long that took.
async fn wait_members(rx: &mut Members, want: &[&str], within: Duration) -> Duration {
    let start = Instant::now();
    let ok = tokio::time::timeout(within, rx.wait_for(|m| m.keys().map(String::as_str).eq(want.iter().copied())))
        .await
        .is_ok_and(|r| r.is_ok());
    if !ok {
        panic!("members {:?} after {within:?}, want {want:?}", rx.borrow().keys().collect::<Vec<_>>());
    }
    start.elapsed()
}

fn ids(rx: &Members) -> Vec<String> {
    rx.borrow().keys().cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_see_each_other_and_a_leave_at_once() {
    let Some(etcd) = Etcd::start_or_skip("members_see_each_other_and_a_leave_at_once") else { return };
    let ttl = Duration::from_secs(10);
    let a = join(&etcd, member("a", 7000), ttl).await;
    let mut a_view = a.members();
    assert_eq!(ids(&a_view), ["a"], "a sees itself right after join");
    let b = join(&etcd, member("b", 7002), ttl).await;
    let b_view = b.members();
    assert_eq!(ids(&b_view), ["a", "b"], "b reads the existing members when it joins");
    wait_members(&mut a_view, &["a", "b"], Duration::from_secs(2)).await;
    assert_eq!(a_view.borrow()["b"], member("b", 7002), "the full member info travels");
    assert_eq!(b_view.borrow()["a"], member("a", 7000));

    b.leave().await.expect("leave");
    assert_eq!(ids(&b_view), ["a"], "the leaver drops itself at once");
    let took = wait_members(&mut a_view, &["a"], Duration::from_secs(3)).await;
    assert!(took < Duration::from_millis(1500), "a saw b leave after {took:?}, want about 1 s at most");
    b.leave().await.expect("a second leave is harmless");
    drop(b);

    // And a node that comes back is seen again.
    let b2 = join(&etcd, member("b", 7002), ttl).await;
    wait_members(&mut a_view, &["a", "b"], Duration::from_secs(2)).await;
    wait_members(&mut b2.members(), &["a", "b"], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_member_disappears_within_its_ttl() {
    let Some(etcd) = Etcd::start_or_skip("a_dead_member_disappears_within_its_ttl") else { return };
    let ttl = Duration::from_secs(2);
    let a = join(&etcd, member("a", 7000), ttl).await;
    let b = join(&etcd, member("b", 7002), ttl).await;
    let mut a_view = a.members();
    wait_members(&mut a_view, &["a", "b"], Duration::from_secs(2)).await;

    // Alive well past its ttl: the keep-alive works.
    tokio::time::sleep(ttl * 2).await;
    assert_eq!(ids(&a_view), ["a", "b"], "b must stay while it keeps its lease alive");

    drop(b); // no leave(): the keep-alive stops as if the process died
    let took = wait_members(&mut a_view, &["a"], ttl + Duration::from_secs(3)).await;
    eprintln!("a saw the dead b leave after {took:?} (ttl {ttl:?})");
    assert!(took <= ttl + Duration::from_secs(1), "b disappeared after {took:?}, want within ttl + 1 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_node_id_is_rejected() {
    let Some(etcd) = Etcd::start_or_skip("a_duplicate_node_id_is_rejected") else { return };
    let ttl = Duration::from_secs(10);
    let a = join(&etcd, member("n1", 7000), ttl).await;

    let err = EtcdMembership::join(&[etcd.endpoint()], PREFIX, member("n1", 7100), ttl)
        .await
        .expect_err("a second node with the same id and another address must be rejected");
    assert!(matches!(err, CacheError::Config { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("duplicate cluster.node_id `n1`: already registered by grpc+tcp://127.0.0.1:7000"), "{msg}");
    assert_eq!(ids(&a.members()), ["n1"]);
    assert_eq!(a.members().borrow()["n1"], member("n1", 7000), "the first registration is intact");

    // The same node restarting (same address) before its old lease expired is not a duplicate.
    drop(a);
    let again = join(&etcd, member("n1", 7000), ttl).await;
    assert_eq!(ids(&again.members()), ["n1"]);
    // The key now lives on the new lease: leaving revokes it, and the others see that.
    let other = join(&etcd, member("n2", 7002), Duration::from_secs(2)).await;
    let mut view = other.members();
    wait_members(&mut view, &["n1", "n2"], Duration::from_secs(2)).await;
    again.leave().await.unwrap();
    wait_members(&mut view, &["n2"], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_etcd_is_a_clear_error_quickly() {
    // Nothing listens on this port.
    let port = free_port();
    let start = Instant::now();
    let err =
        EtcdMembership::join(&[format!("etcd://127.0.0.1:{port}")], PREFIX, member("a", 7000), Duration::from_secs(5))
            .await
            .expect_err("no etcd there");
    assert!(start.elapsed() < Duration::from_secs(3), "took {:?}", start.elapsed());
    assert!(matches!(err, CacheError::Unavailable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("cannot reach etcd at 127.0.0.1:{port}: ")), "{msg}");
    eprintln!("refused: {msg}");

    // Something accepts TCP connections but never speaks: the connect timeout (~2 s) applies.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let start = Instant::now();
    let err =
        EtcdMembership::join(std::slice::from_ref(&silent_addr), PREFIX, member("a", 7000), Duration::from_secs(5))
            .await
            .expect_err("a silent server is not etcd");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(err.to_string().starts_with(&format!("cannot reach etcd at {silent_addr}: ")), "{err}");
    eprintln!("silent: {err} (after {took:?})");

    // Bad addresses are configuration errors.
    for bad in ["https://127.0.0.1:2379", "127.0.0.1", "127.0.0.1:port", ""] {
        let err = EtcdMembership::join(&[bad.to_string()], PREFIX, member("a", 7000), Duration::from_secs(5))
            .await
            .expect_err(bad);
        assert!(matches!(err, CacheError::Config { .. }), "{bad}: {err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_endpoint_that_answers_is_used() {
    let Some(etcd) = Etcd::start_or_skip("the_first_endpoint_that_answers_is_used") else { return };
    let dead = format!("127.0.0.1:{}", free_port());
    let url = format!("etcd://{dead},{}", etcd.endpoint());
    let a = EtcdMembership::join(&[url], PREFIX, member("a", 7000), Duration::from_secs(5))
        .await
        .expect("the second endpoint answers");
    assert_eq!(ids(&a.members()), ["a"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_register_again_after_etcd_lost_its_data() {
    let Some(mut etcd) = Etcd::start_or_skip("members_register_again_after_etcd_lost_its_data") else { return };
    let ttl = Duration::from_secs(2);
    let a = join(&etcd, member("a", 7000), ttl).await;
    let b = join(&etcd, member("b", 7002), ttl).await;
    let mut a_view = a.members();
    let mut b_view = b.members();
    wait_members(&mut a_view, &["a", "b"], Duration::from_secs(2)).await;

    // etcd dies for longer than the ttl and comes back empty (a new data directory): the
    // leases are gone, so keep-alive must register again and the watch must resynchronise.
    etcd.kill();
    tokio::time::sleep(ttl + Duration::from_secs(1)).await;
    assert_eq!(ids(&a_view), ["a", "b"], "while etcd is down the last known members stay");
    etcd.start();

    // A newcomer sees a and b only once they have registered again in the new etcd.
    let c = join(&etcd, member("c", 7004), ttl).await;
    let mut c_view = c.members();
    let took = wait_members(&mut c_view, &["a", "b", "c"], Duration::from_secs(15)).await;
    eprintln!("a and b registered again {took:?} after c joined");
    // The resynchronised watches deliver joins and leaves.
    wait_members(&mut a_view, &["a", "b", "c"], Duration::from_secs(2)).await;
    wait_members(&mut b_view, &["a", "b", "c"], Duration::from_secs(2)).await;
    c.leave().await.unwrap();
    wait_members(&mut a_view, &["a", "b"], Duration::from_secs(2)).await;
    wait_members(&mut b_view, &["a", "b"], Duration::from_secs(2)).await;
}
