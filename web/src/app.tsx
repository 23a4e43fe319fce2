/**
 * The page: a skip link, the header with the navigation and the live connection state, and the view of
 * the current route in <main>. Focus moves to <main> on navigation (screen readers and keyboard users land
 * on what changed).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { authError, isAuthRequired, onAuthRequired } from "./auth";
import { Identity } from "./components/identity";
import { live, type ConnectionState } from "./live";
import { href, useRoute, type Route } from "./router";
import { DagView } from "./views/dag";
import { ErrorsView } from "./views/errors";
import { PipelineView } from "./views/pipeline";
import { PipelinesView } from "./views/pipelines";
import { RunPage } from "./views/run";
import { SignIn } from "./views/sign-in";
import { StatusView } from "./views/status";

const NAV: Array<{ label: string; to: string; views: Route["view"][] }> = [
  { label: "Pipelines", to: href.pipelines(), views: ["pipelines", "pipeline", "run"] },
  { label: "Graph", to: href.dag(), views: ["dag"] },
  { label: "Errors", to: href.errors(), views: ["errors"] },
  { label: "Status", to: href.status(), views: ["status"] },
];

const STATE_TEXT: Record<ConnectionState, string> = { connecting: "Connecting…", open: "Live", reconnecting: "Reconnecting…" };

function View({ route }: { route: Route }) {
  switch (route.view) {
    case "pipelines":
      return <PipelinesView />;
    case "pipeline":
      return <PipelineView name={route.name} key={route.name} />;
    case "run":
      return <RunPage id={route.id} key={route.id} />;
    case "dag":
      return <DagView />;
    case "errors":
      return <ErrorsView />;
    case "status":
      return <StatusView />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing at <code>{route.path}</code>. <a href={href.pipelines()}>Back to the pipelines</a>.
          </p>
        </section>
      );
  }
}

export function App() {
  const route = useRoute();
  const [authNeeded, setAuthNeeded] = useState(isAuthRequired());
  useEffect(() => onAuthRequired(setAuthNeeded), []);
  const [state, setState] = useState<ConnectionState>(live.connectionState);
  useEffect(() => {
    const stop = live.onState(setState);
    // The socket may have opened between the first render and this effect.
    setState(live.connectionState);
    return stop;
  }, []);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    document.title = `${titleOf(route)} · Tau`;
    if (first.current) {
      first.current = false;
      return;
    }
    // Keyboard and screen-reader users land on the new view, not on the link they left.
    main.current?.focus({ preventScroll: false });
  }, [JSON.stringify(route), authNeeded]);

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href.pipelines()} aria-label="Tau dashboard home">
          τ <span>Tau</span>
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <a href={n.to} aria-current={n.views.includes(route.view) ? "page" : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {/* Signed out, the connection is closed on purpose: "Reconnecting…" would be a false alarm. */}
        <span class={`conn conn-${authNeeded ? "closed" : state}`} role="status" aria-live="polite" data-testid="connection">
          <span class="dot" aria-hidden="true" />
          {authNeeded ? "Not signed in" : STATE_TEXT[state]}
        </span>
        {!authNeeded && <Identity />}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {authNeeded ? <SignIn error={authError()} /> : <View route={route} />}
      </main>
    </>
  );
}

function titleOf(route: Route): string {
  if (isAuthRequired()) return "Sign in";
  switch (route.view) {
    case "pipeline":
      return route.name;
    case "run":
      return `Run ${route.id}`;
    case "dag":
      return "Graph";
    case "errors":
      return "Errors";
    case "status":
      return "Status";
    case "pipelines":
      return "Pipelines";
    default:
      return "Not found";
  }
}
