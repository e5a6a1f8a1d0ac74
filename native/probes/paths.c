/* Measures what Linux does with a saved SYN on the paths where one changes
 * hands: dup(), shutdown(), SO_REUSEPORT groups (a listener chosen by a
 * classic BPF program on the source port), request and child migration
 * (net.ipv4.tcp_migrate_req), a new listener on the port after the old one
 * closed with requests in flight (and what bind() and listen() allow a
 * second socket on the port), an AF_INET listener beside a dual-stack
 * AF_INET6 one, and IPv6 extension headers in the SYN.
 *
 * Real sockets on lo, inside `unshare -rn` only (scripts/measure-paths.sh
 * brings lo up with 192.0.2.1-2 and 2001:db8::1-2): it refuses to run where
 * any interface besides lo exists, and every wait is bounded. One row per behaviour on
 * stdout: ID <TAB> call sequence <TAB> result. A saved SYN is shown by its
 * length and its layers (MAC, IPv4/IPv6 with extension headers, TCP with
 * options) and the TCP source port, which says whose SYN it is. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TCP_SAVE_SYN
#define TCP_SAVE_SYN 27
#define TCP_SAVED_SYN 28
#endif
#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

#define V4_SERVER "192.0.2.1"
#define V4_PEER "192.0.2.2"
#define V6_SERVER "2001:db8::1"
#define V6_PEER "2001:db8::2"

enum { REUSEPORT = 1, DEFER = 2, V6ONLY = 4, V4ADDR = 8 };

static int next_port = 41000;

static void row(const char *id, const char *seq, const char *fmt, ...) {
  char res[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(res, sizeof res, fmt, ap);
  va_end(ap);
  printf("%s\t%s\t%s\n", id, seq, res);
  fflush(stdout);
}

static int write_proc(const char *path, const char *value) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  int ok = fputs(value, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

static int sysctl(const char *name, const char *value) {
  char path[160];
  snprintf(path, sizeof path, "/proc/sys/net/%s", name);
  return write_proc(path, value);
}

static void fill(int fam, const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (fam == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (addr) inet_pton(AF_INET, addr, &a->sin_addr);
    *len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (addr) inet_pton(AF_INET6, addr, &a->sin6_addr);
    *len = sizeof *a;
  }
}

static int listener(int fam, int port, int mode, int flags) {
  int s = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1, zero = 0;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (flags & REUSEPORT) setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (fam == AF_INET6) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (flags & V6ONLY) ? &one : &zero, sizeof one);
  if (flags & DEFER) { int t = 30; setsockopt(s, IPPROTO_TCP, TCP_DEFER_ACCEPT, &t, sizeof t); }
  struct sockaddr_storage ss; socklen_t len;
  fill(fam, (flags & V4ADDR) ? V4_SERVER : NULL, port, &ss, &len);
  if (bind(s, (struct sockaddr *)&ss, len) < 0) { int e = errno; close(s); errno = e; return -1; }
  if (setsockopt(s, IPPROTO_TCP, TCP_SAVE_SYN, &mode, sizeof mode) < 0) return -1;
  if (listen(s, 16) < 0) return -1;
  return s;
}

/* A blocking connect from PEER:sport; on lo the handshake is done when it returns. */
static int client(int fam, int sport, const char *dst, int port) {
  int s = socket(fam, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct timeval tv = { .tv_sec = 2 };
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_storage ss; socklen_t len;
  fill(fam, fam == AF_INET ? V4_PEER : V6_PEER, sport, &ss, &len);
  if (bind(s, (struct sockaddr *)&ss, len) < 0) { close(s); return -1; }
  fill(fam, dst, port, &ss, &len);
  if (connect(s, (struct sockaddr *)&ss, len) < 0) { close(s); return -1; }
  return s;
}

/* An IPv6 client whose SYN carries sticky extension headers. */
static int client6_opts(int sport, int port, int level_opt, const void *hdr, int hlen) {
  int s = socket(AF_INET6, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct timeval tv = { .tv_sec = 2 };
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (setsockopt(s, IPPROTO_IPV6, level_opt, hdr, hlen) < 0) { int e = errno; close(s); errno = e; return -2; }
  struct sockaddr_storage ss; socklen_t len;
  fill(AF_INET6, V6_PEER, sport, &ss, &len);
  if (bind(s, (struct sockaddr *)&ss, len) < 0) { close(s); return -1; }
  fill(AF_INET6, V6_SERVER, port, &ss, &len);
  if (connect(s, (struct sockaddr *)&ss, len) < 0) { close(s); return -1; }
  return s;
}

/* accept, waiting at most ms for a child. */
static int accept_within(int l, int ms) {
  struct pollfd p = { .fd = l, .events = POLLIN };
  poll(&p, 1, ms);
  return accept4(l, NULL, NULL, SOCK_NONBLOCK);
}

static const char *errname(int e) { return strerrorname_np(e) ? strerrorname_np(e) : "E?"; }

/* The layers of a saved SYN: MAC?, IP (with extension headers), TCP. */
static void layers(const unsigned char *b, int n, char *out, size_t cap) {
  int off = 0, k = 0;
  int v = n > 0 ? b[0] >> 4 : 0;
  if (v != 4 && v != 6 && n >= 14) { k += snprintf(out + k, cap - k, "mac 14 + "); off = 14; v = b[off] >> 4; }
  int proto = -1;
  if (v == 4) { int ihl = (b[off] & 15) * 4; k += snprintf(out + k, cap - k, "ipv4 %d + ", ihl); proto = b[off + 9]; off += ihl; }
  else if (v == 6) {
    k += snprintf(out + k, cap - k, "ipv6 40 + ");
    proto = b[off + 6]; off += 40;
    while ((proto == 0 || proto == 43 || proto == 60) && off + 2 <= n) {
      int l = (b[off + 1] + 1) * 8;
      k += snprintf(out + k, cap - k, "%s %d + ", proto == 0 ? "hop-by-hop" : proto == 43 ? "routing" : "dest-opts", l);
      proto = b[off]; off += l;
    }
  }
  if (proto == 6 && off + 20 <= n) {
    int doff = (b[off + 12] >> 4) * 4;
    k += snprintf(out + k, cap - k, "tcp %d; sport %d", doff, (b[off] << 8) | b[off + 1]);
    off += doff;
  } else k += snprintf(out + k, cap - k, "?");
  if (off != n) snprintf(out + k, cap - k, "; %d bytes unaccounted", n - off);
}

/* getsockopt(TCP_SAVED_SYN) with a 4096-byte buffer, as text. */
static const char *saved(int fd) {
  static char s[512];
  unsigned char buf[4096];
  socklen_t len = sizeof buf;
  if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, buf, &len) < 0) { snprintf(s, sizeof s, "-1 %s", errname(errno)); return s; }
  if (len == 0) { snprintf(s, sizeof s, "0, optlen 0"); return s; }
  char l[256];
  layers(buf, (int)len, l, sizeof l);
  snprintf(s, sizeof s, "0, optlen %u (%s)", len, l);
  return s;
}

