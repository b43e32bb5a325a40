//! End-to-end test of the dashboard in headless Chromium.
//!
//! A fresh SQLite database is seeded with the demo scenario, users are
//! created, the real server starts on port 0, and Chromium (driven over the
//! W3C WebDriver protocol by `chromedriver`, which the test starts on a free
//! port) signs in, reads the stock, draws the flow map with its destination
//! markers, builds and accepts a dispatch plan, then signs in as a donor and
//! reads the donor's journey view. Screenshots are written to
//! `target/artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` packages; without them the
//! test fails and says how to install them.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

const SEED: u64 = 2025;
const OPERATOR: (&str, &str) = ("ops.lead", "operator-pass-7f3a9c");
const DONOR: (&str, &str, &str) = ("qffd.officer", "donor-pass-51be02", "QA-QFFD");
const RECIPIENT: (&str, &str, &str) = ("sd.hac", "recipient-pass-9d11", "SD");
const ADMIN: (&str, &str) = ("hub.admin", "admin-pass-3c8e21");
const AUDITOR: (&str, &str) = ("hub.auditor", "auditor-pass-77a0d4");

/// A small W3C WebDriver client: only the commands this test uses.
mod webdriver {
    use std::net::TcpListener;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

    fn find_program(name: &str, debian_path: &str) -> Option<PathBuf> {
        if Path::new(debian_path).exists() {
            return Some(PathBuf::from(debian_path));
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    }

    /// Chromium and chromedriver, or a failure that says how to install them.
    pub fn programs() -> (PathBuf, PathBuf) {
        let chromium = find_program("chromium", "/usr/bin/chromium");
        let driver = find_program("chromedriver", "/usr/bin/chromedriver");
        match (chromium, driver) {
            (Some(c), Some(d)) => (c, d),
            (c, d) => panic!(
                "the dashboard browser test needs headless Chromium and its WebDriver \
                 (missing: {}{}). On Debian: apt-get install chromium chromium-driver",
                if c.is_none() { "chromium " } else { "" },
                if d.is_none() { "chromedriver" } else { "" },
            ),
        }
    }

    /// A running chromedriver, stopped when dropped.
    pub struct Driver {
        child: Child,
        pub url: String,
    }

    impl Driver {
        pub fn start(program: &Path) -> Driver {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free local port for chromedriver");
            let child = Command::new(program)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
            let driver = Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
            let agent = agent();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let ready = agent
                    .get(&format!("{}/status", driver.url))
                    .call()
                    .ok()
                    .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                    .is_some_and(|v| v["value"]["ready"] == json!(true));
                if ready {
                    return driver;
                }
                assert!(
                    Instant::now() < deadline,
                    "chromedriver did not become ready within 20 s"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    impl Drop for Driver {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .new_agent()
    }

    /// One browser session, ended when dropped.
    pub struct Session {
        agent: ureq::Agent,
        base: String,
    }

    impl Session {
        pub fn new(
            driver: &Driver,
            chromium: &Path,
            profile: &Path,
            width: u32,
            height: u32,
        ) -> Session {
            let agent = agent();
            let args = vec![
                "--headless".to_string(),
                "--no-sandbox".to_string(),
                "--disable-gpu".to_string(),
                "--disable-quic".to_string(),
                "--no-first-run".to_string(),
                "--disable-background-networking".to_string(),
                "--disable-component-update".to_string(),
                "--disable-sync".to_string(),
                "--disable-dev-shm-usage".to_string(),
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={width},{height}"),
                "--lang=en-GB".to_string(),
            ];
            let mut options = json!({"binary": chromium, "args": args});
            if width < 500 {
                // Headless Chromium keeps its window at least 500 px wide: a
                // phone's width is emulated (viewport, touch, mobile layout).
                options["mobileEmulation"] = json!({"deviceMetrics": {
                    "width": width, "height": height, "pixelRatio": 1.0, "touch": true, "mobile": true,
                }});
            }
            let caps = json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": options,
            }}});
            let value = call(
                &agent,
                "POST",
                &format!("{}/session", driver.url),
                Some(caps),
            )
            .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"));
            let id = value["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("no session id in {value}"))
                .to_string();
            Session {
                agent,
                base: format!("{}/session/{id}", driver.url),
            }
        }

        fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
            call(&self.agent, method, &format!("{}{path}", self.base), body)
        }

        pub fn goto(&self, url: &str) {
            self.cmd("POST", "/url", Some(json!({ "url": url })))
                .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        }

        /// Runs `script` (a function body; `arguments[i]` are `args`) in the page.
        pub fn exec(&self, script: &str, args: Vec<Value>) -> Value {
            self.cmd(
                "POST",
                "/execute/sync",
                Some(json!({ "script": script, "args": args })),
            )
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
        }

        fn try_find(&self, css: &str) -> Result<String, String> {
            let v = self.cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )?;
            Ok(v[ELEMENT_KEY].as_str().unwrap().to_string())
        }

        /// Runs `act` on the element `css` finds. The page may re-draw
        /// between finding an element and acting on it (the element is then
        /// stale) or not have drawn it yet: both are tried again, for up to
        /// 10 s, on the element found anew.
        fn on_element(&self, css: &str, what: &str, act: &dyn Fn(&str) -> Result<(), String>) {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let result = self.try_find(css).and_then(|id| act(&id));
                match result {
                    Ok(()) => return,
                    Err(e)
                        if Instant::now() < deadline
                            && (e.contains("stale element")
                                || e.contains("no such element")
                                || e.contains("not interactable")
                                || e.contains("click intercepted")) =>
                    {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    Err(e) => panic!("cannot {what} `{css}`: {e}"),
                }
            }
        }

        pub fn type_into(&self, css: &str, text: &str) {
            self.on_element(css, "type into", &|id| {
                self.cmd("POST", &format!("/element/{id}/clear"), Some(json!({})))?;
                self.cmd(
                    "POST",
                    &format!("/element/{id}/value"),
                    Some(json!({ "text": text })),
                )?;
                Ok(())
            });
        }

        pub fn click(&self, css: &str) {
            self.on_element(css, "click", &|id| {
                self.cmd("POST", &format!("/element/{id}/click"), Some(json!({})))?;
                Ok(())
            });
        }

        pub fn screenshot(&self, path: &Path) {
            let v = self
                .cmd("GET", "/screenshot", None)
                .unwrap_or_else(|e| panic!("no screenshot: {e}"));
            let png = base64_decode(v.as_str().unwrap());
            std::fs::write(path, png)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }

        /// Polls `script` until it returns something truthy, and returns that.
        /// Like `exec`, but a script that throws (an element the page is
        /// still re-drawing) is an `Err` with the browser's message.
        pub fn try_exec(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
            self.cmd(
                "POST",
                "/execute/sync",
                Some(json!({ "script": script, "args": args })),
            )
        }

        /// Waits until `script` returns a truthy value. A script that throws
        /// because the page is between two renderings (a JavaScript error)
        /// counts as not yet; any other failure ends the wait.
        pub fn wait_for(
            &self,
            what: &str,
            timeout: Duration,
            script: &str,
            args: Vec<Value>,
        ) -> Value {
            let deadline = Instant::now() + timeout;
            loop {
                let v = match self.try_exec(script, args.clone()) {
                    Ok(v) => v,
                    Err(e) if e.contains("javascript error") && Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(150));
                        continue;
                    }
                    Err(e) => panic!("script failed while waiting for {what}: {e}\n{script}"),
                };
                if truthy(&v) {
                    return v;
                }
                // An error shown by the dashboard ends the wait at once.
                let shown = self.exec(
                    "return [...document.querySelectorAll('[data-testid=error]')].map(e => e.textContent).join(' | ')",
                    vec![],
                );
                let failed = shown.as_str().is_some_and(|s| !s.is_empty());
                if failed {
                    // The page may have drawn what was awaited together with
                    // the error between the two scripts: ask once more.
                    if let Ok(v) = self.try_exec(script, args.clone()) {
                        if truthy(&v) {
                            return v;
                        }
                    }
                }
                if failed || Instant::now() >= deadline {
                    let page = self.exec(
                        "const e = document.querySelector('[data-testid=error]');
                         return {url: location.href, ready: document.getElementById('main')?.dataset.ready || null,
                                 error: e ? e.textContent : null, scriptErrors: window.__reliefhubErrors || [],
                                 text: document.body.innerText.slice(0, 1500)};",
                        vec![],
                    );
                    if failed {
                        panic!("the dashboard shows an error while waiting for {what}; the page: {page:#}");
                    }
                    panic!("timed out after {timeout:?} waiting for {what}; the page: {page:#}");
                }
                std::thread::sleep(Duration::from_millis(150));
            }
        }
    }

    /// JavaScript's truthiness of a script's result.
    fn truthy(v: &Value) -> bool {
        !(v.is_null()
            || *v == json!(false)
            || *v == json!(0)
            || *v == json!("")
            || v.as_array().is_some_and(|a| a.is_empty()))
    }

    impl Drop for Session {
        fn drop(&mut self) {
            let _ = call(&self.agent, "DELETE", &self.base, None);
        }
    }

    fn call(
        agent: &ureq::Agent,
        method: &str,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let response = match (method, body) {
            ("GET", _) => agent.get(url).call(),
            ("DELETE", _) => agent.delete(url).call(),
            (_, Some(b)) => agent.post(url).send_json(b),
            (_, None) => agent.post(url).send_empty(),
        };
        let mut response = response.map_err(|e| format!("{method} {url}: {e}"))?;
        let status = response.status();
        let value: Value = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_json()
            .map_err(|e| format!("{method} {url}: unreadable answer: {e}"))?;
        if status.is_success() {
            Ok(value["value"].clone())
        } else {
            Err(format!("{method} {url}: {status}: {}", value["value"]))
        }
    }

    /// Standard base64 (the screenshot encoding), without another dependency.
    fn base64_decode(text: &str) -> Vec<u8> {
        let mut table = [255u8; 256];
        for (i, c) in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            .iter()
            .enumerate()
        {
            table[*c as usize] = i as u8;
        }
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        let mut acc = 0u32;
        let mut bits = 0;
        for &c in text.as_bytes() {
            let v = table[c as usize];
            if v == 255 {
                continue; // padding and line breaks
            }
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }
}

