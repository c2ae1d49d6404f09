//! Finding matters on a touchscreen with no input method: Chinese substrings, full pinyin
//! (`shenfenzheng`), pinyin initials (`sfz`, `hkqy`, `gjjtq`), aliases and synonyms
//! (社保卡 ↔ 社会保障卡), ranked by relevance then popularity, with filters for audience,
//! department, life event and "可在本机办理"; and browsing by department or life event.
//!
//! The index lives in the store (tables `search_docs` and the FTS5 table `search_fts`) and
//! is written in the same transaction as the catalogue it describes. FTS5 holds Chinese text
//! as overlapping character bigrams, and a query becomes a *phrase* of its bigrams, which
//! matches exactly where the query is a substring, at index speed for any length (the
//! trigram tokenizer needs three characters); pinyin is held as letter trigrams, and whole
//! names and aliases as single tokens for exact matches. Document ids are ranks (popularity,
//! then catalogue order), so every tier is one FTS5 query that stops after `limit` rows.

use pinyin::ToPinyin;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use super::domain::{Audience, Matter};
use super::store::{Store, StoreError};

/// Bumped whenever tokenization or the synonym table changes: the index is then rebuilt.
pub const INDEX_VERSION: i64 = 5;

/// Terms people use for the same thing; both forms are indexed wherever either appears.
/// Each pair is (short form, long form).
pub const SYNONYMS: &[(&str, &str)] = &[
    ("社保卡", "社会保障卡"),
    ("社保", "社会保险"),
    ("医保", "医疗保障"),
    ("医保", "医疗保险"),
    ("公积金", "住房公积金"),
    ("身份证", "居民身份证"),
    ("驾照", "驾驶证"),
    ("户口本", "户口簿"),
    ("低保", "最低生活保障"),
    ("残疾证", "残疾人证"),
    ("房产证", "不动产权证书"),
    ("出生证", "出生医学证明"),
    ("退休金", "养老金"),
    ("执照", "营业执照"),
    ("港澳通行证", "往来港澳通行证"),
];

/// Characters whose common reading differs from the single-character default, in the
/// words where they occur in government-service names.
const PHRASE_READINGS: &[(&str, &str)] = &[
    ("重庆", "chongqing"),
    ("银行", "yinhang"),
    ("行驶", "xingshi"),
    ("执行", "zhixing"),
    ("调解", "tiaojie"),
    ("单位", "danwei"),
    ("还款", "huankuan"),
    ("重新", "chongxin"),
    ("重大", "zhongda"),
];

/// Token that separates segments, so a phrase never spans two of them. Three characters: a
/// query produces only one- and two-character tokens, so it never matches one.
const SEP: &str = "sep";

/// Which matters a search or browse may return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only matters serving this audience (个人 / 法人).
    pub audience: Option<Audience>,
    /// Only this department.
    pub department: Option<String>,
    /// Only matters of this life event.
    pub life_event: Option<String>,
    /// Only matters that can be handled on this terminal (可在本机办理).
    pub self_service_only: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// 实施编码.
    pub task_code: String,
    /// 事项名称.
    pub name: String,
    /// Department.
    pub department: String,
    /// Whether it can be handled on the terminal.
    pub self_service: bool,
    /// Relevance tier: 0 exact name or alias (Chinese, pinyin or initials), 1 within the
    /// name, 2 within an alias or synonym form, 3 department only (or browsing).
    pub tier: u8,
    /// Popularity published by the platform.
    pub popularity: u64,
}

/// A department or life event with the number of matters in it, for browse screens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facet {
    /// Department or life event name.
    pub name: String,
    /// Matters in it.
    pub count: u64,
}

/// Normalizes text for indexing and queries: full-width to half-width, lower case, and only
/// letters, digits and CJK characters kept.
pub fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Full pinyin (no tones, no spaces) and initials of normalized text; characters without a
/// reading (letters, digits) are kept as they are in both.
pub fn pinyin_of(text: &str) -> (String, String) {
    let chars: Vec<char> = text.chars().collect();
    let mut full = String::with_capacity(chars.len() * 4);
    let mut initials = String::with_capacity(chars.len());
    let mut i = 0;
    'outer: while i < chars.len() {
        for (word, reading) in PHRASE_READINGS {
            let w: Vec<char> = word.chars().collect();
            if chars[i..].starts_with(&w) {
                full.push_str(reading);
                // Initials of a two-syllable override: first letter of each syllable.
                for syl in split_syllables(word, reading) {
                    initials.push_str(&syl[..1]);
                }
                i += w.len();
                continue 'outer;
            }
        }
        let c = chars[i];
        match c.to_pinyin() {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None => {
                full.push(c);
                initials.push(c);
            }
        }
        i += 1;
    }
    (full, initials)
}

