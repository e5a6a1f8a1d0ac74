/* The live-kernel lane: runs savedsyn operations, one per line on stdin,
 * against the kernel's own TCP stack and prints one result line per op.
 * Runs inside `unshare -rn` (a private user and network namespace): the
 * devices, addresses and sysctls it sets up are that namespace's, and
 * every frame stays in it (lane-netns.h). Peers are not sockets: their
 * frames are written to a tap, a tun or lo, and the kernel's replies are
 * read back from the tun (lane-wire.h).
 *
 * Ops (model descriptor numbers, not the kernel's):
 *   sysctl NAME VALUE            tcp_syncookies 0/1/2, tcp_fastopen and
 *                                tcp_migrate_req 0/1 (any other nonzero: 1)
 *   socket [inet|inet6only]      AF_INET6 dual-stack, or AF_INET, or AF_INET6
 *                                with IPV6_V6ONLY
 *   listen FD BACKLOG | accept FD | close FD | disconnect FD
 *   connect FD                   towards 192.0.2.9 (2001:db8::9 from a v6only
 *                                socket), which never answers
 *   dup FD                       a second model descriptor for the same file
 *   bind FD                      SO_REUSEADDR, then bind to the service port
 *                                on the wildcard address of the socket's family
 *   reuseport FD                 SO_REUSEPORT on
 *   shutdown FD HOW              HOW passed as is (0, 1, 2, or not)
 *   setsockopt FD OPT VALUE | getsockopt FD OPT LEN
 *   syn CONN MAC HEX             peer CONN's SYN frame, as the model built it;
 *                                MAC (ethernet, loopback, none) names the device
 *   synto CONN TO NETOFF MAC HEX the same SYN, steered to index TO (modulo the
 *                                group's size) of the port's SO_REUSEPORT
 *                                group; its source port is NETOFF bytes past
 *                                the network header. A plain syn or flood
 *                                goes to index 0.
 *   flood FIRST MAC HEX...       one SYN frame per peer FIRST, FIRST+1, ...
 *   ack CONN | rst CONN          the peer's ACK or RST, built from its SYN-ACK
 *   retransmit CONN              1.5 s, past the first SYN-ACK retransmission
 *                                (every pending request's timer fires)
 * Result: RET ERRNO OPTLEN HEX WIRE, with '-' for what the op does not
 * produce; WIRE lists what the kernel sent peers meanwhile (synack/N,
 * cookie/N, rst/N, fin/N, ack/N), 'quiet' if nothing, 'unsent' when the
 * peer had no SYN-ACK to answer: for network ops, and for close,
 * disconnect and shutdown, which may reset or finish a connection.
 *
 * Started with --settle MS, it sleeps MS milliseconds after every op and
 * then drains the tun, for a second, slower run of a disagreement.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lane-netns.h"
#include "lane-wire.h"

#define MAXFD 64

static int fds[MAXFD];
static int settle_ms;

/* The last result line, kept for a reproducer to compare. */
static char last_result[9000];
static char wire[4096];

static void out(int ret, int err, long optlen, const unsigned char *bytes, int n) {
  int k = snprintf(last_result, sizeof last_result, "%d %s ", ret, ret < 0 ? strerrorname_np(err) : "-");
  if (optlen == -999999) k += snprintf(last_result + k, sizeof last_result - k, "-");
  else k += snprintf(last_result + k, sizeof last_result - k, "%ld", optlen);
  k += snprintf(last_result + k, sizeof last_result - k, " ");
  if (bytes == NULL) k += snprintf(last_result + k, sizeof last_result - k, "-");
  else if (n == 0) k += snprintf(last_result + k, sizeof last_result - k, "=");
  else for (int i = 0; i < n && k < (int)sizeof last_result - 3; i++) k += snprintf(last_result + k, sizeof last_result - k, "%02x", bytes[i]);
  snprintf(last_result + k, sizeof last_result - k, " %s", wire[0] ? wire : "-");
#ifndef SAVEDSYN_REPRO
  printf("%s\n", last_result);
  fflush(stdout);
#endif
}
#define NOLEN (-999999)

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

/* Steering: the group index each steered peer's SYNs get, and where its
 * source port lies past the network header. */
static struct { int set, index, netoff, plain, nh, e1; } steer[MAXCONN];

/* Which of the port's SO_REUSEPORT groups a socket would be in: one per
 * family and IPV6_V6ONLY setting, since inet_reuseport_add_sock() joins a
 * listener to no other. 0 AF_INET, 1 AF_INET6 dual-stack, 2 v6only. */
static int group_key(int fd) {
  int family = 0, v6only = 0;
  socklen_t l = sizeof family;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &l)) return -1;
  if (family == AF_INET) return 0;
  l = sizeof v6only;
  if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l)) return -1;
  return v6only ? 2 : 1;
}

/* Group `key` as the kernel holds it: the distinct sockets (a dup is the
 * same inode) listening on the service port with SO_REUSEPORT. Its size,
 * and one member to attach its program to. */
static int group_size(int key, int *member) {
  ino_t seen[MAXFD];
  int n = 0;
  *member = -1;
  for (int i = 0; i < MAXFD; i++) {
    if (fds[i] < 0 || group_key(fds[i]) != key) continue;
    int on = 0, rp = 0;
    socklen_t l = sizeof on;
    struct sockaddr_in6 a;
    socklen_t al = sizeof a;
    struct stat st;
    if (getsockopt(fds[i], SOL_SOCKET, SO_ACCEPTCONN, &on, &l) || !on) continue;
    l = sizeof rp;
    if (getsockopt(fds[i], SOL_SOCKET, SO_REUSEPORT, &rp, &l) || !rp) continue;
    if (getsockname(fds[i], (struct sockaddr *)&a, &al) || ntohs(a.sin6_port) != SERVICE_PORT || fstat(fds[i], &st)) continue;
    int dup_of = 0;
    for (int j = 0; j < n; j++) dup_of |= seen[j] == st.st_ino;
    if (dup_of) continue;
    seen[n++] = st.st_ino;
    *member = fds[i];
  }
  return n;
}

/* SO_ATTACH_REUSEPORT_CBPF, on each group: for each steered peer, its
 * source port picks its index modulo that group's size now; any other SYN
 * gets index 0. A port is only looked for where the packet's own headers
 * put it: the peer's SYN's layout (IP version, IPv4 header length, the
 * first IPv6 extension header's type and length) must be the packet's, and
 * each load is guarded by the packet's length, since a load out of bounds
 * ends a classic BPF program with 0. Bytes of another layout (the sequence
 * number where options would be) never pass for a port. */
#define STEER_INSNS 24
static int attach_group_steering(int key);

/* 0, or -1 when the steered peers need a program longer than BPF allows. */
static int attach_steering(void) {
  for (int key = 0; key < 3; key++) if (attach_group_steering(key)) return -1;
  return 0;
}

/* Appends: when the packet has this layout and PORT at OFF, return INDEX.
 * V6, OFF and, past a plain IPv6 header, the first extension header's
 * type NH and length byte E1 make the layout. */
static unsigned steer_match(struct sock_filter *code, unsigned len, int v6, unsigned off, int nh, int e1, unsigned port, unsigned index) {
  struct sock_filter b[STEER_INSNS];
  unsigned n = 0;
  int fails[8], nf = 0;
  if (!v6) {
    b[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF);
    fails[nf++] = (int)n;
    b[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x40 | (off / 4), 0, 0);
    b[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_NET_OFF + 2);
  } else {
    b[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF);
    b[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4);
    fails[nf++] = (int)n;
    b[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 0);
    b[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + 6);
    fails[nf++] = (int)n;
    b[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, off > 40 ? (unsigned)nh : IPPROTO_TCP, 0, 0);
    b[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_NET_OFF + 4);
    b[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 40);
  }
  fails[nf++] = (int)n;
  b[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, off + 2, 0, 0);
  if (v6 && off > 40) {
    b[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + 41);
    fails[nf++] = (int)n;
    b[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)e1, 0, 0);
  }
  b[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_NET_OFF + off);
  fails[nf++] = (int)n;
  b[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 0);
  b[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, index);
  /* A failed test jumps past the block. */
  for (int i = 0; i < nf; i++) b[fails[i]].jf = (unsigned char)(n - (unsigned)fails[i] - 1);
  for (unsigned i = 0; i < n; i++) code[len + i] = b[i];
  return len + n;
}

