package io.courier.spi;

import org.apache.commons.collections4.functors.InvokerTransformer;

/** As {@link SafetyCanaryInvokerTransformer}, for the commons-collections4 4.0 gadget. */
public class SafetyCanaryInvokerTransformer4 extends InvokerTransformer<Object, Object> {
  private static final long serialVersionUID = 1L;

  static {
    SafetyCanaryFlag.ran = true;
  }

  public SafetyCanaryInvokerTransformer4() {
    super("toString", new Class<?>[0], new Object[0]);
  }
}
