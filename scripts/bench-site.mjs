// Load benchmark of the candidate site against an mdBook build of the same README.
//
// Usage (scripts/bench-site installs the tools and calls this):
//   node scripts/bench-site.mjs --dist dist --content content --mdbook .tools/bin/mdbook [--runs 10]
//
// For each profile (loopback; throttled: 40 ms latency, 10 Mbit/s down, 10 Mbit/s up) and each
// page (the main README, which is the largest; the largest topic README), it loads the site's page and the
// mdBook page `runs` times each, alternating, in headless Chromium driven over the DevTools
// protocol with the cache disabled, and reports the median time from navigation start to the
// first heading on screen (the first h1/h2 with text is in the DOM, then a frame is rendered,
// which waits for render-blocking CSS). Both are served by the same gzip-compressing static
// server (level 6, what nginx's gzip and most CDNs do), one port each. Also reported: bytes on
// the wire (images excluded), and for the site the time until its app has taken over the
// prerendered page (wasm started) and, on a topic page, the time until an answer typed as soon as
// its editor appears is saved (in the browser: no server here); the site's bytes are then what
// reading the topic and typing an answer downloads (reading app, editing app).

import { createServer } from "node:http";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const dist = resolve(args.dist ?? "dist");
const content = resolve(args.content ?? "content");
const mdbook = args.mdbook ?? "mdbook";
const runs = Number(args.runs ?? 10);
const tools = resolve(args.tools ?? ".tools");
const require = createRequire(join(tools, "node_modules", "x.js"));
const { chromium } = require("playwright-core");

const PROFILES = [
  { name: "loopback", conditions: null },
  // 10 Mbit/s = 1 250 000 bytes/s.
  { name: "throttled (40 ms, 10 Mbit/s)", conditions: { offline: false, latency: 40, downloadThroughput: 1250000, uploadThroughput: 1250000 } },
];

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json", ".svg": "image/svg+xml",
  ".png": "image/png", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".txt": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8", ".sql": "text/plain; charset=utf-8", ".zip": "application/zip",
};
const COMPRESSIBLE = /^(text\/|application\/(wasm|json|javascript)|image\/svg)/;

// A static server that gzips compressible files (cached after the first request) and answers a
// folder with its index.html.
function serve(root) {
  const cache = new Map();
  const server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let file = join(root, path);
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file)) { res.writeHead(404).end("not found"); return; }
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    const gzip = COMPRESSIBLE.test(type) && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "");
    let body = readFileSync(file);
    const headers = { "content-type": type, "cache-control": "no-cache" };
    if (gzip) {
      if (!cache.has(file)) cache.set(file, gzipSync(body, { level: 6 }));
      body = cache.get(file);
      headers["content-encoding"] = "gzip";
      headers["vary"] = "accept-encoding";
    }
    headers["content-length"] = body.length;
    res.writeHead(200, headers).end(body);
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

// The largest topic README of the challenge (content path), by bytes; the main README is
// measured anyway.
function largestReadme() {
  const found = [];
  const walk = (dir, rel) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(dir, entry.name), path);
      else if (entry.name === "README.md" && rel) found.push([statSync(join(dir, entry.name)).size, path]);
    }
  };
  walk(content, "");
  found.sort((a, b) => b[0] - a[0]);
  return found[0][1];
}

// The site route whose page shows a README (content path), from the manifest.
function siteRoute(readme) {
  if (readme === "README.md") return "/";
  const manifest = JSON.parse(readFileSync(join(dist, "challenge/manifest.json"), "utf8"));
  const topic = manifest.topic.find((t) => t.readme === readme);
  if (!topic) throw new Error(`no topic shows ${readme} as its whole page`);
  return `/topic/${topic.id}/`;
}

// An mdBook of the challenge: the main README as its first page, the largest README as a
// chapter, every other content file next to them (so images and links resolve).
function buildBook(largest) {
  const dir = mkdtempSync(join(tmpdir(), "bench-mdbook-"));
  const src = join(dir, "src");
  mkdirSync(src);
  cpSync(content, src, { recursive: true });
  writeFileSync(join(dir, "book.toml"), '[book]\ntitle = "SRE Challenge"\nsrc = "src"\n');
  writeFileSync(join(src, "SUMMARY.md"), `# Summary\n\n[SRE Challenge](README.md)\n\n- [${largest}](${largest})\n`);
  execFileSync(mdbook, ["build", dir], { stdio: ["ignore", "ignore", "inherit"] });
  return { dir, out: join(dir, "book") };
}

