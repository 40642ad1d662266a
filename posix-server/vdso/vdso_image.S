/* The vDSO's file (built from vdso.c) in the server's executable pages,
 * page-aligned and padded to whole pages, so that vdso_map.c maps those
 * very pages into processes (read and execute; the server's own mapping
 * of them must allow execution): vdso_image to vdso_image_end. */
	.section .text.vdso, "ax", @progbits
	.balign 4096
	.globl vdso_image, vdso_image_end
vdso_image:
	.incbin VDSO_FILE
vdso_image_end:
	.balign 4096, 0
	.section .note.GNU-stack, "", @progbits