static int attach_group_steering(int key) {
  int member, n = group_size(key, &member);
  if (n == 0) return 0;
  static struct sock_filter code[2 * STEER_INSNS * MAXCONN + 1];
  unsigned len = 0;
  for (int c = 0; c < MAXCONN; c++) {
    if (!steer[c].set) continue;
    if (len + 2 * STEER_INSNS + 1 > BPF_MAXINSNS) {
      errno = E2BIG;
      return -1;
    }
    unsigned off = (unsigned)steer[c].netoff, index = (unsigned)(((steer[c].index % n) + n) % n);
    int v6 = steer[c].plain == 40;
    len = steer_match(code, len, v6, off, steer[c].nh, steer[c].e1, PORT_BASE + (unsigned)c, index);
    /* The peer's ACK (a cookie's is steered again) carries no IP options
     * or extension headers: its port sits right past a plain header. */
    if ((unsigned)steer[c].plain != off) len = steer_match(code, len, v6, (unsigned)steer[c].plain, -1, -1, PORT_BASE + (unsigned)c, index);
  }
  code[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  struct sock_fprog prog = { .len = (unsigned short)len, .filter = code };
  setsockopt(member, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
  return 0;
}

static int lowest_free(void) {
  for (int i = 0; i < MAXFD; i++) if (fds[i] < 0) return i;
  return -1;
}

static int write_sysctl(const char *name, const char *value) {
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/ipv4/%s", name);
  return write_proc(path, value);
}

/* Every descriptor the model sees is non-blocking: accept() on an empty
 * queue is EAGAIN, never a wait. */
static int model_socket(void) {
  int s = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int zero = 0;
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  return s;
}

/* A socket of another family: AF_INET, or AF_INET6 receiving IPv6 only. */
static int model_socket_of(const char *domain) {
  if (!strcmp(domain, "inet")) return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int s = model_socket();
  if (!strcmp(domain, "inet6only")) {
    int one = 1;
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  return s;
}

static int domain_of(int fd) {
  int d = AF_INET6;
  socklen_t len = sizeof d;
  getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &d, &len);
  return d;
}

static int service_socket(void) {
  int s = model_socket();
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(SERVICE_PORT), .sin6_addr = in6addr_any };
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) return -1;
  return s;
}

static int mac_kind_of(const char *name) {
  if (!strcmp(name, "ethernet")) return MAC_ETHERNET;
  if (!strcmp(name, "loopback")) return MAC_LOOPBACK;
  if (!strcmp(name, "none")) return MAC_NONE;
  return -1;
}

/* One byte from two hex digits at s; nonzero if they are not. */
static int unhex_byte(const char *s, unsigned char *out) {
  unsigned v = 0;
  for (int i = 0; i < 2; i++) {
    char ch = s[i];
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + (unsigned)d;
  }
  *out = (unsigned char)v;
  return 0;
}

static int unhex(const char *s, unsigned char *f, size_t max) {
  size_t n = 0;
  for (; s[0] && s[1] && n < max; s += 2) {
    unsigned v;
    if (sscanf(s, "%2x", &v) != 1) return -1;
    f[n++] = (unsigned char)v;
  }
  return s[0] ? -1 : (int)n;
}

static void wire_events(void) {
  int k = 0;
  wire[0] = 0;
  for (int i = 0; i < nevents && k < (int)sizeof wire - 32; i++) k += snprintf(wire + k, sizeof wire - k, "%s%s/%d", i ? "," : "", events[i].kind, events[i].conn);
  if (!nevents) snprintf(wire, sizeof wire, "quiet");
}