use webdriver::{Driver, Session};

/// `<workspace>/target/artifacts`, where CI collects the screenshots.
fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

fn sign_in(browser: &Session, base: &str, username: &str, password: &str) {
    browser.goto(&format!("{base}/"));
    browser.wait_for(
        "the login form",
        Duration::from_secs(20),
        "return document.querySelector('[data-testid=login-form]') !== null",
        vec![],
    );
    browser.type_into("#login-username", username);
    browser.type_into("#login-password", password);
    browser.click("[data-testid=login-submit]");
    browser.wait_for(
        "the signed-in top bar",
        Duration::from_secs(20),
        "return !document.getElementById('topbar').hidden && sessionStorage.getItem('reliefhub.token')",
        vec![],
    );
}

fn sign_out(browser: &Session) {
    browser.click("[data-testid=logout]");
    browser.wait_for(
        "the login form after signing out",
        Duration::from_secs(20),
        "return document.querySelector('[data-testid=login-form]') !== null && !sessionStorage.getItem('reliefhub.token')",
        vec![],
    );
}

/// Waits until the view `view` is drawn (the home view after signing in, or
/// after a reload).
fn wait_ready(browser: &Session, view: &str) {
    browser.wait_for(
        &format!("the {view} view"),
        Duration::from_secs(30),
        "return document.getElementById('main').dataset.ready === arguments[0]",
        vec![json!(view)],
    );
}

/// Signs in and waits for the role's home view, drawn without an error.
fn sign_in_home(browser: &Session, base: &str, username: &str, password: &str, home: &str) {
    sign_in(browser, base, username, password);
    wait_ready(browser, home);
    assert_no_errors(browser, home);
}

/// The navigation offers no link to `view`.
fn assert_no_nav(browser: &Session, view: &str, why: &str) {
    assert_eq!(
        count(browser, &format!("[data-testid=nav-{view}]")),
        0,
        "{why}"
    );
}

/// Opens a view and waits until it has rendered without an error.
fn open_view(browser: &Session, view: &str) {
    browser.exec("location.hash = '#/' + arguments[0]", vec![json!(view)]);
    browser.wait_for(
        &format!("the {view} view"),
        Duration::from_secs(30),
        "return document.getElementById('main').dataset.ready === arguments[0]
                && document.querySelector('[data-view=' + arguments[0] + ']') !== null",
        vec![json!(view)],
    );
    assert_no_errors(browser, view);
}

fn assert_no_errors(browser: &Session, view: &str) {
    let errors = browser.exec(
        "return {shown: [...document.querySelectorAll('[data-testid=error]')].map(e => e.textContent),
                 script: window.__reliefhubErrors || []}",
        vec![],
    );
    assert_eq!(
        errors,
        json!({"shown": [], "script": []}),
        "the {view} view shows errors"
    );
}

/// Every label of the flow map stands clear of every marker (donor, hub
/// node, destination), measured on the page.
fn assert_map_labels_clear(browser: &Session, language: &str) {
    let found = browser.exec(
        "const box = (e) => e.getBoundingClientRect();
         const markers = [...document.querySelectorAll('#flow-map .donor-marker, #flow-map .dest-marker, #flow-map .hub-marker')];
         const labels = [...document.querySelectorAll('#flow-map [data-testid=map-label]')];
         const covered = [];
         for (const l of labels) {
           const a = box(l);
           for (const m of markers) {
             const b = box(m);
             const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
             const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
             if (w > 0.5 && h > 0.5) covered.push(l.textContent + ' covers ' + (m.dataset.locode || m.dataset.node || m.dataset.country));
           }
         }
         return {markers: markers.length, labels: labels.length, covered};",
        vec![],
    );
    assert!(
        found["markers"].as_u64().unwrap() > 10 && found["labels"].as_u64().unwrap() > 10,
        "the map has its markers and labels: {found}"
    );
    assert_eq!(
        found["covered"],
        json!([]),
        "in {language}, map labels cover markers"
    );
}

fn count(browser: &Session, css: &str) -> u64 {
    browser
        .exec(
            "return document.querySelectorAll(arguments[0]).length",
            vec![json!(css)],
        )
        .as_u64()
        .unwrap()
}

/// The demo scenario on a fresh database, as `reliefhub demo` plays it, and
/// the test's users.
fn seed_demo(url: &str) {
    let now_ms = reliefhub_store::now_unix_ms();
    let mut store = reliefhub_store::Store::open(url).unwrap();
    store.migrate(now_ms).unwrap();
    store
        .load_reference_data(&reliefhub_core::reference::builtin())
        .unwrap();
    let mut ops = reliefhub_ops::Ops::from_store(store);
    reliefhub_ops::demo::play(&mut ops, SEED).unwrap();
    let users = [
        (OPERATOR.0, OPERATOR.1, "operator", None, None),
        (ADMIN.0, ADMIN.1, "admin", None, None),
        (AUDITOR.0, AUDITOR.1, "auditor", None, None),
        (DONOR.0, DONOR.1, "donor", Some(DONOR.2), None),
        (
            RECIPIENT.0,
            RECIPIENT.1,
            "recipient",
            None,
            Some(RECIPIENT.2),
        ),
    ];
    for (username, password, role, organisation, country) in users {
        let user = reliefhub_api::auth::NewUser {
            username: username.to_string(),
            password: password.to_string(),
            role: role.to_string(),
            organisation: organisation.map(str::to_string),
            country: country.map(str::to_string),
        };
        reliefhub_api::auth::add_user(ops.store(), &user, now_ms)
            .unwrap_or_else(|e| panic!("cannot add the user {username}: {e}"));
    }
}

