package io.courier.transport.netty;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.courier.CallContext;
import io.courier.CallMetadata;
import io.courier.Deadline;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.auth.CallCredentials;
import io.courier.client.GrpcRequestObserver;
import io.courier.spi.CallTracer;
import io.courier.core.MethodDescriptor;
import io.courier.core.ServiceDescriptor;
import io.courier.stream.StreamObserver;
import io.courier.TlsConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The client side of gRPC: stubs of plain service interfaces whose methods take and return
 * protobuf messages, calling a gRPC server over one HTTP/2 connection (plaintext with prior
 * knowledge, or TLS with ALPN {@code h2}), opened on first use and again after it closes or the
 * server sends GOAWAY. Internal; use {@code io.courier.client.GrpcClient}. Thread-safe.
 */
public final class GrpcClientTransport implements AutoCloseable {

  private final String host;
  private final int port;
  private final String authority;
  private final long defaultTimeoutNanos;
  private final long connectTimeoutMillis;
  private final int maxMessageBytes;
  private final Executor callbacks;
  private final EventLoopGroup group;
  private final Map<Class<?>, Object> stubs = new ConcurrentHashMap<>();
  private final Map<Class<?>, Map<Method, ClientMethod>> methodsByType = new ConcurrentHashMap<>();
  private Channel channel; // guarded by this
  private final List<Channel> retired = new ArrayList<>(); // guarded by this
  private volatile boolean closed;
  private volatile CallCredentials credentials;
  private volatile CallTracer tracer;
  private volatile TlsConfig tls;
  private volatile SslContext sslContext;

  /**
   * @param defaultTimeoutNanos the deadline of calls that have none (from the context or
   *     {@code @Timeout}); 0 for none
   * @param callbacks where futures complete and stream observers are called
   */
  public GrpcClientTransport(String host, int port, long defaultTimeoutNanos,
      long connectTimeoutMillis, int maxMessageBytes, Executor callbacks, int ioThreads) {
    this.host = host;
    this.port = port;
    this.authority = host + ":" + port;
    this.defaultTimeoutNanos = defaultTimeoutNanos;
    this.connectTimeoutMillis = connectTimeoutMillis;
    this.maxMessageBytes = maxMessageBytes;
    this.callbacks = callbacks;
    this.group = Transports.newGroup(ioThreads, "courier-grpc-client");
  }

  /** Traces every call from now on; null for none. */
  public void tracer(CallTracer tracer) {
    this.tracer = tracer;
  }

  /** Credentials for every call from now on; null for none. */
  public void credentials(CallCredentials credentials) {
    this.credentials = credentials;
  }

  /**
   * Connects over TLS with ALPN {@code h2} from now on (call before the first call); the files
   * of {@code tls} are read here.
   *
   * @throws IllegalStateException naming a file that does not load
   */
  public void tls(TlsConfig tls) {
    this.sslContext = TlsContexts.client(tls, TlsContexts.H2);
    this.tls = tls;
  }

  /**
   * What a stub adds to each call: request metadata, request compression, and where response
   * headers and trailers go (each consumer may be null). Immutable.
   *
   * @param metadata request metadata, sent after the call credentials (read-only)
   * @param gzip whether request messages are compressed with gzip
   * @param onHeaders receives each call's response headers before its result is delivered
   * @param onTrailers receives each call's response trailers before its result is delivered
   */
  public record CallSettings(CallMetadata metadata, boolean gzip,
      Consumer<CallMetadata> onHeaders, Consumer<CallMetadata> onTrailers) {
    /** No metadata, no compression, nothing captured. */
    public static final CallSettings DEFAULT =
        new CallSettings(CallMetadata.empty(), false, null, null);
  }

  /** A stub of {@code type}; cached per interface. */
  public <T> T stub(Class<T> type) {
    return type.cast(stubs.computeIfAbsent(type, t -> newStub(t, CallSettings.DEFAULT)));
  }

