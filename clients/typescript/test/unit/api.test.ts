// HTTP with tokens: the bearer, one refresh for a 401, one refresh for many callers.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { Api, ApiError, MemoryDeviceSecretStore, MemoryTokenStore, type SignUp } from "../../src/index.js";
import { FakeServer, json, problem, signedInApi } from "./fakes.js";

let server: FakeServer;

beforeEach(() => {
  vi.useFakeTimers();
  server = new FakeServer();
  // /v1/me answers only the current generation's access token.
  server.routes.set("GET /v1/me", (_body, headers) =>
    headers.get("authorization") === `Bearer access-${server.generation}`
      ? json(200, { id: "ben" })
      : problem(401, "unauthorized"),
  );
});

afterEach(() => {
  vi.useRealTimers();
});

describe("Api", () => {
  it("answers a 401 with one refresh and one retry", async () => {
    const api = signedInApi(server);
    server.generation = 2; // the server moved on: our access token is refused...
    server.routes.set("POST /v1/sessions/refresh", () => json(200, { tokens: { access_token: "access-2", refresh_token: "refresh-3", expires_in: 900 } }));
    await expect(api.me()).resolves.toEqual({ id: "ben" });
    expect(server.count("POST", "/v1/sessions/refresh")).toBe(1);
    expect(server.calls.map((c) => c.auth)).toEqual(["Bearer access-1", null, "Bearer access-2"]);
  });

  it("gives up after one refresh when the retry is refused too", async () => {
    const api = signedInApi(server);
    server.routes.set("GET /v1/me", () => problem(401, "unauthorized"));
    const error = await api.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("unauthorized");
    expect(server.count("POST", "/v1/sessions/refresh")).toBe(1);
    expect(server.count("GET", "/v1/me")).toBe(2);
  });

  it("refreshes once for many calls that find the token expiring", async () => {
    const api = signedInApi(server);
    vi.setSystemTime(Date.now() + 890_000); // 10 s left: within the minute's margin
    await Promise.all([api.me(), api.me(), api.me()]);
    expect(server.refreshes).toBe(1);
    expect(server.calls.filter((c) => c.path === "/v1/me").every((c) => c.auth === "Bearer access-2")).toBe(true);
  });

  it("forgets the tokens when the refresh says the session is over", async () => {
    const store = new MemoryTokenStore({ ...server.tokens(), expires_at: Date.now() + 1000 });
    const api = new Api({ baseUrl: "https://twofold.test", fetch: server.fetch, tokens: store });
    server.generation = 5; // another device spent our refresh token: the session was revoked
    const told: unknown[] = [];
    api.onTokens((t) => told.push(t));
    await expect(api.me()).rejects.toMatchObject({ status: 401 });
    expect(store.load()).toBeNull();
    expect(told).toEqual([null]);
  });

  it("uses tokens another tab stored rather than spend a refresh token twice", async () => {
    const store = new MemoryTokenStore({ ...server.tokens(), expires_at: Date.now() + 10_000 });
    const api = new Api({ baseUrl: "https://twofold.test", fetch: server.fetch, tokens: store });
    await api.currentTokens();
    // The other tab refreshed: generation 2 is in the shared store.
    server.generation = 2;
    store.save({ ...server.tokens(), expires_at: Date.now() + 900_000 });
    await api.me();
    expect(server.refreshes).toBe(0);
    expect(server.calls.at(-1)?.auth).toBe("Bearer access-2");
  });

  it("signs up in two steps and keeps the tokens only once the code made the account", async () => {
    const store = new MemoryTokenStore();
    const api = new Api({ baseUrl: "https://twofold.test", fetch: server.fetch, tokens: store });
    server.routes.set("POST /v1/accounts", () => new Response(null, { status: 202 }));
    server.routes.set("POST /v1/accounts/confirm", (body) =>
      (body as { code: string }).code === "ABCD-EFGH-JKMN"
        ? json(201, { user: { id: "ana", email: "ana@example.org" }, tokens: server.tokens(), device_secret: "s1" })
        : problem(400, "code_invalid"),
    );
    const fields: SignUp = { email: "ana@example.org", password: "a long password", display_name: "Ana", timezone: "UTC" };
    await expect(api.askSignUp(fields)).resolves.toBeUndefined();
    expect(await api.signedIn()).toBe(false);
    await expect(api.confirmSignUp({ ...fields, code: "WRONG" })).rejects.toMatchObject({ status: 400, code: "code_invalid" });
    expect(await api.signedIn()).toBe(false);
    await expect(api.confirmSignUp({ ...fields, code: "ABCD-EFGH-JKMN" })).resolves.toEqual({ id: "ana", email: "ana@example.org" });
    expect(store.load()?.access_token).toBe("access-1");
    expect(server.calls.map((c) => [c.path, c.auth])).toEqual([
      ["/v1/accounts", null],
      ["/v1/accounts/confirm", null],
      ["/v1/accounts/confirm", null],
    ]);
  });

  it("reads Retry-After into the error", async () => {
    const api = signedInApi(server);
    server.routes.set("GET /v1/me", () => problem(429, "rate_limited", { "retry-after": "7" }));
    await expect(api.me()).rejects.toMatchObject({ status: 429, code: "rate_limited", retryAfter: 7 });
  });

  it("stores the expiry by this device's clock at receipt, not the token's own", async () => {
    const store = new MemoryTokenStore();
    const api = new Api({ baseUrl: "https://twofold.test/", fetch: server.fetch, tokens: store, now: () => 1_000_000 });
    server.routes.set("POST /v1/sessions", () =>
      json(200, { user: { id: "ben", email: "ben@example.org" }, tokens: server.tokens(), device_secret: "s" }),
    );
    await api.signIn({ email: "ben@example.org", password: "correct horse battery" });
    expect(store.load()?.expires_at).toBe(1_000_000 + 900_000);
    expect(server.calls[0]?.path).toBe("/v1/sessions");
  });

  it("sends each account's device secret with its next sign-in and reset, and keeps the new one", async () => {
    const secrets = new MemoryDeviceSecretStore();
    const api = new Api({ baseUrl: "https://twofold.test", fetch: server.fetch, deviceSecrets: secrets });
    let issued = 0;
    server.routes.set("POST /v1/sessions", (body) => {
      const email = (body as { email: string }).email.toLowerCase();
      return json(200, { user: { id: email, email }, tokens: server.tokens(), device_secret: `secret-${++issued}` });
    });
    server.routes.set("POST /v1/password-resets/confirm", () => new Response(null, { status: 204 }));
    const password = "correct horse battery";
    await api.signIn({ email: "Ben@Example.org", password });
    await api.signIn({ email: "ben@example.org ", password });
    await api.signIn({ email: "ana@example.org", password });
    await api.confirmPasswordReset({ email: "BEN@example.org", code: "ABCD-EFGH", new_password: "a new passphrase" });
    const sent = server.calls.map((c) => (c.body as { device_secret?: string }).device_secret);
    expect(sent).toEqual([undefined, "secret-1", undefined, "secret-2"]);
    expect(secrets.load("ben@example.org")).toBe("secret-2");
    expect(secrets.load("ana@example.org")).toBe("secret-3");
  });
});
