import { useState } from "preact/hooks";
import type { Couple, InviteCreated } from "../client";
import { useSession } from "../context";
import { clock } from "../time";
import { ActionForm, ErrorText, Field, Screen, useAction } from "../ui";

/** Linking up: one partner makes a code, the other types it in. */
export function LinkScreen() {
  const { session, view } = useSession();
  const [invite, setInvite] = useState<InviteCreated | null>(null);
  const [code, setCode] = useState("");
  const make = useAction(async () => {
    setInvite(await session.api.request<InviteCreated>("POST", "/v1/invites"));
  });
  const accept = useAction(async () => {
    await session.api.request<Couple>("POST", "/v1/invites/accept", { code });
    await session.reloadMe();
  });
  return (
    <Screen title="Link up with your partner">
      {view.parted && (
        <p class="notice" role="status" data-testid="parted">
          {view.parted}
        </p>
      )}
      <p>
        Hello, {view.user?.display_name}. Twofold is for two: one of you makes a code, the other
        types it in.
      </p>
      <section class="card" aria-labelledby="invite-heading">
        <h2 id="invite-heading">Invite your partner</h2>
        {invite ? (
          <>
            <p>Give your partner this code. It works once, for 24 hours (until {clock(invite.expires_at)}).</p>
            <p class="countdown" data-testid="invite-code" aria-label={`Code: ${invite.code.split("").join(" ")}`}>
              {invite.code}
            </p>
            <p class="muted" role="status">
              This screen moves on by itself when your partner has typed it in.
            </p>
          </>
        ) : (
          <p>You'll get a short code to pass on, by voice or message.</p>
        )}
        <ErrorText error={make.error} />
        <button type="button" class={invite ? "quiet" : ""} disabled={make.busy} onClick={() => void make.go()}>
          {invite ? "Make a new code" : "Make a code"}
        </button>
      </section>
      <section class="card" aria-labelledby="accept-heading">
        <h2 id="accept-heading">Have a code?</h2>
        <ActionForm action={accept} submit="Link us">
          <Field
            id="invite-accept-code"
            label="Your partner's code"
            hint="8 letters and digits; spaces and dashes don't matter."
            required
            autoComplete="off"
            autoCapitalize="characters"
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </ActionForm>
      </section>
    </Screen>
  );
}