/* One SYN frame in, and everything the kernel answered read back. */
static int send_syn(int conn, int kind, const char *hex) {
  unsigned char f[MAXFRAME];
  int n = unhex(hex, f, sizeof f);
  if (n < 0 || peer_from_syn(conn, kind, f, (size_t)n)) { errno = EINVAL; return -1; }
  long before = syncookies_sent();
  int first = nevents;
  if (inject(kind, f, (size_t)n) || barrier(kind)) return -2;
  /* A SYN-ACK that the cookie counter moved for carries a cookie. */
  if (syncookies_sent() > before)
    for (int i = first; i < nevents; i++) if (events[i].conn == conn && !strcmp(events[i].kind, "synack")) events[i].kind = "cookie";
  return 0;
}

static int send_segment(int conn, unsigned char flags) {
  if (conn < 0 || conn >= MAXCONN) { errno = EINVAL; return -1; }
  /* The peer answers in the light of everything the kernel has sent it so
   * far: a RST from a system call (disconnect, close) may still be queued. */
  if (barrier(MAC_NONE)) return -2;
  struct peer *p = &peers[conn];
  if (!p->answered) { snprintf(wire, sizeof wire, "unsent"); return 1; }
  unsigned char f[MAXFRAME];
  size_t n = peer_segment(p, flags, f);
  if (inject(p->mac_kind, f, n) || barrier(p->mac_kind)) return -2;
  /* A peer that has reset its side sends nothing more either. */
  if (flags & TH_RST) p->answered = 0;
  return 0;
}

static int lane_fail(const char *what) {
  fprintf(stderr, "kernel-lane: %s: %s\n", what, strerror(errno));
  return 4;
}

/* Set up the namespace, its sysctls and the service socket. */
static int lane_init(void) {
  for (int i = 0; i < MAXFD; i++) fds[i] = -1;
  int r = netns_init();
  if (r) return r;
  write_sysctl("tcp_syncookies", "1");
  write_sysctl("tcp_fastopen", "1");
  fds[0] = service_socket();
  if (fds[0] < 0) { fprintf(stderr, "kernel-lane: cannot bind the service port: %s\n", strerror(errno)); return 3; }
  return 0;
}

/* What a system call sent peers (a RST from a disconnect, a FIN from a
 * close), read now: left in the tun, it would be read by the next network
 * op's barrier and counted as that op's answer. */
static int drain_sent(void) {
  if (barrier(MAC_NONE)) return -1;
  wire_events();
  return 0;
}

