/* The lane's network namespace: its loopback, a tap device that takes
 * Ethernet frames and a tun device that takes bare IP packets, and the
 * listener's addresses on the tun with a prefix route, so every reply to a
 * peer (192.0.2.0/24, 2001:db8::/32) leaves through the tun, where the lane
 * reads it, whichever device the peer's frame came in on. Frames in through
 * the tap or lo reach 192.0.2.1 / 2001:db8::1 anyway: Linux delivers to a
 * local address on any device, and rp_filter is off in a new namespace.
 *
 * Included by kernel-lane.c; the reproducer inlines it. Refuses to run
 * anywhere but in a fresh namespace, so it never touches the host's
 * interfaces or sysctls. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <sys/ioctl.h>

#define TAP_NAME "ssyn-eth"
#define TUN_NAME "ssyn-ip"

/* The peers' frames name this MAC as their destination (packet.ts). */
static const unsigned char TAP_MAC[6] = { 2, 0, 0, 0, 0, 1 };

static int tap_fd = -1, tun_fd = -1, lo_fd = -1, lo_ifindex;

static int write_proc(const char *path, const char *value) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  int ok = fputs(value, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

static int ifreq_ioctl(int family, unsigned long req, struct ifreq *ifr) {
  int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  int r = ioctl(s, req, ifr);
  int e = errno;
  close(s);
  errno = e;
  return r;
}

static int set_flags(const char *name, short on) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ifreq_ioctl(AF_INET, SIOCGIFFLAGS, &ifr) < 0) return -1;
  ifr.ifr_flags |= on;
  return ifreq_ioctl(AF_INET, SIOCSIFFLAGS, &ifr);
}

/* A namespace of our own starts with lo down and nothing else in it. */
static int namespace_is_fresh(void) {
  struct if_nameindex *all = if_nameindex();
  if (!all) return 0;
  int others = 0;
  for (struct if_nameindex *i = all; i->if_index; i++) if (strcmp(i->if_name, "lo")) others++;
  if_freenameindex(all);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ifreq_ioctl(AF_INET, SIOCGIFFLAGS, &ifr) < 0) return 0;
  return others == 0 && !(ifr.ifr_flags & IFF_UP);
}

static int open_tuntap(const char *name, short kind) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  ifr.ifr_flags = kind | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { close(fd); return -1; }
  /* Unregistering a device at close waits for RCU grace periods, tens of
   * milliseconds; a persistent one goes with the namespace, whose cleanup
   * the kernel runs in the background once the lane has exited. */
  ioctl(fd, TUNSETPERSIST, 1);
  return fd;
}

/* 192.0.2.1/24 on the tun: the listener's address and the route to every peer. */
static int add_v4(const char *name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;
  a->sin_family = AF_INET;
  inet_pton(AF_INET, "192.0.2.1", &a->sin_addr);
  if (ifreq_ioctl(AF_INET, SIOCSIFADDR, &ifr) < 0) return -1;
  inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
  return ifreq_ioctl(AF_INET, SIOCSIFNETMASK, &ifr);
}

/* struct in6_ifreq of <linux/ipv6.h>, which clashes with <netinet/in.h>. */
struct lane_in6_ifreq { struct in6_addr addr; unsigned prefixlen; int ifindex; };

/* 2001:db8::1/32 on the tun. The tun has no ARP, so no duplicate address
 * detection holds the address back. */
static int add_v6(const char *name) {
  struct lane_in6_ifreq r;
  memset(&r, 0, sizeof r);
  inet_pton(AF_INET6, "2001:db8::1", &r.addr);
  r.prefixlen = 32;
  r.ifindex = (int)if_nametoindex(name);
  int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  int rc = ioctl(s, SIOCSIFADDR, &r);
  close(s);
  return rc;
}

/* The address is usable once the kernel has dropped IFA_F_TENTATIVE (0x40),
 * which it does from a work item even where there is no DAD to run: until
 * then a frame to it is dropped (Ip6InAddrErrors). Polled, bounded. */
static int wait_v6_ready(void) {
  for (int waited = 0; waited < 5000; waited++) {
    FILE *f = fopen("/proc/net/if_inet6", "r");
    if (!f) return -1;
    char addr[40], name[IFNAMSIZ + 1];
    unsigned ifindex, plen, scope, flags;
    int ready = 0;
    while (fscanf(f, "%39s %x %x %x %x %16s", addr, &ifindex, &plen, &scope, &flags, name) == 6)
      if (!strcmp(addr, "20010db8000000000000000000000001") && !(flags & 0x40)) ready = 1;
    fclose(f);
    if (ready) return 0;
    usleep(1000);
  }
  errno = ETIMEDOUT;
  return -1;
}

static int netns_fail(const char *what) {
  fprintf(stderr, "kernel-lane: %s: %s\n", what, strerror(errno));
  return 3;
}

/* Keep the lane on one CPU: a frame sent on lo waits in that CPU's backlog,
 * and a barrier frame sent after it must queue behind it. */
static void pin_cpu(void) {
  int cpu = sched_getcpu();
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static int netns_init(void) {
  if (!namespace_is_fresh()) {
    fprintf(stderr, "kernel-lane: not in a fresh network namespace of its own (run it under unshare -rn)\n");
    return 3;
  }
  if (set_flags("lo", IFF_UP) < 0) return netns_fail("cannot bring lo up");
  /* No link-local addresses, so no router solicitations or reports on the devices. */
  write_proc("/proc/sys/net/ipv6/conf/default/addr_gen_mode", "1");
  write_proc("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
  write_proc("/proc/sys/net/ipv4/conf/default/rp_filter", "0");
  /* A SYN with a segment routing header is dropped unless SRv6 is on for
   * the namespace and the device it arrives on (ipv6_srh_rcv()). */
  write_proc("/proc/sys/net/ipv6/conf/all/seg6_enabled", "1");
  write_proc("/proc/sys/net/ipv6/conf/default/seg6_enabled", "1");
  write_proc("/proc/sys/net/ipv6/conf/lo/seg6_enabled", "1");
  tap_fd = open_tuntap(TAP_NAME, IFF_TAP);
  if (tap_fd < 0) return netns_fail("cannot create the tap device");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TAP_NAME);
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  memcpy(ifr.ifr_hwaddr.sa_data, TAP_MAC, 6);
  if (ifreq_ioctl(AF_INET, SIOCSIFHWADDR, &ifr) < 0) return netns_fail("cannot set the tap's MAC address");
  /* Nothing is routed out of the tap; without ARP it never asks. */
  if (set_flags(TAP_NAME, IFF_UP | IFF_NOARP) < 0) return netns_fail("cannot bring the tap up");
  tun_fd = open_tuntap(TUN_NAME, IFF_TUN);
  if (tun_fd < 0) return netns_fail("cannot create the tun device");
  if (set_flags(TUN_NAME, IFF_UP) < 0) return netns_fail("cannot bring the tun up");
  if (add_v4(TUN_NAME) < 0) return netns_fail("cannot add 192.0.2.1/24");
  if (add_v6(TUN_NAME) < 0) return netns_fail("cannot add 2001:db8::1/32");
  if (wait_v6_ready() < 0) return netns_fail("2001:db8::1 stays tentative");
  /* Protocol 0: this socket sends onto lo and never receives. */
  lo_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (lo_fd < 0) return netns_fail("cannot open a packet socket on lo");
  lo_ifindex = (int)if_nametoindex("lo");
  pin_cpu();
  return 0;
}
