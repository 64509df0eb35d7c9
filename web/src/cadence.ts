// When a ritual happens, in words and as the date a check-in is for.
import type { Ritual } from "./client";
import { type Weekday, addDays, localDate, weekdayOf } from "./time";

export type Cadence = Ritual["cadence"];

export const DAY_NAMES: Record<Weekday, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

export function cadenceText(cadence: Cadence, at: string): string {
  switch (cadence.every) {
    case "day":
      return `Every day at ${at}`;
    case "week":
      return `Every ${cadence.days.map((d) => DAY_NAMES[d as Weekday]).join(", ")} at ${at}`;
    case "month":
      return `On day ${cadence.day} of every month at ${at}`;
  }
  return at;
}

export function occursOn(cadence: Cadence, day: string): boolean {
  switch (cadence.every) {
    case "day":
      return true;
    case "week":
      return (cadence.days as string[]).includes(weekdayOf(day));
    case "month":
      return Number(day.slice(8, 10)) === cadence.day;
  }
  return false;
}

/** The latest day, up to `today` (the ritual's zone's, by default), that the ritual happens
 * on: the occurrence a check-in now is for (the server refuses one for a day it does not
 * happen on, or one still to come). */
export function lastOccurrence(cadence: Cadence, zone: string, today: string = localDate(zone)): string {
  let day = today;
  // A month has every day 1-28, so 31 days back always finds one.
  for (let i = 0; i < 31; i++, day = addDays(day, -1)) {
    if (occursOn(cadence, day)) return day;
  }
  return today;
}
