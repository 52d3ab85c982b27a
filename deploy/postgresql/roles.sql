-- The registry's database roles, once per PostgreSQL cluster, as the cluster's superuser:
--
--   sudo -u postgres psql --cluster 15/erap --set ON_ERROR_STOP=1 --file roles.sql
--
-- then give each a password interactively, so that none lands in a shell history or a process
-- list (psql hashes it with SCRAM before sending it):
--
--   sudo -u postgres psql --cluster 15/erap --command '\password erap_app'   (and the others)
--
-- What each role may do to each table is granted by the migrations
-- (central_ingest/store/postgres/roles.py), not here.

-- Owns the schema and runs the migrations; no service connects as it.
CREATE ROLE erap_owner LOGIN;

-- The registry's processes: API, ingest workers, jobs. INSERT only on the append-only tables.
CREATE ROLE erap_app LOGIN;
-- A writer waiting on a lock, or idle inside a transaction, holds the ledger's order up for
-- every other writer: give up instead, and let the caller retry.
ALTER ROLE erap_app SET lock_timeout = '10s';
ALTER ROLE erap_app SET idle_in_transaction_session_timeout = '60s';

-- The prosecutor's reports and the read replicas: SELECT only, and read-only transactions.
CREATE ROLE erap_reader LOGIN;
ALTER ROLE erap_reader SET default_transaction_read_only = on;

-- The standby's WAL stream (pg_basebackup, primary_conninfo): replication, nothing else.
CREATE ROLE erap_replication LOGIN REPLICATION;