/// The real server on a free port, on its own runtime thread; stopped (graceful
/// shutdown) when dropped.
struct Server {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(db_url: &str) -> Server {
        // The hub's date is the demo's last day, so next week's departures are ahead.
        let today = time::Date::from_calendar_date(2025, time::Month::March, 31).unwrap();
        let state = reliefhub_api::AppState::open_on(db_url, Some(today)).unwrap();
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
        let addr = addr
            .recv_timeout(Duration::from_secs(30))
            .expect("the server binds a port");
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
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

/// Headless Chromium on the real server over a database seeded with the
/// demo; when dropped, the browser ends first, then chromedriver, its
/// profile and the server.
struct Rig {
    browser: Session,
    driver: Driver,
    _profile: Profile,
    server: Server,
}

impl Rig {
    fn start(url: &str, profile: &str, width: u32, height: u32) -> Rig {
        let (chromium, chromedriver) = webdriver::programs();
        seed_demo(url);
        let server = Server::start(url);
        let profile = Profile::named(profile);
        let driver = Driver::start(&chromedriver);
        let browser = Session::new(&driver, &chromium, &profile.0, width, height);
        Rig {
            browser,
            driver,
            _profile: profile,
            server,
        }
    }
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

fn api_login(base: &str, username: &str, password: &str) -> String {
    let mut r = http()
        .post(&format!("{base}/api/login"))
        .send_json(json!({"username": username, "password": password}))
        .unwrap();
    assert_eq!(r.status(), 200, "login of {username}");
    let v: Value = r.body_mut().read_json().unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn api_get(base: &str, token: &str, path: &str) -> Value {
    let mut r = http()
        .get(&format!("{base}/api{path}"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    r.body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_json()
        .unwrap()
}

/// Rows of a report table, whichever JSON shape the server uses.
fn table_len(v: &Value) -> usize {
    v.as_array()
        .or_else(|| v["rows"].as_array())
        .map_or(0, Vec::len)
}

#[test]
fn dashboard_in_headless_chromium_signs_in_shows_stock_and_map_accepts_a_plan_and_shows_the_donor_view(
) {
    let db = reliefhub_testkit::TestDb::sqlite();
    let rig = Rig::start(&db.url, "dashboard", 1366, 768);
    let (browser, base) = (&rig.browser, rig.server.base_url());
    let operator_token = api_login(&base, OPERATOR.0, OPERATOR.1);
    let donor_token = api_login(&base, DONOR.0, DONOR.1);
    let artifacts = artifacts_dir();

    // Operator: stock by node and item.
    sign_in_home(browser, &base, OPERATOR.0, OPERATOR.1, "stock");
    let position = api_get(&base, &operator_token, "/stock/position");
    let rows = table_len(&position);
    assert!(rows > 0, "the demo leaves stock at the hub");
    assert_eq!(
        count(browser, "[data-testid=stock-row]") as usize,
        rows,
        "the stock table shows every node and item line of /api/stock/position"
    );

    browser.screenshot(&artifacts.join("dashboard-stock.png"));

    // The flow map: one marker per destination, flows drawn.
    open_view(browser, "map");
    let destinations = api_get(&base, &operator_token, "/destinations");
    let destinations = destinations.as_array().unwrap().len();
    assert!(destinations >= 10, "the built-in destinations");
    browser.wait_for(
        "a destination marker for each destination",
        Duration::from_secs(20),
        "return document.querySelectorAll('#flow-map [data-testid=destination-marker]').length === arguments[0]",
        vec![json!(destinations)],
    );
    assert!(
        count(browser, "#flow-map #map-countries path.country") > 100,
        "the world's countries are drawn"
    );
    assert!(
        count(browser, "#flow-map [data-testid=hub-marker]") == 2,
        "the port and the airfield"
    );
    assert!(
        count(browser, "#flow-map [data-testid=flow-inbound]") > 0,
        "donor flows into the hub"
    );
    assert!(
        count(browser, "#flow-map [data-testid=flow-outbound]") > 0,
        "flows out to destinations"
    );
    // Donor -> hub lines carry everything received, not only what was shipped on since.
    let flows = api_get(&base, &operator_token, "/flows");
    let stage_kg = |stages: &[&str]| -> f64 {
        flows
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| stages.iter().any(|s| f["stage"] == json!(s)))
            .map(|f| f["weight_kg"].as_f64().unwrap())
            .sum()
    };
    let received_kg = stage_kg(&["received"]);
    let shipped_kg = stage_kg(&["loaded", "departed", "delivered"]);
    assert!(
        received_kg > shipped_kg && shipped_kg > 0.0,
        "the demo received {received_kg} kg and shipped {shipped_kg} kg"
    );
    let drawn_kg = |stage: &str| -> f64 {
        browser
            .exec(
                "return [...document.querySelectorAll('#flow-map [data-stage=' + arguments[0] + ']')]
                        .reduce((s, p) => s + Number(p.dataset.kg), 0)",
                vec![json!(stage)],
            )
            .as_f64()
            .unwrap()
    };
    assert!(
        (drawn_kg("received") - received_kg).abs() < 1.0,
        "the donor -> hub lines carry the {received_kg} kg received, drawn: {}",
        drawn_kg("received")
    );
    assert!(
        (drawn_kg("delivered") - stage_kg(&["delivered"])).abs() < 1.0,
        "the hub -> destination lines carry what was delivered"
    );
    assert_map_labels_clear(browser, "English");
    let shot = artifacts.join("dashboard.png");
    browser.screenshot(&shot);
    println!("dashboard screenshot: {}", shot.display());
    // In Arabic (right to left) the labels still stand beside their markers.
    browser.exec(
        "document.querySelector('[data-view=map]').dataset.before = 'ar'",
        vec![],
    );
    choose_language(browser, "ar");
    browser.wait_for(
        "the map drawn again in Arabic",
        Duration::from_secs(30),
        "const v = document.querySelector('[data-view=map]');
         return document.documentElement.dir === 'rtl' && v && !v.dataset.before
                && document.getElementById('main').dataset.ready === 'map'
                && document.querySelectorAll('#flow-map [data-testid=map-label]').length > 0",
        vec![],
    );
    assert_no_errors(browser, "map (Arabic)");
    assert_map_labels_clear(browser, "Arabic");
    browser.screenshot(&artifacts.join("dashboard-map-ar.png"));
    choose_language(browser, "en");

    // The inbound pipeline and the fulfilment views render their data.
    open_view(browser, "pipeline");
    let legs = table_len(&api_get(
        &base,
        &operator_token,
        "/reports/inbound-pipeline",
    ));
    assert!(legs > 0);
    browser.wait_for(
        "the pipeline timeline",
        Duration::from_secs(10),
        "return document.querySelector('[data-testid=pipeline-chart] canvas') !== null",
        vec![],
    );
    assert_eq!(
        count(browser, "[data-testid=pipeline-table] tbody tr") as usize,
        legs
    );
    open_view(browser, "requests");
    assert!(count(browser, "[data-testid=fulfilment-row]") > 0);

    // The dispatch plan: build, then accept.
    open_view(browser, "plan");
    browser.type_into("#plan-time-limit", "2");
    browser.click("[data-testid=build-plan]");
    browser.wait_for(
        "the new plan",
        Duration::from_secs(180),
        "return document.querySelector('[data-testid=plan-built]') !== null
                && document.querySelector('[data-testid=plan]') !== null",
        vec![],
    );
    assert_no_errors(browser, "plan (built)");
    let plan_id = browser.exec(
        "return document.querySelector('[data-testid=plan]').dataset.planId",
        vec![],
    );
    let plan_id = plan_id.as_str().unwrap().to_string();
    assert_eq!(
        browser.exec(
            "return document.querySelector('[data-testid=plan-status]').dataset.status",
            vec![]
        ),
        json!("proposed")
    );
    let plan = api_get(&base, &operator_token, &format!("/plans/{plan_id}"));
    assert_eq!(
        count(browser, "[data-testid=plan-departure]") as usize,
        plan["departures"].as_array().unwrap().len(),
        "one row per departure of the plan"
    );
    assert!(
        count(browser, "[data-testid=plan-departure]") > 0,
        "the demo has departures to plan"
    );
    browser.click("[data-testid=accept-plan]");
    browser.wait_for(
        "the accepted plan",
        Duration::from_secs(60),
        "return document.querySelector('[data-testid=plan-accepted]') !== null
                && document.querySelector('[data-testid=plan-status]')?.dataset.status === 'accepted'",
        vec![],
    );
    assert_no_errors(browser, "plan (accepted)");
    // Each hub transfer the acceptance dispatched is listed on the page.
    let transfers = api_get(&base, &operator_token, "/transfers");
    let prefix = format!("PLAN-{plan_id}-");
    let dispatched = transfers
        .as_array()
        .expect("a list of transfers")
        .iter()
        .filter(|t| {
            t["code"]
                .as_str()
                .is_some_and(|code| code.starts_with(&prefix))
        })
        .count();
    assert!(
        dispatched > 0,
        "the demo's plan loads port stock on flights, so its acceptance dispatches hub transfers"
    );
    assert_eq!(
        count(browser, "[data-testid=plan-transfer]") as usize,
        dispatched,
        "one line per hub transfer dispatched by the acceptance"
    );
    let plan = api_get(&base, &operator_token, &format!("/plans/{plan_id}"));
    assert_eq!(
        plan["status"],
        json!("accepted"),
        "the server holds the plan as accepted"
    );
    browser.screenshot(&artifacts.join("dashboard-plan.png"));

    // What if: run the "port closed for a week" example, see its charts.
    open_view(browser, "whatif");
    browser.exec(
        "const p = document.querySelector('[data-testid=whatif-preset]'); p.value = 'storm'; p.dispatchEvent(new Event('change'));",
        vec![],
    );
    browser.type_into("#whatif-runs", "2");
    browser.type_into("#whatif-time-limit", "0.2");
    browser.click("[data-testid=whatif-run]");
    browser.wait_for(
        "the what-if charts",
        Duration::from_secs(120),
        "const r = document.querySelector('[data-testid=whatif-result]');
         return r && r.dataset.charts === 'drawn'
                && document.querySelectorAll('[data-testid=whatif-charts] .uplot').length === 3
                && document.querySelectorAll('[data-testid=whatif-table] tbody tr').length > 3",
        vec![],
    );
    assert_no_errors(browser, "whatif");
    browser.screenshot(&artifacts.join("dashboard-whatif.png"));
    sign_out(browser);

    // The donor: their journey view, and no hub-only views.
    sign_in_home(browser, &base, DONOR.0, DONOR.1, "journey");
    assert_no_nav(browser, "plan", "donors see no plan");
    assert_no_nav(browser, "requests", "donors see no requests");
    let journey = api_get(&base, &donor_token, "/donor/journey");
    let lots = journey["lots"]
        .as_array()
        .or(journey.as_array())
        .map_or(0, Vec::len);
    assert!(lots > 0, "the donor has consignments in the demo");
    assert_eq!(
        count(browser, "[data-testid=journey-lot]") as usize,
        lots.min(200)
    );
    assert!(
        count(
            browser,
            "[data-testid=journey-lot] [data-stage=delivery]:not([data-state=todo])"
        ) > 0,
        "some of the donor's lots have reached delivery"
    );
    let delivered = browser.exec(
        "return document.querySelector('[data-testid=donor-delivered] .value')?.textContent || ''",
        vec![],
    );
    assert!(delivered
        .as_str()
        .is_some_and(|s| !s.is_empty() && s != "0"));
    let page = browser.exec("return document.body.innerText", vec![]);
    for other in ["RU-EMERCOM", "AE-UAEAID", "SA-KSRELIEF", "KW-KRCS"] {
        assert!(
            !page.as_str().unwrap().contains(other),
            "the donor view shows another donor's code {other}"
        );
    }
    browser.screenshot(&artifacts.join("dashboard-donor.png"));
    // The donor downloads their own proof from their page.
    browser.click("[data-testid=donor-download-proof]");
    let said = browser.wait_for(
        "the donor's proof downloaded",
        Duration::from_secs(60),
        "const s = document.querySelector('[data-testid=donor-proof-status]')?.textContent || '';
         return s === 'Downloaded.' || s.startsWith('Could not') ? s : '';",
        vec![],
    );
    assert_eq!(said, json!("Downloaded."), "the proof button's answer");
    // The same file, as the donor gets it: valid, and only their entries.
    let mut r = http()
        .get(&format!("{base}/api/donors/{}/proof", DONOR.2))
        .header("Authorization", &format!("Bearer {donor_token}"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    let summary = reliefhub_ops::trust::verify_proof(&bytes, None).unwrap();
    assert!(summary.entries > 0, "the donor's proof proves entries");
    let proof: reliefhub_ops::trust::DonorProof = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        proof.donors_shown().into_iter().collect::<Vec<_>>(),
        vec![DONOR.2.to_string()]
    );
    // A donor's stock and inbound legs: their own lots only, from the routes open to donors.
    let own_lots = api_get(&base, &donor_token, "/stock");
    assert!(own_lots
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["donor"] == json!(DONOR.2)));
    open_view(browser, "stock");
    assert!(
        count(browser, "[data-testid=stock-row]") > 0,
        "the donor has stock at the hub"
    );
    open_view(browser, "pipeline");
    assert!(
        count(browser, "[data-testid=pipeline-table] tbody tr") > 0,
        "the donor's legs"
    );
    open_view(browser, "journey");

    // Arabic: right to left, headings and navigation translated.
    browser.exec(
        "const s = document.getElementById('lang'); s.value = 'ar'; s.dispatchEvent(new Event('change'));",
        vec![],
    );
    browser.wait_for(
        "the Arabic dashboard",
        Duration::from_secs(20),
        "return document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar'
                && document.querySelector('[data-testid=nav-journey]').textContent === 'شحناتي'
                && document.getElementById('main').dataset.ready === 'journey'",
        vec![],
    );
    assert_no_errors(browser, "journey (Arabic)");
    browser.screenshot(&artifacts.join("dashboard-donor-ar.png"));
    sign_out(browser);

    // A recipient agency: their country's requests (the language stays Arabic).
    sign_in_home(browser, &base, RECIPIENT.0, RECIPIENT.1, "requests");
    assert_no_nav(browser, "stock", "recipients see no hub stock");
    let shown = browser.exec(
        "return [...document.querySelectorAll('[data-testid=fulfilment-row] code')].map(c => c.textContent)",
        vec![],
    );
    let shown = shown.as_array().unwrap();
    assert!(
        !shown.is_empty(),
        "the demo has requests for {}",
        RECIPIENT.2
    );
    assert!(
        shown
            .iter()
            .all(|c| c.as_str().unwrap().starts_with(RECIPIENT.2)),
        "a recipient sees only their country's destinations: {shown:?}"
    );
}

/// A fresh Chromium profile directory, removed when dropped (also when the test fails).
struct Profile(PathBuf);

impl Profile {
    /// A profile of its own for each test (tests of one binary run at once).
    fn named(name: &str) -> Profile {
        let dir =
            std::env::temp_dir().join(format!("reliefhub-chromium-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Profile(dir)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The dashboard's string files: English complete, and every other language
/// holding every English key (none missing or empty), no key English lacks,
/// and the same placeholders.
#[test]
fn dashboard_strings_have_every_english_key_in_every_language() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/i18n");
    let read = |lang: &str| -> serde_json::Map<String, Value> {
        let path = dir.join(format!("{lang}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => map,
            other => panic!(
                "{}: not a JSON object of strings: {other:?}",
                path.display()
            ),
        }
    };
    let english = read("en");
    let scripts = std::fs::read_dir(dir.join("../js"))
        .unwrap()
        .chain(std::fs::read_dir(dir.join("../js/views")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<String>()
        + &std::fs::read_to_string(dir.join("../index.html")).unwrap();
    // Every literal key the code looks up exists in English.
    let mut missing = Vec::new();
    for quote in ['"', '\''] {
        for piece in scripts.split(&format!("t({quote}")).skip(1) {
            let key = piece.split(quote).next().unwrap();
            // `closest(".field")` is a selector, not a string key.
            let is_key = key.contains('.') && key.starts_with(|c: char| c.is_ascii_lowercase());
            if is_key && !english.contains_key(key) {
                missing.push(key.to_string());
            }
        }
    }
    for piece in scripts.split("data-i18n=\"").skip(1) {
        let key = piece.split('"').next().unwrap();
        if !english.contains_key(key) {
            missing.push(key.to_string());
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "keys used by the dashboard but missing from en.json: {missing:?}"
    );

    let headings: Vec<&String> = english
        .keys()
        .filter(|k| {
            k.starts_with("nav.")
                || k.ends_with(".title")
                || k.starts_with("login.") && !k.ends_with("throttled")
        })
        .collect();
    assert!(headings.len() >= 15);
    for lang in ["fr", "ar", "ru"] {
        let strings = read(lang);
        let unknown: Vec<_> = strings
            .keys()
            .filter(|k| !english.contains_key(*k))
            .collect();
        assert!(
            unknown.is_empty(),
            "{lang}.json has keys English does not: {unknown:?}"
        );
        let missing: Vec<_> = english
            .keys()
            .filter(|k| {
                strings
                    .get(k.as_str())
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .trim()
                    .is_empty()
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{lang}.json lacks {} of the {} English strings: {missing:?}",
            missing.len(),
            english.len()
        );
        let untranslated: Vec<_> = headings
            .iter()
            .filter(|k| {
                strings
                    .get(k.as_str())
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .is_empty()
            })
            .collect();
        assert!(
            untranslated.is_empty(),
            "{lang}.json lacks headings or navigation: {untranslated:?}"
        );
        for (key, value) in &strings {
            let placeholders = |s: &str| {
                let mut p: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|x| x.split('}').next())
                    .map(String::from)
                    .collect();
                p.sort();
                p
            };
            assert_eq!(
                placeholders(value.as_str().unwrap_or_default()),
                placeholders(english[key].as_str().unwrap()),
                "{lang}.json `{key}` must keep the English placeholders"
            );
        }
    }
}

// ------------------------------------------------------------------------
// The daily operations, clicked through as the hub's users would.

fn set_value(browser: &Session, css: &str, value: &str) {
    let ok = browser.exec(
        "const e = document.querySelector(arguments[0]); if (!e) return false;
         e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true}));
         e.dispatchEvent(new Event('change', {bubbles: true})); return e.value === arguments[1];",
        vec![json!(css), json!(value)],
    );
    assert_eq!(ok, json!(true), "cannot set `{css}` to {value}");
}

/// Chooses the first option of a select whose label or value contains `text`; returns its value.
fn choose(browser: &Session, css: &str, text: &str) -> String {
    let v = browser.exec(
        "const e = document.querySelector(arguments[0]); if (!e) return null;
         const o = [...e.options].find(o => o.value && (o.textContent.includes(arguments[1]) || o.value.includes(arguments[1])));
         if (!o) return null; e.value = o.value; e.dispatchEvent(new Event('change', {bubbles: true})); return o.value;",
        vec![json!(css), json!(text)],
    );
    v.as_str()
        .unwrap_or_else(|| panic!("no option containing {text} in `{css}`"))
        .to_string()
}

fn open_card(browser: &Session, form: &str) {
    browser.exec(
        "const d = document.querySelector('[data-testid=' + arguments[0] + '-card]'); if (d) d.open = true;",
        vec![json!(form)],
    );
}

fn wait(browser: &Session, what: &str, script: &str) -> Value {
    browser.wait_for(what, Duration::from_secs(60), script, vec![])
}

fn shot(browser: &Session, dir: &Path, name: &str) {
    browser.screenshot(&dir.join(format!("journey-{name}.png")));
}

fn choose_language(browser: &Session, lang: &str) {
    browser.exec(
        "const s = document.getElementById('lang'); if (s.value !== arguments[0]) { s.value = arguments[0]; s.dispatchEvent(new Event('change')); }",
        vec![json!(lang)],
    );
    browser.wait_for(
        "the language",
        Duration::from_secs(20),
        "return document.documentElement.lang === arguments[0]",
        vec![json!(lang)],
    );
}

/// An item of the catalogue (neither cold chain nor dangerous) with no stock
/// at the airfield now: the chain brings some in by air and trucks all of it
/// to the port, so a flight from the airfield can carry it only after a road
/// transfer back, which the accepted plan dispatches.
fn item_missing_at_the_airfield(base: &str, token: &str) -> String {
    let stock = api_get(base, token, "/stock");
    let at_airfield: Vec<&str> = stock
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["node"] == json!("HMEIMIM-AIR"))
        .map(|s| s["item"].as_str().unwrap())
        .collect();
    [
        "SLEEPING-MAT-10",
        "SOAP-CTN",
        "ORS-CTN",
        "LENTILS-50KG",
        "JERRYCAN-10L-X10",
    ]
    .into_iter()
    .find(|item| !at_airfield.contains(item))
    .unwrap_or_else(|| panic!("every candidate item is at the airfield: {at_airfield:?}"))
    .to_string()
}

/// The operator's inbound half of the chain: a leg registered, its manifest
/// checked (one bad line shown), fixed and imported, received with one line
/// scanned, and the second line (`item`) trucked to the port and its
/// arrival recorded.
fn operator_inbound(browser: &Session, base: &str, dir: &Path, lang: &str, n: u32, item: &str) {
    let leg = format!("IN-E2E-{n}");
    sign_in(browser, base, OPERATOR.0, OPERATOR.1);
    choose_language(browser, lang);
    open_view(browser, "legs");
    open_card(browser, "leg-form");
    browser.type_into("#leg-form-code", &leg);
    choose(browser, "#leg-form-mode", "air");
    browser.type_into("#leg-form-origin", "DOH");
    choose(browser, "#leg-form-node", "HMEIMIM-AIR");
    browser.type_into("#leg-form-carrier", "Qatar Airways Cargo");
    browser.type_into("#leg-form-reference", &format!("QR8{n}50"));
    choose(browser, "#leg-form-donor", DONOR.2);
    shot(browser, dir, &format!("{lang}-01-register-leg"));
    browser.click("[data-testid=leg-form-submit]");
    wait(
        browser,
        "the new leg's page with its manifest form",
        "return document.querySelector('[data-testid=manifest-card]') !== null",
    );
    // A manifest with one bad line: the check lists it by line, nothing is imported.
    let bad = format!(
        "item,quantity,batch,expiry,packs,earmark\nBLANKET-BALE-10,400,E2E-B1-{n},,40,SD\nNO-SUCH-ITEM,50,E2E-B2-{n},,5,SD\n"
    );
    set_value(browser, "#manifest-text", &bad);
    browser.click("[data-testid=manifest-check]");
    let problems = wait(
        browser,
        "the manifest's problems",
        "return [...document.querySelectorAll('[data-testid=manifest-problem]')].map(p => p.dataset.line)",
    );
    assert_eq!(
        problems,
        json!(["3"]),
        "the bad line is named by its line in the file"
    );
    assert_eq!(
        browser.exec(
            "return document.querySelector('[data-testid=manifest-import]').disabled",
            vec![]
        ),
        json!(true),
        "a manifest with problems cannot be imported"
    );
    shot(browser, dir, &format!("{lang}-02-manifest-problem"));
    set_value(
        browser,
        "#manifest-text",
        &bad.replace("NO-SUCH-ITEM", item),
    );
    browser.click("[data-testid=manifest-check]");
    wait(
        browser,
        "the checked manifest",
        "return document.querySelector('[data-testid=manifest-ok]') !== null",
    );
    browser.click("[data-testid=manifest-import]");
    wait(
        browser,
        "the receive form",
        "return document.querySelectorAll('[data-testid=receive-counted]').length === 2",
    );
    // Line 1 through the barcode field (GS1: GTIN, batch, count), line 2 typed.
    browser.type_into(
        "#receive-scan",
        &format!("(01)09506000134352(10)E2E-B1-{n}(37)400\u{E007}"),
    );
    wait(
        browser,
        "the scanned line filled",
        "return document.querySelector('[data-testid=receive-counted][data-line=\"1\"]').value === '400'",
    );
    browser.type_into("[data-testid=receive-counted][data-line=\"2\"]", "48");
    shot(browser, dir, &format!("{lang}-03-receive-scanned"));
    browser.click("[data-testid=receive-form-submit]");
    wait(
        browser,
        "the goods-received note",
        "return document.querySelectorAll('[data-testid=grn-row]').length === 2",
    );
    shot(browser, dir, &format!("{lang}-04-grn"));

    // The second line, all 48, to the port by road, and its arrival.
    let transfer = format!("TR-E2E-{n}");
    open_view(browser, "transfers");
    open_card(browser, "transfer-form");
    browser.type_into("#transfer-form-code", &transfer);
    choose(browser, "#transfer-form-from_node", "HMEIMIM-AIR");
    choose(browser, "#transfer-form-to_node", "TARTUS-PORT");
    browser.type_into("#transfer-form-vehicle", "Truck SY-4471");
    choose(browser, "#transfer-form-lot_id", &format!("E2E-B2-{n}"));
    browser.type_into("#transfer-form-quantity", "48");
    browser.click("[data-testid=transfer-form-submit]");
    let arrive = format!("[data-testid=transfer-arrive][data-code={transfer}]");
    wait(
        browser,
        "the dispatched transfer",
        &format!("return document.querySelector('{arrive}') !== null"),
    );
    browser.click(&arrive);
    wait(
        browser,
        "the transfer's arrival",
        &format!(
            "return document.getElementById('main').dataset.ready === 'transfers' && document.querySelector('{arrive}') === null
                    && [...document.querySelectorAll('[data-testid=transfer-row]')].some(r => r.textContent.includes('{transfer}'))"
        ),
    );
    shot(browser, dir, &format!("{lang}-05-transfer"));
    sign_out(browser);
}

fn recipient_files_request(
    browser: &Session,
    base: &str,
    dir: &Path,
    lang: &str,
    n: u32,
    item: &str,
) -> String {
    let code = format!("RQ-E2E-{n}");
    sign_in(browser, base, RECIPIENT.0, RECIPIENT.1);
    choose_language(browser, lang);
    open_view(browser, "requests");
    open_card(browser, "request-form");
    browser.type_into("#request-form-code", &code);
    choose(browser, "#request-form-destination", "SDPZU");
    choose(browser, "#request-form-item", item);
    browser.type_into("#request-form-quantity", "40");
    choose(browser, "#request-form-priority", "1");
    shot(browser, dir, &format!("{lang}-06-recipient-request"));
    browser.click("[data-testid=request-form-submit]");
    wait(
        browser,
        "the filed request",
        &format!("return [...document.querySelectorAll('[data-testid=requests-table] tbody tr')].some(r => r.textContent.includes('{code}'))"),
    );
    sign_out(browser);
    code
}

/// The operator's outbound half: space on a flight booked, a plan built and
/// accepted (it trucks the requested item from the port to the airfield),
/// the road transfers it dispatched recorded as arrived, the request's
/// stock loaded as the plan says, the flight departed and delivered with a
/// shortfall of 5, the waybill printed. Returns the departure and the units
/// delivered for the request.
fn operator_outbound(
    browser: &Session,
    base: &str,
    dir: &Path,
    lang: &str,
    n: u32,
    request: &str,
) -> (String, i64) {
    let flight = format!("DEP-E2E-{n}");
    let token = api_login(base, OPERATOR.0, OPERATOR.1);
    sign_in(browser, base, OPERATOR.0, OPERATOR.1);
    choose_language(browser, lang);
    open_view(browser, "departures");
    open_card(browser, "departure-form");
    browser.type_into("#departure-form-code", &flight);
    choose(browser, "#departure-form-node", "HMEIMIM-AIR");
    choose(browser, "#departure-form-destination", "SDPZU");
    choose(browser, "#departure-form-mode", "air");
    // Space on a scheduled cargo flight, paid by the kg.
    choose(browser, "#departure-form-service", "scheduled");
    browser.type_into("#departure-form-vehicle", &format!("IL-76 RA-7{n}810"));
    set_value(browser, "#departure-form-departs", "2025-04-01");
    set_value(browser, "#departure-form-arrives", "2025-04-02");
    browser.type_into("#departure-form-payload_kg", "20000");
    browser.type_into("#departure-form-volume_m3", "120");
    browser.type_into("#departure-form-cost_per_kg_usd", "2.6");
    browser.click("[data-testid=departure-form-submit]");
    wait(
        browser,
        "the departure's page",
        "return document.querySelector('[data-testid=load-form]') !== null",
    );
    shot(browser, dir, &format!("{lang}-07-departure"));

    // A plan, accepted: the request's stock is at the port, its flight at the airfield.
    open_view(browser, "plan");
    browser.type_into("#plan-time-limit", "2");
    browser.click("[data-testid=build-plan]");
    // The view shows the plan it built (not the one it showed before).
    wait(
        browser,
        "the new plan",
        "const b = document.querySelector('[data-testid=plan-built]'); const p = document.querySelector('[data-testid=plan]');
         return b !== null && p !== null && p.dataset.planId === b.dataset.planId
                && !document.querySelector('[data-testid=accept-plan]').disabled;",
    );
    let plan_id = browser
        .exec(
            "return document.querySelector('[data-testid=plan]').dataset.planId",
            vec![],
        )
        .as_str()
        .unwrap()
        .to_string();
    browser.click("[data-testid=accept-plan]");
    wait(
        browser,
        "the accepted plan",
        "return document.querySelector('[data-testid=plan-status]')?.dataset.status === 'accepted'",
    );
    shot(browser, dir, &format!("{lang}-08-plan-accepted"));
    let plan = api_get(base, &token, &format!("/plans/{plan_id}"));
    let mut departure = None;
    let mut allocations = Vec::new();
    for d in plan["departures"].as_array().unwrap() {
        for a in d["allocations"].as_array().unwrap() {
            if a["request"] == json!(request) {
                departure = Some(d["code"].as_str().unwrap().to_string());
                allocations.push((
                    a["lot_id"].as_i64().unwrap(),
                    a["quantity"].as_i64().unwrap(),
                ));
                assert_eq!(
                    (&a["ready"], &a["stock_at"]),
                    (&json!(false), &json!("TARTUS-PORT")),
                    "the plan takes {request} from the port to a flight: {a}"
                );
                assert_eq!(d["node"], json!("HMEIMIM-AIR"));
            }
        }
    }
    let departure = departure.unwrap_or_else(|| panic!("the plan carries {request}: {plan}"));
    let road = format!("PLAN-{plan_id}-TARTUS-PORT-HMEIMIM-AIR");
    assert_eq!(
        browser.exec(
            "return [...document.querySelectorAll('[data-testid=plan-transfer]')].filter(l => l.textContent.includes(arguments[0])).length",
            vec![json!(road)],
        ),
        json!(1),
        "the accepted plan lists the road transfer it dispatched"
    );

    // The road transfers the plan dispatched, recorded as arrived.
    open_view(browser, "transfers");
    let waiting = count(browser, "[data-testid=transfer-arrive][data-code^=PLAN-]");
    assert!(
        waiting >= 1
            && count(
                browser,
                &format!("[data-testid=transfer-arrive][data-code={road}]")
            ) == 1,
        "the plan's road transfer waits for its arrival"
    );
    assert_eq!(
        count(browser, "[data-testid=waiting-road]"),
        1,
        "the page says transfers wait for the road"
    );
    shot(browser, dir, &format!("{lang}-09-road-transfer"));
    for left in (0..waiting).rev() {
        browser.click("[data-testid=transfer-arrive][data-code^=PLAN-]");
        browser.wait_for(
            "one more transfer recorded",
            Duration::from_secs(30),
            "return document.getElementById('main').dataset.ready === 'transfers'
                    && document.querySelectorAll('[data-testid=transfer-arrive][data-code^=PLAN-]').length === arguments[0]",
            vec![json!(left)],
        );
    }
    assert_no_errors(browser, "transfers");
    shot(browser, dir, &format!("{lang}-10-road-transfer-arrived"));

    // Load what the plan put on the flight for the request, now at the airfield.
    browser.exec(
        "location.hash = '#/departures?code=' + encodeURIComponent(arguments[0])",
        vec![json!(departure)],
    );
    wait(
        browser,
        "the departure's load form",
        &format!("return document.getElementById('main').dataset.ready === 'departures'
                  && document.querySelector('[data-testid=departure-facts]') !== null
                  && location.hash.includes('{departure}') && document.querySelector('[data-testid=load-form]') !== null"),
    );
    for (lot_id, quantity) in &allocations {
        let before = count(browser, "[data-testid=loading-row]");
        choose(browser, "#load-form-lot_id", &format!("#{lot_id} ·"));
        browser.type_into("#load-form-quantity", &quantity.to_string());
        choose(browser, "#load-form-request", request);
        browser.click("[data-testid=load-form-submit]");
        browser.wait_for(
            "the loaded line",
            Duration::from_secs(60),
            "return document.querySelectorAll('[data-testid=loading-row]').length === arguments[0]
                    && document.querySelector('[data-testid=depart-form]') !== null",
            vec![json!(before + 1)],
        );
    }
    let ours = browser.exec(
        "return [...document.querySelectorAll('[data-testid=loading-row]')]
                .filter(r => r.textContent.includes(arguments[0])).map(r => r.cells[0].textContent)",
        vec![json!(request)],
    );
    let ours: Vec<String> = ours
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ours.len(),
        allocations.len(),
        "one loading line per allocation"
    );
    let loaded: i64 = allocations.iter().map(|(_, q)| q).sum();
    shot(browser, dir, &format!("{lang}-11-loaded"));
    browser.click("[data-testid=depart-form-submit]");
    wait(
        browser,
        "the departed status",
        "return document.querySelector('[data-testid=departure-status]')?.dataset.status === 'departed' && document.querySelector('[data-testid=deliver-form]') !== null",
    );
    // Delivered with a shortfall of 5 on the request's largest line.
    let largest = (0..allocations.len())
        .max_by_key(|&i| allocations[i].1)
        .unwrap();
    let first = &ours[largest];
    let (_, first_quantity) = allocations[largest];
    assert!(
        first_quantity > 5,
        "the plan loads more than 5 units on {first}"
    );
    browser.type_into("#deliver-form-received_by", "WFP Port Sudan, A. Osman");
    browser.type_into(
        &format!("[data-testid=deliver-received][data-line=\"{first}\"]"),
        &(first_quantity - 5).to_string(),
    );
    shot(browser, dir, &format!("{lang}-12-deliver"));
    browser.click("[data-testid=deliver-form-submit]");
    let short = wait(
        browser,
        "the proof of delivery",
        &format!("const r = [...document.querySelectorAll('[data-testid=pod-row]')].find(r => r.cells[0].textContent === '{first}');
                  return r ? [...r.cells].map(c => c.textContent) : null"),
    );
    assert_eq!(
        short[4],
        json!((first_quantity - 5).to_string()),
        "received"
    );
    assert_eq!(short[5], json!("5"), "short");
    browser.click("[data-testid=print-waybill]");
    wait(
        browser,
        "the printed waybill",
        "return document.querySelector('[data-testid=print-waybill]').dataset.done === 'true'",
    );
    assert_no_errors(browser, "departure");
    shot(browser, dir, &format!("{lang}-13-pod"));
    waybill_reads_back(base, &token, lang, &departure, &format!("E2E-B2-{n}"));
    sign_out(browser);
    (departure, loaded - 5)
}

/// The waybill the dashboard printed, as the server makes it in `lang`:
/// `pdftotext` finds the departure and the line of the chain's batch;
/// `zbarimg` reads its QR code, which names the departure.
fn waybill_reads_back(base: &str, token: &str, lang: &str, departure: &str, batch: &str) {
    let tool = |name: &str| {
        let found = std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()));
        assert!(
            found,
            "the chain test needs `{name}` (Debian: apt-get install poppler-utils zbar-tools)"
        );
        name.to_string()
    };
    let mut r = http()
        .get(&format!(
            "{base}/api/departures/{departure}/waybill.pdf?lang={lang}"
        ))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200, "the waybill of {departure}");
    let pdf = r
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("waybill.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let out = std::process::Command::new(tool("pdftotext"))
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftotext reads the waybill");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(departure),
        "the {lang} waybill names {departure}:\n{text}"
    );
    assert!(
        text.contains(batch),
        "the {lang} waybill has the line of batch {batch}:\n{text}"
    );
    let status = std::process::Command::new(tool("pdftoppm"))
        .args(["-png", "-r", "200", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(tmp.path().join("page"))
        .status()
        .unwrap();
    assert!(status.success(), "pdftoppm renders the waybill");
    let png = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "png"))
        .expect("a page image");
    let out = std::process::Command::new(tool("zbarimg"))
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&png)
        .output()
        .unwrap();
    let qr = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        qr.contains(departure),
        "the {lang} waybill's QR code names {departure}: {qr:?}"
    );
}

fn recipient_follows(
    browser: &Session,
    base: &str,
    dir: &Path,
    lang: &str,
    request: &str,
    departure: &str,
    delivered: i64,
) {
    sign_in(browser, base, RECIPIENT.0, RECIPIENT.1);
    choose_language(browser, lang);
    open_view(browser, "requests");
    let row = wait(
        browser,
        "the request's row",
        &format!("const r = [...document.querySelectorAll('[data-testid=requests-table] tbody tr')].find(r => r.textContent.includes('{request}'));
                  return r ? [...r.cells].map(c => c.textContent) : null"),
    );
    assert_eq!(
        row[7],
        json!(delivered.to_string()),
        "the recipient sees what was delivered: {row}"
    );
    shot(browser, dir, &format!("{lang}-14-recipient-delivered"));
    open_view(browser, "departures");
    assert!(
        browser
            .exec("return document.body.innerText", vec![])
            .as_str()
            .unwrap()
            .contains(departure),
        "the recipient sees the departure that carried the goods"
    );
    open_view(browser, "documents");
    shot(browser, dir, &format!("{lang}-15-recipient-documents"));
    sign_out(browser);
}

fn donor_statement(browser: &Session, base: &str, dir: &Path, lang: &str, n: u32) {
    sign_in(browser, base, DONOR.0, DONOR.1);
    choose_language(browser, lang);
    open_view(browser, "journey");
    assert!(count(browser, "[data-testid=journey-lot]") > 0);
    // The donor finds the consignment the chain brought in.
    let batch = format!("E2E-B1-{n}");
    set_value(browser, "#journey-filter", &batch);
    wait(
        browser,
        "the chain's lot in the donor's journey",
        &format!("return [...document.querySelectorAll('[data-testid=journey-lot]')].some(l => l.textContent.includes('{batch}'))"),
    );
    shot(browser, dir, &format!("{lang}-16-donor-journey"));
    open_view(browser, "documents");
    browser.click("[data-testid=print-statement]");
    wait(
        browser,
        "the downloaded statement",
        "return document.querySelector('[data-testid=print-statement]').dataset.done === 'true'",
    );
    assert_no_errors(browser, "documents (donor)");
    shot(browser, dir, &format!("{lang}-17-donor-statement"));
    sign_out(browser);
}

/// The acceptance chain of the dashboard, on SQLite and on PostgreSQL
/// (the PostgreSQL run's screenshots go to `target/artifacts/postgres/`).
fn the_whole_chain_by_clicking_in_english_and_in_arabic(url: &str) {
    let backend = if url.starts_with("postgres") {
        "pg"
    } else {
        "sqlite"
    };
    let dir = if backend == "pg" {
        let dir = artifacts_dir().join("postgres");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    } else {
        artifacts_dir()
    };
    let rig = Rig::start(url, &format!("chain-{backend}"), 1366, 900);
    let (browser, base) = (&rig.browser, rig.server.base_url());
    let operator = api_login(&base, OPERATOR.0, OPERATOR.1);
    for (n, lang) in [(1u32, "en"), (2, "ar")] {
        let item = item_missing_at_the_airfield(&base, &operator);
        operator_inbound(browser, &base, &dir, lang, n, &item);
        let request = recipient_files_request(browser, &base, &dir, lang, n, &item);
        let (departure, delivered) = operator_outbound(browser, &base, &dir, lang, n, &request);
        recipient_follows(browser, &base, &dir, lang, &request, &departure, delivered);
        donor_statement(browser, &base, &dir, lang, n);
        // The server's record agrees with what the pages showed.
        let pod = api_get(&base, &operator, &format!("/departures/{departure}/pod"));
        let lines: Vec<&Value> = pod["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["request"] == json!(request))
            .collect();
        assert_eq!(
            lines
                .iter()
                .map(|l| l["received"].as_i64().unwrap())
                .sum::<i64>(),
            delivered
        );
        assert_eq!(
            lines
                .iter()
                .map(|l| l["short"].as_i64().unwrap())
                .sum::<i64>(),
            5
        );
        let requests = api_get(&base, &operator, "/requests");
        let filed = requests
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == json!(request))
            .expect("the recipient's request");
        assert_eq!(filed["delivered"], json!(delivered));
    }
}

reliefhub_testkit::both_backends!(the_whole_chain_by_clicking_in_english_and_in_arabic);

/// Every view of every role at 390 px, in each of the four languages: no
/// sideways scroll, no failed request, no script error; a screenshot of each.
#[test]
fn every_view_of_every_role_fits_a_phone_without_errors() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let rig = Rig::start(&db.url, "phone", 390, 844);
    let (browser, base) = (&rig.browser, rig.server.base_url());
    let dir = artifacts_dir();
    let mut problems = Vec::new();
    for lang in ["en", "fr", "ar", "ru"] {
        for (user, password) in [
            (OPERATOR.0, OPERATOR.1),
            (ADMIN.0, ADMIN.1),
            (AUDITOR.0, AUDITOR.1),
            (DONOR.0, DONOR.1),
            (RECIPIENT.0, RECIPIENT.1),
        ] {
            sign_in(browser, &base, user, password);
            choose_language(browser, lang);
            let views = browser.exec(
                "return [...document.querySelectorAll('#nav a')].map(a => a.getAttribute('href').slice(2))",
                vec![],
            );
            let views: Vec<String> = views
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            assert!(!views.is_empty());
            // Each view, and the page of the first leg and departure listed.
            let mut pages: std::collections::VecDeque<String> = views.into_iter().collect();
            while let Some(view) = pages.pop_front() {
                let view = &view;
                browser.exec(
                    "window.__reliefhubFailed = []; location.hash = '#/' + arguments[0]",
                    vec![json!(view)],
                );
                let id = view.split('?').next().unwrap();
                browser.wait_for(
                    &format!("{view} as {user}"),
                    Duration::from_secs(30),
                    "return document.getElementById('main').dataset.ready === arguments[0] && !document.querySelector('.loading')",
                    vec![json!(id)],
                );
                std::thread::sleep(Duration::from_millis(200));
                let state = browser.exec(
                    "return {wide: document.documentElement.scrollWidth, screen: window.innerWidth,
                             failed: window.__reliefhubFailed || [], errors: window.__reliefhubErrors || [],
                             shown: [...document.querySelectorAll('[data-testid=error]')].map(e => e.textContent)}",
                    vec![],
                );
                if state["wide"].as_u64().unwrap() > state["screen"].as_u64().unwrap() {
                    problems.push(format!(
                        "{lang} {user} {view}: the page is {} px wide on a {} px screen",
                        state["wide"], state["screen"]
                    ));
                }
                for k in ["failed", "errors", "shown"] {
                    // This test's server runs without a signing key, so the
                    // audit log's signed head answers 503 (the log view shows
                    // the log without it).
                    let list: Vec<&Value> = state[k]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|f| f.as_str() != Some("503 GET /log/head"))
                        .collect();
                    if !list.is_empty() {
                        problems.push(format!("{lang} {user} {view}: {k} {list:?}"));
                    }
                }
                if view == "departures" || view == "legs" {
                    let first = browser.exec(
                        "return document.querySelector('[data-testid=departure-link], [data-testid=leg-link]')?.getAttribute('href')?.slice(2) || null",
                        vec![],
                    );
                    if let Some(page) = first.as_str() {
                        pages.push_back(page.to_string());
                    }
                }
                let name = view.replace(['?', '='], "-");
                browser.screenshot(&dir.join(format!("phone-{lang}-{user}-{name}.png")));
            }
            sign_out(browser);
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems at 390 px:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The barcode field's GS1 parser (assets/js/gs1.js), run in the browser on a table of scans.
#[test]
fn gs1_element_strings_are_read_as_a_scanner_types_them() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let rig = Rig::start(&db.url, "gs1", 800, 600);
    let (browser, base) = (&rig.browser, rig.server.base_url());
    browser.goto(&format!("{base}/"));
    browser.wait_for(
        "the page",
        Duration::from_secs(20),
        "return document.querySelector('[data-testid=login-form]') !== null",
        vec![],
    );
    let gs = "\u{1d}";
    let cases: Vec<(String, Value)> = vec![
        (
            "(01)09506000134352(10)ABC123(17)251231(37)24".into(),
            json!({"gtin": "09506000134352", "batch": "ABC123", "expiry": "2025-12-31", "count": 24, "errors": []}),
        ),
        // Raw, as a scanner sends it: FNC1 as GS after the variable-length batch.
        (
            format!("0109506000134352172502001{}B-7{gs}3712", "0"),
            json!({"gtin": "09506000134352", "expiry": "2025-02-28", "batch": "B-7", "count": 12, "errors": []}),
        ),
        (
            "]C1(00)106141411234567897".into(),
            json!({"sscc": "106141411234567897", "errors": []}),
        ),
        (
            "(17)270630".into(),
            json!({"expiry": "2027-06-30", "errors": []}),
        ),
        (
            "(01)09506000134353".into(),
            json!({"errors": ["(01) 09506000134353: wrong check digit"]}),
        ),
        (
            "(17)251332".into(),
            json!({"errors": ["(17) 251332: not a date YYMMDD"]}),
        ),
        (
            "(21)12345".into(),
            json!({"errors": ["(21) is not read by the hub"]}),
        ),
        (
            "(10)ABCDEFGHIJKLMNOPQRSTU".into(),
            json!({"errors": ["(10) takes 1 to 20 characters, got 21"]}),
        ),
        (
            "(37)12x".into(),
            json!({"errors": ["(37) 12x: not a whole number"]}),
        ),
        ("".into(), json!({"errors": ["empty scan"]})),
    ];
    let inputs: Vec<Value> = cases.iter().map(|(s, _)| json!(s)).collect();
    let got = browser.exec(
        "const src = document.querySelector('script[type=module]').src.replace('main.js', 'gs1.js');
         return import(src).then(m => arguments[0].map(s => m.parseGs1(s)));",
        vec![json!(inputs)],
    );
    for ((scan, want), got) in cases.iter().zip(got.as_array().unwrap()) {
        assert_eq!(got, want, "scan {scan:?}");
    }
}

/// What a visit costs on the wire: a first load of the dashboard (sign-in
/// page, then the home view, with an empty cache) and a reload, for a
/// signed-in operator and for a donor, as Chromium's resource timing counts
/// them (compressed bytes with headers). Printed, and held to the hub's
/// budget: a first load at most 150 KB in all, a reload at most 10 KB of
/// files (the API's answers are the data itself, reported apart).
/// `bench/pageweight.sh` runs it and prints the figures.
#[test]
fn page_weight_of_a_first_load_and_a_reload() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let rig = Rig::start(&db.url, "weight", 1366, 768);
    let base = rig.server.base_url();
    let (chromium, _) = webdriver::programs();
    let measure = "const all = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')];
        const out = {files: 0, api: 0, count: 0, list: []};
        for (const e of all) { if (!e) continue; const api = new URL(e.name).pathname.startsWith('/api/');
            out[api ? 'api' : 'files'] += e.transferSize; out.count += 1; out.list.push([new URL(e.name).pathname, e.transferSize]); }
        return out;";
    let mut failures = Vec::new();
    for (who, user, password, home) in [
        ("operator", OPERATOR.0, OPERATOR.1, "stock"),
        ("donor", DONOR.0, DONOR.1, "journey"),
    ] {
        // A profile of its own: an empty cache for the first load.
        let profile = Profile::named(&format!("weight-{who}"));
        let browser = Session::new(&rig.driver, &chromium, &profile.0, 1366, 768);
        sign_in(&browser, &base, user, password);
        wait_ready(&browser, home);
        browser.wait_for(
            &format!("the {home} view drawn"),
            Duration::from_secs(30),
            "return !document.querySelector('.loading')",
            vec![],
        );
        std::thread::sleep(Duration::from_millis(500));
        // The sign-in page and the home view are one page load: its entries hold both.
        let first = browser.exec(measure, vec![]);
        browser.exec("location.reload()", vec![]);
        std::thread::sleep(Duration::from_millis(500));
        wait_ready(&browser, home);
        browser.wait_for(
            &format!("the {home} view drawn again"),
            Duration::from_secs(30),
            "return !document.querySelector('.loading')",
            vec![],
        );
        std::thread::sleep(Duration::from_millis(500));
        let reload = browser.exec(measure, vec![]);
        let total = |v: &Value| v["files"].as_u64().unwrap() + v["api"].as_u64().unwrap();
        println!(
            "{who}: first load {} B (files {} B + API {} B) in {} requests; reload {} B (files {} B + API {} B) in {} requests",
            total(&first), first["files"], first["api"], first["count"],
            total(&reload), reload["files"], reload["api"], reload["count"]
        );
        println!(
            "{who} first load entries: {}\n{who} reload entries: {}",
            first["list"], reload["list"]
        );
        if total(&first) > 150_000 {
            failures.push(format!(
                "{who}: first load {} B is over 150 KB",
                total(&first)
            ));
        }
        if reload["files"].as_u64().unwrap() > 10_000 {
            failures.push(format!(
                "{who}: a reload fetches {} B of files, over 10 KB",
                reload["files"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every mutating route of the API (login and logout aside) is called by the
/// dashboard: its path appears as a literal in the code that posts it.
#[test]
fn every_mutating_route_is_posted_by_a_dashboard_form() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/js");
    let mut code = String::new();
    for sub in [dir.clone(), dir.join("views")] {
        for entry in std::fs::read_dir(sub).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "js") {
                code.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
    }
    // Every string or template literal that starts with "/", with
    // `${...}` written as `{}`.
    let mut named = std::collections::BTreeSet::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let q = bytes[i];
        if (q == '"' || q == '`') && bytes.get(i + 1) == Some(&'/') {
            let mut j = i + 1;
            let mut lit = String::new();
            let mut depth = 0;
            while j < bytes.len() && !(bytes[j] == q && depth == 0) {
                if q == '`' && bytes[j] == '$' && bytes.get(j + 1) == Some(&'{') {
                    depth += 1;
                    lit.push_str("{}");
                    j += 2;
                    continue;
                }
                if depth > 0 {
                    if bytes[j] == '}' {
                        depth -= 1;
                    }
                } else {
                    lit.push(bytes[j]);
                }
                j += 1;
            }
            named.insert(lit);
            i = j + 1;
        } else {
            i += 1;
        }
    }
    let mut missing = Vec::new();
    // The routes the OpenAPI document lists, and those authz.csv names (the
    // two must agree: a route in one only is a route nobody checked).
    let routes = reliefhub_api::route_list();
    let authz =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("authz.csv")).unwrap();
    let in_authz: std::collections::BTreeSet<&str> = authz
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    for route in &routes {
        if !route.starts_with("GET ") {
            assert!(
                in_authz.contains(route.as_str()),
                "{route} is served but not in authz.csv"
            );
        }
    }
    for route in in_authz {
        assert!(
            routes.iter().any(|r| r == route),
            "authz.csv names {route}, which is not served"
        );
    }
    for route in routes {
        if route.starts_with("GET ") {
            continue;
        }
        // The dashboard's client sends GET and POST only.
        let Some(path) = route.strip_prefix("POST /api") else {
            missing.push(route);
            continue;
        };
        if path == "/login" || path == "/logout" {
            continue;
        }
        let mut normal = String::new();
        let mut in_param = false;
        for c in path.chars() {
            match c {
                '{' => {
                    in_param = true;
                    normal.push_str("{}");
                }
                '}' => in_param = false,
                c if !in_param => normal.push(c),
                _ => {}
            }
        }
        if !named.contains(&normal) {
            missing.push(route);
        }
    }
    assert!(
        missing.is_empty(),
        "mutating routes no dashboard code posts: {missing:?}"
    );
}

fn api_post(base: &str, token: &str, path: &str, body: Value) -> Value {
    let mut r = http()
        .post(&format!("{base}/api{path}"))
        .header("Authorization", &format!("Bearer {token}"))
        .header(
            "Idempotency-Key",
            &format!("names-{path}-{body}").replace(['/', ' ', '"', '{', '}', ':', ','], "-"),
        )
        .send_json(body)
        .unwrap();
    let status = r.status();
    let v: Value = r
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_json()
        .unwrap();
    assert!(status.is_success(), "POST {path}: {status} {v}");
    v
}

/// The text a view shows, its select options and SVG titles included;
/// what is marked `lang=en` (the language picker's "English") is left out.
const VIEW_TEXT: &str = "const c = document.body.cloneNode(true);
    c.querySelectorAll('script, style, [lang=en]').forEach(e => e.remove());
    return c.textContent.replace(/\\s+/g, ' ');";

/// English words that only the server writes: planner reasons, what became
/// of a kept load, reports' names. None may show in another language.
const ENGLISH_FROM_THE_SERVER: [&str; 20] = [
    "no departure to",
    "not worth its fixed cost",
    "is used up",
    "no stock of",
    "earmarked for",
    "was cancelled",
    "no longer takes cargo",
    "is met or cancelled",
    "no longer in stock",
    "higher-value cargo",
    "would take",
    "no room left",
    "grace days",
    "shelf life",
    "departures cancelled",
    "units on board",
    "was already gone",
    "of their capacity",
    "baseline",
    "nothing was written",
];

/// In French, Arabic and Russian, no view of any role shows an item,
/// organisation, destination or node by its English name (where the master
/// data has another), an English dashboard string, or an English sentence
/// of the server (planner reasons, the change list of a re-plan that keeps
/// the accepted loads). The plan view shows that change list, built by
/// ticking "keep the accepted plan's loads".
#[test]
fn names_and_messages_read_in_the_users_language() {
    let db = reliefhub_testkit::TestDb::sqlite();
    let rig = Rig::start(&db.url, "names", 1366, 768);
    let (browser, base) = (&rig.browser, rig.server.base_url());
    let dir = artifacts_dir();
    let token = api_login(&base, OPERATOR.0, OPERATOR.1);
    // An accepted plan, so the plan view can re-plan around it.
    let plan = api_post(&base, &token, "/plans", json!({"time_limit_s": 2}));
    api_post(
        &base,
        &token,
        &format!("/plans/{}/accept", plan["id"]),
        json!({}),
    );

    let english: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/i18n/en.json"))
            .unwrap(),
    )
    .unwrap();
    let lists = [
        api_get(&base, &token, "/items"),
        api_get(&base, &token, "/organisations"),
        api_get(&base, &token, "/destinations"),
    ];
    let mut problems = Vec::new();
    let mut replanned = false;
    for lang in ["fr", "ar", "ru"] {
        let local: Value = serde_json::from_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("assets/i18n/{lang}.json")),
            )
            .unwrap(),
        )
        .unwrap();
        // English text that must not show: names the master data gives in
        // this language, and the dashboard's longer sentences.
        let mut banned: Vec<(String, String)> = Vec::new();
        for list in &lists {
            for row in list.as_array().unwrap() {
                let name = row["name"].as_str().unwrap();
                if let Some(there) = row[format!("name_{lang}")].as_str() {
                    if !there.contains(name) {
                        banned.push((
                            name.to_string(),
                            format!(
                                "the English name of {}",
                                row["code"].as_str().or(row["locode"].as_str()).unwrap()
                            ),
                        ));
                    }
                }
            }
        }
        for node in ["TARTUS-PORT", "HMEIMIM-AIR"] {
            let key = format!("node.{node}");
            banned.push((
                english[&key].as_str().unwrap().to_string(),
                format!("the English name of {node}"),
            ));
        }
        for (key, text) in english.as_object().unwrap() {
            let text = text.as_str().unwrap();
            let there = local[key].as_str().unwrap_or("");
            // Whole English sentences, without placeholders.
            if text.len() >= 24 && text.contains(' ') && !text.contains('{') && there != text {
                banned.push((text.to_string(), format!("the English string {key}")));
            }
        }
        for fragment in ENGLISH_FROM_THE_SERVER {
            banned.push((
                fragment.to_string(),
                "an English sentence of the server".to_string(),
            ));
        }
        for (user, password) in [
            (OPERATOR.0, OPERATOR.1),
            (ADMIN.0, ADMIN.1),
            (DONOR.0, DONOR.1),
            (RECIPIENT.0, RECIPIENT.1),
        ] {
            sign_in(browser, &base, user, password);
            choose_language(browser, lang);
            let views = browser.exec(
                "return [...document.querySelectorAll('#nav a')].map(a => a.getAttribute('href').slice(2))",
                vec![],
            );
            for view in views.as_array().unwrap() {
                let view = view.as_str().unwrap();
                open_view(browser, view);
                browser.wait_for(
                    &format!("{view} drawn"),
                    Duration::from_secs(30),
                    "return !document.querySelector('.loading')",
                    vec![],
                );
                if view == "plan" && user == OPERATOR.0 && !replanned {
                    // Re-plan around the accepted loads, by the box and the button.
                    browser.wait_for(
                        "the keep-accepted box",
                        Duration::from_secs(30),
                        "const b = document.querySelector('[data-testid=plan-keep-accepted]'); return b && !b.closest('[hidden]')",
                        vec![],
                    );
                    browser.click("[data-testid=plan-keep-accepted]");
                    browser.click("[data-testid=build-plan]");
                    let shown = browser.wait_for(
                        "the change list of the re-plan",
                        Duration::from_secs(60),
                        "const c = document.querySelector('[data-testid=plan-changes]');
                         const b = document.querySelector('[data-testid=plan-built]');
                         const p = document.querySelector('[data-testid=plan]');
                         return c && b && p && p.dataset.planId === b.dataset.planId &&
                           {rows: c.querySelectorAll('[data-testid=plan-change]').length,
                            kept: Number(c.querySelector('[data-testid=plan-changes-kept] .value').textContent.replace(/\\D/g, ''))};",
                        vec![],
                    );
                    assert!(
                        shown["rows"].as_u64().unwrap() > 0 && shown["kept"].as_u64().unwrap() > 0,
                        "the re-plan keeps loads of the accepted plan and lists them: {shown}"
                    );
                    browser.screenshot(&dir.join(format!("names-{lang}-plan-changes.png")));
                    replanned = true;
                }
                if view == "requests" && user == OPERATOR.0 {
                    // A request the server refuses: its error, headline and problems.
                    open_card(browser, "request-form");
                    browser.type_into("#request-form-code", &format!("RQ-NAMES-{lang}"));
                    choose(browser, "#request-form-destination", "SDPZU");
                    choose(browser, "#request-form-item", "SOAP-CTN");
                    browser.type_into("#request-form-quantity", "2000000000000");
                    browser.click("[data-testid=request-form-submit]");
                    browser.wait_for(
                        "the refusal of a request above the cap",
                        Duration::from_secs(30),
                        "return document.querySelectorAll('[data-testid=request-form] [data-testid=problems] li').length > 0",
                        vec![],
                    );
                }
                if view == "whatif" && user == OPERATOR.0 {
                    // A scenario run: its effects and the baseline's column.
                    set_value(browser, "#whatif-runs", "1");
                    browser.click("[data-testid=whatif-run]");
                    browser.wait_for(
                        "the what-if's effects",
                        Duration::from_secs(120),
                        "return document.querySelectorAll('[data-testid=whatif-effects] li').length > 0",
                        vec![],
                    );
                    browser.screenshot(&dir.join(format!("names-{lang}-whatif.png")));
                }
                let mut check = |page: &str| {
                    let text = browser.exec(VIEW_TEXT, vec![]);
                    let text = text.as_str().unwrap();
                    for (english, what) in &banned {
                        if text.contains(english.as_str()) {
                            problems.push(format!("{lang} {user} {page}: {what}: {english:?}"));
                        }
                    }
                };
                check(view);
                if view == "departures" || view == "legs" {
                    // The page of the first leg or departure listed, too.
                    let first = browser.exec(
                        "return document.querySelector('[data-testid=departure-link], [data-testid=leg-link]')?.getAttribute('href')?.slice(2) || null",
                        vec![],
                    );
                    if let Some(page) = first.as_str() {
                        browser.exec("location.hash = '#/' + arguments[0]", vec![json!(page)]);
                        browser.wait_for(
                            &format!("{page} drawn"),
                            Duration::from_secs(30),
                            "return location.hash === '#/' + arguments[0] && document.getElementById('main').dataset.ready === arguments[1]
                                    && !document.querySelector('.loading')",
                            vec![json!(page), json!(view)],
                        );
                        check(page);
                    }
                }
            }
            sign_out(browser);
        }
    }
    assert!(replanned, "the operator re-planned from the plan view");
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} English texts in other languages:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
