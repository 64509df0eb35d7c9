// The time zones the server takes (its TimeZone schema, generated with its values), so that a
// zone the platform reports (Intl's) is checked before it goes into a request.
import { timeZoneValues } from "./schema.js";
import type { TimeZone } from "./types.js";

const known: ReadonlySet<string> = new Set(timeZoneValues);

/** Whether the server takes ``name`` as a time zone. */
export function isTimeZone(name: string): name is TimeZone {
  return known.has(name);
}
