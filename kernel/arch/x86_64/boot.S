/*
 * Multiboot v1 entry: 32-bit protected mode -> 64-bit long mode -> kmain.
 *
 * The loader (GRUB, iPXE, qemu -kernel) enters _start32 in 32-bit protected
 * mode, paging off, with EAX = multiboot magic and EBX = the physical address
 * of the multiboot information. We build boot page tables that map the first
 * 1 GiB three times (identity, the physical map and the -2 GiB kernel window),
 * enter long mode, jump to the higher half and call kmain(magic, mbi).
 */
#include "layout.h"

#define V2P(x) ((x) - KERNEL_VMA)

#define MB_MAGIC       0x1BADB002
#define MB_FLAG_ALIGN  (1 << 0)   /* modules page aligned */
#define MB_FLAG_MEM    (1 << 1)   /* we want the memory map */
#define MB_FLAG_AOUT   (1 << 16)  /* use the address fields below, not ELF */
#define MB_FLAGS       (MB_FLAG_ALIGN | MB_FLAG_MEM | MB_FLAG_AOUT)

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long V2P(mb_header)            /* header_addr */
	.long V2P(_load_start)          /* load_addr */
	.long V2P(_load_end)            /* load_end_addr */
	.long V2P(_bss_end)             /* bss_end_addr */
	.long V2P(_start32)             /* entry_addr */

	.section .text.boot, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	mov %eax, V2P(boot_magic)
	mov %ebx, V2P(boot_mbi)

	/* Zero .bss (page tables and stack live there); loaders should, but
	 * the kernel does not rely on it. */
	mov $V2P(_bss_start), %edi
	mov $V2P(_bss_end), %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	mov V2P(boot_magic), %eax      /* restore after zeroing */

	mov $V2P(boot_stack_top), %esp

	/* Long mode available? CPUID 0x80000001 EDX bit 29. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode

	/* PD: 512 x 2 MiB pages covering physical 0..1 GiB. */
	mov $V2P(boot_pd), %edi
	mov $0x83, %eax                 /* present | writable | 2 MiB */
	xor %ecx, %ecx
1:	mov %eax, (%edi,%ecx,8)
	movl $0, 4(%edi,%ecx,8)
	add $0x200000, %eax
	inc %ecx
	cmp $512, %ecx
	jne 1b

	mov $V2P(boot_pd) + 3, %eax
	mov %eax, V2P(boot_pdpt_low)            /* PDPT[0]   -> PD */
	mov %eax, V2P(boot_pdpt_high) + 510 * 8 /* PDPT[510] -> PD */
	mov $V2P(boot_pdpt_low) + 3, %eax
	mov %eax, V2P(boot_pml4)                /* identity 0..1 GiB */
	mov %eax, V2P(boot_pml4) + 256 * 8      /* physical map */
	mov $V2P(boot_pdpt_high) + 3, %eax
	mov %eax, V2P(boot_pml4) + 511 * 8      /* kernel window */

	mov %cr4, %eax
	or $(1 << 5), %eax              /* PAE */
	mov %eax, %cr4
	mov $V2P(boot_pml4), %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx           /* EFER */
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax /* LME | NXE */
	wrmsr
	mov %cr0, %eax
	or $((1 << 31) | (1 << 16) | 1), %eax /* PG | WP | PE */
	mov %eax, %cr0

	lgdt V2P(boot_gdt_ptr)
	ljmp $0x08, $V2P(start64_low)

no_long_mode:
	/* No long mode: say so on COM1 and stop. */
	mov $V2P(msg_no_lm), %esi
2:	lodsb
	test %al, %al
	jz 3f
	mov $0x3F8, %dx
	out %al, %dx
	jmp 2b
3:	hlt
	jmp 3b

	.code64
start64_low:
	movabs $start64_high, %rax
	jmp *%rax

	.text
start64_high:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp
	movl boot_magic(%rip), %edi
	movl boot_mbi(%rip), %esi
	call kmain
4:	cli
	hlt
	jmp 4b

	.section .rodata
msg_no_lm:
	.asciz "mica: this CPU has no 64-bit long mode\r\n"

	.align 16
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08: 64-bit kernel code */
	.quad 0x00CF92000000FFFF        /* 0x10: kernel data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long V2P(boot_gdt)

	.data
	.globl boot_magic, boot_mbi
boot_magic: .long 0
boot_mbi:   .long 0

	.bss
	.align 4096
	.globl boot_pml4
boot_pml4:      .space 4096
boot_pdpt_low:  .space 4096
boot_pdpt_high: .space 4096
boot_pd:        .space 4096
	.globl boot_stack_top
boot_stack:     .space KERNEL_STACK_SIZE
boot_stack_top:
