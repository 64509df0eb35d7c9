// Who is signed in, their couple, and the live shared state, kept by one SyncClient.
import {
  Api,
  ApiError,
  assertNever,
  IndexedDbPendingStore,
  isTimeZone,
  LocalStorageDeviceSecretStore,
  LocalStorageTokenStore,
  type Couple,
  type CoupleState,
  type Event,
  type OpAnswer,
  type OpBody,
  type OpKind,
  type PendingOp,
  SyncClient,
  type SyncStatus,
  type TimeZone,
  type User,
} from "./client";
import { ScreenLock } from "./lock";
import { navigate } from "./router";
import { Store } from "./store";
import { forgetDatabases, forgetStorage } from "./traces";

/** What the sign-up form asks for. */
export type SignUpFields = { email: string; password: string; display_name: string };

export type Phase = "loading" | "unreachable" | "signed_out" | "unlinked" | "linked";

/** The message both partners get when a pause ends: the reason for the pause was to come back. */
export interface CallBack {
  pauseId: string;
  how: "time" | "hand";
  endedBy: string | null;
}

export interface View {
  phase: Phase;
  user: User | null;
  couple: Couple | null;
  state: CoupleState | null;
  status: SyncStatus;
  partnerOnline: boolean;
  pending: PendingOp[];
  callback: CallBack | null;
  online: boolean;
  // Set once after a safety exit or when a session was ended elsewhere: said on the sign-in screen.
  farewell: string | null;
  // Said on the link screen after the couple was unlinked (by either partner).
  parted: string | null;
}

// LocalStorageTokenStore's own default key.
const TOKENS_KEY = "twofold:tokens";

/** The browser's time zone, or UTC when the browser names none or one the server does not
 * know (which it would refuse). */
export function localTimeZone(): TimeZone {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && isTimeZone(zone) ? zone : "UTC";
}

export class Session {
  readonly api: Api;
  readonly view: Store<View>;
  /** Polite announcements for screen readers: what the partner just did. */
  readonly said = new Store<string>("");
  /** The optional screen lock of the private screens. */
  readonly lock = new ScreenLock();
  private readonly tokens = new LocalStorageTokenStore();
  private sync: SyncClient | null = null;
  private pendingStore: IndexedDbPendingStore | null = null;
  private unsubscribe: (() => void)[] = [];
  /** The last sweep of this browser's storage, for a sign-in to wait on. */
  private forgetting: Promise<void> = Promise.resolve();

  constructor(readonly baseUrl: string) {
    // The secret each sign-in answers, kept under "twofold:device-secrets" and sent with the
    // account's next sign-in: it is what makes this browser one the account trusts.
    this.api = new Api({ baseUrl, tokens: this.tokens, deviceSecrets: new LocalStorageDeviceSecretStore() });
    this.view = new Store<View>({
      phase: "loading",
      user: null,
      couple: null,
      state: null,
      status: "idle",
      partnerOnline: false,
      pending: [],
      callback: null,
      online: navigator.onLine,
      farewell: null,
      parted: null,
    });
    // Browsers know they are offline long before a quiet socket times out: stop at once, so
    // ops wait in the pending store, and start again (resuming with `after`) when back.
    window.addEventListener("offline", () => {
      this.patch({ online: false });
      this.sync?.stop();
    });
    window.addEventListener("online", () => {
      this.patch({ online: true });
      if (this.view.value.phase === "unreachable") void this.boot();
      else this.sync?.start();
    });
    // Signed out in another tab (its sweep removed the tokens): this one leaves too.
    window.addEventListener("storage", (e) => {
      if ((e.key === TOKENS_KEY || e.key === null) && e.newValue === null && this.me) {
        this.leaveLocally("You signed out in another tab.");
      }
    });
  }

  private patch(change: Partial<View>): void {
    this.view.update((v) => ({ ...v, ...change }));
  }

  get me(): User | null {
    return this.view.value.user;
  }

  /** The partner's name as the couple shows it, or a plain word when not linked. */
  partnerName(): string {
    const { user, couple } = this.view.value;
    return couple?.partners.find((p) => p.id !== user?.id)?.display_name ?? "Your partner";
  }

  nameOf(userId: string | null | undefined): string {
    if (!userId) return "Twofold";
    if (userId === this.me?.id) return "You";
    return this.partnerName();
  }

