// Paths the live kernel can only be shown through the lane's crafted
// frames, because a real peer answers at once: a Fast Open child held
// before its final ACK while its listener closes or listens again, a reset
// Fast Open request the listener keeps, a reset child left queued while
// its peer starts afresh, a syncookie its peer's later SYN supersedes or
// its listener's life decides. Each is a named op sequence
// and the steps whose outcomes make its row of
// reference/measured-paths.md; scripts/lane-paths.ts measures them on the
// live kernel, test/lane-paths.test.ts holds the spec and the bundled
// implementations to the committed rows.
import { DEFAULT_PACKET, type PacketDescriptor } from '../model/packet.ts';
import { TCP_SAVE_SYN, TCP_SAVED_SYN, type Op, type Outcome } from '../model/ops.ts';

export interface LanePath {
  id: string;
  /** The call sequence, in the table's words. */
  seq: string;
  ops: Op[];
  /** Labelled steps whose outcomes are the row's result. */
  show: [label: string, step: number][];
}

const TFO: PacketDescriptor = { ...DEFAULT_PACKET, payload: 10, fastOpen: 'request' };
const tfo = (conn: number, to = 0): Op => ({ kind: 'fastOpenSyn', conn, packet: TFO, to });
const read = (fd: number): Op => ({ kind: 'getsockopt', fd, optname: TCP_SAVED_SYN, bufSize: 4096 });
const flag = (fd: number): Op => ({ kind: 'getsockopt', fd, optname: TCP_SAVE_SYN, bufSize: 4 });
const accept = (fd: number): Op => ({ kind: 'accept', fd });
const fastOpenOn: Op = { kind: 'sysctl', name: 'tcp_fastopen', value: 1 };

/** Fast Open on; A (fd 0, mode a, backlog 4) and B (fd 1, mode b) in one
 * SO_REUSEPORT group; B listens with backlog `bq` (its Fast Open queue's
 * size), then 8. */
function group(migrate: number, a: number, b: number, bq = 4): Op[] {
  return [
    fastOpenOn, { kind: 'sysctl', name: 'tcp_migrate_req', value: migrate },
    { kind: 'reuseport', fd: 0 }, { kind: 'setsockopt', fd: 0, optname: TCP_SAVE_SYN, value: a }, { kind: 'listen', fd: 0, backlog: 4 },
    { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'setsockopt', fd: 1, optname: TCP_SAVE_SYN, value: b },
    { kind: 'listen', fd: 1, backlog: bq }, { kind: 'listen', fd: 1, backlog: 8 },
  ];
}

/** Fast Open on; the service socket listens in mode 1 with backlog 1:
 * a Fast Open queue of one. */
const single: Op[] = [fastOpenOn, { kind: 'listen', fd: 0, backlog: 1 }, { kind: 'setsockopt', fd: 0, optname: TCP_SAVE_SYN, value: 1 }];

function path(id: string, seq: string, setup: Op[], tail: Op[], labels: (string | null)[]): LanePath {
  const show: [string, number][] = [];
  labels.forEach((l, i) => { if (l !== null) show.push([l, setup.length + i]); });
  return { id, seq, ops: [...setup, ...tail], show };
}

