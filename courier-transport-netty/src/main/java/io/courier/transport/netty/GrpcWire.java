package io.courier.transport.netty;

import io.courier.CallMetadata;
import io.courier.RpcException;
import io.courier.Status;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.ReadOnlyHttp2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * gRPC's wire conventions over HTTP/2: the {@code grpc-timeout} and {@code grpc-message}
 * encodings, metadata to and from headers, and the status a failure is reported under. Stateless.
 */
final class GrpcWire {

  static final String CONTENT_TYPE = "application/grpc";
  static final String GZIP = "gzip";
  static final String IDENTITY = "identity";
  /** Message prefix: a compressed flag byte and a 4-byte big-endian length. */
  static final int PREFIX_BYTES = 5;

  static final AsciiString CONTENT_TYPE_HEADER = AsciiString.cached("content-type");
  static final AsciiString ENCODING_HEADER = AsciiString.cached("grpc-encoding");
  static final AsciiString ACCEPT_ENCODING_HEADER = AsciiString.cached("grpc-accept-encoding");
  static final AsciiString TIMEOUT_HEADER = AsciiString.cached("grpc-timeout");
  static final AsciiString STATUS_HEADER = AsciiString.cached("grpc-status");
  static final AsciiString MESSAGE_HEADER = AsciiString.cached("grpc-message");
  static final AsciiString HTTP_OK = AsciiString.cached("200");
  private static final AsciiString GRPC = AsciiString.cached(CONTENT_TYPE);
  private static final AsciiString GZIP_VALUE = AsciiString.cached(GZIP);
  private static final AsciiString STATUS_OK = AsciiString.cached("0");

  /**
   * The headers of a response without metadata, shared by every call (immutable: the HPACK
   * encoder only reads them).
   */
  static final Http2Headers RESPONSE_HEADERS = ReadOnlyHttp2Headers.serverHeaders(false, HTTP_OK,
      CONTENT_TYPE_HEADER, GRPC, ACCEPT_ENCODING_HEADER, GZIP_VALUE);
  /** {@link #RESPONSE_HEADERS} announcing gzip-compressed messages. */
  static final Http2Headers RESPONSE_HEADERS_GZIP = ReadOnlyHttp2Headers.serverHeaders(false,
      HTTP_OK, CONTENT_TYPE_HEADER, GRPC, ENCODING_HEADER, GZIP_VALUE, ACCEPT_ENCODING_HEADER,
      GZIP_VALUE);
  /** The trailers of a successful call without trailing metadata, shared (immutable). */
  static final Http2Headers OK_TRAILERS = ReadOnlyHttp2Headers.trailers(false, STATUS_HEADER,
      STATUS_OK);

  private GrpcWire() {}

  /** A failure with the gRPC status to answer it with; no stack trace (it is an answer). */
  static final class StatusException extends RuntimeException {
    final Status.Code code;

    StatusException(Status.Code code, String description) {
      super(description, null, false, false);
      this.code = code;
    }
  }

  /**
   * Parses a {@code grpc-timeout} value (1 to 8 digits and a unit: H, M, S, m, u, n) into
   * nanoseconds.
   *
   * @return the timeout, saturated at {@code Long.MAX_VALUE}; -1 when the value is malformed
   */
  static long parseTimeoutNanos(CharSequence value) {
    int n = value.length();
    if (n < 2 || n > 9) {
      return -1;
    }
    long amount = 0;
    for (int i = 0; i < n - 1; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      amount = amount * 10 + (c - '0');
    }
    long unit;
    switch (value.charAt(n - 1)) {
      case 'H': unit = 3_600_000_000_000L; break;
      case 'M': unit = 60_000_000_000L; break;
      case 'S': unit = 1_000_000_000L; break;
      case 'm': unit = 1_000_000L; break;
      case 'u': unit = 1_000L; break;
      case 'n': unit = 1L; break;
      default: return -1;
    }
    return amount > Long.MAX_VALUE / unit ? Long.MAX_VALUE : amount * unit;
  }

