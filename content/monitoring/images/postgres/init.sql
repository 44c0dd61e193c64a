-- Runs once, when the image is built: the shop's role, its database and some orders.

CREATE ROLE shop LOGIN PASSWORD 'shop-dev-password';
CREATE DATABASE shop OWNER shop;

\connect shop
SET ROLE shop;

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint      NOT NULL,
    total_cents integer     NOT NULL CHECK (total_cents >= 0),
    status      text        NOT NULL DEFAULT 'paid',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_created_at_idx ON orders (created_at);

INSERT INTO orders (customer_id, total_cents, status, created_at)
SELECT 1 + (i * 7919) % 5000,
       500 + (i * 104729) % 20000,
       CASE WHEN i % 40 = 0 THEN 'refunded' ELSE 'paid' END,
       now() - make_interval(mins => i)
FROM generate_series(1, 20000) AS i;

-- The read-only role monitoring tools use: server statistics (pg_monitor) and the shop's tables.
RESET ROLE;
CREATE ROLE monitoring LOGIN PASSWORD 'monitoring-dev-password' IN ROLE pg_monitor;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO monitoring;
