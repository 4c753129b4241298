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
import java.util.zip.GZIPInputStream;

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

  /** A stub of {@code type}; cached per interface. */
  public <T> T stub(Class<T> type) {
    return type.cast(stubs.computeIfAbsent(type, this::newStub));
  }

  private Object newStub(Class<?> type) {
    ServiceDescriptor sd = ServiceDescriptor.of(type);
    Map<Method, ClientMethod> methods = new HashMap<>();
    for (MethodDescriptor md : sd.methods()) {
      methods.put(md.method(), ClientMethod.of(md));
    }
    InvocationHandler h = (proxy, method, args) -> {
      ClientMethod cm = methods.get(method);
      if (cm == null) {
        return objectMethod(proxy, method, args, sd);
      }
      return cm.invoke(this, args);
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
    Object invoke(GrpcClientTransport t, Object[] args) throws Throwable {
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
          return t.call(this, null, null, observer).requests();
        }
        case SERVER_STREAMING: {
          StreamObserver<Object> observer = (StreamObserver<Object>) args[1];
          t.call(this, (Message) args[0], null, observer);
          return null;
        }
        case ASYNC: {
          CompletableFuture<Object> f = new CompletableFuture<>();
          t.call(this, (Message) args[0], f, null);
          return f;
        }
        default: {
          CompletableFuture<Object> f = new CompletableFuture<>();
          ClientStream s = t.call(this, (Message) args[0], f, null);
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
      StreamObserver<Object> observer) {
    Deadline deadline = CallContext.currentDeadline();
    if (cm.md.timeoutMillis() > 0) {
      deadline = Deadline.after(cm.md.timeoutMillis(), TimeUnit.MILLISECONDS).min(deadline);
    } else if (defaultTimeoutNanos > 0) {
      deadline = Deadline.after(defaultTimeoutNanos, TimeUnit.NANOSECONDS).min(deadline);
    }
    ClientStream s = new ClientStream(cm, deadline, future, observer);
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
    byte[] body = request == null ? null : request.toByteArray(); // null: a request stream
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

  /** One call on one stream. Event-loop state except where noted. */
  private final class ClientStream extends ChannelInboundHandlerAdapter {
    private final ClientMethod cm;
    private final Deadline deadline;
    private final CompletableFuture<Object> future;
    private final StreamObserver<Object> observer;
    private final SerialExecutor serial;
    private Http2StreamChannel stream;
    private ScheduledFuture<?> timer;
    private boolean gzip;
    private boolean done;
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
        StreamObserver<Object> observer) {
      this.cm = cm;
      this.deadline = deadline;
      this.future = future;
      this.observer = observer;
      this.serial = new SerialExecutor(callbacks);
    }

    void start(Http2StreamChannel s, byte[] body) {
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
      if (credentials != null) {
        credentials.forEach((k, v) -> h.add(k, v instanceof byte[] b
            ? java.util.Base64.getEncoder().withoutPadding().encodeToString(b) : (String) v));
      }
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
      for (Object item : queued) {
        write(item);
      }
    }

    private ByteBuf framed(byte[] body) {
      ByteBuf b = stream.alloc().buffer(GrpcWire.PREFIX_BYTES + body.length);
      return b.writeByte(0).writeInt(body.length).writeBytes(body);
    }

    /** Sends a request message (byte[]) or the end of the request stream; any thread. */
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
        stream.writeAndFlush(new DefaultHttp2DataFrame(framed((byte[]) item), false));
      }
    }

    /** The request stream of a client or bidi streaming call. */
    StreamObserver<Object> requests() {
      return new StreamObserver<>() {
        @Override
        public void onNext(Object value) {
          send(((Message) java.util.Objects.requireNonNull(value, "value")).toByteArray());
        }

        @Override
        public void onError(Throwable error) {
          cancel("the client cancelled the request stream: " + error);
        }

        @Override
        public void onCompleted() {
          send(HALF_CLOSE);
        }
      };
    }

    /** From any thread. */
    void cancel(String why) {
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
