/**
 * Entry: opens the one live connection and renders the dashboard. On a hosted instance the connection is
 * closed for good once the daemon asks for a token (signing in reloads the page), a refused WebSocket
 * upgrade is explained by asking over HTTP, and the token's expiry returns the page to the sign-in panel.
 */
import { render } from "preact";
import { api } from "./api";
import { App } from "./app";
import { onAuthRequired, watchExpiry } from "./auth";
import { live } from "./live";
import "./styles.css";

const probe = (): Promise<unknown> => api.status();
onAuthRequired(() => live.stop());
live.onConnectFailed = () => void probe().catch(() => undefined);
watchExpiry(probe);
live.start();
render(<App />, document.getElementById("app")!);
