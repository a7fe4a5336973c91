package org.euterpe.kernels.opencl;

/** A device buffer could not be allocated (or the device ran out of resources using it). */
public final class DeviceMemoryException extends RuntimeException {
    private final long requestedBytes;

    DeviceMemoryException(String message, long requestedBytes, Throwable cause) {
        super(message, cause);
        this.requestedBytes = requestedBytes;
    }

    /** The allocation that failed, in bytes (0 when the failure came from running a kernel). */
    public long requestedBytes() {
        return requestedBytes;
    }
}
