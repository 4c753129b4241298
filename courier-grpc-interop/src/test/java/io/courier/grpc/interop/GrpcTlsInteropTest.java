package io.courier.grpc.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.TlsConfig;
import io.courier.TlsConfig.ClientAuth;
import io.courier.TlsConfig.Provider;
import io.courier.client.GrpcClient;
import io.courier.server.CourierServer;
import io.courier.testing.TestCa;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.testing.integration.EmptyProtos.Empty;
import io.grpc.testing.integration.Messages.Payload;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;
import io.grpc.testing.integration.TestServiceGrpc;
import io.grpc.testing.integration.TestServiceImpl;
import io.netty.handler.ssl.OpenSsl;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * gRPC over TLS between Courier and grpc-java, both ways, with mutual TLS and certificates made
 * at test time: grpc-java's {@code NettyChannelBuilder} with {@code GrpcSslContexts} (ALPN h2)
 * calling a Courier server, and Courier's {@code GrpcClient} calling a grpc-java server.
 */
class GrpcTlsInteropTest {

  @TempDir
  static Path dir;
  static TestCa ca;
  static Path caPem;
  static TestCa.Pem server;
  static TestCa.Pem client;

  @BeforeAll
  static void certificates() throws Exception {
    ca = TestCa.create("Interop Test CA");
    caPem = ca.writeCert(dir.resolve("ca.pem"));
    server = ca.server(dir, "server", "localhost", "127.0.0.1");
    client = ca.client(dir, "client");
  }

  private static CourierServer courier(Provider provider) {
    return CourierServer.builder().host("127.0.0.1")
        .tls(TlsConfig.builder().keyCertChain(server.cert(), server.key())
            .trustCertificates(caPem).clientAuth(ClientAuth.REQUIRE).provider(provider).build())
        .service(InteropTestService.class, new InteropTestServiceImpl(), "protobuf")
        .drainTimeout(Duration.ofSeconds(1)).build().start();
  }

  private static ManagedChannel grpcJavaChannel(int port, boolean withClientCertificate)
      throws Exception {
    var ssl = GrpcSslContexts.forClient().trustManager(caPem.toFile());
    if (withClientCertificate) {
      ssl.keyManager(client.cert().toFile(), client.key().toFile());
    }
    return NettyChannelBuilder.forAddress("localhost", port).sslContext(ssl.build()).build();
  }

  @ParameterizedTest
  @EnumSource(names = {"JDK", "OPENSSL"})
  void grpcJavaCallsACourierServerOverMutualTls(Provider provider) throws Exception {
    assumeTrue(provider != Provider.OPENSSL || OpenSsl.isAvailable(), "no OpenSSL here");
    try (CourierServer s = courier(provider)) {
      ManagedChannel channel = grpcJavaChannel(s.port(), true);
      try {
        var stub = TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10,
            TimeUnit.SECONDS);
        assertThat(stub.emptyCall(Empty.getDefaultInstance())).isEqualTo(
            Empty.getDefaultInstance());
        SimpleResponse r = stub.unaryCall(SimpleRequest.newBuilder().setResponseSize(314159)
            .setPayload(Payload.newBuilder().setBody(ByteString.copyFrom(new byte[271828])))
            .build());
        assertThat(r.getPayload().getBody().size()).isEqualTo(314159);
        Iterator<StreamingOutputCallResponse> it = stub.streamingOutputCall(
            StreamingOutputCallRequest.newBuilder()
                .addResponseParameters(ResponseParameters.newBuilder().setSize(10))
                .addResponseParameters(ResponseParameters.newBuilder().setSize(20)).build());
        List<Integer> sizes = new ArrayList<>();
        it.forEachRemaining(m -> sizes.add(m.getPayload().getBody().size()));
        assertThat(sizes).containsExactly(10, 20);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void grpcJavaWithoutAClientCertificateOrTlsIsRefusedAndTheServerServesOn() throws Exception {
    try (CourierServer s = courier(Provider.AUTO)) {
      ManagedChannel anonymous = grpcJavaChannel(s.port(), false);
      try {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
            () -> TestServiceGrpc.newBlockingStub(anonymous)
                .withDeadlineAfter(10, TimeUnit.SECONDS).emptyCall(Empty.getDefaultInstance()));
        assertThat(e).isNotNull();
        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
      } finally {
        anonymous.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      // plaintext h2c on the TLS port: refused with GOAWAY INADEQUATE_SECURITY and why
      ManagedChannel plaintext = NettyChannelBuilder.forAddress("localhost", s.port())
          .usePlaintext().build();
      try {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
            () -> TestServiceGrpc.newBlockingStub(plaintext)
                .withDeadlineAfter(10, TimeUnit.SECONDS).emptyCall(Empty.getDefaultInstance()));
        assertThat(e).isNotNull();
        // grpc-java sends the unsent stream again on new connections a few times, then reports
        // the last GOAWAY (under INTERNAL, "too many transparent retries"): the reason is there
        assertThat(e.getStatus().getDescription()).contains("INADEQUATE_SECURITY")
            .contains("requires TLS");
      } finally {
        plaintext.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      ManagedChannel good = grpcJavaChannel(s.port(), true);
      try {
        assertThat(TestServiceGrpc.newBlockingStub(good).withDeadlineAfter(10, TimeUnit.SECONDS)
            .emptyCall(Empty.getDefaultInstance())).isEqualTo(Empty.getDefaultInstance());
      } finally {
        good.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void courierGrpcClientCallsAGrpcJavaServerOverMutualTls() throws Exception {
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
    Server grpc = Grpc.newServerBuilderForPort(0, TlsServerCredentials.newBuilder()
            .keyManager(server.cert().toFile(), server.key().toFile())
            .trustManager(caPem.toFile())
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build())
        .addService(new TestServiceImpl(executor)).build().start();
    try {
      try (GrpcClient c = GrpcClient.builder().address("localhost:" + grpc.getPort())
          .tls(TlsConfig.builder().trustCertificates(caPem)
              .keyCertChain(client.cert(), client.key()).build()).build()) {
        SimpleResponse r = c.stub(InteropTestService.class).unaryCall(
            SimpleRequest.newBuilder().setResponseSize(1000).build());
        assertThat(r.getPayload().getBody().size()).isEqualTo(1000);
      }
      try (GrpcClient anonymous = GrpcClient.builder().address("localhost:" + grpc.getPort())
          .tls(TlsConfig.builder().trustCertificates(caPem).build()).build()) {
        RpcException e = catchThrowableOfType(RpcException.class,
            () -> anonymous.stub(InteropTestService.class).emptyCall(Empty.getDefaultInstance()));
        assertThat(e).isNotNull();
        assertThat(e.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.reason()).isIn(ErrorReason.TLS_HANDSHAKE_FAILED);
        assertThat(e.getMessage()).contains("requires a client certificate");
      }
    } finally {
      grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      executor.shutdownNow();
    }
  }
}
