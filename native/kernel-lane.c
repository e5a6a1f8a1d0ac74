/* The live-kernel lane: runs savedsyn operations, one per line on stdin,
 * against the kernel's own TCP stack and prints one result line per op.
 * Meant to run inside `unshare -rn` (a private user and network namespace):
 * it brings loopback up, sets its sysctls there, and talks only to 127.0.0.1
 * and ::1. Every socket it opens is closed when it exits.
 *
 * Ops (model descriptor numbers, not the kernel's):
 *   sysctl NAME VALUE          tcp_syncookies / tcp_fastopen (0 off, 1 on)
 *   socket | listen FD BACKLOG | accept FD | close FD | disconnect FD
 *   setsockopt FD OPT VALUE | getsockopt FD OPT LEN
 *   syn CONN FAMILY IPOPTS     a client from port 20000+CONN connects (blocking)
 *   ack CONN                   that client sends a byte: the handshake's ACK
 *   rst CONN                   that client aborts (SO_LINGER 0)
 *   flood FIRST COUNT          half-open clients that never send (IPv4)
 *   tfo CONN FAMILY PAYLOAD    a Fast Open SYN carrying PAYLOAD bytes
 * Result: RET ERRNO OPTLEN HEX, with '-' for what the op does not produce.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 64
#define MAXCONN 10000
#define SERVICE_PORT 8080
#define PORT_BASE 20000

static int fds[MAXFD];
static int clients[MAXCONN];

/* The last result line, kept for a reproducer to compare. */
static char last_result[9000];

static void out(int ret, int err, long optlen, const unsigned char *bytes, int n) {
  int k = snprintf(last_result, sizeof last_result, "%d %s ", ret, ret < 0 ? strerrorname_np(err) : "-");
  if (optlen == -999999) k += snprintf(last_result + k, sizeof last_result - k, "-");
  else k += snprintf(last_result + k, sizeof last_result - k, "%ld", optlen);
  k += snprintf(last_result + k, sizeof last_result - k, " ");
  if (bytes == NULL) k += snprintf(last_result + k, sizeof last_result - k, "-");
  else if (n == 0) k += snprintf(last_result + k, sizeof last_result - k, "=");
  else for (int i = 0; i < n && k < (int)sizeof last_result - 3; i++) k += snprintf(last_result + k, sizeof last_result - k, "%02x", bytes[i]);
#ifndef SAVEDSYN_REPRO
  printf("%s\n", last_result);
  fflush(stdout);
#endif
}
#define NOLEN (-999999)

static int lowest_free(void) {
  for (int i = 0; i < MAXFD; i++) if (fds[i] < 0) return i;
  return -1;
}

static int write_sysctl(const char *name, const char *value) {
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/ipv4/%s", name);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  int ok = fputs(value, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

static int lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return -1;
  ifr.ifr_flags |= IFF_UP;
  int r = ioctl(s, SIOCSIFFLAGS, &ifr);
  close(s);
  return r;
}

/* Bare ACKs (flags exactly ACK) never reach the listener: a SYN's peer then
 * stays half-open until it sends data, in cookie mode too, which is what the
 * model's separate SYN and ACK events need. Children inherit the filter;
 * bare ACKs carry nothing they need here. */
static void drop_bare_acks(int fd) {
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x10, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0),
    BPF_STMT(BPF_RET | BPF_K, 0xffff),
  };
  struct sock_fprog prog = { 4, code };
  setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

/* Every descriptor the model sees is non-blocking: accept() on an empty
 * queue is EAGAIN, never a wait. */
static int model_socket(void) {
  int s = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int zero = 0;
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  drop_bare_acks(s);
  return s;
}

static int service_socket(void) {
  int s = model_socket();
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(SERVICE_PORT), .sin6_addr = in6addr_any };
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) return -1;
  return s;
}

