// The PostgreSQL schema, as numbered migrations checked in here. `PostgresStore` applies the
// missing ones at start-up, each in its own transaction together with its row in
// `schema_migrations`, under a transaction-level advisory lock so that several servers
// starting on one database at once migrate it exactly once. Never edit a released migration;
// append a new one.
//
// One database holds every collection. A collection is a row of `collections` (its config
// as the same JSON that SQLite's config.json holds, its state, last error, training
// progress, committed model generation and change sequence); everything else hangs off its
// numeric id with ON DELETE CASCADE, so deleting the row deletes the collection whole, and a
// collection re-created under the same name never meets a handle of the old one.
//
// items mirror SQLite's table: `rowid` comes from one sequence and is never reused, which
// keeps list cursors meaningful; ids are a number (the Int64 with the same bits) or a string.
// The byte layouts of labels, codes and vectors are those of SQLite (Blobs: a vector of whole
// numbers in 0...255 is one byte per value, else Float32s), so the two
// stores hold the same bytes.
//
// The change sequence: every write transaction takes the next `collections.seq` (the row
// lock also orders the writers of one collection), stamps the items it writes with it,
// leaves a tombstone for each item it deletes and a row in `changes` naming what it did. A
// node can later follow another's writes by reading everything above the seq it has seen.

enum PostgresSchema {
    struct Migration {
        let version: Int
        let name: String
        /// One statement per string: the extended query protocol takes one at a time.
        let statements: [String]
    }

    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    /// Key of the advisory lock held while migrating (any constant unique to this program).
    static let migrationLock: Int64 = 0x4450_515F_5343_484D  // "DPQ_SCHM"

    static let migrations: [Migration] = [
        Migration(version: 1, name: "collections, items, models, training data, changes", statements: [
            """
            CREATE TABLE collections (
                id bigserial PRIMARY KEY,
                name text NOT NULL UNIQUE,
                config text NOT NULL,
                state text NOT NULL DEFAULT 'untrained',
                last_error text,
                progress text,
                model_generation bigint NOT NULL DEFAULT 0,
                seq bigint NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE items (
                collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
                rowid bigserial NOT NULL,
                id_number bigint,
                id_string text,
                labels bytea NOT NULL,
                code bytea NOT NULL,
                vector bytea,
                seq bigint NOT NULL,
                PRIMARY KEY (collection_id, rowid),
                UNIQUE (collection_id, id_number),
                UNIQUE (collection_id, id_string),
                CHECK ((id_number IS NULL) <> (id_string IS NULL))
            )
            """,
            "CREATE INDEX items_by_seq ON items (collection_id, seq)",
            """
            CREATE TABLE item_tombstones (
                collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
                seq bigint NOT NULL,
                id_number bigint,
                id_string text
            )
            """,
            "CREATE INDEX item_tombstones_by_seq ON item_tombstones (collection_id, seq)",
            """
            CREATE TABLE changes (
                collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
                seq bigint NOT NULL,
                kind text NOT NULL,
                at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (collection_id, seq)
            )
            """,
            """
            CREATE TABLE models (
                collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
                generation bigint NOT NULL,
                data bytea NOT NULL,
                PRIMARY KEY (collection_id, generation)
            )
            """,
            """
            CREATE TABLE training_data (
                collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
                chunk bigserial NOT NULL,
                dataset text NOT NULL,
                row_count bigint NOT NULL,
                labelled_rows bigint NOT NULL,
                updated_at_ms bigint NOT NULL,
                vectors bytea NOT NULL,
                labels bytea NOT NULL,
                PRIMARY KEY (collection_id, chunk)
            )
            """,
            "CREATE INDEX training_data_by_dataset ON training_data (collection_id, dataset, chunk)",
            // Float vectors and model weights do not compress; storing them uncompressed saves
            // the CPU that pglz would spend failing to.
            "ALTER TABLE models ALTER COLUMN data SET STORAGE EXTERNAL",
            "ALTER TABLE training_data ALTER COLUMN vectors SET STORAGE EXTERNAL",
        ]),
        // Training among several servers: the lease is an advisory lock (trainingLockKey), the
        // cancel request a flag the training server reads in its changes.
        Migration(version: 2, name: "training cancel requests", statements: [
            "ALTER TABLE collections ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false",
        ]),
        // Wake-ups for the servers that follow the store: every committed change to a collection's
        // row (each write takes the next seq there; creation and deletion insert and delete it)
        // notifies channel `changeChannel` with the collection's name. PostgreSQL delivers it at
        // commit, once per name and transaction, and not at all on rollback.
        Migration(version: 3, name: "change notifications", statements: [
            """
            CREATE FUNCTION dpq_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    PERFORM pg_notify('dpq_changes', OLD.name);
                ELSE
                    PERFORM pg_notify('dpq_changes', NEW.name);
                END IF;
                RETURN NULL;
            END
            $$
            """,
            "CREATE TRIGGER collections_notify AFTER INSERT OR UPDATE OR DELETE ON collections FOR EACH ROW EXECUTE FUNCTION dpq_notify_change()",
        ]),
        // The item count kept with the collection by every write that adds or deletes items (under
        // the row lock that orders them), so counting is one row read, not a scan of the items
        // (which every upsert's answer needs: count(*) grows with the collection).
        Migration(version: 4, name: "item counts", statements: [
            "ALTER TABLE collections ADD COLUMN item_count bigint NOT NULL DEFAULT 0",
            "UPDATE collections c SET item_count = (SELECT count(*) FROM items i WHERE i.collection_id = c.id)",
        ]),
        // Pruning the change history (PostgresStore.pruneChangeHistory): the tombstones and change
        // rows up to pruned_seq may be gone, so a server that has followed less than that reloads.
        Migration(version: 5, name: "pruned change history", statements: [
            "ALTER TABLE collections ADD COLUMN pruned_seq bigint NOT NULL DEFAULT 0",
            "CREATE INDEX changes_by_time ON changes (at)",
        ]),
    ]

    /// The LISTEN/NOTIFY channel of migration 3.
    static let changeChannel = "dpq_changes"

    /// The advisory lock key of a collection's training lease: a session lock held on a
    /// connection of its own for the whole training, so it goes when the server does.
    static func trainingLockKey(_ collectionID: Int64) -> Int64 { 0x4450_5100_0000_0000 | collectionID }
}
