package io.courier.bench.dubbo;

import io.courier.bench.Contender;
import io.courier.bench.Small;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.CompletionStage;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.model.FrameworkModel;

/**
 * Apache Dubbo as its users get it: the {@code dubbo} protocol (Dubbo's own TCP protocol over
 * Netty 4, hessian2 serialization), a consumer connected directly to the provider's URL without a
 * registry, and asynchronous calls through an interface whose methods return
 * {@link java.util.concurrent.CompletableFuture}.
 *
 * <p>Everything else is Dubbo's default: one shared connection per consumer, the fixed pool of 200
 * business threads on the provider with the {@code all} dispatcher and no queue (a call that finds
 * every thread busy is rejected), a 1 s call timeout, and heartbeats. Only what a standalone
 * process needs is set: an application name, the QoS console off (it would bind port 22222 in both
 * processes), no registry ({@code N/A}) and no thread dump files written into the home directory
 * when the pool is full; and {@link DubboLoopback} keeps the calls on the loopback interface, where
 * Dubbo would otherwise send them to the machine's network address. Dubbo's own system properties
 * still apply on top, for example {@code -Ddubbo.protocol.threads=400} on the server or
 * {@code -Ddubbo.consumer.timeout=5000} on the client (the runner's {@code --jvm} passes them to
 * both, in place of its heap flags).
 *
 * <p>Each server and each client gets its own {@link FrameworkModel}, Dubbo's unit of isolation,
 * so that one JVM can run a provider and a consumer side by side (as the test does) and close each
 * of them completely.
 */
public final class DubboContender implements Contender {

  static {
    // Dubbo picks its logging back end by probing; told to use SLF4J (slf4j-simple here, at WARN
    // by simplelogger.properties) it skips the probe and the lines it prints to stderr.
    if (System.getProperty("dubbo.application.logger") == null) {
      System.setProperty("dubbo.application.logger", "slf4j");
    }
  }

  @Override
  public String name() {
    return "dubbo";
  }

  @Override
  public Server serve(int port) throws Exception {
    DubboLoopback.pin();
    FrameworkModel framework = new FrameworkModel();
    try {
      ServiceConfig<BenchService> service = new ServiceConfig<>();
      service.setInterface(BenchService.class);
      service.setRef(new BenchServiceImpl());

      ProtocolConfig protocol = new ProtocolConfig("dubbo", port == 0 ? freePort() : port);

      DubboBootstrap bootstrap = DubboBootstrap.newInstance(framework)
          .application(application("courier-bench-dubbo-server"))
          .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE))
          .protocol(protocol)
          .service(service)
          .start();
      int bound = service.getExportedUrls().get(0).getPort();
      return new DubboServer(bootstrap, framework, bound);
    } catch (Exception | Error e) {
      framework.destroy();
      throw e;
    }
  }

  @Override
  public Client connect(String host, int port) throws Exception {
    DubboLoopback.pin();
    FrameworkModel framework = new FrameworkModel();
    try {
      ReferenceConfig<BenchService> reference = new ReferenceConfig<>();
      reference.setInterface(BenchService.class);
      reference.setUrl("dubbo://" + host + ":" + port);

      DubboBootstrap bootstrap = DubboBootstrap.newInstance(framework)
          .application(application("courier-bench-dubbo-client"))
          .registry(new RegistryConfig(RegistryConfig.NO_AVAILABLE))
          .reference(reference)
          .start();
      return new DubboClient(bootstrap, framework, reference.get());
    } catch (Exception | Error e) {
      framework.destroy();
      throw e;
    }
  }

  private static ApplicationConfig application(String name) {
    ApplicationConfig application = new ApplicationConfig(name);
    application.setQosEnable(false);
    // When its pool is full Dubbo rejects the call and, by default, also writes a thread dump
    // into the home directory; the rejection shows in the results, the file is not wanted.
    application.setDumpEnable(false);
    return application;
  }

  /**
   * A port free now. Dubbo, asked for port 0, would take its default 20880 instead (or the next
   * free one), so the contract's "any free port" is chosen here, on the wildcard address that
   * Dubbo binds.
   */
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Stops a Dubbo application and then its framework model, which owns the Netty threads. */
  private static void stop(DubboBootstrap bootstrap, FrameworkModel framework) {
    try {
      bootstrap.stop();
    } finally {
      framework.destroy();
    }
  }

  /** A provider exporting {@link BenchService}. */
  record DubboServer(DubboBootstrap bootstrap, FrameworkModel framework, int port)
      implements Server {

    @Override
    public void close() {
      stop(bootstrap, framework);
    }
  }

  /** A consumer of {@link BenchService} over one connection. */
  private record DubboClient(DubboBootstrap bootstrap, FrameworkModel framework,
      BenchService service) implements Client {

    @Override
    public CompletionStage<byte[]> echo(byte[] payload) {
      return service.echo(payload);
    }

    @Override
    public CompletionStage<Small> small(Small value) {
      return service.small(value);
    }

    @Override
    public void close() {
      stop(bootstrap, framework);
    }
  }
}
