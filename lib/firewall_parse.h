/* Inside the firewall's parser (lib/firewall_config.c, lib/firewall_rule.c):
 * not for other users. */
#ifndef MICA_LIB_FIREWALL_PARSE_H
#define MICA_LIB_FIREWALL_PARSE_H

#include "lib/appliance_config.h"
#include "lib/firewall_config.h"

struct fw_parser {
	struct config_parser *ps;
	struct appliance_config *c;     /* its interfaces; c->firewall is filled */
};

/* What a value list holds. */
enum fw_value { FW_VALUE_ADDRESS, FW_VALUE_PORT, FW_VALUE_ICMP, FW_VALUE_SET_ELEMENT };

/* "an address or prefix" and so on, for messages. */
const char *fw_value_wanted(enum fw_value kind);

/* A value, @SET or { list } of kind at the current token into m. */
bool fw_parse_values(struct fw_parser *p, enum fw_value kind, struct fw_set_match *m);

/* Whether name is a-z first, then a-z 0-9 - _, at most max characters. */
bool fw_valid_name(const char *name, size_t max);

/* Names as the file spells them: TCP flags by bit number, ct states by
 * enum ct_state; an ICMP type's (0 if it has none), a reject code's. */
extern const char *const fw_tcp_flag_names[8];
extern const char *const fw_ct_state_names[4];
const char *fw_icmp_type_name(uint8_t type);
const char *fw_reject_name(uint8_t code);

/* One rule of chain at the current token, to its end. */
bool fw_parse_rule(struct fw_parser *p, enum fw_chain chain, unsigned line);

#endif
