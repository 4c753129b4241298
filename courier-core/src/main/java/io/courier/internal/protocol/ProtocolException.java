package io.courier.internal.protocol;

import io.courier.ErrorReason;

/**
 * The byte stream broke the framing rules. The connection cannot be trusted any more: the receiver
 * answers with a GOAWAY error frame where it can, then closes.
 */
public final class ProtocolException extends Exception {

  private final ErrorReason reason;
  private final int requestId;
  private final long frameLength;
  private final boolean response;

  /**
   * @param reason {@link ErrorReason#PROTOCOL_ERROR} or {@link ErrorReason#PAYLOAD_TOO_LARGE}
   * @param requestId the request id of the offending frame when the header was readable, else 0
   * @param message what was wrong
   */
  public ProtocolException(ErrorReason reason, int requestId, String message) {
    this(reason, requestId, message, 0, false);
  }

  /**
   * An oversize frame whose header was valid: the receiver may skip {@code frameLength} bytes and
   * answer on the request id instead of closing the connection.
   */
  public ProtocolException(ErrorReason reason, int requestId, String message, long frameLength,
      boolean response) {
    super(message, null, false, false);
    this.reason = reason;
    this.requestId = requestId;
    this.frameLength = frameLength;
    this.response = response;
  }

  /** Total length of the offending frame when it can be skipped, else 0. */
  public long frameLength() {
    return frameLength;
  }

  /** Whether the offending frame was a response. */
  public boolean isResponse() {
    return response;
  }

  public ErrorReason reason() {
    return reason;
  }

  public int requestId() {
    return requestId;
  }
}
