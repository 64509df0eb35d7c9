import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The client is imported from its source, so the app never waits on a client build.
const client = fileURLToPath(new URL("../clients/typescript/src/index.ts", import.meta.url));

const proxy = {
  "/v1": { target: process.env.TWOFOLD_URL ?? "http://127.0.0.1:8000", ws: true },
};

export default defineConfig({
  resolve: { alias: { "@twofold/client": client } },
  // Preact's automatic JSX runtime, without a plugin: Vite's own transformer does it.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { target: "es2022", sourcemap: true },
  // `npm run dev` (and `vite preview`) against a node, by default `make run`'s on :8000; the
  // built app is served by the node itself.
  server: { proxy },
  preview: { proxy },
});