/// Splits an override reading into per-character syllables using each character's default
/// reading length as a guide (the overrides are chosen so this holds).
fn split_syllables<'a>(word: &str, reading: &'a str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = reading;
    let n = word.chars().count();
    for (k, c) in word.chars().enumerate() {
        if k + 1 == n {
            out.push(rest);
            break;
        }
        let guess = c.to_pinyin().map_or(1, |p| p.plain().len());
        // Try the default length, then shorter/longer, so "chong" after "zhong" still splits.
        let cut = [guess, guess + 1, guess.saturating_sub(1)]
            .into_iter()
            .find(|&l| l > 0 && l < rest.len() && rest.is_char_boundary(l))
            .unwrap_or(1);
        let (a, b) = rest.split_at(cut);
        out.push(a);
        rest = b;
    }
    out
}

/// Every form of a text under the synonym table (the text itself first).
fn synonym_forms(text: &str) -> Vec<String> {
    let mut out = vec![text.to_owned()];
    for (short, long) in SYNONYMS {
        if text.contains(long) {
            out.push(text.replace(long, short));
        } else if text.contains(short) {
            out.push(text.replace(short, long));
        }
    }
    out.dedup();
    out
}

fn bigrams(text: &str, out: &mut String) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 2 {
        return;
    }
    for w in chars.windows(2) {
        out.push(w[0]);
        out.push(w[1]);
        out.push(' ');
    }
}

/// One segment's tokens: its bigrams, then its last character alone (so a one-character
/// prefix query finds every occurrence), then the separator. A column starts with a
/// separator too, so "separator, tokens, separator" is an exact match of a whole segment.
fn segment_tokens(text: &str, out: &mut String) {
    if out.is_empty() {
        out.push_str(SEP);
        out.push(' ');
    }
    bigrams(text, out);
    if let Some(last) = text.chars().last() {
        out.push(last);
        out.push(' ');
    }
    out.push_str(SEP);
    out.push(' ');
}

/// The index rows of one matter.
struct Doc {
    name_py: String,
    name_initials: String,
    aliases: String,
    aliases_py: String,
    /// FTS columns: text and pinyin tokens of the name, of the aliases (with synonym forms),
    /// and of the rest (department).
    cols: [String; 6],
    /// Whole segments (name, aliases, their full pinyin and initials) as single tokens, for
    /// exact matches in one index lookup.
    exact: String,
}

/// One pinyin segment's tokens: letter trigrams (letter bigrams are far too common to
/// narrow anything down), then its last two letters alone (so a two-letter prefix query finds
/// every occurrence), then the separator; a column starts with a separator.
fn latin_tokens(text: &str, out: &mut String) {
    if out.is_empty() {
        out.push_str(SEP);
        out.push(' ');
    }
    let chars: Vec<char> = text.chars().collect();
    if chars.len() >= 3 {
        for w in chars.windows(3) {
            out.extend(w);
            out.push(' ');
        }
        out.extend(&chars[chars.len() - 2..]);
        out.push(' ');
    } else if !chars.is_empty() {
        out.push_str(text);
        out.push(' ');
    }
    out.push_str(SEP);
    out.push(' ');
}

/// Appends one segment's tokens to a (text, pinyin) column pair.
fn segment(cols: &mut [String], text: &str, full: &str, initials: &str) {
    segment_tokens(text, &mut cols[0]);
    latin_tokens(full, &mut cols[1]);
    latin_tokens(initials, &mut cols[1]);
}

