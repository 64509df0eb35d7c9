import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Node 20 has WebSocket behind a flag (22 has it on); the integration tests use the
    // platform's, as an app would, rather than a library's.
    execArgv: typeof WebSocket === "undefined" ? ["--experimental-websocket"] : [],
    // The integration files share two real nodes on a small machine: one file at a time.
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
