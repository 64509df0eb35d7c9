import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { useSession } from "../context";
import { useStore } from "../store";
import { ActionForm, Field, Screen, useAction } from "../ui";

/** A private screen (growth, sessions, leave): behind the password again when the screen
 * lock is on and she was away longer than it allows. */
export function Private({ children }: { children: ComponentChildren }) {
  const { session } = useSession();
  useStore(session.lock.locked); // shown again the moment it locks, even while open
  // Asked as the screen shows, too: a time away with no tap or key since still counts.
  return session.lock.check() ? <Unlock /> : <>{children}</>;
}

function Unlock() {
  const { session } = useSession();
  const [password, setPassword] = useState("");
  const unlock = useAction(() => session.unlock(password));
  return (
    <Screen title="Your password, please">
      <p>You were away for a while, so this page asks for your password before it opens.</p>
      <ActionForm action={unlock} submit="Open" submitTestId="unlock">
        <Field
          id="unlock-password"
          label="Your password"
          type="password"
          required
          autoComplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </ActionForm>
    </Screen>
  );
}
