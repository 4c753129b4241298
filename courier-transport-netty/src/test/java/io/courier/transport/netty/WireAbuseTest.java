package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.core.CallIds;
import io.courier.internal.protocol.Frame;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input on the binary TCP port, sent by hand over raw sockets: the rows of the reliability
 * catalogue (section 5a) that apply to it. After each, the server must still answer a well-formed
 * call: on the same connection where the catalogue keeps it, on a new one otherwise.
 */
class WireAbuseTest {

  static final int LIMIT = 64 * 1024;
  static final int ADD = CallIds.callId("test.Calculator", "add",
      new Class<?>[] {int.class, int.class});
  static final int ECHO = CallIds.callId("test.Calculator", "echo", new Class<?>[] {String.class});
  static final int SLEEP = CallIds.callId("test.Calculator", "sleep", new Class<?>[] {long.class});
  static final int RECORD = CallIds.callId("test.Calculator", "record",
      new Class<?>[] {String.class});
  static final int POINTS = CallIds.callId("test.Calculator", "points", new Class<?>[] {int.class});

  static CalculatorImpl impl;
  static CourierServer server;

  @BeforeAll
  static void start() {
    impl = new CalculatorImpl();
    server = CourierServer.builder().host("127.0.0.1").serializers("json")
        .maxFrameBytes(LIMIT).frameTimeout(Duration.ofMillis(300))
        .service(Calculator.class, impl).build().start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static RawFrames connect() throws IOException {
    return new RawFrames(server.port());
  }

  /** A well-formed add(1, 2) on this connection is answered with 3. */
  private static void assertServes(RawFrames c, int id) throws IOException {
    c.send(RawFrames.request(id, ADD, "[1,2]"));
    RawFrames.Reply r = c.read();
    assertThat(r.requestId()).isEqualTo(id);
    assertThat(r.status()).as(r.status() == 0 ? "" : r.description()).isZero();
    assertThat(r.bodyText()).isEqualTo("3");
  }

  private static void assertServesOnNewConnection() throws IOException {
    try (RawFrames c = connect()) {
      assertServes(c, 1);
    }
  }

  private static void assertError(RawFrames.Reply r, int id, int status, String reason,
      String... inDescription) {
    assertThat(r.requestId()).isEqualTo(id);
    assertThat(r.status()).isEqualTo(status);
    assertThat(r.reason()).isEqualTo(reason);
    assertThat(r.description()).contains(inDescription);
  }

  @Test
  void row01_tlsBytesOnThePortAreClosedWithAReason() throws IOException {
    byte[] clientHello = {0x16, 0x03, 0x01, 0x00, (byte) 0xc8, 0x01, 0x00, 0x00, (byte) 0xc4};
    try (RawFrames c = connect()) {
      c.send(clientHello);
      RawFrames.Reply r = c.read();
      assertThat(r.isGoAway()).isTrue();
      assertThat(r.description()).contains("bad magic", "is this a Courier port?");
      assertThat(c.closedByServer()).isTrue();
    }
    assertServesOnNewConnection();
  }

  /** HTTP/1.x on the port goes to the HTTP side, which answers in HTTP (and the port lives on). */
  @Test
  void row01_httpBytesOnThePortAreAnsweredInHttp() throws IOException {
    byte[] http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(http);
      byte[] head = s.getInputStream().readNBytes(9);
      assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 ");
    }
    assertServesOnNewConnection();
  }

  @Test
  void row02_unsupportedVersionNamesTheSupportedOne() throws IOException {
    try (RawFrames c = connect()) {
      c.send(RawFrames.frame(2, 0, 3, 0, 0, 0, 1, ADD, 0, new byte[0], new byte[0], 0));
      RawFrames.Reply r = c.read();
      assertThat(r.isGoAway()).isTrue();
      assertThat(r.description()).contains("unsupported protocol version 2", "supported: 1");
      assertThat(c.closedByServer()).isTrue();
    }
    assertServesOnNewConnection();
  }

  private static byte[] echoRequest(int id, int bodyBytes) {
    String s = "x".repeat(bodyBytes - 4); // ["…"] adds four bytes
    return RawFrames.request(id, ECHO, "[\"" + s + "\"]");
  }

