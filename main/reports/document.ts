/**
 * A tiny document model (headings, paragraphs, tables, key/value lists, preformatted text) with two renderers:
 * self-contained HTML (inline CSS, no scripts, prints well) and Markdown. Every piece of text from the history
 * (model and variant names, recipe values, report JSON) is escaped by the renderer, never by callers.
 */

export type Block =
  | { type: 'heading'; level: 1 | 2 | 3; text: string }
  | { type: 'para'; text: string; strong?: boolean }
  | { type: 'table'; headers: string[]; rows: string[][]; /** column indexes right-aligned (numbers) */ numeric?: number[] }
  | { type: 'kv'; pairs: [string, string][] }
  | { type: 'pre'; text: string };

export interface ReportDocument {
  title: string;
  blocks: Block[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Markdown allows raw HTML, so <, > and & become entities; Markdown punctuation is backslash-escaped. */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)
    .replace(/[\\`*_[\]{}()#+!|~]/g, (c) => `\\${c}`);
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.25rem;margin:2rem 0 .5rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
h3{font-size:1.05rem;margin:1.25rem 0 .4rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right}
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:.5rem 0 1rem}dt{color:#57606a}dd{margin:0}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
p.pick{background:#eef6ee;border-left:4px solid #2da44e;padding:.5rem .75rem}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}table,dl,pre{break-inside:avoid}th{background:#eee!important}}
`.trim();

export function renderHtml(doc: ReportDocument): string {
  const parts = doc.blocks.map((b) => {
    switch (b.type) {
      case 'heading':
        return `<h${b.level}>${escapeHtml(b.text)}</h${b.level}>`;
      case 'para':
        return b.strong ? `<p class="pick"><strong>${escapeHtml(b.text)}</strong></p>` : `<p>${escapeHtml(b.text)}</p>`;
      case 'table': {
        const num = new Set(b.numeric ?? []);
        const head = `<tr>${b.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
        const rows = b.rows.map((r) => `<tr>${r.map((c, i) => `<td${num.has(i) ? ' class="n"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
        return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows}\n</tbody>\n</table>`;
      }
      case 'kv':
        return `<dl>\n${b.pairs.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}\n</dl>`;
      case 'pre':
        return `<pre>${escapeHtml(b.text)}</pre>`;
    }
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // No scripts, no remote anything: the report must open safely anywhere.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...parts,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function renderMarkdown(doc: ReportDocument): string {
  const parts = doc.blocks.map((b) => {
    switch (b.type) {
      case 'heading':
        return `${'#'.repeat(b.level)} ${escapeMarkdown(b.text)}`;
      case 'para':
        return b.strong ? `**${escapeMarkdown(b.text)}**` : escapeMarkdown(b.text);
      case 'table': {
        const num = new Set(b.numeric ?? []);
        const row = (cells: string[]) => `| ${cells.map((c) => escapeMarkdown(c) || ' ').join(' | ')} |`;
        const sep = `|${b.headers.map((_, i) => (num.has(i) ? ' ---: ' : ' --- ')).join('|')}|`;
        return [row(b.headers), sep, ...b.rows.map(row)].join('\n');
      }
      case 'kv':
        return b.pairs.map(([k, v]) => `- **${escapeMarkdown(k)}:** ${escapeMarkdown(v)}`).join('\n');
      case 'pre': {
        // A fence longer than any backtick run inside, so the content cannot close it.
        const fence = '`'.repeat(Math.max(3, ...[...b.text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
        return `${fence}\n${b.text}\n${fence}`;
      }
    }
  });
  return `${parts.join('\n\n')}\n`;
}
