/** A mistake in what the user asked for: printed as one clear line, exit 2. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `text` as one line: a message may quote what the user gave (a value, a
 * file's first bytes in a parser's complaint), and a line break in it
 * would split what is promised as one line. Breaks are shown escaped. */
export function oneLine(text: string): string {
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}
