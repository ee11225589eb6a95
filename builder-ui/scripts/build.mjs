// Builds what Frontdesk embeds (builder-ui/dist, served by package web):
//   dist/widget.js            the loader (an IIFE, a stable name: sites embed it)
//   dist/widget/frame.html    the chat frame, with dist/widget/assets/*
//   dist/app/index.html       the admin app, with dist/app/assets/*
// then checks the size budget (scripts/size.mjs).
//
// `node scripts/build.mjs --check` builds into a temporary directory and
// fails when the result differs from dist/: the committed bundle is stale.
import { build } from "vite";
import react from "@vitejs/plugin-react";
import { rmSync, mkdirSync, writeFileSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { checkBudget } from "./size.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const check = process.argv.includes("--check");
const committed = resolve(root, "dist");
const dist = check ? mkdtempSync(join(tmpdir(), "fd-ui-dist-")) : committed;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = { root, configFile: false, logLevel: "warn", base: "/" };

// The chat frame: vanilla TypeScript, no framework (the budget is 60 kB).
await build({
  ...common,
  build: {
    outDir: dist,
    emptyOutDir: false,
    assetsDir: "widget/assets",
    modulePreload: false,
    target: "es2019",
    rollupOptions: { input: { frame: resolve(root, "widget/frame.html") } },
  },
});

// The loader: one small classic script.
await build({
  ...common,
  build: {
    outDir: dist,
    emptyOutDir: false,
    target: "es2018",
    minify: true,
    lib: { entry: resolve(root, "src/widget/loader.ts"), formats: ["iife"], name: "FrontdeskLoader", fileName: () => "widget.js" },
  },
});

// The admin app.
await build({
  ...common,
  plugins: [react()],
  build: {
    outDir: dist,
    emptyOutDir: false,
    assetsDir: "app/assets",
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { app: resolve(root, "app/index.html") } },
  },
});

// Go embeds dist; a file starting with "." or "_" would need all:, so none do.
writeFileSync(resolve(dist, "README.txt"), "Built by `make ui-build` (builder-ui/scripts/build.mjs). Do not edit; commit it so `go run` works without Node.\n");
let ok = checkBudget(dist, true);
if (check) {
  const list = (d) =>
    readdirSync(d, { recursive: true })
      .map(String)
      .filter((f) => statSync(join(d, f)).isFile())
      .sort();
  const want = list(dist);
  const have = list(committed);
  const stale = [...new Set([...want, ...have])].filter(
    (f) => !want.includes(f) || !have.includes(f) || !readFileSync(join(dist, f)).equals(readFileSync(join(committed, f))),
  );
  if (stale.length) {
    console.error("builder-ui/dist is not the build of the sources; run `make ui-build` and commit it. Differs: " + stale.join(", "));
    ok = false;
  } else {
    console.log("builder-ui/dist matches the sources");
  }
  rmSync(dist, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
