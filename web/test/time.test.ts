import { describe, expect, it } from "vitest";
import { addDays, countdown, localDate, spokenDuration, weekdayOf } from "../src/time";

describe("the pause's countdown", () => {
  it("counts whole seconds up, so it never shows 0:00 while time is left", () => {
    expect(countdown(30 * 60_000)).toBe("30:00");
    expect(countdown(61_000)).toBe("1:01");
    expect(countdown(999)).toBe("0:01");
    expect(countdown(0)).toBe("0:00");
    expect(countdown(-5_000)).toBe("0:00");
    expect(countdown(4 * 3_600_000)).toBe("4:00:00");
    expect(countdown(3_600_000 + 65_000)).toBe("1:01:05");
  });

  it("is said in words to a screen reader", () => {
    expect(spokenDuration(12 * 60_000 + 5_000)).toBe("12 minutes and 5 seconds");
    expect(spokenDuration(60_000)).toBe("1 minute");
    expect(spokenDuration(1_000)).toBe("1 second");
    expect(spokenDuration(0)).toBe("0 seconds");
  });
});

describe("local dates", () => {
  const lateInUtc = new Date("2026-11-30T23:30:00Z");

  it("are the date where the person is", () => {
    expect(localDate("Europe/Berlin", lateInUtc)).toBe("2026-12-01");
    expect(localDate("America/New_York", lateInUtc)).toBe("2026-11-30");
    expect(localDate("UTC", lateInUtc)).toBe("2026-11-30");
  });

  it("move by whole days across months and years", () => {
    expect(addDays("2026-11-30", 1)).toBe("2026-12-01");
    expect(addDays("2027-01-01", -1)).toBe("2026-12-31");
    expect(addDays("2028-03-01", -1)).toBe("2028-02-29");
  });

  it("know their weekday", () => {
    expect(weekdayOf("2026-11-30")).toBe("mon");
    expect(weekdayOf("2026-12-06")).toBe("sun");
  });
});
