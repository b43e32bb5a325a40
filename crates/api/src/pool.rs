//! A small pool of [`Ops`] connections. `Ops` works on one connection with
//! `&mut self`; each request borrows one, does its database work on a
//! blocking thread, and gives it back. A semaphore bounds how many run at
//! once, so async workers wait without blocking.

use std::sync::{Arc, Mutex};

use reliefhub_ops::Ops;
use tokio::sync::Semaphore;

use crate::error::ApiError;

pub struct Pool {
    url: String,
    idle: Mutex<Vec<Ops>>,
    permits: Arc<Semaphore>,
}

impl Pool {
    /// Opens one connection now (to fail early on a bad URL or an old
    /// schema); the others open when first needed.
    pub fn open(url: &str, size: usize) -> Result<Pool, reliefhub_ops::OpsError> {
        let first = Ops::open(url)?;
        Ok(Pool {
            url: url.to_string(),
            idle: Mutex::new(vec![first]),
            permits: Arc::new(Semaphore::new(size.max(1))),
        })
    }

    fn take(&self) -> Result<Ops, ApiError> {
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        match idle {
            Some(ops) => Ok(ops),
            None => Ops::open(&self.url).map_err(ApiError::from),
        }
    }

    /// Takes a connection back, unless it broke (a PostgreSQL server that
    /// restarted or closed it): the next request opens a new one, so the
    /// server reconnects by itself.
    fn give(&self, mut ops: Ops) {
        if ops.store().is_broken() {
            tracing::warn!("a database connection broke; the next request opens a new one");
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(ops);
        }
    }

    /// Runs `work` on a pooled connection on a blocking thread. A connection
    /// whose work panicked is dropped, never reused.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Ops) -> Result<T, ApiError> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let pool = self.clone();
        let actor = current_actor();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut ops = pool.take()?;
            ops.set_actor(&actor);
            let result = work(&mut ops);
            pool.give(ops);
            result
        })
        .await
        .map_err(|e| ApiError::internal(format!("database task failed: {e}")))?
    }
}

impl Drop for Pool {
    /// Closes the connections on a plain thread: a PostgreSQL client blocks
    /// on its own runtime when it closes, which tokio forbids on a worker.
    fn drop(&mut self) {
        let idle = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        std::thread::scope(|scope| {
            scope.spawn(move || drop(idle));
        });
    }
}

tokio::task_local! {
    /// The user signed in for the request being served.
    static SIGNED_IN: std::sync::Mutex<Option<String>>;
}

/// Runs a request with a place for the signed-in user, which the
/// `Principal` extractor fills and [`Pool::run`] records as the actor of
/// the operations the request writes.
pub(crate) async fn actor_scope(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    SIGNED_IN
        .scope(std::sync::Mutex::new(None), next.run(request))
        .await
}

/// Notes who is signed in for the current request.
pub(crate) fn note_signed_in(username: &str) {
    let _ = SIGNED_IN.try_with(|cell| {
        if let Ok(mut slot) = cell.lock() {
            *slot = Some(username.to_string());
        }
    });
}

/// The actor of the current request's writes: the signed-in user, else the
/// server itself.
fn current_actor() -> String {
    SIGNED_IN
        .try_with(|cell| cell.lock().ok().and_then(|slot| slot.clone()))
        .ok()
        .flatten()
        .unwrap_or_else(|| "server".to_string())
}
