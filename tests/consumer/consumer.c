/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A program built the way an application builds against libpfse: from the installed
 * headers and pkg-config file, or with libpfse as a Meson subproject. .ci/run builds it
 * both ways and runs it.
 */
#include <stdio.h>
#include <string.h>

#include <pfse/pfse.h>

int
main(void)
{
	static const unsigned char frame[] = {
		0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
		0x30, 0x39, 0, 53, 0, 8, 0, 0,                                       /* UDP */
	};
	struct pfse_parser_params p;
	struct pfse_parser *ps = NULL;
	struct pfse_pkt pkt;
	char text[PFSE_FLOW_KEY_STRLEN];
	int r;

	if (pfse_version_number() / 10000 != PFSE_VERSION_MAJOR) {
		fprintf(stderr, "header/library major version mismatch\n");
		return 1;
	}
	pfse_parser_params_init(&p);
	p.linktype = PFSE_LINKTYPE_RAW;
	r = pfse_parser_create(&p, &ps);
	if (r < 0) {
		fprintf(stderr, "pfse_parser_create: %s\n", pfse_strerror(r));
		return 1;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = frame;
	pkt.caplen = sizeof(frame);
	r = pfse_parse(ps, &pkt, NULL);
	pfse_flow_key_format(&pkt.key, text, sizeof(text));
	printf("libpfse %s: %s\n", pfse_version_string(), r == 0 ? text : "rejected");
	pfse_parser_destroy(ps);
	return r == 0 && strcmp(text, "udp 10.0.0.1:12345 > 10.0.0.2:53") == 0 ? 0 : 1;
}
