//! Test support for reliefhub: fresh SQLite files and fresh databases on a
//! real PostgreSQL server that the tests start themselves (initdb into a
//! temporary directory, its own port, stopped when the test process ends).
//!
//! A test that needs PostgreSQL and cannot find it fails with a message that
//! says how to install it.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A database for one test: its URL and what keeps it alive.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file in a new temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("test.db").display());
        TestDb {
            url,
            _dir: Some(dir),
        }
    }

    /// A new, empty database on the test process's PostgreSQL server.
    pub fn postgres() -> TestDb {
        let server = PgServer::get();
        let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
        let name = format!("test_{}_{n}", std::process::id());
        let mut admin = postgres::Client::connect(&server.url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        TestDb {
            url: server.url(&name),
            _dir: None,
        }
    }

    /// The SQLite file's path, for tests that open it directly.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.url.strip_prefix("sqlite:").map(PathBuf::from)
    }
}

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);
static SERVER: OnceLock<PgServer> = OnceLock::new();

/// A PostgreSQL server for this test process.
pub struct PgServer {
    port: u16,
    _dir: tempfile::TempDir,
    _watchdog: Mutex<Child>,
}

const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, postgres) were not found. \
Install them with `apt-get install postgresql` (Debian/Ubuntu), or set RELIEFHUB_PG_BIN \
to the directory that holds them. The PostgreSQL half of the test suite cannot run without them.";

fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("RELIEFHUB_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").exists() && p.join("postgres").exists())
    })
}

/// The (uid, gid) of an unprivileged account to run the server as, when the
/// tests run as root (PostgreSQL refuses to run as root).
fn unprivileged_account() -> Option<(String, u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    for name in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 3 && fields[0] == name {
                return Some((
                    name.to_string(),
                    fields[2].parse().ok()?,
                    fields[3].parse().ok()?,
                ));
            }
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command_as(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.arg("-u").arg(user).arg("--").arg(program);
            command
        }
        None => Command::new(program),
    }
}

impl PgServer {
    /// The server, started on first use.
    pub fn get() -> &'static PgServer {
        SERVER.get_or_init(PgServer::start)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn start() -> PgServer {
        let bin = find_bin_dir().unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        let dir = tempfile::tempdir().unwrap();
        let is_root = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        let account = if is_root {
            Some(unprivileged_account().unwrap_or_else(|| {
                panic!("the tests run as root, and PostgreSQL needs an unprivileged account (postgres or nobody) to run as")
            }))
        } else {
            None
        };
        if let Some((_, uid, gid)) = &account {
            std::os::unix::fs::chown(dir.path(), Some(*uid), Some(*gid)).unwrap();
        }
        let user = account.as_ref().map(|a| a.0.as_str());
        let data = dir.path().join("data");
        let output = command_as(user, &bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run initdb from {}: {e}. {INSTALL_HINT}",
                    bin.display()
                )
            });
        assert!(
            output.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let port = free_port();
        // The server runs under a shell that stops it when this process's
        // end of the pipe closes, so no server outlives its tests.
        let script = format!(
            "{postgres} -D {data} -p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
             >{log} 2>&1 & pid=$!; read _; kill -INT $pid; wait $pid; rm -rf {data}",
            postgres = bin.join("postgres").display(),
            data = data.display(),
            sock = dir.path().display(),
            log = dir.path().join("server.log").display(),
        );
        let mut watchdog = command_as(user, Path::new("/bin/sh"))
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        loop {
            if postgres::Client::connect(&url, postgres::NoTls).is_ok() {
                break;
            }
            if Instant::now() > deadline || watchdog.try_wait().ok().flatten().is_some() {
                let log =
                    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                panic!("the test PostgreSQL server did not start: {log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Keep the pipe open for the life of the process.
        let _ = watchdog.stdin.as_mut().map(|s| s.flush());
        PgServer {
            port,
            _dir: dir,
            _watchdog: Mutex::new(watchdog),
        }
    }
}

/// Runs a test body against both backends, as ripgrep's `rgtest!` runs
/// every search test against both regex engines.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { let db = $crate::TestDb::sqlite(); super::$name(&db.url); } )*
        }
        mod postgres {
            $( #[test] fn $name() { let db = $crate::TestDb::postgres(); super::$name(&db.url); } )*
        }
    };
}