/* A client socket bound to the connection's identity port. */
static int client(int conn, int family, int ipopts) {
  int c = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == 6) {
    struct sockaddr_in6 b = { .sin6_family = AF_INET6, .sin6_port = htons(PORT_BASE + conn), .sin6_addr = in6addr_loopback };
    if (bind(c, (struct sockaddr *)&b, sizeof b) < 0) { close(c); return -1; }
  } else {
    struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(PORT_BASE + conn), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(c, (struct sockaddr *)&b, sizeof b) < 0) { close(c); return -1; }
    if (ipopts) {
      unsigned char ra[4] = { 148, 4, 0, 0 };
      setsockopt(c, IPPROTO_IP, IP_OPTIONS, ra, sizeof ra);
    }
  }
  return c;
}

static socklen_t server_addr(int family, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6; a->sin6_port = htons(SERVICE_PORT); a->sin6_addr = in6addr_loopback;
    return sizeof *a;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET; a->sin_port = htons(SERVICE_PORT); a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sizeof *a;
}

static void drop_client(int conn) {
  if (conn >= 0 && conn < MAXCONN && clients[conn] >= 0) { close(clients[conn]); clients[conn] = -1; }
}

static int do_connect(int conn, int family, int ipopts) {
  if (conn < 0 || conn >= MAXCONN) return -1;
  drop_client(conn);
  int c = client(conn, family, ipopts);
  if (c < 0) return -1;
  struct sockaddr_storage ss;
  socklen_t len = server_addr(family, &ss);
  fcntl(c, F_SETFL, O_NONBLOCK);
  connect(c, (struct sockaddr *)&ss, len);
  /* On loopback the handshake runs in the sender's softirq: give it a moment. */
  usleep(2000);
  clients[conn] = c;
  return 0;
}

/* Set up the namespace's loopback, sysctls and service socket. */
static int lane_init(void) {
  for (int i = 0; i < MAXFD; i++) fds[i] = -1;
  for (int i = 0; i < MAXCONN; i++) clients[i] = -1;
  if (lo_up() < 0) { fprintf(stderr, "kernel-lane: cannot bring lo up (not in a network namespace of our own?)\n"); return 3; }
  write_sysctl("tcp_syncookies", "1");
  write_sysctl("tcp_fastopen", "1");
  fds[0] = service_socket();
  if (fds[0] < 0) { fprintf(stderr, "kernel-lane: cannot bind the service port: %s\n", strerror(errno)); return 3; }

  return 0;
}

