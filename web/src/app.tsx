/**
 * The page: a skip link, the header with the navigation and the live connection state, and the view of
 * the current route in <main>. Focus moves to <main> on navigation (screen readers and keyboard users land
 * on what changed).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { getToken, isAuthRequired, onAuthRequired, setToken } from "./auth";
import { live, type ConnectionState } from "./live";
import { href, useRoute, type Route } from "./router";
import { DagView } from "./views/dag";
import { ErrorsView } from "./views/errors";
import { PipelineView } from "./views/pipeline";
import { PipelinesView } from "./views/pipelines";
import { RunPage } from "./views/run";
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

/** Shown when a hosted instance refused the request for want of a (valid) token. */
function SignIn() {
  const [value, setValue] = useState("");
  const hadToken = getToken() !== null;
  return (
    <section aria-labelledby="signin-title" class="signin">
      <h1 id="signin-title">Sign in</h1>
      <p>
        {hadToken ? "The daemon refused the token (invalid or expired)." : "This Tau instance needs a bearer token."} Paste a token issued for
        your tenant (an admin runs <code>tau tokens issue</code>). It is kept for this tab only.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value);
          location.reload();
        }}
      >
        <label>
          Access token
          <input type="password" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} required />
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </section>
  );
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
  }, [JSON.stringify(route)]);

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
        <span class={`conn conn-${state}`} role="status" aria-live="polite" data-testid="connection">
          <span class="dot" aria-hidden="true" />
          {STATE_TEXT[state]}
        </span>
        {getToken() !== null && (
          <button
            type="button"
            class="signout"
            onClick={() => {
              setToken(null);
              location.reload();
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {authNeeded ? <SignIn /> : <View route={route} />}
      </main>
    </>
  );
}

function titleOf(route: Route): string {
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
