// The browser tests' harness: the real server binary on a temp database and
// a free port, a static "customer site" on another origin that embeds the
// widget, an owner API client, and Chromium through playwright-core.
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { request } from "node:http";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const repo = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const artifacts = join(repo, "artifacts", "ui");
mkdirSync(artifacts, { recursive: true });

export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

/** freePort asks the kernel for an unused port. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

let built = "";
/** binary builds ./cmd/frontdesk once per run (FRONTDESK_BIN skips it). */
export function binary() {
  if (process.env.FRONTDESK_BIN) return process.env.FRONTDESK_BIN;
  if (!built) {
    const dir = mkdtempSync(join(tmpdir(), "fd-ui-bin-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, "frontdesk");
    execFileSync("go", ["build", "-o", out, "./cmd/frontdesk"], { cwd: repo, stdio: "inherit" });
    built = out;
  }
  return built;
}

/** Server is a `frontdesk --demo` process that can be stopped and started
 * again on the same port and database (a restart, a network drop). */
export class Server {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "fd-ui-db-"));
    this.log = "";
  }
  async start() {
    if (!this.port) this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const env = { ...process.env, FRONTDESK_DATABASE_URL: "sqlite:" + join(this.dir, "fd.db") };
    delete env.FRONTDESK_REDIS_URL;
    delete env.FRONTDESK_PUBLIC_URL;
    delete env.FRONTDESK_ADDR;
    this.proc = spawn(binary(), ["--demo", "--addr", "127.0.0.1:" + this.port], { env, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.exited = exited;
    this.proc.stdout.on("data", (d) => (this.log += d));
    this.proc.stderr.on("data", (d) => (this.log += d));
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const r = await fetch(this.url + "/readyz");
        if (r.ok) break;
      } catch {
        // not up yet
      }
      if (this.proc.exitCode !== null || Date.now() > deadline) throw new Error("frontdesk did not start:\n" + this.log);
      await sleep(100);
    }
    const m = /data-channel="([^"]+)"/.exec(this.log);
    if (!m) throw new Error("no channel key in the demo output:\n" + this.log);
    this.key = m[1];
    return this;
  }
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill("SIGTERM");
    await Promise.race([this.exited, sleep(10_000)]);
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Owner is an API client signed in as the demo owner. */
export class Owner {
  constructor(base) {
    this.base = base;
  }
  async login() {
    const r = await fetch(this.base + "/api/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "admin@demo.frontdesk.test", password: "frontdesk-demo" }),
    });
    if (!r.ok) throw new Error("login: " + r.status + " " + (await r.text()));
    this.cookie = r.headers.get("set-cookie").split(";")[0];
    this.csrf = (await r.json()).csrf_token;
    return this;
  }
  async call(method, path, body) {
    const r = await fetch(this.base + "/api/v1" + path, {
      method,
      headers: { Cookie: this.cookie, "X-CSRF-Token": this.csrf, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  /** allowOrigin adds an origin to the channel of key. */
  async allowOrigin(key, origin) {
    const { channels } = await this.call("GET", "/channels");
    const ch = channels.find((c) => c.public_key === key);
    const origins = [...new Set([...(ch.allowed_origins || []), origin])];
    return this.call("PATCH", "/channels/" + ch.id, { allowed_origins: origins });
  }
}

/** hostSite serves a customer's page that embeds the widget, on its own
 * origin (http://localhost:PORT while Frontdesk is http://127.0.0.1:PORT:
 * another site, so the frame is a third-party frame). */
export async function hostSite(frontdeskURL, key, opts = {}) {
  const port = await freePort();
  const host = opts.host || "localhost";
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme shop</title>
<style>body{font:16px system-ui;margin:0;padding:24px;background:#fafafa}h1{margin:0 0 8px}</style>
<script>
  window.__fd = [];
  window.Frontdesk = { q: [["setVariables", { plan: "pro" }], ["on", "message", function (m) { window.__fd.push(["message", m]); }], ["on", "open", function () { window.__fd.push(["open"]); }], ["on", "close", function () { window.__fd.push(["close"]); }]] };
</script>
</head><body>
<h1>Acme shop</h1><p>A customer's page on another origin, with the Frontdesk snippet.</p>
<button id="open" onclick="Frontdesk.open()">Chat with us</button>
<script src="${opts.widgetURL || frontdeskURL + "/widget.js"}" data-channel="${key}" async></script>
</body></html>`;
  const srv = createServer((req, res) => {
    if (req.url === "/" || req.url.startsWith("/?")) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(opts.page ? opts.page(frontdeskURL, key) : page);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => srv.listen(port, "127.0.0.1", r));
  return { origin: `http://${host}:${port}`, url: `http://${host}:${port}/`, close: () => new Promise((r) => srv.close(r)) };
}

/** browser launches Debian's Chromium. playwright-core gives it a fresh
 * temporary profile (--user-data-dir) and removes it on close; every test
 * opens its own context, with its own storage. */
export async function browser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** upgradeStatus tries a websocket upgrade and returns the HTTP status
 * (101 when accepted), without speaking websocket after it. */
export function upgradeStatus(url, headers = {}) {
  return new Promise((ok, fail) => {
    const req = request(url, {
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      ok(101);
    });
    req.on("response", (res) => {
      res.resume();
      ok(res.statusCode);
    });
    req.on("error", fail);
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.end();
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, name + ".png") });
}
