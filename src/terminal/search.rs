//! Catalogue search on its own thread and store connection, so typing never waits.

use std::path::Path;

use crate::core::store::Store;

/// The kiosk's search: all matters, best first; a failure is logged and finds nothing.
pub fn search_now(
    conn: &rusqlite::Connection,
    query: &str,
    limit: usize,
) -> Vec<crate::core::search::SearchHit> {
    crate::core::search::search(conn, query, &crate::core::search::Filters::default(), limit)
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "search failed");
            Vec::new()
        })
}

/// Search (FTS5 over the store's index) on its own thread and its own store connection, so
/// typing never waits for the database. Only the newest query is run when several queue up.
pub struct Searcher {
    tx: std::sync::mpsc::Sender<String>,
}

impl Searcher {
    /// Opens the store at `store_path` for searching; `done` gets each query with its hits.
    pub fn start(
        store_path: &Path,
        limit: usize,
        done: impl Fn(String, Vec<crate::core::search::SearchHit>) + Send + 'static,
    ) -> Result<Self, String> {
        let mut store = Store::open(store_path).map_err(|e| e.to_string())?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("kiosk-search".into())
            .spawn(move || {
                while let Ok(mut query) = rx.recv() {
                    // Typing fast queues several; only the last one matters.
                    while let Ok(newer) = rx.try_recv() {
                        query = newer;
                    }
                    let hits = search_now(store.conn(), &query, limit);
                    done(query, hits);
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Self { tx })
    }

    /// Asks for `query`; the answer comes through `done`.
    pub fn ask(&self, query: &str) {
        let _ = self.tx.send(query.to_owned());
    }
}
