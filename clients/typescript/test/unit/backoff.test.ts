import { describe, expect, it } from "vitest";

import { backoffDelay, socketUrl, uuidv7 } from "../../src/index.js";

describe("backoffDelay", () => {
  it("lies between half the step and the step, the step doubling up to the cap", () => {
    const opts = { initial: 500, max: 30_000, factor: 2 };
    expect([0, 1, 2, 6, 7, 40].map((n) => backoffDelay(n, () => 0, opts))).toEqual([250, 500, 1000, 15_000, 15_000, 15_000]);
    expect([0, 1, 2, 6, 7, 40].map((n) => backoffDelay(n, () => 1, opts))).toEqual([500, 1000, 2000, 30_000, 30_000, 30_000]);
  });
});

describe("socketUrl", () => {
  it("turns the API's base into the socket's URL", () => {
    expect(socketUrl("https://twofold.example.org")).toBe("wss://twofold.example.org/v1/sync");
    expect(socketUrl("http://127.0.0.1:8000/")).toBe("ws://127.0.0.1:8000/v1/sync");
    expect(socketUrl("wss://a.example/v1/sync")).toBe("wss://a.example/v1/sync");
  });
});

describe("uuidv7", () => {
  it("is a version 7 UUID that sorts by time", () => {
    const a = uuidv7(() => 1_700_000_000_000);
    const b = uuidv7(() => 1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
});
