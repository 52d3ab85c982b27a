-- The registry's database, owned by erap_owner, as the cluster's superuser after roles.sql:
--
--   sudo -u postgres psql --cluster 15/erap --set ON_ERROR_STOP=1 --set database=erap \
--       --file database.sql
--
-- Then the schema: the migrations, run as erap_owner (central_ingest.store.postgres.schema).

CREATE DATABASE :"database" OWNER erap_owner
    ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0;
-- No one but these roles connects, and no one creates temporary tables (a temporary table
-- named like a registry table would otherwise shadow it in that session).
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO erap_app, erap_reader;
