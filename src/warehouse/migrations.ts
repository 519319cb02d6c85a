import type { Pool } from 'pg';

/** Versioned schema changes, applied in order, each once, each in its own transaction. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'ingestion warehouse',
    sql: `
      CREATE TABLE ingestions (
        id                text PRIMARY KEY,
        workflow_id       text NOT NULL,
        tenant            text NOT NULL,
        catalog           text NOT NULL,
        source            text NOT NULL,
        mode              text NOT NULL,
        status            text NOT NULL,
        started_at        timestamptz NOT NULL DEFAULT now(),
        staged_at         timestamptz,
        finished_at       timestamptz,
        records_read      integer,
        records_rejected  integer,
        duplicates        integer,
        products_upserted integer,
        products_unchanged integer,
        products_stale    integer,
        products_skipped  integer,
        products_removed  integer,
        batches           integer,
        error             text
      );
      CREATE INDEX ingestions_catalog ON ingestions (tenant, catalog, started_at);

      -- Latest version of each product, per tenant and catalog.
      CREATE TABLE products (
        tenant            text NOT NULL,
        catalog           text NOT NULL,
        -- Byte order, like ingestion_items, so the two join on their indexes.
        product_id        text COLLATE "C" NOT NULL,
        title             text NOT NULL,
        price             numeric,
        currency          text,
        body              jsonb NOT NULL,
        content_hash      text NOT NULL,
        source_updated_at timestamptz,
        first_seen_at     timestamptz NOT NULL DEFAULT now(),
        changed_at        timestamptz NOT NULL DEFAULT now(),
        last_ingestion_id text NOT NULL,
        -- Set when a full feed no longer carried the product; cleared when it comes back.
        removed_at        timestamptz,
        -- Content hash of the version the catalog API last accepted (a job ended in success).
        delivered_hash    text,
        PRIMARY KEY (tenant, catalog, product_id)
      );

      -- Records that failed to parse or validate, with the reason, never dropped.
      CREATE TABLE rejected_records (
        ingestion_id text NOT NULL,
        position     integer NOT NULL,
        tenant       text NOT NULL,
        catalog      text NOT NULL,
        product_id   text,
        reason       text NOT NULL,
        issues       jsonb NOT NULL DEFAULT '[]',
        raw          text NOT NULL,
        rejected_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ingestion_id, position)
      );

      -- The products of one ingestion, deduplicated, as the catalog operations to send.
      CREATE TABLE ingestion_items (
        ingestion_id      text NOT NULL,
        product_id        text COLLATE "C" NOT NULL,
        operation         text NOT NULL,
        content_hash      text NOT NULL,
        source_updated_at timestamptz,
        position          integer NOT NULL,
        -- The catalog API already holds this exact version: not sent again (delta only).
        delivered         boolean NOT NULL DEFAULT false,
        PRIMARY KEY (ingestion_id, product_id)
      );

      -- A batch is a contiguous range of product ids of one ingestion.
      CREATE TABLE batches (
        ingestion_id     text NOT NULL,
        seq              integer NOT NULL,
        first_product_id text COLLATE "C" NOT NULL,
        last_product_id  text COLLATE "C" NOT NULL,
        products         integer NOT NULL,
        bytes            integer NOT NULL,
        status           text NOT NULL DEFAULT 'staged',
        job_id           text,
        request_id       text,
        submitted_at     timestamptz,
        finished_at      timestamptz,
        PRIMARY KEY (ingestion_id, seq)
      );

      CREATE TABLE catalog_jobs (
        job_id       text PRIMARY KEY,
        kind         text NOT NULL,
        tenant       text NOT NULL,
        catalog      text NOT NULL,
        ingestion_id text,
        batch_seq    integer,
        rebuild_key  text,
        status       text NOT NULL,
        message      text,
        polls        integer NOT NULL DEFAULT 0,
        created_at   timestamptz NOT NULL DEFAULT now(),
        finished_at  timestamptz
      );

      -- Every status change of a job, with when it was seen.
      CREATE TABLE catalog_job_events (
        job_id      text NOT NULL REFERENCES catalog_jobs (job_id),
        status      text NOT NULL,
        observed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX catalog_job_events_job ON catalog_job_events (job_id, observed_at);

      CREATE TABLE index_rebuilds (
        rebuild_key   text PRIMARY KEY,
        tenant        text NOT NULL,
        catalog       text NOT NULL,
        workflow_id   text NOT NULL,
        ingestion_ids text[] NOT NULL,
        job_id        text,
        status        text NOT NULL DEFAULT 'starting',
        started_at    timestamptz NOT NULL DEFAULT now(),
        finished_at   timestamptz,
        lag_p50_s     double precision,
        lag_p95_s     double precision,
        lag_p99_s     double precision
      );
      CREATE INDEX index_rebuilds_catalog ON index_rebuilds (tenant, catalog, started_at);
    `,
  },
  {
    version: 2,
    name: 'source sync state and shared rate limits',
    sql: `
      -- How far each tenant's source stream is known to be in the warehouse.
      CREATE TABLE watermarks (
        tenant     text NOT NULL,
        source     text NOT NULL,
        stream     text NOT NULL,
        value      timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant, source, stream)
      );

      -- Where a source pull stands, written with the records it covers.
      CREATE TABLE pull_checkpoints (
        ingestion_id text PRIMARY KEY,
        cursor       text,
        records      integer NOT NULL,
        rejected     integer NOT NULL,
        pages        integer NOT NULL,
        empty_pages  integer NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now()
      );

      -- One token bucket per rate limit (a shop, an org), shared by every worker.
      -- tokens may go negative: that is the queue of callers already promised a slot.
      CREATE TABLE rate_limit_buckets (
        key            text PRIMARY KEY,
        capacity       double precision NOT NULL,
        refill_per_sec double precision NOT NULL,
        tokens         double precision NOT NULL,
        updated_at     timestamptz NOT NULL DEFAULT clock_timestamp()
      );
    `,
  },
  {
    version: 3,
    name: 'removals in delta ingestions',
    sql: `
      -- A staged item is either the latest version of a product or its removal.
      ALTER TABLE ingestion_items ADD COLUMN removal boolean NOT NULL DEFAULT false;
    `,
  },
  {
    version: 4,
    name: 'delivered versions per catalog API',
    sql: `
      -- Which catalog API (base URL and account) holds delivered_hash; another one holds nothing.
      ALTER TABLE products ADD COLUMN delivered_to text;
      ALTER TABLE ingestions ADD COLUMN target text;
    `,
  },
];

/** Applies the migrations not yet applied. Safe to run from several workers at once. */
export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const m of MIGRATIONS) {
      await client.query('BEGIN');
      try {
        // Serialises concurrent workers; the lock ends with the transaction.
        await client.query('SELECT pg_advisory_xact_lock(748202611)');
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
          m.version,
        ]);
        if (done.rowCount === 0) {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          applied.push(m.version);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    client.release();
  }
  return applied;
}
