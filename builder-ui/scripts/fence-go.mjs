// Some npm packages ship .go files (flatted does). A go.mod in node_modules
// makes it a module of its own, so `go vet ./...` and `go test ./...` in the
// Frontdesk module skip it.
import { writeFileSync, existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
const dir = fileURLToPath(new URL("../node_modules/", import.meta.url));
if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
writeFileSync(dir + "go.mod", "// Written by scripts/fence-go.mjs: keeps node_modules out of the Go module.\nmodule frontdesk.invalid/node_modules\n");
