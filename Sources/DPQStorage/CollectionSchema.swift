// The SQLite schema of items.sqlite, as GRDB migrations: a database is only ever moved
// forward one registered migration at a time, so a file written by any earlier version
// opens in this one. Never edit a registered migration; add a new one.
//
// items: one row per item. Rowids are never reused, which keeps pagination cursors meaningful
// across deletions: the store gives each new row the number after meta's rowid_high_water
// (v1 used AUTOINCREMENT, which costs a write to sqlite_sequence per row: v3 moved the
// high-water mark to meta, written once per batch). An id is a number (stored as the Int64
// with the same bits) or a string; each kind has its own unique column, indexed only where it
// is set (v3: a full index also held a NULL entry per row of the other kind). v4: batches of
// new ascending numeric ids may be stored as item segments instead (ItemSegments.swift).

import GRDB

enum CollectionSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE items (
                    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
                    id_number INTEGER UNIQUE,
                    id_string TEXT UNIQUE,
                    labels BLOB NOT NULL,
                    code BLOB NOT NULL,
                    vector BLOB,
                    CHECK ((id_number IS NULL) <> (id_string IS NULL))
                );
                CREATE TABLE training_data (
                    chunk INTEGER PRIMARY KEY AUTOINCREMENT,
                    row_count INTEGER NOT NULL,
                    vectors BLOB NOT NULL,
                    labels BLOB NOT NULL
                );
                CREATE TABLE meta (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT
                );
                INSERT INTO meta (key, value) VALUES ('state', 'untrained'), ('model_generation', '0');
                """)
        }
        // Named training datasets: every chunk belongs to one.
        m.registerMigration("v2-datasets") { db in
            try db.execute(sql: """
                ALTER TABLE training_data ADD COLUMN dataset TEXT NOT NULL DEFAULT 'default';
                ALTER TABLE training_data ADD COLUMN labelled_rows INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE training_data ADD COLUMN updated_at_ms INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX training_data_by_dataset ON training_data (dataset, chunk);
                """)
        }
        // Bulk loading: without AUTOINCREMENT and with partial id indexes, an insert updates one
        // index instead of two plus sqlite_sequence (about 2x the rows per second). Rowids,
        // and so list order and cursors, are kept.
        m.registerMigration("v3-items-rowid-high-water") { db in
            let highWater = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'items'") ?? 0
            try db.execute(sql: """
                CREATE TABLE items_v3 (
                    rowid INTEGER PRIMARY KEY,
                    id_number INTEGER,
                    id_string TEXT,
                    labels BLOB NOT NULL,
                    code BLOB NOT NULL,
                    vector BLOB,
                    CHECK ((id_number IS NULL) <> (id_string IS NULL))
                );
                INSERT INTO items_v3 (rowid, id_number, id_string, labels, code, vector)
                    SELECT rowid, id_number, id_string, labels, code, vector FROM items ORDER BY rowid;
                DROP TABLE items;
                ALTER TABLE items_v3 RENAME TO items;
                CREATE UNIQUE INDEX items_by_number ON items (id_number) WHERE id_number IS NOT NULL;
                CREATE UNIQUE INDEX items_by_string ON items (id_string) WHERE id_string IS NOT NULL;
                """)
            let maxRowid = try Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM items") ?? 0
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)",
                           arguments: [Meta.rowidHighWater, String(max(highWater, maxRowid))])
        }
        // Bulk loading: a batch of new ascending numeric ids as one row (ItemSegments.swift).
        m.registerMigration("v4-item-segments") { db in
            try db.execute(sql: """
                CREATE TABLE item_segments (
                    first_rowid INTEGER PRIMARY KEY,
                    row_count INTEGER NOT NULL,
                    first_id INTEGER NOT NULL,
                    last_id INTEGER NOT NULL,
                    ids BLOB NOT NULL,
                    labels BLOB NOT NULL,
                    codes BLOB NOT NULL,
                    dead BLOB,
                    dead_count INTEGER NOT NULL DEFAULT 0
                );
                CREATE UNIQUE INDEX item_segments_by_first_id ON item_segments (first_id);
                """)
        }
        return m
    }

    enum Meta {
        static let state = "state"
        static let modelGeneration = "model_generation"
        static let lastError = "last_error"
        static let progress = "training_progress"
        /// The largest rowid ever given to an item (v3); new items get the numbers after it.
        static let rowidHighWater = "rowid_high_water"
    }
}
