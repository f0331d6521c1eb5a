/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes a libFuzzer seed corpus from pcap files: one file per frame, in the input
 * layout of fuzz-parse.c (link-type selector, wire-length byte, frame).
 * Usage: mkcorpus OUTDIR FILE.pcap...
 */
#define _DEFAULT_SOURCE /* libpcap headers use the BSD u_char types */
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

static int
selector(int dlt)
{
	switch (dlt) {
	case 1: return 0;
	case 101: return 1;
	case 113: return 2;
	case 228: return 3;
	case 229: return 4;
	case 239: return 5;
	case 276: return 6;
	case 12: return 7;
	case 14: return 9;
	default: return -1;
	}
}

int
main(int argc, char **argv)
{
	unsigned written = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OUTDIR FILE.pcap...\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		char errbuf[PCAP_ERRBUF_SIZE];
		struct pcap_pkthdr *h;
		const u_char *d;
		pcap_t *pc = pcap_open_offline(argv[i], errbuf);
		unsigned n = 0;
		int sel;

		if (!pc) {
			fprintf(stderr, "skip %s: %s\n", argv[i], errbuf);
			continue;
		}
		sel = selector(pcap_datalink(pc));
		while (sel >= 0 && pcap_next_ex(pc, &h, &d) == 1 && n < 200) {
			char path[4096];
			FILE *f;
			unsigned char hdr[2];

			snprintf(path, sizeof(path), "%s/%d-%u", argv[1], i, n++);
			f = fopen(path, "wb");
			if (!f) {
				perror(path);
				return 1;
			}
			hdr[0] = (unsigned char)(sel | (n & 1 ? 0x30 : 0));
			{
				unsigned extra = (h->len - h->caplen + 255) / 256;

				hdr[1] = (unsigned char)(extra > 255 ? 255 : extra);
			}
			fwrite(hdr, 1, 2, f);
			fwrite(d, 1, h->caplen, f);
			fclose(f);
			written++;
		}
		pcap_close(pc);
	}
	printf("%u seed inputs\n", written);
	return 0;
}
