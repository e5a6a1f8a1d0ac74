// What a module threw, read without trusting it: a thrown value may be any
// value at all, one whose every reading throws (a getter, a Proxy, an object
// with no prototype), or a message of megabytes.

/** Whether `e` is an instance of `cls`; false for a value whose prototype
 * cannot even be read (a Proxy may refuse). */
export function isA(e: unknown, cls: abstract new (...args: never[]) => unknown): boolean {
  try {
    return e instanceof cls;
  } catch {
    return false;
  }
}

/** The longest description kept: reports quote it, and one thrown message
 * must not make a report of megabytes. */
const MAX_CHARS = 2000;

/** What `e` says of itself: an Error's message, a string as it is, any
 * other value as String() gives it, or, where reading it throws, its kind. */
export function describeThrown(e: unknown): string {
  let text: string;
  try {
    text = isA(e, Error) ? String((e as Error).message) : String(e);
  } catch {
    text = kindOf(e);
  }
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}… (${text.length - MAX_CHARS} more characters)` : text;
}

function kindOf(e: unknown): string {
  try {
    return `${Object.prototype.toString.call(e)} that cannot be read as text`;
  } catch {
    return `a ${typeof e} that cannot be read as text`;
  }
}
