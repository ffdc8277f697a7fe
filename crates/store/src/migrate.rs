//! Migrating a database to the schema (`schema` holds the SQL): applied in order inside one transaction,
//! each with its checksum, an edited or newer schema refused. Only BIGINT and TEXT columns are used;
//! `{serial}`, `{serial_strict}`, `{txid}`, `{events_tx_index}` and `{insight_tx_index}` are the places where the
//! dialects differ.

use crate::{schema, DbError, Dialect, Tx};

/// Ordered migrations; a released entry is never edited, only followed by a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, schema::V1),
    (2, schema::V2),
    (3, schema::V3),
    (4, schema::V4),
    (5, schema::V5),
    (6, schema::V6),
    (7, schema::V7),
    (8, schema::V8),
    (9, schema::V9),
    (10, schema::V10),
    (11, schema::V11),
    (12, schema::V12),
    (13, schema::V13),
    (14, schema::V14),
    (15, schema::V15),
    (16, schema::V16),
    (17, schema::V17),
    (18, schema::V18),
    (19, schema::V19),
    (20, schema::V20),
    (21, schema::V21),
    (22, schema::V22),
    (23, schema::V23),
    (24, schema::V24),
    (25, schema::V25),
    (26, schema::V26),
    (27, schema::V27),
    (28, schema::V28),
    (29, schema::V29),
    (30, schema::V30),
    (31, schema::V31),
    (32, schema::V32),
];

fn render(sql: &str, dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => sql
            // Rows of these tables are never deleted, so the rowid alone is monotonic; AUTOINCREMENT would
            // add a write to sqlite_sequence for every row.
            .replace("{serial}", "INTEGER PRIMARY KEY")
            .replace("{serial_strict}", "INTEGER PRIMARY KEY AUTOINCREMENT")
            .replace("{txid}", "")
            .replace("{events_tx_index}", "")
            .replace("{insight_tx_index}", ""),
        Dialect::Postgres => sql
            .replace("{serial}", "BIGSERIAL PRIMARY KEY")
            .replace("{serial_strict}", "BIGSERIAL PRIMARY KEY")
            .replace("{txid}", ",\n    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()")
            .replace("{events_tx_index}", "CREATE INDEX events_tx_seq ON events (tx_id, seq)")
            .replace("{insight_tx_index}", "CREATE INDEX insight_events_tx ON insight_events (tx_id, seq)"),
    }
}

/// Applies every migration not yet applied, inside the caller's transaction.
pub(crate) fn migrate(tx: &mut dyn Tx, dialect: Dialect) -> Result<(), DbError> {
    if dialect == Dialect::Postgres {
        // Several nodes may start at once; one migrates, the others wait and then find nothing to do.
        tx.query("SELECT pg_advisory_xact_lock(7262011)", &[])?;
    }
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        &[],
    )?;
    tx.exec("CREATE TABLE IF NOT EXISTS schema_checksums (version BIGINT PRIMARY KEY, checksum TEXT NOT NULL)", &[])?;
    let applied: Vec<i64> =
        tx.query("SELECT version FROM schema_migrations", &[])?.iter().map(|r| r.i64(0)).collect::<Result<_, _>>()?;
    // A database a newer borderless has migrated is refused: this binary does not know its schema.
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if let Some(newer) = applied.iter().copied().filter(|v| *v > known).max() {
        return Err(DbError::new(
            crate::DbErrorKind::Other,
            format!(
                "the database's schema is at version {newer}, written by a newer borderless; this binary knows versions up to {known}. Run the newer binary (or restore a backup taken before the upgrade)"
            ),
        ));
    }
    let recorded: std::collections::HashMap<i64, String> = tx
        .query("SELECT version, checksum FROM schema_checksums", &[])?
        .iter()
        .map(|r| Ok((r.i64(0)?, r.text(1)?)))
        .collect::<Result<_, DbError>>()?;
    for (version, sql) in MIGRATIONS {
        let sum = checksum(sql);
        if applied.contains(version) {
            match recorded.get(version) {
                Some(was) if *was != sum => {
                    return Err(DbError::new(
                        crate::DbErrorKind::Other,
                        format!(
                            "migration {version} differs from the one this database applied (checksum {was}, now {sum}); a released migration must never be edited — add a new one"
                        ),
                    ))
                }
                Some(_) => {}
                // Applied before checksums were kept: record what this binary says it was.
                None => {
                    tx.exec(
                        "INSERT INTO schema_checksums (version, checksum) VALUES (?, ?)",
                        crate::params![*version, sum.as_str()],
                    )?;
                }
            }
            continue;
        }
        for stmt in render(sql, dialect).split(';').map(str::trim).filter(|s| !s.is_empty()) {
            tx.exec(stmt, &[])?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        tx.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", crate::params![*version, now])?;
        tx.exec(
            "INSERT INTO schema_checksums (version, checksum) VALUES (?, ?) ON CONFLICT (version) DO UPDATE SET checksum = excluded.checksum",
            crate::params![*version, sum.as_str()],
        )?;
    }
    Ok(())
}

/// The checksum this binary records for migration `version` (for tools and tests).
pub fn checksum_of(version: i64) -> Option<String> {
    MIGRATIONS.iter().find(|m| m.0 == version).map(|m| checksum(m.1))
}

/// A migration's fingerprint: 64-bit FNV-1a of its text, hex (it detects an edited migration, not an
/// attacker, who could edit the table too).
pub fn checksum(sql: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sql.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}
