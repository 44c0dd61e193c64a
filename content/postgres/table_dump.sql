--
-- Data of the shop database: customers and orders, an anonymised copy of production taken on
-- 2024-05-31 at 23:59 UTC.
--
-- Row counts and the distribution of values match production. Names and e-mail addresses are
-- synthetic, and the rows are regenerated from a fixed seed so that this file stays small: every
-- load produces exactly the same rows. Load it after 00_init.sql:
--   psql --set=ON_ERROR_STOP=1 --dbname=shop --file=table_dump.sql
--

\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET ROLE shop_owner;

BEGIN;

-- random() is PostgreSQL's seeded generator: the same seed gives the same sequence.
DO $$ BEGIN PERFORM setseed(0.20240531); END $$;

-- 60 000 customers who signed up between January 2019 and May 2024.
INSERT INTO customers (id, email, full_name, country, created_at)
SELECT i,
       -- People type their address as they like: some capitalise it, most do not.
       CASE WHEN r_case < 0.3 THEN initcap(local_part) ELSE local_part END || '@' || domain,
       initcap(first_name) || ' ' || initcap(last_name),
       country,
       timestamptz '2019-01-07 08:00:00+00' + (i - 1) * interval '2800 seconds'
           + floor(r_time * 2000) * interval '1 second'
FROM (
    SELECT i, first_name, last_name, domain, country, r_case, r_time,
           CASE WHEN r_format < 0.45 THEN first_name || '.' || last_name || i
                WHEN r_format < 0.75 THEN left(first_name, 1) || last_name || i
                ELSE first_name || i
           END AS local_part
    FROM (
        SELECT i,
               (ARRAY['maria', 'jan', 'sofia', 'lukas', 'emma', 'noah', 'lea', 'elias', 'anna',
                      'paul', 'julia', 'leon', 'laura', 'felix', 'sara', 'jonas', 'nina', 'david',
                      'eva', 'tom', 'ana', 'marco', 'ines', 'pedro', 'chloe', 'hugo', 'alice',
                      'louis', 'marta', 'pablo', 'olga', 'piotr'])[1 + floor(random() * 32)::int]
                   AS first_name,
               (ARRAY['silva', 'muller', 'schmidt', 'garcia', 'rossi', 'dubois', 'kowalski',
                      'jansen', 'novak', 'santos', 'fischer', 'weber', 'martin', 'bernard',
                      'lopez', 'ferrari', 'costa', 'nowak', 'meyer', 'wagner', 'peeters',
                      'bakker', 'horvat', 'petit', 'moreau', 'romano', 'ricci', 'lambert',
                      'fontaine', 'becker'])[1 + floor(random() * 30)::int] AS last_name,
               (ARRAY['example.com', 'example.net', 'example.org', 'mail.example',
                      'post.example'])[1 + floor(random() * 5)::int] AS domain,
               (ARRAY['DE', 'DE', 'DE', 'FR', 'FR', 'NL', 'BE', 'AT', 'IT', 'ES', 'PL', 'PT'])
                   [1 + floor(random() * 12)::int] AS country,
               random() AS r_format,
               random() AS r_case,
               random() AS r_time
        FROM generate_series(1, 60000) AS g(i)
    ) AS picked
) AS named;

-- A few accounts were registered twice, as in production.
UPDATE customers AS twin
SET email = upper(left(original.email, 1)) || substr(original.email, 2),
    full_name = original.full_name,
    country = original.country
FROM customers AS original
WHERE twin.id % 1500 = 0
  AND original.id = twin.id - 1
  AND original.email = lower(original.email);

-- 400 000 orders from 2023-06-01 to 2024-05-31, in the order they were placed. Customers who
-- signed up long ago order more often than new ones.
INSERT INTO orders (id, customer_id, status, total_cents, currency, created_at, updated_at)
SELECT i, customer_id, status, total_cents, 'EUR', created_at,
       least(timestamptz '2024-05-31 23:59:00+00',
             created_at + CASE status
                              WHEN 'pending' THEN interval '0'
                              WHEN 'paid' THEN interval '2 minutes'
                              WHEN 'shipped' THEN interval '19 hours'
                              WHEN 'cancelled' THEN interval '50 minutes'
                              WHEN 'refunded' THEN interval '12 days'
                              ELSE interval '2 days' + r_delivery * interval '3 days'
                          END)
FROM (
    SELECT i, total_cents, r_delivery,
           timestamptz '2023-06-01 00:00:00+00' + secs * interval '1 second' AS created_at,
           -- Only customers who had signed up by then (one every 2800 s since 2019-01-07).
           1 + floor(power(r_customer, 1.4)
                     * least(60000, floor((secs + extract(epoch FROM
                         timestamptz '2023-06-01 00:00:00+00'
                         - timestamptz '2019-01-07 09:00:00+00')::float8) / 2800)))::bigint
               AS customer_id,
           CASE WHEN age_h < 2 THEN 'pending'
                WHEN age_h < 24 THEN CASE WHEN r_status < 0.05 THEN 'pending' ELSE 'paid' END
                WHEN age_h < 96 THEN CASE WHEN r_status < 0.6 THEN 'shipped' ELSE 'delivered' END
                WHEN r_status < 0.00012 THEN 'pending'  -- the payment provider never answered
                WHEN r_status < 0.035 THEN 'cancelled'
                WHEN r_status < 0.06 THEN 'refunded'
                ELSE 'delivered'
           END AS status
    FROM (
        SELECT *,
               -- Hours between the order and the moment this copy was taken.
               (extract(epoch FROM timestamptz '2024-05-31 23:59:00+00'
                                   - timestamptz '2023-06-01 00:00:00+00')::float8 - secs) / 3600
                   AS age_h
        FROM (
            SELECT i,
                   random() AS r_customer,
                   (990 + floor(power(random(), 2) * 24000))::int AS total_cents,
                   random() AS r_status,
                   random() AS r_delivery,
                   -- Seconds after 2023-06-01 00:00 UTC: one order every 79 s on average.
                   floor((i - 1) * 79.05::float8 + random() * 60) AS secs
            FROM generate_series(1, 400000) AS g(i)
        ) AS drawn
    ) AS aged
) AS placed;

COMMIT;

-- Keys and indexes, created after the rows as pg_dump does: faster than updating them row by row.
ALTER TABLE ONLY customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
ALTER TABLE ONLY customers ADD CONSTRAINT customers_email_key UNIQUE (email);
ALTER TABLE ONLY orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
ALTER TABLE ONLY orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);

RESET ROLE;
-- Fresh statistics and visibility map, as after every restore.
VACUUM (ANALYZE) customers, orders;