static int flag(int fd) {
  int v = -1; socklen_t len = sizeof v;
  if (getsockopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, &v, &len) < 0) return -100 - errno;
  return v;
}

static const char *ret(int r) {
  static char s[4][64];
  static int i;
  i = (i + 1) % 4;
  if (r < 0) snprintf(s[i], sizeof s[i], "-1 %s", errname(errno));
  else snprintf(s[i], sizeof s[i], "%d", r);
  return s[i];
}

static int disconnect(int fd) {
  struct sockaddr un = { .sa_family = AF_UNSPEC };
  return connect(fd, &un, sizeof un);
}

static int tcp_state(int fd) {
  struct tcp_info ti; socklen_t len = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) return -1;
  return ti.tcpi_state;
}
static const char *state_name(int s) {
  static const char *n[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING" };
  return s >= 0 && s <= 11 ? n[s] : "?";
}

/* One connection accepted from a fresh IPv4 listener in mode `mode`. */
static int accepted(int mode, int *lp, int *cp) {
  int port = next_port++;
  *lp = listener(AF_INET, port, mode, 0);
  *cp = client(AF_INET, port + 10000, V4_SERVER, port);
  return accept_within(*lp, 1000);
}

static void probe_dup(void) {
  for (int m = 0; m <= 2; m++) {
    char id[32], seq[256];
    int l, c, a = accepted(m, &l, &c);
    int d = dup(a);
    snprintf(id, sizeof id, "dup.read-one-shot.m%d", m);
    snprintf(seq, sizeof seq, "mode %d; a = accept; d = dup(a); getsockopt(d, TCP_SAVED_SYN); getsockopt(a, TCP_SAVED_SYN)", m);
    char first[512]; snprintf(first, sizeof first, "%s", saved(d));
    row(id, seq, "d: %s; a: %s; flag(d) %d", first, saved(a), flag(d));
    close(a); close(d); close(c);
    a = accept_within(l, 0); /* nothing */
    close(l);
  }
  {
    int l, c, a = accepted(1, &l, &c), d = dup(a);
    int r = close(a);
    row("dup.close-one", "mode 1; a = accept; d = dup(a); close(a); getsockopt(d, TCP_SAVED_SYN)", "close %s; d: %s", ret(r), saved(d));
    close(d); close(c); close(l);
  }
  {
    int l, c, a = accepted(1, &l, &c), d = dup(a);
    int r = disconnect(a);
    row("dup.disconnect-other", "mode 1; a = accept; d = dup(a); connect(a, AF_UNSPEC); getsockopt(d, TCP_SAVED_SYN)", "disconnect %s; d: %s", ret(r), saved(d));
    close(a); close(d); close(c); close(l);
  }
  {
    int port = next_port++, l = listener(AF_INET, port, 0, 0), d = dup(l);
    int one = 1, r = setsockopt(d, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof one);
    int f = flag(l);
    close(l);
    int c = client(AF_INET, port + 10000, V4_SERVER, port), a = accept_within(d, 1000);
    row("dup.listener", "mode 0; d = dup(l); setsockopt(d, TCP_SAVE_SYN, 1); getsockopt(l, TCP_SAVE_SYN); close(l); SYN; a = accept(d); getsockopt(a, TCP_SAVED_SYN)",
        "setsockopt %s; flag(l) %d; accept(d) %s; a: %s; flag(a) %d", ret(r), f, ret(a), a >= 0 ? saved(a) : "-", a >= 0 ? flag(a) : -1);
    close(a); close(c); close(d);
  }
}

static const char *HOW[] = { "SHUT_RD", "SHUT_WR", "SHUT_RDWR" };

static void probe_shutdown(void) {
  for (int how = 0; how <= 2; how++)
    for (int m = 1; m <= 2; m += 1) {
      char id[64], seq[256];
      int l, c, a = accepted(m, &l, &c);
      int r = shutdown(a, how);
      int st = tcp_state(a);
      snprintf(id, sizeof id, "shutdown.child.%s.m%d", HOW[how], m);
      snprintf(seq, sizeof seq, "mode %d; a = accept; shutdown(a, %s); getsockopt(a, TCP_SAVED_SYN) twice", m, HOW[how]);
      char first[512]; snprintf(first, sizeof first, "%s", saved(a));
      row(id, seq, "shutdown %s; state %s; flag %d; first: %s; second: %s", ret(r), state_name(st), flag(a), first, saved(a));
      close(a); close(c); close(l);
    }
  {
    int l, c, a = accepted(1, &l, &c);
    int r = shutdown(a, SHUT_WR);
    close(c); /* the peer's FIN: FIN_WAIT2 then TIME_WAIT, i.e. TCP_CLOSE for the socket */
    usleep(100000);
    int st = tcp_state(a);
    row("shutdown.child.peer-closed", "mode 1; a = accept; shutdown(a, SHUT_WR); peer closes; getsockopt(a, TCP_SAVED_SYN)",
        "shutdown %s; state %s; %s", ret(r), state_name(st), saved(a));
    int r2 = shutdown(a, SHUT_RDWR);
    row("shutdown.child.closed-state", "... then shutdown(a, SHUT_RDWR) in CLOSE", "%s", ret(r2));
    close(a); close(l);
  }
  {
    int l, c, a = accepted(1, &l, &c);
    int r0 = disconnect(a);
    int r = shutdown(a, SHUT_RDWR);
    row("shutdown.after-disconnect", "mode 1; a = accept; connect(a, AF_UNSPEC); shutdown(a, SHUT_RDWR); getsockopt(a, TCP_SAVED_SYN)",
        "disconnect %s; shutdown %s; %s", ret(r0), ret(r), saved(a));
    close(a); close(c); close(l);
  }
  {
    int l, c, a = accepted(1, &l, &c);
    int r3 = shutdown(a, 3), rm = shutdown(a, -1);
    row("shutdown.bad-how", "mode 1; a = accept; shutdown(a, 3); shutdown(a, -1); getsockopt(a, TCP_SAVED_SYN)", "%s; %s; %s", ret(r3), ret(rm), saved(a));
    close(a); close(c); close(l);
  }
  {
    int s = socket(AF_INET6, SOCK_STREAM, 0), one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof one);
    int r = shutdown(s, SHUT_RDWR);
    row("shutdown.fresh-socket", "socket; setsockopt(TCP_SAVE_SYN, 1); shutdown(s, SHUT_RDWR); getsockopt(s, TCP_SAVE_SYN)", "shutdown %s; flag %d", ret(r), flag(s));
    close(s);
  }
  {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80) };
    inet_pton(AF_INET, "192.0.2.9", &to.sin_addr);
    int rc = connect(s, (struct sockaddr *)&to, sizeof to);
    int ec = errno;
    int r = shutdown(s, SHUT_WR);
    int st = tcp_state(s);
    int r2 = shutdown(s, SHUT_RD);
    int st2 = tcp_state(s);
    row("shutdown.connecting", "connect (SYN_SENT); shutdown(s, SHUT_WR); shutdown(s, SHUT_RD)",
        "connect %d %s; SHUT_WR %s, state %s; SHUT_RD %s, state %s; %s", rc, errname(ec), ret(r), state_name(st), ret(r2), state_name(st2), saved(s));
    close(s);
  }
  for (int how = 0; how <= 2; how++) {
    char id[64], seq[320];
    int port = next_port++, l = listener(AF_INET, port, 1, 0);
    int c1 = client(AF_INET, port + 10000, V4_SERVER, port); /* queued child, not accepted */
    usleep(20000);
    int r = shutdown(l, how);
    int st = tcp_state(l);
    int a1 = accept_within(l, 200);
    int e1 = errno;
    char peer[64] = "open";
    { char x; int n = (int)recv(c1, &x, 1, MSG_DONTWAIT); if (n == 0) snprintf(peer, sizeof peer, "EOF"); else if (n < 0 && errno != EAGAIN) snprintf(peer, sizeof peer, "%s", errname(errno)); }
    int c2 = client(AF_INET, port + 10001, V4_SERVER, port);
    int a2 = accept_within(l, 200);
    char s2[512]; snprintf(s2, sizeof s2, "%s", a2 >= 0 ? saved(a2) : "-");
    int rl = listen(l, 16);
    int c3 = client(AF_INET, port + 10002, V4_SERVER, port);
    int a3 = accept_within(l, 500);
    snprintf(id, sizeof id, "shutdown.listener.%s", HOW[how]);
    snprintf(seq, sizeof seq, "mode 1; l = listen; SYN+ACK (queued child); shutdown(l, %s); accept(l); new SYN; accept(l); listen(l) again; new SYN; accept(l)", HOW[how]);
    errno = e1;
    row(id, seq, "shutdown %s; state %s; flag(l) %d; queued child: accept %s, peer %s; new peer connects %s, accept %s %s; listen again %s; then accept %s %s",
        ret(r), state_name(st), flag(l), a1 >= 0 ? "ok" : errname(e1), peer, c2 >= 0 ? "ok" : "fails", a2 >= 0 ? "ok" : "fails", a2 >= 0 ? s2 : "",
        ret(rl), a3 >= 0 ? "ok" : "fails", a3 >= 0 ? saved(a3) : "");
    if (a1 >= 0) close(a1);
    if (a2 >= 0) close(a2);
    if (a3 >= 0) close(a3);
    close(c1); if (c2 >= 0) close(c2); if (c3 >= 0) close(c3); close(l);
  }
  {
    /* A request still in the SYN queue (deferred accept) when the listener is shut down. */
    int port = next_port++, l = listener(AF_INET, port, 1, DEFER);
    int c = client(AF_INET, port + 10000, V4_SERVER, port);
    usleep(20000);
    int r = shutdown(l, SHUT_RD);
    int rl = listen(l, 16);
    send(c, "x", 1, 0);
    int a = accept_within(l, 300);
    row("shutdown.listener.request", "mode 1, TCP_DEFER_ACCEPT; SYN (request pending); shutdown(l, SHUT_RD); listen(l); peer's data ACK; accept(l)",
        "shutdown %s; listen %s; accept %s", ret(r), ret(rl), a >= 0 ? saved(a) : errname(errno));
    if (a >= 0) close(a);
    close(c); close(l);
  }
}

