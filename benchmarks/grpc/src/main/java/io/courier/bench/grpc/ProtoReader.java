package io.courier.bench.grpc;

import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads protobuf wire format field by field from the stream gRPC hands a marshaller, without
 * first copying the message into an array: varints and fixed-width values byte by byte,
 * length-delimited values straight into an array of their exact size. Fields a reader does not
 * know are skipped, as protobuf does.
 */
final class ProtoReader {

  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH_DELIMITED = 2;
  static final int START_GROUP = 3;
  static final int END_GROUP = 4;
  static final int FIXED32 = 5;

  private final InputStream in;

  ProtoReader(InputStream in) {
    this.in = in;
  }

  static int fieldNumber(int tag) {
    return tag >>> 3;
  }

  static int wireType(int tag) {
    return tag & 7;
  }

  /** The next field's tag, or 0 at the end of the message. */
  int readTag() throws IOException {
    int first = in.read();
    if (first < 0) {
      return 0;
    }
    long tag = first < 0x80 ? first : (first & 0x7F) | (readVarint() << 7);
    if (fieldNumber((int) tag) == 0 || tag != (int) tag) {
      throw new IOException("invalid tag " + tag);
    }
    return (int) tag;
  }

  long readVarint() throws IOException {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("truncated varint");
      }
      value |= (long) (b & 0x7F) << shift;
      if (b < 0x80) {
        return value;
      }
    }
    throw new IOException("varint longer than 10 bytes");
  }

  long readFixed64() throws IOException {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 8) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("truncated fixed64");
      }
      value |= (long) b << shift;
    }
    return value;
  }

  /** A length-delimited value ({@code bytes}, {@code string}, nested message). */
  byte[] readLengthDelimited() throws IOException {
    long length = readVarint();
    if (length < 0 || length > knownRemaining()) {
      throw new EOFException("length " + length + " beyond the end of the message");
    }
    byte[] value = new byte[(int) length];
    if (in.readNBytes(value, 0, value.length) != value.length) {
      throw new EOFException("truncated length-delimited field");
    }
    return value;
  }

  /** Skips the value of the field whose tag was just read. */
  void skip(int tag) throws IOException {
    switch (wireType(tag)) {
      case VARINT -> readVarint();
      case FIXED64 -> in.skipNBytes(8);
      case LENGTH_DELIMITED -> {
        long length = readVarint();
        if (length < 0 || length > knownRemaining()) {
          throw new EOFException("length " + length + " beyond the end of the message");
        }
        in.skipNBytes(length);
      }
      case FIXED32 -> in.skipNBytes(4);
      case START_GROUP -> {
        int inner;
        while ((inner = readTag()) != 0) {
          if (wireType(inner) == END_GROUP) {
            if (fieldNumber(inner) != fieldNumber(tag)) {
              throw new IOException("group " + fieldNumber(tag) + " ended by another");
            }
            return;
          }
          skip(inner);
        }
        throw new EOFException("group " + fieldNumber(tag) + " not ended");
      }
      default -> throw new IOException("unexpected wire type " + wireType(tag));
    }
  }

  /**
   * How many bytes are left, where the stream knows (gRPC's streams do), so that a corrupt
   * length cannot make the reader allocate an array of up to 2 GiB.
   */
  private long knownRemaining() throws IOException {
    return in instanceof KnownLength || in instanceof ByteArrayInputStream
        ? in.available() : Integer.MAX_VALUE;
  }
}
