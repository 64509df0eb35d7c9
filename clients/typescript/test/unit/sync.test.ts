// The sync client's state machine, with no network: a fake socket the test speaks for, a fake
// fetch, and vitest's fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { MemoryPendingStore, OpError, type SyncStatus } from "../../src/index.js";
import { ANA, BEN, event, FakeServer, FakeSocket, json, live, problem, settle, stateAt, syncClient } from "./fakes.js";

let server: FakeServer;

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.made = [];
  server = new FakeServer();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("connecting and resuming", () => {
  it("says hello with the head of the state it loaded, then takes replay and live events in order", async () => {
    server.head = 7;
    const ben = syncClient(server);
    const seen: number[] = [];
    ben.on("event", (e) => seen.push(e.seq));
    ben.start();
    await settle();
    const socket = FakeSocket.last();
    expect(socket.url).toBe("wss://twofold.test/v1/sync");
    socket.open();
    expect(socket.sent[0]).toEqual({ type: "hello", token: "access-1", after: 7 });

    socket.welcome(9);
    expect(ben.status).toBe("live");
    socket.frame(event(8));
    socket.frame(event(9)); // replay
    socket.frame(event(10)); // live
    expect(seen).toEqual([8, 9, 10]);
    expect(ben.head).toBe(10);
  });

  it("reloads the state once after a burst of events, not once per event", async () => {
    const ben = syncClient(server);
    await live(ben);
    const before = server.count("GET", "/v1/couple/state");
    server.head = 3;
    for (const seq of [1, 2, 3]) FakeSocket.last().frame(event(seq));
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(server.count("GET", "/v1/couple/state")).toBe(before + 1);
    expect(ben.state?.head).toBe(3);
  });

  it("shows a pause the moment its event arrives, and an earlier read of the state does not bring back none", async () => {
    const ben = syncClient(server);
    await live(ben);
    // A read of the state that the server answers from before the pause began.
    let answer: (r: Response) => void = () => {};
    server.routes.set("GET /v1/couple/state", () => new Promise<Response>((resolve) => (answer = resolve)));
    void ben.reload();
    await settle();
    const pause = { id: "p1", started_by: ANA, minutes: 30, note: null, state: "active" };
    FakeSocket.last().frame({ ...event(1, "pause.started"), body: pause });
    expect(ben.state?.pause).toEqual(pause); // no timer has run, no state was read
    expect(ben.state?.head).toBe(1);

    server.routes.set("GET /v1/couple/state", () => json(200, { ...stateAt(1), pause }));
    answer(json(200, stateAt(0)));
    await settle();
    expect(ben.state?.pause).toEqual(pause);

    FakeSocket.last().frame({ ...event(2, "pause.ended"), body: { ...pause, state: "ended" } });
    expect(ben.state?.pause).toBeNull();
  });

  it("ignores an event it already holds", async () => {
    const ben = syncClient(server);
    const seen: number[] = [];
    ben.on("event", (e) => seen.push(e.seq));
    const socket = await live(ben, 2);
    socket.frame(event(1));
    socket.frame(event(2));
    socket.frame(event(2));
    socket.frame(event(1));
    socket.frame(event(3));
    expect(seen).toEqual([1, 2, 3]);
    expect(FakeSocket.made).toHaveLength(1);
  });

  it("takes an event kind and a frame type only a newer server knows without failing", async () => {
    const ben = syncClient(server);
    const seen: string[] = [];
    ben.on("event", (e) => seen.push(e.kind));
    const socket = await live(ben);
    socket.frame(event(1, "pause.renoted"));
    socket.frame({ type: "goodbye" });
    socket.frame(event(2, "pause.ended"));
    expect(seen).toEqual(["pause.renoted", "pause.ended"]);
    expect(ben.head).toBe(2);
    expect(ben.status).toBe("live");
    expect(FakeSocket.made).toHaveLength(1);
  });

  it("drops the socket on a gap and resumes from the last seq it holds", async () => {
    const ben = syncClient(server);
    const seen: number[] = [];
    ben.on("event", (e) => seen.push(e.seq));
    const first = await live(ben, 5);
    first.frame(event(1));
    first.frame(event(3)); // 2 went missing
    expect(first.closedWith).toBe(4000);
    expect(ben.status).toBe("offline");
    await vi.advanceTimersByTimeAsync(500); // the first wait is at most `initial`
    await settle();
    const second = FakeSocket.last();
    expect(second).not.toBe(first);
    second.open();
    expect(second.sent[0]).toMatchObject({ type: "hello", after: 1 });
    second.welcome(5);
    for (const seq of [2, 3, 4, 5]) second.frame(event(seq));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("on reset takes the server's head and reloads the state", async () => {
    server.head = 3;
    const ben = syncClient(server, { head: 40 });
    ben.start();
    await settle();
    const socket = FakeSocket.last();
    socket.open();
    expect(socket.sent[0]).toMatchObject({ after: 40 });
    const loads = server.count("GET", "/v1/couple/state");
    socket.welcome(3);
    socket.frame({ type: "reset", head: 3 });
    await settle();
    expect(ben.head).toBe(3);
    expect(server.count("GET", "/v1/couple/state")).toBeGreaterThan(loads);
    expect(ben.state?.head).toBe(3);
    socket.frame(event(4));
    expect(ben.head).toBe(4);
  });
});

describe("reconnecting", () => {
  async function closeAndTime(code: number): Promise<number> {
    const before = FakeSocket.made.length;
    FakeSocket.last().serverCloses(code);
    let waited = 0;
    while (FakeSocket.made.length === before) {
      await vi.advanceTimersByTimeAsync(10);
      waited += 10;
      if (waited > 120_000) throw new Error("never reconnected");
    }
    return waited;
  }

  it("waits longer after each failed attempt, within the jitter's bounds, and never past the cap", async () => {
    for (const [random, low] of [
      [0, true],
      [0.999, false],
    ] as const) {
      FakeSocket.made = [];
      const ben = syncClient(server, { random: () => random });
      ben.start();
      await settle();
      const waits: number[] = [];
      for (let i = 0; i < 8; i++) waits.push(await closeAndTime(1006));
      ben.stop();
      // Steps are 500, 1000, 2000 ... capped at 30 s; a wait is between half a step and it.
      const steps = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];
      waits.forEach((wait, i) => {
        const step = steps[i] ?? 0;
        if (low) expect(wait).toBeLessThanOrEqual(step / 2 + 10);
        else expect(wait).toBeGreaterThanOrEqual(step * 0.99 - 10);
        expect(wait).toBeLessThanOrEqual(step + 10);
      });
    }
  });

  it("starts small again after a connection that stayed up", async () => {
    const ben = syncClient(server, { stableAfter: 10_000 });
    ben.start();
    await settle();
    for (let i = 0; i < 4; i++) await closeAndTime(1013); // waits grow to ~4 s
    FakeSocket.last().welcome(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await closeAndTime(1012)).toBeLessThanOrEqual(500);
  });

  it("keeps growing when each connection is welcomed and closed at once", async () => {
    const ben = syncClient(server);
    ben.start();
    await settle();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      FakeSocket.last().welcome(0);
      waits.push(await closeAndTime(1013));
    }
    expect(waits[3]).toBeGreaterThan(waits[0] ?? 0);
  });

  it("tries again after a connection that fails with an error and no close", async () => {
    const ben = syncClient(server);
    ben.start();
    await settle();
    FakeSocket.last().fails();
    expect(ben.status).toBe("offline");
    await vi.advanceTimersByTimeAsync(500);
    await settle();
    expect(FakeSocket.made).toHaveLength(2);
  });

  it("drops a connection that is not welcomed in time and tries again", async () => {
    const ben = syncClient(server, { welcomeTimeout: 5_000 });
    ben.start();
    await settle();
    FakeSocket.last().open(); // hello sent, nothing comes back
    await vi.advanceTimersByTimeAsync(4_900);
    expect(ben.status).toBe("connecting");
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.made[0]?.closedWith).toBe(4000);
    expect(ben.status).toBe("offline");
  });

  it("does not reconnect after 4403: the couple is unlinked", async () => {
    server.routes.set("GET /v1/couple/state", () => problem(404, "not_linked"));
    const ben = syncClient(server);
    const statuses: SyncStatus[] = [];
    ben.on("status", (s) => statuses.push(s));
    await live(ben);
    FakeSocket.last().frame(event(1, "couple.unlinked"));
    FakeSocket.last().serverCloses(4403);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(FakeSocket.made).toHaveLength(1);
    expect(ben.status).toBe("unlinked");
    expect(ben.state).toBeNull();
    expect(ben.head).toBe(0);
    expect(statuses.at(-1)).toBe("unlinked");
  });

  it("on 4401 refreshes the token once and reconnects with the new one; a second 4401 signs out", async () => {
    const ben = syncClient(server);
    ben.start();
    await settle();
    FakeSocket.last().serverCloses(4401);
    await settle();
    expect(server.refreshes).toBe(1);
    const second = FakeSocket.last();
    expect(FakeSocket.made).toHaveLength(2);
    second.open();
    expect(second.sent[0]).toMatchObject({ type: "hello", token: "access-2" });
    second.serverCloses(4401);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(server.refreshes).toBe(1);
    expect(FakeSocket.made).toHaveLength(2);
    expect(ben.status).toBe("signed_out");
  });

  it("after a 4401 whose refresh could not reach the server, tries the refresh again rather than sign out", async () => {
    const ben = syncClient(server);
    ben.start();
    await settle();
    const refresh = server.routes.get("POST /v1/sessions/refresh");
    server.routes.set("POST /v1/sessions/refresh", () => {
      throw new TypeError("fetch failed");
    });
    FakeSocket.last().serverCloses(4401);
    await settle();
    expect(ben.status).toBe("offline");
    if (refresh) server.routes.set("POST /v1/sessions/refresh", refresh);
    await vi.advanceTimersByTimeAsync(500);
    await settle();
    FakeSocket.last().serverCloses(4401); // the old token again: now the refresh works
    await settle();
    expect(server.refreshes).toBe(1);
    expect(ben.status).toBe("connecting");
    FakeSocket.last().welcome(0);
    expect(ben.status).toBe("live");
  });

  it("signs out when the refresh after a 4401 is refused (the session is over)", async () => {
    const ben = syncClient(server);
    ben.start();
    await settle();
    server.generation = 99; // our refresh token is no longer the session's
    FakeSocket.last().serverCloses(4401);
    await settle();
    expect(ben.status).toBe("signed_out");
    expect(FakeSocket.made).toHaveLength(1);
  });
});

