// Tokens against a node whose access tokens live 3 seconds, on the real clock: the client
// refreshes before they expire, and answers a refused token with one refresh.
import { afterEach, describe, expect, it } from "vitest";

import { Api, type SyncClient } from "../../src/index.js";
import { device, eventually, link, Network, SHORT_TOKENS, signUp } from "./people.js";

const running: SyncClient[] = [];
afterEach(() => {
  for (const sync of running.splice(0)) sync.stop();
});

/** fetch that remembers each call's path and status. */
function recording(): { fetch: typeof fetch; calls: { path: string; status: number }[] } {
  const calls: { path: string; status: number }[] = [];
  return {
    calls,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      calls.push({ path: new URL(String(input)).pathname, status: response.status });
      return response;
    },
  };
}

describe("tokens", () => {
  it("Ben's phone refreshes each 3-second token before it expires and keeps working past them", async () => {
    const ana = await signUp("Ana", SHORT_TOKENS);
    const wire = recording();
    const ben = await signUp("Ben", SHORT_TOKENS, wire.fetch);
    await link(ana, ben);
    const firstExpiry = (await ben.api.currentTokens())?.expires_at ?? 0;
    const refreshedAt: number[] = [];
    ben.api.onTokens((tokens) => {
      if (tokens) refreshedAt.push(Date.now());
    });
    const network = new Network();
    const benPhone = device(ben, { WebSocket: network.WebSocket });
    running.push(benPhone);
    benPhone.start();
    await eventually(benPhone, () => benPhone.status === "live", "Ben is live");

    // Two refreshes: the second one happens after the first token's expiry.
    await eventually(benPhone, () => refreshedAt.length >= 2, "two refreshes", { ms: 20_000, api: ben.api });
    expect(refreshedAt[0]).toBeLessThan(firstExpiry);
    expect(Date.now()).toBeGreaterThan(firstExpiry);

    // A new socket says hello with a current token, and HTTP calls go through.
    network.drop();
    await eventually(benPhone, () => benPhone.status !== "live", "Ben's socket closed");
    await eventually(benPhone, () => benPhone.status === "live", "Ben is live again");
    const anaPhone = device(ana);
    running.push(anaPhone);
    anaPhone.start();
    await eventually(anaPhone, () => anaPhone.status === "live", "Ana is live");
    await anaPhone.send("pause.start", {});
    await eventually(benPhone, () => benPhone.state?.pause?.state === "active", "Ben's state shows Ana's pause");
    expect(wire.calls.filter((c) => c.status === 401)).toEqual([]);
  });

  it("a refused access token is answered by one refresh and the call goes through", async () => {
    const wire = recording();
    const ben = await signUp("Ben", SHORT_TOKENS, wire.fetch);
    const held = await ben.api.currentTokens();
    if (!held) throw new Error("signed up without tokens");
    // The app restarts with a stored access token the server no longer takes, though it
    // looks fresh to the device.
    ben.store.save({ ...held, access_token: `${held.access_token}x`, expires_at: Date.now() + 600_000 });
    const restarted = new Api({ baseUrl: SHORT_TOKENS, tokens: ben.store, fetch: wire.fetch });
    wire.calls.length = 0;
    const me = await restarted.me();
    expect(me.id).toBe(ben.user.id);
    expect(wire.calls).toEqual([
      { path: "/v1/me", status: 401 },
      { path: "/v1/sessions/refresh", status: 200 },
      { path: "/v1/me", status: 200 },
    ]);
  });

  it("when Ben changes his password on his laptop, his phone's socket closes and the phone is signed out", async () => {
    const ben = await signUp("Ben", SHORT_TOKENS);
    const email = ben.user.email;
    const benPhone = device(ben);
    running.push(benPhone);
    benPhone.start();
    await eventually(benPhone, () => benPhone.status === "live", "Ben's phone is live");

    const laptop = new Api({ baseUrl: SHORT_TOKENS });
    await laptop.signIn({ email, password: "correct horse battery staple" });
    await laptop.changePassword({ current_password: "correct horse battery staple", new_password: "a brand new passphrase" });

    // 4401, one refresh (refused: the session is over), and no reconnecting after it.
    await eventually(benPhone, () => benPhone.status === "signed_out", "Ben's phone is signed out");
    expect(await ben.api.currentTokens()).toBeNull();
  });
});
