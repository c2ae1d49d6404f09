//! Statements prepared once per connection to the hall database.
//!
//! A statement sent as text is parsed and planned by the server, then bound and run: two
//! round trips and a plan for every queue action's five or six statements. A window calls
//! with the same few statements all day, so each connection prepares each of them once
//! ([`Statements`]) and then only binds and runs them — one round trip, no planning. The
//! cache lives with its connection ([`super::HallDb`]) and goes with it: a reconnect (after a
//! failover, say) prepares afresh on the new server.
//!
//! [`Tx`] is a transaction whose statements come from the cache; [`Cached`] is what the queue
//! code runs statements through, inside a transaction or not.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{GenericClient, Row, Statement, Transaction};

/// The connection's prepared statements, by their text.
#[derive(Default)]
pub struct Statements(HashMap<String, Statement>);

/// Above this many distinct statements the cache starts afresh (the queue has about thirty;
/// a bound so that no caller can grow it without end).
const MAX: usize = 128;

impl Statements {
    /// The statement for `sql`, prepared on `client` the first time.
    fn get(
        &mut self,
        client: &mut impl GenericClient,
        sql: &str,
    ) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.0.get(sql) {
            return Ok(s.clone());
        }
        let s = client.prepare(sql)?;
        if self.0.len() >= MAX {
            self.0.clear();
        }
        self.0.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Running statements through the connection's cache.
pub trait Cached {
    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, postgres::Error>;
    fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>, postgres::Error>;
    fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error>;
    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error>;
}

/// Implements [`Cached`] for a type with a client (`$client`) and a cache (`$stmts`) field.
macro_rules! cached {
    ($t:ty, $client:ident, $stmts:ident) => {
        impl Cached for $t {
            fn query(
                &mut self,
                sql: &str,
                params: Params<'_>,
            ) -> Result<Vec<Row>, postgres::Error> {
                let s = self.$stmts.get(&mut self.$client, sql)?;
                self.$client.query(&s, params)
            }
            fn query_opt(
                &mut self,
                sql: &str,
                params: Params<'_>,
            ) -> Result<Option<Row>, postgres::Error> {
                let s = self.$stmts.get(&mut self.$client, sql)?;
                self.$client.query_opt(&s, params)
            }
            fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row, postgres::Error> {
                let s = self.$stmts.get(&mut self.$client, sql)?;
                self.$client.query_one(&s, params)
            }
            fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, postgres::Error> {
                let s = self.$stmts.get(&mut self.$client, sql)?;
                self.$client.execute(&s, params)
            }
        }
    };
}

/// A transaction on the hall database whose statements come from its connection's cache.
pub struct Tx<'t> {
    tx: Transaction<'t>,
    stmts: &'t mut Statements,
}

impl<'t> Tx<'t> {
    /// Begins a transaction on `client`.
    pub fn begin(
        client: &'t mut postgres::Client,
        stmts: &'t mut Statements,
    ) -> Result<Self, postgres::Error> {
        Ok(Self {
            tx: client.transaction()?,
            stmts,
        })
    }

    /// `tx`, begun otherwise (a read-only snapshot, say), with the cache.
    pub fn wrap(tx: Transaction<'t>, stmts: &'t mut Statements) -> Self {
        Self { tx, stmts }
    }

    /// Commits.
    pub fn commit(self) -> Result<(), postgres::Error> {
        self.tx.commit()
    }
}

cached!(Tx<'_>, tx, stmts);
cached!(super::HallDb, client, stmts);

#[cfg(test)]
mod tests {
    use super::*;

    /// The session's prepared statements, as the server counts them. The
    /// simple-query protocol, so that asking does not prepare one more.
    fn on_server(c: &mut postgres::Client) -> i64 {
        let rows = c
            .simple_query("SELECT count(*) FROM pg_prepared_statements")
            .expect("pg_prepared_statements");
        rows.iter()
            .find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse().ok()),
                _ => None,
            })
            .expect("a count")
    }

    #[test]
    fn a_statement_is_prepared_once_per_connection_and_the_cache_is_bounded() {
        let uri = std::env::var("YKB_TEST_PG")
            .expect("this test needs a real PostgreSQL: run it through scripts/test");
        let mut c = postgres::Client::connect(&uri, postgres::NoTls).expect("YKB_TEST_PG");
        let mut stmts = Statements::default();
        for _ in 0..5 {
            let s = stmts.get(&mut c, "SELECT $1::int + 1").expect("prepare");
            let r: i32 = c.query_one(&s, &[&41]).expect("run").get(0);
            assert_eq!(r, 42);
        }
        assert_eq!(stmts.0.len(), 1);
        assert_eq!(on_server(&mut c), 1, "prepared once, run five times");
        for i in 0..MAX + 5 {
            stmts.get(&mut c, &format!("SELECT {i}")).expect("prepare");
        }
        assert!(stmts.0.len() <= MAX, "{} cached", stmts.0.len());
        // Statements dropped from the cache are closed on the server too.
        assert!(on_server(&mut c) <= MAX as i64 + 1);
    }
}