/* A program for SO_ATTACH_REUSEPORT_CBPF: the listener at index (IPv4 source port & 1). */
static int attach_by_sport(int s) {
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_NET_OFF + 20),
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 1),
    BPF_STMT(BPF_RET | BPF_A, 0),
  };
  struct sock_fprog prog = { .len = 3, .filter = code };
  return setsockopt(s, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
}

static void probe_reuseport(void) {
  int modes[][2] = { { 1, 0 }, { 0, 2 }, { 2, 1 } };
  for (int i = 0; i < 3; i++) {
    char id[64], seq[256];
    int port = next_port++;
    int a = listener(AF_INET, port, modes[i][0], REUSEPORT), b = listener(AF_INET, port, modes[i][1], REUSEPORT);
    int rb = attach_by_sport(a);
    int c0 = client(AF_INET, 50000, V4_SERVER, port), c1 = client(AF_INET, 50001, V4_SERVER, port);
    int x0 = accept_within(a, 300), x1 = accept_within(b, 300);
    int y0 = accept_within(b, 0);
    char s0[512]; snprintf(s0, sizeof s0, "%s", x0 >= 0 ? saved(x0) : "-");
    snprintf(id, sizeof id, "reuseport.cbpf.a%d-b%d", modes[i][0], modes[i][1]);
    snprintf(seq, sizeof seq, "A mode %d, B mode %d, SO_REUSEPORT, CBPF index = sport & 1; SYN sport 50000, 50001; accept A, accept B", modes[i][0], modes[i][1]);
    row(id, seq, "cbpf %s; from A: %s, flag %d; from B: %s, flag %d; B's queue after: %s",
        ret(rb), s0, x0 >= 0 ? flag(x0) : -1, x1 >= 0 ? saved(x1) : "none", x1 >= 0 ? flag(x1) : -1, y0 >= 0 ? "another child" : "empty");
    close(x0); close(x1); close(c0); close(c1); close(a); close(b);
  }
}

