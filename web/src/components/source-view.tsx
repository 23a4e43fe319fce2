/**
 * A pipeline file, highlighted (highlight.js core with its TypeScript grammar only), with line numbers; an
 * error's line is marked, labelled and scrolled into view.
 */
import { useEffect, useMemo, useRef } from "preact/hooks";
import { highlightLines } from "../highlight";

export interface SourceViewProps {
  source: string;
  filename: string;
  /** 1-based line to mark (an error's line). */
  errorLine?: number | null;
  errorColumn?: number | null;
  errorLabel?: string;
}

export function SourceView({ source, filename, errorLine, errorColumn, errorLabel }: SourceViewProps) {
  const lines = useMemo(() => highlightLines(source), [source]);
  const marked = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = marked.current;
    const container = box.current;
    if (el && container) container.scrollTop = Math.max(0, el.offsetTop - container.clientHeight / 3);
  }, [errorLine, source]);
  return (
    <div class="source" ref={box} tabIndex={0} role="region" aria-label={`Source of ${filename}${errorLine ? `, error at line ${errorLine}` : ""}`}>
      <pre class="hljs">
        <code>
          {lines.map((html, i) => {
            const n = i + 1;
            const isError = n === errorLine;
            return (
              <div
                key={n}
                ref={isError ? marked : undefined}
                class={isError ? "src-line error-line" : "src-line"}
                data-line={n}
                aria-current={isError ? "location" : undefined}
                title={isError ? errorLabel : undefined}
              >
                <span class="ln" aria-hidden="true">
                  {n}
                </span>
                <span class="src" dangerouslySetInnerHTML={{ __html: html || " " }} />
                {isError && (
                  <span class="error-marker">
                    {" "}
                    ◀ {errorLabel ?? "error"}
                    {errorColumn ? ` (column ${errorColumn})` : ""}
                  </span>
                )}
              </div>
            );
          })}
        </code>
      </pre>
    </div>
  );
}
