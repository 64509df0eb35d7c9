// Ana and Ben on real server nodes, through the client alone.
import { afterEach, describe, expect, it } from "vitest";

import type { Event, SyncClient } from "../../src/index.js";
import { device, eventually, link, Network, NODE_1, NODE_2, signUp } from "./people.js";

const running: SyncClient[] = [];
afterEach(() => {
  for (const sync of running.splice(0)) sync.stop();
});

function started(sync: SyncClient): SyncClient {
  running.push(sync);
  sync.start();
  return sync;
}

function seqs(sync: SyncClient): number[] {
  const seen: number[] = [];
  sync.on("event", (e) => seen.push(e.seq));
  return seen;
}

describe("linking", () => {
  it("Ana and Ben sign up and link; Ana's open socket hears it and each sees the other online", async () => {
    const ana = await signUp("Ana");
    const ben = await signUp("Ben", NODE_2);
    const anaPhone = started(device(ana));
    await eventually(anaPhone, () => anaPhone.status === "live", "Ana's socket is live");
    expect(anaPhone.state).toBeNull(); // not linked yet

    await link(ana, ben);
    await eventually(anaPhone, () => anaPhone.state?.head === 1, "Ana's state shows the new couple");
    expect(anaPhone.head).toBe(1);

    const benPhone = started(device(ben));
    await eventually(benPhone, () => benPhone.partnerOnline, "Ben sees Ana online");
    await eventually(anaPhone, () => anaPhone.partnerOnline, "Ana sees Ben online");
    benPhone.stop();
    await eventually(anaPhone, () => !anaPhone.partnerOnline, "Ana sees Ben go offline");
  });
});

