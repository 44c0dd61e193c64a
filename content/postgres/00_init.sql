-- Roles, database, schema and server settings of the shop's database.
-- Production runs the same script on pg-shop-1 (primary) and replicates to pg-shop-2 (standby).
-- This copy differs in two ways, so that it fits on a laptop: shared_buffers is 256MB instead of
-- 8GB, and it has only the two tables of the slow queries (production also has carts, payments
-- and sessions).
-- PostgreSQL 15 (Debian 12 package postgresql-15). Run as the superuser with psql:
--   psql --set=ON_ERROR_STOP=1 --file=00_init.sql

\set ON_ERROR_STOP on

-- Server settings (need a restart: the container's first start restarts the server after loading).
ALTER SYSTEM SET max_connections = 200;
ALTER SYSTEM SET superuser_reserved_connections = 3;
ALTER SYSTEM SET shared_buffers = '256MB';
ALTER SYSTEM SET work_mem = '8MB';
ALTER SYSTEM SET maintenance_work_mem = '256MB';
ALTER SYSTEM SET effective_cache_size = '1GB';
ALTER SYSTEM SET random_page_cost = 1.1;
ALTER SYSTEM SET wal_level = 'replica';
ALTER SYSTEM SET max_wal_senders = 10;
ALTER SYSTEM SET max_replication_slots = 10;
ALTER SYSTEM SET wal_keep_size = '1GB';
ALTER SYSTEM SET hot_standby = on;
ALTER SYSTEM SET checkpoint_timeout = '15min';
ALTER SYSTEM SET max_wal_size = '8GB';
ALTER SYSTEM SET log_line_prefix = '%m [%p] %q%u@%d app=%a ';
ALTER SYSTEM SET log_min_duration_statement = '500ms';
ALTER SYSTEM SET log_lock_waits = on;
ALTER SYSTEM SET log_temp_files = 0;
ALTER SYSTEM SET track_io_timing = on;

-- Roles. Passwords are set by the deployment (Ansible vault), not here.
CREATE ROLE shop_owner NOLOGIN;                     -- owns the schema
CREATE ROLE shop_migrate LOGIN IN ROLE shop_owner;  -- schema migrations at deployment
CREATE ROLE shop_app LOGIN;                         -- the web servers shop-web-1 to shop-web-4
CREATE ROLE reporting LOGIN;                        -- the reporting job on etl-1
CREATE ROLE monitoring LOGIN IN ROLE pg_monitor;    -- postgres_exporter
CREATE ROLE replicator LOGIN REPLICATION;           -- the standby pg-shop-2
ALTER ROLE shop_app SET statement_timeout = '60s';

CREATE DATABASE shop OWNER shop_owner ENCODING 'UTF8' TEMPLATE template0;
\connect shop

-- Nobody but the owner creates objects in public (the PostgreSQL 15 default, stated for clarity).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO shop_app, reporting;

SET ROLE shop_owner;

-- Keys and indexes are created by table_dump.sql after the rows, as pg_dump orders a restore.
CREATE TABLE customers (
    id          bigint      NOT NULL,
    email       text        NOT NULL,
    full_name   text        NOT NULL,
    country     char(2)     NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE orders (
    id           bigint      NOT NULL,
    customer_id  bigint      NOT NULL,
    status       text        NOT NULL
        CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    total_cents  integer     NOT NULL CHECK (total_cents >= 0),
    currency     char(3)     NOT NULL DEFAULT 'EUR',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

RESET ROLE;

GRANT SELECT, INSERT, UPDATE ON customers, orders TO shop_app;
GRANT SELECT ON customers, orders TO reporting;
