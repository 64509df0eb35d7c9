import { describe, expect, it } from "vitest";
import { cadenceText, lastOccurrence } from "../src/cadence";

// Monday, 30 November 2026.
const MONDAY = "2026-11-30";

describe("the occurrence a check-in is for", () => {
  it("is today for a daily ritual", () => {
    expect(lastOccurrence({ every: "day" }, "UTC", MONDAY)).toBe(MONDAY);
  });

  it("is the latest of its weekdays, today included", () => {
    expect(lastOccurrence({ every: "week", days: ["mon", "thu"] }, "UTC", MONDAY)).toBe(MONDAY);
    expect(lastOccurrence({ every: "week", days: ["thu"] }, "UTC", MONDAY)).toBe("2026-11-26");
    expect(lastOccurrence({ every: "week", days: ["tue"] }, "UTC", MONDAY)).toBe("2026-11-24");
  });

  it("is the latest month's day, back across a month's end", () => {
    expect(lastOccurrence({ every: "month", day: 28 }, "UTC", "2026-12-01")).toBe("2026-11-28");
    expect(lastOccurrence({ every: "month", day: 1 }, "UTC", "2026-12-01")).toBe("2026-12-01");
    expect(lastOccurrence({ every: "month", day: 15 }, "UTC", "2026-03-02")).toBe("2026-02-15");
  });
});

describe("a cadence in words", () => {
  it("names its days and time", () => {
    expect(cadenceText({ every: "day" }, "07:30")).toBe("Every day at 07:30");
    expect(cadenceText({ every: "week", days: ["mon", "thu"] }, "19:00")).toBe("Every Monday, Thursday at 19:00");
    expect(cadenceText({ every: "month", day: 1 }, "09:00")).toBe("On day 1 of every month at 09:00");
  });
});
