package io.courier.spi;

import java.io.Serializable;

/**
 * A class no allow-list contains, named by hostile payloads in {@link SerializerSafetyContract}.
 * Its static initializer records that it ran; a serializer must never let it.
 */
public class SafetyCanary implements Serializable {
  private static final long serialVersionUID = 1L;

  static {
    SafetyCanaryFlag.ran = true;
  }

  public int value = 7;
}
