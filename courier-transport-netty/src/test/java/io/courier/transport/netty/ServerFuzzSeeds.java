package io.courier.transport.netty;

import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import io.courier.core.reflect.ServerReflection;
import io.courier.internal.codec.Compressors;
import io.courier.internal.codec.Serializers;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.Metadata;
import io.courier.internal.server.ServerMethod;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.testing.fixtures.Point;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes the committed inputs of {@link ServerFuzzTest}: valid Courier calls of every kind, whole
 * gRPC exchanges and HTTP/JSON requests. Run once after the protocol or the fuzz service changes:
 * {@code ./mvnw -o verify -pl courier-transport-netty -am -Dtest=ServerFuzzSeeds
 * -Dcourier.fuzz.writeSeeds=true -Dsurefire.failIfNoSpecifiedTests=false}, then commit the files.
 */
@EnabledIfSystemProperty(named = "courier.fuzz.writeSeeds", matches = "true")
class ServerFuzzSeeds {

  private static final Path DIR =
      Path.of("src/test/resources/io/courier/transport/netty/ServerFuzzTestInputs");

  private final FuzzServer server = new FuzzServer();

  @Test
  void write() throws Exception {
    writeCourier();
    writeGrpc();
    writeHttp();
  }

  private static void seed(String method, String name, byte[]... parts) throws IOException {
    Path dir = DIR.resolve(method);
    Files.createDirectories(dir);
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      all.writeBytes(p);
    }
    Files.write(dir.resolve(name), all.toByteArray());
  }

  // ---------------------------------------------------------------- Courier

  private ServerMethod shop(String name, int args) {
    return server.dispatcher.index.resolve("fuzz.Shop", name, args);
  }

  private byte[] call(int id, ServerMethod m, int serializer, int flags, Object... args) {
    return FuzzServer.request(id, m.callId(), serializer, flags, args, m.parameterTypes());
  }

  private static byte[] bytesOf(ByteBuf b) {
    try {
      byte[] out = new byte[b.readableBytes()];
      b.readBytes(out);
      return out;
    } finally {
      b.release();
    }
  }

  private void writeCourier() throws IOException {
    ServerMethod add = shop("add", 2);
    byte[] addFory = call(1, add, 1, 0, 1, 2);
    seed("courierServer", "add-fory", addFory);
    seed("frameDecoder", "add-fory", addFory);
    seed("courierServer", "add-json", call(3, add, 3, 0, 40, 2));
    seed("courierServer", "echo", call(5, shop("echo", 1), 1, 0, "hello"));
    seed("courierServer", "move", call(7, shop("move", 3), 1, 0, new Point(1, 2), 3, 4));
    seed("courierServer", "move-json", call(9, shop("move", 3), 3, 0, new Point(1, 2), 3, 4));
    seed("courierServer", "path", call(11, shop("path", 1), 1, 0,
        List.of(new Point(1, 1), new Point(2, 2))));
    seed("courierServer", "count", call(13, shop("count", 1), 3, 0, List.of("a", "b", "a")));
    seed("courierServer", "add-async", call(15, shop("addAsync", 2), 1, 0, 2, 3));
    seed("courierServer", "record-one-way",
        call(17, shop("record", 1), 1, Frame.FLAG_ONE_WAY, "event"));
    seed("courierServer", "fail", call(19, shop("fail", 1), 1, 0, "no"));
    seed("courierServer", "bytes", call(21, shop("bytes", 1), 1, 0, (Object) new byte[] {1, 2}));
    seed("courierServer", "describe", call(23, shop("describe", 1), 1, 0, 42L));
    seed("courierServer", "describe-json", call(25, shop("describe", 1), 3, 0, "text"));
    ServerMethod echo = server.dispatcher.index.resolve("fuzz.Grpc", "echo", 1);
    seed("courierServer", "protobuf", call(27, echo, 2, 0, StringValue.of("pb")));
    // reflection: list the services, call by name
    ServerMethod services = server.dispatcher.index.resolve("courier.Reflection", "services", 0);
    ServerMethod invoke = server.dispatcher.index.resolve("courier.Reflection", "invoke", 3);
    seed("courierServer", "reflection", call(29, services, 1, 0),
        call(31, invoke, 3, 0, "fuzz.Shop", "add", "[1, 2]"));
    // metadata, a deadline, a gzip body
    ByteBuf withMeta = FrameCodec.start(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, 64, 0, 1, 0, 0, 33,
        add.callId(), 1500);
    Map<String, String> entries = new java.util.LinkedHashMap<>();
    entries.put("trace-id", "abc");
    entries.put("tenant", "t1");
    int meta = Metadata.write(withMeta, entries);
    withMeta.writeBytes(body(add, 1, 5, 6));
    FrameCodec.finish(withMeta, 0, meta);
    seed("courierServer", "metadata-deadline", bytesOf(withMeta));
    seed("frameDecoder", "metadata", bytesOf(frameWithMetadata(add)));
    seed("courierServer", "gzip", FuzzServer.frameWithCompressor(0, 1, 1, 35, add.callId(), 0,
        gzip(body(add, 1, 7, 8))));
    // control frames
    byte[] ping = FuzzServer.frame(Frame.FLAG_HEARTBEAT, 0, 37, 0, 0, new byte[0]);
    byte[] cancel = FuzzServer.frame(Frame.FLAG_CANCEL, 0, 1, 0, 0, new byte[0]);
    byte[] goAway = FuzzServer.frame(Frame.FLAG_GOAWAY, 0, 0, 0, 0, new byte[0]);
    seed("courierServer", "ping-cancel-goaway", addFory, ping, cancel, goAway);
    seed("frameDecoder", "control", ping, cancel, goAway);
    // streams: server streaming and bidirectional
    ServerMethod countTo = shop("countTo", 2);
    byte[] open = FuzzServer.frame(Frame.FLAG_STREAM | Frame.FLAG_OPEN_STREAM, 1, 41,
        countTo.callId(), 0, body(countTo, 1, 3, null));
    byte[] window = FuzzServer.frame(Frame.FLAG_STREAM, 0, 41, Frame.STREAM_WINDOW, 16,
        new byte[0]);
    seed("courierServer", "server-stream", open, window);
    ServerMethod chat = shop("chat", 1);
    byte[] openChat = FuzzServer.frame(Frame.FLAG_STREAM | Frame.FLAG_OPEN_STREAM, 1, 43,
        chat.callId(), 0, new byte[0]);
    byte[] chatWindow = FuzzServer.frame(Frame.FLAG_STREAM, 0, 43, Frame.STREAM_WINDOW, 16,
        new byte[0]);
    byte[] message = FuzzServer.frame(Frame.FLAG_STREAM, 1, 43, Frame.STREAM_MESSAGE, 0,
        value("hi", String.class));
    byte[] end = FuzzServer.frame(Frame.FLAG_STREAM, 0, 43, Frame.STREAM_END, 0, new byte[0]);
    seed("courierServer", "bidi-stream", openChat, chatWindow, message, message, end);
    seed("frameDecoder", "stream", openChat, chatWindow, message, end);
    // a frame above the size limit, and one with an unknown call ID
    byte[] big = FuzzServer.frame(0, 1, 45, add.callId(), 0, new byte[0]);
    Unpooled.wrappedBuffer(big).setInt(Frame.OFF_BODY_LENGTH, FuzzServer.MAX_BODY + 1);
    seed("courierServer", "oversize", big);
    seed("frameDecoder", "oversize", big, new byte[64]);
    seed("courierServer", "unknown-method", FuzzServer.frame(0, 1, 47, 0x12345678, 0,
        body(add, 1, 1, 1)));
  }

  private static ByteBuf frameWithMetadata(ServerMethod add) {
    ByteBuf b = FrameCodec.start(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, 64, Frame.FLAG_ONE_WAY, 3, 0, 0, 9,
        add.callId(), 250);
    int meta = Metadata.write(b, Map.of("k", "v"));
    b.writeCharSequence("[1,2]", StandardCharsets.UTF_8);
    FrameCodec.finish(b, 0, meta);
    return b;
  }

  private static byte[] body(ServerMethod m, int serializerId, Object... args) {
    Serializer s = serializer(serializerId);
    Type[] types = m.parameterTypes();
    if (args.length == types.length + 1) { // the stream observer is not sent
      args = java.util.Arrays.copyOf(args, types.length);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      s.writeArguments(args, types, out);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  private static byte[] value(Object v, Type type) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    serializer(1).writeValue(v, type, out);
    return out.toByteArray();
  }

  private static Serializer serializer(int id) {
    return Serializers.byId(id).create(SerializerConfig.builder()
        .allow(List.of(Point.class, StringValue.class, ServerReflection.class)).build());
  }

  private static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = Compressors.byId(1).compress(out)) {
      z.write(raw);
    }
    return out.toByteArray();
  }

  // ---------------------------------------------------------------- gRPC

  private static Http2Headers grpcHeaders(String path) {
    return new DefaultHttp2Headers().method("POST").scheme("http").authority("fuzz")
        .path(path).add("content-type", "application/grpc").add("te", "trailers")
        .add("grpc-accept-encoding", "gzip").add("grpc-timeout", "5S")
        .add("tenant", "t1").add("trace-bin", "AQID");
  }

  private static byte[] message(byte[] proto, boolean compress) throws IOException {
    return H2Frames.message(compress ? H2Frames.gzip(proto) : proto, compress);
  }

  private void writeGrpc() throws IOException {
    H2Frames h2 = new H2Frames();
    byte[] hello = StringValue.of("hello").toByteArray();
    seed("grpcServer", "unary", h2.settingsAck(), h2.headers(1, grpcHeaders("/fuzz.Grpc/Echo"),
        false), h2.data(1, message(hello, false), true));
    Http2Headers gz = grpcHeaders("/fuzz.Grpc/Echo").add("grpc-encoding", "gzip");
    seed("grpcServer", "unary-gzip", h2.headers(1, gz, false),
        h2.data(1, message(hello, true), true));
    seed("grpcServer", "server-streaming", h2.headers(1, grpcHeaders("/fuzz.Grpc/Fill"), false),
        h2.data(1, message(Int32Value.of(3).toByteArray(), false), true));
    byte[] twoMessages = new byte[0];
    ByteArrayOutputStream both = new ByteArrayOutputStream();
    both.writeBytes(message(StringValue.of("a").toByteArray(), false));
    both.writeBytes(message(StringValue.of("b").toByteArray(), false));
    twoMessages = both.toByteArray();
    seed("grpcServer", "bidi", h2.headers(1, grpcHeaders("/fuzz.Grpc/Join"), false),
        h2.data(1, twoMessages, false), h2.windowUpdate(1), h2.data(1, new byte[0], true));
    seed("grpcServer", "reset", h2.headers(1, grpcHeaders("/fuzz.Grpc/Join"), false),
        h2.data(1, message(hello, false), false), h2.reset(1));
    seed("grpcServer", "many-streams", h2.settings(), h2.ping(), h2.windowUpdate(0),
        h2.headers(1, grpcHeaders("/fuzz.Grpc/Echo"), false), h2.headers(3,
            grpcHeaders("/fuzz.Grpc/Fill"), false), h2.data(1, message(hello, false), true),
        h2.data(3, message(Int32Value.of(2).toByteArray(), false), true),
        h2.headers(5, grpcHeaders("/fuzz.Grpc/Nope"), true));
    byte[] split = message(hello, false);
    seed("grpcServer", "split-message", h2.headers(1, grpcHeaders("/fuzz.Grpc/Echo"), false),
        h2.data(1, java.util.Arrays.copyOf(split, 3), false),
        h2.data(1, java.util.Arrays.copyOfRange(split, 3, split.length), true));
    // a message prefix that promises bytes, then the end of the stream in the same frame
    seed("grpcServer", "prefix-then-end", h2.headers(1, grpcHeaders("/fuzz.Grpc/Echo"), false),
        h2.data(1, new byte[] {0, 0, 0, 0, 5}, true));
    seed("grpcServer", "bad-headers", h2.headers(1, grpcHeaders("/fuzz.Grpc/Echo")
        .set("content-type", "text/plain"), true), h2.headers(3, grpcHeaders("/fuzz.Grpc/Echo")
        .method("GET"), true), h2.headers(5, grpcHeaders("/fuzz.Grpc/Echo")
        .set("grpc-timeout", "99999999999S"), true));
  }

  // ---------------------------------------------------------------- HTTP/1.1

  private static byte[] post(String path, String body, String... headers) {
    StringBuilder sb = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\n")
        .append("Host: fuzz\r\nContent-Type: application/json\r\n");
    for (String h : headers) {
      sb.append(h).append("\r\n");
    }
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    sb.append("Content-Length: ").append(b.length).append("\r\n\r\n").append(body);
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void writeHttp() throws IOException {
    seed("httpJson", "add-array", post("/fuzz.Shop/add", "[1, 2]"));
    seed("httpJson", "add-object", post("/fuzz.Shop/add", "{\"a\": 1, \"b\": 2}",
        "courier-timeout-ms: 1500"));
    seed("httpJson", "move", post("/fuzz.Shop/move",
        "{\"p\": {\"x\": 1, \"y\": 2}, \"dx\": 3, \"dy\": -4}"));
    seed("httpJson", "path", post("/fuzz.Shop/path", "[[{\"x\": 1, \"y\": 2}]]"));
    seed("httpJson", "count", post("/fuzz.Shop/count?x=1", "[[\"a\", \"b\", \"a\"]]"));
    seed("httpJson", "echo-unicode", post("/fuzz.Shop/ech%6F", "[\"h\\u00e9llo \\ud83d\\ude00\"]",
        "Connection: close"));
    seed("httpJson", "record-fail-describe", post("/fuzz.Shop/record", "[\"e\"]"),
        post("/fuzz.Shop/fail", "[\"no\"]"), post("/fuzz.Shop/describe", "[1.5]"),
        post("/fuzz.Shop/bytes", "[\"AQI=\"]"), post("/fuzz.Shop/addAsync", "[1, 2]"));
    seed("httpJson", "streaming", post("/fuzz.Shop/countTo", "[3]"));
    seed("httpJson", "listing", ascii("GET / HTTP/1.1\r\nHost: fuzz\r\n\r\n"),
        ascii("HEAD / HTTP/1.0\r\n\r\n"));
    seed("httpJson", "errors", ascii("GET /fuzz.Shop/add HTTP/1.1\r\nHost: fuzz\r\n\r\n"),
        post("/fuzz.Shop/nope", "[]"), post("/fuzz.Shop/add", "[1, 2", "X-A: b"),
        ascii("POST /fuzz.Shop/add HTTP/1.1\r\nContent-Type: text/plain\r\n"
            + "Content-Length: 2\r\n\r\n[]"));
    seed("httpJson", "chunked", ascii("POST /fuzz.Shop/add HTTP/1.1\r\nHost: fuzz\r\n"
        + "Content-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "3\r\n[1,\r\n3\r\n 2]\r\n0\r\n\r\n"));
    seed("httpJson", "reflection", post("/courier.Reflection/services", "[]"),
        post("/courier.Reflection/invoke", "[\"fuzz.Shop\", \"add\", \"[1, 2]\"]"));
  }
}
