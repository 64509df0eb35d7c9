// src/schema.ts is generated from docs/openapi.json; regenerating must change nothing, so
// the types cannot drift from the server's published contract.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

it("src/schema.ts is what npm run generate writes from docs/openapi.json", () => {
  const out = join(mkdtempSync(join(tmpdir(), "twofold-schema-")), "schema.ts");
  const cli = join(root, "node_modules", ".bin", "openapi-typescript");
  // The options of `npm run generate`.
  execFileSync(cli, [join(root, "..", "..", "docs", "openapi.json"), "--enum-values", "--output", out], {
    stdio: "pipe",
  });
  const committed = readFileSync(join(root, "src", "schema.ts"), "utf8");
  expect(readFileSync(out, "utf8"), "src/schema.ts is stale: run `npm run generate`").toBe(committed);
});
