package io.courier.auth;

import java.net.SocketAddress;
import javax.net.ssl.SSLSession;

/**
 * What an {@link Authenticator} sees of a call: its request metadata, the connection's TLS
 * session, the peer's address, and the method it calls. Made by the server for each call; valid
 * only during {@link Authenticator#authenticate}.
 */
public interface AuthRequest {

  /** The metadata key of the credentials: {@value}. */
  String AUTHORIZATION = "authorization";

  /**
   * The protocol the call arrived on: {@code "courier"}, {@code "grpc"} or {@code "http"}.
   */
  String protocol();

  /** The service name, for example {@code demo.Shop}. */
  String service();

  /** The method's Java name, for example {@code add}. */
  String method();

  /**
   * The value of a request metadata entry (the Courier frame's metadata block, a gRPC request
   * header, an HTTP request header), or {@code null}. Keys are lower case.
   */
  String metadata(String key);

  /** The {@code authorization} value, or {@code null}. */
  default String authorization() {
    return metadata(AUTHORIZATION);
  }

  /** The connection's TLS session, or {@code null} on a plaintext connection. */
  SSLSession sslSession();

  /** The peer's address. */
  SocketAddress remoteAddress();
}