describe("ops", () => {
  it("keeps an op until it is answered, sends it again after a reconnect, and forgets it on the ack", async () => {
    const pending = new MemoryPendingStore();
    const ben = syncClient(server, { pending });
    const first = await live(ben);
    const answer = ben.send("pause.start", { minutes: 20 });
    await settle();
    const [sent] = first.ops();
    expect(sent).toMatchObject({ type: "op", kind: "pause.start", body: { minutes: 20 } });
    expect(await pending.all()).toHaveLength(1);

    first.serverCloses(1006); // the ack never came
    await vi.advanceTimersByTimeAsync(500);
    await settle();
    const second = FakeSocket.last();
    second.welcome(1);
    await settle();
    expect(second.ops()).toEqual([sent]); // the same op_id
    second.frame({ type: "ack", op_id: sent?.op_id, seq: 1, result: { id: "p" } });
    await expect(answer).resolves.toEqual({ op_id: sent?.op_id, seq: 1, result: { id: "p" } });
    expect(await pending.all()).toEqual([]);
  });

  it("sends an op queued while offline once the socket is welcomed", async () => {
    const ben = syncClient(server);
    ben.start();
    await settle();
    void ben.send("reading.start", {});
    await settle();
    const socket = FakeSocket.last();
    socket.open();
    expect(socket.ops()).toEqual([]); // not before the welcome
    socket.welcome(0);
    await settle();
    expect(socket.ops()).toMatchObject([{ kind: "reading.start" }]);
  });

  it("sends a rate-limited op again after retry_after, not before", async () => {
    const ben = syncClient(server);
    const socket = await live(ben);
    void ben.send("pause.start", {});
    await settle();
    const opId = socket.ops()[0]?.op_id as string;
    socket.frame({ type: "error", op_id: opId, code: "rate_limited", detail: "slow down", retry_after: 3 });
    await vi.advanceTimersByTimeAsync(2_900);
    expect(socket.ops()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(socket.ops()).toHaveLength(2);
    expect(socket.ops()[1]?.op_id).toBe(opId);
  });

  it("rejects an op the server refuses and forgets it", async () => {
    const pending = new MemoryPendingStore();
    const ben = syncClient(server, { pending });
    const socket = await live(ben);
    const outcomes: unknown[] = [];
    ben.on("answer", (o) => outcomes.push(o));
    const answer = ben.send("pause.ack", { pause_id: "0190a000-0000-7000-8000-000000000001" });
    await settle();
    const opId = socket.ops()[0]?.op_id as string;
    socket.frame({ type: "error", op_id: opId, code: "not_allowed", detail: "not yours" });
    await expect(answer).rejects.toBeInstanceOf(OpError);
    expect(outcomes).toMatchObject([{ op_id: opId, error: { code: "not_allowed" } }]);
    await expect(answer).rejects.toMatchObject({ code: "not_allowed", opId });
    expect(await pending.all()).toEqual([]);
  });

  it("sends an op left pending by an earlier client on the same store", async () => {
    const pending = new MemoryPendingStore();
    await pending.put({ op_id: "0190a000-0000-7000-8000-0000000000aa", kind: "reading.start", body: {}, queued_at: 1 });
    const ben = syncClient(server, { pending });
    await live(ben);
    expect(FakeSocket.last().ops()).toMatchObject([{ op_id: "0190a000-0000-7000-8000-0000000000aa" }]);
  });
});

describe("liveness", () => {
  it("pings a quiet socket and drops one that stays silent", async () => {
    const ben = syncClient(server, { idlePing: 30_000 });
    const socket = await live(ben);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(socket.sent.filter((f) => f.type === "ping")).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(socket.sent.filter((f) => f.type === "ping")).toHaveLength(1);
    socket.frame({ type: "pong" }); // heard: quiet again from here
    await vi.advanceTimersByTimeAsync(40_000);
    expect(socket.closedWith).toBeNull();
    // Checked every half interval: dropped within 60 s + 15 s of the last frame.
    await vi.advanceTimersByTimeAsync(35_000);
    expect(socket.closedWith).toBe(4000);
    expect(FakeSocket.made).toHaveLength(2); // and it tried again
  });
});

describe("presence", () => {
  it("shows the partner online from the welcome and from presence frames about them only", async () => {
    const ben = syncClient(server);
    const seen: boolean[] = [];
    ben.on("presence", (online) => seen.push(online));
    const socket = await live(ben, 0, { partner_online: true });
    expect(ben.partnerOnline).toBe(true);
    socket.frame({ type: "presence", user_id: ANA, online: false });
    expect(ben.partnerOnline).toBe(false);
    socket.frame({ type: "presence", user_id: BEN, online: true }); // about Ben himself
    expect(ben.partnerOnline).toBe(false);
    socket.frame({ type: "presence", user_id: ANA, online: true });
    expect(seen).toEqual([true, false, true]);
  });

  it("takes the partner's presence from the state loaded after couple.linked", async () => {
    // Ana was online, unlinked, when Ben accepted her invite: no presence frame comes.
    const ben = syncClient(server);
    const seen: boolean[] = [];
    ben.on("presence", (online) => seen.push(online));
    const socket = await live(ben, 0, { partner_online: false });
    server.head = 1;
    server.routes.set("GET /v1/couple/state", () => json(200, { ...stateAt(1), partner_online: true }));
    socket.frame(event(1, "couple.linked"));
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(ben.partnerOnline).toBe(true);
    // From then on presence frames say, and a later state does not undo one.
    socket.frame({ type: "presence", user_id: ANA, online: false });
    socket.frame(event(2));
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(ben.partnerOnline).toBe(false);
    expect(seen).toEqual([true, false]);
  });
});

describe("tokens", () => {
  it("refreshes the access token a quarter of its life before it expires, by the time it was received", async () => {
    server.expiresIn = 8; // short-lived: the margin is 2 s
    const ben = syncClient(server);
    ben.start();
    await settle();
    await vi.advanceTimersByTimeAsync(5_900);
    expect(server.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    await settle();
    expect(server.refreshes).toBe(1);
    // And again, counted from the new tokens' receipt.
    await vi.advanceTimersByTimeAsync(6_100);
    await settle();
    expect(server.refreshes).toBe(2);
  });

  it("refreshes a minute before expiry for a token of the usual 15 minutes", async () => {
    const ben = syncClient(server);
    ben.start();
    await settle();
    await vi.advanceTimersByTimeAsync(13 * 60_000 + 59_000);
    expect(server.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    await settle();
    expect(server.refreshes).toBe(1);
  });

  it("stops when it is stopped: no socket, no refresh", async () => {
    server.expiresIn = 8;
    const ben = syncClient(server);
    ben.start();
    await settle();
    ben.stop();
    expect(FakeSocket.last().closedWith).toBe(1000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.refreshes).toBe(0);
    expect(FakeSocket.made).toHaveLength(1);
    expect(ben.status).toBe("idle");
  });
});
