// Text from an implementation (its name, its site labels, its errors) in
// Markdown: a module may put backticks, pipes or line breaks in any of
// them, and must not end a code block, a code span or a table cell early.

/** The longest run of backticks in `s`. */
function longestTicks(s: string): number {
  let best = 0;
  for (const m of s.matchAll(/`+/g)) best = Math.max(best, m[0].length);
  return best;
}

/** A fenced block holding `body` whatever it contains. */
export function block(body: string, info = ''): string[] {
  const fence = '`'.repeat(Math.max(3, longestTicks(body) + 1));
  return [`${fence}${info}`, body, fence];
}

/** A code span holding `s` on one line, whatever it contains. */
export function span(s: string): string {
  const flat = oneLine(s);
  const ticks = '`'.repeat(longestTicks(flat) + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

/** A code span in a table cell: GFM reads `\|` there as a pipe of the
 * span's, and nothing else in a span as markup. */
export function cellSpan(s: string): string {
  return span(s).replace(/\|/g, '\\|');
}

/** A table cell's text: on one line, its pipes kept inside the cell. */
export function cellText(s: string): string {
  return oneLine(s).replace(/[\\|]/g, '\\$&').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Plain text in running Markdown (a heading, a cell, mid-line): nothing
 * in it is read as markup. An underscore inside a word (tcp_input.c) is
 * never emphasis, so it is left as it reads. */
export function plain(s: string): string {
  return oneLine(s).replace(/[\\`*[\]|<>]/g, '\\$&').replace(/&/g, '&amp;').replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_');
}

/** A paragraph of text that may hold a module's words: as plain() reads
 * it, but a pipe or a `>` inside a line is no markup there, so they are
 * left as they read (a paragraph is read in mail too). */
export function prose(s: string): string {
  return oneLine(s).replace(/[\\`*[\]<]/g, '\\$&').replace(/&/g, '&amp;').replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')
    .replace(/^([#>])/, '\\$1');
}

/** Any line break (CR, LF, CRLF, the Unicode separators) as one space:
 * Markdown ends a line, and so a cell or a heading, at each. */
function oneLine(s: string): string {
  return s.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ');
}
