// SYN bytes from a small descriptor, laid out as Linux sends them on
// loopback, and a parser that reads them back. The connection's identity is
// the TCP source port, so any slice that reaches the TCP header says whose
// SYN it is.

export type MacKind = 'ethernet' | 'loopback' | 'none';
export type FastOpenOption = 'none' | 'request' | 'cookie';

export interface PacketDescriptor {
  family: 4 | 6;
  /** 'none' is a tun-like device: no MAC header at all. */
  mac: MacKind;
  /** IPv4 only: a 4-byte Router Alert option. */
  ipOptions: boolean;
  mss: boolean;
  sackPermitted: boolean;
  timestamps: boolean;
  windowScale: boolean;
  fastOpen: FastOpenOption;
  /** Payload bytes after the TCP header. */
  payload: number;
}

export const DEFAULT_PACKET: PacketDescriptor = Object.freeze({
  family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true,
  windowScale: true, fastOpen: 'none', payload: 0,
});

export const SERVICE_PORT = 8080;
const PORT_BASE = 20000;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const MAC_LEN = 14;

export const sourcePort = (conn: number): number => PORT_BASE + conn;
export function connOfPort(port: number): number | undefined {
  return port >= PORT_BASE && port < PORT_BASE + 10000 ? port - PORT_BASE : undefined;
}

export interface BuiltPacket {
  conn: number;
  /** The whole frame: MAC header (if any), IP header, TCP header, payload. */
  bytes: Uint8Array;
  macLen: number;
  networkLen: number;
  tcpHeaderLen: number;
  payloadLen: number;
}

/** Built packets are immutable and deterministic, so they are cached. */
const cache = new Map<string, BuiltPacket>();

