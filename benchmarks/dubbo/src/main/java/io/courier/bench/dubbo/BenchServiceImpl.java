package io.courier.bench.dubbo;

import io.courier.bench.Small;
import java.util.concurrent.CompletableFuture;

/**
 * The provider's implementation: it answers at once with a completed future, on the Dubbo
 * business thread that runs the call.
 */
final class BenchServiceImpl implements BenchService {

  @Override
  public CompletableFuture<byte[]> echo(byte[] payload) {
    return CompletableFuture.completedFuture(payload);
  }

  @Override
  public CompletableFuture<Small> small(Small value) {
    return CompletableFuture.completedFuture(value.answer());
  }
}
