package org.euterpe.pipeline.hub;

/**
 * One file of a repository revision as the hub's API lists it ({@code siblings} with
 * {@code ?blobs=true}).
 *
 * @param path   the path in the repository, e.g. {@code unet/config.json}
 * @param size   its size in bytes, -1 when the API did not say
 * @param blobId the git blob id (SHA-1 of {@code "blob <size>\0" + content}); for an LFS file, the pointer's
 * @param sha256 the LFS object's SHA-256, or null for a file stored in git itself
 */
public record HubFile(String path, long size, String blobId, String sha256) {
    public boolean lfs() {
        return sha256 != null;
    }

    /**
     * The name of the file's blob in the cache, as huggingface_hub names it: the LFS SHA-256 for
     * an LFS file, the git blob id otherwise (both are what the hub sends as the file's ETag).
     */
    public String blobName() {
        return lfs() ? sha256 : blobId;
    }
}