describe("resuming", () => {
  it("Ben's network goes while Ana writes; back on the other node, he has every event once, in order", async () => {
    const ana = await signUp("Ana");
    const ben = await signUp("Ben");
    await link(ana, ben);
    const anaPhone = started(device(ana, { url: NODE_2 }));
    const network = new Network();
    const benPhone = started(device(ben, { WebSocket: network.WebSocket }));
    const benSaw = seqs(benPhone);
    await eventually(benPhone, () => benPhone.status === "live", "Ben is live on node 1");
    await eventually(anaPhone, () => anaPhone.status === "live", "Ana is live on node 2");

    const reading = (await anaPhone.send("reading.start", {})).result; // typed: a Reading
    await eventually(benPhone, () => benPhone.head === 2, "Ben holds the reading's start");

    network.offline = true;
    network.drop();
    await eventually(benPhone, () => benPhone.status === "offline", "Ben's phone knows it is offline");
    let last = 0;
    for (const text of ["the coffee", "the walk", "the call", "the note"]) {
      const answer = await anaPhone.send("reading.entry.add", { reading_id: reading.id, section: "appreciations", text });
      last = answer.seq ?? last;
    }
    expect(benPhone.head).toBe(2); // he heard none of it

    network.offline = false;
    network.url = NODE_2;
    await eventually(benPhone, () => benPhone.head === last, "Ben catches up after the network returns");
    expect(network.urls.at(-1)).toContain(new URL(NODE_2).host);
    expect(benSaw).toEqual([2, 3, 4, 5, 6]);
    await eventually(benPhone, () => benPhone.state?.reading?.entries.length === 4, "Ben's state shows the four entries");

    // And live again: Ana's next entry reaches him once.
    await anaPhone.send("reading.entry.add", { reading_id: reading.id, section: "wishes", text: "more walks" });
    await eventually(benPhone, () => benPhone.head === last + 1, "Ben hears the live entry");
    expect(benSaw).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it("an op whose ack was lost is sent again after the reconnect and applied once", async () => {
    const ana = await signUp("Ana");
    const ben = await signUp("Ben");
    await link(ana, ben);
    const anaPhone = started(device(ana, { url: NODE_2 }));
    const anaSaw: Event[] = [];
    anaPhone.on("event", (e) => anaSaw.push(e));
    const network = new Network();
    const benPhone = started(device(ben, { WebSocket: network.WebSocket }));
    await eventually(benPhone, () => benPhone.status === "live", "Ben is live");
    await eventually(anaPhone, () => anaPhone.status === "live", "Ana is live");

    let lost = 0;
    network.onFrame = (frame, socket) => {
      if (frame.type === "ack" && lost === 0) {
        lost++;
        socket.close(); // the connection dies with the ack in it
        return "swallow";
      }
    };
    const answer = await benPhone.send("pause.start", { minutes: 30, note: "a walk" });
    expect(lost).toBe(1);
    expect(network.sockets.length).toBeGreaterThan(1); // it came back through a new socket
    expect(answer.seq).toBe(2);
    await eventually(anaPhone, () => anaPhone.head === 2, "Ana hears the pause");

    // One pause, one event: the retry was answered from the stored result.
    await anaPhone.send("reading.start", {});
    await eventually(anaPhone, () => anaPhone.head === 3, "Ana's next op follows directly");
    expect(anaSaw.map((e) => e.kind)).toEqual(["pause.started", "reading.started"]);
    const log = await ana.api.events({ after: 0 });
    expect(log.events.filter((e) => e.kind === "pause.started")).toHaveLength(1);
  });

  it("a client holding a head the server never had is reset and reloads the state", async () => {
    const ana = await signUp("Ana");
    const ben = await signUp("Ben");
    await link(ana, ben);
    const anaPhone = started(device(ana));
    await eventually(anaPhone, () => anaPhone.status === "live", "Ana is live");
    await anaPhone.send("pause.start", {});

    // Ben's phone was restored from another couple's backup: it believes it holds seq 500.
    const benPhone = started(device(ben, { head: 500, url: NODE_2 }));
    await eventually(benPhone, () => benPhone.head === 2 && benPhone.state?.head === 2, "Ben is reset to the real head");
    expect(benPhone.state?.pause?.state).toBe("active");

    // From the reset on, he follows the log.
    await anaPhone.send("reading.start", {});
    await eventually(benPhone, () => benPhone.head === 3 && benPhone.state?.reading !== null, "Ben hears the next event");
  });
});

describe("limits", () => {
  it("Ana writes faster than the server allows: the ops past the burst wait as told and each is applied once", async () => {
    const ana = await signUp("Ana");
    const ben = await signUp("Ben");
    await link(ana, ben);
    const anaPhone = started(device(ana));
    const network = new Network();
    let limited = 0;
    network.onFrame = (frame) => {
      if (frame.type === "error" && frame.code === "rate_limited") limited++;
    };
    const anaWire = started(device(ana, { WebSocket: network.WebSocket, url: NODE_2 }));
    const refusals: string[] = [];
    anaWire.on("answer", (outcome) => {
      if (outcome.error) refusals.push(outcome.error.code);
    });
    await eventually(anaWire, () => anaWire.status === "live", "Ana is live");
    const reading = (await anaWire.send("reading.start", {})).result;
    // The burst is 40 ops a person and node, then 2 a second.
    const answers = await Promise.all(
      Array.from({ length: 44 }, (_, n) =>
        anaWire.send("reading.entry.add", { reading_id: reading.id, section: "appreciations", text: `thing ${n}` }),
      ),
    );
    expect(limited).toBeGreaterThan(0);
    expect(refusals).toEqual([]); // waited, never given up
    expect(new Set(answers.map((a) => a.seq)).size).toBe(44);
    await eventually(anaPhone, () => anaPhone.state?.reading?.entries.length === 44, "44 entries, once each");
  });
});

describe("presence and unlinking", () => {
  it("when Ana unlinks, Ben's phone stops as unlinked and does not reconnect", async () => {
    const ana = await signUp("Ana");
    const ben = await signUp("Ben");
    await link(ana, ben);
    const network = new Network();
    const benPhone = started(device(ben, { WebSocket: network.WebSocket, url: NODE_1 }));
    await eventually(benPhone, () => benPhone.status === "live", "Ben is live");
    await ana.api.unlink();
    await eventually(benPhone, () => benPhone.status === "unlinked", "Ben's phone is unlinked");
    await eventually(benPhone, () => benPhone.state === null, "Ben's state is gone");
    expect(network.sockets).toHaveLength(1);
  });
});
