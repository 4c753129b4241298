package io.courier;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Metadata of a call: an ordered list of key/value pairs, the same key possibly repeated, as
 * gRPC carries them in HTTP/2 headers and trailers.
 *
 * <p>Keys are lower case ({@code a-z 0-9 - _ .}); a mixed-case key is stored lower-cased. A key
 * ending in {@code -bin} holds binary values ({@link #putBinary}, {@link #getBinary}), sent
 * base64-encoded; any other key holds printable ASCII text ({@link #put}, {@link #get}). Keys that
 * start with {@code grpc-} and the HTTP/2 pseudo-headers are reserved for the protocol.
 *
 * <pre>{@code
 * String tenant = CallContext.requestMetadata().get("x-tenant");
 * CallContext.responseTrailers().putBinary("x-checksum-bin", digest);
 * }</pre>
 *
 * <p>The values of {@code authorization} and {@code proxy-authorization} are shown as
 * {@code <redacted>} by {@link #toString()}, so logging metadata does not log credentials.
 *
 * <p>Thread-safe: every method synchronizes on the instance, so an implementation may add
 * trailers from the thread that completes a stream while the framework reads them.
 */
public final class CallMetadata {

  private static final String BINARY_SUFFIX = "-bin";

  private final List<String> keys = new ArrayList<>();
  private final List<Object> values = new ArrayList<>();
  private final boolean readOnly;

  /** An empty, modifiable instance. */
  public CallMetadata() {
    this(false);
  }

  private CallMetadata(boolean readOnly) {
    this.readOnly = readOnly;
  }

  /** An empty instance that refuses changes. */
  public static CallMetadata empty() {
    return new CallMetadata(true);
  }

  /** A read-only copy of this metadata. */
  public synchronized CallMetadata readOnlyCopy() {
    CallMetadata copy = new CallMetadata(true);
    copy.keys.addAll(keys);
    copy.values.addAll(values);
    return copy;
  }

  /**
   * Adds a text value.
   *
   * @throws IllegalArgumentException if the key is not valid, is reserved, ends in {@code -bin},
   *     or the value holds characters outside printable ASCII
   * @throws UnsupportedOperationException if this instance is read-only
   */
  public synchronized CallMetadata put(String key, String value) {
    String k = checkKey(key);
    if (isBinaryKey(k)) {
      throw new IllegalArgumentException("key: " + key + " (expected: no -bin suffix for a text"
          + " value; use putBinary)");
    }
    Objects.requireNonNull(value, "value");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7E) {
        throw new IllegalArgumentException("value of " + k + ": character 0x"
            + Integer.toHexString(c) + " at " + i + " (expected: printable ASCII; use a -bin key"
            + " for other bytes)");
      }
    }
    return add(k, value);
  }

  /**
   * Adds a binary value under a key ending in {@code -bin}. The array is copied.
   *
   * @throws IllegalArgumentException if the key is not valid, is reserved, or lacks the
   *     {@code -bin} suffix
   * @throws UnsupportedOperationException if this instance is read-only
   */
  public synchronized CallMetadata putBinary(String key, byte[] value) {
    String k = checkKey(key);
    if (!isBinaryKey(k)) {
      throw new IllegalArgumentException("key: " + key + " (expected: a -bin suffix for a"
          + " binary value)");
    }
    Objects.requireNonNull(value, "value");
    return add(k, value.clone());
  }

  private CallMetadata add(String key, Object value) {
    if (readOnly) {
      throw new UnsupportedOperationException("this metadata is read-only");
    }
    keys.add(key);
    values.add(value);
    return this;
  }

  /** The last text value of {@code key}, or {@code null}. */
  public synchronized String get(String key) {
    String k = key.toLowerCase(java.util.Locale.ROOT);
    for (int i = keys.size() - 1; i >= 0; i--) {
      if (keys.get(i).equals(k) && values.get(i) instanceof String s) {
        return s;
      }
    }
    return null;
  }

  /** Every text value of {@code key}, in order (empty if none). */
  public synchronized List<String> getAll(String key) {
    String k = key.toLowerCase(java.util.Locale.ROOT);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      if (keys.get(i).equals(k) && values.get(i) instanceof String s) {
        out.add(s);
      }
    }
    return out;
  }

  /** The last binary value of {@code key} (a copy), or {@code null}. */
  public synchronized byte[] getBinary(String key) {
    String k = key.toLowerCase(java.util.Locale.ROOT);
    for (int i = keys.size() - 1; i >= 0; i--) {
      if (keys.get(i).equals(k) && values.get(i) instanceof byte[] b) {
        return b.clone();
      }
    }
    return null;
  }

  /** Every binary value of {@code key}, in order (copies; empty if none). */
  public synchronized List<byte[]> getAllBinary(String key) {
    String k = key.toLowerCase(java.util.Locale.ROOT);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      if (keys.get(i).equals(k) && values.get(i) instanceof byte[] b) {
        out.add(b.clone());
      }
    }
    return out;
  }

  /** Whether {@code key} has at least one value. */
  public synchronized boolean containsKey(String key) {
    return keys.contains(key.toLowerCase(java.util.Locale.ROOT));
  }

  /** The distinct keys, in the order first added. */
  public synchronized Set<String> keys() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(keys));
  }

  /** Whether there is no entry. */
  public synchronized boolean isEmpty() {
    return keys.isEmpty();
  }

  /** The number of entries (a repeated key counts once per value). */
  public synchronized int size() {
    return keys.size();
  }

  /**
   * Visits every entry in order: text values as {@code String}, binary ones as {@code byte[]}
   * (not copied: do not modify them). For transports.
   */
  public synchronized void forEach(java.util.function.BiConsumer<String, Object> visitor) {
    for (int i = 0; i < keys.size(); i++) {
      visitor.accept(keys.get(i), values.get(i));
    }
  }

  /**
   * Whether a key carries credentials ({@code authorization}, {@code proxy-authorization}): their
   * values never appear in {@link #toString()}.
   */
  public static boolean isSecretKey(String key) {
    return key.equals("authorization") || key.equals("proxy-authorization");
  }

  /** Whether a key names binary values (ends in {@code -bin}). */
  public static boolean isBinaryKey(String key) {
    return key.endsWith(BINARY_SUFFIX);
  }

  private static String checkKey(String key) {
    Objects.requireNonNull(key, "key");
    String k = key.toLowerCase(java.util.Locale.ROOT);
    if (k.isEmpty() || k.equals(BINARY_SUFFIX)) {
      throw new IllegalArgumentException("key: '" + key + "' (expected: non-empty)");
    }
    for (int i = 0; i < k.length(); i++) {
      char c = k.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
        throw new IllegalArgumentException("key: '" + key + "' has '" + c + "' at " + i
            + " (expected: a-z, 0-9, '-', '_', '.')");
      }
    }
    if (k.startsWith("grpc-")) {
      throw new IllegalArgumentException("key: '" + key + "' (expected: not grpc-*, which the"
          + " protocol reserves)");
    }
    return k;
  }

  @Override
  public synchronized String toString() {
    StringBuilder sb = new StringBuilder("CallMetadata{");
    for (int i = 0; i < keys.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      Object v = values.get(i);
      String k = keys.get(i);
      sb.append(k).append('=');
      if (isSecretKey(k)) {
        sb.append("<redacted>");
      } else {
        sb.append(v instanceof byte[] b ? Base64.getEncoder().encodeToString(b) : v);
      }
    }
    return sb.append('}').toString();
  }
}
