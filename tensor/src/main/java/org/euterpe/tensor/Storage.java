package org.euterpe.tensor;

/**
 * Memory that holds a tensor's elements on some device. Each backend has its own kind; a tensor
 * only ever runs ops on the backend that made its storage.
 *
 * <p>{@link #close()} is idempotent. Views share their parent's storage and never close it.
 */
public interface Storage extends AutoCloseable {
    /** Capacity in bytes. */
    long byteSize();

    boolean isClosed();

    /** Frees the memory; later use of a tensor on it fails with IllegalStateException. */
    @Override
    void close();
}
