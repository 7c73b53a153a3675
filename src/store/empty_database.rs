//! A new data directory's database, made ahead of time: the file every migration makes from
//! nothing (`schema::VERSION`, WAL mode), written as it is instead of made on the spot.
//!
//! Why: making it ran the migrations' DDL, and each `ALTER TABLE` made SQLite parse the whole
//! schema again (twelve of them): ~3 ms of CPU on a first start, against ~5 ms for all the
//! rest of it, the late joiner's whole lead over a program with no data directory. Written
//! whole and synced, a power cut leaves either no database (the next start writes it again)
//! or this one. The test below checks that it is exactly what the migrations make (and writes
//! it again when asked: `PARLOR_WRITE_EMPTY_DATABASE=1 cargo test --lib empty_database`).

use std::fs::File;
use std::io::Write;

/// The database of a new data directory.
const IMAGE: &[u8] = include_bytes!("empty.db");

/// Write the new database into `file`, just created empty.
pub(super) fn write(file: &mut File) -> std::io::Result<()> {
    file.write_all(IMAGE)?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::store::schema;

    /// What the migrations make from nothing, as a file in WAL mode with its log merged.
    fn made_by_the_migrations(dir: &std::path::Path) -> Vec<u8> {
        let path = dir.join("made.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        schema::migrate(&mut conn).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        drop(conn);
        std::fs::read(path).unwrap()
    }

    /// The schema, the version, and every row of every table (FTS5 keeps its configuration
    /// in rows), as text.
    fn dump(dir: &std::path::Path, name: &str, bytes: &[u8]) -> Vec<String> {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let conn = Connection::open(&path).unwrap();
        let mut out = vec![format!(
            "version {}",
            conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                .unwrap()
        )];
        let schema: Vec<(String, String, Option<String>)> = conn
            .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (kind, name, sql) in schema {
            out.push(format!("{kind} {name}: {sql:?}"));
            if kind == "table" && sql.is_some_and(|sql| !sql.contains("VIRTUAL")) {
                let mut rows = conn.prepare(&format!("SELECT * FROM \"{name}\"")).unwrap();
                let columns = rows.column_count();
                let rows: Vec<String> = rows
                    .query_map([], |row| {
                        let values: Vec<String> = (0..columns)
                            .map(|i| row.get_ref(i).map(|v| format!("{v:?}")))
                            .collect::<Result<_, _>>()?;
                        Ok(format!("  {name} row {}", values.join(", ")))
                    })
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                out.extend(rows);
            }
        }
        out
    }

    #[test]
    fn the_empty_database_is_what_the_migrations_make() {
        let dir = crate::store::tests::tempdir();
        let made = made_by_the_migrations(&dir);
        if std::env::var_os("PARLOR_WRITE_EMPTY_DATABASE").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/empty.db");
            std::fs::write(path, &made).unwrap();
            return;
        }
        assert_eq!(
            dump(&dir, "image.db", IMAGE),
            dump(&dir, "made-again.db", &made),
            "src/store/empty.db is stale: PARLOR_WRITE_EMPTY_DATABASE=1 cargo test --lib empty_database"
        );
        assert_eq!(
            IMAGE[18..20],
            [2, 2],
            "in WAL mode, so opening it writes nothing"
        );
        assert_eq!(
            IMAGE.len() % 4096,
            0,
            "whole pages of SQLite's default size"
        );
    }
}
