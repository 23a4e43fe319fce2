/**
 * A pipeline file, highlighted (highlight.js core with its TypeScript grammar only), with line numbers; an
 * error's line is marked, labelled and scrolled into view.
 */
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";
import { useEffect, useMemo, useRef } from "preact/hooks";

hljs.registerLanguage("typescript", typescript);

/**
 * Splits highlighted HTML into lines. A token can span lines (a block comment, a template string): its
 * spans are closed at each line end and reopened on the next line, so every line is well-formed HTML.
 */
export function splitHighlighted(html: string): string[] {
  const lines: string[] = [];
  const open: string[] = [];
  let current = "";
  const re = /<span class="[^"]*">|<\/span>|\n/g;
  let last = 0;
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    current += html.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[0] === "\n") {
      lines.push(current + "</span>".repeat(open.length));
      current = open.join("");
    } else if (m[0] === "</span>") {
      open.pop();
      current += m[0];
    } else {
      open.push(m[0]);
      current += m[0];
    }
  }
  current += html.slice(last);
  lines.push(current);
  return lines;
}

export interface SourceViewProps {
  source: string;
  filename: string;
  /** 1-based line to mark (an error's line). */
  errorLine?: number | null;
  errorColumn?: number | null;
  errorLabel?: string;
}

export function SourceView({ source, filename, errorLine, errorColumn, errorLabel }: SourceViewProps) {
  const lines = useMemo(() => splitHighlighted(hljs.highlight(source, { language: "typescript", ignoreIllegals: true }).value), [source]);
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