/* Run one op line; 2 when the op is unknown. */
static int run_line(const char *line) {
  char op[32];
  long a = 0, b = 0, c = 0;
  op[0] = 0;
  sscanf(line, "%31s %ld %ld %ld", op, &a, &b, &c);
  errno = 0;
  if (!strcmp(op, "sysctl")) {
    char name[64]; long v = 0;
    sscanf(line, "%*s %63s %ld", name, &v);
    const char *value = !strcmp(name, "tcp_fastopen") ? (v ? "1543" /* 0x607 */ : "1") : (v == 2 ? "2" : v ? "1" : "0");
    int r = write_sysctl(name, value);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "socket")) {
    int fd = lowest_free();
    if (fd < 0) { out(-1, EMFILE, NOLEN, NULL, 0); return 0; }
    fds[fd] = model_socket();
    out(fd, 0, NOLEN, NULL, 0);
  } else if (strcmp(op, "syn") && strcmp(op, "ack") && strcmp(op, "rst") && strcmp(op, "flood") && strcmp(op, "tfo")
             && (a < 0 || a >= MAXFD)) {
    out(-1, EBADF, NOLEN, NULL, 0);
  } else if (!strcmp(op, "listen")) {
    if (fds[a] < 0) { out(-1, EBADF, NOLEN, NULL, 0); return 0; }
    int r = listen(fds[a], (int)b);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "accept")) {
    if (fds[a] < 0) { out(-1, EBADF, NOLEN, NULL, 0); return 0; }
    int fd = lowest_free();
    if (fd < 0) { out(-1, EMFILE, NOLEN, NULL, 0); return 0; }
    int r = accept4(fds[a], NULL, NULL, SOCK_NONBLOCK);
    if (r < 0) { out(-1, errno, NOLEN, NULL, 0); return 0; }
    fds[fd] = r;
    out(fd, 0, NOLEN, NULL, 0);
  } else if (!strcmp(op, "close")) {
    if (fds[a] < 0) { out(-1, EBADF, NOLEN, NULL, 0); return 0; }
    int r = close(fds[a]);
    fds[a] = -1;
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "disconnect")) {
    if (fds[a] < 0) { out(-1, EBADF, NOLEN, NULL, 0); return 0; }
    struct sockaddr un = { .sa_family = AF_UNSPEC };
    int r = connect(fds[a], &un, sizeof un);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "setsockopt")) {
    if (fds[a] < 0) { out(-1, EBADF, NOLEN, NULL, 0); return 0; }
    int v = (int)c;
    int r = setsockopt(fds[a], IPPROTO_TCP, (int)b, &v, sizeof v);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "getsockopt")) {
    if (fds[a] < 0) { out(-1, EBADF, NOLEN, NULL, 0); return 0; }
    unsigned char buf[4096];
    memset(buf, 0xee, sizeof buf);
    socklen_t len = (socklen_t)(int)c;
    /* A negative or huge length is passed as is; the buffer bounds what is read back. */
    int r = getsockopt(fds[a], IPPROTO_TCP, (int)b, buf, &len);
    int e = errno;
    int shown = r == 0 ? ((int)len > (int)sizeof buf ? (int)sizeof buf : (int)len) : -1;
    if (r == 0 && shown >= 0) out(0, 0, (int)len, buf, shown);
    else out(r, e, (int)len == (int)c ? NOLEN : (int)len, NULL, 0); /* '-': left as it was */
  } else if (!strcmp(op, "syn")) {
    int r = do_connect((int)a, (int)b, (int)c);
    out(r, errno, NOLEN, NULL, 0);
  } else if (!strcmp(op, "ack")) {
    int r = 0;
    if (a < MAXCONN && clients[a] >= 0) {
      char x = 'x';
      send(clients[a], &x, 1, MSG_NOSIGNAL);
      usleep(2000);
    }
    out(r, 0, NOLEN, NULL, 0);
  } else if (!strcmp(op, "rst")) {
    if (a < MAXCONN && clients[a] >= 0) {
      struct linger lg = { 1, 0 };
      setsockopt(clients[a], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      drop_client((int)a);
      usleep(2000);
    }
    out(0, 0, NOLEN, NULL, 0);
  } else if (!strcmp(op, "flood")) {
    for (long i = 0; i < b; i++) do_connect((int)(a + i), 4, 0);
    out(0, 0, NOLEN, NULL, 0);
  } else if (!strcmp(op, "tfo")) {
    if (a < 0 || a >= MAXCONN) { out(-1, EINVAL, NOLEN, NULL, 0); return 0; }
    drop_client((int)a);
    int cl = client((int)a, (int)b, 0);
    /* TCP_FASTOPEN_NO_COOKIE: data in the SYN and no option, whatever the
     * client remembers of earlier attempts to this address. */
    int one = 1;
    setsockopt(cl, IPPROTO_TCP, 34, &one, sizeof one);
    char data[1400];
    for (int i = 0; i < (int)c && i < (int)sizeof data; i++) data[i] = (char)((a * 31 + i) & 0xff);
    struct sockaddr_storage ss;
    socklen_t len = server_addr((int)b, &ss);
    fcntl(cl, F_SETFL, O_NONBLOCK);
    sendto(cl, data, (size_t)c, MSG_FASTOPEN, (struct sockaddr *)&ss, len);
    usleep(2000);
    clients[a] = cl;
    out(0, 0, NOLEN, NULL, 0);
  } else {
    fprintf(stderr, "kernel-lane: unknown op '%s'\n", op);
    return 2;
  }
  return 0;
}

#ifndef SAVEDSYN_REPRO
int main(void) {
  int r = lane_init();
  if (r) return r;
  printf("ready\n");
  fflush(stdout);
  char line[512];
  while (fgets(line, sizeof line, stdin)) {
    r = run_line(line);
    if (r) return r;
  }
  return 0;
}
#endif
