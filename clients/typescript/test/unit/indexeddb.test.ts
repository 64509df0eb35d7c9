// The browser's pending-op store. Node has no IndexedDB: fake-indexeddb implements the spec
// in memory, so the same code a browser runs is exercised here.
import "fake-indexeddb/auto";

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { IndexedDbPendingStore, type PendingOp } from "../../src/index.js";
import { FakeServer, FakeSocket, settle, syncClient } from "./fakes.js";

const op = (n: number, queued_at: number): PendingOp => ({
  op_id: `0190a000-0000-7000-8000-0000000000${String(n).padStart(2, "0")}`,
  kind: "reading.start",
  body: {},
  queued_at,
});

let name = "";
beforeEach(() => {
  name = `twofold:test-${Math.random()}`;
});

describe("IndexedDbPendingStore", () => {
  it("keeps ops across instances (a reload), oldest first, until deleted", async () => {
    const first = new IndexedDbPendingStore(name);
    await first.put(op(2, 200));
    await first.put(op(1, 100));
    await first.close();

    const afterReload = new IndexedDbPendingStore(name);
    expect((await afterReload.all()).map((o) => o.queued_at)).toEqual([100, 200]);
    await afterReload.delete(op(1, 100).op_id);
    expect((await afterReload.all()).map((o) => o.op_id)).toEqual([op(2, 200).op_id]);
    await afterReload.close();
  });

  describe("with a sync client", () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
      FakeSocket.made = [];
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("an op pending when the page went away is sent by the next client on the same store", async () => {
      const server = new FakeServer();
      const before = syncClient(server, { pending: new IndexedDbPendingStore(name) });
      before.start();
      await settle();
      void before.send("reading.start", {});
      await vi.waitFor(async () => expect(await new IndexedDbPendingStore(name).all()).toHaveLength(1));
      before.stop(); // the reload: the op was never sent

      const after = syncClient(server, { pending: new IndexedDbPendingStore(name) });
      after.start();
      await settle();
      FakeSocket.last().welcome(0);
      await vi.waitFor(() => expect(FakeSocket.last().ops()).toMatchObject([{ kind: "reading.start" }]));
      after.stop();
    });
  });
});
