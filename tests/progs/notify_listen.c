// SPDX-License-Identifier: MIT
/*
 * notify_listen - plays systemd's side of sd_notify for the tests: binds
 * a datagram socket at PATH (what NOTIFY_SOCKET names) and prints every
 * message it receives as one line, until STOPPING=1 arrived or SECONDS
 * passed.
 *
 *   notify_listen PATH SECONDS
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	time_t end;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify_listen PATH SECONDS\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[2]);
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("notify_listen: socket");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char msg[4096];
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recv(fd, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		printf("%s\n", msg);
		if (strstr(msg, "STOPPING=1"))
			break;
	}
	close(fd);
	unlink(argv[1]);
	return 0;
}
