import { useEffect, useState } from "preact/hooks";
import type { Couple, NotificationPrefs, User } from "../client";
import { useSession } from "../context";
import { LOCK_CHOICES, type LockMinutes } from "../lock";
import { Link } from "../router";
import { ActionForm, ErrorText, Field, Screen, useAction, useOptimistic } from "../ui";

const KINDS = [
  ["reading_reminder", "A reminder for tonight's reading"],
  ["ritual_reminders", "Reminders before your rituals"],
  ["pause_alerts", "When a pause starts or ends (never held back by quiet hours)"],
  ["partner_activity", "When your partner adds something"],
] as const;

export function SettingsScreen() {
  const { session, view } = useSession();
  return (
    <Screen title="Settings">
      <Notifications />
      <Privacy />
      <ScreenLockSetting />
      {view.phase === "linked" && <CoupleSettings />}
      <section class="card" aria-labelledby="account-heading">
        <h2 id="account-heading">
          Your account
        </h2>
        <p>Signed in as {view.user?.email}.</p>
        <ul>
          <li>
            <Link to="/sessions">Where you're signed in</Link>
          </li>
          <li>
            <Link to="/leave">{view.phase === "linked" ? "Unlink, or leave safely" : "Leave safely"}</Link>
          </li>
        </ul>
        <button type="button" class="quiet" onClick={() => void session.signOut()}>
          Sign out
        </button>
      </section>
    </Screen>
  );
}

function Notifications() {
  const { session } = useSession();
  const [prefs, setPrefs] = useState<NotificationPrefs | null>(null);
  const [quietStart, setQuietStart] = useState("22:00");
  const [quietEnd, setQuietEnd] = useState("07:00");
  const [saved, setSaved] = useState(false);
  const load = useAction(async () => {
    const p = await session.api.request<NotificationPrefs>("GET", "/v1/me/notifications");
    setPrefs(p);
    if (p.quiet_hours) {
      setQuietStart(p.quiet_hours.start);
      setQuietEnd(p.quiet_hours.end);
    }
  });
  useEffect(() => {
    void load.go();
  }, []);
  const save = useAction(async () => {
    if (!prefs) return; // the form shows only once they have loaded
    setSaved(false);
    const next = { ...prefs, quiet_hours: prefs.quiet_hours ? { start: quietStart, end: quietEnd } : null };
    setPrefs(await session.api.request<NotificationPrefs>("PATCH", "/v1/me/notifications", next));
    setSaved(true);
  });
  if (!prefs) return <ErrorText error={load.error} />;
  const quiet = prefs.quiet_hours != null;
  return (
    <ActionForm
      title="Notifications"
      headingId="notify-heading"
      action={save}
      submit="Save notifications"
      submitTestId="notifications-save"
      notice={saved && "Saved."}
    >
      <fieldset>
        <legend>Tell me</legend>
        {KINDS.map(([key, label]) => (
          <label class="check" key={key}>
            <input
              type="checkbox"
              checked={prefs[key]}
              onChange={(e) => setPrefs({ ...prefs, [key]: e.currentTarget.checked })}
            />
            {label}
          </label>
        ))}
      </fieldset>
      <label class="check">
        <input
          type="checkbox"
          checked={prefs.discreet}
          onChange={(e) => setPrefs({ ...prefs, discreet: e.currentTarget.checked })}
          data-testid="discreet"
        />
        Discreet: every notification just says “You have an update”
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={quiet}
          onChange={(e) =>
            setPrefs({ ...prefs, quiet_hours: e.currentTarget.checked ? { start: quietStart, end: quietEnd } : null })
          }
          data-testid="quiet-hours"
        />
        Quiet hours (reminders wait; pause alerts still come)
      </label>
      {quiet && (
        <div class="row">
          <Field id="quiet-start" label="From" type="time" value={quietStart} onInput={(e) => setQuietStart(e.currentTarget.value)} />
          <Field id="quiet-end" label="Until" type="time" value={quietEnd} onInput={(e) => setQuietEnd(e.currentTarget.value)} />
        </div>
      )}
    </ActionForm>
  );
}

function Privacy() {
  const { session, view } = useSession();
  const [share, showShare, unshowShare] = useOptimistic(view.user?.share_presence ?? true);
  const toggle = useAction(async (value: boolean) => {
    showShare(value);
    try {
      await session.api.request<User>("PATCH", "/v1/me", { share_presence: value });
      await session.reloadMe();
    } catch (error) {
      unshowShare();
      throw error;
    }
  });
  return (
    <section class="card" aria-labelledby="privacy-heading">
      <h2 id="privacy-heading">
        Privacy
      </h2>
      <label class="check">
        <input
          type="checkbox"
          checked={share}
          onChange={(e) => void toggle.go(e.currentTarget.checked)}
          data-testid="share-presence"
        />
        Let {view.phase === "linked" ? session.partnerName() : "my partner"} see when I'm here
      </label>
      <ErrorText error={toggle.error} />
    </section>
  );
}

function CoupleSettings() {
  const { session, view } = useSession();
  const settings = view.couple?.settings;
  const [minutes, setMinutes] = useState(String(settings?.default_pause_minutes ?? 20));
  const [readingTime, setReadingTime] = useState(settings?.reading_time ?? "21:00");
  const [safeWord, setSafeWord] = useState(settings?.safe_word ?? "");
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    await session.api.request<Couple>("PATCH", "/v1/couple/settings", {
      default_pause_minutes: Number(minutes),
      reading_time: readingTime,
      safe_word: safeWord.trim() || null,
    });
    await session.reloadCouple();
    setSaved(true);
  });
  return (
    <ActionForm
      title="For the two of you"
      headingId="couple-heading"
      action={save}
      submit="Save for us both"
      notice={saved && "Saved for you both."}
    >
      <Field
        id="safe-word"
        label="Your safe word (optional)"
        hint="The word either of you says to call a pause."
        maxLength={60}
        value={safeWord}
        onInput={(e) => setSafeWord(e.currentTarget.value)}
      />
      <Field
        id="default-minutes"
        label="A pause lasts, in minutes"
        hint="20 to 240."
        type="number"
        min={20}
        max={240}
        value={minutes}
        onInput={(e) => setMinutes(e.currentTarget.value)}
      />
      <Field
        id="reading-time"
        label="Reading time each evening"
        type="time"
        value={readingTime}
        onInput={(e) => setReadingTime(e.currentTarget.value)}
      />
    </ActionForm>
  );
}

function ScreenLockSetting() {
  const { session } = useSession();
  const [minutes, setMinutes] = useState<LockMinutes>(session.lock.minutes);
  return (
    <section class="card" aria-labelledby="lock-heading">
      <h2 id="lock-heading">On a shared computer</h2>
      <div class="field">
        <label for="screen-lock">Ask for my password again after</label>
        <span class="hint" id="screen-lock-hint">
          Your growth log, where you're signed in and the way out will ask first once you've
          been away this long. Kept in this browser until you sign out.
        </span>
        <select
          id="screen-lock"
          aria-describedby="screen-lock-hint"
          value={minutes ?? ""}
          onChange={(e) => {
            const value = e.currentTarget.value ? (Number(e.currentTarget.value) as LockMinutes) : null;
            session.lock.minutes = value;
            setMinutes(value);
          }}
        >
          <option value="">Never (off)</option>
          {LOCK_CHOICES.map((m) => (
            <option key={m} value={m}>
              {m === 1 ? "1 minute away" : `${m} minutes away`}
            </option>
          ))}
        </select>
      </div>
    </section>
  );
}
