//! A small pool of SQLite connections to `kiln.db`, so that request
//! handlers and build workers never queue behind one lock: in WAL mode any
//! number of connections read at once and one writes at a time (the others
//! wait up to `busy_timeout`). Connections are opened when first needed, up
//! to a fixed number, and reused; a caller beyond that waits for one.
//!
//! A crate (r2d2) would do the same in more code than this file; the pool
//! needs no health checks or timeouts, since a SQLite connection is a file
//! handle that does not go stale.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

/// How long a writer waits for another connection's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) struct Pool {
    path: PathBuf,
    max: usize,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Connection>,
    /// Connections open, idle or in use.
    open: usize,
}

/// A connection taken from the pool; it goes back when dropped.
pub(super) struct Conn<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl Pool {
    /// A pool of at most `max` connections to the database at `path`,
    /// which is opened once here (creating it, in WAL mode).
    pub(super) fn open(path: &Path, max: usize) -> rusqlite::Result<Pool> {
        let first = connect(path)?;
        // The journal mode is a property of the database file: set once.
        first.pragma_update(None, "journal_mode", "WAL")?;
        Ok(Pool {
            path: path.to_owned(),
            max: max.max(1),
            state: Mutex::new(State {
                idle: vec![first],
                open: 1,
            }),
            returned: Condvar::new(),
        })
    }

    /// An idle connection, a new one while fewer than `max` are open, or
    /// the next one returned.
    pub(super) fn get(&self) -> rusqlite::Result<Conn<'_>> {
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Conn {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match connect(&self.path) {
                    Ok(conn) => Ok(Conn {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a list and a count, each updated in one statement:
        // a panic elsewhere cannot leave it half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Per connection: in WAL mode, NORMAL syncs at checkpoints, and a
    // crash loses no committed transaction of a durable journal.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

impl Deref for Conn<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a pooled connection is present until dropped")
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a pooled connection is present until dropped")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A transaction left open by a panic would hold the write lock.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.pool.lock().idle.push(conn);
            self.pool.returned.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_reused_and_a_caller_beyond_the_limit_waits_for_one() {
        let dir = std::env::temp_dir().join(format!("kiln-pool-{}", super::super::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = std::sync::Arc::new(Pool::open(&dir.join("t.db"), 2).unwrap());
        let a = pool.get().unwrap();
        let b = pool.get().unwrap();
        assert_eq!(pool.lock().open, 2);
        let waiting = {
            let pool = std::sync::Arc::clone(&pool);
            std::thread::spawn(move || {
                let c = pool.get().unwrap();
                c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).unwrap()
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiting.is_finished(), "a third caller waits");
        drop(a);
        assert_eq!(waiting.join().unwrap(), 1);
        drop(b);
        let state = pool.lock();
        assert_eq!((state.open, state.idle.len()), (2, 2));
        drop(state);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
