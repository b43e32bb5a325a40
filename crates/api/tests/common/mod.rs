//! Test support: a real server on port 0 over a fresh database seeded with
//! the demo scenario, and a small JSON client.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;

pub const SEED: u64 = 2025;
/// The demo scenario's last day: next week's departures lie ahead.
pub const DEMO_TODAY: &str = "2025-03-31";
pub const DONOR_A: &str = "RU-EMERCOM";
pub const DONOR_B: &str = "AE-UAEAID";
pub const COUNTRY_X: &str = "SD";
pub const COUNTRY_Y: &str = "TD";

/// The test users: (username, role, organisation, country).
pub const USERS: [(&str, &str, Option<&str>, Option<&str>); 7] = [
    ("admin", "admin", None, None),
    ("operator", "operator", None, None),
    ("donor-a", "donor", Some(DONOR_A), None),
    ("donor-b", "donor", Some(DONOR_B), None),
    ("recipient-x", "recipient", None, Some(COUNTRY_X)),
    ("recipient-y", "recipient", None, Some(COUNTRY_Y)),
    ("auditor", "auditor", None, None),
];

pub fn password(username: &str) -> String {
    format!("{username}-password-1")
}

/// Creates the schema, plays the demo (when asked) and adds the test users.
pub fn seed(url: &str, demo: bool) {
    let now_ms = reliefhub_store::now_unix_ms();
    let mut store = reliefhub_store::Store::open(url).unwrap();
    store.migrate(now_ms).unwrap();
    store
        .load_reference_data(&reliefhub_core::reference::builtin())
        .unwrap();
    let mut ops = reliefhub_ops::Ops::from_store(store);
    if demo {
        reliefhub_ops::demo::play(&mut ops, SEED).unwrap();
    }
    for (username, role, organisation, country) in USERS {
        let user = reliefhub_api::auth::NewUser {
            username: username.to_string(),
            password: password(username),
            role: role.to_string(),
            organisation: organisation.map(str::to_string),
            country: country.map(str::to_string),
        };
        reliefhub_api::auth::add_user(ops.store(), &user, now_ms).unwrap();
    }
}

/// The real server on a free port, on its own runtime; stopped when dropped.
pub struct Server {
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Holds the server's signing key.
    _key_dir: tempfile::TempDir,
}

impl Server {
    pub fn start(db_url: &str) -> Server {
        Server::start_trusting(db_url, &[])
    }

    /// A server that takes `X-Forwarded-For` from these proxies.
    pub fn start_trusting(db_url: &str, proxies: &[&str]) -> Server {
        let today = reliefhub_core::domain::parse_date(DEMO_TODAY);
        let state = reliefhub_api::AppState::open_on(db_url, today).unwrap();
        state.set_trusted_proxies(proxies.iter().map(|p| p.parse().unwrap()).collect());
        let key_dir = tempfile::tempdir().unwrap();
        state.set_hub_key(
            reliefhub_ops::trust::HubKey::create(&key_dir.path().join("hub.key")).unwrap(),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, addr) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                bound.send(listener.local_addr().unwrap()).unwrap();
                reliefhub_api::serve(listener, state, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr.recv_timeout(Duration::from_secs(30)).unwrap();
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            _key_dir: key_dir,
        }
    }

    pub fn client(&self) -> Client {
        Client {
            base: format!("http://{}", self.addr),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(300)))
                // A new connection per request: the server may close a kept-alive
                // one (after answering a request before reading its body), and a
                // request sent on it just then fails with "peer disconnected".
                .max_idle_connections(0)
                .max_idle_connections_per_host(0)
                .build()
                .into(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A response: status, body text and the parsed JSON (Null if none).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub text: String,
    pub json: Value,
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    agent: ureq::Agent,
}

impl Client {
    /// Sends a request; `token` for Authorization, `key` for Idempotency-Key.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let url = format!("{}{}", self.base, path);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = match body {
            Some(body) => {
                let request = request
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(body).unwrap())
                    .unwrap();
                self.agent.run(request)
            }
            None => {
                let request = request.body(()).unwrap();
                self.agent.run(request)
            }
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, text, json }
    }

    /// Sends a request with extra headers and a raw body.
    pub fn send_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let url = format!("{}{}", self.base, path);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = match body {
            Some(body) => self.agent.run(request.body(body).unwrap()),
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, text, json }
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), None, None)
    }

    pub fn post(&self, path: &str, token: &str, key: &str, body: &Value) -> Reply {
        self.send("POST", path, Some(token), Some(key), Some(body))
    }

    pub fn login_with(&self, username: &str, password: &str) -> String {
        let reply = self.send(
            "POST",
            "/api/login",
            None,
            None,
            Some(&serde_json::json!({"username": username, "password": password})),
        );
        assert_eq!(reply.status, 200, "login {username}: {}", reply.text);
        reply.json["token"].as_str().unwrap().to_string()
    }

    pub fn login(&self, username: &str) -> String {
        let reply = self.send(
            "POST",
            "/api/login",
            None,
            None,
            Some(&serde_json::json!({"username": username, "password": password(username)})),
        );
        assert_eq!(reply.status, 200, "login {username}: {}", reply.text);
        reply.json["token"].as_str().unwrap().to_string()
    }
}