  async boot(): Promise<void> {
    if (!(await this.tokens.load())) {
      this.patch({ phase: "signed_out" });
      return;
    }
    try {
      const user = await this.api.request<User>("GET", "/v1/me");
      this.lock.use(user.id); // opened again: the time away counts
      await this.enter(user);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        // The tokens were refused (the session ended while the app was closed): nothing of
        // that person stays here either.
        this.leaveLocally(null);
      } else {
        this.patch({ phase: "unreachable" });
      }
    }
  }

  /** Signing up, step one: the server mails a code to the address. The fields stay with
   * the caller (in memory only) for step two. */
  async askSignUp(body: SignUpFields): Promise<void> {
    await this.api.askSignUp({ ...body, timezone: localTimeZone(), platform: "web" });
  }

  /** Step two: the account is made from these fields with the mailed code. */
  async confirmSignUp(body: SignUpFields, code: string): Promise<void> {
    await this.forgetting; // a database of the last person's may still be going
    const user = await this.api.confirmSignUp({
      ...body,
      code,
      timezone: localTimeZone(),
      platform: "web",
    });
    this.lock.signedIn(user.id);
    await this.enter(user);
  }

  /** `email_code`: a code mailed to the address, when the sign-in was answered
   * `email_code_required` (others' wrong guesses filled the email's window). */
  async signIn(body: { email: string; password: string; email_code?: string }): Promise<void> {
    await this.forgetting;
    const user = await this.api.signIn({ ...body, platform: "web" });
    this.lock.signedIn(user.id);
    await this.enter(user);
  }

  /** A sign-in code by mail to this address (answered alike whether or not it has an account). */
  async askSignInCode(email: string): Promise<void> {
    await this.api.askSignInCode({ email });
  }

  /** The screen lock's question: the server says whether this is the password. */
  async unlock(password: string): Promise<void> {
    await this.api.request("POST", "/v1/me/password/check", { password });
    this.lock.unlock();
  }

  async signOut(): Promise<void> {
    try {
      await this.api.signOut();
    } finally {
      this.leaveLocally(null);
    }
  }

  /** The safety exit: unlink, end every session, forget devices; with erase, the account too. */
  async leave(password: string, erase: boolean): Promise<void> {
    await this.api.leave({ password, erase }); // the Api forgets the tokens too
    this.leaveLocally(
      "You are signed out everywhere. Your partner sees only that you are no longer linked, as after any unlinking.",
    );
  }

  async unlink(): Promise<void> {
    await this.api.request("DELETE", "/v1/couple");
    await this.reloadMe();
  }

  async reloadMe(): Promise<void> {
    const user = await this.api.request<User>("GET", "/v1/me");
    const couple = user.couple_id ? await this.api.request<Couple>("GET", "/v1/couple") : null;
    this.patch({
      user,
      couple,
      phase: couple ? "linked" : "unlinked",
      state: couple ? this.view.value.state : null,
    });
  }

  async reloadCouple(): Promise<void> {
    this.patch({ couple: await this.api.request<Couple>("GET", "/v1/couple") });
  }

  /** Sends an op through the socket; it waits in the pending store while offline. */
  send<K extends OpKind>(kind: K, body: OpBody<K>): Promise<OpAnswer> {
    if (!this.sync) return Promise.reject(new Error("Not connected yet. Try again in a moment."));
    return this.sync.send(kind, body);
  }

  dismissCallBack(): void {
    this.patch({ callback: null });
  }

  private async enter(user: User): Promise<void> {
    this.patch({ user, farewell: null });
    await this.reloadMe();
    this.startSync(user);
  }

  /** Every way out (sign-out, a session ended elsewhere or refused, leave, erase) ends here:
   * nothing of the person stays in this browser, on disk or in memory. */
  private leaveLocally(farewell: string | null): void {
    const userId = this.me?.id;
    const pending = this.pendingStore;
    this.stopSync();
    void this.tokens.save(null);
    forgetStorage();
    // The pending ops' database closes first: deleting it waits for every connection to end.
    this.forgetting = (async () => {
      await pending?.close();
      await forgetDatabases(userId ? [`twofold:${userId}`] : []);
    })();
    this.lock.use(null);
    this.said.set("");
    this.view.update((v) => ({
      ...v,
      phase: "signed_out",
      user: null,
      couple: null,
      state: null,
      status: "signed_out",
      partnerOnline: false,
      pending: [],
      callback: null,
      farewell,
    }));
  }

  private startSync(user: User): void {
    this.stopSync();
    const pending = new IndexedDbPendingStore(`twofold:${user.id}`);
    const sync = new SyncClient({ api: this.api, pending });
    this.sync = sync;
    this.pendingStore = pending;
    this.unsubscribe = [
      sync.on("state", (state) => this.patch({ state, partnerOnline: sync.partnerOnline })),
      sync.on("status", (status) => this.onStatus(status)),
      sync.on("presence", (partnerOnline) => this.patch({ partnerOnline })),
      // The screens show what waits to be sent (an entry written offline), so read the ops.
      sync.on("pending", () => void this.readPending(pending)),
      sync.on("event", (event) => this.onEvent(event)),
    ];
    void this.readPending(pending);
    if (navigator.onLine) sync.start();
  }

  private async readPending(store: IndexedDbPendingStore): Promise<void> {
    const ops = await store.all();
    if (store === this.pendingStore) this.patch({ pending: ops });
  }

  private stopSync(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.sync?.stop();
    this.sync = null;
    this.pendingStore = null;
  }

  private onStatus(status: SyncStatus): void {
    this.patch({ status });
    if (status === "signed_out") {
      this.leaveLocally("This session has ended. Sign in again to carry on.");
    } else if (status === "unlinked") {
      // The couple is gone: wait on a fresh socket for a new couple.linked.
      void this.reloadMe().then(() => this.me && this.startSync(this.me));
    }
  }

  private onEvent(event: Event): void {
    const fromPartner = event.actor_id != null && event.actor_id !== this.me?.id;
    const partner = this.partnerName();
    switch (event.kind) {
      case "couple.linked":
        this.patch({ parted: null });
        void this.reloadMe();
        break;
      case "couple.settings_changed":
        void this.reloadMe();
        break;
      case "couple.unlinked":
        // The couple's screens have nothing to show any more: go where a new link starts.
        // The same words however it ended and whoever ended it: the event says neither, and
        // a former partner's name may be gone with their account.
        this.patch({ state: null, callback: null, parted: "You are no longer linked." });
        void this.reloadMe().then(() => navigate("/link"));
        break;
      case "pause.started":
        this.patch({ callback: null });
        if (fromPartner) this.say(`${partner} asked for a pause.`);
        break;
      case "pause.ended":
      case "pause.expired": {
        const pause = event.body;
        this.patch({
          callback: {
            pauseId: pause.id,
            how: event.kind === "pause.expired" ? "time" : "hand",
            endedBy: pause.ended_by ?? null,
          },
        });
        this.say("The pause is over. Time to come back to each other.");
        break;
      }
      // The pause card shows these from the state (the client puts a pause there at once):
      // of a pause, only its start and its end are said aloud.
      case "pause.acknowledged":
      case "pause.extended":
        break;
      case "reading.entry_added":
        if (fromPartner) this.say(`${partner} added to tonight's reading.`);
        break;
      // The reading screen shows these from the state; of a reading, only the partner's new
      // words are said aloud, so a screen reader is not talked over while both write.
      case "reading.started":
      case "reading.entry_edited":
      case "reading.entry_deleted":
      case "reading.section_done":
      case "reading.finished":
        break;
      case "repair.step_set":
        if (fromPartner) this.say(`${partner} updated a repair step.`);
        break;
      // The repair screen shows these from the state; of a repair, only a step the partner
      // set is said aloud.
      case "repair.started":
      case "repair.finished":
      case "repair.abandoned":
        break;
      case "ritual.proposed":
        if (fromPartner) this.say(`${partner} proposed a ritual.`);
        break;
      // The rituals screen shows these from the state; of a ritual, only a proposal (which
      // waits for this partner's answer) is said aloud.
      case "ritual.accepted":
      case "ritual.updated":
      case "ritual.archived":
      case "ritual.checked_in":
        break;
      default:
        assertNever(event);
    }
  }

  say(text: string): void {
    this.said.set(text);
  }
}
