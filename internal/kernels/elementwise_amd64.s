//go:build amd64 && !purego

#include "textflag.h"

// AVX2/FMA elementwise kernels for the fused ops. Each processes n floats,
// n a multiple of 8; the exported Go kernels in elementwise.go do the tails
// with the pure-Go twins.

DATA c_one<>+0(SB)/4, $0x3f800000
GLOBL c_one<>(SB), RODATA|NOPTR, $4
DATA c_lo80<>+0(SB)/4, $0xc2a00000
GLOBL c_lo80<>(SB), RODATA|NOPTR, $4
DATA c_hi80<>+0(SB)/4, $0x42a00000
GLOBL c_hi80<>(SB), RODATA|NOPTR, $4
DATA c_log2e<>+0(SB)/4, $0x3fb8aa3b
GLOBL c_log2e<>(SB), RODATA|NOPTR, $4
DATA c_ln2hi<>+0(SB)/4, $0x3f318000
GLOBL c_ln2hi<>(SB), RODATA|NOPTR, $4
DATA c_ln2lo<>+0(SB)/4, $0xb95e8083
GLOBL c_ln2lo<>(SB), RODATA|NOPTR, $4
DATA c_p0<>+0(SB)/4, $0x39506967
GLOBL c_p0<>(SB), RODATA|NOPTR, $4
DATA c_p1<>+0(SB)/4, $0x3ab743ce
GLOBL c_p1<>(SB), RODATA|NOPTR, $4
DATA c_p2<>+0(SB)/4, $0x3c088908
GLOBL c_p2<>(SB), RODATA|NOPTR, $4
DATA c_p3<>+0(SB)/4, $0x3d2aa9c1
GLOBL c_p3<>(SB), RODATA|NOPTR, $4
DATA c_p4<>+0(SB)/4, $0x3e2aaaaa
GLOBL c_p4<>(SB), RODATA|NOPTR, $4
DATA c_p5<>+0(SB)/4, $0x3f000000
GLOBL c_p5<>(SB), RODATA|NOPTR, $4
DATA c_absmask<>+0(SB)/4, $0x7fffffff
GLOBL c_absmask<>(SB), RODATA|NOPTR, $4
DATA c_minnorm<>+0(SB)/4, $0x00800000
GLOBL c_minnorm<>(SB), RODATA|NOPTR, $4

DATA c_bias127<>+0(SB)/4, $127
GLOBL c_bias127<>(SB), RODATA|NOPTR, $4

// func reluBiasAVX2(y, b *float32, n int)
TEXT ·reluBiasAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ relu_done
	VXORPS Y15, Y15, Y15
relu_loop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VMAXPS Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ relu_loop
relu_done:
	VZEROUPPER
	RET

// func sigmoidBiasAVX2(y, b *float32, n int)
TEXT ·sigmoidBiasAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ sig_done
	VBROADCASTSS c_one<>(SB), Y15
	VBROADCASTSS c_lo80<>(SB), Y14
	VBROADCASTSS c_hi80<>(SB), Y13
	VBROADCASTSS c_log2e<>(SB), Y12
	VBROADCASTSS c_ln2hi<>(SB), Y11
	VBROADCASTSS c_ln2lo<>(SB), Y10
	VPBROADCASTD c_bias127<>(SB), Y9
sig_loop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VMAXPS Y14, Y0, Y0
	VMINPS Y13, Y0, Y0
	VXORPS Y1, Y1, Y1
	VSUBPS Y0, Y1, Y0
	VMULPS Y12, Y0, Y1
	VROUNDPS $0, Y1, Y1
	VFNMADD231PS Y11, Y1, Y0
	VFNMADD231PS Y10, Y1, Y0
	VBROADCASTSS c_p0<>(SB), Y2
	VBROADCASTSS c_p1<>(SB), Y3
	VFMADD213PS Y3, Y0, Y2
	VBROADCASTSS c_p2<>(SB), Y3
	VFMADD213PS Y3, Y0, Y2
	VBROADCASTSS c_p3<>(SB), Y3
	VFMADD213PS Y3, Y0, Y2
	VBROADCASTSS c_p4<>(SB), Y3
	VFMADD213PS Y3, Y0, Y2
	VBROADCASTSS c_p5<>(SB), Y3
	VFMADD213PS Y3, Y0, Y2
	VMULPS Y0, Y0, Y3
	VADDPS Y15, Y0, Y4
	VFMADD231PS Y3, Y2, Y4
	VCVTPS2DQ Y1, Y1
	VPADDD Y9, Y1, Y1
	VPSLLD $23, Y1, Y1
	VMULPS Y1, Y4, Y4
	VADDPS Y15, Y4, Y4
	VDIVPS Y4, Y15, Y4
	VMOVUPS Y4, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ sig_loop
