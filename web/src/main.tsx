import { render } from "preact";
import { App } from "./app";
import { SessionContext } from "./context";
import { listenForQuickExit } from "./exit";
import { Session } from "./session";
import "./styles.css";

// The app talks to the server that served it.
const session = new Session(window.location.origin);
void session.boot();
listenForQuickExit();

render(
  <SessionContext.Provider value={session}>
    <App />
  </SessionContext.Provider>,
  document.getElementById("app")!,
);