fn build_doc(m: &Matter) -> Doc {
    let name = normalize(&m.name);
    let (name_py, name_initials) = pinyin_of(&name);
    // Aliases as given, plus every synonym form of the name and the aliases.
    let mut alias_set: Vec<String> = Vec::new();
    for a in m.aliases.iter().map(|a| normalize(a)) {
        if !a.is_empty() && a != name && !alias_set.contains(&a) {
            alias_set.push(a);
        }
    }
    for base in std::iter::once(name.clone()).chain(alias_set.clone()) {
        for f in synonym_forms(&base).into_iter().skip(1) {
            if f != name && !alias_set.contains(&f) {
                alias_set.push(f);
            }
        }
    }
    let mut cols: [String; 6] = Default::default();
    let mut exact = String::new();
    for t in [&name, &name_py, &name_initials] {
        exact.push_str(t);
        exact.push(' ');
    }
    segment(&mut cols[0..2], &name, &name_py, &name_initials);
    let mut aliases = String::from("|");
    let mut aliases_py = String::from("|");
    for a in &alias_set {
        let (full, initials) = pinyin_of(a);
        aliases.push_str(a);
        aliases.push('|');
        aliases_py.push_str(&full);
        aliases_py.push('|');
        aliases_py.push_str(&initials);
        aliases_py.push('|');
        segment(&mut cols[2..4], a, &full, &initials);
        for t in [a, &full, &initials] {
            exact.push_str(t);
            exact.push(' ');
        }
    }
    let department = normalize(&m.department);
    let (dfull, dinit) = pinyin_of(&department);
    segment(&mut cols[4..6], &department, &dfull, &dinit);
    Doc {
        name_py,
        name_initials,
        aliases,
        aliases_py,
        cols,
        exact,
    }
}

fn audience_bits(m: &Matter) -> i64 {
    m.audiences.iter().fold(0, |b, a| {
        b | match a {
            Audience::NaturalPerson => 1,
            Audience::LegalPerson => 2,
        }
    })
}

/// The document id, which is also its rank: more popular first, then catalogue order. FTS5
/// returns matches in id order, so a search can stop after the first `limit` of each tier.
fn rank_id(popularity: u64, position: i64) -> i64 {
    const POP_CAP: u64 = (1 << 38) - 1;
    let inv = POP_CAP - popularity.min(POP_CAP);
    ((inv as i64) << 24) | (position.clamp(0, (1 << 24) - 1))
}

fn delete_doc(tx: &Transaction<'_>, task_code: &str) -> Result<(), StoreError> {
    let id: Option<i64> = tx
        .prepare_cached("DELETE FROM search_docs WHERE task_code = ?1 RETURNING id")?
        .query_row([task_code], |r| r.get(0))
        .optional()?;
    if let Some(id) = id {
        tx.prepare_cached("DELETE FROM search_fts WHERE rowid = ?1")?
            .execute([id])?;
    }
    Ok(())
}

/// Writes (or replaces) the index rows of matters inside the caller's transaction.
/// Each item is a matter, its popularity and its catalogue position.
pub fn index_matters<'a>(
    tx: &Transaction<'_>,
    matters: impl IntoIterator<Item = (&'a Matter, u64, i64)>,
) -> Result<(), StoreError> {
    write_docs(tx, matters, true)
}

/// Writes the index rows of a whole catalogue into an emptied index (no old rows to remove).
pub fn index_all<'a>(
    tx: &Transaction<'_>,
    matters: impl IntoIterator<Item = (&'a Matter, u64, i64)>,
) -> Result<(), StoreError> {
    write_docs(tx, matters, false)
}

/// A matter's index rows computed ahead of the transaction (pure, so it can run on another
/// thread while the store writes).
pub struct PreparedDoc(Doc);

/// Computes the index rows of matters on up to two threads.
pub fn prepare_docs(matters: &[Matter]) -> Vec<PreparedDoc> {
    let mid = matters.len() / 2;
    std::thread::scope(|sc| {
        let right = sc.spawn(|| matters[mid..].iter().map(build_doc).collect::<Vec<_>>());
        let mut out: Vec<PreparedDoc> = matters[..mid]
            .iter()
            .map(|m| PreparedDoc(build_doc(m)))
            .collect();
        out.extend(
            right
                .join()
                .unwrap_or_else(|_| matters[mid..].iter().map(build_doc).collect())
                .into_iter()
                .map(PreparedDoc),
        );
        out
    })
}

/// Writes a whole catalogue's prepared index rows into an emptied index.
pub fn index_prepared<'a>(
    tx: &Transaction<'_>,
    items: impl IntoIterator<Item = (&'a Matter, PreparedDoc, u64, i64)>,
) -> Result<(), StoreError> {
    index_prepared_into(tx, "", items)
}

