package io.courier.tracing.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.courier.server.CourierServer;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * grpc-java's own client, without any OpenTelemetry instrumentation, sends a plain
 * {@code traceparent} header: a traced Courier server continues that trace.
 */
class GrpcJavaTraceparentTest {

  @Test
  void aPlainTraceparentHeaderFromGrpcJavaIsContinued() throws Exception {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    try (OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
        CourierServer server = CourierServer.builder().host("127.0.0.1").port(0)
            .tracing(OpenTelemetryTracing.create(otel))
            .service(TracingTest.Echo.class, new TracingTest.EchoImpl())
            .build().start()) {
      ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(),
          InsecureChannelCredentials.create()).build();
      try {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        headers.put(Metadata.Key.of("tracestate", Metadata.ASCII_STRING_MARSHALLER),
            "congo=t61rcWkgMzE");
        MethodDescriptor<StringValue, StringValue> echo =
            MethodDescriptor.<StringValue, StringValue>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName("test.Echo/Echo")
                .setRequestMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
                .setResponseMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
                .build();
        StringValue answer = ClientCalls.blockingUnaryCall(
            ClientInterceptors.intercept(channel,
                MetadataUtils.newAttachHeadersInterceptor(headers)),
            echo, io.grpc.CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
            StringValue.of("j"));
        assertThat(answer.getValue()).isEqualTo("echo j");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      List<SpanData> spans = exporter.getFinishedSpanItems();
      assertThat(spans).hasSize(1);
      SpanData s = spans.get(0);
      assertThat(s.getKind()).isEqualTo(SpanKind.SERVER);
      assertThat(s.getName()).isEqualTo("test.Echo/Echo");
      assertThat(s.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
      assertThat(s.getParentSpanId()).isEqualTo("00f067aa0ba902b7");
      assertThat(s.getSpanContext().getTraceState().get("congo")).isEqualTo("t61rcWkgMzE");
      assertThat(s.getAttributes().get(TracingTest.GRPC_STATUS)).isZero();
    }
  }
}
