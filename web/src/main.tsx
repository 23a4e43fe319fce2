/** Entry: opens the one live connection and renders the dashboard. */
import { render } from "preact";
import { App } from "./app";
import { live } from "./live";
import "./styles.css";

live.start();
render(<App />, document.getElementById("app")!);
