//! Users, passwords, bearer tokens and login throttling.
//!
//! Passwords are hashed with argon2id (m = 19456 KiB, t = 2, p = 1). A token
//! is 32 random bytes (256 bits) shown once, in hex; the database keeps only
//! its SHA-256. Logout revokes the token; disabling a user revokes all of
//! theirs; an enabled-again user signs in anew. Nobody can disable themself
//! or the last enabled admin.
//!
//! Failed logins are recorded in the database (so limits hold across
//! restarts and processes), and every attempt is first recorded as a
//! failure in the same write transaction that checks the limits (then
//! struck out if the password was right), so concurrent attempts cannot
//! slip past a limit. In a 15-minute window:
//!
//! - one client address may fail 5 times for one username, and 20 times in
//!   all; after that it gets 429 until the window passes;
//! - a username failed 5 times from any addresses gets a delay before its
//!   next attempt, doubling with each further failure from 1 s up to 60 s,
//!   except from an address the user signed in from in the last 30 days:
//!   someone who guesses from many addresses slows the guessing down but
//!   cannot lock the user out.
//!
//! Behind a reverse proxy the client address is read from
//! `X-Forwarded-For`, only when the peer is one of the configured trusted
//! proxies ([`client_address`]).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use reliefhub_ops::Code;
use reliefhub_store::{Conn, Store, StoreError, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};

/// Failures for one username from one client address in the window before
/// that address is refused for that username.
pub const MAX_FAILURES_PER_USER_AND_ADDRESS: i64 = 5;
/// Failures per client address in the window before login is refused.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// Failures per username (any address) in the window before each further
/// attempt waits.
pub const FREE_FAILURES_PER_USER: i64 = 5;
/// The longest wait a username's failures impose.
pub const USER_DELAY_MAX_MS: i64 = 60_000;
/// How long an address the user signed in from is exempt from the
/// username's delay.
pub const KNOWN_ADDRESS_MS: i64 = 30 * 24 * 3600 * 1000;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a token from login is valid.
pub const LOGIN_TOKEN_TTL_MS: i64 = 12 * 3600 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Operator,
    Donor,
    Recipient,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Operator,
        Role::Donor,
        Role::Recipient,
        Role::Auditor,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Donor => "donor",
            Role::Recipient => "recipient",
            Role::Auditor => "auditor",
        }
    }
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == text)
    }
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Principal {
    #[serde(skip)]
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// The donor organisation of a donor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The ISO 3166 alpha-2 country of a recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A user as listed to an admin.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub country: Option<String>,
    pub disabled: bool,
}

/// A new user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub username: String,
    /// 10 to 1024 characters.
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    /// admin, operator, donor, recipient or auditor.
    #[schema(value_type = Role)]
    pub role: String,
    /// Required for a donor: the donor organisation's code.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._/-]{1,64}$")]
    pub organisation: Option<String>,
    /// Required for a recipient: the ISO 3166 alpha-2 country.
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{}", .0.iter().map(|p| format!("{}: `{}` {}", p.field, p.value, p.rule)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    #[error("user `{0}` does not exist")]
    NoSuchUser(String),
    #[error("user `{0}` already exists")]
    Exists(String),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        match error {
            AuthError::Invalid(problems) => ApiError::validation(problems),
            AuthError::NoSuchUser(name) => ApiError::not_found("user", &name),
            AuthError::Exists(name) => {
                ApiError::conflict("conflict", format!("user `{name}` already exists"))
            }
            AuthError::Refused(message) => ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "refused",
                message,
            ),
            AuthError::Store(e) => e.into(),
            AuthError::Hash(e) => ApiError::internal(e),
        }
    }
}

