import type { ComponentChildren, JSX } from "preact";
import { Store, useStore } from "./store";

/** The app's own routes; the server answers index.html for any of them, so a reload works. */
export type Route =
  | "/"
  | "/welcome"
  | "/link"
  | "/reading"
  | "/repair"
  | "/rituals"
  | "/growth"
  | "/settings"
  | "/sessions"
  | "/leave"
  | "/crisis";

const ROUTES: readonly Route[] = [
  "/",
  "/welcome",
  "/link",
  "/reading",
  "/repair",
  "/rituals",
  "/growth",
  "/settings",
  "/sessions",
  "/leave",
  "/crisis",
];

function parse(pathname: string): Route {
  const found = ROUTES.find((r) => r === pathname.replace(/\/+$/, "") || r === pathname);
  return found ?? "/";
}

interface Location {
  route: Route;
  // Counts navigations inside the app: a screen moves focus to its heading only after one,
  // so a screen reader hears where it landed, while the first load leaves focus alone.
  moves: number;
}

export const location$ = new Store<Location>({ route: parse(window.location.pathname), moves: 0 });

window.addEventListener("popstate", () => {
  location$.set({ route: parse(window.location.pathname), moves: location$.value.moves + 1 });
});

// Screens that leave no entry in the tab's history: going to one, or from one, replaces the
// entry it takes, so Back never shows that she looked for help or for the way out.
const UNRECORDED: readonly Route[] = ["/crisis", "/leave"];

export function navigate(route: Route, replace = false): void {
  const from = location$.value.route;
  if (route === from) return;
  if (replace || UNRECORDED.includes(route) || UNRECORDED.includes(from)) history.replaceState(null, "", route);
  else history.pushState(null, "", route);
  location$.set({ route, moves: location$.value.moves + 1 });
}

export function useRoute(): Location {
  return useStore(location$);
}

type LinkProps = Omit<JSX.IntrinsicElements["a"], "href"> & {
  to: Route;
  children: ComponentChildren;
};

export function Link({ to, children, ...rest }: LinkProps) {
  const { route } = useRoute();
  return (
    <a
      {...rest}
      href={to}
      aria-current={route === to ? "page" : undefined}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