/// [`index_prepared`] into the index tables named with `prefix` (`{prefix}search_docs`,
/// `{prefix}search_fts`): a snapshot stages its index beside the live one.
pub fn index_prepared_into<'a>(
    conn: &rusqlite::Connection,
    prefix: &str,
    items: impl IntoIterator<Item = (&'a Matter, PreparedDoc, u64, i64)>,
) -> Result<(), StoreError> {
    let mut stmts = DocStatements::with_prefix(conn, prefix)?;
    for (m, d, popularity, position) in items {
        stmts.insert(m, d.0, popularity, position)?;
    }
    Ok(())
}

struct DocStatements<'t> {
    doc: rusqlite::CachedStatement<'t>,
    fts: rusqlite::CachedStatement<'t>,
}

impl<'t> DocStatements<'t> {
    fn new(tx: &'t Transaction<'_>) -> Result<Self, StoreError> {
        Self::with_prefix(tx, "")
    }

    fn with_prefix(tx: &'t rusqlite::Connection, p: &str) -> Result<Self, StoreError> {
        Ok(Self {
            doc: tx.prepare_cached(&format!(
                "INSERT INTO {p}search_docs (id, task_code, name, name_py, name_initials, aliases,
                    aliases_py, department, audiences, life_events, self_service, popularity, position)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?,
            fts: tx.prepare_cached(&format!(
                "INSERT INTO {p}search_fts (rowid, ex, nt, np, at, ap, ot, op)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?,
        })
    }

    fn insert(
        &mut self,
        m: &Matter,
        d: Doc,
        popularity: u64,
        position: i64,
    ) -> Result<(), StoreError> {
        let id = rank_id(popularity, position);
        let life = format!("|{}|", m.life_events.join("|"));
        self.doc.execute(params![
            id,
            m.task_code.as_str(),
            m.name,
            d.name_py,
            d.name_initials,
            d.aliases,
            d.aliases_py,
            m.department,
            audience_bits(m),
            life,
            m.self_service,
            popularity as i64,
            position,
        ])?;
        let c = &d.cols;
        self.fts
            .execute(params![id, d.exact, c[0], c[1], c[2], c[3], c[4], c[5]])?;
        Ok(())
    }
}

fn write_docs<'a>(
    tx: &Transaction<'_>,
    matters: impl IntoIterator<Item = (&'a Matter, u64, i64)>,
    replace: bool,
) -> Result<(), StoreError> {
    let mut stmts = DocStatements::new(tx)?;
    for (m, popularity, position) in matters {
        if replace {
            delete_doc(tx, m.task_code.as_str())?;
        }
        stmts.insert(m, build_doc(m), popularity, position)?;
    }
    Ok(())
}

/// Removes the index rows of withdrawn matters inside the caller's transaction.
pub fn unindex_matters<'a>(
    tx: &Transaction<'_>,
    task_codes: impl IntoIterator<Item = &'a str>,
) -> Result<(), StoreError> {
    for code in task_codes {
        delete_doc(tx, code)?;
    }
    Ok(())
}

/// Empties the index inside the caller's transaction (before a full rebuild).
pub fn clear_index(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch("DELETE FROM search_docs; DELETE FROM search_fts;")?;
    Ok(())
}

/// Records which catalogue version the index describes, inside the caller's transaction.
pub fn mark_indexed(tx: &Transaction<'_>, catalog_version: u64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO search_meta (id, catalog_version, index_version) VALUES (1, ?1, ?2)
         ON CONFLICT(id) DO UPDATE SET catalog_version = excluded.catalog_version,
            index_version = excluded.index_version",
        params![catalog_version as i64, INDEX_VERSION],
    )?;
    Ok(())
}

/// Rebuilds the index when it does not describe the stored catalogue (for example after the
/// bundled catalogue was loaded, or after an upgrade changed the tokenization). Cheap when
/// it is current. Popularity is kept for matters already indexed.
pub fn ensure_index(store: &mut Store) -> Result<bool, StoreError> {
    let Some(version) = store.catalog_version()? else {
        return Ok(false);
    };
    let current: Option<(i64, i64)> = store
        .conn()
        .query_row(
            "SELECT catalog_version, index_version FROM search_meta WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if current == Some((version as i64, INDEX_VERSION)) {
        return Ok(false);
    }
    let matters: Vec<(Matter, u64, i64)> = {
        let conn = store.conn();
        let mut stmt = conn.prepare(
            "SELECT m.body, COALESCE(d.popularity, 0), m.position FROM matters m
             LEFT JOIN search_docs d ON d.task_code = m.task_code ORDER BY m.position",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (body, pop, pos) = row?;
            out.push((serde_json::from_str(&body)?, pop as u64, pos));
        }
        out
    };
    let tx = store.conn().transaction()?;
    clear_index(&tx)?;
    index_all(&tx, matters.iter().map(|(m, p, pos)| (m, *p, *pos)))?;
    mark_indexed(&tx, version)?;
    tx.commit()?;
    tracing::info!(matters = matters.len(), version, "search index rebuilt");
    Ok(true)
}

/// The FTS5 expressions for a normalized query, one per tier: exact name or alias, within
/// the name, within an alias, other. `None` when the query cannot use the index.
fn tier_expressions(q: &str) -> Option<[String; 4]> {
    let n = q.chars().count();
    let latin = q.chars().all(|c| c.is_ascii_lowercase());
    if n == 0 || (latin && n == 1) {
        return None;
    }
    let within = if latin {
        if n == 2 {
            format!("\"{q}\" *")
        } else {
            let mut grams = String::new();
            for w in q.as_bytes().windows(3) {
                grams.push_str(std::str::from_utf8(w).unwrap_or_default());
                grams.push(' ');
            }
            format!("\"{}\"", grams.trim_end())
        }
    } else {
        if n == 1 {
            // Every occurrence of a character starts a bigram or ends a segment alone.
            format!("\"{q}\" *")
        } else {
            let mut grams = String::new();
            bigrams(q, &mut grams);
            format!("\"{}\"", grams.trim_end())
        }
    };
    let (name, alias, other) = if latin {
        ("np", "ap", "op")
    } else {
        ("nt", "at", "ot")
    };
    Some([
        format!("ex : \"{q}\""),
        format!("{name} : {within}"),
        format!("{alias} : {within}"),
        format!("{other} : {within}"),
    ])
}

const HIT_COLUMNS: &str = "d.task_code, d.name, d.department, d.self_service, d.popularity";

fn filter_sql(f: &Filters, sql: &mut String, args: &mut Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    if let Some(a) = f.audience {
        sql.push_str(" AND (d.audiences & ?) != 0");
        args.push(Value::Integer(match a {
            Audience::NaturalPerson => 1,
            Audience::LegalPerson => 2,
        }));
    }
    if let Some(dep) = &f.department {
        sql.push_str(" AND d.department = ?");
        args.push(Value::Text(dep.clone()));
    }
    if let Some(ev) = &f.life_event {
        sql.push_str(" AND instr(d.life_events, ?) > 0");
        args.push(Value::Text(format!("|{ev}|")));
    }
    if f.self_service_only {
        sql.push_str(" AND d.self_service = 1");
    }
}

/// Ids of one tier, in rank order, at most `limit`, passing the filters.
fn tier_ids(
    conn: &Connection,
    head: &str,
    first: rusqlite::types::Value,
    filters: &Filters,
    limit: usize,
) -> Result<Vec<i64>, StoreError> {
    use rusqlite::types::Value;
    let mut sql = head.to_owned();
    let mut args = vec![first];
    filter_sql(filters, &mut sql, &mut args);
    sql.push_str(" ORDER BY 1 LIMIT ?");
    args.push(Value::Integer(limit as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Searches the index. Tiers: 0 exact name or alias (in Chinese, full pinyin or initials),
/// 1 within the name, 2 within an alias or synonym, 3 department only; within a tier the
/// most popular first, then catalogue order. An empty query browses (every matter passing
/// the filters, most popular first).
pub fn search(
    conn: &Connection,
    query: &str,
    filters: &Filters,
    limit: usize,
) -> Result<Vec<SearchHit>, StoreError> {
    use rusqlite::types::Value;
    let limit = limit.min(10_000);
    let q = normalize(query);
    let mut ranked: Vec<(i64, u8)> = Vec::new();
    let take = |ids: Vec<i64>, tier: u8, ranked: &mut Vec<(i64, u8)>| {
        for id in ids {
            if ranked.len() < limit && !ranked.iter().any(|(x, _)| *x == id) {
                ranked.push((id, tier));
            }
        }
    };
    if q.is_empty() {
        let ids = tier_ids(
            conn,
            "SELECT d.id FROM search_docs d WHERE ?1 = ?1",
            Value::Integer(0),
            filters,
            limit,
        )?;
        take(ids, 3, &mut ranked);
    } else {
        match tier_expressions(&q) {
            Some(exprs) => {
                for (tier, expr) in (0u8..).zip(exprs) {
                    if ranked.len() >= limit {
                        break;
                    }
                    // Enough rows that duplicates of earlier tiers cannot crowd this one out.
                    let want = limit + ranked.len();
                    let ids = tier_ids(
                        conn,
                        if *filters == Filters::default() {
                            // FTS5 walks its doclists in rowid (= rank) order and stops early.
                            "SELECT rowid FROM search_fts WHERE search_fts MATCH ?"
                        } else {
                            // CROSS JOIN keeps the index outermost, so rank order still holds.
                            "SELECT f.rowid FROM search_fts f CROSS JOIN search_docs d
                             WHERE search_fts MATCH ? AND d.id = f.rowid"
                        },
                        Value::Text(expr),
                        filters,
                        want,
                    )?;
                    take(ids, tier, &mut ranked);
                }
            }
            None => {
                // A single letter: matters whose name starts with that initial.
                let ids = tier_ids(
                    conn,
                    "SELECT d.id FROM search_docs d WHERE substr(d.name_initials, 1, 1) = ?",
                    Value::Text(q.clone()),
                    filters,
                    limit,
                )?;
                take(ids, 1, &mut ranked);
            }
        }
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {HIT_COLUMNS} FROM search_docs d WHERE d.id = ?1"
    ))?;
    let mut hits = Vec::with_capacity(ranked.len());
    for (id, tier) in ranked {
        hits.push(stmt.query_row([id], |r| {
            Ok(SearchHit {
                task_code: r.get(0)?,
                name: r.get(1)?,
                department: r.get(2)?,
                self_service: r.get(3)?,
                popularity: r.get::<_, i64>(4)? as u64,
                tier,
            })
        })?);
    }
    Ok(hits)
}

/// Departments with their matter counts, largest first (browse by department).
pub fn departments(conn: &Connection, filters: &Filters) -> Result<Vec<Facet>, StoreError> {
    let mut sql = String::from("SELECT d.department, count(*) FROM search_docs d WHERE 1");
    let mut args = Vec::new();
    filter_sql(filters, &mut sql, &mut args);
    sql.push_str(" GROUP BY d.department ORDER BY count(*) DESC, min(d.position)");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok(Facet {
            name: r.get(0)?,
            count: r.get::<_, i64>(1)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Life events with their matter counts, largest first (browse by life event).
pub fn life_events(conn: &Connection, filters: &Filters) -> Result<Vec<Facet>, StoreError> {
    let mut sql = String::from("SELECT d.life_events FROM search_docs d WHERE 1");
    let mut args = Vec::new();
    filter_sql(filters, &mut sql, &mut args);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0))?;
    let mut counts: Vec<Facet> = Vec::new();
    for row in rows {
        for ev in row?.split('|').filter(|s| !s.is_empty()) {
            match counts.iter_mut().find(|f| f.name == ev) {
                Some(f) => f.count += 1,
                None => counts.push(Facet {
                    name: ev.to_owned(),
                    count: 1,
                }),
            }
        }
    }
    counts.sort_by_key(|f| std::cmp::Reverse(f.count));
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_gives_full_reading_and_initials() {
        assert_eq!(pinyin_of("身份证"), ("shenfenzheng".into(), "sfz".into()));
        assert_eq!(pinyin_of("户口迁移").1, "hkqy");
        assert_eq!(pinyin_of("公积金提取").1, "gjjtq");
        assert_eq!(pinyin_of("重庆市").0, "chongqingshi");
        assert_eq!(pinyin_of("重庆市").1, "cqs");
    }

    #[test]
    fn normalize_folds_width_case_and_punctuation() {
        assert_eq!(normalize("户口迁移（市内迁移）"), "户口迁移市内迁移");
        assert_eq!(normalize("ＳＦＺ "), "sfz");
    }

    #[test]
    fn synonyms_go_both_ways_without_doubling() {
        assert!(synonym_forms("社会保障卡补领").contains(&"社保卡补领".to_owned()));
        assert!(synonym_forms("社保卡").contains(&"社会保障卡".to_owned()));
        let f = synonym_forms("住房公积金提取");
        assert!(f.contains(&"公积金提取".to_owned()), "{f:?}");
        assert!(!f.iter().any(|x| x.contains("住房住房")), "{f:?}");
    }
}
