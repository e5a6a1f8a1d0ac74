// Saved SYNs from the lane are compared byte for byte: the lane chose every
// byte it sent, so every byte is predictable. A difference is named by the
// header field that holds it (laid out from the expected bytes), so a report
// says "ip.ttl" rather than "byte 22".

interface Span { name: string; start: number; end: number }

const EXT_NAMES: Record<number, string> = { 0: 'hopByHop', 43: 'routing', 60: 'destOpts' };
const OPTION_NAMES: Record<number, string> = { 0: 'eol', 1: 'nop', 2: 'mss', 3: 'windowScale', 4: 'sackPermitted', 8: 'timestamps', 34: 'fastOpen' };

/** The header fields of `b` (headers from the MAC or the IP header on), in
 * order; bytes the layout cannot place get a span of their own. */
export function fieldSpans(b: Uint8Array): Span[] {
  const out: Span[] = [];
  const add = (name: string, start: number, len: number): void => {
    if (start < b.length && len > 0) out.push({ name, start, end: Math.min(b.length, start + len) });
  };
  let ip = 0;
  if (b.length > 0 && b[0] >> 4 !== 4 && b[0] >> 4 !== 6) {
    add('mac.dst', 0, 6); add('mac.src', 6, 6); add('mac.etherType', 12, 2);
    ip = 14;
  }
  let tcp: number;
  if (b[ip] >> 4 === 4) {
    const ihl = Math.max(20, (b[ip] & 15) * 4);
    add('ip.versionIhl', ip, 1); add('ip.tos', ip + 1, 1); add('ip.totalLen', ip + 2, 2); add('ip.id', ip + 4, 2);
    add('ip.fragment(DF)', ip + 6, 2); add('ip.ttl', ip + 8, 1); add('ip.protocol', ip + 9, 1); add('ip.checksum', ip + 10, 2);
    add('ip.src', ip + 12, 4); add('ip.dst', ip + 16, 4); add('ip.options', ip + 20, ihl - 20);
    tcp = ip + ihl;
  } else {
    add('ip.versionClassFlowLabel', ip, 4); add('ip.payloadLen', ip + 4, 2); add('ip.nextHeader', ip + 6, 1);
    add('ip.hopLimit', ip + 7, 1); add('ip.src', ip + 8, 16); add('ip.dst', ip + 24, 16);
    tcp = ip + 40;
    // Extension headers, each named by the next-header value that announced it.
    for (let next = b[ip + 6]; EXT_NAMES[next] !== undefined && tcp + 2 <= b.length;) {
      const name = `ip.${EXT_NAMES[next]}`;
      const len = (b[tcp + 1] + 1) * 8;
      add(`${name}.nextHeader`, tcp, 1); add(`${name}.length`, tcp + 1, 1); add(`${name}.data`, tcp + 2, len - 2);
      next = b[tcp];
      tcp += len;
    }
  }
  add('tcp.sport', tcp, 2); add('tcp.dport', tcp + 2, 2); add('tcp.seq', tcp + 4, 4); add('tcp.ack', tcp + 8, 4);
  add('tcp.dataOffset', tcp + 12, 1); add('tcp.flags', tcp + 13, 1); add('tcp.window', tcp + 14, 2);
  add('tcp.checksum', tcp + 16, 2); add('tcp.urgent', tcp + 18, 2);
  const thl = tcp + 12 < b.length ? Math.max(20, (b[tcp + 12] >> 4) * 4) : 20;
  for (let i = tcp + 20; i < tcp + thl && i < b.length;) {
    const kind = b[i];
    const len = kind <= 1 ? 1 : Math.max(2, b[i + 1] ?? 2);
    add(`tcp.options.${OPTION_NAMES[kind] ?? `unknown(${kind})`}`, i, Math.min(len, tcp + thl - i));
    i += len;
  }
  add('payload', tcp + thl, b.length - tcp - thl);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') || '(none)';

/** Every field where `actual` differs from `expected`, as
 * "syn.FIELD: expected HEX, got HEX"; empty when the bytes are the same. */
export function savedSynDifferences(expected: Uint8Array, actual: Uint8Array): string[] {
  const out: string[] = [];
  const spans = fieldSpans(expected);
  const covered = spans.length > 0 ? spans[spans.length - 1].end : 0;
  const all = covered < expected.length ? [...spans, { name: 'bytes', start: covered, end: expected.length }] : spans;
  const reported = new Set<string>();
  for (const s of all) {
    const e = expected.subarray(s.start, s.end);
    const a = actual.subarray(s.start, Math.min(actual.length, s.end));
    if (e.length === a.length && e.every((x, i) => x === a[i])) continue;
    const name = reported.has(s.name) ? `${s.name}@${s.start}` : s.name;
    reported.add(s.name);
    out.push(`syn.${name}: expected ${hex(e)}, got ${hex(a)}`);
  }
  if (actual.length !== expected.length) {
    out.push(`syn.length: expected ${expected.length}, got ${actual.length}${actual.length > expected.length ? ` (extra ${hex(actual.subarray(expected.length))})` : ''}`);
  }
  return out;
}
