package io.courier.server;

import io.courier.ErrorReason;
import io.courier.Status;
import io.courier.observe.CallObserver;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's access log: one line per call, at INFO, to the SLF4J logger
 * {@code courier.access}. Off unless configured with {@link CourierServer.Builder#accessLog}.
 * Failed calls are always logged; successful ones are sampled at {@link Builder#sampleRate}.
 *
 * <p>A line is {@code key=value} pairs, in this order:
 *
 * <pre>
 * time=2026-11-25T15:04:05.123456Z protocol=grpc peer=127.0.0.1:53122 service=demo.Calculator
 *     method=add status=OK reason=- duration_us=212 bytes_in=41 bytes_out=22
 * </pre>
 *
 * (one line in the log). {@code reason} is Courier's {@link ErrorReason} of a failure, or
 * {@code -}. Metadata values, credentials, arguments and results are never logged. Immutable and
 * thread-safe.
 *
 * <pre>{@code
 * CourierServer.builder().accessLog(AccessLog.builder().sampleRate(0.1).build())
 * }</pre>
 *
 * @since 0.1
 */
public final class AccessLog implements CallObserver {

  /** The logger's name. */
  public static final String LOGGER = "courier.access";

  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  private final double sampleRate;

  private AccessLog(Builder b) {
    this.sampleRate = b.sampleRate;
  }

  /** A new builder: every call logged ({@code sampleRate} 1) unless set. */
  public static Builder builder() {
    return new Builder();
  }

  /** The share of successful calls logged, from 0 to 1. */
  public double sampleRate() {
    return sampleRate;
  }

  @Override
  public ServerMethodObserver serverMethod(String protocol, String service, String method) {
    String fixed = " protocol=" + protocol;
    String names = " service=" + service + " method=" + method;
    return new ServerMethodObserver() {
      @Override
      public void started() {}

      @Override
      public void ended(SocketAddress peer, Status.Code code, ErrorReason reason,
          boolean started, long durationNanos, long bytesIn, long bytesOut) {
        if (code == Status.Code.OK && !sampled() || !log.isInfoEnabled()) {
          return;
        }
        log.info(line(Instant.now(), fixed, peer, names, code, reason, durationNanos, bytesIn,
            bytesOut));
      }
    };
  }

  private boolean sampled() {
    return sampleRate >= 1 || sampleRate > 0
        && ThreadLocalRandom.current().nextDouble() < sampleRate;
  }

  static String line(Instant time, String protocol, SocketAddress peer, String names,
      Status.Code code, ErrorReason reason, long durationNanos, long bytesIn, long bytesOut) {
    StringBuilder sb = new StringBuilder(200);
    sb.append("time=").append(time).append(protocol).append(" peer=");
    if (peer instanceof InetSocketAddress a && a.getAddress() != null) {
      String host = a.getAddress().getHostAddress();
      if (host.indexOf(':') >= 0) {
        sb.append('[').append(host).append(']');
      } else {
        sb.append(host);
      }
      sb.append(':').append(a.getPort());
    } else {
      sb.append(peer == null ? "-" : peer.toString().replace(' ', '_'));
    }
    sb.append(names).append(" status=").append(code.name())
        .append(" reason=").append(reason == null ? "-" : reason.name())
        .append(" duration_us=").append(durationNanos / 1000)
        .append(" bytes_in=").append(bytesIn)
        .append(" bytes_out=").append(bytesOut);
    return sb.toString();
  }

  /** Builds an {@link AccessLog}. Not thread-safe. */
  public static final class Builder {
    private double sampleRate = 1.0;

    private Builder() {}

    /**
     * The share of successful calls to log, from 0 (only failures) to 1 (every call, the
     * default). Failed calls are always logged.
     *
     * @return this
     */
    public Builder sampleRate(double rate) {
      if (!(rate >= 0 && rate <= 1)) {
        throw new IllegalArgumentException("sampleRate: " + rate + " (expected: 0 to 1)");
      }
      this.sampleRate = rate;
      return this;
    }

    /** The access log. */
    public AccessLog build() {
      return new AccessLog(this);
    }
  }
}
