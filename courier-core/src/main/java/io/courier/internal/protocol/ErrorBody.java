package io.courier.internal.protocol;

import io.courier.ErrorReason;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The body of a frame whose status is not OK. It never passes through a serializer, so an error
 * can not carry a payload object:
 * <pre>
 *   u8  reason length,      reason name (ASCII, an {@link ErrorReason} name)
 *   u16 description length, description (UTF-8)
 *   u16 class name length,  remote exception class name (UTF-8; length 0 = none)
 *   u32 stack length,       remote stack trace (UTF-8; length 0 = none)
 * </pre>
 */
public final class ErrorBody {

  /** Longest description written; longer ones are cut. */
  static final int MAX_DESCRIPTION = 4096;
  /** Longest stack written; longer ones are cut. */
  static final int MAX_STACK = 64 << 10;

  /**
   * A decoded error body.
   *
   * @param reason the reason
   * @param description the description, possibly empty
   * @param remoteClass the remote exception class, or null
   * @param remoteStack the remote stack, or null
   */
  public record Info(ErrorReason reason, String description, String remoteClass,
      String remoteStack) {}

  private ErrorBody() {}

  public static void write(ByteBuf buf, ErrorReason reason, String description,
      String remoteClass, String remoteStack) {
    byte[] r = reason.name().getBytes(StandardCharsets.US_ASCII);
    buf.writeByte(r.length).writeBytes(r);
    writeString(buf, description, MAX_DESCRIPTION, false);
    writeString(buf, remoteClass, 1024, false);
    writeString(buf, remoteStack, MAX_STACK, true);
  }

  private static void writeString(ByteBuf buf, String s, int max, boolean wide) {
    byte[] b = s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    int len = Math.min(b.length, max);
    if (wide) {
      buf.writeInt(len);
    } else {
      buf.writeShort(len);
    }
    buf.writeBytes(b, 0, len);
  }

  /** Reads an error body; a malformed one yields a {@link ErrorReason#PROTOCOL_ERROR} info. */
  public static Info read(ByteBuf buf) {
    try {
      int rl = buf.readUnsignedByte();
      String reason = buf.readCharSequence(rl, StandardCharsets.US_ASCII).toString();
      String description = readString(buf, buf.readUnsignedShort());
      String cls = readString(buf, buf.readUnsignedShort());
      long sl = buf.readUnsignedInt();
      if (sl > buf.readableBytes()) {
        throw new IndexOutOfBoundsException();
      }
      String stack = readString(buf, (int) sl);
      return new Info(ErrorReason.of(reason), description == null ? "" : description, cls, stack);
    } catch (IndexOutOfBoundsException e) {
      return new Info(ErrorReason.PROTOCOL_ERROR, "malformed error body", null, null);
    }
  }

  private static String readString(ByteBuf buf, int len) {
    if (len == 0) {
      return null;
    }
    return buf.readCharSequence(len, StandardCharsets.UTF_8).toString();
  }
}
