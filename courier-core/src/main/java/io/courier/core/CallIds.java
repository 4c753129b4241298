package io.courier.core;

import java.nio.charset.StandardCharsets;

/**
 * Computes call IDs: a 32-bit MurmurHash3 of the method's canonical signature
 * {@code service/method(type,type)}, where each type is the erased parameter type's
 * {@link Class#getTypeName()} (for example {@code int}, {@code java.lang.String}, {@code byte[]}).
 *
 * <p>The ID is stable across JVMs, builds and versions as long as the service name, method name and
 * parameter types stay the same. Zero is reserved (it never names a method).
 */
public final class CallIds {

  private CallIds() {}

  /** The canonical signature a call ID is derived from. */
  public static String signature(String serviceName, String methodName, Class<?>[] parameterTypes) {
    StringBuilder sb = new StringBuilder(serviceName).append('/').append(methodName).append('(');
    for (int i = 0; i < parameterTypes.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(parameterTypes[i].getTypeName());
    }
    return sb.append(')').toString();
  }

  /** The call ID of a method. */
  public static int callId(String serviceName, String methodName, Class<?>[] parameterTypes) {
    return ofSignature(signature(serviceName, methodName, parameterTypes));
  }

  /** The call ID of a canonical signature (see {@link #signature}). */
  public static int ofSignature(String signature) {
    int id = murmur3(signature.getBytes(StandardCharsets.UTF_8), 0x436f7572); // "Cour"
    return id == 0 ? 1 : id;
  }

  /** MurmurHash3 x86 32-bit of {@code data}, also used for consistent hashing. */
  public static int murmur3(byte[] data, int seed) {
    final int c1 = 0xcc9e2d51;
    final int c2 = 0x1b873593;
    int h = seed;
    int len = data.length;
    int blocks = len & ~3;
    for (int i = 0; i < blocks; i += 4) {
      int k = (data[i] & 0xff) | (data[i + 1] & 0xff) << 8 | (data[i + 2] & 0xff) << 16
          | (data[i + 3] & 0xff) << 24;
      k *= c1;
      k = Integer.rotateLeft(k, 15);
      k *= c2;
      h ^= k;
      h = Integer.rotateLeft(h, 13);
      h = h * 5 + 0xe6546b64;
    }
    int k = 0;
    switch (len & 3) {
      case 3:
        k ^= (data[blocks + 2] & 0xff) << 16;
        // fall through
      case 2:
        k ^= (data[blocks + 1] & 0xff) << 8;
        // fall through
      case 1:
        k ^= data[blocks] & 0xff;
        k *= c1;
        k = Integer.rotateLeft(k, 15);
        k *= c2;
        h ^= k;
        break;
      default:
        break;
    }
    h ^= len;
    return fmix32(h);
  }

  /**
   * MurmurHash3's finalizer: a bijection on {@code int} that spreads nearby values over the whole
   * range (so distinct inputs stay distinct).
   */
  public static int fmix32(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }

  /** The ID as it is printed in messages and tables: {@code 0x} and eight hex digits. */
  public static String toHex(int callId) {
    String hex = Integer.toHexString(callId);
    return "0x" + "00000000".substring(hex.length()) + hex;
  }
}
