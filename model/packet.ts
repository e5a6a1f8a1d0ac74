// SYN bytes from a small descriptor, laid out as Linux sends them, and a
// parser that reads them back. The connection's identity is the TCP source
// port, so any slice that reaches the TCP header says whose SYN it is. Peers
// and the listener have documentation addresses (RFC 5737, RFC 3849): the
// live-kernel lane writes these very frames into a private namespace where
// the listener has those addresses.

export type MacKind = 'ethernet' | 'loopback' | 'none';
export type FastOpenOption = 'none' | 'request' | 'cookie';
/** The hop-by-hop header's length: none, a PadN filling 8 bytes, or 16
 * bytes holding a router alert between two PadN (Linux drops more than 7
 * bytes of padding in a row). */
export type HopByHopLen = 0 | 8 | 16;

export interface PacketDescriptor {
  family: 4 | 6;
  /** 'none' is a tun-like device: no MAC header at all. */
  mac: MacKind;
  /** IPv4 only: a 4-byte Router Alert option. Ignored for IPv6. */
  ipOptions: boolean;
  mss: boolean;
  sackPermitted: boolean;
  timestamps: boolean;
  windowScale: boolean;
  fastOpen: FastOpenOption;
  /** Payload bytes after the TCP header, 0..1400. */
  payload: number;
  // IPv6 extension headers, in the order Linux sends them (hop-by-hop,
  // routing, destination options: ipv6_push_nfrag_opts() then
  // ipv6_push_frag_opts()). Ignored for IPv4; absent means none, so
  // descriptors written before they existed still describe the same SYN.
  /** IPv6 only: a hop-by-hop options header of this many bytes. */
  hopByHop?: HopByHopLen;
  /** IPv6 only: a 24-byte segment routing header (type 4), one segment
   * (the listener), none left. */
  routing?: boolean;
  /** IPv6 only: an 8-byte destination options header (a PadN). */
  destOpts?: boolean;
}

export const DEFAULT_PACKET: PacketDescriptor = Object.freeze({
  family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true,
  windowScale: true, fastOpen: 'none', payload: 0,
});

export const SERVICE_PORT = 8080;
const PORT_BASE = 20000;
export const MAX_CONN = 9999;
const MAX_PAYLOAD = 1400;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const MAC_LEN = 14;
const ETH_DST = [2, 0, 0, 0, 0, 1];
const ETH_SRC = [2, 0, 0, 0, 0, 2];
const ROUTER_ALERT = [148, 4, 0, 0];
const PEER_V4 = [192, 0, 2, 2];
const LISTENER_V4 = [192, 0, 2, 1];
// 2001:db8::2 and 2001:db8::1.
const PEER_V6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const LISTENER_V6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
// What Linux puts in a loopback SYN: MSS is the lo MTU (65536) minus headers.
const SYN_WINDOW = 65495;
const MSS_V4 = 65495;
const MSS_V6 = 65476;
const WSCALE = 7;
const TTL = 64;

export function sourcePort(conn: number): number {
  return PORT_BASE + conn;
}

export function connOfPort(port: number): number | undefined {
  return Number.isInteger(port) && port >= PORT_BASE && port <= PORT_BASE + MAX_CONN ? port - PORT_BASE : undefined;
}

export interface BuiltPacket {
  conn: number;
  /** The whole frame: MAC header (if any), IP header, TCP header, payload. */
  bytes: Uint8Array;
  /** 14 or 0. */
  macLen: number;
  family: 4 | 6;
  /** IP header including options and IPv6 extension headers (the kernel's
   * skb_network_header_len()): 20, 24, or 40 plus extension headers. */
  networkLen: number;
  /** Bytes of IPv6 extension headers within networkLen; 0 for IPv4. */
  extHeaderLen: number;
  tcpHeaderLen: number;
  payloadLen: number;
}

// Built packets are deterministic and nothing writes into them, so the fuzz
// loop (which rebuilds the same SYN in spec, implementation and oracles)
// shares one copy.
const cache = new Map<string, BuiltPacket>();

/** The same, by descriptor object and connection: a descriptor is a value
 * nobody writes into either, and an op's is asked for several times (its
 * packet is built by the spec, the implementation and the oracles), so
 * most calls find it here without building the string key. */
