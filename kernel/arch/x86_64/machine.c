#include "machine.h"
#include "cpu.h"

void machine_exit(int code)
{
	irq_disable();
#ifdef MICA_TEST
	outl(DEBUG_EXIT_PORT, (uint32_t)code);
#else
	(void)code;
#endif
	for (;;)
		cpu_halt();
}

void machine_halt_failure(void)
{
	machine_exit(MACHINE_EXIT_FAIL);
}
