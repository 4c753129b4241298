package io.courier.transport.netty;

import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Client settings. Immutable.
 *
 * @param serializer serializer name
 * @param compressor compressor name, or null for none
 * @param compressionThresholdBytes requests at least this large are compressed
 * @param timeoutNanos default call timeout; 0 for none
 * @param connectTimeoutMillis how long a connection attempt may take
 * @param heartbeatMillis idle time after which a heartbeat is sent; 3 missed close the connection
 * @param connectionsPerEndpoint connections opened to each endpoint (calls spread over them)
 * @param backoffInitialMillis first reconnect delay
 * @param backoffMaxMillis largest reconnect delay
 * @param maxFrameBytes largest frame body sent or accepted
 * @param maxPendingBytes request bytes that may wait for a slow connection before new calls fail
 * @param allowedTypes classes allowed beyond those reachable from the service interfaces
 * @param ioThreads event loop threads
 * @param callbackExecutor runs async callbacks and decodes async answers; null for the default
 * @param bulkLaneBytes requests at least this large go over a connection of their own; 0 never
 */
public record ClientConfig(String serializer, String compressor, int compressionThresholdBytes,
    long timeoutNanos, long connectTimeoutMillis, long heartbeatMillis, int connectionsPerEndpoint,
    long backoffInitialMillis, long backoffMaxMillis, int maxFrameBytes, long maxPendingBytes,
    Set<Class<?>> allowedTypes, int ioThreads, Executor callbackExecutor, int bulkLaneBytes) {

  /** The default threshold of the bulk lane: 256 KiB. */
  public static final int DEFAULT_BULK_LANE_BYTES = 256 << 10;

  /** Settings with the default bulk lane. */
  public ClientConfig(String serializer, String compressor, int compressionThresholdBytes,
      long timeoutNanos, long connectTimeoutMillis, long heartbeatMillis,
      int connectionsPerEndpoint, long backoffInitialMillis, long backoffMaxMillis,
      int maxFrameBytes, long maxPendingBytes, Set<Class<?>> allowedTypes, int ioThreads,
      Executor callbackExecutor) {
    this(serializer, compressor, compressionThresholdBytes, timeoutNanos, connectTimeoutMillis,
        heartbeatMillis, connectionsPerEndpoint, backoffInitialMillis, backoffMaxMillis,
        maxFrameBytes, maxPendingBytes, allowedTypes, ioThreads, callbackExecutor,
        DEFAULT_BULK_LANE_BYTES);
  }
}