sig_done:
	VZEROUPPER
	RET

// func reluGradAVX2(y, gy, dz *float32, n int)
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), SI
	MOVQ gy+8(FP), R8
	MOVQ dz+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ rg_done
	VXORPS Y15, Y15, Y15
rg_loop:
	VMOVUPS (SI), Y0
	VCMPPS $14, Y15, Y0, Y1
	VANDPS (R8), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, DI
	DECQ CX
	JNZ rg_loop
rg_done:
	VZEROUPPER
	RET

// func sigmoidGradAVX2(y, gy, dz *float32, n int)
TEXT ·sigmoidGradAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), SI
	MOVQ gy+8(FP), R8
	MOVQ dz+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ sg_done
	VBROADCASTSS c_one<>(SB), Y15
sg_loop:
	VMOVUPS (SI), Y0
	VSUBPS Y0, Y15, Y1
	VMULPS Y1, Y0, Y0
	VMULPS (R8), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, DI
	DECQ CX
	JNZ sg_loop
sg_done:
	VZEROUPPER
	RET

// func bceGradAVX2(p, t, d *float32, n int, s, eps float32)
// d = s·(t/(p+eps) − (1−t)/((1−p)+eps)), in bceGradGo's order of operations.
TEXT ·bceGradAVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ t+8(FP), R8
	MOVQ d+16(FP), DI
	MOVQ n+24(FP), CX
	VBROADCASTSS s+32(FP), Y14
	VBROADCASTSS eps+36(FP), Y13
	SHRQ $3, CX
	JZ bg_done
	VBROADCASTSS c_one<>(SB), Y15
bg_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (R8), Y1
	VADDPS Y13, Y0, Y2
	VDIVPS Y2, Y1, Y3
	VSUBPS Y1, Y15, Y4
	VSUBPS Y0, Y15, Y5
	VADDPS Y13, Y5, Y5
	VDIVPS Y5, Y4, Y4
	VSUBPS Y4, Y3, Y3
	VMULPS Y3, Y14, Y3
	VMOVUPS Y3, (DI)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, DI
	DECQ CX
	JNZ bg_loop
bg_done:
	VZEROUPPER
	RET

// func addToAVX2(dst, src *float32, n int)
TEXT ·addToAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ add_done
add_loop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ add_loop
add_done:
	VZEROUPPER
	RET

// func adamAVX2(param, grad, m, v *float32, n int, k *adamConsts)
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ param+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	SHRQ $3, CX
	JZ adam_done
	VBROADCASTSS 0(AX), Y8
	VBROADCASTSS 4(AX), Y9
	VBROADCASTSS 8(AX), Y10
	VBROADCASTSS 12(AX), Y11
	VBROADCASTSS 16(AX), Y12
	VBROADCASTSS 20(AX), Y13
	VBROADCASTSS 24(AX), Y14
	VBROADCASTSS 28(AX), Y15
	VBROADCASTSS c_absmask<>(SB), Y7
	VBROADCASTSS c_minnorm<>(SB), Y6
adam_loop:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VFMADD231PS Y13, Y0, Y1
	VMULPS (R8), Y8, Y2
	VFMADD231PS Y10, Y1, Y2
	VMULPS Y1, Y1, Y3
	VMULPS (R9), Y9, Y4
	VFMADD231PS Y11, Y3, Y4
	VANDPS Y7, Y2, Y5
	VCMPPS $13, Y6, Y5, Y5
	VANDPS Y5, Y2, Y2
	VCMPPS $13, Y6, Y4, Y5
	VANDPS Y5, Y4, Y4
	VMOVUPS Y2, (R8)
	VMOVUPS Y4, (R9)
	VSQRTPS Y4, Y4
	VMULPS Y15, Y4, Y4
	VADDPS Y12, Y4, Y4
	VMULPS Y14, Y2, Y2
	VDIVPS Y4, Y2, Y2
	VSUBPS Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ adam_loop
adam_done:
	VZEROUPPER
	RET

