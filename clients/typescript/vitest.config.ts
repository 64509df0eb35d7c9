import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests talk to real server nodes; unit tests run on fake time.
    testTimeout: 30_000,
  },
});
