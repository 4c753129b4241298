package io.courier.demo;

import io.courier.annotation.Idempotent;
import io.courier.annotation.OneWay;
import io.courier.annotation.ServiceName;
import java.util.concurrent.CompletableFuture;

/** The demo's service: one method of each kind Courier calls. */
@ServiceName("demo.Greeter")
public interface Greeter {

  /** A synchronous call. */
  String greet(String name);

  /** An asynchronous call: returns at once, the answer completes the future. */
  CompletableFuture<Greeting> greetAsync(Person person);

  /** Fire-and-forget: the caller does not wait, the provider sends no answer. */
  @OneWay
  void audit(String event);

  /** How many audit events the provider received. */
  int audited();

  /** Throws on the provider when {@code b} is zero. */
  int divide(int a, int b) throws DemoException;

  /** Fails on the provider with an unchecked exception. */
  String explode(String why);

  /** Takes {@code millis} to answer. */
  String slow(long millis);

  /**
   * The name of the provider that answers. Idempotent: a call whose provider died while it was in
   * flight is sent to another provider instead of failing.
   */
  @Idempotent
  String node();
}
