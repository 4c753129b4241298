package io.courier.bench;

import java.util.concurrent.CompletionStage;

/**
 * One RPC stack under test: how to serve the benchmark service and how to call it. (SPI: each
 * contender module lists its implementations in
 * {@code META-INF/services/io.courier.bench.Contender}.)
 *
 * <p>The service has two methods: {@code byte[] echo(byte[])}, which answers its argument, and
 * {@code Small small(Small)}, which answers a copy of its argument with {@code quantity + 1}. A
 * contender serves them the way its users would (its normal service definition, serialization
 * and threading for that configuration) and calls them asynchronously, so that a load loop can
 * keep many calls in flight on one client.
 */
public interface Contender {

  /** The contender's name as the runner and the tables show it, for example {@code grpc}. */
  String name();

  /** Starts a server on {@code port} (0: any free port) of the loopback interface. */
  Server serve(int port) throws Exception;

  /** Connects a client to {@code host:port} over one connection. */
  Client connect(String host, int port) throws Exception;

  /** A running server. */
  interface Server extends AutoCloseable {
    /** The port it listens on. */
    int port();
  }

  /** A connected client. Its methods may be called from any thread, concurrently. */
  interface Client extends AutoCloseable {
    /** Starts one {@code echo} call; the stage completes with the answer, or fails. */
    CompletionStage<byte[]> echo(byte[] payload);

    /** Starts one {@code small} call; the stage completes with the answer, or fails. */
    CompletionStage<Small> small(Small value);
  }
}
