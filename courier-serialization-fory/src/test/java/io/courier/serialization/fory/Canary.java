package io.courier.serialization.fory;

/** A class a payload names but no allow-list contains. Its static initializer must never run. */
public class Canary {
  static {
    CanaryFlag.initialized = true;
  }

  public int value = 7;
}
