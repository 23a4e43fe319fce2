/**
 * Syntax highlighting of pipeline files: highlight.js core with its TypeScript grammar only (the bundle
 * carries no other language), split into one well-formed HTML string per source line. Pure: tested in Node.
 */
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";

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

/** `source` as highlighted HTML, one string per line (highlight.js escapes the text). */
export function highlightLines(source: string): string[] {
  return splitHighlighted(hljs.highlight(source, { language: "typescript", ignoreIllegals: true }).value);
}