// func sqDiffSumAVX2(p, t *float32, n int, acc *[4]float64)
// acc += per-lane sums of (p-t)² accumulated in float64; n a multiple of 8.
TEXT ·sqDiffSumAVX2(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ t+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ acc+24(FP), AX
	VMOVUPD (AX), Y4
	VXORPD Y5, Y5, Y5
	SHRQ $3, CX
	JZ sq_done
sq_loop:
	VMOVUPS (SI), Y0
	VSUBPS (DI), Y0, Y0
	VMULPS Y0, Y0, Y0
	VCVTPS2PD X0, Y1
	VEXTRACTF128 $1, Y0, X2
	VCVTPS2PD X2, Y2
	VADDPD Y1, Y4, Y4
	VADDPD Y2, Y5, Y5
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ sq_loop
sq_done:
	VADDPD Y5, Y4, Y4
	VMOVUPD Y4, (AX)
	VZEROUPPER
	RET

// func axpyAVX2(dst, src *float32, n int, alpha float32)
// dst += alpha·src; n a multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Y1
	SHRQ $3, CX
	JZ axpy_done
axpy_loop:
	VMOVUPS (SI), Y0
	VFMADD213PS (DI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ axpy_loop
axpy_done:
	VZEROUPPER
	RET

// func dotAVX2(a, b *float32, n int) float32
// Σ a·b over n floats, n a multiple of 16; two accumulators hide the FMA
// latency.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	SHRQ $4, CX
	JZ dot_done
dot_loop:
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VFMADD231PS (DI), Y2, Y0
	VFMADD231PS 32(DI), Y3, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ dot_loop
dot_done:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// Cephes logf: the mantissa's bits, √½, the polynomial and the largest float.
DATA c_mant<>+0(SB)/4, $0x007fffff
GLOBL c_mant<>(SB), RODATA|NOPTR, $4
DATA c_sqrthf<>+0(SB)/4, $0x3f3504f3
GLOBL c_sqrthf<>(SB), RODATA|NOPTR, $4
DATA c_maxf<>+0(SB)/4, $0x7f7fffff
GLOBL c_maxf<>(SB), RODATA|NOPTR, $4
DATA c_bias126<>+0(SB)/4, $126
GLOBL c_bias126<>(SB), RODATA|NOPTR, $4
DATA c_l0<>+0(SB)/4, $0x3d9021bb
GLOBL c_l0<>(SB), RODATA|NOPTR, $4
DATA c_l1<>+0(SB)/4, $0xbdebd1b8
GLOBL c_l1<>(SB), RODATA|NOPTR, $4
DATA c_l2<>+0(SB)/4, $0x3def251a
GLOBL c_l2<>(SB), RODATA|NOPTR, $4
DATA c_l3<>+0(SB)/4, $0xbdfe5d4f
GLOBL c_l3<>(SB), RODATA|NOPTR, $4
DATA c_l4<>+0(SB)/4, $0x3e11e9bf
GLOBL c_l4<>(SB), RODATA|NOPTR, $4
DATA c_l5<>+0(SB)/4, $0xbe2aae50
GLOBL c_l5<>(SB), RODATA|NOPTR, $4
DATA c_l6<>+0(SB)/4, $0x3e4cceac
GLOBL c_l6<>(SB), RODATA|NOPTR, $4
DATA c_l7<>+0(SB)/4, $0xbe7ffffc
GLOBL c_l7<>(SB), RODATA|NOPTR, $4
DATA c_l8<>+0(SB)/4, $0x3eaaaaaa
GLOBL c_l8<>(SB), RODATA|NOPTR, $4

// LOG8 writes log(X) into OUT for eight positive normal floats (Cephes
// logf); X and T1–T3 are clobbered. X = m·2^e with m in [√½, √2):
// log X = (m−1) − (m−1)²/2 + (m−1)³·P(m−1) + e·ln 2.
#define LOG8(X, T1, T2, T3, OUT) \
	VPSRLD $23, X, T1 \
	VPBROADCASTD c_bias126<>(SB), T2 \
	VPSUBD T2, T1, T1 \
	VCVTDQ2PS T1, T1 \
	VBROADCASTSS c_mant<>(SB), T3 \
	VANDPS T3, X, T2 \
	VBROADCASTSS c_p5<>(SB), T3 \
	VORPS T3, T2, T2 \
	VBROADCASTSS c_sqrthf<>(SB), T3 \
	VCMPPS $1, T3, T2, T3 \
	VANDPS Y12, T3, OUT \
	VSUBPS OUT, T1, T1 \
	VANDPS T2, T3, OUT \
	VADDPS OUT, T2, T2 \
	VSUBPS Y12, T2, T2 \
	VMULPS T2, T2, T3 \
	VBROADCASTSS c_l0<>(SB), OUT \
	VBROADCASTSS c_l1<>(SB), X \
	VFMADD213PS X, T2, OUT \
	VBROADCASTSS c_l2<>(SB), X \
	VFMADD213PS X, T2, OUT \
	VBROADCASTSS c_l3<>(SB), X \
	VFMADD213PS X, T2, OUT \
	VBROADCASTSS c_l4<>(SB), X \
	VFMADD213PS X, T2, OUT \
	VBROADCASTSS c_l5<>(SB), X \
	VFMADD213PS X, T2, OUT \
	VBROADCASTSS c_l6<>(SB), X \
	VFMADD213PS X, T2, OUT \
	VBROADCASTSS c_l7<>(SB), X \
	VFMADD213PS X, T2, OUT \
	VBROADCASTSS c_l8<>(SB), X \
	VFMADD213PS X, T2, OUT \
	VMULPS T2, OUT, OUT \
	VMULPS T3, OUT, OUT \
	VBROADCASTSS c_ln2lo<>(SB), X \
	VFMADD231PS X, T1, OUT \
	VBROADCASTSS c_p5<>(SB), X \
	VFNMADD231PS X, T3, OUT \
	VADDPS T2, OUT, OUT \
	VBROADCASTSS c_ln2hi<>(SB), X \
	VFMADD231PS X, T1, OUT

// VALID8 clears the lanes of Y11 where X is not a positive normal finite
// float (NaN included: ordered comparisons are false for it).
#define VALID8(X, T1, T2) \
	VBROADCASTSS c_minnorm<>(SB), T1 \
	VCMPPS $0x1d, T1, X, T2 \
	VANDPS T2, Y11, Y11 \
	VBROADCASTSS c_maxf<>(SB), T1 \
	VCMPPS $0x12, T1, X, T2 \
	VANDPS T2, Y11, Y11

// func bceSumAVX2(p, t *float32, n int, eps float32, acc *[8]float64) int
TEXT ·bceSumAVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), SI
	MOVQ t+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS eps+24(FP), Y15
	MOVQ acc+32(FP), AX
	VMOVUPD (AX), Y13
	VMOVUPD 32(AX), Y14
	VBROADCASTSS c_one<>(SB), Y12
	VPCMPEQD Y11, Y11, Y11
	SHRQ $3, CX
	JZ bce_done
bce_loop:
	VMOVUPS (SI), Y0
	VADDPS Y15, Y0, Y1
	VSUBPS Y0, Y12, Y2
	VADDPS Y15, Y2, Y2
	VALID8(Y1, Y5, Y6)
	VALID8(Y2, Y5, Y6)
	LOG8(Y1, Y5, Y6, Y7, Y8)
	LOG8(Y2, Y5, Y6, Y7, Y9)
	VMOVUPS (DI), Y3
	VSUBPS Y3, Y12, Y4
	VMULPS Y4, Y9, Y9
	VFMADD231PS Y8, Y3, Y9
	VCVTPS2PD X9, Y3
	VEXTRACTF128 $1, Y9, X4
	VCVTPS2PD X4, Y4
	VADDPD Y3, Y13, Y13
	VADDPD Y4, Y14, Y14
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ bce_loop
bce_done:
	VMOVUPD Y13, (AX)
	VMOVUPD Y14, 32(AX)
	VMOVMSKPS Y11, BX
	MOVQ BX, ret+40(FP)
	VZEROUPPER
	RET

// func sumAVX2(x *float32, n int, acc *[8]float32)
// acc[i] += Σ x[8k+i] for n floats (a multiple of 8): one vector of eight
// lanes, the same additions in the same order as Sum's Go loop.
TEXT ·sumAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ acc+16(FP), DI
	VMOVUPS (DI), Y0
	SHRQ $3, CX
	JZ sum_done
sum_loop:
	VADDPS (SI), Y0, Y0
	ADDQ $32, SI
	DECQ CX
	JNZ sum_loop
sum_done:
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET
