// Reading a file a campaign folder holds: a record savedsyn wrote, or
// whatever took its name. A FIFO or a device there would hold the read
// forever (nothing writes to it), and a file of gigabytes would fill the
// heap before it failed to parse: each is refused with a reason, which the
// folder's reader reports as it reports a record that does not parse.

import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';

/** Far beyond any record a campaign writes (the largest, coverage.json,
 * holds a count for each key a campaign has reached). */
const LIMIT = 256 * 1024 * 1024;

export function readRecord(path: string): string {
  // Non-blocking, so that opening a FIFO with no writer returns at once.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`not a regular file but ${kindOf(st)}`);
    if (st.size > LIMIT) throw new Error(`${st.size} bytes, more than any record savedsyn writes`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}