  /** A new stub of {@code type} whose calls carry {@code settings}. */
  public <T> T stub(Class<T> type, CallSettings settings) {
    return type.cast(newStub(type, settings));
  }

  private Object newStub(Class<?> type, CallSettings settings) {
    ServiceDescriptor sd = ServiceDescriptor.of(type);
    Map<Method, ClientMethod> methods = methodsByType.computeIfAbsent(type, t -> {
      Map<Method, ClientMethod> m = new HashMap<>();
      for (MethodDescriptor md : sd.methods()) {
        m.put(md.method(), ClientMethod.of(md));
      }
      return m;
    });
    InvocationHandler h = (proxy, method, args) -> {
      ClientMethod cm = methods.get(method);
      if (cm == null) {
        return objectMethod(proxy, method, args, sd);
      }
      return cm.invoke(this, args, settings);
    };
    return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h);
  }

  private static Object objectMethod(Object proxy, Method m, Object[] args, ServiceDescriptor sd) {
    switch (m.getName()) {
      case "equals":
        return proxy == args[0];
      case "hashCode":
        return System.identityHashCode(proxy);
      case "toString":
        return "GrpcStub[" + sd.name() + "]";
      default:
        throw new UnsupportedOperationException(m.toString());
    }
  }

  /** A method as a gRPC call: its path, kind, response parser and timeout. Immutable. */
  private record ClientMethod(MethodDescriptor md, String path, Parser<?> parser, String refusal) {
    static ClientMethod of(MethodDescriptor md) {
      String path = GrpcServices.path(md.serviceName(), md.name());
      Class<?> request = null;
      if (md.kind() == MethodDescriptor.Kind.SYNC || md.kind() == MethodDescriptor.Kind.ASYNC) {
        request = md.parameterCount() == 1 ? md.parameterClasses()[0] : null;
      } else if (md.kind().isStreaming()) {
        request = md.requestType() instanceof Class<?> c ? c : null;
      }
      Class<?> response = md.resultType() instanceof Class<?> c ? c : null;
      if (request == null || response == null || !Message.class.isAssignableFrom(request)
          || !Message.class.isAssignableFrom(response)) {
        return new ClientMethod(md, path, null, md.displayName()
            + " does not take and return protobuf messages, so it cannot be called over gRPC");
      }
      try {
        Message prototype = (Message) response.getMethod("getDefaultInstance").invoke(null);
        return new ClientMethod(md, path, prototype.getParserForType(), null);
      } catch (ReflectiveOperationException | RuntimeException e) {
        return new ClientMethod(md, path, null, "no parser for " + response.getName() + ": " + e);
      }
    }

    @SuppressWarnings("unchecked")
    Object invoke(GrpcClientTransport t, Object[] args, CallSettings settings) throws Throwable {
      if (refusal != null) {
        throw new UnsupportedOperationException(refusal);
      }
      if (args[0] == null) {
        throw new NullPointerException((md.kind() == MethodDescriptor.Kind.BIDI_STREAMING
            ? "response observer of " : "request of ") + md.displayName());
      }
      switch (md.kind()) {
        case BIDI_STREAMING: {
          StreamObserver<Object> observer = (StreamObserver<Object>) args[0];
          return t.call(this, null, null, observer, settings).requests();
        }
        case SERVER_STREAMING: {
          StreamObserver<Object> observer = (StreamObserver<Object>) args[1];
          t.call(this, (Message) args[0], null, observer, settings);
          return null;
        }
        case ASYNC: {
          CompletableFuture<Object> f = new CompletableFuture<>();
          t.call(this, (Message) args[0], f, null, settings);
          return f;
        }
        default: {
          CompletableFuture<Object> f = new CompletableFuture<>();
          ClientStream s = t.call(this, (Message) args[0], f, null, settings);
          try {
            return f.get();
          } catch (InterruptedException e) {
            s.cancel("the caller was interrupted");
            Thread.currentThread().interrupt();
            throw new RpcException(ErrorReason.CANCELLED, "interrupted waiting for "
                + md.displayName(), e);
          } catch (ExecutionException e) {
            throw e.getCause();
          }
        }
      }
    }
  }

  private ClientStream call(ClientMethod cm, Message request, CompletableFuture<Object> future,
      StreamObserver<Object> observer, CallSettings settings) {
    Deadline deadline = CallContext.currentDeadline();
    if (cm.md.timeoutMillis() > 0) {
      deadline = Deadline.after(cm.md.timeoutMillis(), TimeUnit.MILLISECONDS).min(deadline);
    } else if (defaultTimeoutNanos > 0) {
      deadline = Deadline.after(defaultTimeoutNanos, TimeUnit.NANOSECONDS).min(deadline);
    }
    ClientStream s = new ClientStream(cm, deadline, future, observer, settings);
    if (settings.onHeaders != null) {
      settings.onHeaders.accept(CallMetadata.empty());
    }
    if (settings.onTrailers != null) {
      settings.onTrailers.accept(CallMetadata.empty());
    }
    CallCredentials creds = credentials;
    if (creds != null) {
      CallMetadata md = new CallMetadata();
      try {
        creds.applyTo(md);
      } catch (RpcException e) {
        s.fail(e);
        return s;
      } catch (RuntimeException e) {
        // not chained: its message may hold the credential
        s.fail(new RpcException(ErrorReason.UNAUTHENTICATED, "the call credentials failed ("
            + e.getClass().getName() + "); " + cm.path + " was not sent"));
        return s;
      }
      s.credentials = md;
    }
    CallTracer tracer = this.tracer;
    if (tracer != null) {
      int slash = cm.path.lastIndexOf('/');
      CallTracer.ClientSpan span = tracer.startClient(CallTracer.Protocol.GRPC,
          cm.path.substring(1, slash), cm.path.substring(slash + 1));
      span.server(host, port);
      CallMetadata md = s.credentials != null ? s.credentials : new CallMetadata();
      span.inject(md::put);
      s.credentials = md;
      s.span = span;
    }
    Channel ch;
    try {
      ch = connection();
    } catch (RpcException e) {
      s.fail(e);
      return s;
    }
    // null: a request stream; compressed here, on the caller's thread, not on the event loop
    Outgoing body = request == null ? null : Outgoing.of(request.toByteArray(), settings.gzip);
    new Http2StreamChannelBootstrap(ch).handler(s).open().addListener(f -> {
      if (f.isSuccess()) {
        s.start((Http2StreamChannel) f.getNow(), body);
      } else {
        String tlsFailure = GoAwayWatcher.tlsFailure(ch);
        s.fail(tlsFailure != null ? new RpcException(ErrorReason.TLS_HANDSHAKE_FAILED, tlsFailure)
            : new RpcException(ErrorReason.NOT_SENT, "cannot open an HTTP/2 stream to "
                + authority + ": " + f.cause(), f.cause()));
      }
    });
    return s;
  }

  private synchronized Channel connection() {
    if (closed) {
      throw new RpcException(ErrorReason.NOT_SENT, "the gRPC client is closed");
    }
    if (channel != null && channel.isActive() && !GoAwayWatcher.received(channel)) {
      return channel;
    }
    if (channel != null && channel.isActive()) {
      retired.add(channel); // after GOAWAY: its calls finish, new ones go to a new connection
      retired.removeIf(c -> !c.isActive());
    }
    ChannelFuture f = new Bootstrap().group(group).channel(Transports.clientChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeoutMillis)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            SslContext ssl = sslContext;
            if (ssl != null) {
              SslHandler h = ssl.newHandler(ch.alloc(), tls.serverName().orElse(host), port);
              h.setHandshakeTimeoutMillis(connectTimeoutMillis);
              ch.pipeline().addLast("tls", h);
            }
            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings()
                    .initialWindowSize(GrpcPipeline.INITIAL_WINDOW_BYTES))
                .build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            ch.pipeline().addLast(new GoAwayWatcher(authority, tls));
          }
        })
        .connect(host, port);
    if (!f.awaitUninterruptibly(connectTimeoutMillis + 1000) || !f.isSuccess()) {
      f.channel().close();
      throw new RpcException(ErrorReason.CONNECT_FAILED, "cannot connect to " + authority
          + ": " + (f.cause() == null ? "timed out" : f.cause().toString()), f.cause());
    }
    SslHandler ssl = f.channel().pipeline().get(SslHandler.class);
    if (ssl != null) {
      io.netty.util.concurrent.Future<Channel> hs = ssl.handshakeFuture();
      if (!hs.awaitUninterruptibly(connectTimeoutMillis + 1000) || !hs.isSuccess()) {
        f.channel().close();
        Throwable cause = hs.cause();
        throw new RpcException(ErrorReason.TLS_HANDSHAKE_FAILED, cause == null
            ? "TLS handshake with " + authority + " timed out"
            : TlsContexts.describeClientFailure(authority, cause, tls), cause);
      }
      if (!TlsContexts.H2.equals(ssl.applicationProtocol())) {
        f.channel().close();
        throw new RpcException(ErrorReason.TLS_HANDSHAKE_FAILED, "TLS handshake with "
            + authority + " failed: the server did not agree to HTTP/2 through ALPN (it chose "
            + ssl.applicationProtocol() + "); gRPC over TLS needs ALPN h2");
      }
    }
    channel = f.channel();
    return channel;
  }

  /**
   * Notes a GOAWAY on the connection, so that the next call opens a new one, and a TLS failure
   * after the handshake (with TLS 1.3 a server refuses a client's certificate only then), so
   * that the calls it ends can say why.
   */
  private static final class GoAwayWatcher extends ChannelInboundHandlerAdapter {
    private final String authority;
    private final TlsConfig tls;
    private volatile boolean received;
    private volatile String tlsFailure;

    GoAwayWatcher(String authority, TlsConfig tls) {
      this.authority = authority;
      this.tls = tls;
    }

    static boolean received(Channel ch) {
      GoAwayWatcher w = ch.pipeline().get(GoAwayWatcher.class);
      return w != null && w.received;
    }

    static String tlsFailure(Channel ch) {
      GoAwayWatcher w = ch == null ? null : ch.pipeline().get(GoAwayWatcher.class);
      return w == null ? null : w.tlsFailure;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (TlsContexts.isTlsFailure(cause)) {
        tlsFailure = TlsContexts.describeClientFailure(authority, cause, tls);
      }
      ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2GoAwayFrame g) {
        received = true;
        if (g.errorCode() == Http2Error.INADEQUATE_SECURITY.code()) {
          // a TLS server met this plaintext connection; its debug data says so
          tlsFailure = "the server at " + authority + " refused the connection (GOAWAY"
              + " INADEQUATE_SECURITY): " + g.content().toString(StandardCharsets.UTF_8);
        }
      }
      ReferenceCountUtil.release(msg);
    }
  }

  /** Closes the connection; calls in flight fail with UNAVAILABLE. */
  @Override
  public void close() {
    List<Channel> all = new ArrayList<>();
    synchronized (this) {
      closed = true;
      if (channel != null) {
        all.add(channel);
      }
      all.addAll(retired);
    }
    for (Channel ch : all) {
      ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** Ends a request stream in {@link ClientStream#send}. */
  private static final Object HALF_CLOSE = new Object();

  /**
   * Request bytes waiting to be written (held back by the server's HTTP/2 window or not yet on
   * the event loop) below which a request stream is ready for more.
   */
  static final int READY_BYTES = 32 * 1024;

  /** A request message as it goes on the wire: its payload and whether that is gzip. */
  private record Outgoing(byte[] payload, boolean compressed) {
    static Outgoing of(byte[] message, boolean gzip) {
      return gzip ? new Outgoing(gzip(message), true) : new Outgoing(message, false);
    }

    int wireBytes() {
      return GrpcWire.PREFIX_BYTES + payload.length;
    }
  }

  private static byte[] gzip(byte[] message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, message.length / 4));
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(message);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen: the stream is in memory
    }
    return out.toByteArray();
  }

  /** One call on one stream. Event-loop state except where noted. */
  private final class ClientStream extends ChannelInboundHandlerAdapter {
    private final ClientMethod cm;
    private final Deadline deadline;
    private final CompletableFuture<Object> future;
    private final StreamObserver<Object> observer;
    private final SerialExecutor serial;
    private final CallSettings settings;
    private Http2StreamChannel stream;
    private ScheduledFuture<?> timer;
    private boolean gzip;
    /** Set on the event loop (or before the stream opens); read by isReady from any thread. */
    private volatile boolean done;
    private volatile boolean opened;
    private volatile boolean cancelled;
    private volatile boolean compressNext;
    private volatile Runnable onReady;
    private volatile Runnable onCancel;
    /** Request bytes accepted by onNext and not yet written to the connection. */
    private final AtomicLong queuedBytes = new AtomicLong();
    private int httpStatus = -1;
    private final List<Object> unaryMessages = new ArrayList<>(1);
    private ByteBuf pending;
    private boolean cancelRequested; // guarded by this
    private String cancelReason; // guarded by this
    /** The stream once open; request-stream items wait in {@link #early} until then. */
    private Http2StreamChannel openStream; // guarded by this
    private final List<Object> early = new ArrayList<>(); // guarded by this
    /**
     * Request metadata from the call credentials and the trace context, or null; set before the
     * stream opens.
     */
    CallMetadata credentials;
    /** The call's span, or null when not traced; set before the stream opens. */
    CallTracer.ClientSpan span;

    ClientStream(ClientMethod cm, Deadline deadline, CompletableFuture<Object> future,
        StreamObserver<Object> observer, CallSettings settings) {
      this.cm = cm;
      this.deadline = deadline;
      this.future = future;
      this.observer = observer;
      this.settings = settings;
      this.compressNext = settings.gzip;
      this.serial = new SerialExecutor(callbacks);
    }

    void start(Http2StreamChannel s, Outgoing body) {
      stream = s; // on the stream's event loop: open() completes there
      List<Object> queued;
      String cancelled;
      synchronized (this) {
        openStream = s;
        cancelled = cancelRequested ? cancelReason : null;
        queued = new ArrayList<>(early);
        early.clear();
      }
      if (cancelled != null) {
        stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
        finish(Status.Code.CANCELLED, cancelled);
        return;
      }
      Http2Headers h = new DefaultHttp2Headers();
      h.method("POST").scheme(sslContext != null ? "https" : "http").path(cm.path)
          .authority(authority);
      h.set("content-type", GrpcWire.CONTENT_TYPE);
      h.set("te", "trailers");
      h.set("grpc-accept-encoding", GrpcWire.GZIP);
      if (settings.gzip) {
        h.set("grpc-encoding", GrpcWire.GZIP);
      }
      if (credentials != null) {
        GrpcWire.addMetadata(h, credentials);
      }
      GrpcWire.addMetadata(h, settings.metadata);
      if (deadline != null) {
        long nanos = Math.max(1, deadline.remainingNanos());
        h.set("grpc-timeout", GrpcWire.formatTimeout(nanos));
        timer = stream.eventLoop().schedule(this::onDeadline, nanos, TimeUnit.NANOSECONDS);
      }
      stream.write(new DefaultHttp2HeadersFrame(h, false));
      if (body != null) {
        stream.writeAndFlush(new DefaultHttp2DataFrame(framed(body), true));
        return;
      }
      stream.flush();
      opened = true;
      for (Object item : queued) {
        write(item);
      }
      if (queuedBytes.get() < READY_BYTES) {
        notifyReady(); // not ready until now
      }
    }

    private ByteBuf framed(Outgoing m) {
      ByteBuf b = stream.alloc().buffer(m.wireBytes());
      return b.writeByte(m.compressed ? 1 : 0).writeInt(m.payload.length).writeBytes(m.payload);
    }

    /** Sends a request message ({@link Outgoing}) or the end of the request stream; any thread. */
    private void send(Object item) {
      Http2StreamChannel s;
      synchronized (this) {
        s = openStream;
        if (s == null) {
          early.add(item);
          return;
        }
      }
      s.eventLoop().execute(() -> write(item));
    }

    private void write(Object item) {
      if (done || !stream.isActive()) {
        return;
      }
      if (item == HALF_CLOSE) {
        stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
      } else {
        Outgoing m = (Outgoing) item;
        int size = m.wireBytes();
        // the promise completes once the frame left for the socket, which the server's HTTP/2
        // window can hold back: until then the bytes count against isReady()
        stream.writeAndFlush(new DefaultHttp2DataFrame(framed(m), false))
            .addListener(f -> written(size));
      }
    }

    /** On the event loop: {@code size} request bytes were written (or the write failed). */
    private void written(int size) {
      long after = queuedBytes.addAndGet(-size);
      if (after < READY_BYTES && after + size >= READY_BYTES) {
        notifyReady();
      }
    }

    private void notifyReady() {
      Runnable h = onReady;
      if (h != null && !done) {
        serial.execute(h);
      }
    }

    boolean isReady() {
      return opened && !done && !cancelled && queuedBytes.get() < READY_BYTES;
    }

    /** The request stream of a client or bidi streaming call. */
    GrpcRequestObserver<Object> requests() {
      return new GrpcRequestObserver<>() {
        private volatile boolean halfClosed;

        @Override
        public void onNext(Object value) {
          if (halfClosed) {
            throw new IllegalStateException("onNext after onCompleted on the request stream of "
                + cm.md.displayName());
          }
          Outgoing m = Outgoing.of(((Message) java.util.Objects.requireNonNull(value, "value"))
              .toByteArray(), compressNext);
          queuedBytes.addAndGet(m.wireBytes());
          send(m);
        }

        @Override
        public void onError(Throwable error) {
          cancel("the client cancelled the request stream: " + error);
        }

        @Override
        public void onCompleted() {
          if (halfClosed) {
            throw new IllegalStateException("onCompleted twice on the request stream of "
                + cm.md.displayName());
          }
          halfClosed = true;
          send(HALF_CLOSE);
        }

        @Override
        public boolean isReady() {
          return ClientStream.this.isReady();
        }

        @Override
        public void setOnReadyHandler(Runnable handler) {
          onReady = java.util.Objects.requireNonNull(handler, "handler");
          if (ClientStream.this.isReady()) {
            serial.execute(handler); // it may have turned ready before the handler was set
          }
        }

        @Override
        public void disableAutoRequest() {
          throw new UnsupportedOperationException("GrpcClient does not flow-control response"
              + " streams yet: responses are delivered as they arrive");
        }

        @Override
        public void request(int count) {
          throw new UnsupportedOperationException("GrpcClient does not flow-control response"
              + " streams yet: responses are delivered as they arrive");
        }

        @Override
        public boolean isCancelled() {
          return cancelled;
        }

        @Override
        public void setOnCancelHandler(Runnable handler) {
          onCancel = java.util.Objects.requireNonNull(handler, "handler");
          if (cancelled) {
            serial.execute(handler);
          }
        }

        @Override
        public void cancel(String message) {
          ClientStream.this.cancel(java.util.Objects.requireNonNull(message, "message"));
        }

        @Override
        public void setMessageCompression(boolean enabled) {
          compressNext = enabled && settings.gzip;
        }
      };
    }

    /** Marks the call cancelled and runs the cancel handler once; any thread. */
    private void markCancelled() {
      if (cancelled) {
        return;
      }
      cancelled = true;
      Runnable h = onCancel;
      if (h != null) {
        serial.execute(h);
      }
    }

    /** From any thread. */
    void cancel(String why) {
      markCancelled();
      Http2StreamChannel s;
      synchronized (this) {
        cancelRequested = true;
        cancelReason = why;
        s = openStream;
      }
      if (s != null) {
        s.eventLoop().execute(() -> {
          if (!done) {
            s.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
            finish(Status.Code.CANCELLED, why);
          }
        });
      }
    }

    private void onDeadline() {
      timer = null;
      if (!done) {
        markCancelled();
        stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
        fail(new RpcException(ErrorReason.DEADLINE_EXCEEDED, "deadline exceeded calling "
            + cm.md.displayName() + " over gRPC at " + authority));
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (done) {
          return;
        }
        if (msg instanceof Http2HeadersFrame hf) {
          Http2Headers h = hf.headers();
          if (httpStatus < 0) {
            CharSequence st = h.status();
            httpStatus = st == null ? 0 : Integer.parseInt(st.toString());
            CharSequence enc = h.get("grpc-encoding");
            gzip = enc != null && GrpcWire.GZIP.contentEquals(enc);
            if (!hf.isEndStream() && settings.onHeaders != null) {
              settings.onHeaders.accept(GrpcWire.requestMetadata(h));
            }
          }
          if (hf.isEndStream()) {
            onTrailers(h);
          }
        } else if (msg instanceof Http2DataFrame d) {
          onData(d.content());
          if (d.isEndStream() && !done) {
            finish(Status.Code.INTERNAL, "the server ended the stream without trailers");
          }
        } else if (msg instanceof Http2ResetFrame r) {
          markCancelled();
          finish(Status.Code.CANCELLED, "the server reset the stream (" + Http2Error.valueOf(
              r.errorCode()) + ")");
        }
      } catch (RuntimeException e) {
        finish(Status.Code.INTERNAL, "bad answer from " + authority + ": " + e);
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void onTrailers(Http2Headers h) {
      if (settings.onTrailers != null) {
        settings.onTrailers.accept(GrpcWire.requestMetadata(h));
      }
      CharSequence code = h.get("grpc-status");
      if (code == null) {
        finish(httpStatusCode(httpStatus), "HTTP status " + httpStatus + " without grpc-status");
        return;
      }
      CharSequence m = h.get("grpc-message");
      finish(Status.Code.of(Integer.parseInt(code.toString())),
          m == null ? null : GrpcWire.percentDecode(m.toString()));
    }

    private void onData(ByteBuf data) {
      if (pending == null) {
        pending = stream.alloc().buffer(data.readableBytes());
      }
      pending.writeBytes(data);
      while (pending.readableBytes() >= GrpcWire.PREFIX_BYTES) {
        int at = pending.readerIndex();
        int flags = pending.getUnsignedByte(at);
        long length = pending.getUnsignedInt(at + 1);
        if (length > maxMessageBytes) {
          stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
          finish(Status.Code.RESOURCE_EXHAUSTED, "response message of " + length
              + " bytes exceeds the limit of " + maxMessageBytes + " bytes");
          return;
        }
        if (pending.readableBytes() < GrpcWire.PREFIX_BYTES + length) {
          break;
        }
        pending.skipBytes(GrpcWire.PREFIX_BYTES);
        byte[] bytes = new byte[(int) length];
        pending.readBytes(bytes);
        Object message;
        try {
          message = parse(bytes, flags == 1);
        } catch (IOException e) {
          stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
          finish(Status.Code.INTERNAL, "cannot decode a response of " + cm.md.displayName()
              + ": " + e.getMessage());
          return;
        }
        if (observer != null) {
          serial.execute(() -> observer.onNext(message));
        } else {
          unaryMessages.add(message);
        }
      }
      pending.discardReadBytes();
    }

    private Object parse(byte[] bytes, boolean compressed) throws IOException {
      if (!compressed) {
        return cm.parser.parseFrom(bytes);
      }
      if (!gzip) {
        throw new IOException("a compressed message without grpc-encoding: gzip");
      }
      try (InputStream in = new GZIPInputStream(new ByteBufInputStream(
          Unpooled.wrappedBuffer(bytes), true))) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = in.read(chunk)) > 0) {
          if (out.size() + n > maxMessageBytes) {
            throw new IOException("decompressed response exceeds " + maxMessageBytes + " bytes");
          }
          out.write(chunk, 0, n);
        }
        return cm.parser.parseFrom(out.toByteArray());
      }
    }

    /** The connection's TLS failed (handed to every open stream): the call says why. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (!done && TlsContexts.isTlsFailure(cause)) {
        fail(new RpcException(httpStatus < 0 ? ErrorReason.TLS_HANDSHAKE_FAILED
            : ErrorReason.CONNECTION_CLOSED, TlsContexts.describeClientFailure(authority, cause,
            tls), cause));
      } else if (!done) {
        fail(new RpcException(ErrorReason.CONNECTION_CLOSED, "the stream to " + authority
            + " failed: " + cause, cause));
      }
      ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!done) {
        String tlsFailure = httpStatus < 0 ? GoAwayWatcher.tlsFailure(ctx.channel().parent())
            : null;
        fail(tlsFailure != null ? new RpcException(ErrorReason.TLS_HANDSHAKE_FAILED, tlsFailure)
            : new RpcException(ErrorReason.CONNECTION_CLOSED, "the stream to " + authority
                + " closed before the call ended"));
      }
    }

    private void finish(Status.Code code, String description) {
      if (code == Status.Code.OK) {
        if (done) {
          return;
        }
        done = true;
        cleanUp();
        if (span != null) {
          span.end(Status.Code.OK, null);
        }
        if (observer != null) {
          serial.execute(observer::onCompleted);
        } else if (unaryMessages.size() == 1) {
          Object v = unaryMessages.get(0);
          callbacks.execute(() -> future.complete(v));
        } else {
          failNow(new RpcException(Status.INTERNAL.withDescription("expected one response"
              + " message from " + cm.md.displayName() + ", got " + unaryMessages.size())));
        }
        return;
      }
      fail(new RpcException(code.toStatus().withDescription(description)));
    }

    /** Fails the call; any thread before the stream opened, else its event loop. */
    void fail(RpcException e) {
      if (done) {
        return;
      }
      Status.Code code = e.status().code();
      if (deadline != null && deadline.isExpired()
          && (code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED)) {
        // the deadline passed first: a reset or a closed stream now is its consequence (a
        // server that gives up at the deadline resets the stream before this side's timer fires)
        e = new RpcException(ErrorReason.DEADLINE_EXCEEDED, "deadline exceeded calling "
            + cm.md.displayName() + " over gRPC at " + authority + " (then: "
            + e.status().description() + ")");
      }
      done = true;
      cleanUp();
      if (span != null) {
        span.end(e.status().code(), e);
      }
      failNow(e);
    }

    private void failNow(RpcException e) {
      if (observer != null) {
        serial.execute(() -> observer.onError(e));
      } else {
        callbacks.execute(() -> future.completeExceptionally(e));
      }
    }

    private void cleanUp() {
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
      if (pending != null) {
        pending.release();
        pending = null;
      }
    }
  }

  private static Status.Code httpStatusCode(int http) {
    switch (http) {
      case 400: return Status.Code.INTERNAL;
      case 401: return Status.Code.UNAUTHENTICATED;
      case 403: return Status.Code.PERMISSION_DENIED;
      case 404: return Status.Code.UNIMPLEMENTED;
      case 429: case 502: case 503: case 504: return Status.Code.UNAVAILABLE;
      default: return Status.Code.UNKNOWN;
    }
  }
}
