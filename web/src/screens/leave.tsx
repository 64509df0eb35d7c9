import { useState } from "preact/hooks";
import { useSession } from "../context";
import { ActionForm, ErrorText, Field, QuickExit, Screen, useAction } from "../ui";

export function LeaveScreen() {
  const { view } = useSession();
  return (
    <Screen title={view.phase === "linked" ? "Unlink, or leave safely" : "Leave safely"}>
      <QuickExit />
      {view.phase === "linked" && <Unlink />}
      <SafetyExit />
    </Screen>
  );
}

function Unlink() {
  const { session } = useSession();
  const [sure, setSure] = useState(false);
  const unlink = useAction(() => session.unlink());
  const partner = session.partnerName();
  return (
    <section class="card" aria-labelledby="unlink-heading">
      <h2 id="unlink-heading">
        Unlink from {partner}
      </h2>
      <p>
        You both stop sharing at once. {partner} sees only that you are no longer linked, exactly
        as after the safety exit below: no notification, and nothing about how or why it ended.
        Each of you keeps a copy of what you shared for 30 days (in the export); then it is
        erased.
      </p>
      <label class="check">
        <input type="checkbox" checked={sure} onChange={(e) => setSure(e.currentTarget.checked)} />
        Yes, unlink us
      </label>
      <ErrorText error={unlink.error} />
      <button type="button" class="danger" disabled={!sure || unlink.busy} onClick={() => void unlink.go()}>
        Unlink
      </button>
    </section>
  );
}

function SafetyExit() {
  const { session } = useSession();
  const [password, setPassword] = useState("");
  const [erase, setErase] = useState(false);
  const leave = useAction(() => session.leave(password, erase));
  return (
    <ActionForm
      title="Leave safely"
      headingId="exit-heading"
      action={leave}
      submit={erase ? "Leave and erase" : "Leave now"}
      submitClass="danger"
      submitTestId="leave"
    >
      <p>
        One step: unlinks you, signs you out on every device, and stops every reminder. Your
        partner gets no notification and sees only that you are no longer linked, exactly as
        after an ordinary unlink: not how you left, or why. With only two of you, they can tell
        that the link ended.
      </p>
      <p>
        Erasing your account also takes your name and what you wrote out of their copy, which
        they may notice.
      </p>
      <Field
        id="exit-password"
        label="Your password"
        type="password"
        required
        autoComplete="current-password"
        value={password}
        onInput={(e) => setPassword(e.currentTarget.value)}
      />
      <label class="check">
        <input type="checkbox" checked={erase} onChange={(e) => setErase(e.currentTarget.checked)} />
        Also erase my account and everything in it
      </label>
    </ActionForm>
  );
}