const byDescriptor = new WeakMap<PacketDescriptor, Map<number, BuiltPacket>>();

/** The last packet asked for: a step asks the spec and then the
 * implementation for the same one, and a weak map lookup costs more than
 * this comparison. */
let lastDescriptor: PacketDescriptor | undefined;
let lastConn = -1;
let lastBuilt: BuiltPacket | undefined;

export function buildSyn(conn: number, d: PacketDescriptor): BuiltPacket {
  if (d === lastDescriptor && conn === lastConn) return lastBuilt!;
  const built = buildSynCached(conn, d);
  lastDescriptor = d;
  lastConn = conn;
  lastBuilt = built;
  return built;
}

function buildSynCached(conn: number, d: PacketDescriptor): BuiltPacket {
  let forDescriptor = byDescriptor.get(d);
  const known = forDescriptor?.get(conn);
  if (known !== undefined) return known;
  const built = buildSynByKey(conn, d);
  if (forDescriptor === undefined) {
    forDescriptor = new Map();
    byDescriptor.set(d, forDescriptor);
  }
  forDescriptor.set(conn, built);
  return built;
}

function buildSynByKey(conn: number, d: PacketDescriptor): BuiltPacket {
  if (!Number.isInteger(conn) || conn < 0 || conn > MAX_CONN) throw new RangeError(`conn ${conn} is outside 0..${MAX_CONN}`);
  if (!Number.isInteger(d.payload) || d.payload < 0 || d.payload > MAX_PAYLOAD) {
    throw new RangeError(`payload ${d.payload} is outside 0..${MAX_PAYLOAD}`);
  }
  const key = `${conn}|${d.family}|${d.mac}|${d.ipOptions}|${d.mss}|${d.sackPermitted}|${d.timestamps}|${d.windowScale}|${d.fastOpen}|${d.payload}|${extHeaderKey(d)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const built = build(conn, d);
  if (cache.size > 10_000) cache.clear();
  cache.set(key, built);
  return built;
}

/** The IPv6 extension headers a descriptor asks for, normalised: IPv4
 * descriptors have none whatever the fields say. */
export function extHeadersOf(d: PacketDescriptor): { hopByHop: HopByHopLen; routing: boolean; destOpts: boolean } {
  if (d.family !== 6) return { hopByHop: 0, routing: false, destOpts: false };
  const hopByHop = d.hopByHop ?? 0;
  if (hopByHop !== 0 && hopByHop !== 8 && hopByHop !== 16) throw new RangeError(`hopByHop ${String(hopByHop)} is not 0, 8 or 16`);
  return { hopByHop, routing: d.routing === true, destOpts: d.destOpts === true };
}

function extHeaderKey(d: PacketDescriptor): string {
  const e = extHeadersOf(d);
  return `${e.hopByHop}${e.routing ? 'r' : ''}${e.destOpts ? 'd' : ''}`;
}

const NEXTHDR_HOP = 0;
const NEXTHDR_TCP = 6;
const NEXTHDR_ROUTING = 43;
const NEXTHDR_DEST = 60;
const PADN_8 = [1, 4, 0, 0, 0, 0];
const RA_16 = [1, 4, 0, 0, 0, 0, 5, 2, 0, 0, 1, 2, 0, 0];

/** The extension headers as they sit between the IPv6 and TCP headers, and
 * the next-header value the IPv6 header carries. Each header's first byte
 * names the one after it; its second is its length in 8-byte units less one. */
function extHeaders(d: PacketDescriptor): { first: number; bytes: number[] } {
  const e = extHeadersOf(d);
  const chain: [number, number[]][] = [];
  if (e.hopByHop === 8) chain.push([NEXTHDR_HOP, [0, ...PADN_8]]);
  if (e.hopByHop === 16) chain.push([NEXTHDR_HOP, [1, ...RA_16]]);
  // Routing type 4 (SRH), segments left 0, last entry 0, flags 0, tag 0.
  if (e.routing) chain.push([NEXTHDR_ROUTING, [2, 4, 0, 0, 0, 0, 0, ...LISTENER_V6]]);
  if (e.destOpts) chain.push([NEXTHDR_DEST, [0, ...PADN_8]]);
  const bytes: number[] = [];
  chain.forEach(([, body], i) => bytes.push(i + 1 < chain.length ? chain[i + 1][0] : NEXTHDR_TCP, ...body));
  return { first: chain.length > 0 ? chain[0][0] : NEXTHDR_TCP, bytes };
}

// Values that only need to be recognisably this connection's.
const tsvalOf = (conn: number): number => (0x1000 + conn * 7) >>> 0;
const cookieOf = (conn: number): number[] => Array.from({ length: 8 }, (_, i) => (conn * 13 + i * 29 + 0x5a) & 0xff);
const payloadByte = (conn: number, i: number): number => (conn * 31 + i) & 0xff;

/** The option bytes in the order and alignment of Linux's tcp_options_write(). */
function tcpOptions(conn: number, d: PacketDescriptor): number[] {
  const o: number[] = [];
  if (d.mss) {
    const mss = d.family === 4 ? MSS_V4 : MSS_V6;
    o.push(2, 4, mss >> 8, mss & 0xff);
  }
  const tsval = tsvalOf(conn);
  const ts = [8, 10, (tsval >>> 24) & 0xff, (tsval >>> 16) & 0xff, (tsval >>> 8) & 0xff, tsval & 0xff, 0, 0, 0, 0];
  // SACK_PERM takes the place of the two NOPs that would align TS.
  if (d.sackPermitted && d.timestamps) o.push(4, 2, ...ts);
  else if (d.timestamps) o.push(1, 1, ...ts);
  else if (d.sackPermitted) o.push(1, 1, 4, 2);
  if (d.windowScale) o.push(1, 3, 3, WSCALE);
  if (d.fastOpen === 'request') o.push(34, 2, 1, 1);
  if (d.fastOpen === 'cookie') o.push(34, 10, ...cookieOf(conn), 1, 1);
  return o;
}

function build(conn: number, d: PacketDescriptor): BuiltPacket {
  const macLen = d.mac === 'none' ? 0 : MAC_LEN;
  const v4opts = d.family === 4 && d.ipOptions ? ROUTER_ALERT : [];
  const ext = extHeaders(d);
  const networkLen = d.family === 4 ? 20 + v4opts.length : 40 + ext.bytes.length;
  const opts = tcpOptions(conn, d);
  const tcpHeaderLen = 20 + opts.length;
  const payloadLen = d.payload;
  const bytes = new Uint8Array(macLen + networkLen + tcpHeaderLen + payloadLen);
  const view = new DataView(bytes.buffer);
  if (macLen) {
    if (d.mac === 'ethernet') bytes.set([...ETH_DST, ...ETH_SRC], 0);
    view.setUint16(12, d.family === 4 ? ETH_P_IP : ETH_P_IPV6);
  }
  const ip = macLen;
  const tcpLen = tcpHeaderLen + payloadLen;
  if (d.family === 4) {
    bytes[ip] = 0x40 | (networkLen / 4);
    view.setUint16(ip + 2, networkLen + tcpLen);
    view.setUint16(ip + 4, conn & 0xffff);
    view.setUint16(ip + 6, 0x4000); // DF
    bytes[ip + 8] = TTL;
    bytes[ip + 9] = 6;
    bytes.set(PEER_V4, ip + 12);
    bytes.set(LISTENER_V4, ip + 16);
    bytes.set(v4opts, ip + 20);
    view.setUint16(ip + 10, checksum(bytes, ip, networkLen, 0));
  } else {
    bytes[ip] = 0x60;
    view.setUint16(ip + 4, ext.bytes.length + tcpLen);
    bytes[ip + 6] = ext.first;
    bytes[ip + 7] = TTL;
    bytes.set(PEER_V6, ip + 8);
    bytes.set(LISTENER_V6, ip + 24);
    bytes.set(ext.bytes, ip + 40);
  }
  const tcp = ip + networkLen;
  view.setUint16(tcp, sourcePort(conn));
  view.setUint16(tcp + 2, SERVICE_PORT);
  view.setUint32(tcp + 4, (0x53000000 + conn) >>> 0);
  bytes[tcp + 12] = (tcpHeaderLen / 4) << 4;
  bytes[tcp + 13] = 0x02;
  view.setUint16(tcp + 14, SYN_WINDOW);
  bytes.set(opts, tcp + 20);
  for (let i = 0; i < payloadLen; i++) bytes[tcp + tcpHeaderLen + i] = payloadByte(conn, i);
  view.setUint16(tcp + 16, checksum(bytes, tcp, tcpLen, pseudoHeaderSum(bytes, ip, d.family, tcpLen)));
  return { conn, bytes, family: d.family, macLen, networkLen, extHeaderLen: ext.bytes.length, tcpHeaderLen, payloadLen };
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
  /** Raw IPv4 option bytes; empty for IPv6. */
  ipOptions: number[];
  /** IPv4 identification; 0 for IPv6. */
  ipId: number;
  /** IPv4 header checksum as sent, and whether it verifies; undefined for IPv6. */
  ipChecksum: number | undefined;
  ipChecksumOk: boolean | undefined;
  /** IPv6 flow label; undefined for IPv4. */
  ipFlowLabel: number | undefined;
  /** IPv6 extension headers in order (next-header code and bytes); empty
   * for IPv4. Not counted in ipHeaderLen. */
  ipExtHeaders: { code: number; bytes: number[] }[];
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
  try {
    return parse(bytes);
  } catch (e) {
    // Every read is bounds-checked; this only keeps a parser bug from
    // crashing the fuzz loop instead of being reported.
    return { ok: false, error: `parser error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function parse(bytes: Uint8Array): ParseResult {
  if (bytes.length < 1) return { ok: false, error: 'empty' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let ip = 0;
  let mac: ParsedSyn['mac'] = null;
  const nibble = bytes[0] >> 4;
  // Our MAC addresses start with 0x00 or 0x02, never a 4 or 6 nibble.
  if (nibble !== 4 && nibble !== 6) {
    if (bytes.length < MAC_LEN + 1) return { ok: false, error: `truncated MAC header (${bytes.length} bytes)` };
    const etherType = view.getUint16(12);
    if (etherType !== ETH_P_IP && etherType !== ETH_P_IPV6) return { ok: false, error: `unknown ethertype 0x${etherType.toString(16)}` };
    const zero = bytes.subarray(0, 12).every((b) => b === 0);
    mac = { kind: zero ? 'loopback' : 'ethernet', etherType };
    ip = MAC_LEN;
  }
  const version = bytes[ip] >> 4;
  if (mac && version !== (mac.etherType === ETH_P_IP ? 4 : 6)) {
    return { ok: false, error: `ethertype 0x${mac.etherType.toString(16)} carries IP version ${version}` };
  }
  let family: 4 | 6;
  let ipHeaderLen: number;
  let ipOptions: number[] = [];
  let src: string;
  let dst: string;
  let ipId = 0;
  let ipChecksum: number | undefined;
  let ipChecksumOk: boolean | undefined;
  let ipFlowLabel: number | undefined;
  const ipExtHeaders: ParsedSyn['ipExtHeaders'] = [];
  let extLen = 0;
  if (version === 4) {
    family = 4;
    ipHeaderLen = (bytes[ip] & 0xf) * 4;
    if (ipHeaderLen < 20) return { ok: false, error: `IPv4 header length ${ipHeaderLen}` };
    if (bytes.length < ip + ipHeaderLen) return { ok: false, error: 'truncated IPv4 header' };
    if (bytes[ip + 9] !== 6) return { ok: false, error: `IP protocol ${bytes[ip + 9]} is not TCP` };
    ipOptions = Array.from(bytes.subarray(ip + 20, ip + ipHeaderLen));
    ipId = view.getUint16(ip + 4);
    ipChecksum = view.getUint16(ip + 10);
    ipChecksumOk = fold(sum16(bytes, ip, ipHeaderLen)) === 0xffff;
    src = Array.from(bytes.subarray(ip + 12, ip + 16)).join('.');
    dst = Array.from(bytes.subarray(ip + 16, ip + 20)).join('.');
  } else if (version === 6) {
    family = 6;
    ipHeaderLen = 40;
    if (bytes.length < ip + 40) return { ok: false, error: 'truncated IPv6 header' };
    let next = bytes[ip + 6];
    while (next === NEXTHDR_HOP || next === NEXTHDR_ROUTING || next === NEXTHDR_DEST) {
      const at = ip + 40 + extLen;
      if (bytes.length < at + 2) return { ok: false, error: 'truncated IPv6 extension header' };
      const len = (bytes[at + 1] + 1) * 8;
      if (bytes.length < at + len) return { ok: false, error: 'truncated IPv6 extension header' };
      ipExtHeaders.push({ code: next, bytes: Array.from(bytes.subarray(at, at + len)) });
      next = bytes[at];
      extLen += len;
    }
    if (next !== 6) return { ok: false, error: `next header ${next} is not TCP` };
    ipFlowLabel = view.getUint32(ip) & 0xfffff;
    src = v6text(bytes.subarray(ip + 8, ip + 24));
    dst = v6text(bytes.subarray(ip + 24, ip + 40));
  } else {
    return { ok: false, error: `IP version ${version}` };
  }
  const tcp = ip + ipHeaderLen + extLen;
  if (bytes.length < tcp + 20) return { ok: false, error: 'truncated TCP header' };
  const tcpHeaderLen = (bytes[tcp + 12] >> 4) * 4;
  if (tcpHeaderLen < 20) return { ok: false, error: `TCP header length ${tcpHeaderLen}` };
  if (bytes.length < tcp + tcpHeaderLen) return { ok: false, error: 'truncated TCP options' };
  const options = parseOptions(bytes.subarray(tcp + 20, tcp + tcpHeaderLen));
  if (options === undefined) return { ok: false, error: 'malformed TCP options' };
  const flagBits = bytes[tcp + 13];
  const sport = view.getUint16(tcp);
  return {
    ok: true,
    syn: {
      mac, family, ipHeaderLen, ipOptions, ipId, ipChecksum, ipChecksumOk, ipFlowLabel, ipExtHeaders, src, dst,
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
      out.push({ kind: 'timestamps', tsval: be32(data, 0), tsecr: be32(data, 4) });
    } else if (code === 3 && len === 3) out.push({ kind: 'windowScale', shift: data[0] });
    else if (code === 34) out.push({ kind: 'fastOpen', cookie: data });
    else out.push({ kind: 'unknown', code, data });
    i += len;
  }
  return out;
}

/** inet_ntop-style text (longest run of two or more zero groups becomes "::"). */
function v6text(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  if (bestAt < 0) return hexGroups(groups);
  return `${hexGroups(groups.slice(0, bestAt))}::${hexGroups(groups.slice(bestAt + bestLen))}`;
}

// Module functions rather than closures made per call: the bounds oracle
// parses every SYN a read returns.
function be32(data: readonly number[], k: number): number {
  return ((data[k] << 24) | (data[k + 1] << 16) | (data[k + 2] << 8) | data[k + 3]) >>> 0;
}

function hexGroups(g: number[]): string {
  return g.map((x) => x.toString(16)).join(':');
}

/** Where `bytes` sit inside `p.bytes`: the offset at which they match
 * exactly, or -1 when they are not a contiguous slice of the packet (a byte
 * outside the packet). Offsets 0 and macLen are tried first because those are
 * where a reader's copy can legitimately start. */
export function locate(bytes: Uint8Array, p: BuiltPacket): number {
  const frame = p.bytes;
  if (bytes.length > frame.length) return -1;
  if (matchesAt(bytes, frame, 0)) return 0;
  if (p.macLen > 0 && p.macLen + bytes.length <= frame.length && matchesAt(bytes, frame, p.macLen)) return p.macLen;
  for (let start = 1; start + bytes.length <= frame.length; start++) {
    if (start !== p.macLen && matchesAt(bytes, frame, start)) return start;
  }
  return -1;
}

// A function of its own, not a closure made at each locate(): the bounds
// oracle calls locate() on every read.
function matchesAt(bytes: Uint8Array, frame: Uint8Array, start: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== frame[start + i]) return false;
  return true;
}

// --- comparing two SYNs field by field -----------------------------------

/** Every comparable field of a parsed SYN under a dotted name. A repeated TCP
 * option gets "#2", "#3"... after its kind. */
export function fieldsOf(s: ParsedSyn): Map<string, unknown> {
  const f = new Map<string, unknown>([
    ['mac.present', s.mac !== null],
    ['mac.etherType', s.mac?.etherType ?? null],
    ['mac.addresses', s.mac?.kind ?? null],
    ['ip.family', s.family],
    ['ip.headerLen', s.ipHeaderLen],
    ['ip.options', s.ipOptions],
    ['ip.id', s.family === 4 ? s.ipId : null],
    ['ip.checksum', s.ipChecksum ?? null],
    ['ip.checksumOk', s.ipChecksumOk ?? null],
    ['ip.flowLabel', s.ipFlowLabel ?? null],
    ['ip.extHeaders', s.ipExtHeaders.map((h) => `${EXT_NAMES[h.code] ?? h.code}(${h.bytes.length})`)],
    ...s.ipExtHeaders.map((h, i): [string, unknown] => [`ip.extHeaders.${i}.bytes`, h.bytes]),
    ['ip.src', s.src],
    ['ip.dst', s.dst],
    ['tcp.sport', s.sport],
    ['tcp.dport', s.dport],
    ['tcp.seq', s.seq],
    ['tcp.ack', s.ack],
    ['tcp.flags', s.flags],
    ['tcp.window', s.window],
    ['tcp.checksum', s.tcpChecksum],
    ['tcp.headerLen', s.tcpHeaderLen],
    ['tcp.payloadLen', s.payloadLen],
    ['tcp.options', s.tcpOptions.map((o) => (o.kind === 'unknown' ? `unknown(${o.code})` : o.kind))],
  ]);
  const seen = new Map<string, number>();
  for (const o of s.tcpOptions) {
    if (o.kind === 'nop' || o.kind === 'eol' || o.kind === 'sackPermitted') continue;
    const base = o.kind === 'unknown' ? `unknown(${o.code})` : o.kind;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const at = `tcp.options.${base}${n > 1 ? `#${n}` : ''}`;
    switch (o.kind) {
      case 'mss': f.set(`${at}.value`, o.value); break;
      case 'timestamps': f.set(`${at}.tsval`, o.tsval); f.set(`${at}.tsecr`, o.tsecr); break;
      case 'windowScale': f.set(`${at}.shift`, o.shift); break;
      case 'fastOpen': f.set(`${at}.cookieLen`, o.cookie.length); f.set(`${at}.cookie`, o.cookie); break;
      case 'unknown': f.set(`${at}.data`, o.data); break;
    }
  }
  return f;
}

const EXT_NAMES: Record<number, string> = { [NEXTHDR_HOP]: 'hopByHop', [NEXTHDR_ROUTING]: 'routing', [NEXTHDR_DEST]: 'destOpts' };

export function compareParsed(expected: ParsedSyn, actual: ParsedSyn): string[] {
  const e = fieldsOf(expected);
  const a = fieldsOf(actual);
  const names = [...e.keys(), ...[...a.keys()].filter((k) => !e.has(k))];
  const show = (m: Map<string, unknown>, k: string): string => (m.has(k) ? JSON.stringify(m.get(k)) : '(absent)');
  const diffs: string[] = [];
  for (const name of names) {
    const x = show(e, name);
    const y = show(a, name);
    if (x !== y) diffs.push(`${name}: expected ${x}, got ${y}`);
  }
  return diffs;
}

export function describePacket(d: PacketDescriptor): string {
  const opts = [d.mss && 'MSS', d.sackPermitted && 'SACK', d.timestamps && 'TS', d.windowScale && 'WS',
    d.fastOpen === 'request' && 'TFO-req', d.fastOpen === 'cookie' && 'TFO-cookie'].filter(Boolean).join(' ');
  const e = extHeadersOf(d);
  const ext = [e.hopByHop && `HBH${e.hopByHop}`, e.routing && 'SRH', e.destOpts && 'DST'].filter(Boolean).map((x) => `+${x}`).join('');
  const ip = `IPv${d.family}${d.family === 4 && d.ipOptions ? '+opts' : ''}${ext}`;
  const mac = d.mac === 'none' ? 'no MAC' : d.mac === 'ethernet' ? 'eth' : 'lo';
  return `${ip}/${mac}, ${opts || 'no options'}${d.payload ? `, ${d.payload}B data` : ''}`;
}