  @Test
  void row03_row32_bodyAtTheLimitPassesOneByteMoreIsRefusedOnItsId() throws IOException {
    try (RawFrames c = connect()) {
      c.send(echoRequest(1, LIMIT));
      RawFrames.Reply ok = c.read();
      assertThat(ok.status()).isZero();
      assertThat(ok.body().length).isEqualTo(LIMIT - 2); // the answer is the string, quoted
      c.send(echoRequest(2, LIMIT + 1));
      assertError(c.read(), 2, 8, "PAYLOAD_TOO_LARGE",
          "frame body of 65537 bytes exceeds the limit of 65536 bytes");
      assertServes(c, 3); // the connection stays
    }
  }

  @Test
  void row04_absurdLengthIsAProtocolErrorWithoutAllocation() throws IOException {
    try (RawFrames c = connect()) {
      c.send(RawFrames.frame(1, 0, 3, 0, 0, 0, 9, ADD, 0, new byte[0], new byte[0],
          0xFFFFFFFFL));
      RawFrames.Reply r = c.read();
      assertThat(r.isGoAway()).isTrue();
      assertThat(r.requestId()).isEqualTo(9);
      assertThat(r.reason()).isEqualTo("PAYLOAD_TOO_LARGE");
      assertThat(c.closedByServer()).isTrue();
    }
    assertServesOnNewConnection();
  }

  @Test
  void row05_truncatedFrameThenFin() throws IOException {
    try (RawFrames c = connect()) {
      byte[] f = RawFrames.request(1, ADD, "[1,2]");
      c.send(java.util.Arrays.copyOf(f, f.length - 2));
      c.socket.shutdownOutput();
      assertThat(c.closedByServer()).isTrue();
    }
    assertServesOnNewConnection();
  }

