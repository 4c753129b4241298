package io.courier.transport.netty;

import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import io.courier.annotation.OneWay;
import io.courier.annotation.ServiceName;
import io.courier.core.MethodDescriptor;
import io.courier.core.ServiceDescriptor;
import io.courier.internal.codec.AllowList;
import io.courier.internal.codec.Serializers;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.FrameLimits;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.protocol.ProtocolException;
import io.courier.internal.server.DispatchTable;
import io.courier.internal.server.ServerMethod;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;
import io.courier.stream.StreamObserver;
import io.courier.testing.LeakDetectionExtension;
import io.courier.testing.fixtures.Point;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A whole server on {@link EmbeddedChannel}s, for the fuzz tests: the real dispatch table (two
 * services and the built-in reflection service, every serializer), the real connection pipeline
 * ({@link ProtocolDetector}, {@link FrameDecoder}, the idle timer and
 * {@link ServerConnectionHandler}, replaced by the gRPC or HTTP/1.1 handlers as the first bytes
 * say), and methods run on the calling thread, so one input is one deterministic run.
 *
 * <p>{@link #serve} feeds one input to a new connection and then checks what must hold after any
 * input: no failure that is a bug (an exception that escaped to the pipeline or was counted by
 * {@link ServerDispatcher#internalError}), every buffer the connection allocated released once it
 * is closed, no allocation above the limits, no call left counted in flight, and a fresh
 * connection still answered correctly. Not thread-safe: one fuzz input at a time.
 */
final class FuzzServer {

  static final int MAX_BODY = 64 << 10;
  static final int MAX_METADATA = 8 << 10;
  /** No single buffer may be larger: a frame at the limits, twice over, plus slack. */
  static final int MAX_ALLOCATION = 2 * (Frame.HEADER_LENGTH + MAX_BODY + MAX_METADATA) + 4096;
  /** Leaks are looked for (a forced GC) once per this many inputs while fuzzing. */
  private static final int LEAK_CHECK_EVERY = 2_000;

  /** The service of the Courier and HTTP/JSON fuzz inputs. */
  @ServiceName("fuzz.Shop")
  public interface Shop {
    int add(int a, int b);

    String echo(String s);

    Point move(Point p, int dx, int dy);

    List<Point> path(List<Point> points);

    Map<String, Integer> count(List<String> words);

    CompletableFuture<Integer> addAsync(int a, int b);

    @OneWay
    void record(String event);

    String fail(String message);

    byte[] bytes(byte[] b);

    String describe(Object o);

    void countTo(int n, StreamObserver<Integer> out);

    StreamObserver<String> chat(StreamObserver<String> out);
  }

  /** The service of the gRPC fuzz inputs: protobuf messages in and out. */
  @ServiceName("fuzz.Grpc")
  public interface Grpc {
    StringValue echo(StringValue in);

    void fill(Int32Value count, StreamObserver<StringValue> out);

    StreamObserver<StringValue> join(StreamObserver<StringValue> out);
  }

  static final class ShopImpl implements Shop {
    @Override
    public int add(int a, int b) {
      return a + b;
    }

    @Override
    public String echo(String s) {
      return s;
    }

    @Override
    public Point move(Point p, int dx, int dy) {
      return new Point(p.x() + dx, p.y() + dy);
    }

    @Override
    public List<Point> path(List<Point> points) {
      return points;
    }

    @Override
    public Map<String, Integer> count(List<String> words) {
      Map<String, Integer> m = new LinkedHashMap<>();
      for (String w : words) {
        m.merge(String.valueOf(w), 1, Integer::sum);
      }
      return m;
    }

    @Override
    public CompletableFuture<Integer> addAsync(int a, int b) {
      return CompletableFuture.completedFuture(a + b);
    }

    @Override
    public void record(String event) {}

    @Override
    public String fail(String message) {
      throw new IllegalStateException(message);
    }

    @Override
    public byte[] bytes(byte[] b) {
      return b;
    }

    @Override
    public String describe(Object o) {
      return o == null ? "null" : o.getClass().getName();
    }

    @Override
    public void countTo(int n, StreamObserver<Integer> out) {
      for (int i = 0; i < Math.min(n, 4); i++) {
        out.onNext(i);
      }
      out.onCompleted();
    }

    @Override
    public StreamObserver<String> chat(StreamObserver<String> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(String value) {
          out.onNext(value);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }
  }

  static final class GrpcImpl implements Grpc {
    @Override
    public StringValue echo(StringValue in) {
      return StringValue.of("echo:" + in.getValue());
    }

    @Override
    public void fill(Int32Value count, StreamObserver<StringValue> out) {
      for (int i = 0; i < Math.min(count.getValue(), 4); i++) {
        out.onNext(StringValue.of("#" + i));
      }
      out.onCompleted();
    }

    @Override
    public StreamObserver<StringValue> join(StreamObserver<StringValue> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(StringValue value) {
          out.onNext(StringValue.of("got " + value.getValue()));
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }
  }

  /** Methods run where they are called: on the test thread, which is the event loop here. */
  private static final Executor DIRECT = Runnable::run;

  final ServerDispatcher dispatcher;
  private final Tracking alloc = new Tracking();
  private long inputs;
  /** The valid call that must be answered after every input: {@code add(1, 2)}. */
  private final ServerMethod liveAdd;
  private final byte[] liveCall;

  FuzzServer() {
    List<ServerMethod> methods = new ArrayList<>();
    register(methods, Shop.class, new ShopImpl(), List.of("fory", "json"));
    register(methods, Grpc.class, new GrpcImpl(), List.of("protobuf"));
    methods.addAll(BuiltInServices.methods(List.copyOf(methods)));
    ServerConfig config = new ServerConfig(new FrameLimits(MAX_BODY, MAX_METADATA), 16,
        10_000, 60_000, 30_000, false, 1024, 10, 100, 100, 0, 0);
    dispatcher = new ServerDispatcher(new DispatchTable(methods), config, "fuzz.Shop, fuzz.Grpc");
    dispatcher.grpcMaxMessageBytes = MAX_BODY;
    liveAdd = dispatcher.index.resolve("fuzz.Shop", "add", 2);
    liveCall = request(7, liveAdd.callId(), 1, 0, new Object[] {1, 2}, liveAdd.parameterTypes());
  }

  private static <T> void register(List<ServerMethod> out, Class<T> type, T impl,
      List<String> names) {
    ServiceDescriptor sd = ServiceDescriptor.of(type);
    SerializerConfig config = SerializerConfig.builder()
        .allow(AllowList.reachable(List.of(sd), Set.of()))
        .classLoader(type.getClassLoader())
        .build();
    List<SerializerProvider> providers = new ArrayList<>();
    List<Serializer> serializers = new ArrayList<>();
    Serializer json = null;
    for (String name : names) {
      SerializerProvider p = Serializers.byName(name);
      providers.add(p);
      serializers.add(p.create(config));
      if (name.equals("json")) {
        json = serializers.get(serializers.size() - 1);
      }
    }
    if (json == null) {
      json = Serializers.byName("json").create(config);
    }
    for (MethodDescriptor md : sd.methods()) {
      out.add(new ServerMethod(md, impl, providers, serializers,
          md.isNonBlocking() ? null : DIRECT, json));
    }
  }

  /** A new connection with the pipeline a real server gives it. */
  EmbeddedChannel connect() {
    EmbeddedChannel ch = new EmbeddedChannel(false, false);
    ch.config().setAllocator(alloc);
    ServerConfig c = dispatcher.config;
    ch.pipeline().addLast("detect", new ProtocolDetector(dispatcher));
    ch.pipeline().addLast("frames", new FrameDecoder(c.limits(), c.frameTimeoutMillis()));
    ch.pipeline().addLast("idle",
        new IdleStateHandler(c.idleTimeoutMillis(), 0, 0, TimeUnit.MILLISECONDS));
    ch.pipeline().addLast("calls", new ServerConnectionHandler(dispatcher));
    try {
      ch.register();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return ch;
  }

  /** What the server wrote in answer to one input. */
  record Answer(byte[] bytes, boolean closed) {}

  /**
   * Feeds {@code chunks} to a new connection, one read each, lets every timer of the connection
   * fire, closes it, and checks the invariants. Returns what the server wrote.
   */
  Answer serve(byte[]... chunks) {
    alloc.reset();
    EmbeddedChannel ch = connect();
    ByteArrayOutputStream written = new ByteArrayOutputStream();
    boolean closedByServer;
    try {
      for (byte[] chunk : chunks) {
        if (!ch.isOpen()) {
          break;
        }
        ch.writeInbound(Unpooled.wrappedBuffer(chunk));
        ch.runPendingTasks();
        drainOutbound(ch, written);
      }
      // deadlines, timeouts and idle timers: all of them pass
      ch.advanceTimeBy(1, TimeUnit.DAYS);
      ch.runPendingTasks();
      ch.runScheduledPendingTasks();
      drainOutbound(ch, written);
      closedByServer = !ch.isOpen();
      ch.close();
      ch.runPendingTasks();
      drainOutbound(ch, written);
      ch.checkException();
    } finally {
      ch.finishAndReleaseAll();
    }
    checkNoInternalError();
    alloc.checkReleased();
    if (dispatcher.inFlight.get() != 0) {
      int n = dispatcher.inFlight.getAndSet(0);
      throw new AssertionError(n + " calls still counted in flight after the connection closed");
    }
    checkStillServes();
    if (++inputs % LEAK_CHECK_EVERY == 0) {
      checkNoLeaks();
    }
    return new Answer(written.toByteArray(), closedByServer);
  }

  private static void drainOutbound(EmbeddedChannel ch, ByteArrayOutputStream written) {
    for (Object o; (o = ch.readOutbound()) != null; ) {
      try {
        if (o instanceof ByteBuf b) {
          byte[] bytes = new byte[b.readableBytes()];
          b.getBytes(b.readerIndex(), bytes);
          written.writeBytes(bytes);
        } else {
          throw new AssertionError("the server wrote a " + o.getClass().getName()
              + " instead of bytes");
        }
      } finally {
        ReferenceCountUtil.release(o);
      }
    }
  }

  void checkNoInternalError() {
    Throwable t = dispatcher.firstInternalError.getAndSet(null);
    if (t != null) {
      dispatcher.internalErrors.reset();
      throw new AssertionError("the server failed on this input (a bug, not bad input): " + t, t);
    }
  }

  /** The paranoid leak detector's reports so far (forces a GC: slow). */
  static void checkNoLeaks() {
    List<String> leaks = LeakDetectionExtension.collectLeaks();
    if (!leaks.isEmpty()) {
      throw new AssertionError("ByteBuf leak:\n" + leaks.get(leaks.size() - 1));
    }
  }

  /** A valid call on a fresh connection is answered, and correctly. */
  private void checkStillServes() {
    ServerMethod add = liveAdd;
    byte[] call = liveCall;
    EmbeddedChannel ch = connect();
    try {
      ch.writeInbound(Unpooled.wrappedBuffer(call));
      ch.runPendingTasks();
      ByteBuf answer = ch.readOutbound();
      if (answer == null) {
        throw new AssertionError("a valid call on a new connection got no answer");
      }
      try {
        InboundFrame f = FrameCodec.decode(answer, new FrameLimits(MAX_BODY, MAX_METADATA));
        try {
          if (f == null || f.status != 0 || f.requestId != 7) {
            throw new AssertionError("a valid call on a new connection was answered " + f);
          }
          Object three = add.serializer(1).readValue(int.class,
              new ByteBufInputStream(f.body()));
          if (!Integer.valueOf(3).equals(three)) {
            throw new AssertionError("1 + 2 was answered " + three);
          }
        } finally {
          if (f != null) {
            f.release();
          }
        }
      } catch (ProtocolException | IOException e) {
        throw new AssertionError("the answer to a valid call does not decode", e);
      } finally {
        answer.release();
      }
    } finally {
      ch.finishAndReleaseAll();
    }
    checkNoInternalError();
    alloc.checkReleased();
  }

  /** A request frame: arguments encoded by the serializer with that id. */
  static byte[] request(int requestId, int callId, int serializerId, int flags, Object[] args,
      Type[] types) {
    Serializer s = Serializers.byId(serializerId).create(SerializerConfig.builder()
        .allow(List.of(Point.class)).build());
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    try {
      s.writeArguments(args, types, body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return frame(flags, serializerId, requestId, callId, 0, body.toByteArray());
  }

  /** A frame with no metadata. */
  static byte[] frame(int flags, int serializerId, int requestId, int wordA, int wordB,
      byte[] body) {
    return frameWithCompressor(flags, serializerId, 0, requestId, wordA, wordB, body);
  }

  /** A frame with no metadata and a compressed body. */
  static byte[] frameWithCompressor(int flags, int serializerId, int compressorId, int requestId,
      int wordA, int wordB, byte[] body) {
    ByteBuf b = Unpooled.buffer();
    try {
      FrameCodec.writeHeader(b, flags, serializerId, compressorId, 0, requestId, wordA, wordB);
      b.writeBytes(body);
      FrameCodec.finish(b, 0, 0);
      byte[] out = new byte[b.readableBytes()];
      b.readBytes(out);
      return out;
    } finally {
      b.release();
    }
  }

  /**
   * Hands out unpooled buffers and remembers each, so that after a connection closed every one of
   * them can be checked to be released; refuses a buffer larger than {@link #MAX_ALLOCATION}.
   */
  static final class Tracking extends AbstractByteBufAllocator {
    private final List<ByteBuf> made = new ArrayList<>();

    Tracking() {
      super(false);
    }

    private <B extends ByteBuf> B track(B buf, int initialCapacity) {
      if (initialCapacity > MAX_ALLOCATION) {
        buf.release();
        throw new AssertionError("a buffer of " + initialCapacity + " bytes was asked for;"
            + " nothing should need more than " + MAX_ALLOCATION);
      }
      made.add(buf);
      return buf;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity), initialCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity),
          initialCapacity);
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
      return track(super.compositeHeapBuffer(maxNumComponents), 0);
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
      return track(super.compositeDirectBuffer(maxNumComponents), 0);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    void checkReleased() {
      List<String> held = new ArrayList<>();
      for (ByteBuf b : made) {
        if (b.refCnt() != 0) {
          held.add(b.getClass().getSimpleName() + " refCnt=" + b.refCnt() + " readable="
              + b.readableBytes());
          b.release(b.refCnt());
        }
      }
      made.clear();
      if (!held.isEmpty()) {
        throw new AssertionError(held.size() + " buffer(s) still held after the connection"
            + " closed: " + held);
      }
    }

    void reset() {
      made.clear();
    }
  }
}
