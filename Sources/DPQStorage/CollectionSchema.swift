// The SQLite schema of items.sqlite, as GRDB migrations: a database is only ever moved
// forward one registered migration at a time, so a file written by any earlier version
// opens in this one. Never edit a registered migration; add a new one.
//
// items: one row per item. `rowid` is AUTOINCREMENT so rowids are never reused, which keeps
// pagination cursors meaningful across deletions. An id is a number (stored as the Int64
// with the same bits) or a string; each kind has its own unique column.

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
        return m
    }

    enum Meta {
        static let state = "state"
        static let modelGeneration = "model_generation"
        static let lastError = "last_error"
        static let progress = "training_progress"
    }
}