fn argon2() -> Argon2<'static> {
    // m = 19456 KiB, t = 2, p = 1: the OWASP minimum for argon2id.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hash(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A fresh token: 256 random bits in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn check_new_user(conn: &mut dyn Conn, user: &NewUser) -> Result<Role, AuthError> {
    let mut problems = Vec::new();
    let name_ok = !user.username.is_empty()
        && user.username.len() <= 64
        && user
            .username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if !name_ok {
        problems.push(Problem::new(
            Code::BadCode,
            "username",
            &user.username,
            "must be 1 to 64 letters, digits, `-`, `_`, `.` or `@`",
        ));
    }
    if user.password.chars().count() < 10 || user.password.chars().count() > 1024 {
        problems.push(Problem::new(
            Code::TextTooLong,
            "password",
            "(hidden)",
            "must be 10 to 1024 characters",
        ));
    }
    let role = Role::parse(&user.role);
    match role {
        None => problems.push(Problem::new(
            Code::OutOfRange,
            "role",
            &user.role,
            "must be one of admin, operator, donor, recipient, auditor",
        )),
        Some(Role::Donor) => match &user.organisation {
            None => problems.push(Problem::new(
                Code::UnknownOrganisation,
                "organisation",
                "",
                "a donor needs a donor organisation code",
            )),
            Some(org) => {
                let found = conn.query(
                    "SELECT COUNT(*) FROM organisations WHERE code = $1 AND kind = 'donor'",
                    &[org.into()],
                )?[0][0]
                    .int()?;
                if found == 0 {
                    problems.push(Problem::new(
                        Code::UnknownOrganisation,
                        "organisation",
                        org,
                        "must be the code of a donor organisation",
                    ));
                }
            }
        },
        Some(Role::Recipient) => match &user.country {
            None => problems.push(Problem::new(
                Code::CountryUnknown,
                "country",
                "",
                "a recipient needs an ISO 3166 alpha-2 country",
            )),
            Some(country) => {
                let ok = country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase());
                if !ok {
                    problems.push(Problem::new(
                        Code::CountryUnknown,
                        "country",
                        country,
                        "must be an ISO 3166 alpha-2 code such as SD",
                    ));
                }
            }
        },
        Some(_) => {}
    }
    if role != Some(Role::Donor) && user.organisation.is_some() {
        problems.push(Problem::new(
            Code::UnknownOrganisation,
            "organisation",
            user.organisation.as_deref().unwrap_or(""),
            "only a donor has an organisation",
        ));
    }
    if role != Some(Role::Recipient) && user.country.is_some() {
        problems.push(Problem::new(
            Code::CountryUnknown,
            "country",
            user.country.as_deref().unwrap_or(""),
            "only a recipient has a country",
        ));
    }
    match (problems.is_empty(), role) {
        (true, Some(role)) => Ok(role),
        _ => Err(AuthError::Invalid(problems)),
    }
}

/// Adds a user (refused with every problem listed, nothing written).
pub fn add_user(store: &mut Store, user: &NewUser, now_ms: i64) -> Result<UserView, AuthError> {
    let role = store.read(|conn| Ok(check_new_user(conn, user)))??;
    let hash = hash_password(&user.password)?;
    let mut exists = false;
    store.write(|conn| {
        let found = conn.query(
            "SELECT COUNT(*) FROM api_users WHERE username = $1",
            &[(&user.username).into()],
        )?[0][0]
            .int()?;
        if found > 0 {
            exists = true;
            return Ok(());
        }
        let id = conn.query("SELECT COALESCE(MAX(id), 0) + 1 FROM api_users", &[])?[0][0].int()?;
        conn.execute(
            "INSERT INTO api_users (id, username, password_hash, role, organisation, country, created_at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                id.into(),
                (&user.username).into(),
                hash.as_str().into(),
                role.code().into(),
                user.organisation.clone().into(),
                user.country.clone().into(),
                now_ms.into(),
            ],
        )?;
        Ok(())
    })?;
    if exists {
        return Err(AuthError::Exists(user.username.clone()));
    }
    Ok(UserView {
        username: user.username.clone(),
        role,
        organisation: user.organisation.clone(),
        country: user.country.clone(),
        disabled: false,
    })
}

