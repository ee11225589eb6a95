// The widget's size budget, gzipped: the loader under 5 kB, the chat frame
// (its HTML, scripts and styles) under 60 kB. web/web_test.go checks the
// same numbers on the embedded files.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const LoaderBudget = 5 * 1024;
export const FrameBudget = 60 * 1024;

const gz = (p) => gzipSync(readFileSync(p), { level: 9 }).length;

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

export function measure(dist) {
  const loader = gz(join(dist, "widget.js"));
  const frameFiles = [join(dist, "widget/frame.html"), ...files(join(dist, "widget/assets"))];
  const frame = frameFiles.reduce((n, p) => n + gz(p), 0);
  const appFiles = files(join(dist, "app"));
  const app = appFiles.reduce((n, p) => n + gz(p), 0);
  return { loader, frame, app };
}

export function checkBudget(dist, print) {
  const m = measure(dist);
  const kb = (n) => (n / 1024).toFixed(1) + " kB";
  if (print) {
    console.log(`gzipped: loader ${kb(m.loader)} (budget ${kb(LoaderBudget)}), chat frame ${kb(m.frame)} (budget ${kb(FrameBudget)}), admin app ${kb(m.app)}`);
  }
  let ok = true;
  if (m.loader > LoaderBudget) {
    console.error(`widget.js is ${kb(m.loader)} gzipped; the budget is ${kb(LoaderBudget)}`);
    ok = false;
  }
  if (m.frame > FrameBudget) {
    console.error(`the chat frame is ${kb(m.frame)} gzipped; the budget is ${kb(FrameBudget)}`);
    ok = false;
  }
  return ok;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(checkBudget(fileURLToPath(new URL("../dist", import.meta.url)), true) ? 0 : 1);
}
