/* notify.c - the systemd notification protocol ($NOTIFY_SOCKET), without libsystemd */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"

int
notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t len;
	int fd, rc = -1, saved;

	if (path == NULL || *path == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';          /* abstract namespace */
	salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *) &sa, salen) >= 0)
		rc = 1;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
notify_sendf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return notify_send(buf);
}

uint64_t
notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	int64_t v, p;

	if (usec == NULL || parse_int64(usec, 1, INT64_MAX, &v) < 0)
		return 0;
	if (pid != NULL && (parse_int64(pid, 1, INT32_MAX, &p) < 0 || p != (int64_t) getpid()))
		return 0;
	return (uint64_t) v;
}

void
notify_watchdog_kick(void)
{
	static bool sent_once;
	static struct timespec last;
	struct timespec now;
	uint64_t usec = notify_watchdog_usec();
	double since;

	if (usec == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	since = (double) (now.tv_sec - last.tv_sec) + (double) (now.tv_nsec - last.tv_nsec) / 1e9;
	if (sent_once && since * 4e6 < (double) usec)
		return;
	if (notify_send("WATCHDOG=1") == 1) {
		sent_once = true;
		last = now;
	}
}
