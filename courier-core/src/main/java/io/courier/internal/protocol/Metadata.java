package io.courier.internal.protocol;

import io.courier.CallMetadata;
import io.courier.ErrorReason;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The metadata block: string keys and values.
 * <pre>
 *   repeated: u8 key length (1..255), key (ASCII: a-z 0-9 - _ .), u16 value length, value (UTF-8)
 * </pre>
 * Keys starting with {@code courier-} are reserved for the framework; a peer may not set them.
 * A server reads one key, {@code authorization}, and only to hand it to its authenticator.
 */
public final class Metadata {

  private Metadata() {}

  /** Writes entries; returns the number of bytes written. */
  public static int write(ByteBuf buf, Map<String, String> entries) {
    int start = buf.writerIndex();
    for (Map.Entry<String, String> e : entries.entrySet()) {
      writeEntry(buf, e.getKey(), e.getValue());
    }
    return buf.writerIndex() - start;
  }

  /**
   * Writes the entries of call metadata in order, a binary value base64-encoded under its
   * {@code -bin} key; returns the number of bytes written.
   */
  public static int write(ByteBuf buf, CallMetadata metadata) {
    int start = buf.writerIndex();
    metadata.forEach((k, v) -> writeEntry(buf, k, v instanceof byte[] b
        ? Base64.getEncoder().encodeToString(b) : (String) v));
    return buf.writerIndex() - start;
  }

  private static void writeEntry(ByteBuf buf, String k, String value) {
    checkKey(k);
    buf.writeByte(k.length());
    buf.writeCharSequence(k, StandardCharsets.US_ASCII);
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    if (v.length > 0xFFFF) {
      throw new IllegalArgumentException("metadata value of " + k + ": " + v.length
          + " bytes (expected: <= 65535)");
    }
    buf.writeShort(v.length).writeBytes(v);
  }

  static void checkKey(String k) {
    if (k.isEmpty() || k.length() > 255) {
      throw new IllegalArgumentException("metadata key: '" + k + "' (expected: 1 to 255 chars)");
    }
    for (int i = 0; i < k.length(); i++) {
      char c = k.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
        throw new IllegalArgumentException(
            "metadata key: '" + k + "' (expected: lower-case a-z, 0-9, '-', '_', '.')");
      }
    }
  }

  /**
   * Reads a metadata block (the whole readable part of {@code buf}).
   *
   * @throws ProtocolException when an entry overruns the block, a key is invalid, or a value is
   *     not valid UTF-8
   */
  public static Map<String, String> read(ByteBuf buf, int requestId) throws ProtocolException {
    Map<String, String> out = new LinkedHashMap<>();
    var decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    while (buf.isReadable()) {
      int kl = buf.readUnsignedByte();
      if (kl == 0 || buf.readableBytes() < kl + 2) {
        throw bad(requestId, "metadata entry overruns the metadata block");
      }
      String k = buf.readCharSequence(kl, StandardCharsets.US_ASCII).toString();
      try {
        checkKey(k);
      } catch (IllegalArgumentException e) {
        throw bad(requestId, e.getMessage());
      }
      int vl = buf.readUnsignedShort();
      if (buf.readableBytes() < vl) {
        throw bad(requestId, "metadata value of " + k + " overruns the metadata block");
      }
      ByteBuffer nio = buf.nioBuffer(buf.readerIndex(), vl);
      buf.skipBytes(vl);
      try {
        out.put(k, decoder.decode(nio).toString());
      } catch (CharacterCodingException e) {
        throw bad(requestId, "metadata value of " + k + " is not valid UTF-8");
      }
    }
    return out;
  }

  private static ProtocolException bad(int requestId, String message) {
    return new ProtocolException(ErrorReason.PROTOCOL_ERROR, requestId, message);
  }
}