  /**
   * Percent-encodes a status message as {@code grpc-message} requires: UTF-8, with bytes outside
   * printable ASCII, and {@code %} itself, as {@code %XX}.
   */
  static String percentEncode(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = null;
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xFF;
      boolean plain = b >= 0x20 && b <= 0x7E && b != '%';
      if (!plain && sb == null) {
        sb = new StringBuilder(bytes.length + 16);
        for (int j = 0; j < i; j++) {
          sb.append((char) bytes[j]);
        }
      }
      if (sb != null) {
        if (plain) {
          sb.append((char) b);
        } else {
          sb.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
              .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
        }
      }
    }
    return sb == null ? message : sb.toString();
  }

  /** Formats a timeout for {@code grpc-timeout}: at most 8 digits, in the finest unit that fits. */
  static String formatTimeout(long nanos) {
    long max = 99_999_999L;
    if (nanos <= max) {
      return nanos + "n";
    }
    long[] per = {1_000L, 1_000_000L, 1_000_000_000L, 60_000_000_000L, 3_600_000_000_000L};
    char[] unit = {'u', 'm', 'S', 'M', 'H'};
    for (int i = 0; i < per.length; i++) {
      long v = nanos / per[i] + (nanos % per[i] == 0 ? 0 : 1);
      if (v <= max) {
        return v + String.valueOf(unit[i]);
      }
    }
    return max + "H";
  }

  /** Decodes a percent-encoded {@code grpc-message}; malformed escapes are kept as they are. */
  static String percentDecode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      int hi = c == '%' && i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
      int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
      if (lo >= 0) {
        out.write(hi << 4 | lo);
        i += 2;
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Whether a content-type is gRPC's: {@code application/grpc}, alone or with {@code +x;...}. */
  static boolean isGrpcContentType(CharSequence contentType) {
    if (contentType == null) {
      return false;
    }
    int n = CONTENT_TYPE.length();
    if (!AsciiString.regionMatches(contentType, true, 0, CONTENT_TYPE, 0, n)) {
      return false;
    }
    if (contentType.length() == n) {
      return true;
    }
    char next = contentType.charAt(n);
    return next == '+' || next == ';';
  }

  /** Whether a {@code grpc-accept-encoding} list (comma-separated) names gzip. */
  static boolean acceptsGzip(CharSequence list) {
    int n = list.length();
    int i = 0;
    while (i < n) {
      int end = i;
      while (end < n && list.charAt(end) != ',') {
        end++;
      }
      int from = i;
      int to = end;
      while (from < to && list.charAt(from) <= ' ') {
        from++;
      }
      while (to > from && list.charAt(to - 1) <= ' ') {
        to--;
      }
      if (to - from == GZIP.length()
          && AsciiString.regionMatches(list, false, from, GZIP, 0, GZIP.length())) {
        return true;
      }
      i = end + 1;
    }
    return false;
  }

  /** Whether a header is the protocol's own rather than call metadata. */
  private static boolean reserved(String name) {
    return name.isEmpty() || name.charAt(0) == ':' || name.startsWith("grpc-")
        || name.equals("content-type") || name.equals("te") || name.equals("connection")
        || name.equals("content-length");
  }

  /**
   * The call metadata among request headers (read-only); malformed entries are skipped. Built on
   * demand: the decoded headers are not changed after they arrive, so any thread may build it.
   */
  static CallMetadata requestMetadata(Http2Headers headers) {
    CallMetadata md = new CallMetadata();
    for (Map.Entry<CharSequence, CharSequence> e : headers) {
      String name = e.getKey().toString();
      if (reserved(name)) {
        continue;
      }
      String value = e.getValue().toString();
      try {
        if (CallMetadata.isBinaryKey(name)) {
          for (String part : value.split(",", -1)) {
            md.putBinary(name, Base64.getDecoder().decode(part.trim()));
          }
        } else {
          md.put(name, value);
        }
      } catch (IllegalArgumentException ignored) {
        // not valid metadata (bad base64, non-ASCII text): not passed to the method
      }
    }
    return md.readOnlyCopy();
  }

  /** Adds metadata to outgoing headers; binary values base64-encoded. */
  static void addMetadata(Http2Headers headers, CallMetadata md) {
    md.forEach((k, v) -> headers.add(k, v instanceof byte[] b
        ? Base64.getEncoder().encodeToString(b) : (String) v));
  }

  /** The status code and description a failure is reported under. */
  static StatusException statusOf(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusException s) {
      return s;
    }
    if (t instanceof RpcException r) {
      return new StatusException(r.status().code(), r.status().description());
    }
    String msg = t.getMessage();
    return new StatusException(Status.Code.UNKNOWN,
        t.getClass().getName() + (msg == null ? "" : ": " + msg));
  }
}
