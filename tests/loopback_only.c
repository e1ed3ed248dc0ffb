/* Preloaded into every process the test suite starts (tests/preload.py): refuse, before
 * the kernel sees it, each socket call towards an IP address outside loopback and each
 * look-up of a host name but localhost and this machine's own, and note it in the file
 * named by $LOOPBACK_ONLY_LOG so the suite can fail the test that caused it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int is_loopback_v4(uint32_t host_order) {
    /* 0.0.0.0 as a destination is this host on Linux */
    return (host_order >> 24) == 127 || host_order == 0;
}

static int is_local(const struct sockaddr *sa) {
    if (sa == NULL)
        return 1;
    if (sa->sa_family == AF_INET)
        return is_loopback_v4(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a))
            return 1;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            uint32_t v4;
            memcpy(&v4, &a->s6_addr[12], sizeof v4);
            return is_loopback_v4(ntohl(v4));
        }
        return 0;
    }
    return 1; /* Unix, netlink, AF_UNSPEC (a UDP disconnect): nothing leaves */
}

/* One line per refusal, written whole with O_APPEND so processes do not interleave:
 * "<pid> <program> <call> <stream|dgram|name> <destination>". */
static void note(const char *call, const char *kind, const char *what) {
    const char *path = getenv("LOOPBACK_ONLY_LOG");
    if (path == NULL || *path == '\0')
        return;
    char program[64] = "?";
    int comm = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    if (comm >= 0) {
        ssize_t n = read(comm, program, sizeof program - 1);
        program[n > 0 ? n - 1 : 0] = '\0'; /* drop the newline */
        close(comm);
    }
    char line[512];
    int n = snprintf(line, sizeof line, "%d %s %s %s %s\n", (int)getpid(), program, call,
                     kind, what);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (write(fd, line, (size_t)n) < 0) { /* nothing better to do: the call fails anyway */
        }
        close(fd);
    }
}

static int refuse(int fd, const char *call, const struct sockaddr *sa) {
    char host[INET6_ADDRSTRLEN] = "?", where[INET6_ADDRSTRLEN + 16];
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(where, sizeof where, "%s:%d", host, port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(where, sizeof where, "[%s]:%d", host, port);
    }
    int type = 0;
    socklen_t size = sizeof type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size);
    note(call, type == SOCK_STREAM ? "stream" : "dgram", where);
    errno = ENETUNREACH; /* what the kernel says when there is no route */
    return -1;
}

/* looked up once: Chromium's IPC alone makes thousands of sendmsg() calls */
#define REAL(name)                                                                       \
    ({                                                                                   \
        static __typeof__(&name) real;                                                   \
        if (real == NULL)                                                                \
            real = (__typeof__(&name))dlsym(RTLD_NEXT, #name);                           \
        real;                                                                            \
    })

int connect(int fd, const struct sockaddr *sa, socklen_t len) {
    if (!is_local(sa))
        return refuse(fd, "connect", sa);
    return REAL(connect)(fd, sa, len);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
               socklen_t len) {
    if (!is_local(sa))
        return refuse(fd, "sendto", sa);
    return REAL(sendto)(fd, buf, n, flags, sa, len);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    if (!is_local(msg->msg_name))
        return refuse(fd, "sendmsg", msg->msg_name);
    return REAL(sendmsg)(fd, msg, flags);
}

int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags) {
    for (unsigned int i = 0; i < n; i++)
        if (!is_local(vec[i].msg_hdr.msg_name))
            return refuse(fd, "sendmmsg", vec[i].msg_hdr.msg_name);
    return REAL(sendmmsg)(fd, vec, n, flags);
}

static int is_local_name(const char *node) {
    struct in6_addr scratch;
    char self[256] = "";
    size_t n = strlen(node);
    if (n && node[n - 1] == '.')
        n--;
    if (inet_pton(AF_INET, node, &scratch) == 1 || inet_pton(AF_INET6, node, &scratch) == 1)
        return 1; /* a literal asks nobody */
    if ((n == 9 && strncasecmp(node, "localhost", 9) == 0) ||
        (n > 10 && strncasecmp(node + n - 10, ".localhost", 10) == 0))
        return 1;
    /* this machine's own name comes from /etc/hosts; were it asked of a DNS server,
     * the query's connect or send is refused above */
    gethostname(self, sizeof self - 1);
    return *self && strlen(self) == n && strncasecmp(node, self, n) == 0;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
    if (node != NULL && !is_local_name(node)) {
        note("getaddrinfo", "name", node);
        return EAI_NONAME;
    }
    return REAL(getaddrinfo)(node, service, hints, res);
}
