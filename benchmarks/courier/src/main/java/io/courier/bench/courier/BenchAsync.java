package io.courier.bench.courier;

import io.courier.annotation.ServiceName;
import io.courier.bench.Small;
import java.util.concurrent.CompletableFuture;

/**
 * The same service as the consumer calls it: the same methods (so the same call IDs), returning
 * futures, so that one client keeps many calls in flight.
 */
@ServiceName("bench.Bench")
public interface BenchAsync {

  CompletableFuture<byte[]> echo(byte[] payload);

  CompletableFuture<Small> small(Small value);
}