export const LANE_PATHS: readonly LanePath[] = [
  path('tfo.migrate1.child.a1-b0',
    'tcp_migrate_req=1; A mode 1, B mode 0 in one group; Fast Open SYN+data to A, no final ACK; close(A); accept(B); read; flag; final ACK; read',
    group(1, 1, 0), [tfo(0), { kind: 'close', fd: 0 }, accept(1), read(0), flag(0), { kind: 'ack', conn: 0 }, read(0)],
    [null, null, 'accept(B)', 'read', 'flag', null, 'read after the ACK']),
  path('tfo.migrate0.child.a1-b0',
    'tcp_migrate_req=0; A mode 1, B mode 0 in one group; Fast Open SYN+data to A, no final ACK; close(A); accept(B)',
    group(0, 1, 0), [tfo(0), { kind: 'close', fd: 0 }, accept(1)],
    [null, null, 'accept(B)']),
  path('tfo.migrate1.uncounted-on-b',
    'tcp_migrate_req=1; A, B mode 1, B\'s Fast Open queue of 1; Fast Open SYN to A; close(A); Fast Open SYN to B; accept(B) twice',
    group(1, 1, 1, 1), [tfo(0), { kind: 'close', fd: 0 }, tfo(1, 1), accept(1), accept(1)],
    [null, null, null, 'accept(B) the moved child', 'accept(B) a Fast Open child']),
  path('tfo.migrate1.ack-below-zero',
    'tcp_migrate_req=1; A, B mode 1, B\'s Fast Open queue of 1; Fast Open SYN to A; close(A); final ACK; three Fast Open SYNs to B; accept(B) four times',
    group(1, 1, 1, 1), [tfo(0), { kind: 'close', fd: 0 }, { kind: 'ack', conn: 0 }, tfo(1, 1), tfo(2, 1), tfo(3, 1), accept(1), accept(1), accept(1), accept(1)],
    [null, null, null, null, null, null, 'accept', 'accept', 'accept', 'accept']),
  path('tfo.reset-kept',
    'Fast Open queue of 1; Fast Open SYN; accept; peer\'s RST; close(child); Fast Open SYN of another peer; accept',
    single, [tfo(1), accept(0), { kind: 'rst', conn: 1 }, { kind: 'close', fd: 1 }, tfo(2), accept(0)],
    [null, 'accept', null, null, null, 'accept']),
  path('tfo.reset-before-accept',
    'Fast Open queue of 1; Fast Open SYN; peer\'s RST; Fast Open SYN of another peer; accept twice; read each',
    single, [tfo(1), { kind: 'rst', conn: 1 }, tfo(2), accept(0), accept(0), read(1), read(2)],
    [null, null, null, 'accept', 'accept', 'read first', 'read second']),
  path('tfo.relisten.emptied',
    'Fast Open queue of 1; Fast Open SYN; accept; shutdown(l, SHUT_RD); listen(l, 1); Fast Open SYN of another peer; accept',
    single, [tfo(1), accept(0), { kind: 'shutdown', fd: 0, how: 0 }, { kind: 'listen', fd: 0, backlog: 1 }, tfo(2), accept(0)],
    [null, 'accept', null, 'listen', null, 'accept']),
  path('tfo.relisten.ack-below-zero',
    'Fast Open queue of 1; Fast Open SYN; accept; shutdown(l, SHUT_RD); listen(l, 1); the first peer\'s final ACK; two more Fast Open SYNs, each then accept',
    single, [tfo(1), accept(0), { kind: 'shutdown', fd: 0, how: 0 }, { kind: 'listen', fd: 0, backlog: 1 }, { kind: 'ack', conn: 1 }, tfo(2), accept(0), tfo(3), accept(0)],
    [null, null, null, null, null, null, 'accept', null, 'accept']),
  path('tfo.relisten.reset-kept-freed',
    'Fast Open queue of 1; Fast Open SYN; accept; peer\'s RST; shutdown(l, SHUT_RD); listen(l, 1); Fast Open SYN of another peer; accept',
    single, [tfo(1), accept(0), { kind: 'rst', conn: 1 }, { kind: 'shutdown', fd: 0, how: 0 }, { kind: 'listen', fd: 0, backlog: 1 }, tfo(2), accept(0)],
    [null, null, null, null, null, null, 'accept']),
  path('migrate1.reset-child.a1-b0',
    'tcp_migrate_req=1; A mode 1, B mode 0 in one group; SYN and ACK to A (a child queued); peer\'s RST; the peer\'s new SYN to B, and its RST; close(A); accept(B) twice; read the first',
    group(1, 1, 0), [
      { kind: 'syn', conn: 1, packet: DEFAULT_PACKET, to: 0 }, { kind: 'ack', conn: 1 }, { kind: 'rst', conn: 1 }, { kind: 'syn', conn: 1, packet: DEFAULT_PACKET, to: 1 },
      { kind: 'rst', conn: 1 }, { kind: 'close', fd: 0 }, accept(1), accept(1), read(0),
    ],
    [null, null, null, null, null, null, 'accept(B) the reset child', 'accept(B)', 'read']),
  path('cookie.superseded.a-b',
    'A and B in one group, A\'s SYN queue of one; SYN to A (a request), another peer\'s SYN to A (a cookie); that peer\'s Fast Open SYN to B (a child); close(B); the peer\'s ACK; accept(A)',
    [
      fastOpenOn, { kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 0 },
      { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 1 },
    ],
    [
      { kind: 'syn', conn: 1, packet: DEFAULT_PACKET, to: 0 }, { kind: 'syn', conn: 2, packet: DEFAULT_PACKET, to: 0 }, tfo(2, 1),
      { kind: 'close', fd: 1 }, { kind: 'ack', conn: 2 }, accept(0),
    ],
    [null, null, null, null, null, 'accept(A)']),
  ...cookiePaths(),
  ...orphanPaths(),
];

/** tcp_close() of an accepted child with nothing unread: a FIN, and an
 * orphan in FIN_WAIT1 that keeps its tuple and its Fast Open request until
 * the peer resets it; with a Fast Open SYN's data unread, a reset. */
