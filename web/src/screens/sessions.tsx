import { useEffect, useState } from "preact/hooks";
import type { SessionView, TrustedDeviceView } from "../client";
import { useSession } from "../context";
import { dayAndTime } from "../time";
import { ErrorText, Screen, useAction } from "../ui";

export function SessionsScreen() {
  const { session } = useSession();
  const [sessions, setSessions] = useState<SessionView[] | null>(null);
  const load = useAction(async () => {
    setSessions(await session.api.request<SessionView[]>("GET", "/v1/me/sessions"));
  });
  useEffect(() => {
    void load.go();
  }, []);
  const [trusted, setTrusted] = useState<TrustedDeviceView[] | null>(null);
  const loadTrusted = useAction(async () => {
    setTrusted(await session.api.trustedDevices());
  });
  useEffect(() => {
    void loadTrusted.go();
  }, []);
  // Ending a session ends the trust in its device too.
  const end = useAction(async (id: string) => {
    await session.api.request("DELETE", `/v1/me/sessions/${id}`);
    await Promise.all([load.go(), loadTrusted.go()]);
  });
  const endOthers = useAction(async () => {
    await session.api.request("DELETE", "/v1/me/sessions");
    await Promise.all([load.go(), loadTrusted.go()]);
  });
  const others = sessions?.filter((s) => !s.current) ?? [];
  const forget = useAction(async (id: string) => {
    await session.api.forgetTrustedDevice(id);
    await loadTrusted.go();
  });
  return (
    <Screen title="Where you're signed in">
      <p class="muted">If you see one you don't recognise, end it. It signs out at once, everywhere it's open.</p>
      <ErrorText error={load.error ?? end.error ?? endOthers.error} />
      {sessions && (
        <ul class="entries" data-testid="sessions">
          {sessions.map((s) => (
            <li class={`entry${s.current ? " mine" : ""}`} key={s.id} data-testid="session">
              <div>
                <strong>{s.current ? "This browser" : s.device ? `A ${s.device.platform} device` : "Another sign-in"}</strong>
              </div>
              <div class="muted">
                Signed in {dayAndTime(s.created_at)} · last used {dayAndTime(s.last_used_at)}
              </div>
              {!s.current && (
                <button type="button" class="link" disabled={end.busy} onClick={() => void end.go(s.id)}>
                  End this session
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {others.length > 0 && (
        <button type="button" class="quiet" disabled={endOthers.busy} onClick={() => void endOthers.go()} data-testid="end-others">
          End all other sessions
        </button>
      )}
      <h2>Trusted devices</h2>
      <p class="muted">
        A device you signed in on can sign in again even while someone else guesses at your password. Forget one you
        don't recognise; it stays signed in until you end its session above.
      </p>
      <ErrorText error={loadTrusted.error ?? forget.error} />
      {trusted && (
        <ul class="entries" data-testid="trusted-devices">
          {trusted.map((d) => (
            <li class={`entry${d.current ? " mine" : ""}`} key={d.id} data-testid="trusted-device">
              <div>
                <strong>{d.current ? "This browser" : d.platform ? `A ${d.platform} device` : "A device"}</strong>
              </div>
              <div class="muted">Last used {dayAndTime(d.last_used_at)}</div>
              <button type="button" class="link" disabled={forget.busy} onClick={() => void forget.go(d.id)}>
                Forget
              </button>
            </li>
          ))}
        </ul>
      )}
    </Screen>
  );
}
