package io.courier;

/**
 * Why a call failed, finer than the gRPC {@link Status.Code}: each reason maps to one code and says
 * whether trying the same call again can succeed.
 *
 * <p>The reason travels on the wire by name, so a new reason added to a newer peer reads as
 * {@link #UNKNOWN_REASON} on an older one.
 */
public enum ErrorReason {
  /** The service method threw; the remote class and message are on the exception. */
  APPLICATION_ERROR(Status.Code.UNKNOWN, false),
  /** The call ID is not served by the peer. */
  UNKNOWN_METHOD(Status.Code.UNIMPLEMENTED, false),
  /** The request names a serializer the service did not enable. */
  SERIALIZER_UNSUPPORTED(Status.Code.UNIMPLEMENTED, false),
  /** The request names a compressor the peer does not have. */
  COMPRESSOR_UNSUPPORTED(Status.Code.UNIMPLEMENTED, false),
  /** The arguments do not match the method: wrong count, types, or undecodable bytes. */
  BAD_ARGUMENTS(Status.Code.INVALID_ARGUMENT, false),
  /** A payload named a class that is not on the serialization allow-list. */
  SERIALIZATION_REJECTED(Status.Code.INVALID_ARGUMENT, false),
  /** A frame, its metadata or its decompressed body is above the configured limit. */
  PAYLOAD_TOO_LARGE(Status.Code.RESOURCE_EXHAUSTED, false),
  /** The peer shed the call: too many calls in flight, or its queue is full. */
  OVERLOADED(Status.Code.RESOURCE_EXHAUSTED, true),
  /** The server is draining and takes no new calls; another provider, or a new connection, can. */
  SHUTTING_DOWN(Status.Code.UNAVAILABLE, true),
  /** The registry lists no provider of the service (that accepts the client's serializer). */
  NO_PROVIDER(Status.Code.UNAVAILABLE, true),
  /** No connection could be made to the endpoint. */
  CONNECT_FAILED(Status.Code.UNAVAILABLE, true),
  /**
   * A connection was made but no TLS session: the peer's certificate is not trusted or does not
   * name the host, the server requires a client certificate, or one side does not speak TLS. The
   * description names the cause.
   */
  TLS_HANDSHAKE_FAILED(Status.Code.UNAVAILABLE, true),
  /** The connection closed before the request was written: the call did not run. */
  NOT_SENT(Status.Code.UNAVAILABLE, true),
  /** The connection closed before the answer came; the call may or may not have run. */
  CONNECTION_CLOSED(Status.Code.UNAVAILABLE, false),
  /** The call carries no credentials, or credentials that are not valid. */
  UNAUTHENTICATED(Status.Code.UNAUTHENTICATED, false),
  /** The caller is authenticated, but the method's access rule does not let it call. */
  PERMISSION_DENIED(Status.Code.PERMISSION_DENIED, false),
  /** The deadline passed. */
  DEADLINE_EXCEEDED(Status.Code.DEADLINE_EXCEEDED, false),
  /** The caller cancelled the call. */
  CANCELLED(Status.Code.CANCELLED, false),
  /** The peer broke the protocol (bad frame, duplicate request id, ...). */
  PROTOCOL_ERROR(Status.Code.INTERNAL, false),
  /** The result could not be encoded or decoded. */
  BAD_RESULT(Status.Code.INTERNAL, false),
  /** A reason this version does not know; see the status code. */
  UNKNOWN_REASON(Status.Code.UNKNOWN, false);

  private final Status.Code code;
  private final boolean retryable;

  ErrorReason(Status.Code code, boolean retryable) {
    this.code = code;
    this.retryable = retryable;
  }

  /** The status code this reason is reported under. */
  public Status.Code code() {
    return code;
  }

  /**
   * Whether the call is known not to have run and may be sent again (to this or another provider).
   */
  public boolean isRetryable() {
    return retryable;
  }

  /** The reason with the given name, or {@link #UNKNOWN_REASON}. */
  public static ErrorReason of(String name) {
    for (ErrorReason r : values()) {
      if (r.name().equals(name)) {
        return r;
      }
    }
    return UNKNOWN_REASON;
  }
}
