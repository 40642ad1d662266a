/*
 * check-config FILE...: parse appliance configuration files on the host
 * exactly as the appliance will (lib/appliance_config.c) and print, for
 * each, "FILE: ok (N interfaces, N routes, N services[, forwarding][, N
 * firewall rules])" or
 * "FILE:LINE:COLUMN: message". Exit status 0 if every file parses, 1 if
 * one does not, 2 if one cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/appliance_config.h"
#include "lib/fmt.h"

#define FILE_MAX (256 * 1024)   /* larger than any configuration; a boot module */

int main(int argc, char **argv)
{
	static char text[FILE_MAX];
	static struct appliance_config c;
	struct config_error err;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		size_t len = fread(text, 1, sizeof(text), f);
		int too_long = len == sizeof(text) && fgetc(f) != EOF;
		fclose(f);
		if (too_long) {
			printf("%s: longer than %u KiB\n", argv[i], FILE_MAX / 1024);
			status = 1;
		} else if (!appliance_config_parse(text, len, &c, &err)) {
			printf("%s:%u:%u: %s\n", argv[i], err.line, err.column, err.message);
			status = 1;
		} else {
			char ifaces[32], routes[32], services[32], rules[48] = "";
			if (c.firewall.present) {
				rules[0] = ',';
				rules[1] = ' ';
				fmt_count(rules + 2, sizeof(rules) - 2, c.firewall.nrules, "firewall rule",
					  "firewall rules");
			}
			printf("%s: ok (%s, %s, %s%s%s)\n", argv[i],
			       fmt_count(ifaces, sizeof(ifaces), c.ninterfaces, "interface", "interfaces"),
			       fmt_count(routes, sizeof(routes), c.nroutes, "route", "routes"),
			       fmt_count(services, sizeof(services), c.nservices, "service", "services"),
			       c.forwarding ? ", forwarding" : "", rules);
		}
	}
	return status;
}
