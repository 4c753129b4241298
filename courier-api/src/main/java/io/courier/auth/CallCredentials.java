package io.courier.auth;

import io.courier.CallMetadata;
import io.courier.ErrorReason;
import io.courier.RpcException;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Credentials a client attaches to each call, as request metadata. (SPI, thread-safe.)
 *
 * <p>The Courier client sends the entries in the frame's metadata block, the gRPC client as
 * request headers. They are applied on the calling thread, for every call and every attempt
 * (so a rotated token is picked up by the next call); keep {@link #applyTo} quick: refresh tokens
 * in the background and hand out the current one.
 *
 * <pre>{@code
 * CourierClient client = CourierClient.builder()
 *     .address("127.0.0.1:9000")
 *     .credentials(CallCredentials.bearer(System.getenv("SHOP_TOKEN")))
 *     .build();
 * }</pre>
 */
@FunctionalInterface
public interface CallCredentials {

  /**
   * Adds this call's credentials to {@code metadata}.
   *
   * @throws RpcException to fail the call before it is sent (for example
   *     {@link ErrorReason#UNAUTHENTICATED} when no token is at hand)
   */
  void applyTo(CallMetadata metadata);

  /**
   * A fixed bearer token, sent as {@code authorization: Bearer <token>}. Its
   * {@code toString()} does not show the token.
   *
   * @throws IllegalArgumentException when the token is empty or has characters a bearer token
   *     cannot have (the message does not show it)
   */
  static CallCredentials bearer(String token) {
    Objects.requireNonNull(token, "token");
    BearerTokens.check(token);
    String value = "Bearer " + token;
    return new CallCredentials() {
      @Override
      public void applyTo(CallMetadata metadata) {
        metadata.put(AuthRequest.AUTHORIZATION, value);
      }

      @Override
      public String toString() {
        return "CallCredentials.bearer(<redacted>)";
      }
    };
  }

  /**
   * A bearer token asked of {@code tokens} for every call: for tokens that rotate. A call for
   * which it gives {@code null} or an invalid token fails with {@code UNAUTHENTICATED} before it
   * is sent. {@code tokens} runs on the calling thread: it should return a cached token.
   */
  static CallCredentials bearer(Supplier<String> tokens) {
    Objects.requireNonNull(tokens, "tokens");
    return new CallCredentials() {
      @Override
      public void applyTo(CallMetadata metadata) {
        String token = tokens.get();
        if (token == null || token.isEmpty() || !BearerTokens.isToken68(token)) {
          throw new RpcException(ErrorReason.UNAUTHENTICATED, token == null || token.isEmpty()
              ? "the bearer token supplier gave no token; the call was not sent"
              : "the bearer token supplier gave a malformed token; the call was not sent");
        }
        metadata.put(AuthRequest.AUTHORIZATION, "Bearer " + token);
      }

      @Override
      public String toString() {
        return "CallCredentials.bearer(<supplier>)";
      }
    };
  }
}
