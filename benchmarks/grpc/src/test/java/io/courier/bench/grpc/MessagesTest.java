package io.courier.bench.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnknownFieldSet;
import io.courier.bench.Small;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The hand-written wire format checked against protobuf-java itself: what is written parses as
 * the intended fields, and what protobuf writes (in any order, with fields we do not know) reads
 * back.
 */
class MessagesTest {

  @Test
  void payloadIsAProtobufBytesField() throws IOException {
    for (int size : new int[] {1, 64, 127, 128, 4096, 300_000}) {
      byte[] payload = new byte[size];
      new Random(size).nextBytes(payload);
      UnknownFieldSet fields = UnknownFieldSet.parseFrom(drain(Messages.encodePayload(payload)));
      assertThat(fields.asMap()).containsOnlyKeys(1);
      assertThat(fields.getField(1).getLengthDelimitedList())
          .containsExactly(ByteString.copyFrom(payload));
      assertThat(Messages.decodePayload(Messages.encodePayload(payload))).isEqualTo(payload);
    }
    assertThat(drain(Messages.encodePayload(new byte[0]))).isEmpty();
    assertThat(Messages.decodePayload(new ByteArrayInputStream(new byte[0]))).isEmpty();
  }

  @Test
  void payloadReadsWhatProtobufWritesAndSkipsTheRest() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeInt64(7, -3);
    out.writeString(9, "unknown");
    out.writeBytes(1, ByteString.copyFromUtf8("hello"));
    out.writeFixed32(11, 5);
    out.writeFixed64(12, 6);
    out.writeTag(13, 3); // a group (start, one field, end), long deprecated but still valid
    out.writeInt32(1, 2);
    out.writeTag(13, 4);
    out.flush();
    assertThat(Messages.decodePayload(new ByteArrayInputStream(bytes.toByteArray())))
        .isEqualTo("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }

  @Test
  void smallIsTheProtobufMessage() throws IOException {
    Small small = new Small(42L, "widget-42", 7, 19.99, true);
    UnknownFieldSet fields = UnknownFieldSet.parseFrom(Messages.encodeSmall(small));
    assertThat(fields.getField(1).getVarintList()).containsExactly(42L);
    assertThat(fields.getField(2).getLengthDelimitedList())
        .containsExactly(ByteString.copyFromUtf8("widget-42"));
    assertThat(fields.getField(3).getVarintList()).containsExactly(7L);
    assertThat(fields.getField(4).getFixed64List())
        .containsExactly(Double.doubleToLongBits(19.99));
    assertThat(fields.getField(5).getVarintList()).containsExactly(1L);

    Small negative = new Small(-5L, "ü", -1, -0.0, false);
    fields = UnknownFieldSet.parseFrom(Messages.encodeSmall(negative));
    assertThat(fields.asMap()).containsOnlyKeys(1, 2, 3, 4);
    assertThat(fields.getField(1).getVarintList()).containsExactly(-5L);
    assertThat(fields.getField(3).getVarintList()).containsExactly(-1L); // sign-extended
    assertThat(Messages.encodeSmall(negative)).hasSize(2 + 10 + 1 + 2 + 1 + 10 + 1 + 8);

    assertThat(Messages.encodeSmall(new Small())).isEmpty();
  }

  @Test
  void smallReadsWhatProtobufWrites() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeBool(5, true);
    out.writeString(20, "skipped");
    out.writeDouble(4, 2.5);
    out.writeInt32(3, -9);
    out.writeString(2, "name");
    out.writeInt64(1, Long.MIN_VALUE);
    out.flush();
    Small read = Messages.decodeSmall(new ByteArrayInputStream(bytes.toByteArray()));
    assertThat(read).usingRecursiveComparison()
        .isEqualTo(new Small(Long.MIN_VALUE, "name", -9, 2.5, true));

    Small empty = Messages.decodeSmall(new ByteArrayInputStream(new byte[0]));
    assertThat(empty).usingRecursiveComparison().isEqualTo(new Small(0, "", 0, 0.0, false));
  }

  @Test
  void corruptInputFailsAsInternal() {
    List<byte[]> corrupt = List.of(
        new byte[] {0x0A, 0x05, 1, 2}, // shorter than its length
        new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07}, // 2 GiB
        new byte[] {0x08, (byte) 0x80}, // truncated varint
        new byte[] {0x00}, // field 0
        new byte[] {0x0F}); // wire type 7
    for (byte[] bytes : corrupt) {
      assertThatThrownBy(() -> Messages.PAYLOAD.parse(new ByteArrayInputStream(bytes)))
          .isInstanceOf(StatusRuntimeException.class).hasMessageStartingWith("INTERNAL");
    }
  }

  @Test
  void encodedMessageReadsAndDrainsAlike() throws IOException {
    byte[] payload = new byte[1000];
    new Random(1).nextBytes(payload);
    byte[] whole = drain(Messages.encodePayload(payload));
    assertThat(Messages.encodePayload(payload).readAllBytes()).isEqualTo(whole);
    assertThat(Messages.encodePayload(payload).available()).isEqualTo(whole.length);

    InputStream partly = Messages.encodePayload(payload);
    ByteArrayOutputStream rest = new ByteArrayOutputStream();
    rest.write(partly.read());
    byte[] some = new byte[10];
    assertThat(partly.read(some)).isEqualTo(10);
    rest.write(some);
    assertThat(((EncodedMessage) partly).drainTo(rest)).isEqualTo(whole.length - 11);
    assertThat(rest.toByteArray()).isEqualTo(whole);
    assertThat(partly.read()).isEqualTo(-1);
  }

  private static byte[] drain(EncodedMessage message) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int n = message.drainTo(out);
    assertThat(n).isEqualTo(out.size());
    return out.toByteArray();
  }
}
