// The one place the app meets @twofold/client: the names of the wire types it uses, so a
// change in the client's surface is fixed here and nowhere else.
import type { Schemas } from "@twofold/client";

export {
  Api,
  ApiError,
  assertNever,
  IndexedDbPendingStore,
  isTimeZone,
  LocalStorageDeviceSecretStore,
  LocalStorageTokenStore,
  OpError,
  SyncClient,
} from "@twofold/client";
export type { Event, OpAnswer, OpBody, OpKind, PendingOp, SyncStatus, TimeZone } from "@twofold/client";

export type User = Schemas["User"];
export type Couple = Schemas["Couple"];
export type CoupleState = Schemas["CoupleState"];
export type Pause = Schemas["Pause"];
export type Reading = Schemas["Reading"];
export type Entry = Schemas["Entry"];
export type Section = Entry["section"];
export type Repair = Schemas["Repair"];
export type RepairStep = Schemas["RepairStep"];
export type RepairTemplate = Schemas["RepairTemplate"];
export type Ritual = Schemas["Ritual"];
export type Checkin = Schemas["Checkin"];
export type GrowthLog = Schemas["GrowthLog"];
export type GrowthEntry = Schemas["GrowthEntry"];
export type GrowthWeek = Schemas["GrowthWeek"];
export type NotificationPrefs = Schemas["NotificationPrefs"];
export type SessionView = Schemas["SessionView"];
export type TrustedDeviceView = Schemas["TrustedDeviceView"];
export type CrisisResources = Schemas["CrisisResources"];
export type CrisisLine = Schemas["CrisisLine"];
export type InviteCreated = Schemas["InviteCreated"];
