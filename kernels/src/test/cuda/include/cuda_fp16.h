// Stand-in for the CUDA header when the kernels are compiled for the CPU emulator (cuda_emu.h
// defines the types and conversions).
#pragma once
