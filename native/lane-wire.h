/* The wire, packetdrill-style: the model's SYN frames go in through the
 * device their MAC kind names (tap: Ethernet, tun: no MAC, lo: a loopback
 * header), and every later packet of a peer is built from what the kernel
 * sent it: an ACK acknowledges the SYN-ACK's sequence number (for a cookie,
 * the cookie), echoes its timestamp, and starts where the SYN-ACK says the
 * kernel expects; a RST sits exactly at that point.
 *
 * Nothing waits on a timer. After a frame the lane sends a barrier on the
 * same device: a SYN to a closed port, which the kernel answers with a RST
 * through the tun. Frames on one device are processed in order (for tun and
 * tap inside write(); for lo in the backlog of the one CPU the lane is
 * pinned to), so once that RST is read, the frame before it has been
 * processed and every reply to it has been read.
 *
 * Included by kernel-lane.c; needs lane-netns.h. */
#include <poll.h>
#include <time.h>

enum mac_kind { MAC_ETHERNET, MAC_LOOPBACK, MAC_NONE };

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10
#define SERVICE_PORT 8080
#define PORT_BASE 20000
#define MAXCONN 10000
#define PROBE_PORT 10000
#define CLOSED_PORT 9
#define BARRIER_MS 5000
#define MAXFRAME 2048

static const unsigned char PEER_V4[4] = { 192, 0, 2, 2 };
static const unsigned char LISTENER_V4[4] = { 192, 0, 2, 1 };
static const unsigned char TAP_PEER_MAC[6] = { 2, 0, 0, 0, 0, 2 };

/* A peer: what its SYN said, and what the kernel's SYN-ACK said back. */
struct peer {
  unsigned char sent, answered, mac_kind, family, maclen, ts, synack_ts;
  unsigned char mac[14], saddr[16], daddr[16];
  unsigned short sport, dport, window, ip_id;
  unsigned isn, tsval;
  unsigned snt_isn, rcv_nxt, ts_recent;
};
static struct peer peers[MAXCONN];

/* One TCP segment as parsed from a frame. */
struct seg {
  int family, iphl, thl, has_ts;
  unsigned short sport, dport;
  unsigned seq, ack, tsval;
  unsigned char flags;
  const unsigned char *saddr, *daddr;
};

/* What the kernel sent to peers while one op ran, for the result line. */
struct wire_event { int conn; const char *kind; };
static struct wire_event events[512];
static int nevents;
static unsigned probe_seq;

