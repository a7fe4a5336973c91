package org.euterpe.kernels.cuda;

import jcuda.driver.CUresult;

/** A CUDA driver call that failed, with the call and the driver's error name. */
public final class CudaException extends RuntimeException {
    private final int result;

    CudaException(String message, int result) {
        super(message);
        this.result = result;
    }

    /** The driver's CUresult code. */
    public int result() {
        return result;
    }

    /** Throws when a driver call did not succeed; {@code what} names the call for the message. */
    static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(what + " failed: " + CUresult.stringFor(result), result);
        }
    }
}
