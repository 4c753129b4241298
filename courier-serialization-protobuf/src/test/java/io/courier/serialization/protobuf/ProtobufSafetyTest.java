package io.courier.serialization.protobuf;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.courier.spi.SerializerProvider;
import io.courier.spi.SerializerSafetyContract;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Protobuf against the serializer safety contract. A protobuf payload names no classes: each
 * argument is parsed into the declared generated type, and even an {@link Any}'s type URL is only
 * a string until the application unpacks it into a class it chooses. So the gadget names travel
 * as data (an {@code Any} type URL, a struct's keys and strings), and the contract checks that
 * decoding them loads nothing.
 */
class ProtobufSafetyTest extends SerializerSafetyContract {

  @Override
  protected SerializerProvider provider() {
    return new ProtobufSerializerProvider();
  }

  @Override
  protected boolean namesClasses() {
    return false;
  }

  private static byte[] args(Message m) throws IOException {
    return args(m.toByteArray());
  }

  /** The argument framing: a count of one, a presence byte, then the length-delimited message. */
  private static byte[] args(byte[] message) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeUInt32NoTag(1);
    out.writeRawByte(1);
    out.writeUInt32NoTag(message.length);
    out.writeRawBytes(message);
    out.flush();
    return bytes.toByteArray();
  }

  @Override
  protected Payload naming(String className, Place place) throws IOException {
    Value named = Value.newBuilder().setStringValue(className).build();
    return switch (place) {
      case TOP_LEVEL -> new Payload(args(Any.newBuilder()
          .setTypeUrl("type.googleapis.com/" + className)
          .setValue(ByteString.copyFromUtf8("\u0001\u0002")).build()),
          new Type[] {Any.class}, List.of());
      case FIELD, MAP_VALUE -> new Payload(args(Struct.newBuilder().putFields("x", named)
          .build()), new Type[] {Struct.class}, List.of());
      case MAP_KEY -> new Payload(args(Struct.newBuilder().putFields(className,
          Value.newBuilder().setBoolValue(true).build()).build()), new Type[] {Struct.class},
          List.of());
      case LIST_ELEMENT, OBJECT_ARRAY -> new Payload(args(ListValue.newBuilder()
          .addValues(named).build()), new Type[] {ListValue.class}, List.of());
      default -> null;
    };
  }

  /** Wraps {@code body} as field {@code field} (length-delimited) of a message. */
  private static byte[] field(int field, byte[] body) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeByteArray(field, body);
    out.flush();
    return bytes.toByteArray();
  }

  @Override
  protected List<Payload> nested(int depth) throws IOException {
    byte[] value = new byte[0]; // Value { list_value = 6 { values = 1 { Value ... } } }
    for (int i = 0; i < depth; i++) {
      value = field(6, field(1, value));
    }
    return List.of(new Payload(args(value), new Type[] {Value.class}, List.of()));
  }

  private static byte[] varint(long v) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeUInt64NoTag(v);
    out.flush();
    return bytes.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  @Override
  protected List<Payload> hugeDeclaredLengths() throws IOException {
    List<Payload> out = new ArrayList<>();
    Type[] value = {Value.class};
    for (long huge : new long[] {100_000_000L, 0x7FFF_FFFFL, 0xFFFF_FFFFL}) {
      byte[] few = new byte[8];
      Arrays.fill(few, (byte) 'x');
      // the argument's own length
      out.add(new Payload(concat(varint(1), new byte[] {1}, varint(huge), few), value,
          List.of()));
      // a string field inside: Value.string_value = 3
      byte[] string = concat(new byte[] {(byte) ((3 << 3) | 2)}, varint(huge), few);
      out.add(new Payload(concat(varint(1), new byte[] {1}, varint(string.length), string),
          value, List.of()));
      // a repeated field inside: ListValue.values = 1, inside Value.list_value = 6
      byte[] list = concat(new byte[] {(byte) ((6 << 3) | 2)}, varint(huge), few);
      out.add(new Payload(concat(varint(1), new byte[] {1}, varint(list.length), list),
          value, List.of()));
    }
    return out;
  }
}
