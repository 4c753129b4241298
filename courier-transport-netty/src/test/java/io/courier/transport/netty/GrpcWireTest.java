package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.CallMetadata;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class GrpcWireTest {

  @Test
  void timeoutUnits() {
    assertThat(GrpcWire.parseTimeoutNanos("1H")).isEqualTo(3_600_000_000_000L);
    assertThat(GrpcWire.parseTimeoutNanos("2M")).isEqualTo(120_000_000_000L);
    assertThat(GrpcWire.parseTimeoutNanos("3S")).isEqualTo(3_000_000_000L);
    assertThat(GrpcWire.parseTimeoutNanos("40m")).isEqualTo(40_000_000L);
    assertThat(GrpcWire.parseTimeoutNanos("5u")).isEqualTo(5_000L);
    assertThat(GrpcWire.parseTimeoutNanos("99999999n")).isEqualTo(99_999_999L);
    assertThat(GrpcWire.parseTimeoutNanos("99999999H")).isPositive();
  }

  @Test
  void malformedTimeouts() {
    for (String bad : new String[] {"", "S", "10", "10s", "-1S", "123456789S", "1.5S"}) {
      assertThat(GrpcWire.parseTimeoutNanos(bad)).as(bad).isEqualTo(-1);
    }
  }

  @Test
  void percentEncoding() {
    assertThat(GrpcWire.percentEncode("plain text")).isEqualTo("plain text");
    assertThat(GrpcWire.percentEncode("50%\n☺")).isEqualTo("50%25%0A%E2%98%BA");
  }

  @Test
  void timeoutsAreFormattedInAtMostEightDigits() {
    assertThat(GrpcWire.formatTimeout(5)).isEqualTo("5n");
    assertThat(GrpcWire.formatTimeout(99_999_999L)).isEqualTo("99999999n");
    assertThat(GrpcWire.formatTimeout(100_000_000L)).isEqualTo("100000u");
    assertThat(GrpcWire.formatTimeout(Long.MAX_VALUE)).isEqualTo("2562048H");
    for (long n : new long[] {1, 999, 123_456_789_012L, 86_400_000_000_000L}) {
      String f = GrpcWire.formatTimeout(n);
      assertThat(f.length()).as(f).isLessThanOrEqualTo(9);
      assertThat(GrpcWire.parseTimeoutNanos(f)).as(f).isGreaterThanOrEqualTo(n);
    }
  }

  @Test
  void percentDecodingUndoesEncoding() {
    String s = "\t\nwhite space ☺ 😈 100%";
    assertThat(GrpcWire.percentDecode(GrpcWire.percentEncode(s))).isEqualTo(s);
    assertThat(GrpcWire.percentDecode("50%zz and %4")).isEqualTo("50%zz and %4");
  }

  @Test
  void contentTypes() {
    assertThat(GrpcWire.isGrpcContentType("application/grpc")).isTrue();
    assertThat(GrpcWire.isGrpcContentType("application/grpc+proto")).isTrue();
    assertThat(GrpcWire.isGrpcContentType("application/grpc; charset=utf-8")).isTrue();
    assertThat(GrpcWire.isGrpcContentType("application/grpcx")).isFalse();
    assertThat(GrpcWire.isGrpcContentType("application/json")).isFalse();
    assertThat(GrpcWire.isGrpcContentType(null)).isFalse();
    assertThat(GrpcWire.isGrpcContentType("Application/GRPC")).isTrue();
    assertThat(GrpcWire.isGrpcContentType("application/grp")).isFalse();
  }

  @Test
  void acceptEncodingLists() {
    assertThat(GrpcWire.acceptsGzip("gzip")).isTrue();
    assertThat(GrpcWire.acceptsGzip("identity, deflate ,gzip")).isTrue();
    assertThat(GrpcWire.acceptsGzip(" gzip ,identity")).isTrue();
    assertThat(GrpcWire.acceptsGzip("identity,gzipx")).isFalse();
    assertThat(GrpcWire.acceptsGzip("xgzip")).isFalse();
    assertThat(GrpcWire.acceptsGzip("")).isFalse();
    assertThat(GrpcWire.acceptsGzip(",,")).isFalse();
  }

  @Test
  void requestMetadataSkipsProtocolHeadersAndDecodesBinary() {
    Http2Headers h = new DefaultHttp2Headers().method("POST").path("/a/B");
    h.set("content-type", "application/grpc").set("te", "trailers").set("grpc-timeout", "1S");
    h.add("x-a", "1").add("x-a", "2").add("x-b-bin", "AQI,AwQ=");
    CallMetadata md = GrpcWire.requestMetadata(h);
    assertThat(md.keys()).containsExactly("x-a", "x-b-bin");
    assertThat(md.getAll("x-a")).containsExactly("1", "2");
    assertThat(md.getAllBinary("x-b-bin")).containsExactly(new byte[] {1, 2}, new byte[] {3, 4});
  }

  @Test
  void failuresMapToStatuses() {
    assertThat(GrpcWire.statusOf(new RpcException(ErrorReason.BAD_ARGUMENTS, "no")).code)
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    GrpcWire.StatusException s = GrpcWire.statusOf(
        new CompletionException(new IllegalStateException("boom")));
    assertThat(s.code).isEqualTo(Status.Code.UNKNOWN);
    assertThat(s.getMessage()).isEqualTo("java.lang.IllegalStateException: boom");
  }
}