export function buildSyn(conn: number, d: PacketDescriptor): BuiltPacket {
  const key = `${conn}|${d.family}|${d.mac}|${d.ipOptions}|${d.mss}|${d.sackPermitted}|${d.timestamps}|${d.windowScale}|${d.fastOpen}|${d.payload}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const built = build(conn, d);
  if (cache.size > 10_000) cache.clear();
  cache.set(key, built);
  return built;
}

function tcpOptions(conn: number, d: PacketDescriptor): number[] {
  const o: number[] = [];
  if (d.mss) {
    const mss = d.family === 4 ? 65495 : 65476;
    o.push(2, 4, mss >> 8, mss & 0xff);
  }
  const tsval = (0x1000 + conn * 7) >>> 0;
  const ts = [8, 10, (tsval >>> 24) & 0xff, (tsval >>> 16) & 0xff, (tsval >>> 8) & 0xff, tsval & 0xff, 0, 0, 0, 0];
  if (d.sackPermitted && d.timestamps) o.push(4, 2, ...ts);
  else if (d.timestamps) o.push(1, 1, ...ts);
  else if (d.sackPermitted) o.push(1, 1, 4, 2);
  if (d.windowScale) o.push(1, 3, 3, 7);
  if (d.fastOpen === 'request') o.push(34, 2, 1, 1);
  if (d.fastOpen === 'cookie') {
    o.push(34, 10);
    for (let i = 0; i < 8; i++) o.push((conn * 13 + i * 29 + 0x5a) & 0xff);
    o.push(1, 1);
  }
  return o;
}

function build(conn: number, d: PacketDescriptor): BuiltPacket {
  const macLen = d.mac === 'none' ? 0 : MAC_LEN;
  const v4opts = d.family === 4 && d.ipOptions ? [148, 4, 0, 0] : [];
  const networkLen = d.family === 4 ? 20 + v4opts.length : 40;
  const opts = tcpOptions(conn, d);
  const tcpHeaderLen = 20 + opts.length;
  const payloadLen = d.payload;
  const bytes = new Uint8Array(macLen + networkLen + tcpHeaderLen + payloadLen);
  const view = new DataView(bytes.buffer);
  if (macLen) {
    if (d.mac === 'ethernet') bytes.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0);
    view.setUint16(12, d.family === 4 ? ETH_P_IP : ETH_P_IPV6);
  }
  const ip = macLen;
  const tcpLen = tcpHeaderLen + payloadLen;
  if (d.family === 4) {
    bytes[ip] = 0x40 | (networkLen / 4);
    view.setUint16(ip + 2, networkLen + tcpLen);
    view.setUint16(ip + 4, conn & 0xffff);
    view.setUint16(ip + 6, 0x4000);
    bytes[ip + 8] = 64;
    bytes[ip + 9] = 6;
    bytes.set([127, 0, 0, 1], ip + 12);
    bytes.set([127, 0, 0, 1], ip + 16);
    bytes.set(v4opts, ip + 20);
    view.setUint16(ip + 10, checksum(bytes, ip, networkLen, 0));
  } else {
    bytes[ip] = 0x60;
    view.setUint16(ip + 4, tcpLen);
    bytes[ip + 6] = 6;
    bytes[ip + 7] = 64;
    bytes[ip + 23] = 1;
    bytes[ip + 39] = 1;
  }
  const tcp = ip + networkLen;
  view.setUint16(tcp, sourcePort(conn));
  view.setUint16(tcp + 2, SERVICE_PORT);
  view.setUint32(tcp + 4, (0x53000000 + conn) >>> 0);
  bytes[tcp + 12] = (tcpHeaderLen / 4) << 4;
  bytes[tcp + 13] = 0x02;
  view.setUint16(tcp + 14, 65495);
  bytes.set(opts, tcp + 20);
  for (let i = 0; i < payloadLen; i++) bytes[tcp + tcpHeaderLen + i] = (conn * 31 + i) & 0xff;
  view.setUint16(tcp + 16, checksum(bytes, tcp, tcpLen, pseudoHeaderSum(bytes, ip, d.family, tcpLen)));
  return { conn, bytes, macLen, networkLen, tcpHeaderLen, payloadLen };
}

/** Bytes of the headers a reader can be given: MAC (optionally), IP, TCP. */
export function headerLength(p: BuiltPacket, withMac: boolean): number {
  return (withMac ? p.macLen : 0) + p.networkLen + p.tcpHeaderLen;
}

function sum16(bytes: Uint8Array, start: number, len: number): number {
  let s = 0;
  for (let i = 0; i + 1 < len; i += 2) s += (bytes[start + i] << 8) | bytes[start + i + 1];
  if (len & 1) s += bytes[start + len - 1] << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function checksum(bytes: Uint8Array, start: number, len: number, initial: number): number {
  return ~fold(initial + sum16(bytes, start, len)) & 0xffff;
}

function pseudoHeaderSum(bytes: Uint8Array, ip: number, family: 4 | 6, tcpLen: number): number {
  return family === 4
    ? sum16(bytes, ip + 12, 8) + 6 + tcpLen
    : sum16(bytes, ip + 8, 32) + 6 + tcpLen;
}

// --- parsing ---------------------------------------------------------------

export type TcpOption =
  | { kind: 'mss'; value: number }
  | { kind: 'sackPermitted' }
  | { kind: 'timestamps'; tsval: number; tsecr: number }
  | { kind: 'windowScale'; shift: number }
  | { kind: 'fastOpen'; cookie: number[] }
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'unknown'; code: number; data: number[] };

export interface ParsedSyn {
  mac: { kind: 'ethernet' | 'loopback'; etherType: number } | null;
  family: 4 | 6;
  ipHeaderLen: number;
  ipOptions: number[];
  ipId: number;
  ipChecksumOk: boolean | undefined;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: string[];
  window: number;
  tcpChecksum: number;
  tcpOptions: TcpOption[];
  tcpHeaderLen: number;
  /** Bytes present after the TCP header. */
  payloadLen: number;
  conn: number | undefined;
}

export type ParseResult = { ok: true; syn: ParsedSyn } | { ok: false; error: string };

const FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

/** Reads bytes that start at a MAC header or at the IP header; never throws. */
export function parseSyn(bytes: Uint8Array): ParseResult {
  if (bytes.length < 1) return { ok: false, error: 'empty' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let ip = 0;
  let mac: ParsedSyn['mac'] = null;
  const nibble = bytes[0] >> 4;
  if (nibble !== 4 && nibble !== 6) {
    if (bytes.length < MAC_LEN + 1) return { ok: false, error: `truncated MAC header (${bytes.length} bytes)` };
    const etherType = view.getUint16(12);
    if (etherType !== ETH_P_IP && etherType !== ETH_P_IPV6) return { ok: false, error: `unknown ethertype 0x${etherType.toString(16)}` };
    const zero = bytes.subarray(0, 12).every((b) => b === 0);
    mac = { kind: zero ? 'loopback' : 'ethernet', etherType };
    ip = MAC_LEN;
  }
  const version = bytes[ip] >> 4;
  let family: 4 | 6;
  let ipHeaderLen: number;
  let ipOptions: number[] = [];
  let src: string;
  let dst: string;
  let ipId = 0;
  let ipChecksumOk: boolean | undefined;
  if (version === 4) {
    family = 4;
    ipHeaderLen = (bytes[ip] & 0xf) * 4;
    if (ipHeaderLen < 20 || bytes.length < ip + ipHeaderLen) return { ok: false, error: 'truncated IPv4 header' };
    if (bytes[ip + 9] !== 6) return { ok: false, error: `IP protocol ${bytes[ip + 9]} is not TCP` };
    ipOptions = Array.from(bytes.subarray(ip + 20, ip + ipHeaderLen));
    ipId = view.getUint16(ip + 4);
    ipChecksumOk = fold(sum16(bytes, ip, ipHeaderLen)) === 0xffff;
    src = Array.from(bytes.subarray(ip + 12, ip + 16)).join('.');
    dst = Array.from(bytes.subarray(ip + 16, ip + 20)).join('.');
  } else if (version === 6) {
    family = 6;
    ipHeaderLen = 40;
    if (bytes.length < ip + 40) return { ok: false, error: 'truncated IPv6 header' };
    if (bytes[ip + 6] !== 6) return { ok: false, error: `next header ${bytes[ip + 6]} is not TCP` };
    src = v6text(bytes.subarray(ip + 8, ip + 24));
    dst = v6text(bytes.subarray(ip + 24, ip + 40));
  } else {
    return { ok: false, error: `IP version ${version}` };
  }
  const tcp = ip + ipHeaderLen;
  if (bytes.length < tcp + 20) return { ok: false, error: 'truncated TCP header' };
  const tcpHeaderLen = (bytes[tcp + 12] >> 4) * 4;
  if (tcpHeaderLen < 20 || bytes.length < tcp + tcpHeaderLen) return { ok: false, error: 'truncated TCP options' };
  const options = parseOptions(bytes.subarray(tcp + 20, tcp + tcpHeaderLen));
  if (options === undefined) return { ok: false, error: 'malformed TCP options' };
  const flagBits = bytes[tcp + 13];
  const sport = view.getUint16(tcp);
  return {
    ok: true,
    syn: {
      mac, family, ipHeaderLen, ipOptions, ipId, ipChecksumOk, src, dst,
      sport, dport: view.getUint16(tcp + 2), seq: view.getUint32(tcp + 4), ack: view.getUint32(tcp + 8),
      flags: FLAG_NAMES.filter((_, i) => flagBits & (1 << i)),
      window: view.getUint16(tcp + 14), tcpChecksum: view.getUint16(tcp + 16),
      tcpOptions: options, tcpHeaderLen, payloadLen: bytes.length - tcp - tcpHeaderLen, conn: connOfPort(sport),
    },
  };
}

function parseOptions(b: Uint8Array): TcpOption[] | undefined {
  const out: TcpOption[] = [];
  for (let i = 0; i < b.length;) {
    const code = b[i];
    if (code === 0) { out.push({ kind: 'eol' }); i++; continue; }
    if (code === 1) { out.push({ kind: 'nop' }); i++; continue; }
    const len = b[i + 1];
    if (len === undefined || len < 2 || i + len > b.length) return undefined;
    const data = Array.from(b.subarray(i + 2, i + len));
    if (code === 2 && len === 4) out.push({ kind: 'mss', value: (data[0] << 8) | data[1] });
    else if (code === 4 && len === 2) out.push({ kind: 'sackPermitted' });
    else if (code === 8 && len === 10) {
      const n = (k: number): number => ((data[k] << 24) | (data[k + 1] << 16) | (data[k + 2] << 8) | data[k + 3]) >>> 0;
      out.push({ kind: 'timestamps', tsval: n(0), tsecr: n(4) });
    } else if (code === 3 && len === 3) out.push({ kind: 'windowScale', shift: data[0] });
    else if (code === 34) out.push({ kind: 'fastOpen', cookie: data });
    else out.push({ kind: 'unknown', code, data });
    i += len;
  }
  return out;
}

function v6text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  const s = groups.join(':');
  // Compress the longest run of zero groups, as inet_ntop does.
  const m = s.match(/(^|:)0(:0)+(:|$)/g);
  if (!m) return s;
  const longest = m.reduce((a, c) => (c.length > a.length ? c : a));
  return s.replace(longest, '::');
}

/** Where `bytes` sit inside the packet: the offset of an exact match, or -1
 * when they are not a contiguous slice of it (a byte from outside). */
export function locate(bytes: Uint8Array, p: BuiltPacket): number {
  for (const start of [0, p.macLen]) {
    if (start + bytes.length > p.bytes.length) continue;
    let same = true;
    for (let i = 0; i < bytes.length && same; i++) same = bytes[i] === p.bytes[start + i];
    if (same) return start;
  }
  return -1;
}

// --- comparing with a live kernel ------------------------------------------

/** Fields no model can predict, named once. Everything else in a parsed SYN
 * must match field by field.
 *  - ip.id: the kernel's per-destination counter.
 *  - ip.checksum, tcp.checksum: follow from the fields above and the ISN.
 *  - tcp.seq: the initial sequence number is a keyed hash plus a clock.
 *  - tcp.options.timestamps: tsval is a per-connection offset plus jiffies.
 *  - tcp.options.fastOpen.cookie: derived from the kernel's secret key.
 *  - tcp.window: follows the receive buffer the kernel sizes at connect().
 *  - mac.addresses: loopback uses zeros, another device its own. */
export const UNPREDICTABLE_FIELDS: readonly string[] = [
  'ip.id', 'ip.checksum', 'tcp.checksum', 'tcp.seq', 'tcp.options.timestamps',
  'tcp.options.fastOpen.cookie', 'tcp.window', 'mac.addresses',
];

export function compareParsed(expected: ParsedSyn, actual: ParsedSyn): string[] {
  const diffs: string[] = [];
  const eq = (name: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${name}: expected ${JSON.stringify(a)}, got ${JSON.stringify(b)}`);
  };
  eq('mac', expected.mac?.etherType ?? null, actual.mac?.etherType ?? null);
  eq('ip.family', expected.family, actual.family);
  eq('ip.headerLen', expected.ipHeaderLen, actual.ipHeaderLen);
  eq('ip.options', expected.ipOptions, actual.ipOptions);
  eq('ip.src', expected.src, actual.src);
  eq('ip.dst', expected.dst, actual.dst);
  eq('tcp.sport', expected.sport, actual.sport);
  eq('tcp.dport', expected.dport, actual.dport);
  eq('tcp.ack', expected.ack, actual.ack);
  eq('tcp.flags', expected.flags, actual.flags);
  eq('tcp.headerLen', expected.tcpHeaderLen, actual.tcpHeaderLen);
  eq('tcp.payloadLen', expected.payloadLen, actual.payloadLen);
  const shape = (o: TcpOption): unknown => {
    if (o.kind === 'timestamps') return { kind: o.kind, tsecr: o.tsecr };
    if (o.kind === 'fastOpen') return { kind: o.kind, cookieLen: o.cookie.length };
    return o;
  };
  eq('tcp.options', expected.tcpOptions.map(shape), actual.tcpOptions.map(shape));
  return diffs;
}

export function describePacket(d: PacketDescriptor): string {
  const opts = [d.mss && 'MSS', d.sackPermitted && 'SACK', d.timestamps && 'TS', d.windowScale && 'WS',
    d.fastOpen === 'request' && 'TFO-req', d.fastOpen === 'cookie' && 'TFO-cookie'].filter(Boolean).join(' ');
  const ip = `IPv${d.family}${d.family === 4 && d.ipOptions ? '+opts' : ''}`;
  const mac = d.mac === 'none' ? 'no MAC' : d.mac === 'ethernet' ? 'eth' : 'lo';
  return `${ip}/${mac}, ${opts || 'no options'}${d.payload ? `, ${d.payload}B data` : ''}`;
}
