package io.courier.transport.netty;

import io.courier.internal.protocol.FrameLimits;

/**
 * Server settings the connection handlers read. Immutable.
 *
 * @param limits frame size limits
 * @param maxConcurrentCallsPerConnection calls in flight on one connection before new ones are
 *     refused with OVERLOADED
 * @param frameTimeoutMillis slow-loris and first-frame timeout; 0 disables
 * @param idleTimeoutMillis close a connection that sent nothing (not even a heartbeat) this long
 * @param maxTimeoutMillis longest deadline a request may ask for; longer ones are clamped
 * @param sendRemoteStack whether error answers carry the server-side stack trace
 * @param compressionThresholdBytes answers at least this large are compressed (with the
 *     request's compressor)
 * @param maxPingsPerSecond heartbeats a client may send per second before it is disconnected
 * @param maxCancelsPerSecond cancels a client may send per second before it is disconnected
 * @param maxConnections connections open at once; more are told why and closed
 * @param maxConnectionAgeMillis a connection older than this (jittered by up to 10% either way)
 *     is sent a graceful GOAWAY; 0 disables
 * @param maxConnectionAgeGraceMillis how long an aged connection may finish its calls before it
 *     is closed regardless
 */
public record ServerConfig(FrameLimits limits, int maxConcurrentCallsPerConnection,
    long frameTimeoutMillis, long idleTimeoutMillis, long maxTimeoutMillis,
    boolean sendRemoteStack, int compressionThresholdBytes, int maxPingsPerSecond,
    int maxCancelsPerSecond, int maxConnections, long maxConnectionAgeMillis,
    long maxConnectionAgeGraceMillis) {}
