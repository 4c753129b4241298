package io.courier.internal.protocol;

/**
 * Size limits checked from the fixed header, before any byte of metadata or body is buffered.
 *
 * @param maxBodyBytes largest body accepted (default 16 MiB)
 * @param maxMetadataBytes largest metadata block accepted (default 8 KiB)
 */
public record FrameLimits(int maxBodyBytes, int maxMetadataBytes) {

  /** Default limits: 16 MiB body, 8 KiB metadata. */
  public static final FrameLimits DEFAULT = new FrameLimits(16 << 20, 8 << 10);

  public FrameLimits {
    if (maxBodyBytes <= 0) {
      throw new IllegalArgumentException("maxBodyBytes: " + maxBodyBytes + " (expected: > 0)");
    }
    if (maxMetadataBytes < 0 || maxMetadataBytes > 0xFFFF) {
      throw new IllegalArgumentException(
          "maxMetadataBytes: " + maxMetadataBytes + " (expected: 0 to 65535)");
    }
  }
}
