#!/usr/bin/env python3
"""The shop's order API, a small traffic generator that stands in for its customers, and a
stand-in for the on-call pager and the team's chat.

    shop serve            HTTP API on port 8000 (GET /healthz, GET /api/orders, POST /api/orders)
    shop traffic URL      sends customer-like requests to URL, forever
    shop probe URL        exits 0 when URL answers 200 (for health checks)
    shop pager            accepts webhooks on port 8080 (POST to any path) and logs each one
"""

import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# One connection per request keeps the service simple and lets it recover by itself when the
# database restarts.
DSN = os.environ.get("SHOP_DATABASE", "host=db dbname=shop user=shop connect_timeout=3")


def connect():
    import psycopg2  # imported here so `probe` and `traffic` start fast

    return psycopg2.connect(DSN)


class Api(BaseHTTPRequestHandler):
    server_version = "shop/1.4"

    def do_GET(self):
        if self.path == "/healthz":
            self.with_database(lambda cur: (cur.execute("SELECT 1"), {"status": "ok"})[1])
        elif self.path.startswith("/api/orders"):
            self.with_database(recent_orders)
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path == "/api/orders":
            self.with_database(place_order, status=201)
        else:
            self.reply(404, {"error": "not found"})

    def with_database(self, work, status=200):
        try:
            with connect() as conn, conn.cursor() as cur:
                body = work(cur)
            conn.close()
        except Exception as err:  # the client gets a 503, the log gets the reason
            self.log_message("database error: %s", str(err).strip().splitlines()[0])
            self.reply(503, {"error": "database unavailable"})
            return
        self.reply(status, body)

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stdout.flush()


def recent_orders(cur):
    cur.execute(
        "SELECT id, customer_id, total_cents, status FROM orders ORDER BY created_at DESC LIMIT 20"
    )
    keys = ("id", "customer_id", "total_cents", "status")
    return [dict(zip(keys, row)) for row in cur.fetchall()]


def place_order(cur):
    cur.execute(
        "INSERT INTO orders (customer_id, total_cents) VALUES (%s, %s) RETURNING id",
        (random.randint(1, 5000), random.randint(500, 20000)),
    )
    return {"id": cur.fetchone()[0]}


def request(url, method="GET"):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def traffic(base):
    """About two requests a second; one summary line a minute."""
    sent, failed, started = 0, 0, time.monotonic()
    while True:
        method = "POST" if random.random() < 0.1 else "GET"
        status = request(base.rstrip("/") + "/api/orders", method)
        sent += 1
        failed += status is None or status >= 500
        if time.monotonic() - started >= 60:
            print(f"traffic: {sent} requests, {failed} failed", flush=True)
            sent, failed, started = 0, 0, time.monotonic()
        time.sleep(random.uniform(0.3, 0.7))


class Pager(BaseHTTPRequestHandler):
    """Logs every notification it receives: where it was sent, and what it says."""

    server_version = "pager/1.0"

    def do_POST(self):
        length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(length).decode("utf-8", "replace")
        try:
            message = json.loads(body)
            alerts = message.get("alerts") or []
            names = sorted({a.get("labels", {}).get("alertname", "?") for a in alerts})
            summary = f"{message.get('status', '?')}: {', '.join(names) or 'no alerts'}"
        except (ValueError, AttributeError):
            summary = body[:200]
        print(f"pager: {self.path} {summary}", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass  # one line per notification is printed by do_POST


def main(argv):
    if argv[1:2] == ["serve"]:
        ThreadingHTTPServer(("", 8000), Api).serve_forever()
    elif argv[1:2] == ["traffic"] and len(argv) == 3:
        traffic(argv[2])
    elif argv[1:2] == ["pager"]:
        ThreadingHTTPServer(("", 8080), Pager).serve_forever()
    elif argv[1:2] == ["probe"] and len(argv) == 3:
        return 0 if request(argv[2]) == 200 else 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