  @Test
  void row06_slowLorisConnectionsAreClosedByTheFrameTimeout() throws Exception {
    List<RawFrames> lorises = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        RawFrames c = connect();
        c.send(new byte[] {(byte) 0xC0, 0x1E, 0x01}); // a header that never completes
        lorises.add(c);
      }
      for (RawFrames c : lorises) {
        assertThat(c.closedByServer()).isTrue();
      }
    } finally {
      for (RawFrames c : lorises) {
        c.close();
      }
    }
    assertServesOnNewConnection();
  }

  @Test
  void row07_oneBytePerWriteAndHundredFramesPerWrite() throws Exception {
    try (RawFrames c = connect()) {
      byte[] f = RawFrames.request(5, ADD, "[20,22]");
      for (byte b : f) {
        c.send(new byte[] {b});
        Thread.sleep(1);
      }
      RawFrames.Reply r = c.read();
      assertThat(r.requestId()).isEqualTo(5);
      assertThat(r.bodyText()).isEqualTo("42");
      ByteArrayOutputStream batch = new ByteArrayOutputStream();
      for (int i = 1; i <= 100; i++) {
        batch.write(RawFrames.request(100 + i, ADD, "[" + i + ",1000]"));
      }
      c.send(batch.toByteArray());
      boolean[] seen = new boolean[101];
      for (int i = 0; i < 100; i++) {
        RawFrames.Reply x = c.read();
        int n = x.requestId() - 100;
        assertThat(x.bodyText()).isEqualTo(String.valueOf(n + 1000));
        seen[n] = true;
      }
      for (int i = 1; i <= 100; i++) {
        assertThat(seen[i]).isTrue();
      }
    }
  }

  @Test
  void row09_reservedFlagBitsAndReservedByteCloseTheConnection() throws IOException {
    for (byte[] bad : List.of(
        RawFrames.frame(1, 0x80, 3, 0, 0, 0, 1, ADD, 0, new byte[0], new byte[0], 0),
        RawFrames.frame(1, 0, 3, 0, 0, 7, 1, ADD, 0, new byte[0], new byte[0], 0))) {
      try (RawFrames c = connect()) {
        c.send(bad);
        RawFrames.Reply r = c.read();
        assertThat(r.isGoAway()).isTrue();
        assertThat(r.reason()).isEqualTo("PROTOCOL_ERROR");
        assertThat(c.closedByServer()).isTrue();
      }
    }
    assertServesOnNewConnection();
  }

  @Test
  void row10_row11_serializersTheServiceDidNotEnableAreRefusedBeforeDecoding() throws IOException {
    try (RawFrames c = connect()) {
      for (int ser : new int[] {99, 1, 2, 0}) {
        c.send(RawFrames.request(0, ser, ser + 1, ADD, "garbage".getBytes()));
        assertError(c.read(), ser + 1, 12, "SERIALIZER_UNSUPPORTED",
            "serializer id " + ser + " is not enabled for test.Calculator (enabled: json=3)");
      }
      assertServes(c, 200);
    }
  }

  @Test
  void row12_unknownCallIdIsUnimplementedAndTheBodyIsNeverDecoded() throws IOException {
    try (RawFrames c = connect()) {
      c.send(RawFrames.request(0, 3, 4, 0x0BADCAFE, new byte[] {(byte) 0xFF, 0x00, 0x13}));
      assertError(c.read(), 4, 12, "UNKNOWN_METHOD", "no method with call ID 0x0badcafe",
          "services: test.Calculator");
      assertServes(c, 5);
    }
  }

  @Test
  void row13_row14_wrongArgumentsAreRefusedBeforeTheMethodRuns() throws IOException {
    int before = impl.calls.get();
    try (RawFrames c = connect()) {
      c.send(RawFrames.request(1, ADD, "[1,2,3]"));
      assertError(c.read(), 1, 3, "BAD_ARGUMENTS", "Calculator.add(int,int)",
          "expected 2 arguments (int, int), got 3");
      c.send(RawFrames.request(2, ADD, "[\"a\",2]"));
      assertError(c.read(), 2, 3, "BAD_ARGUMENTS", "Calculator.add(int,int)");
      c.send(RawFrames.request(3, ADD, "[null,2]"));
      assertError(c.read(), 3, 3, "BAD_ARGUMENTS", "Calculator.add(int,int)");
      c.send(RawFrames.request(4, ADD, "[1,"));
      assertError(c.read(), 4, 3, "BAD_ARGUMENTS", "invalid JSON");
      assertThat(impl.calls.get()).isEqualTo(before);
      assertServes(c, 5);
    }
  }

  private static byte[] metadataEntry(String key, byte[] value) {
    ByteBuffer b = ByteBuffer.allocate(1 + key.length() + 2 + value.length);
    b.put((byte) key.length()).put(key.getBytes(StandardCharsets.US_ASCII))
        .putShort((short) value.length).put(value);
    return b.array();
  }

  @Test
  void row21_oversizeOrMalformedMetadataIsRefusedOnItsId() throws IOException {
    try (RawFrames c = connect()) {
      byte[] body = "[1,2]".getBytes(StandardCharsets.UTF_8);
      byte[] big = metadataEntry("k", new byte[9_000]);
      c.send(RawFrames.frame(1, 0, 3, 0, 0, 0, 1, ADD, 0, big, body, body.length));
      assertError(c.read(), 1, 8, "PAYLOAD_TOO_LARGE", "metadata of", "exceeds the limit");
      byte[] badKey = metadataEntry("Bad Key", "v".getBytes());
      c.send(RawFrames.frame(1, 0, 3, 0, 0, 0, 2, ADD, 0, badKey, body, body.length));
      assertError(c.read(), 2, 13, "PROTOCOL_ERROR", "metadata key");
      byte[] badUtf8 = metadataEntry("k", new byte[] {(byte) 0xC3, 0x28});
      c.send(RawFrames.frame(1, 0, 3, 0, 0, 0, 3, ADD, 0, badUtf8, body, body.length));
      assertError(c.read(), 3, 13, "PROTOCOL_ERROR", "not valid UTF-8");
      assertServes(c, 4);
    }
  }

  @Test
  void row24_duplicateRequestIdIsDroppedAndTheFirstCallIsAnsweredCorrectly() throws Exception {
    long before = server.counters().duplicateRequests();
    try (RawFrames c = connect()) {
      c.send(RawFrames.request(7, SLEEP, "[300]"), RawFrames.request(7, ADD, "[1,2]"));
      RawFrames.Reply r = c.read();
      assertThat(r.requestId()).isEqualTo(7);
      assertThat(r.bodyText()).isEqualTo("\"slept 300\"");
      assertThat(server.counters().duplicateRequests()).isEqualTo(before + 1);
      assertServes(c, 8);
    }
  }

  @Test
  void row25_aResponseFrameSentToTheServerIsDroppedAndCounted() throws IOException {
    long before = server.counters().unsolicitedFrames();
    try (RawFrames c = connect()) {
      c.send(RawFrames.frame(1, Frame.FLAG_RESPONSE, 3, 0, 0, 0, 77, 0, 0, new byte[0],
          "3".getBytes(), 1));
      assertServes(c, 78);
    }
    assertThat(server.counters().unsolicitedFrames()).isEqualTo(before + 1);
  }

  @Test
  void row26_pingIsAnsweredButAFloodClosesTheConnection() throws IOException {
    try (RawFrames c = connect()) {
      c.send(RawFrames.control(Frame.FLAG_HEARTBEAT, 31));
      RawFrames.Reply pong = c.read();
      assertThat(pong.flags()).isEqualTo(Frame.FLAG_HEARTBEAT | Frame.FLAG_RESPONSE);
      assertThat(pong.requestId()).isEqualTo(31);
    }
    try (RawFrames c = connect()) {
      ByteArrayOutputStream flood = new ByteArrayOutputStream();
      for (int i = 0; i < 50; i++) {
        flood.write(RawFrames.control(Frame.FLAG_HEARTBEAT, i));
      }
      c.send(flood.toByteArray());
      assertThat(c.readUntilGoAway().description()).contains("too many pings");
      assertThat(c.closedByServer()).isTrue();
    }
    assertServesOnNewConnection();
  }

  @Test
  void row27_callsAboveTheConnectionLimitFailFastOverloaded() throws IOException {
    try (CourierServer small = CourierServer.builder().host("127.0.0.1").serializers("json")
        .maxConcurrentCallsPerConnection(2).service(Calculator.class, new CalculatorImpl())
        .build().start();
        RawFrames c = new RawFrames(small.port())) {
      c.send(RawFrames.request(1, SLEEP, "[300]"), RawFrames.request(2, SLEEP, "[300]"),
          RawFrames.request(3, ADD, "[1,2]"));
      RawFrames.Reply first = c.read();
      assertError(first, 3, 8, "OVERLOADED", "too many calls in flight on this connection");
      assertThat(c.read().requestId()).isIn(1, 2);
      assertThat(c.read().requestId()).isIn(1, 2);
      assertServes(c, 4);
    }
  }

  @Test
  void row28_requestAndCancelFloodClosesTheConnection() throws IOException {
    try (CourierServer small = CourierServer.builder().host("127.0.0.1").serializers("json")
        .maxCancelsPerSecond(50).service(Calculator.class, new CalculatorImpl()).build().start();
        RawFrames c = new RawFrames(small.port())) {
      ByteArrayOutputStream flood = new ByteArrayOutputStream();
      for (int i = 1; i <= 200; i++) {
        flood.write(RawFrames.request(i, SLEEP, "[200]"));
        flood.write(RawFrames.control(Frame.FLAG_CANCEL, i));
      }
      c.send(flood.toByteArray());
      assertThat(c.readUntilGoAway().description()).contains("too many cancels");
      assertThat(c.closedByServer()).isTrue();
      try (RawFrames fresh = new RawFrames(small.port())) {
        assertServes(fresh, 1);
      }
    }
  }

  @Test
  void row28_cancelsOfCallsPastHalfTheirDeadlineAreNoFlood() throws Exception {
    // an overloaded server's clients cancel calls that outlived their deadline, many at once
    try (CourierServer small = CourierServer.builder().host("127.0.0.1").serializers("json")
        .maxCancelsPerSecond(20).service(Calculator.class, new CalculatorImpl()).build().start();
        RawFrames c = new RawFrames(small.port())) {
      byte[] body = "[2000]".getBytes(StandardCharsets.UTF_8);
      ByteArrayOutputStream calls = new ByteArrayOutputStream();
      ByteArrayOutputStream cancels = new ByteArrayOutputStream();
      for (int i = 1; i <= 60; i++) {
        calls.write(RawFrames.frame(Frame.VERSION, 0, 3, 0, 0, 0, i, SLEEP, 1_000, new byte[0],
            body, body.length));
        cancels.write(RawFrames.control(Frame.FLAG_CANCEL, i));
      }
      c.send(calls.toByteArray());
      long end = System.nanoTime() + 10_000_000_000L;
      while (small.inFlightCalls() < 60 && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      assertThat(small.inFlightCalls()).as("calls in flight").isEqualTo(60);
      // every call arrived before now: past half of its 1 s deadline after 600 ms, still running
      Thread.sleep(600);
      c.send(cancels.toByteArray());
      c.send(RawFrames.request(1000, ADD, "[1,2]"));
      RawFrames.Reply r;
      do {
        r = c.read();
        assertThat(r.isGoAway()).as("the server took late cancels for a flood").isFalse();
      } while (r.requestId() != 1000);
      assertThat(r.bodyText()).isEqualTo("3");
    }
  }

  @Test
  void row29_connectionsAboveTheCapAreToldAndClosed() throws IOException {
    try (CourierServer small = CourierServer.builder().host("127.0.0.1").serializers("json")
        .maxConnections(5).service(Calculator.class, new CalculatorImpl()).build().start()) {
      List<RawFrames> held = new ArrayList<>();
      try {
        for (int i = 0; i < 5; i++) {
          RawFrames c = new RawFrames(small.port());
          assertServes(c, 1); // established and counted
          held.add(c);
        }
        try (RawFrames extra = new RawFrames(small.port())) {
          RawFrames.Reply r = extra.read();
          assertThat(r.isGoAway()).isTrue();
          assertThat(r.reason()).isEqualTo("OVERLOADED");
          assertThat(r.description()).contains("too many connections (limit 5)");
          assertThat(extra.closedByServer()).isTrue();
        }
        held.remove(0).close();
        long end = System.nanoTime() + 5_000_000_000L;
        while (small.counters().openConnections() > 4 && System.nanoTime() < end) {
          Thread.sleep(10);
        }
        try (RawFrames again = new RawFrames(small.port())) {
          assertServes(again, 2);
        }
        assertThat(small.counters().connectionsRefused()).isEqualTo(1);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      } finally {
        for (RawFrames c : held) {
          c.close();
        }
      }
    }
  }

  @Test
  void row31_aClientThatStopsReadingIsClosedWhenIdleAndTheServerLivesOn() throws Exception {
    try (CourierServer small = CourierServer.builder().host("127.0.0.1").serializers("json")
        .idleTimeout(Duration.ofSeconds(1)).service(Calculator.class, new CalculatorImpl())
        .build().start()) {
      try (RawFrames c = new RawFrames(small.port())) {
        c.socket.setReceiveBufferSize(64 * 1024);
        ByteArrayOutputStream many = new ByteArrayOutputStream();
        for (int i = 1; i <= 600; i++) {
          many.write(RawFrames.request(i, POINTS, "[2000]")); // ~50 KB answers, 30 MB in all
        }
        c.send(many.toByteArray());
        Thread.sleep(3_500); // never read: the server stops reading us, then finds us idle
        assertThat(small.counters().openConnections()).isZero();
      }
      try (RawFrames fresh = new RawFrames(small.port())) {
        assertServes(fresh, 1);
      }
    }
  }

  @Test
  void row30_connectResetStormLeavesNothingBehind() throws Exception {
    for (int i = 0; i < 300; i++) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
        s.setSoLinger(true, 0); // close with RST
        if (i % 2 == 0) {
          s.getOutputStream().write(new byte[] {(byte) 0xC0});
        }
      }
    }
    long end = System.nanoTime() + 5_000_000_000L;
    while (server.counters().openConnections() > 0 && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertThat(server.counters().openConnections()).isZero();
    assertServesOnNewConnection();
  }

  @Test
  void row33_gzipBombStopsAtTheLimit() throws IOException {
    ByteArrayOutputStream packed = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(packed)) {
      gz.write("[\"".getBytes());
      byte[] zeros = new byte[1 << 20];
      java.util.Arrays.fill(zeros, (byte) 'a');
      for (int i = 0; i < 8; i++) {
        gz.write(zeros);
      }
      gz.write("\"]".getBytes());
    }
    byte[] body = packed.toByteArray();
    assertThat(body.length).isLessThan(LIMIT);
    try (RawFrames c = connect()) {
      c.send(RawFrames.frame(1, 0, 3, 1, 0, 0, 1, ECHO, 0, new byte[0], body, body.length));
      assertError(c.read(), 1, 8, "PAYLOAD_TOO_LARGE",
          "decompressed body exceeds the limit of 65536 bytes");
      assertServes(c, 2);
    }
  }

  @Test
  void oneWayRequestsNeverGetAnAnswerEvenForErrors() throws Exception {
    try (RawFrames c = connect()) {
      c.send(RawFrames.request(Frame.FLAG_ONE_WAY, 3, 1, 0x0BADCAFE, "[]".getBytes()),
          RawFrames.request(Frame.FLAG_ONE_WAY, 3, 2, RECORD, "[\"x\",\"y\"]".getBytes()),
          RawFrames.request(Frame.FLAG_ONE_WAY, 3, 3, RECORD, "[\"ok\"]".getBytes()));
      assertServes(c, 4); // the first answer on the wire is add's
      assertThat(impl.events.poll(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("ok");
    }
  }
}
