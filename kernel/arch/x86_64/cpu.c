#include "cpu.h"
#include "klog.h"

#include "lib/string.h"

struct cpu_feature {
	uint32_t leaf;
	int reg;        /* 2 = ecx, 3 = edx */
	int bit;
	const char *name;
};

static const struct cpu_feature features[] = {
	{ 1, 3, 0, "fpu" }, { 1, 3, 4, "tsc" }, { 1, 3, 5, "msr" }, { 1, 3, 6, "pae" },
	{ 1, 3, 9, "apic" }, { 1, 3, 12, "mtrr" }, { 1, 3, 13, "pge" }, { 1, 3, 16, "pat" },
	{ 1, 3, 19, "clflush" }, { 1, 3, 24, "fxsr" }, { 1, 3, 25, "sse" }, { 1, 3, 26, "sse2" },
	{ 1, 2, 0, "sse3" }, { 1, 2, 9, "ssse3" }, { 1, 2, 19, "sse4.1" }, { 1, 2, 20, "sse4.2" },
	{ 1, 2, 21, "x2apic" }, { 1, 2, 23, "popcnt" }, { 1, 2, 24, "tsc-deadline" },
	{ 1, 2, 26, "xsave" }, { 1, 2, 28, "avx" }, { 1, 2, 31, "hypervisor" },
	{ 0x80000001, 3, 11, "syscall" }, { 0x80000001, 3, 20, "nx" },
	{ 0x80000001, 3, 26, "pdpe1gb" }, { 0x80000001, 3, 27, "rdtscp" },
	{ 0x80000001, 3, 29, "lm" }, { 0x80000007, 3, 8, "invariant-tsc" },
};

static int cpu_feature_present(const struct cpu_feature *f)
{
	uint32_t r[4];

	cpuid(f->leaf & 0x80000000, 0, r);
	if (r[0] < f->leaf)
		return 0;
	cpuid(f->leaf, 0, r);
	return (r[f->reg] >> f->bit) & 1;
}

int cpu_has_invariant_tsc(void)
{
	return cpu_feature_present(&features[sizeof(features) / sizeof(features[0]) - 1]);
}

void cpu_print_info(void)
{
	uint32_t r[4];
	char vendor[13];
	char brand[49];

	cpuid(0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;

	cpuid(1, 0, r);
	uint32_t family = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf;
	if (family == 0xf)
		family += (r[0] >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((r[0] >> 16) & 0xf) << 4;

	brand[0] = 0;
	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			cpuid(0x80000002 + i, 0, r);
			memcpy(brand + 16 * i, r, 16);
		}
		brand[48] = 0;
	}
	const char *b = brand;
	while (*b == ' ')
		b++;

	kinfo("cpu: %s family %u model %u: %s\n", vendor, family, model,
	      *b ? b : "(no brand string)");

	char line[256];
	size_t len = 0;
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (!cpu_feature_present(&features[i]))
			continue;
		size_t n = strlen(features[i].name);
		if (len + n + 2 >= sizeof(line))
			break;
		line[len++] = ' ';
		memcpy(line + len, features[i].name, n);
		len += n;
	}
	line[len] = 0;
	kinfo("cpu: features:%s\n", line);
}