static unsigned get16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned get32(const unsigned char *p) { return get16(p) << 16 | get16(p + 2); }
static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }
static void put32(unsigned char *p, unsigned v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static unsigned long sum16(const unsigned char *p, size_t n) {
  unsigned long s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += get16(p + i);
  if (n & 1) s += (unsigned long)p[n - 1] << 8;
  return s;
}

static unsigned csum_fold(unsigned long s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (unsigned)~s & 0xffff;
}

/* The TCP checksum over the pseudo-header, written in place. */
static void tcp_csum(unsigned char *ip, int family, unsigned char *tcp, size_t tcplen) {
  unsigned long s = family == 4 ? sum16(ip + 12, 8) : sum16(ip + 8, 32);
  s += 6 + tcplen;
  put16(tcp + 16, 0);
  put16(tcp + 16, csum_fold(s + sum16(tcp, tcplen)));
}

static int seg_parse(const unsigned char *f, size_t n, int maclen, struct seg *s) {
  memset(s, 0, sizeof *s);
  if (n < (size_t)maclen + 20) return -1;
  const unsigned char *ip = f + maclen;
  s->family = ip[0] >> 4;
  if (s->family == 4) {
    s->iphl = (ip[0] & 15) * 4;
    if (ip[9] != 6) return -1;
    s->saddr = ip + 12;
    s->daddr = ip + 16;
  } else if (s->family == 6) {
    /* A SYN may carry extension headers (hop-by-hop, routing,
     * destination options): the TCP header follows the last of them. */
    int next = ip[6];
    s->iphl = 40;
    if (n < (size_t)maclen + 40) return -1;
    while (next == 0 || next == 43 || next == 60) {
      if (n < (size_t)maclen + s->iphl + 2) return -1;
      next = ip[s->iphl];
      s->iphl += (ip[s->iphl + 1] + 1) * 8;
    }
    if (next != 6) return -1;
    s->saddr = ip + 8;
    s->daddr = ip + 24;
  } else return -1;
  const unsigned char *t = ip + s->iphl;
  if (n < (size_t)(t - f) + 20) return -1;
  s->thl = (t[12] >> 4) * 4;
  if (s->thl < 20 || n < (size_t)(t - f) + s->thl) return -1;
  s->sport = (unsigned short)get16(t);
  s->dport = (unsigned short)get16(t + 2);
  s->seq = get32(t + 4);
  s->ack = get32(t + 8);
  s->flags = t[13];
  for (int i = 20; i < s->thl;) {
    if (t[i] == 0) break;
    if (t[i] == 1) { i++; continue; }
    if (i + 1 >= s->thl || t[i + 1] < 2) break;
    if (t[i] == 8 && t[i + 1] == 10 && i + 10 <= s->thl) { s->has_ts = 1; s->tsval = get32(t + i + 2); }
    i += t[i + 1];
  }
  return 0;
}

static int inject(int kind, const unsigned char *f, size_t n) {
  ssize_t w;
  if (kind == MAC_ETHERNET) w = write(tap_fd, f, n);
  else if (kind == MAC_NONE) w = write(tun_fd, f, n);
  else {
    struct sockaddr_ll ll;
    memset(&ll, 0, sizeof ll);
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = lo_ifindex;
    ll.sll_halen = 6;
    w = sendto(lo_fd, f, n, 0, (struct sockaddr *)&ll, sizeof ll);
  }
  return w == (ssize_t)n ? 0 : -1;
}

static void note(int conn, const char *kind) {
  if (nevents < (int)(sizeof events / sizeof *events)) events[nevents++] = (struct wire_event){ conn, kind };
}

/* A frame the kernel sent out of the tun: a SYN-ACK is remembered, as a
 * peer would; a RST makes the peer give up its connection (RFC 793: the
 * kernel's RSTs here are always in the peer's window), so it sends no more
 * ACKs for it; anything else is only noted. */
static void reply_seen(const unsigned char *f, size_t n) {
  struct seg s;
  if (seg_parse(f, n, 0, &s) || s.sport != SERVICE_PORT || s.dport < PORT_BASE || s.dport >= PORT_BASE + MAXCONN) return;
  int conn = s.dport - PORT_BASE;
  struct peer *p = &peers[conn];
  if ((s.flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
    p->answered = 1;
    p->snt_isn = s.seq;
    p->rcv_nxt = s.ack;
    p->synack_ts = (unsigned char)s.has_ts;
    p->ts_recent = s.tsval;
    note(conn, "synack");
  } else if (s.flags & TH_RST) {
    p->answered = 0;
    note(conn, "rst");
  }
  else if (s.flags & TH_FIN) note(conn, "fin");
  else {
    /* A plain ACK to a peer whose SYN got no SYN-ACK: the challenge ACK of
     * a connection the tuple still has (tcp_validate_incoming()). The peer
     * answers in its light, as a real one would: its RST then carries the
     * sequence number that connection expects, and resets it. */
    if (p->sent && !p->answered && (s.flags & TH_ACK)) {
      p->answered = 1;
      p->snt_isn = s.seq - 1;
      p->rcv_nxt = s.ack;
      p->synack_ts = (unsigned char)s.has_ts;
      p->ts_recent = s.tsval;
    }
    note(conn, "ack");
  }
}

static size_t mac_header(int kind, int family, unsigned char *f) {
  if (kind == MAC_NONE) return 0;
  memset(f, 0, 12);
  if (kind == MAC_ETHERNET) { memcpy(f, TAP_MAC, 6); memcpy(f + 6, TAP_PEER_MAC, 6); }
  put16(f + 12, family == 4 ? 0x0800 : 0x86dd);
  return 14;
}

static long ms_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Send the barrier on `kind`'s device and read the tun until its RST
 * comes back; every frame read on the way is a reply to what went before. */
static int barrier(int kind) {
  unsigned char f[80];
  unsigned seq = ++probe_seq;
  size_t ip = mac_header(kind, 4, f);
  memset(f + ip, 0, 40);
  f[ip] = 0x45;
  put16(f + ip + 2, 40);
  put16(f + ip + 6, 0x4000);
  f[ip + 8] = 64;
  f[ip + 9] = 6;
  memcpy(f + ip + 12, PEER_V4, 4);
  memcpy(f + ip + 16, LISTENER_V4, 4);
  put16(f + ip + 10, csum_fold(sum16(f + ip, 20)));
  unsigned char *t = f + ip + 20;
  put16(t, PROBE_PORT);
  put16(t + 2, CLOSED_PORT);
  put32(t + 4, seq);
  t[12] = 5 << 4;
  t[13] = TH_SYN;
  put16(t + 14, 1024);
  tcp_csum(f + ip, 4, t, 20);
  if (inject(kind, f, ip + 40)) return -1;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned char buf[65536];
  for (;;) {
    ssize_t n = read(tun_fd, buf, sizeof buf);
    if (n > 0) {
      struct seg s;
      if (!seg_parse(buf, (size_t)n, 0, &s) && s.sport == CLOSED_PORT && s.dport == PROBE_PORT && (s.flags & TH_RST) && s.ack == seq + 1) return 0;
      reply_seen(buf, (size_t)n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
    long left = BARRIER_MS - ms_since(&t0);
    if (left <= 0) return -1;
    struct pollfd pf = { tun_fd, POLLIN, 0 };
    poll(&pf, 1, (int)left);
  }
}

/* Remember what a peer's SYN says, to build its later packets from. */
static int peer_from_syn(int conn, int kind, const unsigned char *f, size_t n) {
  int maclen = kind == MAC_NONE ? 0 : 14;
  struct seg s;
  if (conn < 0 || conn >= MAXCONN || seg_parse(f, n, maclen, &s)) return -1;
  struct peer *p = &peers[conn];
  memset(p, 0, sizeof *p);
  p->sent = 1;
  p->mac_kind = (unsigned char)kind;
  p->family = (unsigned char)s.family;
  p->maclen = (unsigned char)maclen;
  memcpy(p->mac, f, (size_t)maclen);
  memcpy(p->saddr, s.saddr, s.family == 4 ? 4 : 16);
  memcpy(p->daddr, s.daddr, s.family == 4 ? 4 : 16);
  p->sport = s.sport;
  p->dport = s.dport;
  p->isn = s.seq;
  p->ts = (unsigned char)s.has_ts;
  p->tsval = s.tsval;
  p->window = (unsigned short)get16(f + maclen + s.iphl + 14);
  p->ip_id = s.family == 4 ? (unsigned short)get16(f + maclen + 4) : 0;
  return 0;
}

/* The peer's next segment after the SYN-ACK: an ACK (with the timestamp
 * echoed where the SYN-ACK had one) or a RST. */
static size_t peer_segment(const struct peer *p, unsigned char flags, unsigned char *f) {
  size_t ip = p->maclen;
  memcpy(f, p->mac, ip);
  int ts = (flags & TH_ACK) && p->synack_ts;
  size_t thl = 20 + (ts ? 12 : 0);
  size_t iphl = p->family == 4 ? 20 : 40;
  memset(f + ip, 0, iphl + thl);
  if (p->family == 4) {
    f[ip] = 0x45;
    put16(f + ip + 2, (unsigned)(iphl + thl));
    put16(f + ip + 4, (unsigned)(p->ip_id + 1) & 0xffff);
    put16(f + ip + 6, 0x4000);
    f[ip + 8] = 64;
    f[ip + 9] = 6;
    memcpy(f + ip + 12, p->saddr, 4);
    memcpy(f + ip + 16, p->daddr, 4);
    put16(f + ip + 10, csum_fold(sum16(f + ip, 20)));
  } else {
    f[ip] = 0x60;
    put16(f + ip + 4, (unsigned)thl);
    f[ip + 6] = 6;
    f[ip + 7] = 64;
    memcpy(f + ip + 8, p->saddr, 16);
    memcpy(f + ip + 24, p->daddr, 16);
  }
  unsigned char *t = f + ip + iphl;
  put16(t, p->sport);
  put16(t + 2, p->dport);
  put32(t + 4, p->rcv_nxt);
  put32(t + 8, flags & TH_ACK ? p->snt_isn + 1 : 0);
  t[12] = (unsigned char)((thl / 4) << 4);
  t[13] = flags;
  put16(t + 14, p->window);
  if (ts) {
    t[20] = 1; t[21] = 1; t[22] = 8; t[23] = 10;
    put32(t + 24, p->tsval);
    put32(t + 28, p->ts_recent);
  }
  tcp_csum(f + ip, p->family, t, thl);
  return ip + iphl + thl;
}

/* TcpExt SyncookiesSent of this namespace: tells a cookie SYN-ACK from a
 * request's, which look alike on the wire. */
static long syncookies_sent(void) {
  FILE *fp = fopen("/proc/net/netstat", "r");
  if (!fp) return -1;
  char names[4096], values[4096];
  long v = -1;
  while (fgets(names, sizeof names, fp) && fgets(values, sizeof values, fp)) {
    if (strncmp(names, "TcpExt:", 7)) continue;
    char *sn, *sv;
    char *n = strtok_r(names, " \n", &sn), *x = strtok_r(values, " \n", &sv);
    while (n && x) {
      if (!strcmp(n, "SyncookiesSent")) v = atol(x);
      n = strtok_r(NULL, " \n", &sn);
      x = strtok_r(NULL, " \n", &sv);
    }
  }
  fclose(fp);
  return v;
}
