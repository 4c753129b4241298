package io.courier.bench.grpc;

import io.courier.bench.Small;
import io.grpc.MethodDescriptor.Marshaller;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The benchmark service's messages in protobuf wire format, written by hand since the build has
 * no protoc; what goes on the wire is what protoc's code would send for
 *
 * <pre>
 * syntax = "proto3";
 * package bench;
 * message Payload { bytes payload = 1; }
 * message Small { int64 id = 1; string name = 2; int32 quantity = 3; double price = 4;
 *                 bool active = 5; }
 * service Bench { rpc Echo(Payload) returns (Payload); rpc Small(Small) returns (Small); }
 * </pre>
 *
 * <p>As in proto3, fields holding their default value (0, empty, false) are left out, unknown
 * fields are skipped, and a string that is absent reads as empty, so a {@link Small} whose name
 * is {@code null} comes back with the name {@code ""}.
 */
final class Messages {

  /** {@code Payload} as the bytes it carries. */
  static final Marshaller<byte[]> PAYLOAD = new Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return encodePayload(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return decodePayload(stream);
      } catch (IOException e) {
        throw invalid("Payload", e);
      }
    }
  };

  /** {@code Small} as the benchmark's {@link Small}. */
  static final Marshaller<Small> SMALL = new Marshaller<>() {
    @Override
    public InputStream stream(Small value) {
      return new EncodedMessage(encodeSmall(value));
    }

    @Override
    public Small parse(InputStream stream) {
      try {
        return decodeSmall(stream);
      } catch (IOException e) {
        throw invalid("Small", e);
      }
    }
  };

  private static final byte[] EMPTY = new byte[0];

  private Messages() {}

  /** The tag and length before the payload; the payload itself is not copied. */
  static EncodedMessage encodePayload(byte[] payload) {
    if (payload.length == 0) {
      return new EncodedMessage(EMPTY);
    }
    byte[] head = new byte[1 + varintSize(payload.length)];
    new Writer(head).tag(1, ProtoReader.LENGTH_DELIMITED).varint(payload.length);
    return new EncodedMessage(head, payload);
  }

  static byte[] decodePayload(InputStream in) throws IOException {
    ProtoReader reader = new ProtoReader(in);
    byte[] payload = EMPTY;
    int tag;
    while ((tag = reader.readTag()) != 0) {
      if (tag == (1 << 3 | ProtoReader.LENGTH_DELIMITED)) {
        payload = reader.readLengthDelimited();
      } else {
        reader.skip(tag);
      }
    }
    return payload;
  }

  static byte[] encodeSmall(Small value) {
    byte[] name = value.name == null || value.name.isEmpty()
        ? null : value.name.getBytes(StandardCharsets.UTF_8);
    long price = Double.doubleToRawLongBits(value.price);
    int size = 0;
    if (value.id != 0) {
      size += 1 + varintSize(value.id);
    }
    if (name != null) {
      size += 1 + varintSize(name.length) + name.length;
    }
    if (value.quantity != 0) {
      size += 1 + varintSize(value.quantity); // a negative int32 takes 10 bytes, as in protobuf
    }
    if (price != 0) { // -0.0 is not the default and is sent, as protobuf does
      size += 1 + 8;
    }
    if (value.active) {
      size += 1 + 1;
    }
    byte[] out = new byte[size];
    Writer w = new Writer(out);
    if (value.id != 0) {
      w.tag(1, ProtoReader.VARINT).varint(value.id);
    }
    if (name != null) {
      w.tag(2, ProtoReader.LENGTH_DELIMITED).varint(name.length).bytes(name);
    }
    if (value.quantity != 0) {
      w.tag(3, ProtoReader.VARINT).varint(value.quantity);
    }
    if (price != 0) {
      w.tag(4, ProtoReader.FIXED64).fixed64(price);
    }
    if (value.active) {
      w.tag(5, ProtoReader.VARINT).varint(1);
    }
    return out;
  }

  static Small decodeSmall(InputStream in) throws IOException {
    ProtoReader reader = new ProtoReader(in);
    Small value = new Small(0, "", 0, 0.0, false);
    int tag;
    while ((tag = reader.readTag()) != 0) {
      switch (tag) {
        case 1 << 3 | ProtoReader.VARINT -> value.id = reader.readVarint();
        case 2 << 3 | ProtoReader.LENGTH_DELIMITED ->
            value.name = new String(reader.readLengthDelimited(), StandardCharsets.UTF_8);
        case 3 << 3 | ProtoReader.VARINT -> value.quantity = (int) reader.readVarint();
        case 4 << 3 | ProtoReader.FIXED64 ->
            value.price = Double.longBitsToDouble(reader.readFixed64());
        case 5 << 3 | ProtoReader.VARINT -> value.active = reader.readVarint() != 0;
        default -> reader.skip(tag);
      }
    }
    return value;
  }

  /** How many bytes {@code value} takes as a varint (a negative one takes all ten). */
  static int varintSize(long value) {
    return value == 0 ? 1 : (70 - Long.numberOfLeadingZeros(value)) / 7;
  }

  private static RuntimeException invalid(String message, IOException cause) {
    return Status.INTERNAL.withDescription("invalid protobuf " + message + ": "
        + cause.getMessage()).withCause(cause).asRuntimeException();
  }

  /** Writes fields into an array sized for them beforehand. */
  private static final class Writer {
    private final byte[] out;
    private int position;

    Writer(byte[] out) {
      this.out = out;
    }

    Writer tag(int field, int wireType) {
      return varint(field << 3 | wireType);
    }

    Writer varint(long value) {
      while ((value & ~0x7FL) != 0) {
        out[position++] = (byte) ((value & 0x7F) | 0x80);
        value >>>= 7;
      }
      out[position++] = (byte) value;
      return this;
    }

    Writer fixed64(long value) {
      for (int i = 0; i < 8; i++) {
        out[position++] = (byte) (value >>> (8 * i));
      }
      return this;
    }

    Writer bytes(byte[] value) {
      System.arraycopy(value, 0, out, position, value.length);
      position += value.length;
      return this;
    }
  }
}
