package io.courier;

import java.util.Objects;

/**
 * The one exception a Courier call throws when it does not complete normally (declared checked
 * exceptions of the service method excepted: those are rethrown as themselves).
 *
 * <p>It carries the {@link Status}, the {@link ErrorReason}, the class name and message of the
 * exception the remote method threw (if any), and, for a failed client call, where the call's time
 * went ({@link #timings()}), the endpoint and the attempt number.
 */
public class RpcException extends RuntimeException {

  private final Status status;
  private final ErrorReason reason;
  private final String remoteClassName;
  private final String remoteStack;
  private final String endpoint;
  private final int attempt;
  private final CallTimings timings;

  /** An exception for a status; the reason is derived from the code. */
  public RpcException(Status status) {
    this(status, reasonFor(status.code()), null, null, null, 0, null, null);
  }

  /** An exception with a reason and a description. */
  public RpcException(ErrorReason reason, String description) {
    this(reason.code().toStatus().withDescription(description), reason, null, null, null, 0, null,
        null);
  }

  /** An exception with a reason, a description and a cause. */
  public RpcException(ErrorReason reason, String description, Throwable cause) {
    this(reason.code().toStatus().withDescription(description), reason, null, null, null, 0, null,
        cause);
  }

  /**
   * The full constructor, used by the framework.
   *
   * @param status the status
   * @param reason the reason
   * @param remoteClassName class name of the exception thrown by the remote method, or null
   * @param remoteStack the remote stack trace as text, or null when the server does not send it
   * @param endpoint the endpoint the call went to, or null
   * @param attempt the attempt number, from 1; 0 when unknown
   * @param timings where the call's time went, or null
   * @param cause the local cause, or null
   */
  public RpcException(Status status, ErrorReason reason, String remoteClassName,
      String remoteStack, String endpoint, int attempt, CallTimings timings, Throwable cause) {
    super(message(status, reason, remoteClassName, endpoint, attempt, timings), cause);
    this.status = Objects.requireNonNull(status, "status");
    this.reason = Objects.requireNonNull(reason, "reason");
    this.remoteClassName = remoteClassName;
    this.remoteStack = remoteStack;
    this.endpoint = endpoint;
    this.attempt = attempt;
    this.timings = timings;
  }

  private static ErrorReason reasonFor(Status.Code code) {
    for (ErrorReason r : ErrorReason.values()) {
      if (r.code() == code) {
        return r;
      }
    }
    return ErrorReason.UNKNOWN_REASON;
  }

  private static String message(Status status, ErrorReason reason, String remoteClassName,
      String endpoint, int attempt, CallTimings timings) {
    StringBuilder sb = new StringBuilder();
    sb.append(status.code().name());
    if (reason.code() == status.code() && reason != ErrorReason.UNKNOWN_REASON
        && !reason.name().equals(status.code().name())) {
      sb.append(" (").append(reason.name()).append(')');
    }
    if (status.description() != null) {
      sb.append(": ").append(status.description());
    }
    if (remoteClassName != null) {
      sb.append(" [remote ").append(remoteClassName).append(']');
    }
    if (endpoint != null) {
      sb.append("; endpoint ").append(endpoint);
      if (attempt > 0) {
        sb.append(", attempt ").append(attempt);
      }
    }
    if (timings != null) {
      sb.append("; ").append(timings);
    }
    return sb.toString();
  }

  /** The status. */
  public Status status() {
    return status;
  }

  /** The reason. */
  public ErrorReason reason() {
    return reason;
  }

  /** Whether the call is known not to have run, so that sending it again is safe. */
  public boolean isRetryable() {
    return reason.isRetryable();
  }

  /** Class name of the exception the remote method threw, or {@code null}. */
  public String remoteClassName() {
    return remoteClassName;
  }

  /** The remote stack trace as text, or {@code null} unless the server is set to send it. */
  public String remoteStack() {
    return remoteStack;
  }

  /** The endpoint ({@code host:port}) the call went to, or {@code null}. */
  public String endpoint() {
    return endpoint;
  }

  /** The attempt number, from 1; 0 when unknown. */
  public int attempt() {
    return attempt;
  }

  /** Where the call's time went, or {@code null} for a failure outside a client call. */
  public CallTimings timings() {
    return timings;
  }
}
