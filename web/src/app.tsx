import { useEffect } from "preact/hooks";
import { useSession } from "./context";
import { Link, type Route, navigate, useRoute } from "./router";
import { CrisisScreen } from "./screens/crisis";
import { GrowthScreen } from "./screens/growth";
import { HomeScreen } from "./screens/home";
import { LeaveScreen } from "./screens/leave";
import { LinkScreen } from "./screens/link";
import { ReadingScreen } from "./screens/reading";
import { RepairScreen } from "./screens/repair";
import { RitualsScreen } from "./screens/rituals";
import { SessionsScreen } from "./screens/sessions";
import { SettingsScreen } from "./screens/settings";
import { Private } from "./screens/unlock";
import { WelcomeScreen } from "./screens/welcome";
import { useStore } from "./store";
import { countdown } from "./time";
import { useNow } from "./ui";

// What each phase may show; anything else sends the person to the phase's own start.
const OPEN: readonly Route[] = ["/crisis"];
const SIGNED_OUT: readonly Route[] = ["/welcome", ...OPEN];
const ALONE: readonly Route[] = ["/link", "/growth", "/settings", "/sessions", "/leave", ...OPEN];

function allowed(phase: string, route: Route): Route | null {
  if (phase === "signed_out") return SIGNED_OUT.includes(route) ? null : "/welcome";
  if (phase === "unlinked") return ALONE.includes(route) ? null : "/link";
  if (phase === "linked") return route === "/welcome" || route === "/link" ? "/" : null;
  return null;
}

export function App() {
  const { session, view } = useSession();
  const { route } = useRoute();
  const redirect = allowed(view.phase, route);
  useEffect(() => {
    if (redirect) navigate(redirect, true);
  }, [redirect]);

  return (
    <>
      <a class="skip-link" href="#content">
        Skip to content
      </a>
      <header class="top">
        <Link to={view.phase === "signed_out" ? "/welcome" : "/"} class="brand">
          Twofold
        </Link>
        <div class="top-right">
          {view.phase === "linked" && <Presence />}
          <Link to="/crisis" class="help-now" data-testid="help-now">
            Help now
          </Link>
        </div>
      </header>
      {view.phase === "linked" && <Nav />}
      {view.phase === "unlinked" && <AloneNav />}
      <StatusLine />
      {view.phase === "linked" && route !== "/" && <PauseBanner />}
      <main id="content">
        {view.phase === "loading" ? (
          <p>Opening Twofold…</p>
        ) : view.phase === "unreachable" && route !== "/crisis" ? (
          <Unreachable retry={() => void session.boot()} />
        ) : redirect ? null : (
          <Screen route={route} />
        )}
      </main>
      <Announcer />
    </>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route) {
    case "/welcome":
      return <WelcomeScreen />;
    case "/link":
      return <LinkScreen />;
    case "/reading":
      return <ReadingScreen />;
    case "/repair":
      return <RepairScreen />;
    case "/rituals":
      return <RitualsScreen />;
    case "/growth":
      return (
        <Private>
          <GrowthScreen />
        </Private>
      );
    case "/settings":
      return <SettingsScreen />;
    case "/sessions":
      return (
        <Private>
          <SessionsScreen />
        </Private>
      );
    case "/leave":
      return (
        <Private>
          <LeaveScreen />
        </Private>
      );
    case "/crisis":
      return <CrisisScreen />;
    case "/":
      return <HomeScreen />;
  }
}

function Nav() {
  return (
    <nav class="nav" aria-label="Practices">
      <Link to="/">Home</Link>
      <Link to="/reading">Reading</Link>
      <Link to="/repair">Repair</Link>
      <Link to="/rituals">Rituals</Link>
      <Link to="/growth">Growth</Link>
      <Link to="/settings">Settings</Link>
    </nav>
  );
}

function AloneNav() {
  return (
    <nav class="nav" aria-label="Sections">
      <Link to="/link">Link up</Link>
      <Link to="/growth">Growth</Link>
      <Link to="/settings">Settings</Link>
    </nav>
  );
}

function Presence() {
  const { session, view } = useSession();
  const name = session.partnerName();
  // Offline, nothing is known of the partner: say nothing rather than something stale.
  if (view.status !== "live") return null;
  return (
    <span class={`presence${view.partnerOnline ? " online" : ""}`} data-testid="presence">
      <span class="dot" aria-hidden="true" />
      {view.partnerOnline ? `${name} is here` : `${name} is away`}
    </span>
  );
}

function StatusLine() {
  const { view } = useSession();
  if (view.phase !== "linked" && view.phase !== "unlinked") return null;
  const waiting = view.pending.length;
  let text: string | null = null;
  if (!view.online) {
    text = "You're offline. What you add is kept here and sent when you're back.";
  } else if (view.status === "offline") {
    // The client is waiting to try again (the server is away, or restarting).
    text = "Reconnecting…";
  }
  if (waiting && text) text += ` ${waiting} waiting to send.`;
  if (!text) return null;
  return (
    <p class="status-line" role="status" data-testid="status-line">
      {text}
    </p>
  );
}

function PauseBanner() {
  const { view } = useSession();
  const now = useNow();
  const pause = view.state?.pause;
  if (!pause || pause.state !== "active") return null;
  const left = Date.parse(pause.ends_at) - now;
  if (left <= 0) return null;
  return (
    <p class="pause-banner" role="status">
      A pause is on: {countdown(left)} left. <Link to="/">Go to the pause</Link>
    </p>
  );
}

function Unreachable({ retry }: { retry: () => void }) {
  return (
    <>
      <h1>Twofold can't be reached</h1>
      <p>Check your connection. Twofold tries again by itself when you're back online.</p>
      <button type="button" onClick={retry}>
        Try again
      </button>
    </>
  );
}

function Announcer() {
  const { session } = useSession();
  const said = useStore(session.said);
  return (
    <div class="visually-hidden" aria-live="polite" data-testid="announcer">
      {said}
    </div>
  );
}
