package io.courier.auth;

/**
 * Thrown by an {@link Authenticator} when a call presents credentials that are not valid
 * (unknown or expired token, untrusted certificate). The call is answered
 * {@code UNAUTHENTICATED} with this message.
 *
 * <p>The message reaches the caller and the server's log: never put the credential in it. As a
 * safeguard, the server replaces the call's credential wherever it appears in the message.
 */
public class AuthenticationException extends Exception {

  private static final long serialVersionUID = 1L;

  /** An exception with a message for the caller (without the credential). */
  public AuthenticationException(String message) {
    super(message, null, false, false);
  }
}