pub fn users(store: &mut Store) -> Result<Vec<UserView>, AuthError> {
    let rows = store.read(|conn| {
        conn.query(
            "SELECT username, role, organisation, country, disabled_at_unix_ms FROM api_users ORDER BY username",
            &[],
        )
    })?;
    rows.iter()
        .map(|r| {
            Ok(UserView {
                username: r[0].text()?,
                role: Role::parse(&r[1].text()?)
                    .ok_or_else(|| StoreError::Corrupt("user role".into()))?,
                organisation: r[2].opt_text()?,
                country: r[3].opt_text()?,
                disabled: r[4].opt_int()?.is_some(),
            })
        })
        .collect::<Result<_, StoreError>>()
        .map_err(AuthError::from)
}

/// Disables a user and revokes all their tokens. Disabling twice is no
/// error. `acting` is the username of whoever asks (None from the CLI):
/// nobody may disable themself, and the last enabled admin stays enabled.
pub fn disable_user(
    store: &mut Store,
    username: &str,
    acting: Option<&str>,
    now_ms: i64,
) -> Result<UserView, AuthError> {
    if acting == Some(username) {
        return Err(AuthError::Refused(format!(
            "user `{username}` may not disable themself; another admin can"
        )));
    }
    let outcome = store.write(|conn| {
        let rows = conn.query(
            "SELECT id, role, disabled_at_unix_ms FROM api_users WHERE username = $1",
            &[username.into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(Err(AuthError::NoSuchUser(username.to_string())));
        };
        let id = row[0].int()?;
        let enabled_admin = row[1].text()? == Role::Admin.code() && row[2].opt_int()?.is_none();
        if enabled_admin {
            let admins = conn.query(
                "SELECT COUNT(*) FROM api_users WHERE role = 'admin' AND disabled_at_unix_ms IS NULL",
                &[],
            )?[0][0]
                .int()?;
            if admins <= 1 {
                return Ok(Err(AuthError::Refused(format!(
                    "user `{username}` is the last enabled admin; add or enable another admin first"
                ))));
            }
        }
        conn.execute(
            "UPDATE api_users SET disabled_at_unix_ms = COALESCE(disabled_at_unix_ms, $1) WHERE id = $2",
            &[now_ms.into(), id.into()],
        )?;
        conn.execute(
            "UPDATE api_tokens SET revoked_at_unix_ms = $1 WHERE user_id = $2 AND revoked_at_unix_ms IS NULL",
            &[now_ms.into(), id.into()],
        )?;
        Ok(Ok(()))
    })?;
    outcome?;
    user_view(store, username)
}

/// Enables a disabled user again (their old tokens stay revoked: they sign
/// in anew). Enabling an enabled user is no error.
pub fn enable_user(store: &mut Store, username: &str) -> Result<UserView, AuthError> {
    let changed = store.write(|conn| {
        let found = conn.query(
            "SELECT COUNT(*) FROM api_users WHERE username = $1",
            &[username.into()],
        )?[0][0]
            .int()?;
        if found == 0 {
            return Ok(false);
        }
        conn.execute(
            "UPDATE api_users SET disabled_at_unix_ms = NULL WHERE username = $1",
            &[username.into()],
        )?;
        Ok(true)
    })?;
    if !changed {
        return Err(AuthError::NoSuchUser(username.to_string()));
    }
    user_view(store, username)
}

fn user_view(store: &mut Store, username: &str) -> Result<UserView, AuthError> {
    users(store)?
        .into_iter()
        .find(|u| u.username == username)
        .ok_or_else(|| AuthError::NoSuchUser(username.to_string()))
}

/// Issues a token for an enabled user (for login, or `reliefhub user token`).
pub fn issue_token(
    store: &mut Store,
    username: &str,
    label: &str,
    ttl_ms: i64,
    now_ms: i64,
) -> Result<String, AuthError> {
    let token = new_token();
    let digest = token_digest(&token);
    let found = store.write(|conn| {
        let rows = conn.query(
            "SELECT id FROM api_users WHERE username = $1 AND disabled_at_unix_ms IS NULL",
            &[username.into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        conn.execute(
            "INSERT INTO api_tokens (token_sha256, user_id, label, created_at_unix_ms, expires_at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                digest.as_str().into(),
                row[0].int()?.into(),
                label.into(),
                now_ms.into(),
                now_ms.saturating_add(ttl_ms).into(),
            ],
        )?;
        Ok(true)
    })?;
    if !found {
        return Err(AuthError::NoSuchUser(username.to_string()));
    }
    Ok(token)
}

/// The principal a token belongs to, if valid now; with its expiry.
pub fn principal_for_token(
    store: &mut Store,
    digest: &str,
    now_ms: i64,
) -> Result<Option<(Principal, i64)>, StoreError> {
    let rows = store.read(|conn| {
        conn.query(
            "SELECT u.id, u.username, u.role, u.organisation, u.country, t.expires_at_unix_ms \
             FROM api_tokens t JOIN api_users u ON u.id = t.user_id \
             WHERE t.token_sha256 = $1 AND t.revoked_at_unix_ms IS NULL AND u.disabled_at_unix_ms IS NULL \
             AND t.expires_at_unix_ms > $2",
            &[digest.into(), now_ms.into()],
        )
    })?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let role = Role::parse(&r[2].text()?).ok_or_else(|| StoreError::Corrupt("user role".into()))?;
    Ok(Some((
        Principal {
            user_id: r[0].int()?,
            username: r[1].text()?,
            role,
            organisation: r[3].opt_text()?,
            country: r[4].opt_text()?,
        },
        r[5].int()?,
    )))
}

pub fn revoke_token(store: &mut Store, digest: &str, now_ms: i64) -> Result<(), StoreError> {
    store.write(|conn| {
        conn.execute(
            "UPDATE api_tokens SET revoked_at_unix_ms = $1 WHERE token_sha256 = $2 AND revoked_at_unix_ms IS NULL",
            &[now_ms.into(), digest.into()],
        )?;
        Ok(())
    })
}

/// The outcome of a login attempt.
pub enum Login {
    Ok(String, Principal),
    Bad,
    /// Refused before the password was checked; retry after this many
    /// seconds.
    Limited(i64),
}

fn scope_counts(
    conn: &mut dyn Conn,
    scope: &str,
    since: i64,
) -> Result<(i64, Option<i64>, Option<i64>), StoreError> {
    let row = conn
        .query(
            "SELECT COUNT(*), MIN(at_unix_ms), MAX(at_unix_ms) FROM api_login_failures \
             WHERE scope = $1 AND at_unix_ms > $2",
            &[scope.into(), since.into()],
        )?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Corrupt("login failure count".into()))?;
    Ok((row[0].int()?, row[1].opt_int()?, row[2].opt_int()?))
}

fn seconds_until(at_ms: i64, now_ms: i64) -> i64 {
    ((at_ms - now_ms).max(0) + 999) / 1000
}

/// Checks the limits and records the attempt as a failure, in one write
/// transaction; then checks the password outside it and, when right,
/// strikes the attempt out and issues a token.
pub fn login(
    store: &mut Store,
    username: &str,
    password: &str,
    address: &str,
    now_ms: i64,
) -> Result<Login, AuthError> {
    let since = now_ms - FAILURE_WINDOW_MS;
    let user_scope = format!("user:{username}");
    let pair_scope = format!("pair:{address}|{username}");
    let addr_scope = format!("addr:{address}");
    let known_scope = format!("known:{address}|{username}");
    let attempt = new_token();
    let decision = store.write(|conn| {
        let (pair, pair_first, _) = scope_counts(conn, &pair_scope, since)?;
        let (addr, addr_first, _) = scope_counts(conn, &addr_scope, since)?;
        if pair >= MAX_FAILURES_PER_USER_AND_ADDRESS || addr >= MAX_FAILURES_PER_ADDRESS {
            let first = if pair >= MAX_FAILURES_PER_USER_AND_ADDRESS {
                pair_first
            } else {
                addr_first
            };
            let until = first.unwrap_or(now_ms) + FAILURE_WINDOW_MS;
            return Ok(Err(seconds_until(until, now_ms).max(1)));
        }
        let (user_failures, _, user_last) = scope_counts(conn, &user_scope, since)?;
        if user_failures >= FREE_FAILURES_PER_USER {
            let known = conn.query(
                "SELECT COUNT(*) FROM api_login_failures WHERE scope = $1 AND at_unix_ms > $2",
                &[known_scope.as_str().into(), (now_ms - KNOWN_ADDRESS_MS).into()],
            )?[0][0]
                .int()?;
            if known == 0 {
                let doublings = (user_failures - FREE_FAILURES_PER_USER).min(16);
                let delay = (1000_i64 << doublings).min(USER_DELAY_MAX_MS);
                let until = user_last.unwrap_or(now_ms) + delay;
                if until > now_ms {
                    return Ok(Err(seconds_until(until, now_ms).max(1)));
                }
            }
        }
        // Forget what has left the window.
        conn.execute(
            "DELETE FROM api_login_failures WHERE at_unix_ms <= $1 AND scope NOT LIKE 'known:%'",
            &[since.into()],
        )?;
        for scope in [&user_scope, &pair_scope, &addr_scope] {
            conn.execute(
                "INSERT INTO api_login_failures (scope, at_unix_ms, attempt) VALUES ($1, $2, $3)",
                &[Value::from(scope), now_ms.into(), attempt.as_str().into()],
            )?;
        }
        let user = conn.query(
            "SELECT password_hash FROM api_users WHERE username = $1 AND disabled_at_unix_ms IS NULL",
            &[username.into()],
        )?;
        Ok(Ok(user.first().map(|r| r[0].text()).transpose()?))
    })?;
    let user = match decision {
        Ok(user) => user,
        Err(retry_after_s) => return Ok(Login::Limited(retry_after_s)),
    };
    // Unknown users cost the same hashing time as known ones.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = match &user {
        Some(hash) => hash.clone(),
        None => DUMMY
            .get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
            .clone(),
    };
    let ok = verify_password(password, &hash) && user.is_some();
    if !ok {
        return Ok(Login::Bad);
    }
    store.write(|conn| {
        conn.execute(
            "DELETE FROM api_login_failures WHERE attempt = $1",
            &[attempt.as_str().into()],
        )?;
        conn.execute(
            "DELETE FROM api_login_failures WHERE scope = $1",
            &[known_scope.as_str().into()],
        )?;
        conn.execute(
            "INSERT INTO api_login_failures (scope, at_unix_ms, attempt) VALUES ($1, $2, NULL)",
            &[known_scope.as_str().into(), now_ms.into()],
        )?;
        Ok(())
    })?;
    let token = issue_token(store, username, "login", LOGIN_TOKEN_TTL_MS, now_ms)?;
    let digest = token_digest(&token);
    match principal_for_token(store, &digest, now_ms)? {
        Some((principal, _)) => Ok(Login::Ok(token, principal)),
        None => Ok(Login::Bad),
    }
}

/// An address or a network (`10.0.0.0/8`, `::1`) of trusted reverse
/// proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: std::net::IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Network {
    type Err = String;
    fn from_str(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let address: std::net::IpAddr = address
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or network (10.0.0.0/8)"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}`: the prefix must be 0 to {max}"))?,
        };
        Ok(Network { address, prefix })
    }
}

impl Network {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy,
/// the nearest address in `X-Forwarded-For` that is not a trusted proxy
/// (the ones further left could have been written by the client).
pub fn client_address(
    peer: std::net::IpAddr,
    forwarded_for: &[&str],
    trusted: &[Network],
) -> std::net::IpAddr {
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// A fingerprint of revocations and disabled users, for token caches.
pub fn access_fingerprint(store: &mut Store) -> Result<String, StoreError> {
    let rows = store.read(|conn| {
        conn.query(
            "SELECT (SELECT COUNT(*) FROM api_tokens WHERE revoked_at_unix_ms IS NOT NULL), \
             (SELECT COUNT(*) FROM api_users WHERE disabled_at_unix_ms IS NOT NULL)",
            &[],
        )
    })?;
    Ok(rows
        .first()
        .map(|r| format!("{:?}/{:?}", r[0], r[1]))
        .unwrap_or_default())
}
