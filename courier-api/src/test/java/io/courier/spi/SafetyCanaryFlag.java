package io.courier.spi;

/** Set by {@link SafetyCanary}'s static initializer, so a test can tell whether it ran. */
public final class SafetyCanaryFlag {
  public static volatile boolean ran;

  private SafetyCanaryFlag() {}
}
