package io.courier.bench.courier;

import io.courier.annotation.ServiceName;
import io.courier.bench.Small;

/** The benchmark service as the provider implements it: plain synchronous methods. */
@ServiceName("bench.Bench")
public interface Bench {

  /** Answers its argument. */
  byte[] echo(byte[] payload);

  /** Answers {@code value.answer()}. */
  Small small(Small value);
}