/* Run one op line; 2 when the op is unknown, 4 when the wire fails. */
static int run_line(const char *line) {
  char op[32];
  long a = 0, b = 0, c = 0;
  op[0] = 0;
  wire[0] = 0;
  nevents = 0;
  sscanf(line, "%31s %ld %ld %ld", op, &a, &b, &c);
  errno = 0;
  int network = !strcmp(op, "syn") || !strcmp(op, "synto") || !strcmp(op, "flood") || !strcmp(op, "ack") || !strcmp(op, "rst") || !strcmp(op, "retransmit");
  if (!strcmp(op, "sysctl")) {
    char name[64]; long v = 0;
    sscanf(line, "%*s %63s %ld", name, &v);
    /* Fast Open on: client and server, no cookie required, on every listener (0x607). */
    /* tcp_syncookies takes 2 (always); any other nonzero value is on. */
    const char *value = !strcmp(name, "tcp_fastopen") ? (v ? "1543" : "1") : (v == 2 && !strcmp(name, "tcp_syncookies") ? "2" : v ? "1" : "0");
    int r = write_sysctl(name, value);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "socket")) {
    int fd = lowest_free();
    if (fd < 0) { out(-1, EMFILE, NOLEN, NULL, 0); return 0; }
    char domain[16] = "";
    sscanf(line, "%*s %15s", domain);
    fds[fd] = model_socket_of(domain);
    out(fd, 0, NOLEN, NULL, 0);
  } else if (!network && (a < 0 || a >= MAXFD || fds[a] < 0)) {
    out(-1, EBADF, NOLEN, NULL, 0);
  } else if (!strcmp(op, "listen")) {
    int r = listen(fds[a], (int)b);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "accept")) {
    int fd = lowest_free();
    if (fd < 0) { out(-1, EMFILE, NOLEN, NULL, 0); return 0; }
    int r = accept4(fds[a], NULL, NULL, SOCK_NONBLOCK);
    if (r < 0) { out(-1, errno, NOLEN, NULL, 0); return 0; }
    fds[fd] = r;
    out(fd, 0, NOLEN, NULL, 0);
  } else if (!strcmp(op, "close")) {
    int r = close(fds[a]);
    int e = errno;
    fds[a] = -1;
    if (drain_sent()) return lane_fail("no answer to the barrier after a close");
    out(r, e, NOLEN, NULL, 0);
  } else if (!strcmp(op, "disconnect")) {
    struct sockaddr un = { .sa_family = AF_UNSPEC };
    int r = connect(fds[a], &un, sizeof un);
    int e = errno;
    if (drain_sent()) return lane_fail("no answer to the barrier after a disconnect");
    out(r, e, NOLEN, NULL, 0);
  } else if (!strcmp(op, "dup")) {
    int fd = lowest_free();
    if (fd < 0) { out(-1, EMFILE, NOLEN, NULL, 0); return 0; }
    int r = dup(fds[a]);
    if (r < 0) { out(-1, errno, NOLEN, NULL, 0); return 0; }
    fds[fd] = r;
    out(fd, 0, NOLEN, NULL, 0);
  } else if (!strcmp(op, "bind")) {
    int one = 1;
    setsockopt(fds[a], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in6 at = { .sin6_family = AF_INET6, .sin6_port = htons(SERVICE_PORT), .sin6_addr = in6addr_any };
    struct sockaddr_in at4 = { .sin_family = AF_INET, .sin_port = htons(SERVICE_PORT), .sin_addr = { htonl(INADDR_ANY) } };
    int r = domain_of(fds[a]) == AF_INET ? bind(fds[a], (struct sockaddr *)&at4, sizeof at4) : bind(fds[a], (struct sockaddr *)&at, sizeof at);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "reuseport")) {
    int one = 1;
    int r = setsockopt(fds[a], SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "shutdown")) {
    int r = shutdown(fds[a], (int)b);
    int e = errno;
    if (drain_sent()) return lane_fail("no answer to the barrier after a shutdown");
    out(r, e, NOLEN, NULL, 0);
  } else if (!strcmp(op, "connect")) {
    struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
    inet_pton(AF_INET6, "::ffff:192.0.2.9", &to.sin6_addr);
    struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_port = htons(80) };
    inet_pton(AF_INET, "192.0.2.9", &to4.sin_addr);
    /* A v6only socket cannot reach a v4-mapped address: its peer is 2001:db8::9. */
    int v6only = 0;
    socklen_t vl = sizeof v6only;
    getsockopt(fds[a], IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &vl);
    if (v6only) inet_pton(AF_INET6, "2001:db8::9", &to.sin6_addr);
    int r = domain_of(fds[a]) == AF_INET ? connect(fds[a], (struct sockaddr *)&to4, sizeof to4) : connect(fds[a], (struct sockaddr *)&to, sizeof to);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "setsockopt")) {
    int v = (int)c;
    int r = setsockopt(fds[a], IPPROTO_TCP, (int)b, &v, sizeof v);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "getsockopt")) {
    unsigned char buf[4096];
    memset(buf, 0xee, sizeof buf);
    socklen_t len = (socklen_t)(int)c;
    /* A negative or huge length is passed as is; the buffer bounds what is read back. */
    int r = getsockopt(fds[a], IPPROTO_TCP, (int)b, buf, &len);
    int e = errno;
    int shown = r == 0 ? ((int)len > (int)sizeof buf ? (int)sizeof buf : (int)len) : -1;
    if (r == 0 && shown >= 0) out(0, 0, (int)len, buf, shown);
    else out(r, e, (int)len == (int)c ? NOLEN : (int)len, NULL, 0); /* '-': left as it was */
  } else if (!strcmp(op, "syn") || !strcmp(op, "synto") || !strcmp(op, "flood")) {
    char mac[16];
    int pos = 0;
    int steered = !strcmp(op, "synto");
    if (sscanf(line, steered ? "%*s %*d %*d %*d %15s %n" : "%*s %*d %15s %n", mac, &pos) < 1 || mac_kind_of(mac) < 0 || a < 0 || a >= MAXCONN) {
      out(-1, EINVAL, NOLEN, NULL, 0);
      return 0;
    }
    if (strcmp(op, "flood")) {
      steer[a].set = steered;
      steer[a].index = (int)b;
      steer[a].netoff = (int)c;
      /* The IP version, from the frame's first byte past its MAC header,
       * and an IPv6 SYN's first extension header's type and length. */
      unsigned char scratch[16], first = 0, nh = 0, e1 = 0;
      size_t at = mac_header(mac_kind_of(mac), 4, scratch);
      if (unhex_byte(line + pos + 2 * at, &first)) first = 0x40;
      steer[a].plain = first >> 4 == 6 ? 40 : 20;
      steer[a].nh = unhex_byte(line + pos + 2 * (at + 6), &nh) ? -1 : nh;
      steer[a].e1 = unhex_byte(line + pos + 2 * (at + 41), &e1) ? -1 : e1;
    } else {
      /* A flood's SYNs go to index 0, whatever a peer's earlier SYN was
       * steered to. */
      long conn = a;
      for (const char *t = line + pos; *t && *t != '\n' && conn < MAXCONN; conn++) {
        steer[conn].set = 0;
        while (*t && *t != ' ' && *t != '\n') t++;
        while (*t == ' ') t++;
      }
    }
    if (attach_steering()) return lane_fail("more steered peers than a steering program holds");
    const char *rest = line + pos;
    int r = 0;
    for (long conn = a; r == 0 && *rest && *rest != '\n'; conn++) {
      char hex[2 * MAXFRAME + 1];
      int used = 0;
      if (sscanf(rest, "%4096s %n", hex, &used) < 1) break;
      rest += used;
      r = send_syn((int)conn, mac_kind_of(mac), hex);
    }
    if (r == -2) return lane_fail("no answer to the barrier after a SYN");
    if (r == 0) wire_events();
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "retransmit")) {
    usleep(1500 * 1000);
    if (barrier(MAC_NONE)) return lane_fail("no answer to the barrier after a SYN-ACK retransmission");
    wire_events();
    out(0, 0, NOLEN, NULL, 0);
  } else if (!strcmp(op, "ack") || !strcmp(op, "rst")) {
    /* A cookie's ACK is looked up in the group again: steered as its SYN
     * was, modulo the group's size now. */
    if (attach_steering()) return lane_fail("more steered peers than a steering program holds");
    int r = send_segment((int)a, !strcmp(op, "ack") ? TH_ACK : TH_RST);
    if (r == -2) return lane_fail("no answer to the barrier after an ACK or RST");
    if (r == 0) wire_events();
    out(r < 0 ? -1 : 0, errno, NOLEN, NULL, 0);
  } else {
    fprintf(stderr, "kernel-lane: unknown op '%s'\n", op);
    return 2;
  }
  if (settle_ms > 0) {
    usleep((useconds_t)settle_ms * 1000);
    if (barrier(MAC_NONE)) return lane_fail("no answer to the barrier while settling");
  }
  return 0;
}

#ifndef SAVEDSYN_REPRO
int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--settle")) settle_ms = atoi(argv[2]);
  int r = lane_init();
  if (r) return r;
  printf("ready\n");
  fflush(stdout);
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    if (line[0] == '\n') continue;
    r = run_line(line);
    if (r) return r;
  }
  free(line);
  return 0;
}
#endif
