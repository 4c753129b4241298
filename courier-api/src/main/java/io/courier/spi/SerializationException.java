package io.courier.spi;

import java.io.IOException;

/** Bytes that cannot be decoded into the expected values, or a value that cannot be encoded. */
public class SerializationException extends IOException {

  /** With a message. */
  public SerializationException(String message) {
    super(message);
  }

  /** With a message and a cause. */
  public SerializationException(String message, Throwable cause) {
    super(message, cause);
  }
}
