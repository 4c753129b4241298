package io.courier.internal.protocol;

import io.courier.ErrorReason;

/**
 * The byte stream broke the framing rules. The connection cannot be trusted any more: the receiver
 * answers with a GOAWAY error frame where it can, then closes.
 */
public final class ProtocolException extends Exception {

  private final ErrorReason reason;
  private final int requestId;

  /**
   * @param reason {@link ErrorReason#PROTOCOL_ERROR} or {@link ErrorReason#PAYLOAD_TOO_LARGE}
   * @param requestId the request id of the offending frame when the header was readable, else 0
   * @param message what was wrong
   */
  public ProtocolException(ErrorReason reason, int requestId, String message) {
    super(message, null, false, false);
    this.reason = reason;
    this.requestId = requestId;
  }

  public ErrorReason reason() {
    return reason;
  }

  public int requestId() {
    return requestId;
  }
}
