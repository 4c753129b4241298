package io.courier.bench.courier;

/**
 * Courier with direct executors, the counterpart of gRPC-java's direct executor: service methods
 * run on the server's event loop (as {@code @NonBlocking} methods do) and answers complete on the
 * client's event loop ({@code callbackExecutor(Runnable::run)}). Right only for methods and
 * callbacks that never block; beside the defaults it shows what their thread hand-offs cost.
 */
public final class CourierDirectContender extends CourierContender {

  public CourierDirectContender() {
    super(true);
  }
}