/* A: the listener chosen for every SYN (index 0), B joins the group. */
static void probe_migrate(void) {
  int modes[][2] = { { 1, 0 }, { 0, 1 }, { 1, 2 } };
  for (int mig = 1; mig >= 0; mig--) {
    sysctl("ipv4/tcp_migrate_req", mig ? "1" : "0");
    for (int i = 0; i < 3; i++) {
      char id[64], seq[320];
      int ma = modes[i][0], mb = modes[i][1];
      /* Children in A's accept queue when A closes. */
      int port = next_port++;
      int a = listener(AF_INET, port, ma, REUSEPORT), b = listener(AF_INET, port, mb, REUSEPORT);
      struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
      struct sock_fprog prog = { .len = 1, .filter = code };
      setsockopt(a, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
      int c = client(AF_INET, 50000, V4_SERVER, port);
      usleep(20000);
      close(a);
      int x = accept_within(b, 300);
      snprintf(id, sizeof id, "migrate%d.child.a%d-b%d", mig, ma, mb);
      snprintf(seq, sizeof seq, "tcp_migrate_req=%d; A mode %d, B mode %d in one group, SYN to A; child queued on A; close(A); accept(B)", mig, ma, mb);
      row(id, seq, "accept(B) %s; %s; flag %d", x >= 0 ? "ok" : errname(errno), x >= 0 ? saved(x) : "-", x >= 0 ? flag(x) : -1);
      if (x >= 0) close(x);
      close(c); close(b);

      /* A request in A's SYN queue (deferred accept) when A closes, moved on the ACK. */
      port = next_port++;
      a = listener(AF_INET, port, ma, REUSEPORT | DEFER);
      b = listener(AF_INET, port, mb, REUSEPORT);
      setsockopt(a, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
      c = client(AF_INET, 50000, V4_SERVER, port);
      usleep(20000);
      close(a);
      send(c, "x", 1, 0);
      x = accept_within(b, 300);
      snprintf(id, sizeof id, "migrate%d.request-on-ack.a%d-b%d", mig, ma, mb);
      snprintf(seq, sizeof seq, "tcp_migrate_req=%d; A mode %d (TCP_DEFER_ACCEPT), B mode %d; SYN to A, request pending; close(A); peer's data ACK; accept(B)", mig, ma, mb);
      row(id, seq, "accept(B) %s; %s; flag %d", x >= 0 ? "ok" : errname(errno), x >= 0 ? saved(x) : "-", x >= 0 ? flag(x) : -1);
      if (x >= 0) close(x);
      close(c); close(b);
    }
  }
  {
    /* Moved by the SYN-ACK timer instead (it fires about 1 s after the SYN). */
    sysctl("ipv4/tcp_migrate_req", "1");
    int port = next_port++;
    int a = listener(AF_INET, port, 1, REUSEPORT | DEFER), b = listener(AF_INET, port, 0, REUSEPORT);
    struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
    struct sock_fprog prog = { .len = 1, .filter = code };
    setsockopt(a, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
    int c = client(AF_INET, 50000, V4_SERVER, port);
    usleep(20000);
    close(a);
    usleep(1500000);
    send(c, "x", 1, 0);
    int x = accept_within(b, 300);
    row("migrate1.request-on-timer.a1-b0", "tcp_migrate_req=1; A mode 1 (TCP_DEFER_ACCEPT), B mode 0; SYN to A; close(A); 1.5 s (SYN-ACK timer); peer's data ACK; accept(B)",
        "accept(B) %s; %s; flag %d", x >= 0 ? "ok" : errname(errno), x >= 0 ? saved(x) : "-", x >= 0 ? flag(x) : -1);
    if (x >= 0) close(x);
    close(c); close(b);
    sysctl("ipv4/tcp_migrate_req", "0");
  }
}

static void probe_new_listener(void) {
  for (int mb = 0; mb <= 2; mb += 2) {
    char id[64], seq[320];
    int port = next_port++;
    int a = listener(AF_INET, port, 1, DEFER);
    int c = client(AF_INET, 50000, V4_SERVER, port);
    usleep(20000);
    close(a);
    int b = listener(AF_INET, port, mb, 0);
    int sent = (int)send(c, "x", 1, 0);
    int x = accept_within(b, 300);
    int e = errno;
    char r[8]; int n = (int)recv(c, r, 1, 0);
    snprintf(id, sizeof id, "new-listener.request.a1-b%d", mb);
    snprintf(seq, sizeof seq, "A mode 1 (TCP_DEFER_ACCEPT); SYN, request pending; close(A); B mode %d binds and listens on the port; peer's data ACK; accept(B)", mb);
    errno = e;
    row(id, seq, "bind+listen B %s; send %d; accept(B) %s; peer reads %s", b >= 0 ? "ok" : "fails", sent,
        x >= 0 ? saved(x) : errname(e), n == 0 ? "EOF" : n < 0 && errno == EAGAIN ? "nothing within 2 s" : n < 0 ? errname(errno) : "data");
    if (x >= 0) close(x);
    close(c); close(b);
  }
  {
    int port = next_port++;
    int a = listener(AF_INET, port, 1, 0);
    int c = client(AF_INET, 50000, V4_SERVER, port);
    usleep(20000);
    close(a);
    int b = listener(AF_INET, port, 1, 0);
    int x = accept_within(b, 200);
    int e = errno;
    char r[8]; int n = (int)recv(c, r, 1, 0);
    row("new-listener.child", "A mode 1; SYN+ACK, child queued on A; close(A); B mode 1 listens on the port; accept(B)",
        "accept(B) %s; peer reads %s", x >= 0 ? saved(x) : errname(e), n == 0 ? "EOF" : n < 0 ? errname(errno) : "data");
    if (x >= 0) close(x);
    close(c); close(b);
  }
}

/* A dual-stack socket with SO_REUSEADDR, as the model's are, bound to the port. */
static int bind_port(int s, int port) {
  int one = 1, zero = 0;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  struct sockaddr_storage ss; socklen_t len;
  fill(AF_INET6, NULL, port, &ss, &len);
  return bind(s, (struct sockaddr *)&ss, len);
}

static int sock6(void) {
  int s = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1, zero = 0;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  return s;
}

/* bind() and listen() of a second socket on the port, all with SO_REUSEADDR. */
static void probe_bind(void) {
  char r[6][64];
  int one = 1;
  {
    int port = next_port++;
    int a = sock6(); bind_port(a, port); listen(a, 4);
    int b = sock6();
    snprintf(r[0], 64, "%s", ret(bind_port(b, port)));
    int c = sock6();
    snprintf(r[1], 64, "%s", ret(bind_port(c, port + 1000)));
    snprintf(r[2], 64, "%s", ret(bind_port(c, port + 1001)));
    row("bind.while-listening", "A binds the port and listens; B binds the port; C binds another port, then a third",
        "B: %s; C: %s, then %s", r[0], r[1], r[2]);
    close(a); close(b); close(c);
  }
  {
    int port = next_port++;
    int a = sock6(); bind_port(a, port);
    int b = sock6();
    snprintf(r[0], 64, "%s", ret(bind_port(b, port)));
    snprintf(r[1], 64, "%s", ret(listen(b, 4)));
    snprintf(r[2], 64, "%s", ret(listen(a, 4)));
    close(b);
    snprintf(r[3], 64, "%s", ret(listen(a, 4)));
    row("bind.both-bound", "A binds the port (not listening); B binds the port; B listens; A listens; close(B); A listens",
        "B binds %s; B listens %s; A listens %s; after close(B), A listens %s", r[0], r[1], r[2], r[3]);
    close(a);
  }
  {
    int port = next_port++;
    int a = sock6(); bind_port(a, port); setsockopt(a, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof one); listen(a, 4);
    int c = client(AF_INET, 50000, V4_SERVER, port);
    int x = accept_within(a, 300);
    int b = sock6();
    snprintf(r[0], 64, "%s", ret(bind_port(x, port)));
    snprintf(r[1], 64, "%s", ret(shutdown(a, SHUT_RD)));
    snprintf(r[2], 64, "%s", ret(bind_port(b, port)));
    snprintf(r[3], 64, "%s", ret(listen(b, 4)));
    snprintf(r[4], 64, "%s", ret(listen(a, 4)));
    int d = disconnect(x);
    snprintf(r[5], 64, "%s", ret(bind_port(x, port)));
    row("bind.child-and-shut-listener", "A binds, listens (mode 1); child X accepted; bind(X); shutdown(A, SHUT_RD); B binds; B listens; A listens; disconnect(X); bind(X)",
        "bind(X) %s; shutdown %s; B binds %s; B listens %s; A listens %s; disconnect %s; then bind(X) %s", r[0], r[1], r[2], r[3], r[4], ret(d), r[5]);
    close(a); close(b); close(c); close(x);
  }
  {
    int s = sock6();
    int l = listen(s, 4);
    snprintf(r[0], 64, "%s", ret(bind_port(s, next_port)));
    int t = sock6();
    struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
    inet_pton(AF_INET6, "::ffff:192.0.2.9", &to.sin6_addr);
    connect(t, (struct sockaddr *)&to, sizeof to);
    snprintf(r[1], 64, "%s", ret(bind_port(t, next_port)));
    disconnect(s); disconnect(t);
    snprintf(r[2], 64, "%s", ret(bind_port(s, next_port)));
    snprintf(r[3], 64, "%s", ret(bind_port(t, next_port)));
    row("bind.autobound", "s listens unbound (an ephemeral port); bind(s); t connects (SYN_SENT); bind(t); disconnect both; bind(s); bind(t)",
        "listen %s; bind(s) %s; bind(t) %s; after disconnect: bind(s) %s, bind(t) %s", ret(l), r[0], r[1], r[2], r[3]);
    next_port++;
    close(s); close(t);
  }
  {
    /* A new listener on the port while the old one's child is still established. */
    int port = next_port++;
    int a = sock6(); bind_port(a, port); setsockopt(a, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof one); listen(a, 4);
    int c = client(AF_INET, 50000, V4_SERVER, port);
    int x = accept_within(a, 300);
    close(a);
    int b = sock6(); int two = 2;
    snprintf(r[0], 64, "%s", ret(bind_port(b, port)));
    setsockopt(b, IPPROTO_TCP, TCP_SAVE_SYN, &two, sizeof two);
    snprintf(r[1], 64, "%s", ret(listen(b, 4)));
    int c2 = client(AF_INET, 50001, V4_SERVER, port);
    int y = accept_within(b, 300);
    char sx[512]; snprintf(sx, sizeof sx, "%s", saved(x));
    row("bind.after-close-with-child", "A (mode 1) listens; child X accepted; close(A); B binds, mode 2, listens; new SYN; accept(B) Y; read X; read Y",
        "B binds %s, listens %s; X: %s; Y: %s", r[0], r[1], sx, y >= 0 ? saved(y) : errname(errno));
    close(x); if (y >= 0) close(y); close(b); close(c); close(c2);
  }
}

static void probe_families(void) {
  for (int m = 1; m <= 2; m++) {
    char id[64], seq[320];
    int port = next_port++;
    int l6 = listener(AF_INET6, port, m, REUSEPORT);
    int l4 = listener(AF_INET, port, 3 - m, REUSEPORT);
    int e4 = errno;
    int c4 = client(AF_INET, 50000, V4_SERVER, port), c6 = client(AF_INET6, 50001, V6_SERVER, port);
    int x4 = accept_within(l4, 300), x6a = accept_within(l6, 300), x6b = accept_within(l6, 100);
    char s4[512], s6[512];
    snprintf(s4, sizeof s4, "%s", x4 >= 0 ? saved(x4) : "none");
    snprintf(s6, sizeof s6, "%s", x6a >= 0 ? saved(x6a) : "none");
    snprintf(id, sizeof id, "family.beside.v6m%d-v4m%d", m, 3 - m);
    snprintf(seq, sizeof seq, "AF_INET6 [::] dual-stack mode %d and AF_INET 0.0.0.0 mode %d on one port (SO_REUSEPORT); IPv4 SYN, IPv6 SYN", m, 3 - m);
    row(id, seq, "AF_INET listener %s; AF_INET accepts: %s; AF_INET6 accepts: %s%s", l4 >= 0 ? "ok" : errname(e4), s4, s6, x6b >= 0 ? "; and a second child" : "");
    if (x4 >= 0) close(x4);
    if (x6a >= 0) close(x6a);
    if (x6b >= 0) close(x6b);
    close(c4); close(c6); close(l6); if (l4 >= 0) close(l4);
  }
  for (int m = 1; m <= 2; m++) {
    char id[64], seq[256];
    int port = next_port++;
    int l6 = listener(AF_INET6, port, m, 0);
    int c4 = client(AF_INET, 50000, V4_SERVER, port);
    int x = accept_within(l6, 300);
    snprintf(id, sizeof id, "family.v4-mapped.m%d", m);
    snprintf(seq, sizeof seq, "AF_INET6 [::] dual-stack mode %d alone; IPv4 SYN (a v4-mapped peer); accept", m);
    row(id, seq, "%s", x >= 0 ? saved(x) : errname(errno));
    if (x >= 0) close(x);
    close(c4); close(l6);
  }
  {
    int port = next_port++;
    int l6 = listener(AF_INET6, port, 1, 0);
    int l4 = listener(AF_INET, port, 1, 0);
    int e = errno;
    int l6only = listener(AF_INET6, next_port, 1, V6ONLY), l4b = listener(AF_INET, next_port++, 2, 0);
    int c4 = client(AF_INET, 50000, V4_SERVER, port - 0);
    int xb = -1;
    if (l4b >= 0) { int cb = client(AF_INET, 50002, V4_SERVER, port + 1); xb = accept_within(l4b, 300); close(cb); }
    row("family.beside.no-reuseport", "AF_INET6 [::] dual-stack listening; AF_INET 0.0.0.0 bind+listen on the port (SO_REUSEADDR only); and beside a v6only one",
        "beside dual-stack: %s; beside v6only: %s, its child %s", l4 >= 0 ? "ok" : errname(e), l4b >= 0 ? "ok" : "fails", xb >= 0 ? saved(xb) : "-");
    if (xb >= 0) close(xb);
    close(c4); close(l6); if (l4 >= 0) close(l4); close(l6only); if (l4b >= 0) close(l4b);
  }
}

static void probe_exthdrs(void) {
  /* Hop-by-hop and destination options: a PadN filling 8 bytes. */
  unsigned char opts8[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
  /* Linux drops more than 7 bytes of padding in a row: a router alert
   (value 0) between two PadN options fills 16 bytes. */
  unsigned char opts16[16] = { 0, 1, 1, 4, 0, 0, 0, 0, 5, 2, 0, 0, 1, 2, 0, 0 };
  /* A segment routing header with one segment, the server, none left. */
  unsigned char srh[24] = { 0, 2, 4, 0, 0, 0, 0, 0 };
  inet_pton(AF_INET6, V6_SERVER, srh + 8);
  struct { const char *name; int opt; const void *hdr; int len; } cases[] = {
    { "hop-by-hop", IPV6_HOPOPTS, opts8, 8 },
    { "hop-by-hop-16", IPV6_HOPOPTS, opts16, 16 },
    { "dest-opts", IPV6_DSTOPTS, opts8, 8 },
    { "routing-srh", IPV6_RTHDR, srh, 24 },
  };
  sysctl("ipv6/conf/all/seg6_enabled", "1");
  sysctl("ipv6/conf/lo/seg6_enabled", "1");
  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int m = 1; m <= 2; m++) {
      char id[64], seq[256];
      int port = next_port++;
      int l = listener(AF_INET6, port, m, 0);
      int c = client6_opts(50000, port, cases[i].opt, cases[i].hdr, cases[i].len);
      int e = errno;
      int x = c >= 0 ? accept_within(l, 300) : -1;
      snprintf(id, sizeof id, "exthdr.%s.m%d", cases[i].name, m);
      snprintf(seq, sizeof seq, "AF_INET6 listener mode %d; IPv6 SYN with a %d-byte %s header; accept; getsockopt(TCP_SAVED_SYN)", m, cases[i].len, cases[i].name);
      row(id, seq, "%s", c == -2 ? "client's setsockopt fails" : c < 0 ? errname(e) : x >= 0 ? saved(x) : "no child");
      if (x >= 0) close(x);
      if (c >= 0) close(c);
      close(l);
    }
  {
    /* Hop-by-hop and destination options together. */
    int port = next_port++;
    int l = listener(AF_INET6, port, 1, 0);
    int s = socket(AF_INET6, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(s, IPPROTO_IPV6, IPV6_HOPOPTS, opts8, 8);
    setsockopt(s, IPPROTO_IPV6, IPV6_DSTOPTS, opts8, 8);
    struct sockaddr_storage ss; socklen_t len;
    fill(AF_INET6, V6_PEER, 50000, &ss, &len);
    bind(s, (struct sockaddr *)&ss, len);
    fill(AF_INET6, V6_SERVER, port, &ss, &len);
    int r = connect(s, (struct sockaddr *)&ss, len);
    int x = r == 0 ? accept_within(l, 300) : -1;
    row("exthdr.hop-by-hop+dest-opts.m1", "AF_INET6 listener mode 1; IPv6 SYN with hop-by-hop and destination options (8 bytes each); accept; getsockopt(TCP_SAVED_SYN)",
        "%s", x >= 0 ? saved(x) : "no child");
    if (x >= 0) close(x);
    close(s); close(l);
  }
}

/* Only lo, and the documentation addresses on it: a namespace of our own. */
static int fresh_namespace(void) {
  struct if_nameindex *all = if_nameindex();
  if (!all) return 0;
  int others = 0;
  for (struct if_nameindex *i = all; i->if_index; i++) if (strcmp(i->if_name, "lo")) others++;
  if_freenameindex(all);
  if (others) fprintf(stderr, "paths: interfaces besides lo: not a fresh namespace, refusing to run\n");
  return !others;
}

int main(int argc, char **argv) {
  if (!fresh_namespace()) return 3;
  const char *only = argc > 1 ? argv[1] : "";
  if (!*only || strstr(only, "dup")) probe_dup();
  if (!*only || strstr(only, "shutdown")) probe_shutdown();
  if (!*only || strstr(only, "reuseport")) probe_reuseport();
  if (!*only || strstr(only, "migrate")) probe_migrate();
  if (!*only || strstr(only, "new-listener")) probe_new_listener();
  if (!*only || strstr(only, "bind")) probe_bind();
  if (!*only || strstr(only, "family")) probe_families();
  if (!*only || strstr(only, "exthdr")) probe_exthdrs();
  return 0;
}