function orphanPaths(): LanePath[] {
  const listen: Op[] = [{ kind: 'setsockopt', fd: 0, optname: TCP_SAVE_SYN, value: 1 }, { kind: 'listen', fd: 0, backlog: 4 }];
  const syn: Op = { kind: 'syn', conn: 1, packet: DEFAULT_PACKET };
  const bare = (conn: number): Op => ({ kind: 'fastOpenSyn', conn, packet: { ...TFO, payload: 0 } });
  return [
    path('close.orphan.same-peer',
      'mode 1; SYN, ACK, accept; close(child); the same peer\'s SYN and ACK; accept',
      listen, [syn, { kind: 'ack', conn: 1 }, accept(0), { kind: 'close', fd: 1 }, syn, { kind: 'ack', conn: 1 }, accept(0)],
      [null, null, null, 'close', null, null, 'accept']),
    path('close.orphan.reset',
      'mode 1; SYN, ACK, accept; close(child); the peer\'s RST; its SYN and ACK; accept; read',
      listen, [syn, { kind: 'ack', conn: 1 }, accept(0), { kind: 'close', fd: 1 }, { kind: 'rst', conn: 1 }, syn, { kind: 'ack', conn: 1 }, accept(0), read(1)],
      [null, null, null, null, null, null, null, 'accept', 'read']),
    path('close.orphan.tfo-counted',
      'Fast Open queue of 1; Fast Open SYN without data; accept; close(child), no final ACK; Fast Open SYN of another peer; accept',
      single, [bare(1), accept(0), { kind: 'close', fd: 1 }, bare(2), accept(0)],
      [null, 'accept', null, null, 'accept']),
    path('close.orphan.tfo-data-unread',
      'Fast Open queue of 1; Fast Open SYN+data; accept; close(child) with the data unread; Fast Open SYN of another peer; accept',
      single, [tfo(1), accept(0), { kind: 'close', fd: 1 }, bare(2), accept(0)],
      [null, 'accept', null, null, 'accept']),
  ];
}

/** Syncookies across a listener's life: tcp_synq_overflow()'s stamp, the
 * listener's own or its group's, decides whether a cookie ACK is taken. */
function cookiePaths(): LanePath[] {
  const forced: Op = { kind: 'sysctl', name: 'tcp_syncookies', value: 2 };
  const syn = (conn: number, to?: number): Op => ({ kind: 'syn', conn, packet: DEFAULT_PACKET, ...(to === undefined ? {} : { to }) });
  const listen: Op = { kind: 'listen', fd: 0, backlog: 0 };
  const shutRd: Op = { kind: 'shutdown', fd: 0, how: 0 };
  const ack = (conn: number): Op => ({ kind: 'ack', conn });
  return [
    path('cookie.after-shut-rd',
      'tcp_syncookies=2; listen; SYN (a cookie); shutdown(l, SHUT_RD); listen again; the peer\'s cookie ACK; accept',
      [forced, listen], [syn(1), shutRd, listen, ack(1), accept(0)], [null, null, null, null, 'accept']),
    path('cookie.after-shut-rd.new-cookie',
      'tcp_syncookies=2; listen; SYN (a cookie); shutdown(l, SHUT_RD); listen again; another peer\'s SYN (a cookie); the first peer\'s cookie ACK; accept',
      [forced, listen], [syn(1), shutRd, listen, syn(2), ack(1), accept(0)], [null, null, null, null, null, 'accept']),
    path('cookie.new-listener',
      'tcp_syncookies=2; listen; SYN (a cookie); close(l); a new socket binds and listens; another peer\'s SYN; the first peer\'s cookie ACK; accept',
      [forced, listen], [syn(1), { kind: 'close', fd: 0 }, { kind: 'socket' }, { kind: 'bind', fd: 0 }, listen, syn(2), ack(1), accept(0)],
      [null, null, null, null, null, null, null, 'accept']),
    path('cookie.group.member-left',
      'A and B in one group, SYN queues of one; two SYNs (a request, then a cookie from A); A disconnected; the cookie ACK, steered to B; accept(B)',
      [
        { kind: 'reuseport', fd: 0 }, listen, { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 0 },
      ],
      [syn(1), syn(2), { kind: 'disconnect', fd: 0 }, ack(2), accept(1)], [null, null, null, null, 'accept(B)']),
    ...([['dual-first', false], ['v6only-first', true]] as const).map(([name, v6onlyFirst]) => {
      const a: Op[] = [{ kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 4 }];
      const b: Op[] = [{ kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 4 }];
      const syn6 = (conn: number, to: number): Op => ({ kind: 'syn', conn, packet: { ...DEFAULT_PACKET, family: 6 }, to });
      return path(`family.groups.${name}`,
        `A dual-stack and B v6only, each SO_REUSEPORT (two groups), ${v6onlyFirst ? 'B listening first' : 'A listening first'}; IPv6 SYNs steered to index 1, then 0; accept(A) twice; accept(B) twice`,
        [{ kind: 'socket', v6only: 1 }, ...(v6onlyFirst ? [...b, ...a] : [...a, ...b])],
        [syn6(1, 1), { kind: 'ack', conn: 1 }, syn6(2, 0), { kind: 'ack', conn: 2 }, accept(0), accept(0), accept(1), accept(1)],
        [null, null, null, null, 'accept(A)', 'accept(A)', 'accept(B)', 'accept(B)']);
    }),
  ];
}

function outcome(op: Op, o: Outcome): string {
  if (o.errno !== undefined) return `-1 ${o.errno}`;
  if (op.kind === 'getsockopt' && op.optname === TCP_SAVE_SYN) return `${o.bytes?.[0] ?? '-'}`;
  if (op.kind === 'getsockopt') return `optlen ${o.optlen}`;
  return `${o.ret}`;
}

/** The row's result: the labelled steps' outcomes. */
export function laneResult(p: LanePath, outcomes: readonly Outcome[]): string {
  return p.show.map(([label, i]) => `${label} ${outcome(p.ops[i], outcomes[i])}`).join('; ');
}
