// A search written as a generator that pauses after each state, run in
// one go or with the event loop let in every so often: a signal handler
// or a progress display gets its turn in a search on this thread.

/** How long a search runs between letting the event loop in. */
const YIELD_EVERY_MS = 50;

export function runThrough<T>(search: Generator<void, T>): T {
  let r = search.next();
  while (r.done !== true) r = search.next();
  return r.value;
}

export async function runLettingIn<T>(search: Generator<void, T>): Promise<T> {
  let since = Date.now();
  let r = search.next();
  while (r.done !== true) {
    if (Date.now() - since > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      since = Date.now();
    }
    r = search.next();
  }
  return r.value;
}
