// The optional screen lock: after a while away, the private screens (the growth log, where
// she is signed in, the way out) ask for the password again before they open. A session lasts
// 60 days; without this, anyone at a shared computer would walk straight in.
import { Store } from "./store";

/** The choices offered, in minutes; null is off (the default). */
export const LOCK_CHOICES = [1, 5, 15] as const;
export type LockMinutes = (typeof LOCK_CHOICES)[number] | null;

// When she was last here (in the page and doing something): kept for the tab, so a reload is
// not a time away; a new tab or a browser opened again knows nothing of it, and asks.
const ACTIVE_KEY = "twofold:active-at";

const settingKey = (userId: string) => `twofold:screen-lock:${userId}`;

/** Away longer than the setting allows (pure): a time away not known is long enough. */
export function wasAway(lastActive: number | null, now: number, minutes: LockMinutes): boolean {
  if (minutes === null) return false;
  return lastActive === null || now - lastActive > minutes * 60_000;
}

export class ScreenLock {
  /** True once she was away too long, until the password is given again. */
  readonly locked = new Store(false);
  private userId: string | null = null;
  private lastActive: number | null;

  // Date.now read each time, not kept: a test's clock replaces Date after the page has loaded.
  constructor(private readonly now: () => number = () => Date.now()) {
    const kept = Number(sessionStorage.getItem(ACTIVE_KEY));
    this.lastActive = kept > 0 ? kept : null;
    // Capture: the tap that opens a private screen must find it locked, not count as being here.
    for (const kind of ["pointerdown", "keydown"]) window.addEventListener(kind, () => this.seen(), true);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.check();
      else this.mark(); // from here on she is away
    });
  }

  /** Whose setting applies: the person signed in, or nobody. */
  use(userId: string | null): void {
    this.userId = userId;
    this.locked.set(false);
    this.check();
  }

  get minutes(): LockMinutes {
    if (!this.userId) return null;
    const value = Number(localStorage.getItem(settingKey(this.userId)));
    return (LOCK_CHOICES as readonly number[]).includes(value) ? (value as LockMinutes) : null;
  }

  set minutes(value: LockMinutes) {
    if (!this.userId) return;
    if (value === null) localStorage.removeItem(settingKey(this.userId));
    else localStorage.setItem(settingKey(this.userId), String(value));
    this.mark(); // turned on now: the time away starts now
  }

  /** Locks if she was away too long; a private screen asks this before it shows. */
  check(): boolean {
    if (!this.locked.value && wasAway(this.lastActive, this.now(), this.minutes)) this.locked.set(true);
    return this.locked.value;
  }

  /** The password was right (checked by the server). */
  unlock(): void {
    this.mark();
    this.locked.set(false);
  }

  /** Signed in afresh, with the password just typed: nothing to ask. */
  signedIn(userId: string): void {
    this.userId = userId;
    this.unlock();
  }

  private seen(): void {
    this.check();
    if (!this.locked.value) this.mark();
  }

  private mark(): void {
    this.lastActive = this.now();
    if (this.userId) sessionStorage.setItem(ACTIVE_KEY, String(this.lastActive));
  }
}
