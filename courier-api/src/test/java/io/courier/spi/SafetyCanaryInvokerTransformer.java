package io.courier.spi;

import org.apache.commons.collections.functors.InvokerTransformer;

/**
 * The commons-collections 3 gadget with a static initializer that records it ran: a payload naming
 * it must be rejected before it, or the real {@link InvokerTransformer} above it, is initialised.
 */
public class SafetyCanaryInvokerTransformer extends InvokerTransformer {
  private static final long serialVersionUID = 1L;

  static {
    SafetyCanaryFlag.ran = true;
  }

  public SafetyCanaryInvokerTransformer() {
    super("toString", new Class<?>[0], new Object[0]);
  }
}
