package io.courier.serialization.protobuf;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.courier.spi.InMemoryInput;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;

/**
 * Arguments as a varint count, then per argument a presence byte (0 null, 1 present) and the
 * message length-delimited; a result as a presence byte and the message. Parsers are looked up
 * once per type. Thread-safe.
 */
final class ProtobufSerializer implements Serializer {

  private static final ClassValue<Parser<?>> PARSERS = new ClassValue<>() {
    @Override
    protected Parser<?> computeValue(Class<?> type) {
      if (!Message.class.isAssignableFrom(type)) {
        return null;
      }
      try {
        Message defaultInstance = (Message) type.getMethod("getDefaultInstance").invoke(null);
        return defaultInstance.getParserForType();
      } catch (ReflectiveOperationException e) {
        return null;
      }
    }
  };

  private static Parser<?> parser(Type type) throws SerializationException {
    Parser<?> p = type instanceof Class<?> c ? PARSERS.get(c) : null;
    if (p == null) {
      throw new SerializationException("protobuf serializer: " + type.getTypeName()
          + " is not a generated protobuf Message type; use the fory or json serializer");
    }
    return p;
  }

  /**
   * A coded stream over {@code out} with a buffer no larger than what will be written (protobuf's
   * default is 4 KiB per stream, which dwarfed small calls).
   */
  private static CodedOutputStream output(OutputStream out, int bytes) {
    return CodedOutputStream.newInstance(out, Math.max(16, Math.min(4096, bytes)));
  }

  /**
   * Reads an uncompressed body from a heap array, else through protobuf's own buffer.
   *
   * <p>Never in place from direct memory: protobuf-java's decoder for direct buffers reads with
   * {@code Unsafe} and trusts the limits it adds up, and a hostile length near 2^31 overflows
   * them, so it copied from past the end of the buffer and crashed the JVM (found by
   * {@code ProtobufFuzzTest}). On a heap array every read is bounds-checked: such input fails
   * with an exception, which the reads below turn into a {@link SerializationException}.
   */
  private static CodedInputStream input(InputStream in) {
    if (in instanceof InMemoryInput body) {
      ByteBuffer b = body.remaining();
      if (b.hasArray()) {
        return CodedInputStream.newInstance(b);
      }
      byte[] copy = new byte[b.remaining()];
      b.duplicate().get(copy);
      return CodedInputStream.newInstance(copy);
    }
    return CodedInputStream.newInstance(in);
  }

  private static int size(Object value) {
    if (value == null) {
      return 1;
    }
    int n = ((Message) value).getSerializedSize();
    return 1 + CodedOutputStream.computeUInt32SizeNoTag(n) + n;
  }

  @Override
  public void writeArguments(Object[] args, Type[] types, OutputStream out) throws IOException {
    int bytes = CodedOutputStream.computeUInt32SizeNoTag(args.length);
    for (Object a : args) {
      bytes += a instanceof Message || a == null ? size(a) : 0;
    }
    CodedOutputStream cos = output(out, bytes);
    cos.writeUInt32NoTag(args.length);
    for (int i = 0; i < args.length; i++) {
      writeOne(cos, args[i], types[i]);
    }
    cos.flush();
  }

  @Override
  public Object[] readArguments(Type[] types, InputStream in) throws IOException {
    CodedInputStream cis = input(in);
    try {
      int n = cis.readUInt32();
      if (n != types.length) {
        throw new SerializationException("expected " + types.length + " arguments, got " + n);
      }
      Object[] args = new Object[n];
      for (int i = 0; i < n; i++) {
        args[i] = readOne(cis, types[i]);
      }
      if (!cis.isAtEnd()) {
        throw new SerializationException("trailing bytes after the arguments");
      }
      return args;
    } catch (InvalidProtocolBufferException e) {
      throw new SerializationException("malformed protobuf arguments: " + e.getMessage(), e);
    } catch (IndexOutOfBoundsException e) { // see readValue
      throw new SerializationException("malformed protobuf arguments: " + e.getMessage(), e);
    }
  }

  @Override
  public void writeValue(Object value, Type type, OutputStream out) throws IOException {
    CodedOutputStream cos = output(out, value instanceof Message || value == null ? size(value)
        : 16);
    writeOne(cos, value, type);
    cos.flush();
  }

  @Override
  public Object readValue(Type type, InputStream in) throws IOException {
    CodedInputStream cis = input(in);
    try {
      return readOne(cis, type);
    } catch (InvalidProtocolBufferException e) {
      throw new SerializationException("malformed protobuf result: " + e.getMessage(), e);
    } catch (IndexOutOfBoundsException e) {
      // protobuf-java's decoders throw this, instead of InvalidProtocolBufferException, for some
      // lengths that run past the input inside a pushed limit (a string read in place from
      // direct memory, unknown bytes fields read from a stream)
      throw new SerializationException("malformed protobuf result: " + e.getMessage(), e);
    }
  }

  private static void writeOne(CodedOutputStream cos, Object value, Type type)
      throws IOException {
    parser(type);
    if (value == null) {
      cos.writeRawByte(0);
      return;
    }
    Message m = (Message) value;
    cos.writeRawByte(1);
    cos.writeUInt32NoTag(m.getSerializedSize());
    m.writeTo(cos);
  }

  private static Object readOne(CodedInputStream cis, Type type) throws IOException {
    Parser<?> parser = parser(type);
    byte present = cis.readRawByte();
    if (present == 0) {
      return null;
    }
    if (present != 1) {
      throw new SerializationException("malformed protobuf payload: bad presence byte");
    }
    int length = cis.readUInt32();
    int start = cis.getTotalBytesRead();
    int limit = cis.pushLimit(length);
    Object v = parser.parseFrom(cis);
    if (cis.getTotalBytesRead() - start != length) {
      throw new SerializationException("malformed protobuf payload: a message of " + length
          + " bytes ended after " + (cis.getTotalBytesRead() - start));
    }
    cis.popLimit(limit);
    return v;
  }
}
