package io.courier.bench.dubbo;

import io.courier.bench.Small;
import java.util.concurrent.CompletableFuture;

/**
 * The benchmark service as a Dubbo user writes an asynchronous interface: each method returns a
 * {@link CompletableFuture}, which Dubbo's consumer proxy hands back without blocking and its
 * provider completes when the implementation's future does.
 */
public interface BenchService {

  /** Answers {@code payload} itself. */
  CompletableFuture<byte[]> echo(byte[] payload);

  /** Answers {@link Small#answer()} of {@code value}. */
  CompletableFuture<Small> small(Small value);
}
