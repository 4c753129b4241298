package io.courier;

/**
 * Where a client call's time went, in microseconds. A phase the call never reached is -1.
 *
 * <p>Server phases are those the server reported in its answer; they are -1 when no answer came.
 *
 * @param queuedMicros from the call entering the stub until encoding began (connection wait)
 * @param encodeMicros serializing and framing the request
 * @param writeMicros waiting in the connection's write queue until flushed to the socket
 * @param waitMicros from the flush until the answer's frame was read (network and server)
 * @param serverQueuedMicros on the server, from the frame's arrival until the method started
 * @param serverExecMicros on the server, running the method
 * @param decodeMicros decoding the answer
 * @param totalMicros from the call entering the stub until it failed or completed
 */
public record CallTimings(long queuedMicros, long encodeMicros, long writeMicros, long waitMicros,
    long serverQueuedMicros, long serverExecMicros, long decodeMicros, long totalMicros) {

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("time spent: ");
    phase(sb, "client queue", queuedMicros);
    phase(sb, ", encode", encodeMicros);
    phase(sb, ", write", writeMicros);
    phase(sb, ", wait for answer", waitMicros);
    if (serverQueuedMicros >= 0 || serverExecMicros >= 0) {
      sb.append(" (server");
      phase(sb, " queued", serverQueuedMicros);
      phase(sb, ", executing", serverExecMicros);
      sb.append(')');
    }
    phase(sb, ", decode", decodeMicros);
    phase(sb, "; total", totalMicros);
    return sb.toString();
  }

  private static void phase(StringBuilder sb, String name, long micros) {
    sb.append(name).append(' ');
    if (micros < 0) {
      sb.append('-');
    } else if (micros >= 10_000) {
      sb.append(micros / 1000).append(" ms");
    } else {
      sb.append(micros).append(" µs");
    }
  }
}
