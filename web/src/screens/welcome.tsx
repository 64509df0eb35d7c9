import { useState } from "preact/hooks";
import { ApiError } from "../client";
import { useSession } from "../context";
import type { SignUpFields } from "../session";
import { ActionForm, Field, Screen, useAction } from "../ui";

export function WelcomeScreen() {
  const { view } = useSession();
  const [mode, setMode] = useState<"sign-up" | "sign-in">("sign-up");
  return (
    <Screen title={mode === "sign-up" ? "Make your account" : "Sign in"}>
      {view.farewell && (
        <p class="notice" role="status">
          {view.farewell}
        </p>
      )}
      <p class="muted">
        Twofold is a quiet place for two: a pause when things run hot, a nightly check-in, repair
        after a rupture, and small rituals that keep you close.
      </p>
      {mode === "sign-up" ? <SignUp /> : <SignIn />}
      <p>
        {mode === "sign-up" ? "Have an account already? " : "New to Twofold? "}
        <button
          type="button"
          class="link"
          onClick={() => setMode(mode === "sign-up" ? "sign-in" : "sign-up")}
        >
          {mode === "sign-up" ? "Sign in" : "Make an account"}
        </button>
      </p>
    </Screen>
  );
}

function SignUp() {
  // Kept in memory only, for the second step: the account is made from the fields sent with
  // the code, so they are sent again.
  const [asked, setAsked] = useState<SignUpFields | null>(null);
  return asked === null ? (
    <SignUpForm onAsked={setAsked} />
  ) : (
    <SignUpCode fields={asked} onBack={() => setAsked(null)} />
  );
}

function SignUpForm({ onAsked }: { onAsked: (fields: SignUpFields) => void }) {
  const { session } = useSession();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction(async () => {
    const fields = { display_name: name.trim(), email: email.trim(), password };
    await session.askSignUp(fields);
    onAsked(fields);
  });
  return (
    <ActionForm
      title="Make your account"
      action={action}
      submit={action.busy ? "Making your account…" : "Make my account"}
    >
      <Field
        id="signup-name"
        label="Your first name"
        hint="What your partner will see."
        required
        maxLength={60}
        autoComplete="given-name"
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <Field
        id="signup-email"
        label="Email"
        type="email"
        required
        autoComplete="email"
        value={email}
        onInput={(e) => setEmail(e.currentTarget.value)}
      />
      <Field
        id="signup-password"
        label="Password"
        type="password"
        hint="At least 10 characters."
        required
        minLength={10}
        autoComplete="new-password"
        value={password}
        onInput={(e) => setPassword(e.currentTarget.value)}
      />
    </ActionForm>
  );
}

function SignUpCode({ fields, onBack }: { fields: SignUpFields; onBack: () => void }) {
  const { session } = useSession();
  const [code, setCode] = useState("");
  const action = useAction(() => session.confirmSignUp(fields, code.trim()));
  return (
    <>
      <ActionForm
        title="Check your mail"
        action={action}
        submit={action.busy ? "Making your account…" : "Make my account"}
      >
        <p>
          We sent a code to <strong>{fields.email}</strong>. It works for 30 minutes. If this
          address has an account already, the mail says so instead: sign in then.
        </p>
        <Field
          id="signup-code"
          label="Code from the mail"
          hint="Like ABCD-EFGH-JKMN; case and dashes do not matter."
          required
          maxLength={64}
          autoComplete="one-time-code"
          autoCapitalize="characters"
          spellcheck={false}
          value={code}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
      </ActionForm>
      <p>
        <button type="button" class="link" onClick={onBack}>
          Use another address
        </button>
      </p>
    </>
  );
}

function SignIn() {
  const { session } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  // Asked for only when the sign-in was refused with email_code_required.
  const [code, setCode] = useState<string | null>(null);
  const action = useAction(() =>
    session.signIn({ email: email.trim(), password, ...(code ? { email_code: code.trim() } : {}) }),
  );
  const ask = useAction(async () => {
    await session.askSignInCode(email.trim());
    setCode("");
  });
  const needsCode = action.error instanceof ApiError && action.error.code === "email_code_required";
  return (
    <>
      <ActionForm title="Sign in" action={action} submit={action.busy ? "Signing in…" : "Sign in"}>
        <Field
          id="signin-email"
          label="Email"
          type="email"
          required
          autoComplete="email"
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <Field
          id="signin-password"
          label="Password"
          type="password"
          required
          autoComplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {code !== null && (
          <Field
            id="signin-code"
            label="Code from the mail"
            hint={`We sent a code to ${email.trim()}. It works once, for 30 minutes.`}
            required
            autoComplete="one-time-code"
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        )}
      </ActionForm>
      {needsCode && code === null && (
        <ActionForm action={ask} submit={ask.busy ? "Sending…" : "Mail me a code"} submitClass="quiet">
          <p class="muted">A code mailed to your address proves it is you, without waiting.</p>
        </ActionForm>
      )}
    </>
  );
}