// The mdBook path of a README: README.md → index.html.
function bookRoute(readme) {
  return "/" + readme.replace(/README\.md$/, "index.html");
}

const FIRST_HEADING = `(() => {
  let found = false;
  const check = () => {
    if (found) return;
    const heading = document.querySelector("h1, h2");
    if (heading && heading.textContent.trim()) {
      found = true;
      observer.disconnect();
      requestAnimationFrame(() => { window.__firstHeading = performance.now(); });
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true });
})();`;

async function measure(browser, url, conditions, isSite, typeAnswer) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(FIRST_HEADING);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  if (conditions) await cdp.send("Network.emulateNetworkConditions", conditions);
  const types = new Map();
  let bytes = 0;
  cdp.on("Network.responseReceived", (e) => types.set(e.requestId, e.type));
  cdp.on("Network.loadingFinished", (e) => { if (types.get(e.requestId) !== "Image") bytes += e.encodedDataLength; });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.__firstHeading !== undefined, null, { timeout: 30000 });
  const heading = await page.evaluate(() => window.__firstHeading);
  let app = null;
  if (isSite) {
    await page.waitForFunction(() => !document.getElementById("prerendered") && document.getElementById("main"), null, { timeout: 30000 });
    app = await page.evaluate(() => performance.now());
  }
  let saved = null;
  if (typeAnswer) {
    await page.waitForSelector("textarea", { timeout: 60000 });
    await page.type("textarea", " x");
    await page.waitForFunction(() => {
      const box = document.querySelector("textarea");
      const status = box?.closest("section, div")?.querySelector("[role=status]") ?? document.querySelector("span[role=status]");
      return box.value.endsWith(" x") && status && status.textContent.startsWith("Saved in this browser");
    }, null, { timeout: 60000 });
    saved = await page.evaluate(() => performance.now());
  }
  await context.close();
  return { heading, bytes, app, saved };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const largest = largestReadme();
  const book = buildBook(largest);
  const siteServer = await serve(dist);
  const bookServer = await serve(book.out);
  const siteUrl = `http://127.0.0.1:${siteServer.address().port}`;
  const bookUrl = `http://127.0.0.1:${bookServer.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
  const pages = [["README.md", "main README"], [largest, `largest topic README (${largest})`]];
  console.log(`median of ${runs} loads, cache disabled, gzip responses; site ${siteUrl}, mdBook ${mdbook}`);
  console.log("profile | page | site first heading | mdBook first heading | ratio | site app ready | site answer saved | site bytes | mdBook bytes");
  try {
    for (const profile of PROFILES) {
      for (const [readme, label] of pages) {
        const site = [], mdb = [];
        // Warm-up (server gzip cache, Chromium's first start), not counted.
        const typeAnswer = readme !== "README.md";
        await measure(browser, siteUrl + siteRoute(readme), profile.conditions, true, typeAnswer);
        await measure(browser, bookUrl + bookRoute(readme), profile.conditions, false, false);
        for (let i = 0; i < runs; i++) {
          site.push(await measure(browser, siteUrl + siteRoute(readme), profile.conditions, true, typeAnswer));
          mdb.push(await measure(browser, bookUrl + bookRoute(readme), profile.conditions, false, false));
        }
        const s = median(site.map((r) => r.heading));
        const b = median(mdb.map((r) => r.heading));
        const appReady = median(site.map((r) => r.app));
        const saved = typeAnswer ? `${median(site.map((r) => r.saved)).toFixed(0)} ms` : "-";
        console.log(`${profile.name} | ${label} | ${s.toFixed(0)} ms | ${b.toFixed(0)} ms | ${(s / b).toFixed(2)}x | ${appReady.toFixed(0)} ms | ${saved} | ${(median(site.map((r) => r.bytes)) / 1024).toFixed(1)} KiB | ${(median(mdb.map((r) => r.bytes)) / 1024).toFixed(1)} KiB`);
      }
    }
  } finally {
    await browser.close();
    siteServer.close();
    bookServer.close();
    rmSync(book.dir, { recursive: true, force: true });
  }
}

await main();
