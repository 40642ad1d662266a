/* IPv4 address text: include/lib/inet.h. */
#include "lib/inet.h"

bool inet_parse_ipv4(const char *s, size_t len, uint32_t *addr)
{
	uint32_t a = 0;
	unsigned part = 0, digits = 0, value = 0;

	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c >= '0' && c <= '9') {
			value = value * 10 + (unsigned)(c - '0');
			if (++digits > 3 || value > 255)
				return false;
		} else if (c == '.' && digits && part < 4) {
			a |= value << (8 * part++); /* network order on a little-endian CPU */
			digits = value = 0;
		} else {
			return false;
		}
	}
	if (part != 4)
		return false;
	*addr = a;
	return true;
}
