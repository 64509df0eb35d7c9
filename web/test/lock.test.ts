import { describe, expect, it } from "vitest";
import { isDoubleEscape } from "../src/exit";
import { wasAway } from "../src/lock";

describe("the screen lock", () => {
  const minute = 60_000;
  it("never asks while it is off", () => {
    expect(wasAway(null, 10 * 60 * minute, null)).toBe(false);
  });
  it("asks once she was away longer than the setting, not at it", () => {
    expect(wasAway(0, 5 * minute, 5)).toBe(false);
    expect(wasAway(0, 5 * minute + 1, 5)).toBe(true);
  });
  it("asks when the time away is not known (a new tab, the browser opened again)", () => {
    expect(wasAway(null, 0, 1)).toBe(true);
  });
});

describe("the quick exit's keys", () => {
  it("are Esc twice within a second", () => {
    expect(isDoubleEscape(null, 500)).toBe(false);
    expect(isDoubleEscape(1000, 1900)).toBe(true);
    expect(isDoubleEscape(1000, 2001)).toBe(false);
  });
});
