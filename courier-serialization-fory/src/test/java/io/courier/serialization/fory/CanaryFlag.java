package io.courier.serialization.fory;

/** Set by {@link Canary}'s static initializer, so a test can tell whether it ran. */
public final class CanaryFlag {
  public static volatile boolean initialized;

  private CanaryFlag() {}
}
